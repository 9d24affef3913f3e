"""Edge: the Excel summary beside the Word report, and the error-report workbook sent back to clerks.

xlsxwriter with strings_to_formulas/strings_to_numbers/strings_to_urls off, and every text that came from a
clerk written with write_string: a note that begins with "=", "+", "-" or "@" stays text, never a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from .aggregate import MET, NOT_MET, Aggregation
from .plan import Plan
from .store import ImportOutcome
from .units import Registry

FONT = "Times New Roman"
_SAFE = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
         "nan_inf_to_errors": True}


class _Book:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.wb = xlsxwriter.Workbook(str(path), _SAFE)
        base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
        self.title = self.wb.add_format({**base, "bold": True, "font_size": 14})
        self.header = self.wb.add_format({**base, "bold": True, "border": 1, "bg_color": "#DDEBF7",
                                          "text_wrap": True, "align": "center"})
        # No wrap: spreadsheet programs do not grow rows written by a library, wrapped text would overlap.
        self.text = self.wb.add_format({**base, "border": 1})
        self.count = self.wb.add_format({**base, "border": 1, "num_format": "#,##0"})
        self.pct = self.wb.add_format({**base, "border": 1, "num_format": "0.00"})
        self.green = self.wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.red = self.wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})

    def sheet(self, name: str, title: str, columns: Sequence[tuple[str, int]]) -> Any:
        ws = self.wb.add_worksheet(name[:31])
        ws.write_string(0, 0, title, self.title)
        for c, (label, width) in enumerate(columns):
            ws.set_column(c, c, width)
            ws.write_string(2, c, label, self.header)
        ws.set_row(2, 32)
        ws.freeze_panes(3, 0)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2, 2)
        return ws

    def cell(self, ws: Any, r: int, c: int, value: Any, kind: str = "text") -> None:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            ws.write_blank(r, c, None, self.text)
        elif kind == "count":
            ws.write_number(r, c, float(value), self.count)
        elif kind == "pct":
            ws.write_number(r, c, round(float(value), 2), self.pct)
        else:
            ws.write_string(r, c, str(value), self.text)  # always text: no formula injection

    def met_format(self, ws: Any, first_row: int, last_row: int, col: int) -> None:
        if last_row < first_row:
            return
        ws.conditional_format(first_row, col, last_row, col, {"type": "cell", "criteria": "==",
                                                              "value": f'"{MET}"', "format": self.green})
        ws.conditional_format(first_row, col, last_row, col, {"type": "cell", "criteria": "==",
                                                              "value": f'"{NOT_MET}"', "format": self.red})

    def close(self) -> None:
        self.wb.close()


def write_summary(agg: Aggregation, plan: Plan, registry: Registry, path: Path) -> Path:
    """The monthly summary workbook: the report's tables, native charts, met/not-met colours."""
    path = Path(path)
    book = _Book(path)
    names = {i.key: i.short or i.name for i in plan.indicators}
    printed = {i.key: i.id for i in plan.indicators}
    tier_names = {t.code: t.name for t in registry.tiers}
    label = agg.period.label
    try:
        # Sheet 1: per tier / district / province.
        cols = [("Cấp tổng hợp", 12), ("Nhóm", 26), ("Mã", 6), ("Chỉ tiêu", 38), ("Chỉ tiêu giao", 14),
                ("Kết quả (%)", 11), ("Kỳ trước (%)", 11), ("Cùng kỳ năm trước (%)", 12), ("Lũy kế năm (%)", 11),
                ("Thay đổi (điểm %)", 11), ("Tử số", 12), ("Mẫu số", 12), ("Đơn vị báo cáo", 10),
                ("Đơn vị đạt", 10), ("Đánh giá", 10)]
        ws = book.sheet("Tổng hợp", f"TỔNG HỢP KẾT QUẢ CHỈ TIÊU {label.upper()} (tỷ lệ gộp: tổng tử số / tổng mẫu số)",
                        cols)
        level_names = {"tier": "Theo cấp", "district": "Theo huyện", "province": "Toàn tỉnh"}
        r = 3
        for row in agg.groups.itertuples(index=False):
            vals = [(level_names.get(row.level, row.level), "text"), (row.group_name, "text"),
                    (printed.get(row.indicator), "text"), (names.get(row.indicator), "text"),
                    (row.target_label or None, "text"), (row.value, "pct"), (row.value_prev, "pct"),
                    (row.value_last_year, "pct"), (row.value_ytd, "pct"), (row.change_prev, "pct"),
                    (row.numerator, "count"), (row.denominator, "count"), (row.units_reported, "count"),
                    (row.units_met, "count"), (row.status, "text")]
            for c, (v, kind) in enumerate(vals):
                book.cell(ws, r, c, v, kind)
            r += 1
        book.met_format(ws, 3, r - 1, len(cols) - 1)
        ws.autofilter(2, 0, max(r - 1, 2), len(cols) - 1)

        # Sheet 2: every unit.
        cols = [("Mã đơn vị", 10), ("Đơn vị", 34), ("Cấp", 10), ("Huyện", 22), ("Mã CT", 6), ("Chỉ tiêu", 38),
                ("Chỉ tiêu giao", 14), ("Tử số", 11), ("Mẫu số", 11), ("Kết quả (%)", 11), ("Đánh giá", 12),
                ("Tệp", 36), ("Ô", 7)]
        ws = book.sheet("Đơn vị", f"KẾT QUẢ TỪNG ĐƠN VỊ {label.upper()}", cols)
        r = 3
        for row in agg.units.itertuples(index=False):
            vals = [(row.unit_code, "text"), (row.unit_name, "text"), (tier_names.get(row.tier), "text"),
                    (row.district_name, "text"), (row.printed_id, "text"), (names.get(row.indicator), "text"),
                    (row.target_label or None, "text"), (row.numerator, "count"), (row.denominator, "count"),
                    (row.value, "pct"), (row.status, "text"), (row.file_name, "text"), (row.cell, "text")]
            for c, (v, kind) in enumerate(vals):
                book.cell(ws, r, c, v, kind)
            r += 1
        book.met_format(ws, 3, r - 1, 10)
        ws.autofilter(2, 0, max(r - 1, 2), len(cols) - 1)

        # Sheet 3: completeness.
        cols = [("Đơn vị", 36), ("Cấp", 12), ("Tình trạng", 14), ("Thời điểm nhận", 20), ("Số lần gửi", 10),
                ("Tệp", 40)]
        ws = book.sheet("Nộp báo cáo", f"TÌNH HÌNH GỬI BÁO CÁO {label.upper()}", cols)
        r = 3
        for row in agg.unit_status.itertuples(index=False):
            when = row.received_at.strftime("%d/%m/%Y %H:%M") if row.received_at is not None and not pd.isna(
                row.received_at) else None
            for c, (v, kind) in enumerate([(row.unit_name, "text"), (tier_names.get(row.tier), "text"),
                                           (row.status, "text"), (when, "text"), (row.versions, "count"),
                                           (row.file_name, "text")]):
                book.cell(ws, r, c, v, kind)
            r += 1
        ws.autofilter(2, 0, max(r - 1, 2), len(cols) - 1)

        # Sheet 4: case table by tier, with a native chart.
        keys = ["received", "online", "direct", "carried", "resolved", "before", "on_time", "late", "pending",
                "pending_in", "pending_late"]
        labels = ["Nhận: tổng", "Trực tuyến", "Trực tiếp, bưu chính", "Từ kỳ trước", "Đã giải quyết: tổng",
                  "Trước hạn", "Đúng hạn", "Quá hạn", "Đang giải quyết: tổng", "Trong hạn", "Quá hạn"]
        ws = book.sheet("Giải quyết TTHC", f"TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC {label.upper()}",
                        [("Cấp", 18), *[(lbl, 12) for lbl in labels]])
        r = 3
        for row in agg.cases.itertuples(index=False):
            book.cell(ws, r, 0, row.tier_name)
            for c, k in enumerate(keys, start=1):
                book.cell(ws, r, c, getattr(row, k), "count")
            r += 1
        tiers_rows = len(agg.cases) - 1
        if tiers_rows > 0:
            chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
            for c in (2, 3, 4):
                chart.add_series({"name": ["Giải quyết TTHC", 2, c], "categories": ["Giải quyết TTHC", 3, 0, 2 + tiers_rows, 0],
                                  "values": ["Giải quyết TTHC", 3, c, 2 + tiers_rows, c]})
            chart.set_title({"name": "Hồ sơ tiếp nhận theo hình thức"})
            ws.insert_chart(r + 2, 1, chart, {"x_scale": 1.4, "y_scale": 1.2})

        # Sheet 5: first-tier rate by unit against the target, native chart per rate indicator (first two).
        top = registry.tiers[0].code
        rate_inds = [i for i in plan.indicators if i.kind == "rate"][:2]
        if rate_inds:
            ws = book.sheet("Biểu đồ", f"TỶ LỆ THEO ĐƠN VỊ {registry.tiers[0].name.upper()}",
                            [("Đơn vị", 34), *[(f"CT {i.id} (%)", 11) for i in rate_inds],
                             *[(f"Chỉ tiêu {i.id}", 11) for i in rate_inds]])
            units = registry.in_tier(top)
            for r_i, u in enumerate(units, start=3):
                book.cell(ws, r_i, 0, u.name)
                for j, ind in enumerate(rate_inds):
                    m = agg.units[(agg.units["unit_code"] == u.code) & (agg.units["indicator"] == ind.key)]
                    v = m["value"].iloc[0] if not m.empty else None
                    t = m["target"].iloc[0] if not m.empty else None
                    book.cell(ws, r_i, 1 + j, v, "pct")
                    book.cell(ws, r_i, 1 + len(rate_inds) + j, t, "pct")
            last = 2 + len(units)
            for j, ind in enumerate(rate_inds):
                chart = book.wb.add_chart({"type": "bar"})
                chart.add_series({"name": f"Chỉ tiêu {ind.id}", "categories": ["Biểu đồ", 3, 0, last, 0],
                                  "values": ["Biểu đồ", 3, 1 + j, last, 1 + j]})
                line = book.wb.add_chart({"type": "line"})
                line.add_series({"name": "Chỉ tiêu giao", "categories": ["Biểu đồ", 3, 0, last, 0],
                                 "values": ["Biểu đồ", 3, 1 + len(rate_inds) + j, last, 1 + len(rate_inds) + j]})
                chart.set_title({"name": ind.name[:80]})
                chart.set_x_axis({"min": 0, "max": 100})
                ws.insert_chart(3 + j * 28, 4 + len(rate_inds), chart, {"x_scale": 1.5, "y_scale": 2.0})

        # Sheet 6: tasks; Sheet 7: difficulties and proposals (clerk text: written as strings).
        ws = book.sheet("Nhiệm vụ", f"TIẾN ĐỘ NHIỆM VỤ {label.upper()}",
                        [("Đơn vị", 30), ("Mã NV", 8), ("Nhiệm vụ", 60), ("Vai trò", 10), ("Thời hạn", 14),
                         ("Tình trạng", 16), ("Quá hạn", 9)])
        for r_i, row in enumerate(agg.tasks.itertuples(index=False), start=3):
            for c, v in enumerate([row.unit_name, row.task_id, row.text, row.role, row.deadline, row.status,
                                   "Quá hạn" if row.overdue else ""]):
                book.cell(ws, r_i, c, v)
        ws = book.sheet("Khó khăn, kiến nghị", f"KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT, KIẾN NGHỊ {label.upper()}",
                        [("Loại", 14), ("Nội dung", 80), ("Đơn vị nêu", 50), ("Số đơn vị", 10)])
        for r_i, row in enumerate(agg.texts.itertuples(index=False), start=3):
            kind = "Khó khăn" if row.kind == "difficulty" else "Kiến nghị"
            for c, (v, k) in enumerate([(kind, "text"), (row.text, "text"), (row.units, "text"),
                                        (row.count, "count")]):
                book.cell(ws, r_i, c, v, k)

        ws = book.sheet("Cảnh báo số liệu", f"CẢNH BÁO CHẤT LƯỢNG SỐ LIỆU {label.upper()} (không chặn)",
                        [("Đơn vị", 30), ("Chỉ tiêu", 8), ("Loại", 16), ("Giá trị", 12), ("Tham chiếu", 12),
                         ("Chi tiết", 14), ("Tệp", 36), ("Ô", 7)])
        for r_i, row in enumerate(agg.flags.itertuples(index=False), start=3):
            u = registry.get(row.unit_code)
            kind = "Biến động lớn" if row.kind == "jump" else "Lệch bảng giải quyết"
            for c, (v, k) in enumerate([(u.name if u else row.unit_code, "text"), (printed.get(row.indicator), "text"),
                                        (kind, "text"), (row.value, "pct"), (row.reference, "pct"),
                                        (row.detail, "text"), (row.file_name, "text"), (row.cell, "text")]):
                book.cell(ws, r_i, c, v, k)
    finally:
        book.close()
    return path


def write_error_report(outcomes: Iterable[ImportOutcome], path: Path, registry: Registry | None = None) -> Path:
    """One row per problem, to send back to the clerks. Cell references are plain text (no hyperlinks)."""
    path = Path(path)
    book = _Book(path)
    try:
        cols = [("Tệp", 40), ("Đơn vị", 30), ("Kỳ", 9), ("Kết quả", 11), ("Mức độ", 10), ("Trang", 18),
                ("Ô", 8), ("Tên vùng", 18), ("Nội dung", 80), ("Giá trị đã nhập", 20), ("Mã lỗi", 24)]
        ws = book.sheet("Lỗi cần sửa", "DANH SÁCH LỖI, CẢNH BÁO TRONG CÁC TỆP BÁO CÁO ĐÃ NHẬN", cols)
        r = 3
        for o in outcomes:
            unit = registry.get(o.unit_code) if registry and o.unit_code else None
            status = "Chấp nhận" if o.status == "accepted" else "Trả lại"
            for p in o.problems:
                sev = "Lỗi" if p.get("severity") == "error" else "Cảnh báo"
                vals = [o.file_name, unit.name if unit else (o.unit_code or ""), o.period_code or "", status, sev,
                        p.get("sheet"), p.get("cell"), p.get("name"), p.get("message"),
                        None if p.get("value") is None else str(p.get("value")), p.get("code")]
                for c, v in enumerate(vals):
                    book.cell(ws, r, c, v)
                r += 1
        ws.autofilter(2, 0, max(r - 1, 2), len(cols) - 1)
    finally:
        book.close()
    return path
