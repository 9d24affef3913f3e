"""Developer tool: write the default Word template of the monthly TTHC report (docxtpl/jinja2) with
python-docx.

    python tools/build_report_template.py            # rewrites templates/report/bao-cao-thang.docx
    python tools/build_report_template.py --out x.docx

The template FILE, `templates/report/bao-cao-thang.docx`, is what the program ships and renders; the
officer edits it in Word (see `docs/report-template.md`). This script only made its first version and
regenerates it on purpose, after a change here (a new field, a new fixed table). Regenerating throws away
any edit made in Word to the shipped file, so carry such edits over into this script first; then run
`pytest tests/test_report.py tests/test_report_golden.py --update-goldens`, look at the rendered golden
report and commit the template, the script and the golden together. The program never imports this file
(an installed wheel does not contain it); it imports the package for the shared table helpers
(`cchc_excel.documents.docx_tables`) and for the case-table columns (`cchc_excel.core.layout`).

Layout follows Nghị định 30/2020/NĐ-CP, Phụ lục I (see `docs/report-template.md`): A4 portrait, margins
20/20/30/15 mm, Times New Roman, body 14 pt justified with a 1,27 cm first-line indent; the header block
(ô 1-4) and the signature band (ô 7, 9b) are borderless two-column tables; page numbers centred in the top
margin from page 2; each appendix (Phụ lục I, every unit's results; Phụ lục II, the plan follow-up table) sits
in its own landscape section with its own page numbering.

Design of the variable parts:
- Paragraph loops and conditionals use docxtpl's `{%p ... %}` tags, each in a paragraph of its own.
- Tables whose columns are fixed by an official form (Bảng 2, the 13-column case sheet of TT 01/2020,
  headed by the labels of `layout.CASE_COLUMNS`; the overdue-task list) live in the template with a
  `{%tr for %}` row loop, so the officer can edit their headers, widths and fonts in Word.
- Tables whose column set is data (Bảng 1, the appendices) are built by the renderer and inserted with
  `{{p rendered.… }}` (see `cchc_excel/documents/report.py`), sized to the text width of the section they
  land in: a `{%tc %}` column loop cannot give each column its own width, cannot right-align numbers cell
  by cell, and cannot emit the merged group rows of the appendix.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from cchc_excel.core.layout import CASE_COLUMNS
from cchc_excel.documents.docx_tables import (
    TABLE_PT,
    insert_before_first,
    set_cant_split,
    set_cell_margins,
    set_col_widths,
    set_repeat_header,
    set_table_borders,
    w_el,
)

FONT = "Times New Roman"
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "report" / "bao-cao-thang.docx"

# NĐ 30/2020 Phụ lục I, 4.1: A4, top/bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
PAGE_W_MM, PAGE_H_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM, MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 20, 20, 30, 15
TEXT_WIDTH_PORTRAIT_MM = PAGE_W_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM  # 165
TEXT_WIDTH_LANDSCAPE_MM = PAGE_H_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM  # 252
HEADER_DISTANCE_MM = 10

BODY_PT = 14
FIRST_LINE_INDENT = Cm(1.27)

# Column widths of the two header/signature tables (mm): left ô 2-3 / 9b, right ô 1-4 / 7.
HEADER_COLS_MM = (68.0, 97.0)
SIGN_COLS_MM = (80.0, 85.0)
CELL_PAD_MM = 1.9  # Word's default left/right cell margin (108 twips)


def _case_groups() -> tuple[tuple[str, int], ...]:
    """The group headers of the case sheet's number columns and how many columns each spans, in order."""
    groups: list[tuple[str, int]] = []
    for column in CASE_COLUMNS:
        if not column.group:
            continue
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return tuple(groups)


# Bảng 2: STT, then the case sheet's columns (TT 01/2020/TT-VPCP form, numbered 1-13) as the layout names them.
CASE_FIELD_LABEL = next(c.label for c in CASE_COLUMNS if not c.group)
CASE_GROUPS = _case_groups()
CASE_SUBHEADERS = tuple(c.label for c in CASE_COLUMNS if c.group)
CASE_COLS_MM = (10.0, 23.0) + (12.0,) * 11  # = 165 mm
CASE_PT = 11  # 13 columns on 165 mm: the decree's 12-13 pt table text does not fit "12.345" at 12 pt
TASK_COLS_MM = (12.0, 86.0, 42.0, 25.0)


# --------------------------------------------------------------------------------------------
# low-level XML helpers
# --------------------------------------------------------------------------------------------

def _set_rfonts(parent: OxmlElement, font: str = FONT) -> None:
    """Put an explicit rFonts (ascii/hAnsi/cs/eastAsia) in an rPr and drop theme-font attributes."""
    rfonts = parent.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = w_el("w:rFonts")
        parent.insert(0, rfonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "cs", "eastAsia"):
        rfonts.set(qn(f"w:{attr}"), font)


def _bottom_border(paragraph: Paragraph, size: int = 6) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    bdr = w_el("w:pBdr")
    bdr.append(w_el("w:bottom", val="single", sz=str(size), space="1", color="000000"))
    # pBdr goes after keepNext/keepLines/pageBreakBefore/framePr/widowControl/numPr/suppressLineNumbers
    insert_before_first(p_pr, bdr, ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc", "w:rPr"))


def _paragraph_mark_size(paragraph: Paragraph, half_points: int) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    r_pr = p_pr.find(qn("w:rPr"))
    if r_pr is None:
        r_pr = w_el("w:rPr")
        p_pr.append(r_pr)
    r_pr.append(w_el("w:sz", val=str(half_points)))
    r_pr.append(w_el("w:szCs", val=str(half_points)))


def _rule(container: DocxDocument | _Cell, length_mm: float, box_mm: float, *, space_after_pt: float = 0) -> Paragraph:
    """A centred solid line `length_mm` long: an empty 1-pt paragraph with a bottom border, indented so
    its width is `length_mm` inside a box `box_mm` wide. Renders the same in Word and LibreOffice."""
    p = container.add_paragraph(style="Header Block")
    side = max((box_mm - length_mm) / 2, 0)
    p.paragraph_format.left_indent = Mm(side)
    p.paragraph_format.right_indent = Mm(side)
    p.paragraph_format.first_line_indent = Mm(0)
    p.paragraph_format.space_before = Pt(0)
    p.paragraph_format.space_after = Pt(space_after_pt)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    p.paragraph_format.line_spacing = Pt(2)
    _bottom_border(p)
    _paragraph_mark_size(p, 2)
    return p


def _text_width_mm(text: str, size_pt: float, *, bold: bool = False) -> float:
    """Printed width of `text` in Times New Roman, measured on Liberation Serif (same metrics)."""
    try:
        from matplotlib import font_manager
        from matplotlib.textpath import TextPath

        prop = font_manager.FontProperties(family="Liberation Serif", weight="bold" if bold else "normal")
        font_manager.findfont(prop, fallback_to_default=False)
        width_pt = TextPath((0, 0), text, size=size_pt, prop=prop).get_extents().width
    except (ImportError, ValueError):
        width_pt = len(text) * size_pt * (0.56 if bold else 0.5)
    return width_pt * 25.4 / 72


# --------------------------------------------------------------------------------------------
# document-level setup
# --------------------------------------------------------------------------------------------

def _setup_page(section: Section, *, landscape: bool = False) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(PAGE_H_MM), Mm(PAGE_W_MM)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
    section.top_margin = Mm(MARGIN_TOP_MM)
    section.bottom_margin = Mm(MARGIN_BOTTOM_MM)
    section.left_margin = Mm(MARGIN_LEFT_MM)
    section.right_margin = Mm(MARGIN_RIGHT_MM)
    section.header_distance = Mm(HEADER_DISTANCE_MM)
    section.footer_distance = Mm(HEADER_DISTANCE_MM)
    section.gutter = Mm(0)


def _setup_fonts(doc: DocxDocument) -> None:
    """Times New Roman everywhere: docDefaults and the Normal style, all four script slots."""
    styles_el = doc.styles.element
    doc_defaults = styles_el.find(qn("w:docDefaults"))
    rpr_default = doc_defaults.find(qn("w:rPrDefault"))
    r_pr = rpr_default.find(qn("w:rPr"))
    _set_rfonts(r_pr)
    for tag in ("w:sz", "w:szCs", "w:lang"):
        old = r_pr.find(qn(tag))
        if old is not None:
            r_pr.remove(old)
    r_pr.append(w_el("w:sz", val=str(BODY_PT * 2)))
    r_pr.append(w_el("w:szCs", val=str(BODY_PT * 2)))
    r_pr.append(w_el("w:lang", val="vi-VN", eastAsia="en-US", bidi="ar-SA"))
    # every style that names a font gets Times New Roman too (Heading styles name theme fonts)
    for style in doc.styles:
        r = style.element.find(qn("w:rPr"))
        if r is not None and r.find(qn("w:rFonts")) is not None:
            _set_rfonts(r)

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    _set_rfonts(normal.element.get_or_add_rPr())
    normal.font.size = Pt(BODY_PT)
    pf = normal.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.first_line_indent = FIRST_LINE_INDENT
    pf.space_before = Pt(0)
    pf.space_after = Pt(6)
    pf.line_spacing = 1.0
    pf.widow_control = True


def _add_style(
    doc: DocxDocument,
    name: str,
    *,
    size: float,
    align: WD_ALIGN_PARAGRAPH,
    bold: bool = False,
    italic: bool = False,
    indent: bool = False,
    before: float = 0,
    after: float = 0,
    keep_next: bool = False,
) -> None:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    pf = style.paragraph_format
    pf.alignment = align
    pf.first_line_indent = FIRST_LINE_INDENT if indent else Mm(0)
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    pf.keep_with_next = keep_next


def _setup_styles(doc: DocxDocument) -> None:
    center, left, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT
    # ô 1-4, 7: centred, no indent, no spacing; sizes set per run
    _add_style(doc, "Header Block", size=13, align=center)
    # mục "I. …" upper bold; khoản "1. …" bold; both keep with the next paragraph
    # headings ragged right: justified, a heading of two lines spreads its first line's words far apart
    _add_style(doc, "Report Section", size=BODY_PT, align=left, bold=True, indent=True,
               before=6, after=6, keep_next=True)
    _add_style(doc, "Report Item", size=BODY_PT, align=left, bold=True, indent=True,
               after=6, keep_next=True)
    _add_style(doc, "Table Caption", size=13, align=center, bold=True, before=6, after=3, keep_next=True)
    _add_style(doc, "Figure Caption", size=13, align=center, italic=True, after=6)
    _add_style(doc, "Figure", size=BODY_PT, align=center, before=3, after=3, keep_next=True)
    _add_style(doc, "Table Text", size=TABLE_PT, align=left, before=1, after=1)
    _add_style(doc, "Table Number", size=TABLE_PT, align=right, before=1, after=1)
    _add_style(doc, "Table Heading", size=TABLE_PT, align=center, bold=True, before=1, after=1)
    _add_style(doc, "Recipients", size=11, align=left)
    _add_style(doc, "Jinja Tag", size=8, align=left)  # paragraphs holding {%p %} tags (removed on render)
    doc.styles["Jinja Tag"].font.color.rgb = RGBColor(0x80, 0x80, 0x80)


def _add_page_number_field(paragraph: Paragraph, size_pt: float = 13) -> None:
    def run_with(child: OxmlElement) -> None:
        run = paragraph.add_run()
        run.font.size = Pt(size_pt)
        run._r.append(child)

    run_with(w_el("w:fldChar", fldCharType="begin"))
    instr = w_el("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run_with(instr)
    run_with(w_el("w:fldChar", fldCharType="separate"))
    shown = paragraph.add_run("2")
    shown.font.size = Pt(size_pt)
    run_with(w_el("w:fldChar", fldCharType="end"))


DRAFT_MARK = "{% if rendered.draft %}DỰ THẢO{% endif %}"


def _draft_run(paragraph: Paragraph) -> None:
    run = paragraph.add_run(DRAFT_MARK)
    run.bold = True
    run.font.size = Pt(13)


def _setup_headers(section: Section, width_mm: float = TEXT_WIDTH_PORTRAIT_MM) -> None:
    """Page number centred in the top margin, hidden on the first page (NĐ 30, 4.1); "DỰ THẢO" at the right
    of every page's header while the report has parts left to complete."""
    from docx.enum.text import WD_TAB_ALIGNMENT

    section.different_first_page_header_footer = True
    first = section.first_page_header
    first.is_linked_to_previous = False
    p = first.paragraphs[0]
    p.style = "Header Block"
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _draft_run(p)
    header = section.header
    header.is_linked_to_previous = False
    p = header.paragraphs[0]
    p.style = "Header Block"
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    p.paragraph_format.tab_stops.add_tab_stop(Mm(width_mm / 2), WD_TAB_ALIGNMENT.CENTER)
    p.paragraph_format.tab_stops.add_tab_stop(Mm(width_mm), WD_TAB_ALIGNMENT.RIGHT)
    p.add_run("\t").font.size = Pt(13)
    _add_page_number_field(p, 13)
    p.add_run("\t").font.size = Pt(13)
    _draft_run(p)
    for part in (section.footer, section.first_page_footer):
        part.is_linked_to_previous = False


# --------------------------------------------------------------------------------------------
# content helpers
# --------------------------------------------------------------------------------------------

def _p(
    container: DocxDocument | _Cell,
    text: str = "",
    *,
    style: str | None = None,
    bold: bool | None = None,
    italic: bool | None = None,
    size: float | None = None,
    align: WD_ALIGN_PARAGRAPH | None = None,
    highlight: bool = False,
) -> Paragraph:
    """A paragraph holding `text` in ONE run, so docxtpl sees every jinja tag whole."""
    p = container.add_paragraph(style=style)
    if align is not None:
        p.alignment = align
    if text:
        run = p.add_run(text)
        if bold is not None:
            run.bold = bold
        if italic is not None:
            run.italic = italic
        if size is not None:
            run.font.size = Pt(size)
        if highlight:
            from docx.enum.text import WD_COLOR_INDEX

            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return p


def _tag(container: DocxDocument | _Cell, tag: str) -> Paragraph:
    """A paragraph that only holds a `{%p … %}` tag (docxtpl removes it while rendering)."""
    return _p(container, tag, style="Jinja Tag")


def _first_cell_paragraph(cell: _Cell) -> Paragraph:
    return cell.paragraphs[0]


def _cell_text(cell: _Cell, text: str, *, style: str, bold: bool | None = None, italic: bool | None = None,
               size: float | None = None) -> Paragraph:
    p = _first_cell_paragraph(cell)
    p.style = style
    run = p.add_run(text)
    run.bold = bold
    run.italic = italic
    if size is not None:
        run.font.size = Pt(size)
    return p


def _borderless_table(doc: DocxDocument, rows: int, widths_mm: Sequence[float]) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_table_borders(table, None)
    set_col_widths(table, widths_mm)
    for row in table.rows:
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
            cell.paragraphs[0].style = "Header Block"
    return table


def _grid_table(doc: DocxDocument, rows: int, widths_mm: Sequence[float], *, pad_mm: float = 1.0) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_table_borders(table, 4)
    set_cell_margins(table, pad_mm, pad_mm)
    set_col_widths(table, widths_mm)
    for row in table.rows:
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            cell.paragraphs[0].style = "Table Text"
    return table


# --------------------------------------------------------------------------------------------
# the template
# --------------------------------------------------------------------------------------------

def _header_block(doc: DocxDocument) -> None:
    left_box = HEADER_COLS_MM[0] - 2 * CELL_PAD_MM
    right_box = HEADER_COLS_MM[1] - 2 * CELL_PAD_MM
    table = _borderless_table(doc, 2, HEADER_COLS_MM)
    left, right = table.cell(0, 0), table.cell(0, 1)

    # ô 2: superior body (omitted when empty), issuing body, short rule 1/3 of the line
    p = _first_cell_paragraph(left)
    p.style = "Jinja Tag"
    p.add_run("{%p if office.superior %}")
    _p(left, "{{ office.superior }}", style="Header Block", bold=False, size=13)
    _tag(left, "{%p endif %}")
    _p(left, "{{ office.issuer }}", style="Header Block", bold=True, size=13)
    _rule(left, 22, left_box)

    # ô 1: Quốc hiệu and Tiêu ngữ, rule as long as the Tiêu ngữ
    _cell_text(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style="Header Block", bold=True, size=12)
    motto = "Độc lập - Tự do - Hạnh phúc"
    _p(right, motto, style="Header Block", bold=True, size=13)
    _rule(right, _text_width_mm(motto, 13, bold=True) + 0.5, right_box)

    # ô 3 and ô 4 on the same line
    p = _cell_text(table.cell(1, 0), "{{ report.number_line }}", style="Header Block", size=13)
    p.paragraph_format.space_before = Pt(6)
    p = _cell_text(table.cell(1, 1), "{{ report.date_line }}", style="Header Block", italic=True, size=14)
    p.paragraph_format.space_before = Pt(6)


def _title_block(doc: DocxDocument) -> None:
    p = _p(doc, "{{ report.title }}", style="Header Block", bold=True, size=14)
    p.paragraph_format.space_before = Pt(18)
    p.paragraph_format.keep_with_next = True
    p = _p(doc, "{{ report.subject }}", style="Header Block", bold=True, size=14)
    p.paragraph_format.keep_with_next = True
    _rule(doc, 50, TEXT_WIDTH_PORTRAIT_MM, space_after_pt=12)

    # ô 9a "Kính gửi": one recipient on the line, several one per line with "-", ";" and a final "."
    _tag(doc, "{%p if office.kinh_gui and office.kinh_gui|length == 1 %}")
    p = _p(doc, "Kính gửi: {{ office.kinh_gui[0] }}.", style="Header Block", size=14)
    p.paragraph_format.space_after = Pt(12)
    _tag(doc, "{%p elif office.kinh_gui %}")
    p = _p(doc, "Kính gửi:", style="Header Block", size=14, align=WD_ALIGN_PARAGRAPH.LEFT)
    p.paragraph_format.left_indent = Cm(3.5)
    _tag(doc, "{%p for k in office.kinh_gui %}")
    p = _p(doc, "- {{ k }}{{ '.' if loop.last else ';' }}", style="Header Block", size=14,
           align=WD_ALIGN_PARAGRAPH.LEFT)
    p.paragraph_format.left_indent = Cm(5.5)
    _tag(doc, "{%p endfor %}")
    _p(doc, "", style="Header Block")
    _tag(doc, "{%p endif %}")


def _paragraph_list(doc: DocxDocument, owner: str) -> None:
    """The paragraphs of a part/section, printed as they are, then its `todo` items marked for the officer
    (italic, yellow, "[Nội dung cần bổ sung: …]"). A context without `todo` keeps the older meaning:
    `to_complete` marks every paragraph."""
    _tag(doc, f"{{%p for para in {owner}.paragraphs %}}")
    _tag(doc, f"{{%p if {owner}.to_complete and {owner}.todo is not defined %}}")
    _p(doc, "[Nội dung cần bổ sung: {{ para }}]", italic=True, highlight=True)
    _tag(doc, "{%p else %}")
    _p(doc, "{{ para }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, f"{{%p for t in {owner}.todo or [] %}}")
    _p(doc, "[Nội dung cần bổ sung: {{ t }}]", italic=True, highlight=True)
    _tag(doc, "{%p endfor %}")
    _tag(doc, f"{{%p if {owner}.to_complete and not {owner}.paragraphs and not {owner}.todo %}}")
    _p(doc, "[Nội dung cần bổ sung]", italic=True, highlight=True)
    _tag(doc, "{%p endif %}")


def _case_table(doc: DocxDocument) -> None:
    """Bảng 2: the 13 columns of the TT 01/2020 case sheet, rows by a `{%tr for %}` loop."""
    table = _grid_table(doc, 5, CASE_COLS_MM, pad_mm=0.6)
    head1, head2, numbers = table.rows[0], table.rows[1], table.rows[2]
    # No "cantSplit" anywhere in this table: LibreOffice 7.4 drops the rows that follow a page break
    # when three repeated header rows and unsplittable rows meet at the bottom of a page.
    for row in (head1, head2, numbers):
        set_repeat_header(row, cant_split=False)
    table.cell(0, 0).merge(table.cell(1, 0))
    table.cell(0, 1).merge(table.cell(1, 1))
    _cell_text(table.cell(0, 0), "STT", style="Table Heading", size=CASE_PT)
    _cell_text(table.cell(0, 1), CASE_FIELD_LABEL, style="Table Heading", size=CASE_PT)
    col = 2
    for title, span in CASE_GROUPS:
        cell = table.cell(0, col).merge(table.cell(0, col + span - 1))
        _cell_text(cell, title, style="Table Heading", size=CASE_PT)
        col += span
    for i, sub in enumerate(CASE_SUBHEADERS):
        _cell_text(table.cell(1, 2 + i), sub, style="Table Heading", size=CASE_PT)
    for i in range(13):
        _cell_text(table.cell(2, i), f"({i + 1})", style="Table Heading", bold=False, italic=True, size=CASE_PT)
    # loop rows
    _cell_text(table.cell(3, 0), "{%tr for row in item4.case_table.rows %}", style="Table Text", size=CASE_PT)
    data = table.rows[4]
    for i in range(13):
        style = "Table Text" if i == 1 else ("Table Heading" if i == 0 else "Table Number")
        p = _cell_text(data.cells[i], f"{{{{ row[{i}] }}}}", style=style, bold=False, size=CASE_PT)
        p.paragraph_format.keep_with_next = False
    end = table.add_row()
    end.cells[0].paragraphs[0].style = "Table Text"
    end.cells[0].paragraphs[0].add_run("{%tr endfor %}")
    set_col_widths(table, CASE_COLS_MM)


def _tasks_table(doc: DocxDocument) -> None:
    table = _grid_table(doc, 3, TASK_COLS_MM)
    set_repeat_header(table.rows[0])
    for i, title in enumerate(("STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời hạn")):
        _cell_text(table.cell(0, i), title, style="Table Heading")
    _cell_text(table.cell(1, 0), "{%tr for t in item4.tasks.overdue %}", style="Table Text")
    row = table.rows[2]
    set_cant_split(row)
    _cell_text(row.cells[0], "{{ t.number or loop.index }}", style="Table Heading", bold=False)
    _cell_text(row.cells[1], "{{ t.text }}", style="Table Text")
    _cell_text(row.cells[2], "{{ t.host }}", style="Table Text")
    _cell_text(row.cells[3], "{{ t.deadline }}", style="Table Heading", bold=False)
    end = table.add_row()
    end.cells[0].paragraphs[0].style = "Table Text"
    end.cells[0].paragraphs[0].add_run("{%tr endfor %}")
    set_col_widths(table, TASK_COLS_MM)


def _charts(doc: DocxDocument, condition: str) -> None:
    """The charts (image and caption) of `rendered.charts` that meet a Jinja `condition`."""
    _tag(doc, "{%p for chart in rendered.charts %}")
    _tag(doc, f"{{%p if {condition} %}}")
    _p(doc, "{{ chart.image }}", style="Figure")
    _p(doc, "{{ chart.caption }}", style="Figure Caption")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endfor %}")


def _item4(doc: DocxDocument) -> None:
    """Item 4 of Part I: the month's results, points a), b), … (regular)."""
    _tag(doc, "{%p if part.item4 %}")
    _tag(doc, "{%p if item4.summary %}")
    _p(doc, "{{ item4.summary }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if item4.completeness.sentence %}")
    _p(doc, "{{ item4.completeness.sentence }}")
    _tag(doc, "{%p elif item4.completeness %}")
    _p(doc, "Cụ thể: {{ item4.completeness.on_time }}/{{ item4.completeness.expected }} đơn vị gửi báo cáo đúng "
            "hạn; {{ item4.completeness.late }} đơn vị gửi muộn; {{ item4.completeness.rejected }} báo cáo phải "
            "trả lại để hoàn thiện; {{ item4.completeness.missing }} đơn vị chưa gửi báo cáo"
            "{% if item4.completeness.missing_units %} ({{ item4.completeness.missing_units }}){% endif %}.")
    _tag(doc, "{%p endif %}")

    # indicator points a), b), …
    _tag(doc, "{%p for pt in item4.indicator_points %}")
    p = _p(doc, "{{ pt.label }} {{ pt.title }}:")
    p.paragraph_format.keep_with_next = True
    _tag(doc, "{%p for s in pt.sentences %}")
    _p(doc, "- {{ s }}{{ '.' if loop.last else ';' }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if pt.missed %}")
    _p(doc, "{{ pt.missed }}")
    _tag(doc, "{%p endif %}")
    # the chart that illustrates this point, right under it (drawn by report.py)
    _charts(doc, "chart.point and chart.point == pt.label")
    _tag(doc, "{%p endfor %}")

    # charts not attached to a point, after the points
    _charts(doc, "not chart.point")

    # Bảng 1: indicator results by tier (variable columns: a table built by report.py)
    _tag(doc, "{%p if item4.indicator_table %}")
    _tag(doc, "{%p if item4.indicator_lead %}")
    p = _p(doc, "{{ item4.indicator_lead }}")
    p.paragraph_format.keep_with_next = True
    _tag(doc, "{%p endif %}")
    _p(doc, "{{ item4.indicator_table.caption }}", style="Table Caption")
    _p(doc, "{{p rendered.indicator_table }}")
    _tag(doc, "{%p if item4.indicator_table.note %}")
    note = _p(doc, "{{ item4.indicator_table.note }}", italic=True, size=12)
    note.paragraph_format.space_before = Pt(3)
    _tag(doc, "{%p else %}")
    _p(doc, "", style="Figure Caption")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")

    # Bảng 2: case-result sheet (fixed form columns: a {%tr %} loop in the template)
    _tag(doc, "{%p if item4.case_table %}")
    _tag(doc, "{%p if item4.case_lead %}")
    p = _p(doc, "{{ item4.case_lead }}")
    p.paragraph_format.keep_with_next = True
    _tag(doc, "{%p endif %}")
    _p(doc, "{{ item4.case_table.caption }}", style="Table Caption")
    unit = _p(doc, "Đơn vị tính: hồ sơ", style="Table Text", italic=True, size=12, align=WD_ALIGN_PARAGRAPH.RIGHT)
    unit.paragraph_format.keep_with_next = True  # the caption and this line never end a page without the table
    _case_table(doc)
    _p(doc, "", style="Figure Caption")
    _tag(doc, "{%p endif %}")

    # tasks of the plan
    _tag(doc, "{%p if item4.tasks %}")
    p = _p(doc, "{{ rendered.labels.tasks }} Tình hình thực hiện nhiệm vụ theo Kế hoạch:")
    p.paragraph_format.keep_with_next = True
    _p(doc, "{{ item4.tasks.summary }}")
    _tag(doc, "{%p if item4.tasks.overdue %}")
    p = _p(doc, "Các nhiệm vụ quá hạn:")
    p.paragraph_format.keep_with_next = True
    _tasks_table(doc)
    _p(doc, "", style="Figure Caption")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")

    # difficulties and proposals reported by the units
    for key, title, who in (
        ("difficulties", "Khó khăn, vướng mắc", "đơn vị phản ánh"),
        ("proposals", "Đề xuất, kiến nghị của các đơn vị", "đơn vị đề xuất"),
    ):
        p = _p(doc, f"{{{{ rendered.labels.{key} }}}} {title}:")
        p.paragraph_format.keep_with_next = True
        _tag(doc, f"{{%p for d in item4.{key} %}}")
        _p(doc, f"- {{{{ d.text }}}}{{% if d.units %}} ({who}: {{{{ d.units }}}}){{% endif %}}"
                "{{ '.' if loop.last else ';' }}")
        _tag(doc, "{%p else %}")
        _p(doc, "- Không có.")
        _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")


def _body(doc: DocxDocument) -> None:
    _tag(doc, "{%p if report.plan_title %}")
    _p(doc, "Thực hiện {{ report.plan_title }};")
    _tag(doc, "{%p endif %}")
    _p(doc, "{{ report.intro }}")
    _tag(doc, "{%p if report.window_label %}")
    _p(doc, "(Số liệu báo cáo tính {{ report.window_label }}.)", italic=True)
    _tag(doc, "{%p endif %}")

    # non-breaking spaces inside the compound words: the heading breaks between words, never "THỦ / TỤC"
    _p(doc, "I. TÌNH\u00a0HÌNH, KẾT\u00a0QUẢ THỰC\u00a0HIỆN CÔNG\u00a0TÁC CẢI\u00a0CÁCH THỦ\u00a0TỤC "
            "HÀNH\u00a0CHÍNH", style="Report Section")
    _tag(doc, "{%p for part in parts %}")
    _p(doc, "{{ part.number }}. {{ part.heading }}", style="Report Item")
    _paragraph_list(doc, "part")
    _item4(doc)
    _tag(doc, "{%p endfor %}")

    _tag(doc, "{%p for sec in sections_after %}")
    _p(doc, "{{ sec.number }}. {{ sec.heading }}", style="Report Section")
    _paragraph_list(doc, "sec")
    _tag(doc, "{%p endfor %}")
    p = _p(doc, "Trên đây là báo cáo tình hình, kết quả thực hiện công tác cải cách thủ tục hành chính "
                "{{ report.period_label }} của {{ office.issuer_short }} tỉnh {{ office.place }}./.")
    p.paragraph_format.keep_with_next = True  # never leave the signature band alone on a page


def _signature_block(doc: DocxDocument) -> None:
    table = _borderless_table(doc, 1, SIGN_COLS_MM)
    left, right = table.cell(0, 0), table.cell(0, 1)
    p = _cell_text(left, "Nơi nhận:", style="Recipients", bold=True, italic=True, size=12)
    p.paragraph_format.space_before = Pt(6)
    _tag(left, "{%p for r in office.recipients %}")
    _p(left, "- {{ r }};", style="Recipients")
    _tag(left, "{%p endfor %}")
    _p(left, "- {{ office.archive }}.", style="Recipients")

    p = _cell_text(right, "{{ office.signer_authority }}", style="Header Block", bold=True, size=14)
    p.paragraph_format.space_before = Pt(6)
    _p(right, "{{ office.signer_title }}", style="Header Block", bold=True, size=14)
    p = _p(right, "{{ office.signer_name }}", style="Header Block", bold=True, size=14)
    p.paragraph_format.space_before = Pt(64)  # room for signature and seal (about 4 lines of 14 pt)
    for row in table.rows:
        set_cant_split(row)


def _section_break(doc: DocxDocument) -> Section:
    """End the current section here (a 1-pt empty paragraph carries its break) and start a landscape one
    whose pages are numbered on their own from 1 (NĐ 30, 4.1: appendices); return the new section."""
    doc.add_section(WD_SECTION.NEW_PAGE)
    breaker = doc.paragraphs[-1]
    breaker.style = "Jinja Tag"
    breaker.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    breaker.paragraph_format.line_spacing = Pt(1)
    breaker.paragraph_format.space_after = Pt(0)
    _paragraph_mark_size(breaker, 2)

    section = doc.sections[-1]
    _setup_page(section, landscape=True)
    _setup_headers(section, TEXT_WIDTH_LANDSCAPE_MM)
    pg = w_el("w:pgNumType", start="1")
    sect_pr = section._sectPr
    anchor = next((sect_pr.find(qn(t)) for t in ("w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg",
                                                  "w:textDirection", "w:bidi", "w:docGrid")
                   if sect_pr.find(qn(t)) is not None), None)
    if anchor is not None:
        anchor.addprevious(pg)
    else:
        sect_pr.append(pg)
    return section


def _appendix_head(doc: DocxDocument, owner: str) -> None:
    """"Phụ lục I", the title, the "(Kèm theo Báo cáo số …)" line; "Phụ lục" alone when it is the only one."""
    _p(doc, f"Phụ lục{{% if {owner}.number %}} {{{{ {owner}.number }}}}{{% endif %}}", style="Header Block",
       bold=True, size=14)
    _p(doc, f"{{{{ {owner}.title }}}}", style="Header Block", bold=True, size=14)
    p = _p(doc, f"{{{{ {owner}.note }}}}", style="Header Block", italic=True, size=14)
    p.paragraph_format.space_after = Pt(12)


def _appendix(doc: DocxDocument) -> None:
    """The appendices, each on its own landscape pages: Phụ lục I (every unit's indicator results) and Phụ
    lục II (the plan follow-up table), either of which the data may leave out.

    A section break closes the pages before it, so each break sits in the block of what follows it: the
    break that ends the report's portrait pages is kept when any appendix follows, the one that ends Phụ lục
    I only when Phụ lục II follows. The document's last section (landscape) takes whichever comes last."""
    _tag(doc, "{%p if appendix or followup %}")
    _section_break(doc)   # ends the portrait section
    _tag(doc, "{%p endif %}")

    _tag(doc, "{%p if appendix %}")
    _appendix_head(doc, "appendix")
    _p(doc, "{{p rendered.appendix_table }}")
    _tag(doc, "{%p if appendix.legend %}")
    legend = _p(doc, "{{ appendix.legend }}", italic=True, size=11)
    legend.paragraph_format.space_before = Pt(6)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if followup %}")
    _section_break(doc)   # ends Phụ lục I
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")

    _tag(doc, "{%p if followup %}")
    _appendix_head(doc, "followup")
    _tag(doc, "{%p if followup.data_note %}")
    note = _p(doc, "{{ followup.data_note }}", italic=True, size=12)
    note.paragraph_format.space_after = Pt(6)
    _tag(doc, "{%p endif %}")
    _p(doc, "{{p rendered.followup_table }}")
    _tag(doc, "{%p endif %}")


def build_default_template(path: Path) -> Path:
    """Write the default docxtpl template of the monthly report to `path`; return `path`."""
    path = Path(path)
    doc = Document()
    _setup_page(doc.sections[0])
    _setup_fonts(doc)
    _setup_styles(doc)
    _setup_headers(doc.sections[0])
    doc.core_properties.title = "Báo cáo tình hình, kết quả thực hiện công tác cải cách TTHC"
    doc.core_properties.author = "cchc_excel"
    doc.core_properties.language = "vi-VN"

    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # python-docx's blank template holds no paragraphs, but be safe
        body.remove(p)

    _header_block(doc)
    _title_block(doc)
    _body(doc)
    _signature_block(doc)
    _appendix(doc)

    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the default Word template of the monthly report.")
    parser.add_argument("--out", type=Path, default=DEFAULT_TEMPLATE,
                        help="where to write it (default: templates/report/bao-cao-thang.docx)")
    args = parser.parse_args(argv)
    print(build_default_template(args.out))


if __name__ == "__main__":
    main()
