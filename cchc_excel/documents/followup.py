"""Edge: the plan follow-up table as Excel sheets: one sheet "Theo dõi kế hoạch" (filterable, A4 landscape, via
`xlsxprint`), in the report's summary workbook and in the follow-up workbook, and in that workbook "Tiến độ nhiệm
vụ": each task's status per month for each host, with "Thay đổi so với kỳ trước". The same table as a Word
appendix of its own is `documents.followup_docx`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..core.followup import CHANGE_COLUMN, FollowupTable, month_label
from ..core.period import Period
from .xlsxprint import Book

__all__ = ["SHEET_NAME", "PROGRESS_SHEET", "add_followup_sheet", "add_progress_sheet", "write_followup_xlsx"]

SHEET_NAME = "Theo dõi kế hoạch"
PROGRESS_SHEET = "Tiến độ nhiệm vụ"


def add_followup_sheet(book: Book, table: FollowupTable) -> None:
    """The follow-up table as one filterable sheet (the group title in its own column, so filtering keeps it)."""
    cols = [("STT", 6), ("Nhóm", 14), ("Loại", 8), ("Nội dung/chỉ tiêu", 40), ("Cơ quan chủ trì", 18),
            ("Cơ quan phối hợp", 16), ("Thời hạn hoàn thành", 12), ("Tình trạng", 12), ("Quá hạn", 7),
            ("Ghi chú", 60)]
    sh = book.sheet(SHEET_NAME, table.title, cols, subtitle=[table.data_note])
    first = sh.row
    group = ""
    kinds = {"indicator": "Chỉ tiêu", "task": "Nhiệm vụ"}
    for r in table.rows:
        if r.kind == "heading":
            group = f"{r.number}. {r.content}"
            continue
        sh.write([(r.number, "center"), (group, "text"), (kinds.get(r.kind, r.kind), "text"), (r.content, "text"),
                  (r.host, "text"), (r.coordinators, "text"), (r.deadline, "center"), (r.status, "text"),
                  ("Quá hạn" if r.overdue else "", "text"), (r.note, "text")])
    if sh.row == first:
        sh.empty("Kế hoạch không có chỉ tiêu, nhiệm vụ nào.")
        return
    book.status_format(sh.ws, first, sh.row - 1, 7, (("Đạt", "green"), ("Đã hoàn thành", "green"),
                                                       ("Chưa đạt", "red"), ("Chưa hoàn thành", "red")))
    sh.ws.autofilter(sh.header_row, 0, sh.row - 1, len(cols) - 1)


def add_progress_sheet(book: Book, progress: pd.DataFrame, months: Sequence[Period], label: str) -> None:
    """Each task's status per month for each host and coordinator, and what changed since the month before."""
    shown = list(months)[-6:]          # the last six months fit the page; the workbook has them all
    cols = [("STT", 6), ("Nhiệm vụ", 34), ("Thời hạn", 10), ("Đơn vị", 26), ("Vai trò", 8),
            *[(month_label(m), 11) for m in shown], (CHANGE_COLUMN, 20)]
    sh = book.sheet(PROGRESS_SHEET, f"TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ THEO THÁNG {label.upper()}", cols,
                    subtitle=["Tình trạng do đơn vị tự báo cáo trong biểu mẫu từng tháng; “Chưa báo cáo”: đơn "
                              "vị không gửi tình trạng nhiệm vụ trong tháng đó."])
    first = sh.row
    columns = list(progress.columns)
    at = {name: columns.index(name) for name in ("number", "text", "deadline", "unit", "role", CHANGE_COLUMN)}
    months_at = [columns.index(m.code) if m.code in columns else None for m in shown]
    previous = None
    for r in progress.itertuples(index=False, name=None):
        # The task's text once, on its first row (the STT is on every row, so a filter keeps the link).
        text = r[at["text"]] if r[at["number"]] != previous else ""
        previous = r[at["number"]]
        sh.write([(r[at["number"]], "center"), (text, "text"), (r[at["deadline"]], "center"),
                  (r[at["unit"]], "text"), (r[at["role"]], "text"),
                  *[(r[i] if i is not None else "", "text") for i in months_at], (r[at[CHANGE_COLUMN]], "text")])
    if sh.row == first:
        sh.empty("Kế hoạch không giao nhiệm vụ nào, hoặc chưa có tháng nào có số liệu.")
        return
    book.status_format(sh.ws, first, sh.row - 1, len(cols) - 2, (("Đã hoàn thành", "green"),
                                                                   ("Chưa thực hiện", "red")))
    sh.ws.autofilter(sh.header_row, 0, sh.row - 1, len(cols) - 1)


def write_followup_xlsx(table: FollowupTable, progress: pd.DataFrame, months: Sequence[Period], path: Path
                        ) -> Path:
    """The follow-up workbook: the table, then the task progress month by month."""
    book = Book(Path(path))
    try:
        add_followup_sheet(book, table)
        add_progress_sheet(book, progress, months, table.period.label)
    finally:
        book.close()
    return Path(path)

