"""WordprocessingML helpers for tables and page geometry, shared by the report renderer (`report.py`) and the
developer tool that first built the default template (`tools/build_report_template.py`).

- Tables: `set_table_borders`, `set_cell_margins`, `set_col_widths`, `set_repeat_header`, `set_cant_split`
  write the table and row properties python-docx has no API for.
- Geometry: `text_width_mm(section)` is the width between a section's margins, read from the document
  itself, so the renderer sizes its tables for the page set-up the officer chose in Word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm
from docx.table import Table, _Row

__all__ = ["TABLE_PT", "set_cant_split", "set_cell_margins", "set_col_widths", "set_repeat_header",
           "set_table_borders", "text_width_mm", "twips", "w_el"]

# Font size of the tables the renderer builds (Bảng 1, the appendix) when the template has no "Table Text"
# style to take it from; NĐ 30/2020 asks 12-13 pt for table text.
TABLE_PT = 12.0
_EMU_PER_MM = 36000


def w_el(tag: str, **attrs: str) -> Any:
    """A new `w:` element with `w:`-qualified attributes: w_el("w:jc", val="center")."""
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    return element


def twips(mm: float) -> int:
    return round(mm * 1440 / 25.4)


def text_width_mm(section: Any) -> float:
    """The width of the text column of a python-docx `Section`: page width less the left and right margins
    and the gutter, as set in the document (Word's Layout > Margins / Orientation / Size). A section split
    into newspaper columns gives the width of one column."""
    width = (section.page_width or Mm(210)) - (section.left_margin or 0) - (section.right_margin or 0)
    width -= section.gutter or 0
    mm = width / _EMU_PER_MM
    cols = section._sectPr.find(qn("w:cols"))
    count = int(cols.get(qn("w:num"), "1") or 1) if cols is not None else 1
    if count > 1:
        space_mm = int(cols.get(qn("w:space"), "720") or 720) * 25.4 / 1440
        mm = (mm - space_mm * (count - 1)) / count
    return mm


def insert_before_first(parent: Any, child: Any, later_tags: tuple[str, ...]) -> None:
    """Put `child` into `parent` before the first element of `later_tags` found (the schema's order of the
    elements that must follow it), or at the end when none is there."""
    for tag in later_tags:
        anchor = parent.find(qn(tag))
        if anchor is not None:
            anchor.addprevious(child)
            return
    parent.append(child)


def set_table_borders(table: Table, size: int | None = 4) -> None:
    """Single black borders of `size` eighths of a point on every edge; None removes all borders."""
    tbl_pr = table._tbl.tblPr
    old = tbl_pr.find(qn("w:tblBorders"))
    if old is not None:
        tbl_pr.remove(old)
    borders = w_el("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if size is None:
            borders.append(w_el(f"w:{edge}", val="nil"))
        else:
            borders.append(w_el(f"w:{edge}", val="single", sz=str(size), space="0", color="000000"))
    # schema order inside tblPr: ... tblW, jc, tblCellSpacing, tblInd, tblBorders, shd, tblLayout, tblCellMar
    insert_before_first(tbl_pr, borders, ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"))


def set_cell_margins(table: Table, left_mm: float, right_mm: float, top_mm: float = 0, bottom_mm: float = 0) -> None:
    """Default cell margins of a table (tblCellMar)."""
    tbl_pr = table._tbl.tblPr
    old = tbl_pr.find(qn("w:tblCellMar"))
    if old is not None:
        tbl_pr.remove(old)
    mar = w_el("w:tblCellMar")
    for edge, mm in (("top", top_mm), ("left", left_mm), ("bottom", bottom_mm), ("right", right_mm)):
        mar.append(w_el(f"w:{edge}", w=str(twips(mm)), type="dxa"))
    look = tbl_pr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(mar)
    else:
        tbl_pr.append(mar)


def set_col_widths(table: Table, widths_mm: Sequence[float]) -> None:
    """Fixed layout, explicit table width, grid columns and every cell's width."""
    table.autofit = False
    tbl = table._tbl
    tbl_pr = tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = w_el("w:tblW")
        style = tbl_pr.find(qn("w:tblStyle"))
        if style is not None:
            style.addnext(tbl_w)
        else:
            tbl_pr.insert(0, tbl_w)
    tbl_w.set(qn("w:w"), str(sum(twips(w) for w in widths_mm)))
    tbl_w.set(qn("w:type"), "dxa")
    grid = tbl.tblGrid
    for col in list(grid):
        grid.remove(col)
    for w in widths_mm:
        grid.append(w_el("w:gridCol", w=str(twips(w))))
    for row in table.rows:
        col = 0
        for tc in row._tr.tc_lst:
            span = tc.grid_span
            tc.width = Mm(sum(widths_mm[col:col + span]))
            col += span


def set_repeat_header(row: _Row, *, cant_split: bool = True) -> None:
    """Repeat this row at the top of every page the table spans (and, by default, never split it)."""
    tr_pr = row._tr.get_or_add_trPr()
    if cant_split:
        tr_pr.append(w_el("w:cantSplit"))
    tr_pr.append(w_el("w:tblHeader"))


def set_cant_split(row: _Row) -> None:
    """Never split this row across pages."""
    row._tr.get_or_add_trPr().append(w_el("w:cantSplit"))
