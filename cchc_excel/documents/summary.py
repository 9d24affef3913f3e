"""Edge: the Excel summary beside the Word report (for the provincial office).

Every sheet prints on A4 landscape, one page wide, header rows repeated, long text wrapped, "Trang 1/3"
in the footer (`xlsxprint`); a sheet with nothing to show says so. Units are named as in the report
(`narrative.unit_label`); a unit without cases for an indicator ("Không phát sinh") is shown apart from
one that missed its target. The error workbook sent back to clerks lives in `errorbook` (re-exported here).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..core import aggregate
from ..core.aggregate import MET, NOT_MET, Aggregation
from ..core.layout import CASE_COLUMNS
from ..core.narrative import unit_label
from ..core.plan import Indicator, Plan
from ..core.units import Registry
from .xlsxprint import FONT, Book

__all__ = ["write_summary", "chart_title"]

NO_CASES: str = getattr(aggregate, "NO_CASES", "Không phát sinh")
NOT_REPORTED: str = getattr(aggregate, "NOT_REPORTED", "Chưa báo cáo")
STATUS_COLOURS = ((MET, "green"), (NOT_MET, "red"), (NO_CASES, "grey"))
LEGEND = (f"“{NO_CASES}”: đơn vị có gửi báo cáo nhưng không có hồ sơ (hoặc lượt đánh giá) nào cho chỉ tiêu "
          f"trong kỳ; không tính vào số đơn vị “{NOT_MET}”.")
CHART_TITLE_MAX = 48


# The warnings sheet's "Loại" for each kind of `Aggregation.flags` row.
FLAG_KINDS = {"jump": "Biến động lớn", "case-mismatch": "Lệch bảng giải quyết",
              "carried-mismatch": "Lệch số từ kỳ trước"}


def chart_title(ind: Indicator) -> str:
    """A short chart title that is never cut mid-word: "Chỉ tiêu 3: Tỷ lệ hồ sơ trực tuyến"."""
    name = ind.short or ind.name
    title = f"Chỉ tiêu {ind.id}: {name}"
    if len(title) <= CHART_TITLE_MAX:
        return title
    words, out = name.split(), ""
    for w in words:
        if len(f"Chỉ tiêu {ind.id}: {out} {w}".strip()) > CHART_TITLE_MAX - 1:
            break
        out = f"{out} {w}".strip()
    return f"Chỉ tiêu {ind.id}: {out}…" if out else f"Chỉ tiêu {ind.id}"


def _name_of(registry: Registry, code: Any, fallback: Any = None) -> str:
    unit = registry.get(str(code)) if code is not None and not pd.isna(code) else None
    if unit is not None:
        return unit_label(registry, unit)
    return str(fallback if fallback is not None and not pd.isna(fallback) else code)


class _Names:
    """`_name_of` remembered per unit code (a unit is named once per indicator, task and sheet)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.known: dict[Any, str] = {}

    def __call__(self, code: Any, fallback: Any = None) -> str:
        name = self.known.get(code) if type(code) is str else None
        if name is None:
            name = _name_of(self.registry, code, fallback)
            if type(code) is str and self.registry.get(code) is not None:
                self.known[code] = name
        return name


def _rows(frame: pd.DataFrame, *columns: str) -> Any:
    """The rows of `frame`'s `columns` as tuples of plain Python values (`itertuples` boxes every value of a
    string column one by one: a large share of a national summary's time)."""
    return zip(*(frame[c].tolist() for c in columns), strict=True)


def _when(received_at: Any) -> str | None:
    """A file's arrival as the completeness sheet shows it: "10/03/2025 14:05"."""
    return received_at.strftime("%d/%m/%Y %H:%M") if received_at is not None and not pd.isna(received_at) else None


def _vn_date(value: Any) -> str | None:
    """"2025-03-10" (as stored) -> "10/03/2025"; anything else as it is."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value)
    try:
        return date.fromisoformat(text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return text


def _months_sheet(book: Book, agg: Aggregation, registry: Registry, tier_names: dict[str, str]) -> None:
    """A longer period: each unit's months (accepted on time, late, missing), so that a unit whose figures
    cover only some months is seen at once."""
    label = agg.period.label
    months = agg.months
    cols = [("Đơn vị", 34), ("Cấp", 11), *[(f"Tháng {m.index}", 8) for m in months], ("Số tháng đã gửi", 9),
            ("Đúng hạn", 7), ("Muộn", 7), ("Thiếu tháng", 10)]
    sh = book.sheet("Nộp theo tháng", f"BÁO CÁO HẰNG THÁNG CỦA TỪNG ĐƠN VỊ — {label.upper()}", cols,
                    subtitle=["Số liệu của kỳ tổng hợp từ các tháng đơn vị đã gửi; đơn vị thiếu tháng chỉ được tính "
                              "các tháng đã gửi."])
    for row in agg.unit_status.itertuples(index=False):
        missing = {s.strip() for s in str(getattr(row, "missing_months", "") or "").split(",") if s.strip()}
        marks = [("Thiếu" if str(m.index) in missing else "Đã gửi", "center") for m in months]
        sh.write([(_name_of(registry, row.unit_code, row.unit_name), "text"), (tier_names.get(row.tier), "text"),
                  *marks, (f"{int(row.months_accepted)}/{int(row.months_expected)}", "center"),
                  (row.months_on_time, "count"), (row.months_late, "count"),
                  (getattr(row, "missing_months", "") or None, "text")])
    if agg.unit_status.empty or not months:
        sh.empty("Chưa có tháng nào có số liệu được chấp nhận trong kỳ.")
    else:
        sh.ws.autofilter(sh.header_row, 0, sh.row - 1, len(cols) - 1)


def write_summary(agg: Aggregation, plan: Plan, registry: Registry, path: Path, *, followup: Any = None) -> Path:
    """The monthly summary workbook: the report's tables, native charts, met/not-met colours; with `followup`
    (a `core.followup.FollowupTable`, or a callable returning one, called once the other sheets are written:
    `background.Later`), one more sheet "Theo dõi kế hoạch"."""
    path = Path(path)
    book = Book(path)
    names = {i.key: i.short or i.name for i in plan.indicators}
    printed = {i.key: i.id for i in plan.indicators}
    tier_names = {t.code: t.name for t in registry.tiers}
    label = agg.period.label
    try:
        # Sheet 1: per tier / district / province.
        groups = agg.groups
        with_no_cases = "units_no_cases" in groups.columns
        cols = [("Cấp tổng hợp", 9), ("Nhóm", 15), ("Mã", 4.5), ("Chỉ tiêu", 27), ("Chỉ tiêu giao", 10),
                ("Kết quả (%)", 8), ("Kỳ trước (%)", 8), ("Cùng kỳ năm trước (%)", 9), ("Lũy kế năm (%)", 8),
                ("Thay đổi so với kỳ trước (điểm %)", 8), ("Thay đổi so với cùng kỳ (điểm %)", 8), ("Tử số", 8.5), ("Mẫu số", 8.5), ("Đơn vị báo cáo", 7.5),
                ("Đơn vị đạt", 7)]
        if with_no_cases:
            cols.append((f"Đơn vị {NO_CASES.lower()}", 8.5))
        cols.append(("Đánh giá", 8.5))
        sh = book.sheet("Tổng hợp", f"TỔNG HỢP KẾT QUẢ CHỈ TIÊU {label.upper()}",
                        cols, subtitle=["Tỷ lệ gộp: tổng tử số / tổng mẫu số của các đơn vị. "
                                        + (LEGEND if with_no_cases else "")])
        level_names = {"tier": "Theo cấp", "district": "Theo huyện", "province": "Toàn tỉnh"}
        first = sh.row
        for row in groups.itertuples(index=False):
            vals: list[tuple[Any, str]] = [
                (level_names.get(row.level, row.level), "text"), (row.group_name, "text"),
                (printed.get(row.indicator), "center"), (names.get(row.indicator), "text"),
                (row.target_label or None, "text"), (row.value, "pct"), (row.value_prev, "pct"),
                (row.value_last_year, "pct"), (row.value_ytd, "pct"), (row.change_prev, "pct"),
                (row.change_last_year, "pct"),
                (row.numerator, "count"), (row.denominator, "count"), (row.units_reported, "count"),
                (row.units_met, "count")]
            if with_no_cases:
                vals.append((row.units_no_cases, "count"))
            vals.append((row.status, "text"))
            sh.write(vals)
        if groups.empty:
            sh.empty("Chưa có số liệu được chấp nhận trong kỳ.")
        else:
            book.status_format(sh.ws, first, sh.row - 1, len(cols) - 1, STATUS_COLOURS)
            sh.ws.autofilter(sh.header_row, 0, sh.row - 1, len(cols) - 1)

        # Sheet 2: every unit. The district column only where units have one (none since the two-tier
        # reorganisation of 07/2025): the columns kept are picked once, for the headings, the rows and the kinds.
        cols = [("Mã đơn vị", 7.5), ("Đơn vị", 24), ("Cấp", 8), ("Huyện", 13), ("Mã CT", 5), ("Chỉ tiêu", 27),
                ("Chỉ tiêu giao", 10), ("Tử số", 9), ("Mẫu số", 9), ("Kết quả (%)", 8), ("Đánh giá", 11),
                ("Ô", 5)]
        kinds = ("text", "text", "text", "text", "center", "text", "text", "count", "count", "pct", "text", "center")
        with_district = "district_name" in agg.units and bool(agg.units["district_name"].notna().any())
        keep = [i for i, (head, _) in enumerate(cols) if with_district or head != "Huyện"]
        cols = [cols[i] for i in keep]
        sh = book.sheet("Đơn vị", f"KẾT QUẢ TỪNG ĐƠN VỊ {label.upper()}", cols,
                        subtitle=[LEGEND + " Tệp của từng đơn vị: xem trang “Nộp báo cáo”."])
        first = sh.row
        name_of = _Names(registry)
        rows = ((code, name_of(code, unit_name), tier_names.get(tier), district, printed_id, names.get(indicator),
                 target_label or None, numerator, denominator, value, status, cell)
                for (code, unit_name, tier, district, printed_id, indicator, target_label, numerator, denominator,
                     value, status, cell)
                in _rows(agg.units, "unit_code", "unit_name", "tier", "district_name", "printed_id", "indicator",
                         "target_label", "numerator", "denominator", "value", "status", "cell"))
        sh.write_rows(([row[i] for i in keep] for row in rows), tuple(kinds[i] for i in keep))
        if agg.units.empty:
            sh.empty("Không có đơn vị nào phải báo cáo trong kỳ.")
        else:
            book.status_format(sh.ws, first, sh.row - 1, [c[0] for c in cols].index("Đánh giá"), STATUS_COLOURS)
            sh.ws.autofilter(sh.header_row, 0, sh.row - 1, len(cols) - 1)

        # Sheet 3: completeness.
        cols = [("Đơn vị", 34), ("Cấp", 11), ("Tình trạng", 12), ("Thời điểm nhận", 15), ("Số lần gửi", 8),
                ("Tệp", 46)]
        sh = book.sheet("Nộp báo cáo", f"TÌNH HÌNH GỬI BÁO CÁO {label.upper()}", cols, landscape=True)
        sh.write_rows(([name_of(code, unit_name), tier_names.get(tier), status, _when(received_at), versions, file_name]
                       for code, unit_name, tier, status, received_at, versions, file_name in _rows(
                           agg.unit_status, "unit_code", "unit_name", "tier", "status", "received_at", "versions",
                           "file_name")),
                      ("text", "text", "text", "center", "count", "text"))
        if agg.unit_status.empty:
            sh.empty("Không có đơn vị nào phải báo cáo trong kỳ.")
        else:
            sh.ws.autofilter(sh.header_row, 0, sh.row - 1, len(cols) - 1)
        if agg.period.kind != "month":
            _months_sheet(book, agg, registry, tier_names)

        # Sheet 4: case table by tier, with a native chart under it.
        columns = [c for c in CASE_COLUMNS if c.is_count]  # the form's columns 3-13, as the layout names them
        keys, labels = [c.key for c in columns], [c.heading for c in columns]
        sh = book.sheet("Giải quyết TTHC", f"TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC {label.upper()}",
                        [("Cấp", 16), *[(lbl, 11) for lbl in labels]], charted=True)
        first = sh.row
        for row in agg.cases.itertuples(index=False):
            sh.write([(row.tier_name, "text"), *[(getattr(row, k), "count") for k in keys]])
        tiers_rows = len(agg.cases) - 1
        if agg.cases.empty:
            sh.empty("Chưa có số liệu giải quyết TTHC trong kỳ.")
        elif tiers_rows > 0:
            chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
            for c in (2, 3, 4):
                chart.add_series({"name": ["Giải quyết TTHC", sh.header_row, c],
                                  "categories": ["Giải quyết TTHC", first, 0, first + tiers_rows - 1, 0],
                                  "values": ["Giải quyết TTHC", first, c, first + tiers_rows - 1, c]})
            chart.set_title({"name": "Hồ sơ tiếp nhận theo hình thức", "name_font": {"name": FONT, "size": 12}})
            chart.set_legend({"position": "bottom", "font": {"name": FONT, "size": 10}})
            sh.ws.insert_chart(sh.row + 1, 1, chart, {"x_scale": 1.5, "y_scale": 1.15})

        # Sheet 5: first-tier rate by unit against the target, a native chart per rate indicator (first two),
        # each under the table at the page's width, one per printed page.
        top = registry.tiers[0].code
        rate_inds = [i for i in plan.indicators if i.kind == "rate"][:2]
        if rate_inds:
            sh = book.sheet("Biểu đồ", f"TỶ LỆ THEO ĐƠN VỊ {registry.tiers[0].name.upper()}",
                            [("Đơn vị", 44), *[(f"Chỉ tiêu {i.id}: kết quả (%)", 14) for i in rate_inds],
                             *[(f"Chỉ tiêu {i.id}: chỉ tiêu giao (%)", 14) for i in rate_inds]],
                            charted=True)
            units = registry.in_tier(top)
            first = sh.row
            wanted = {i.key for i in rate_inds}
            found: dict[tuple[Any, Any], tuple[Any, Any]] = {}   # a unit's first row per indicator, as before
            for code, key, value, target in _rows(agg.units, "unit_code", "indicator", "value", "target"):
                if key in wanted:
                    found.setdefault((code, key), (value, target))
            for u in units:
                vals: list[tuple[Any, str]] = [(unit_label(registry, u), "text")]
                targets = []
                for ind in rate_inds:
                    value, target = found.get((u.code, ind.key), (None, None))
                    vals.append((value, "pct"))
                    targets.append((target, "pct"))
                sh.write([*vals, *targets])
            if not units:
                sh.empty("Không có đơn vị nào ở cấp này.")
            last = sh.row - 1
            chart_row = sh.row + 1
            breaks = []
            for j, ind in enumerate(rate_inds):
                chart = book.wb.add_chart({"type": "bar"})
                chart.add_series({"name": f"Chỉ tiêu {ind.id}", "categories": ["Biểu đồ", first, 0, last, 0],
                                  "values": ["Biểu đồ", first, 1 + j, last, 1 + j]})
                chart.set_title({"name": chart_title(ind), "name_font": {"name": FONT, "size": 12}})
                chart.set_x_axis({"min": 0, "max": 100, "num_font": {"name": FONT, "size": 9}})
                chart.set_y_axis({"reverse": True, "num_font": {"name": FONT, "size": 8}})
                chart.set_legend({"none": True})
                # ~1000 x 640 px: the printable width of A4 landscape, and one page tall.
                sh.ws.insert_chart(chart_row, 0, chart, {"x_scale": 2.05, "y_scale": 2.25})
                breaks.append(chart_row)
                chart_row += 34
            sh.ws.set_h_pagebreaks(breaks)

        # Sheet 6: tasks, one block per task (its text once), a row per assigned unit.
        sh = book.sheet("Nhiệm vụ", f"TIẾN ĐỘ NHIỆM VỤ {label.upper()}",
                        [("Mã NV", 7), ("Đơn vị", 38), ("Vai trò", 11), ("Tình trạng", 16),
                         ("Ngày hoàn thành", 12), ("Quá hạn", 9)], landscape=False)
        tasks = agg.tasks
        # each task's rows (frame order; tasks in order of first appearance) from one grouping; a completion
        # date shown once per distinct date
        by_task = tasks.groupby("task_id", sort=False) if not tasks.empty else ()
        shown_dates: dict[Any, str | None] = {}

        def shown(done_date: Any) -> str | None:
            if type(done_date) is not str:
                return _vn_date(done_date)
            when = shown_dates.get(done_date)
            if when is None:
                when = shown_dates[done_date] = _vn_date(done_date)
            return when

        for task_id, mine in by_task:
            first_row = mine.iloc[0]
            sh.band(f"Nhiệm vụ {task_id}: {first_row['text']} — Thời hạn: {first_row['deadline']}", "band")
            sh.write_rows(([task, name_of(code, unit_name), role, status, shown(done_date), "Quá hạn" if overdue else ""]
                           for task, code, unit_name, role, status, done_date, overdue in _rows(
                               mine, "task_id", "unit_code", "unit_name", "role", "status", "done_date", "overdue")),
                          ("center", "text", "text", "text", "center", "text"))
        if tasks.empty:
            sh.empty("Không có nhiệm vụ nào phải báo cáo trong kỳ.")
        sh = book.sheet("Khó khăn, kiến nghị", f"KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT, KIẾN NGHỊ {label.upper()}",
                        [("Loại", 10), ("Nội dung", 70), ("Đơn vị nêu", 50), ("Số đơn vị", 8)])
        for row in agg.texts.itertuples(index=False):
            kind = "Khó khăn" if row.kind == "difficulty" else "Kiến nghị"
            sh.write([(kind, "text"), (row.text, "text"), (row.units, "text"), (row.count, "count")])
        if agg.texts.empty:
            sh.empty("Không có khó khăn, kiến nghị nào.")

        sh = book.sheet("Cảnh báo số liệu", f"CẢNH BÁO CHẤT LƯỢNG SỐ LIỆU {label.upper()} (không chặn)",
                        [("Đơn vị", 28), ("Chỉ tiêu", 7), ("Loại", 14), ("Giá trị", 9), ("Tham chiếu", 9),
                         ("Chi tiết", 24), ("Tệp", 36), ("Ô", 6)])
        for row in agg.flags.itertuples(index=False):
            kind = FLAG_KINDS.get(str(row.kind), "Lệch bảng giải quyết")
            fmt = "pct" if row.kind == "jump" else "count"      # a jump compares rates; the others, case counts
            sh.write([(_name_of(registry, row.unit_code), "text"), (printed.get(row.indicator), "center"),
                      (kind, "text"), (row.value, fmt), (row.reference, fmt), (row.detail, "text"),
                      (row.file_name, "text"), (row.cell, "center")])
        if agg.flags.empty:
            sh.empty("Không có cảnh báo.")
        if callable(followup):
            followup = followup()
        if followup is not None:
            from .followup import add_followup_sheet

            add_followup_sheet(book, followup)
    finally:
        book.close()
    return path
