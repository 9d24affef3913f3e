"""Edge: the plan follow-up table as a Word appendix (NĐ 30/2020 layout, A4 landscape) and as Excel sheets.

Word: "Phụ lục", the title, the subtitle "(Kèm theo Báo cáo số      /BC-UBND ngày      tháng      năm 2025 của
UBND tỉnh …)" with its blanks for the office to fill, what the data covers, then the table — STT, Nội
dung/chỉ tiêu, Cơ quan chủ trì, Cơ quan phối hợp, Thời hạn hoàn thành, Ghi chú — whose header row repeats on
every page; group titles (Vĩnh Long's three tables) are rows across the table; pages are numbered at the top.
Written with python-docx directly, so it can be rendered alone (the appendix of a directive, `cchc followup`);
the monthly report carries the same table as its Phụ lục II (`core.followup.appendix_part`, rendered by
`documents.report`).

Excel: one sheet "Theo dõi kế hoạch" (filterable, A4 landscape, via `xlsxprint`) and, in the follow-up
workbook, "Tiến độ nhiệm vụ": each task's status per month for each host, with "Thay đổi so với kỳ trước".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from ..core.followup import APPENDIX_COLUMNS, CHANGE_COLUMN, FollowupTable, agencies_lines, month_label
from ..core.period import Period
from .xlsxprint import Book

__all__ = ["SHEET_NAME", "PROGRESS_SHEET", "add_followup_sheet", "add_progress_sheet", "subtitle",
           "write_followup_docx", "write_followup_xlsx"]

SHEET_NAME = "Theo dõi kế hoạch"
PROGRESS_SHEET = "Tiến độ nhiệm vụ"
FONT = "Times New Roman"
# A4 landscape, NĐ 30/2020 margins (top 20, bottom 20, left 30, right 15 mm): 252 mm of text width, shared
# in cm as the report's Phụ lục II shares it.
COLUMNS = APPENDIX_COLUMNS
BLANK = "      "


def subtitle(province: str, year: int, *, doc_symbol: str = "BC-UBND", issuer_short: str = "UBND",
             document: str = "Báo cáo") -> str:
    """"(Kèm theo Báo cáo số      /BC-UBND ngày      tháng      năm 2025 của UBND tỉnh Ninh Thuận)"."""
    return (f"(Kèm theo {document} số{BLANK}/{doc_symbol} ngày{BLANK}tháng{BLANK}năm {year} "
            f"của {issuer_short} tỉnh {province})")


# python-docx is imported by the Word functions alone: the summary workbook's process (documents.summary, which
# adds the follow-up sheet) would otherwise import it, and lxml, on its critical path (~0.1 s).


def _font(run: object, size: float, *, bold: bool = False, italic: bool = False) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = FONT  # type: ignore[attr-defined]
    run.font.size = Pt(size)  # type: ignore[attr-defined]
    run.font.bold = bold  # type: ignore[attr-defined]
    run.font.italic = italic  # type: ignore[attr-defined]
    rpr = run._element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _para(container: object, text: str, size: float = 13, *, bold: bool = False, italic: bool = False,
          align: str | None = "CENTER", after: float = 0) -> object:
    """`align`: a name of python-docx's WD_ALIGN_PARAGRAPH ("CENTER", "JUSTIFY"), None to leave it."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = container.add_paragraph()  # type: ignore[attr-defined]
    if align is not None:
        p.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
    p.paragraph_format.space_after = Pt(after)
    p.paragraph_format.space_before = Pt(0)
    _font(p.add_run(text), size, bold=bold, italic=italic)
    return p


def _cell_text(cell: object, lines: Sequence[str], size: float = 11, *, bold: bool = False,
               align: str = "LEFT") -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    first = True
    for line in lines or [""]:
        p = cell.paragraphs[0] if first else cell.add_paragraph()  # type: ignore[attr-defined]
        first = False
        p.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
        p.paragraph_format.space_after = Pt(2)
        p.paragraph_format.space_before = Pt(0)
        _font(p.add_run(line), size, bold=bold)


def _repeat_header(row: object) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)
    cant = OxmlElement("w:cantSplit")
    trpr.append(cant)


def _page_number(section: object) -> None:
    """NĐ 30: the page number centred in the top margin."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.header.paragraphs[0]  # type: ignore[attr-defined]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _font(run, 13)
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)


def write_followup_docx(table: FollowupTable, path: Path, *, province: str, year: int | None = None,
                        doc_symbol: str = "BC-UBND", issuer_short: str = "UBND", document: str = "Báo cáo",
                        number: str = "") -> Path:
    """The follow-up appendix as a Word file of its own (A4 landscape)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(1.5)
    section.header_distance = Cm(1.0)
    _page_number(section)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    _para(doc, f"Phụ lục{(' ' + number) if number else ''}", 14, bold=True)
    _para(doc, table.title, 14, bold=True)
    _para(doc, subtitle(province, year or table.period.year, doc_symbol=doc_symbol, issuer_short=issuer_short,
                        document=document), 14, italic=True)
    _para(doc, "______", 13, after=4)
    _para(doc, table.data_note, 12, italic=True, align="JUSTIFY", after=6)
    grid = doc.add_table(rows=1, cols=len(COLUMNS))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for column, (_, width) in zip(grid.columns, COLUMNS, strict=True):
        column.width = Cm(width)          # the grid (tblGrid) is what LibreOffice and Word lay out by
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    grid._tbl.tblPr.append(layout)
    header = grid.rows[0]
    _repeat_header(header)
    for cell, (label, width) in zip(header.cells, COLUMNS, strict=True):
        cell.width = Cm(width)
        _cell_text(cell, [label], 12, bold=True, align="CENTER")
    for r in table.rows:
        cells = grid.add_row().cells
        for cell, (_, width) in zip(cells, COLUMNS, strict=True):
            cell.width = Cm(width)
        if r.kind == "heading":
            _cell_text(cells[0], [r.number], bold=True, align="CENTER")
            merged = cells[1].merge(cells[-1])
            _cell_text(merged, [r.content], bold=True)
            continue
        _cell_text(cells[0], [r.number], align="CENTER")
        _cell_text(cells[1], [r.content], align="JUSTIFY")
        _cell_text(cells[2], _split(r.host))
        _cell_text(cells[3], _split(r.coordinators))
        _cell_text(cells[4], [r.deadline], align="CENTER")
        _cell_text(cells[5], list(r.notes))
    doc.save(str(path))
    return path


def _split(text: str) -> list[str]:
    """"Văn phòng UBND tỉnh; Sở Tư pháp" -> one agency a line, as the seed prints them ("- …")."""
    return agencies_lines(text).split("\n")


# ----------------------------------------------------------------------------------------------
# Excel


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


def issue_year(table: FollowupTable, issue_date: date | None) -> int:
    return issue_date.year if issue_date else table.period.year
