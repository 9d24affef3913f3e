"""Edge: the plan follow-up table as a Word appendix of its own (NĐ 30/2020 layout, A4 landscape).

"Phụ lục", the title, the subtitle "(Kèm theo Báo cáo số      /BC-UBND ngày      tháng      năm 2025 của UBND tỉnh
…)" with its blanks for the office to fill, what the data covers, then the table — STT, Nội dung/chỉ tiêu, Cơ quan
chủ trì, Cơ quan phối hợp, Thời hạn hoàn thành, Ghi chú — whose header row repeats on every page; group titles
(Vĩnh Long's three tables) are rows across the table; pages are numbered at the top. Written with python-docx
directly, so it can be rendered alone (the appendix of a directive, `cchc followup`); the monthly report carries
the same table as its Phụ lục II (`core.followup.appendix_part`, rendered by `documents.report`).

A module of its own, apart from the follow-up's Excel sheets (`documents.followup`): the summary workbook's
process adds those sheets and would otherwise import python-docx and lxml on its critical path (~0.1 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from ..core.followup import APPENDIX_COLUMNS, FollowupTable, agencies_lines

__all__ = ["subtitle", "write_followup_docx"]

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


def _font(run: object, size: float, *, bold: bool = False, italic: bool = False) -> None:
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
          align: int | None = WD_ALIGN_PARAGRAPH.CENTER, after: float = 0) -> object:
    p = container.add_paragraph()  # type: ignore[attr-defined]
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(after)
    p.paragraph_format.space_before = Pt(0)
    _font(p.add_run(text), size, bold=bold, italic=italic)
    return p


def _cell_text(cell: object, lines: Sequence[str], size: float = 11, *, bold: bool = False,
               align: int = WD_ALIGN_PARAGRAPH.LEFT) -> None:
    first = True
    for line in lines or [""]:
        p = cell.paragraphs[0] if first else cell.add_paragraph()  # type: ignore[attr-defined]
        first = False
        p.alignment = align
        p.paragraph_format.space_after = Pt(2)
        p.paragraph_format.space_before = Pt(0)
        _font(p.add_run(line), size, bold=bold)


def _repeat_header(row: object) -> None:
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)
    cant = OxmlElement("w:cantSplit")
    trpr.append(cant)


def _page_number(section: object) -> None:
    """NĐ 30: the page number centred in the top margin."""
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
    _para(doc, table.data_note, 12, italic=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, after=6)
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
        _cell_text(cell, [label], 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for r in table.rows:
        cells = grid.add_row().cells
        for cell, (_, width) in zip(cells, COLUMNS, strict=True):
            cell.width = Cm(width)
        if r.kind == "heading":
            _cell_text(cells[0], [r.number], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
            merged = cells[1].merge(cells[-1])
            _cell_text(merged, [r.content], bold=True)
            continue
        _cell_text(cells[0], [r.number], align=WD_ALIGN_PARAGRAPH.CENTER)
        _cell_text(cells[1], [r.content], align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        _cell_text(cells[2], _split(r.host))
        _cell_text(cells[3], _split(r.coordinators))
        _cell_text(cells[4], [r.deadline], align=WD_ALIGN_PARAGRAPH.CENTER)
        _cell_text(cells[5], list(r.notes))
    doc.save(str(path))
    return path


def _split(text: str) -> list[str]:
    """"Văn phòng UBND tỉnh; Sở Tư pháp" -> one agency a line, as the seed prints them ("- …")."""
    return agencies_lines(text).split("\n")


