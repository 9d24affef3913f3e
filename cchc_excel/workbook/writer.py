"""Edge: the reference writer — one unit's intake workbook for one period, rendered from its `Layout` with
xlsxwriter. Every cell it places comes from the layout; the generation entry points (one file per unit, at
the reference or the fast speed) are in `intake`, the fast path in `fastgen`, both built on this module.

xlsxwriter (rather than openpyxl) because it writes data validation, input messages, conditional formats,
sheet protection and defined names that open without a repair prompt in Excel and LibreOffice, and it is
the faster writer. The workbook is macro-free (.xlsx), has no external links and needs no network.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import xlsxwriter

from ..core import layout as L
from ..core.layout import Layout, Slot, a1, col_letter, sign
from ..core.period import Period
from ..core.plan import Plan, met_excel
from ..core.units import Unit
from ..core.vntext import format_short_date, slugify

FONT = "Times New Roman"
INPUT_FILL = "#FFF2CC"      # pale yellow: "type here"
LOCKED_FILL = "#F2F2F2"
HEADER_FILL = "#DDEBF7"

# Explicit Vietnamese language tag in number formats: LibreOffice then parses what the clerk types in these
# cells as vi-VN (1.234 = 1234, 12,5 = 12.5, 15/03/2025 = a date) whatever its own locale setting.
# Numeric inputs keep the *General* format on purpose: typing "87,5%" or a date into a General cell makes
# Excel and LibreOffice switch the cell to a percent or date format (into a "0.00" cell LibreOffice stores
# 0.875 or 45731 and keeps "0.00"), so the reader can tell from the format what was typed (readback).
COUNT_FMT = "[$-42A]General"
PERCENT_FMT = "[$-42A]General"
DATE_FMT = "[$-42A]dd/mm/yyyy"
TEXT_FMT = "@"


_UNPLAIN = re.compile(r"[/\\:\x00]")   # what could make a file name more than one plain path component


def safe_code(code: str) -> str:
    """A unit code as a file-name part: no path separators, dots or reserved characters."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", code).strip("-") or "unit"


def workbook_filename(period: Period, unit: Unit) -> str:
    """`<period>_<unit-code>_<ascii-slug>.xlsx` — sorts by period then unit and says what it is."""
    return f"{period.code}_{safe_code(unit.code)}_{slugify(unit.name, max_len=50)}.xlsx"


def target_path(out_dir: Path, period: Period, unit: Unit, *, resolved_dir: Path | None = None,
                links: set[str] | None = None) -> Path:
    """Where the unit's workbook goes in `out_dir`; never outside it, whatever the unit's name or code.
    `links`: the case-folded names of the links in `out_dir`, when the caller listed them (`target_paths`)."""
    name = workbook_filename(period, unit)
    target = out_dir / name
    # Only a name with a separator or a dot-name, or a symbolic link already at the target, can resolve
    # elsewhere than `out_dir`: resolving every path (several system calls each) costs more than writing
    # the workbook from its shape's template, so the plain, link-free case takes one lstat (or none).
    linked = name.casefold() in links if links is not None else os.path.islink(target)
    if _UNPLAIN.search(name) or name in (".", "..") or linked:
        _check_inside(target, resolved_dir or out_dir.resolve(), unit)
    return target


def target_paths(out_dir: Path, period: Period, units: Iterable[Unit]) -> list[Path]:
    """`target_path` of each unit, the links in `out_dir` found by one listing instead of one lstat a file
    (names compared case-folded, so that a case-insensitive file system cannot hide a link)."""
    resolved = out_dir.resolve()
    with os.scandir(out_dir) as entries:
        links = {e.name.casefold() for e in entries if e.is_symlink()}
    return [target_path(out_dir, period, unit, resolved_dir=resolved, links=links) for unit in units]


def _check_inside(target: Path, resolved_dir: Path, unit: Unit) -> None:
    if target.resolve().parent != resolved_dir:
        raise ValueError(f"Tên tệp không an toàn cho đơn vị {unit.code!r}")


@dataclass(frozen=True)
class Generated:
    unit: Unit
    path: Path


@dataclass
class _Formats:
    title: Any
    subtitle: Any
    header: Any
    label: Any
    label_center: Any
    label_bold: Any
    wrap: Any
    count: Any
    percent: Any
    date: Any
    text: Any
    longtext: Any
    choice: Any
    formula_rate: Any
    formula_text: Any
    formula_count: Any
    total_count: Any
    target: Any
    hidden_num: Any
    note: Any


def _formats(wb: xlsxwriter.Workbook) -> _Formats:
    base = {"font_name": FONT, "font_size": 12, "valign": "vcenter"}
    border = {**base, "border": 1}
    inp = {**border, "locked": False, "bg_color": INPUT_FILL}

    def f(*layers: dict[str, Any], **kw: Any) -> Any:
        merged: dict[str, Any] = {}
        for layer in layers:
            merged.update(layer)
        merged.update(kw)
        return wb.add_format(merged)

    return _Formats(
        title=f(base, bold=True, font_size=14, align="center", text_wrap=True),
        subtitle=f(base, italic=True, align="center", text_wrap=True),
        header=f(border, bold=True, align="center", text_wrap=True, bg_color=HEADER_FILL),
        label=f(border, text_wrap=True, bg_color=LOCKED_FILL),
        label_center=f(border, align="center", text_wrap=True, bg_color=LOCKED_FILL),
        label_bold=f(border, bold=True, text_wrap=True, bg_color=LOCKED_FILL),
        wrap=f(base, text_wrap=True, valign="top"),
        count=f(inp, num_format=COUNT_FMT),
        percent=f(inp, num_format=PERCENT_FMT),
        date=f(inp, num_format=DATE_FMT, align="center"),
        # Text format ("@"): a phone number typed as 0912345678 stays text and keeps its leading zero.
        text=f(inp, text_wrap=True, num_format=TEXT_FMT),
        longtext=f(inp, text_wrap=True, valign="top", num_format=TEXT_FMT),
        choice=f(inp, align="center"),
        formula_rate=f(border, num_format="0.00", align="center", bg_color=LOCKED_FILL),
        formula_text=f(border, align="center", bold=True, bg_color=LOCKED_FILL),
        formula_count=f(border, num_format="#,##0", bg_color=LOCKED_FILL),
        total_count=f(border, num_format="#,##0", bold=True, bg_color=HEADER_FILL),
        target=f(border, align="center", text_wrap=True, bg_color=LOCKED_FILL, bold=True),
        hidden_num=f(base, num_format="General"),
        note=f(base, italic=True, font_size=11, text_wrap=True, valign="top"),
    )


def _input_format(fmt: _Formats, slot: Slot) -> Any:
    return {"count": fmt.count, "percent": fmt.percent, "date": fmt.date, "yesno": fmt.choice,
            "status": fmt.choice, "text": fmt.text, "longtext": fmt.longtext, "field": fmt.text}[slot.kind]


def _validation(slot: Slot, field_list_ref: str | None) -> dict[str, Any]:
    """Data validation with an input message for one slot kind."""
    title = slot.label[:32]
    if slot.kind == "count":
        return {"validate": "integer", "criteria": ">=", "value": 0, "input_title": title,
                "input_message": "Nhập số nguyên không âm, ví dụ 1234 hoặc 1.234 (không dùng dấu cách, "
                                 "dấu phẩy hay dấu %).",
                "error_title": "Số không hợp lệ",
                "error_message": "Ô này chỉ nhận số nguyên từ 0 trở lên, ví dụ 1234 hoặc 1.234. Không gõ dấu "
                                 "cách, chữ, dấu % hay ngày tháng."}
    if slot.kind == "percent":
        return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                "input_title": title, "input_message": "Nhập số từ 0 đến 100, dấu thập phân là dấu phẩy, "
                                                       "không gõ dấu % (ví dụ 92,5).",
                "error_title": "Tỷ lệ không hợp lệ",
                "error_message": "Nhập số từ 0 đến 100 với dấu phẩy thập phân, ví dụ 92,5 (không gõ 92.5 "
                                 "hay 92,5%)."}
    if slot.kind == "date":
        return {"validate": "date", "criteria": "between", "minimum": date(2000, 1, 1),
                "maximum": date(2100, 12, 31), "input_title": title,
                "input_message": "Nhập ngày dạng ngày/tháng/năm, ví dụ 05/03/2025.",
                "error_title": "Ngày không hợp lệ", "error_message": "Hãy nhập ngày dạng dd/mm/yyyy."}
    if slot.kind == "yesno":
        return {"validate": "list", "source": list(L.YESNO), "input_title": title,
                "input_message": "Chọn Có hoặc Không.", "error_title": "Giá trị không hợp lệ",
                "error_message": "Chỉ chọn Có hoặc Không."}
    if slot.kind == "status":
        return {"validate": "list", "source": list(L.STATUSES), "input_title": title,
                "input_message": "Chọn: " + "; ".join(L.STATUSES) + ".", "error_title": "Giá trị không hợp lệ",
                "error_message": "Hãy chọn một tình trạng trong danh sách."}
    if slot.kind == "field" and field_list_ref:
        # "information" style: the list is a suggestion; a field not in it may still be typed.
        return {"validate": "list", "source": "=" + field_list_ref, "error_type": "information",
                "input_title": "Lĩnh vực", "input_message": "Chọn lĩnh vực trong danh sách hoặc gõ tên lĩnh vực.",
                "error_title": "Lĩnh vực khác", "error_message": "Lĩnh vực này không có trong danh sách; vẫn "
                                                                  "giữ nếu bạn chọn OK."}
    limit = 4000 if slot.kind == "longtext" else 500
    return {"validate": "length", "criteria": "<=", "value": limit, "input_title": title,
            "input_message": (slot.hint or "Nhập nội dung.")[:255], "error_title": "Nội dung quá dài",
            "error_message": f"Tối đa {limit} ký tự."}


def _protect(ws: Any, password: str | None) -> None:
    ws.protect(password or "", {"select_locked_cells": True, "select_unlocked_cells": True,
                                "format_columns": True, "format_rows": True})


def _a4(ws: Any, *, landscape: bool, last_col: int, last_row: int, repeat: tuple[int, int] | None = None) -> None:
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    ws.set_margins(left=0.6, right=0.4, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, last_row, last_col)
    if repeat:
        ws.repeat_rows(*repeat)
    ws.set_footer("&C&\"Times New Roman\"Trang &P/&N")


def _write_slot(ws: Any, fmt: _Formats, slot: Slot, field_list_ref: str | None) -> None:
    cell_fmt = _input_format(fmt, slot)
    for offset in range(slot.rows):
        ws.write_blank(slot.row + offset, slot.col, None, cell_fmt)
    validation = _validation(slot, field_list_ref)
    ws.data_validation(slot.row, slot.col, slot.row + slot.rows - 1, slot.col, validation)
    if slot.kind in ("count", "percent"):
        _flag_typed_format(ws, slot)


def _flag_typed_format(ws: Any, slot: Slot) -> None:
    """Shade a numeric input whose number format was changed by what the clerk typed: a date (red; refused
    on import), or "87,5%" (a percent cell holds 0.875: orange in a percentage cell, which the form and the
    reader both read as 87,5; red in a count cell). CELL("format") is "D…" for dates, "P…" for percents in
    Excel and LibreOffice."""
    first = a1(slot.row, slot.col)
    rng = f"{first}:{a1(slot.row + slot.rows - 1, slot.col)}"
    kind = f'LEFT(CELL("format",{first}),1)'
    ws.conditional_format(rng, {"type": "formula", "criteria": f'={kind}="D"', "format": ws._red_fmt})
    if slot.kind == "percent":
        ws.conditional_format(rng, {"type": "formula", "criteria": f'={kind}="P"', "format": ws._warn_fmt})
    else:
        ws.conditional_format(rng, {"type": "formula", "criteria": f'={kind}="P"', "format": ws._red_fmt})


def _guide(ws: Any, fmt: _Formats, lay: Layout, plan: Plan, office: dict[str, Any], due: date,
           window: tuple[date, date]) -> None:
    ws.set_column(0, 0, 4)
    ws.set_column(1, 1, 100)
    unit = lay.unit
    ws.merge_range(0, 0, 0, 1, "HƯỚNG DẪN ĐIỀN BIỂU MẪU BÁO CÁO CẢI CÁCH THỦ TỤC HÀNH CHÍNH", fmt.title)
    ws.merge_range(1, 0, 1, 1, f"{unit.name} — {lay.period.title_label}", fmt.subtitle)
    contact = ", ".join(x for x in (office.get("contact"), office.get("name"), office.get("phone"),
                                    office.get("email")) if x)
    lines = [
        f"Hạn gửi biểu mẫu: chậm nhất ngày {format_short_date(due)}.",
        f"Số liệu tính từ ngày {format_short_date(window[0])} đến ngày {format_short_date(window[1])} "
        "(Nghị định 09/2019/NĐ-CP).",
        "Chỉ nhập vào các ô nền vàng. Các ô khác đã khóa: mã, tên, chỉ tiêu giao và công thức do hệ thống "
        "tính, không cần sửa.",
        f"Trang '{L.SHEET_INFO}': ghi họ tên, chức vụ, số điện thoại người lập biểu và ngày lập.",
        f"Trang '{L.SHEET_IND}': với mỗi chỉ tiêu tỷ lệ, nhập tử số và mẫu số (số hồ sơ, số nguyên, không "
        "nhập dấu %). Cột 'Kết quả (%)' và 'Đánh giá' tự tính; để trống nếu chưa có số liệu.",
        f"Trang '{L.SHEET_CASES}': mỗi lĩnh vực một dòng; chọn lĩnh vực trong danh sách hoặc gõ tên. Cột "
        f"'{L.CASE_CHECK_LABEL}' phải là '{L.CASE_CHECK_OK}' (đã giải quyết + đang giải quyết = số hồ sơ nhận).",
        f"Trang '{L.SHEET_TASKS}': chọn tình trạng của từng nhiệm vụ; nếu đã hoàn thành, ghi ngày và số văn bản.",
        f"Trang '{L.SHEET_NOTES}': ghi khó khăn, vướng mắc và đề xuất, kiến nghị (mỗi ý một dòng, Alt+Enter "
        "để xuống dòng).",
        "Số nhập theo kiểu Việt Nam: 1.234 (hoặc 1234) là một nghìn hai trăm ba mươi tư; 12,5 là mười hai phẩy "
        "năm. Không gõ dấu cách giữa các chữ số, không gõ dấu % sau tỷ lệ (gõ 87,5, không gõ 87,5%).",
        "Không đổi tên tệp, không xóa trang, không sao chép biểu mẫu của đơn vị khác hoặc của tháng khác: "
        "mỗi biểu mẫu mang mã riêng của đơn vị và kỳ báo cáo.",
        "Lưu tệp dạng Excel (.xlsx) rồi gửi lại theo địa chỉ đã được thông báo.",
        f"Cần hỗ trợ, liên hệ: {contact or 'đơn vị tổng hợp của tỉnh'}.",
        f"Kế hoạch: {plan.title}.",
    ]
    for i, line in enumerate(lines, start=3):
        ws.write_number(i, 0, i - 2, fmt.wrap)
        ws.write_string(i, 1, line, fmt.wrap)
        # Spreadsheet programs do not grow rows for wrapped text written by a library: size them here.
        ws.set_row(i, 17 * (1 + len(line) // 95))
    _a4(ws, landscape=False, last_col=1, last_row=len(lines) + 3)


def _info(ws: Any, fmt: _Formats, lay: Layout) -> None:
    ws.set_column(0, 0, 4)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 60)
    ws.merge_range(0, 0, 0, 2, "THÔNG TIN ĐƠN VỊ BÁO CÁO", fmt.title)
    for info in lay.info_rows:
        ws.write_string(info.row, L.INFO_COL_LABEL, info.label, fmt.label_bold)
        ws.write_string(info.row, L.INFO_COL_VALUE, info.value, fmt.label)
    ws.merge_range(L.INFO_SLOT_FIRST_ROW - 1, 0, L.INFO_SLOT_FIRST_ROW - 1, L.INFO_COL_VALUE,
                   "Người lập biểu (nhập vào các ô nền vàng)", fmt.header)
    for slot in lay.info_slots:
        ws.write_string(slot.row, L.INFO_COL_LABEL, slot.label + (L.REQUIRED_MARK if slot.required else ""),
                        fmt.label_bold)
        _write_slot(ws, fmt, slot, None)
    ws.write_string(lay.info_slots[-1].row + 2, L.INFO_COL_LABEL, f"{L.REQUIRED_MARK.strip()} bắt buộc", fmt.note)
    _a4(ws, landscape=False, last_col=2, last_row=lay.info_slots[-1].row + 2)


def _indicators(ws: Any, fmt: _Formats, lay: Layout) -> None:
    widths = {L.IND_COL_ID: 6, L.IND_COL_NAME: 46, L.IND_COL_TARGET: 13, L.IND_COL_LABEL: 34,
              L.IND_COL_INPUT: 14, L.IND_COL_RATE: 11, L.IND_COL_RESULT: 11, L.IND_COL_NOTE: 26}
    for col, width in widths.items():
        ws.set_column(col, col, width)
    ws.set_column(L.IND_COL_TVALUE, L.IND_COL_TCMP, 8, None, {"hidden": True})
    last = L.IND_COL_NOTE
    ws.merge_range(0, 0, 0, last, "KẾT QUẢ THỰC HIỆN CHỈ TIÊU CẢI CÁCH THỦ TỤC HÀNH CHÍNH", fmt.title)
    ws.merge_range(1, 0, 1, last, f"{lay.unit.name} — {lay.period.title_label}", fmt.subtitle)
    ws.merge_range(2, 0, 2, last, "Nhập số liệu vào các ô nền vàng; cột Kết quả và Đánh giá tự tính.", fmt.note)
    for col, text in L.IND_HEADERS.items():
        ws.write_string(L.IND_HEADER_ROW, col, text, fmt.header)
    ws.set_row(L.IND_HEADER_ROW, 32)
    for block in lay.indicators:
        _indicator_block(ws, fmt, block)
    end = (lay.indicators[-1].first_row + lay.indicators[-1].rows) if lay.indicators else L.IND_FIRST_ROW
    if lay.indicators:
        first = a1(L.IND_FIRST_ROW, L.IND_COL_RESULT)
        last_cell = a1(end - 1, L.IND_COL_RESULT)
        rng = f"{first}:{last_cell}"
        ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{L.MET}"',
                                    "format": ws_green(ws)})
        ws.conditional_format(rng, {"type": "cell", "criteria": "==", "value": f'"{L.NOT_MET}"',
                                    "format": ws_red(ws)})
    else:
        ws.merge_range(L.IND_FIRST_ROW, 0, L.IND_FIRST_ROW, last,
                       "Kỳ này đơn vị không có chỉ tiêu phải báo cáo.", fmt.note)
    ws.freeze_panes(L.IND_FIRST_ROW, 0)
    _a4(ws, landscape=True, last_col=last, last_row=max(end, L.IND_FIRST_ROW + 1),
        repeat=(L.IND_HEADER_ROW, L.IND_HEADER_ROW))


def ws_green(ws: Any) -> Any:
    return ws._green_fmt  # set in write_workbook: one format object per workbook


def ws_red(ws: Any) -> Any:
    return ws._red_fmt


def _merge_or_write(ws: Any, first: int, last: int, col: int, value: Any, fmt: Any) -> None:
    if last > first:
        ws.merge_range(first, col, last, col, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(first, col, value, fmt)
    else:
        ws.write_string(first, col, str(value), fmt)


def _indicator_block(ws: Any, fmt: _Formats, block: L.IndicatorBlock) -> None:
    ind = block.item.indicator
    target = block.target
    first, last = block.first_row, block.first_row + block.rows - 1
    printed = target.printed_id if target and target.printed_id else ind.id
    _merge_or_write(ws, first, last, L.IND_COL_ID, printed, fmt.label_center)
    name = ind.name + (f"\n({ind.note})" if ind.note and target and target.adjusted_by else "")
    _merge_or_write(ws, first, last, L.IND_COL_NAME, name, fmt.label)
    _merge_or_write(ws, first, last, L.IND_COL_TARGET, L.target_text(target), fmt.target)
    for slot in block.slots:
        ws.write_string(slot.row, L.IND_COL_LABEL, slot.label, fmt.label)
        _write_slot(ws, fmt, slot, None)
        ws.set_row(slot.row, 32)
    note = block.note
    if block.rows > 1:
        ws.merge_range(first, L.IND_COL_NOTE, last, L.IND_COL_NOTE, "", fmt.text)
    else:
        ws.write_blank(first, L.IND_COL_NOTE, None, fmt.text)
    ws.data_validation(note.row, note.col, note.row, note.col, _validation(note, None))
    # Hidden, locked target value and comparison: the formulas read them, the reader checks them.
    tcell = a1(first, L.IND_COL_TVALUE)
    if target is not None:
        ws.write_number(first, L.IND_COL_TVALUE, target.value, fmt.hidden_num)
        ws.write_string(first, L.IND_COL_TCMP, target.comparison, fmt.hidden_num)
    rate_formula, result_formula = _formulas(block, tcell)
    rate_cell = a1(first, L.IND_COL_RATE)
    if last > first:
        ws.merge_range(first, L.IND_COL_RATE, last, L.IND_COL_RATE, "", fmt.formula_rate)
        ws.merge_range(first, L.IND_COL_RESULT, last, L.IND_COL_RESULT, "", fmt.formula_text)
    # Cached value "" so a viewer that does not recalculate shows blank, not 0 (docs/libreoffice.md).
    ws.write_formula(first, L.IND_COL_RATE, rate_formula, fmt.formula_rate, "")
    ws.write_formula(first, L.IND_COL_RESULT, result_formula.replace("{rate}", rate_cell), fmt.formula_text, "")


def met_formula(rate: str, target: str, comparison: str) -> str:
    """The 'Đánh giá' cell of a rate or percentage: blank until there is a result, then the met rule
    (`plan.met_excel`: the result as shown against the target)."""
    return f'=IF({rate}="","",IF({met_excel(rate, target, comparison)},"{L.MET}","{L.NOT_MET}"))'


def _formulas(block: L.IndicatorBlock, tcell: str) -> tuple[str, str]:
    ind = block.item.indicator
    target = block.target
    cells = [s.cell for s in block.slots]
    if ind.kind == "rate":
        num, den = cells
        # No rate from a date or a percentage typed into a count cell (shaded red; refused on import).
        typed = ",".join(f'LEFT(CELL("format",{c}),1)<>"{k}"' for c in cells for k in "DP")
        rate = (f'=IF(AND(ISNUMBER({num}),ISNUMBER({den}),N({den})>0,{typed}),'
                f'ROUND({num}/{den}*100,2),"")')
    elif ind.kind == "percent":
        # "87,5%" typed into the cell is stored as 0.875 with a percent format: read it as 87,5, as the reader does.
        scale = f'IF(LEFT(CELL("format",{cells[0]}),1)="P",100,1)'
        rate = f'=IF(ISNUMBER({cells[0]}),ROUND({cells[0]}*{scale},2),"")'
    else:
        rate = '=""'
    if ind.kind in ("rate", "percent"):
        if target is None:
            result = '=""'
        else:
            result = met_formula("{rate}", tcell, target.comparison)
    elif ind.kind == "yesno":
        result = f'=IF({cells[0]}="","",IF({cells[0]}="{L.YESNO[0]}","{L.MET}","{L.NOT_MET}"))'
    else:
        result = f'=IF({cells[0]}="","",IF({cells[0]}="{L.STATUSES[0]}","{L.MET}","{L.NOT_MET}"))'
    return rate, result


def _cases(ws: Any, fmt: _Formats, lay: Layout, field_list_ref: str | None, office: dict[str, Any],
           window: tuple[date, date]) -> None:
    table = lay.case_table
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, 30)
    counts = [c.col for c in table.columns if c.is_count]
    ws.set_column(min(counts), max(counts), 10)
    ws.set_column(table.check_col, table.check_col, 11)
    last = table.check_col
    ws.merge_range(0, 0, 0, last, "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI "
                                  "QUYẾT TTHC", fmt.title)
    ws.merge_range(1, 0, 1, last, f"(Từ ngày {format_short_date(window[0])} đến ngày "
                                  f"{format_short_date(window[1])})", fmt.subtitle)
    ws.merge_range(2, 0, 2, last, f"- Đơn vị báo cáo: {lay.unit.name}", fmt.wrap)
    ws.merge_range(3, 0, 3, last, f"- Đơn vị nhận báo cáo: {office.get('name') or ''}", fmt.wrap)
    ws.merge_range(4, 0, 4, last, f"Kỳ báo cáo: {lay.period.title_label}. Đơn vị tính: Số hồ sơ TTHC. "
                                  "(Theo mẫu Thông tư 01/2020/TT-VPCP)", fmt.note)
    h = L.CASE_HEADER_ROW
    ws.merge_range(h, 0, h + 1, 0, L.CASE_NUMBER_LABEL, fmt.header)
    field_col = table.columns[0]
    ws.merge_range(h, field_col.col, h + 1, field_col.col, field_col.label, fmt.header)
    groups: dict[str, list[L.CaseColumn]] = {}
    for c in table.columns[1:]:
        groups.setdefault(c.group, []).append(c)
    for group, cols in groups.items():
        ws.merge_range(h, cols[0].col, h, cols[-1].col, group, fmt.header)
        for c in cols:
            ws.write_string(h + 1, c.col, c.label, fmt.header)
    ws.merge_range(h, table.check_col, h + 1, table.check_col, L.CASE_CHECK_LABEL, fmt.header)
    ws.set_row(h + 1, 45)
    ws.write_number(h + 2, 0, 1, fmt.label_center)
    for c in table.columns:
        ws.write_number(h + 2, c.col, c.number, fmt.label_center)
    ws.write_blank(h + 2, table.check_col, None, fmt.label_center)
    for c in table.columns:
        if c.name is not None:
            slot = next(s for s in L.case_slots(table) if s.name == c.name)
            _write_slot(ws, fmt, slot, field_list_ref)
    _prefill_carried(ws, fmt, lay)
    col_of = {c.key: c.col for c in table.columns}
    for i in range(table.rows):
        r = table.first_row + i
        ws.write_number(r, 0, i + 1, fmt.label_center)
        for c in table.columns:
            if c.formula_of:
                parts = ",".join(a1(r, col_of[k]) for k in c.formula_of)
                ws.write_formula(r, c.col, f'=IF(COUNT({parts})=0,"",SUM({parts}))', fmt.formula_count, "")
        ws.write_formula(r, table.check_col, _check_formula(r, col_of), fmt.formula_text, "")
    tr = table.total_row
    ws.write_blank(tr, 0, None, fmt.total_count)
    ws.write_string(tr, table.columns[0].col, L.CASE_TOTAL_LABEL, fmt.header)
    for c in table.columns[1:]:
        col = col_letter(c.col)
        block = f"{col}{table.first_row + 1}:{col}{table.first_row + table.rows}"
        # Blank, not 0, until something is entered: an empty form must not show "Khớp" (0 = 0 + 0).
        ws.write_formula(tr, c.col, f'=IF(COUNT({block})=0,"",SUM({block}))', fmt.total_count, "")
    ws.write_formula(tr, table.check_col, _check_formula(tr, col_of), fmt.formula_text, "")
    check_rng = f"{a1(table.first_row, table.check_col)}:{a1(tr, table.check_col)}"
    ws.conditional_format(check_rng, {"type": "cell", "criteria": "==", "value": f'"{L.CASE_CHECK_OK}"',
                                      "format": ws._green_fmt})
    ws.conditional_format(check_rng, {"type": "text", "criteria": "begins with", "value": L.CASE_CHECK_OFF,
                                      "format": ws._red_fmt})
    # Merged over the table's width and wrapped: a long note left to overflow is cut at the print area.
    ws.merge_range(tr + 2, 0, tr + 2, last, _case_note(table), fmt.note)
    ws.set_row(tr + 2, 32)
    last_row = tr + 2
    if lay.carried:
        last_row = tr + 3
        carried = table.column("carried")
        ws.merge_range(last_row, 0, last_row, last, f"Cột {carried.number} ({carried.label}) đã điền sẵn "
                       f"{lay.carried_from}" + (" (không sửa được; nếu sai đề nghị báo Văn phòng)."
                                                if lay.carried_locked else "; sửa lại nếu chưa đúng."), fmt.note)
        ws.set_row(last_row, 32)
    ws.freeze_panes(table.first_row, 2)
    _a4(ws, landscape=True, last_col=last, last_row=last_row, repeat=(h, h + 2))


def _prefill_carried(ws: Any, fmt: _Formats, lay: Layout) -> None:
    """Write the pre-filled the carried-over column (layout.carried) over the blank input rows: the field's name and
    its count, the count locked (grey) when the plan says so."""
    table = lay.case_table
    field_col, carried_col = table.column("field").col, table.column("carried").col
    for i, (name, count) in enumerate(lay.carried):
        ws.write_string(table.first_row + i, field_col, name, fmt.text)
        ws.write_number(table.first_row + i, carried_col, count, fmt.formula_count if lay.carried_locked else fmt.count)


def _case_note(table: L.CaseTable) -> str:
    """"Cột 3 = 4 + 5 + 6; cột 7 = 8 + 9 + 10; cột 11 = 12 + 13 (máy tự tính). Kiểm tra: cột 3 = cột 7 + cột 11."""
    number = {c.key: c.number for c in table.columns}
    sums = "; ".join(f"cột {c.number} = " + " + ".join(str(number[k]) for k in c.formula_of)
                     for c in table.columns if c.is_total)
    whole, parts = L.CASE_BALANCE
    check = f"cột {number[whole]} = " + " + ".join(f"cột {number[k]}" for k in parts)
    return f"{sums[0].upper()}{sums[1:]} (máy tự tính). Kiểm tra: {check}."


def _check_formula(row: int, col_of: dict[str, int]) -> str:
    """The form's balance check on one row (layout.CASE_BALANCE: received = resolved + pending)."""
    whole, parts = L.CASE_BALANCE
    rec, rest = a1(row, col_of[whole]), [a1(row, col_of[k]) for k in parts]
    blank = ",".join(f'{c}=""' for c in (rec, *rest))
    rest_sum = "+".join(f"N({c})" for c in rest)
    rest_diff = "".join(f"-N({c})" for c in rest)
    return (f'=IF(AND({blank}),"",IF(N({rec})={rest_sum},"{L.CASE_CHECK_OK}",'
            f'"{L.CASE_CHECK_OFF} "&TEXT(N({rec}){rest_diff},"0")))')


def _tasks(ws: Any, fmt: _Formats, lay: Layout) -> None:
    widths = [(L.TASK_COL_ID, 8), (L.TASK_COL_TEXT, 50), (L.TASK_COL_ROLE, 10), (L.TASK_COL_HOST, 22),
              (L.TASK_COL_DEADLINE, 14), (L.TASK_COL_STATUS, 17), (L.TASK_COL_DATE, 13), (L.TASK_COL_DOC, 20),
              (L.TASK_COL_NOTE, 22)]
    for col, width in widths:
        ws.set_column(col, col, width)
    last = L.TASK_COL_NOTE
    ws.merge_range(0, 0, 0, last, "TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ ĐƯỢC GIAO", fmt.title)
    ws.merge_range(1, 0, 1, last, f"{lay.unit.name} — {lay.period.title_label}", fmt.subtitle)
    for col, text in L.TASK_HEADERS.items():
        ws.write_string(L.TASK_HEADER_ROW, col, text, fmt.header)
    for t in lay.tasks:
        task = t.item.task
        ws.write_string(t.row, L.TASK_COL_ID, task.id, fmt.label_center)
        ws.write_string(t.row, L.TASK_COL_TEXT, task.text, fmt.label)
        ws.write_string(t.row, L.TASK_COL_ROLE, t.item.role, fmt.label_center)
        host = task.host or ""
        if task.coordinators:
            host += f"\nPhối hợp: {task.coordinators}"
        ws.write_string(t.row, L.TASK_COL_HOST, host, fmt.label)
        ws.write_string(t.row, L.TASK_COL_DEADLINE, task.deadline.label, fmt.label_center)
        for slot in (t.status, t.done_date, t.document, t.note):
            _write_slot(ws, fmt, slot, None)
        ws.set_row(t.row, max(32, 16 * (1 + len(task.text) // 60)))
    if not lay.tasks:
        ws.merge_range(L.TASK_FIRST_ROW, 0, L.TASK_FIRST_ROW, last,
                       "Đơn vị không có nhiệm vụ riêng trong kế hoạch.", fmt.note)
    ws.freeze_panes(L.TASK_FIRST_ROW, 0)
    _a4(ws, landscape=True, last_col=last, last_row=L.TASK_FIRST_ROW + max(1, len(lay.tasks)),
        repeat=(L.TASK_HEADER_ROW, L.TASK_HEADER_ROW))


def _notes(ws: Any, fmt: _Formats, lay: Layout) -> None:
    # Two columns merged, not one wide column: LibreOffice never shrinks a single column that is wider than
    # the page (it only scales when the print range would split across pages), and with a substitute for
    # Calibri the 90-character column ran ~30 mm off the A4 page.
    ws.set_column(0, 1, 42)
    ws.merge_range(0, 0, 0, 1, "KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT, KIẾN NGHỊ", fmt.title)
    ws.merge_range(1, 0, 1, 1, f"{lay.unit.name} — {lay.period.title_label}", fmt.subtitle)
    ws.set_row(0, 22)
    for slot in lay.note_slots:
        ws.merge_range(slot.row - 1, 0, slot.row - 1, 1,
                       f"{slot.label} (mỗi ý một dòng; Alt+Enter để xuống dòng):", fmt.label_bold)
        ws.merge_range(slot.row, slot.col, slot.row, slot.col + 1, "", _input_format(fmt, slot))
        ws.data_validation(slot.row, slot.col, slot.row, slot.col, _validation(slot, None))
        ws.set_row(slot.row, 150)
    _a4(ws, landscape=False, last_col=1, last_row=lay.note_slots[-1].row)


def _meta(ws: Any, lay: Layout, generated: str, signature: str) -> str | None:
    meta = L.META
    values = dict(zip(meta.keys, (*lay.signed_fields, generated, signature), strict=True))
    for key in meta.keys:
        row, col = meta.position(key)
        ws.write_string(row, meta.key_col, key)
        ws.write_string(row, col, str(values[key]))
    if lay.case_fields:
        ws.write_string(0, meta.list_col, meta.list_header)
        for i, name in enumerate(lay.case_fields, start=1):
            ws.write_string(i, meta.list_col, name)
    return lay.field_list_ref


def write_workbook(lay: Layout, plan: Plan, path: Path, *, secret: str, office: dict[str, Any] | None = None,
                   protect_password: str | None = None, generated: datetime | None = None) -> Path:
    """Write the intake workbook described by `lay` to `path` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _render(lay, plan, str(path), secret=secret, office=office, protect_password=protect_password,
            generated=generated)
    return path


def workbook_bytes(lay: Layout, plan: Plan, *, secret: str, office: dict[str, Any] | None = None,
                   protect_password: str | None = None, generated: datetime | None = None) -> bytes:
    """The intake workbook described by `lay`, as the bytes `write_workbook` would write."""
    buf = io.BytesIO()
    _render(lay, plan, buf, secret=secret, office=office, protect_password=protect_password, generated=generated)
    return buf.getvalue()


def _render(lay: Layout, plan: Plan, target: str | io.BytesIO, *, secret: str, office: dict[str, Any] | None,
            protect_password: str | None, generated: datetime | None) -> None:
    office = office or {}
    generated_at = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = sign(secret, lay.signed_fields, generated_at)
    window = lay.period.window(plan.reporting.window_rule)
    due = lay.period.due_date(plan.reporting.due_day, month_offset=plan.reporting.due_month_offset)
    # in_memory: the parts are assembled in memory and zipped once, instead of xlsxwriter's default of one
    # temporary file per part (about 16 files created, written, read back and deleted per workbook).
    wb = xlsxwriter.Workbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                                      "strings_to_urls": False, "in_memory": True})
    try:
        wb.set_properties({"title": f"Báo cáo cải cách TTHC {lay.period.label} — {lay.unit.name}",
                           "subject": plan.title, "author": office.get("name") or "cchc_excel",
                           "company": office.get("name") or "", "comments": "Tạo bởi cchc_excel"})
        fmt = _formats(wb)
        green = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        red = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        warn = wb.add_format({"bg_color": "#FFD966", "font_color": "#7F6000"})
        sheets = {name: wb.add_worksheet(name) for name in (L.SHEET_GUIDE, L.SHEET_INFO, L.SHEET_IND,
                                                             L.SHEET_CASES, L.SHEET_TASKS, L.SHEET_NOTES,
                                                             L.SHEET_META)}
        for ws in sheets.values():
            ws._green_fmt, ws._red_fmt, ws._warn_fmt = green, red, warn
            ws.hide_gridlines(2)
        field_ref = _meta(sheets[L.SHEET_META], lay, generated_at, signature)
        _guide(sheets[L.SHEET_GUIDE], fmt, lay, plan, office, due, window)
        _info(sheets[L.SHEET_INFO], fmt, lay)
        _indicators(sheets[L.SHEET_IND], fmt, lay)
        _cases(sheets[L.SHEET_CASES], fmt, lay, field_ref, office, window)
        _tasks(sheets[L.SHEET_TASKS], fmt, lay)
        _notes(sheets[L.SHEET_NOTES], fmt, lay)
        for name, ws in sheets.items():
            _protect(ws, protect_password)
            if name == L.SHEET_META:
                ws.very_hidden() if hasattr(ws, "very_hidden") else ws.hide()
        sheets[L.SHEET_INFO].activate()
        for slot in lay.slots:
            wb.define_name(slot.name, "=" + slot.ref)
        for fixed in lay.fixed:
            wb.define_name(fixed.name, "=" + fixed.ref)
        for block in lay.indicators:
            wb.define_name(block.rate_name, "=" + block.rate_ref)
            wb.define_name(block.result_name, "=" + block.result_ref)
        for key in L.META.keys:
            wb.define_name(key, "=" + L.META.ref(key))
    finally:
        wb.close()


