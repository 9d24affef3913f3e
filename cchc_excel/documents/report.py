"""Word-report edge: render the monthly TTHC report from a context mapping with docxtpl.

- `render_report(context, out)` fills the template (`templates/report/bao-cao-thang.docx` by default),
  puts the context's chart specs in as native Word charts (`charts.NativeChart`), builds the variable-column
  tables (Bảng 1 and the appendix) in code (XML blocks, see `BodyXml`; the tables go in as the document is
  saved, `_TableSlot`) and saves the .docx.
- `check_template(template, context)` lists, as `Problem`s with `template-*` codes, what would stop a
  template edited in Word from rendering: a file that is not a .docx, broken tags (by paragraph), blocks
  left open, and fields the template uses that the context lacks.
- Page set-up is the template's: tables built in code take the text width of the section they land in
  (`table_page`), and no section is reset to fixed margins.
- `to_pdf(docx, out_dir)` converts with LibreOffice through `cchc_excel.documents.office` (None when unavailable).

- `placeholders_left(context)` lists the parts still to be written; while any is left the document says
  "DỰ THẢO" in the header of every page, and `render_report(..., final=True)` refuses (`PlaceholdersLeft`).

Every string in the context is already formatted Vietnamese-style ("78,45%", "1.234") by the caller.
Headings keep their multi-syllable words whole on a line (non-breaking spaces, `keep_words`).
Clerk-typed text is safe: the jinja environment autoescapes ("&", "<", ">"), values are substituted
and never re-parsed (so "{{ 7*7 }}" in a value stays literal), and characters that XML 1.0 forbids or
that docxtpl would turn into paragraph/page breaks ("\\a", "\\f") are removed. The context contract is
documented in `docs/report-template.md`.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docxtpl import DocxTemplate
from lxml import etree

from cchc_excel import bundled
from cchc_excel.core.layout import CASE_COLUMNS as CASE_COLUMN_DEFS
from cchc_excel.core.narrative import placeholders, point_label
from cchc_excel.core.problems import Problem, problem
from cchc_excel.documents.charts import NativeChart
from cchc_excel.documents.docx_tables import (
    TABLE_PT,
    set_cant_split,
    set_cell_margins,
    set_col_widths,
    set_repeat_header,
    set_table_borders,
    text_width_mm,
)
from cchc_excel.documents.xlsxprint import ZIP_LEVEL

__all__ = ["PlaceholdersLeft", "check_template", "default_template", "iter_template_problems", "keep_words",
           "placeholders_left", "render_report", "to_pdf"]

CASE_COLUMNS = len(CASE_COLUMN_DEFS) + 1   # the form's columns and the STT before them
# Names the renderer puts into the context itself (never part of the caller's data).
RENDERER_NAMES = frozenset({"rendered"})
# Fields the default template tests with `if` and that may be left out (docs/report-template.md).
OPTIONAL_FIELDS = frozenset({
    "office.superior", "office.kinh_gui", "report.plan_title", "report.window_label",
    "parts[].to_complete", "parts[].item4", "sections_after[].to_complete",
    "item4.summary", "item4.completeness", "item4.completeness.missing_units", "item4.indicator_table",
    "item4.case_table", "item4.tasks", "item4.tasks.overdue", "item4.indicator_points[].missed",
    "item4.difficulties[].units", "item4.proposals[].units", "appendix.legend",
    "parts[].todo", "sections_after[].todo", "item4.indicator_lead", "item4.case_lead", "item4.labels",
    "item4.indicator_table.note", "item4.completeness.sentence", "item4.completeness.late_units",
    "item4.completeness.rejected_units", "report.draft", "appendix.number", "followup.number", "item4.tasks.overdue[].number",
    "followup.data_note",
})
# Top-level fields the default template tests with `if` and that may be left out (the follow-up appendix).
OPTIONAL_TOP = frozenset({"followup"})

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# "1.234", "12,5", "78,45%", "-3", "15/21", "1.234 hồ sơ" is NOT a number
_NUMBER = re.compile(r"^[+\-−]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?\s?%?$|^\d+\s?/\s?\d+$")
_DASH = frozenset({"-", "–", "—", "x", "X", "", "KPS"})
# Signs a value may carry after it in the appendix ("74,19*", "33,84*†"): not part of the number.
VALUE_MARKS = "*†"


class PlaceholdersLeft(Exception):  # noqa: N818 - the name says what is wrong, as the brief asks
    """A final report was asked for while parts still wait for the office's text."""

    def __init__(self, left: Sequence[str]) -> None:
        self.left = list(left)
        super().__init__("Báo cáo còn nội dung chưa hoàn thiện, không xuất bản chính thức được. Các mục cần bổ "
                         "sung: " + "; ".join(self.left) + ". Hãy điền nội dung các mục này (mục report.outline "
                         "và report.sections_after trong cchc.yaml) rồi xuất lại, hoặc xuất bản dự thảo.")


def placeholders_left(context: Mapping[str, Any]) -> list[str]:
    """Parts and sections of `context` still marked for the office to write ("1. Công tác …", "II. ĐÁNH GIÁ
    CHUNG"); empty when the report can be signed."""
    return placeholders(context)


# Multi-syllable words a heading must not split across lines ("THỦ / TỤC"): their syllables are joined by
# non-breaking spaces. Matched without regard to case.
KEEP_TOGETHER = (
    "thủ tục", "hành chính", "cải cách", "kết quả", "tình hình", "thực hiện", "công tác", "triển khai",
    "nhiệm vụ", "trọng tâm", "đánh giá", "đề xuất", "kiến nghị", "kiểm soát", "quy định", "công bố",
    "công khai", "rà soát", "đơn giản hóa", "tiếp nhận", "phản ánh", "truyền thông", "hỗ trợ", "chỉ tiêu",
    "đơn vị", "giải quyết", "hồ sơ", "kỳ tới", "tháng tới", "quý tới", "phụ lục", "xử lý",
)
_MONTH_YEAR = re.compile(r"(tháng|quý|năm|6 tháng) ([0-9IV]+)(?: (năm) ([0-9]{4}))?", re.IGNORECASE)


def keep_words(text: str) -> str:
    """`text` with the spaces inside known compound words and inside "tháng 3 năm 2025" made non-breaking,
    so a title or heading breaks between words, never inside one."""
    if not text:
        return text
    for word in KEEP_TOGETHER:
        text = re.sub(re.escape(word).replace(r"\ ", r"\s"), lambda m: m.group(0).replace(" ", "\u00a0"), text,
                      flags=re.IGNORECASE)
    return _MONTH_YEAR.sub(lambda m: m.group(0).replace(" ", "\u00a0"), text)


def _keep_heading_words(ctx: dict[str, Any]) -> None:
    report = ctx.get("report")
    if isinstance(report, dict) and isinstance(report.get("subject"), str):
        report["subject"] = keep_words(report["subject"])
    # mục headings (upper case, long); khoản headings of Part I stay plain text (short, and read by tests and
    # tools that look for their exact wording)
    for owner in ctx.get("sections_after") or []:
        if isinstance(owner, dict) and isinstance(owner.get("heading"), str):
            owner["heading"] = keep_words(owner["heading"])
    for key in ("appendix", "followup"):
        app = ctx.get(key)
        if isinstance(app, dict) and isinstance(app.get("title"), str):
            app["title"] = keep_words(app["title"])


# --------------------------------------------------------------------------------------------
# context preparation
# --------------------------------------------------------------------------------------------

_ATOMS = frozenset({int, float, bool, type(None)})   # immutable: what deepcopy would give back is the value


def _clean(value: Any) -> Any:
    """Deep copy into plain dicts/lists; strip characters XML cannot hold (docxtpl would also turn
    "\\a" and "\\f" into paragraph and page breaks)."""
    if type(value) in _ATOMS:
        return value
    if type(value) is str:
        return _XML_INVALID.sub("", value) if _XML_INVALID.search(value) else value
    if isinstance(value, str):   # a subclass (markupsafe.Markup would skip autoescaping): a plain str of it
        return _XML_INVALID.sub("", str(value))
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return copy.deepcopy(value)


def _looks_numeric(text: str) -> bool:
    return bool(_NUMBER.match(text.strip()))


def _point_labels(context: Mapping[str, Any]) -> dict[str, str]:
    """Letters of item 4's fixed points (tasks, difficulties, proposals): `item4.labels` when the context
    gives them, else continuing after the indicator points a), b), … in the Vietnamese sequence (no gap, no
    repeat; the tasks point takes no letter when there are no tasks)."""
    item4 = context.get("item4") or {}
    given = item4.get("labels")
    if isinstance(given, Mapping) and given:
        return {str(k): str(v) for k, v in given.items()}
    i = len(item4.get("indicator_points") or [])
    labels: dict[str, str] = {}
    for key in ("tasks", "difficulties", "proposals"):
        if key == "tasks" and not item4.get("tasks"):
            continue
        labels[key] = point_label(i)
        i += 1
    return labels


def _normalise_case_rows(context: dict[str, Any]) -> None:
    """Bảng 2 rows hold the 13 form columns; a 12-cell row (no STT) gets its STT, short rows are padded."""
    table = (context.get("item4") or {}).get("case_table")
    if not isinstance(table, dict):
        return
    rows = []
    for i, row in enumerate(table.get("rows") or [], start=1):
        cells = ["" if c is None else str(c) for c in row]
        if len(cells) == CASE_COLUMNS - 1:
            cells = [str(i), *cells]
        cells = (cells + [""] * CASE_COLUMNS)[:CASE_COLUMNS]
        rows.append(cells)
    table["rows"] = rows


# --------------------------------------------------------------------------------------------
# variable-column tables, built in code (Subdoc-style)
# --------------------------------------------------------------------------------------------

def _column_cells(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Iterator[tuple[str, list[str]]]:
    """Each column's header and its distinct texts (every measure taken of them is a maximum)."""
    for j, head in enumerate(columns):
        yield str(head), list(dict.fromkeys(str(r[j]) for r in rows if j < len(r)))


@dataclass(frozen=True)
class _ColumnText:
    """What the width rules measure of a column's texts, measured once per table (not once per font size
    tried): the header, the longest word of the header and of the cells, the longest short cell (up to 14
    characters), the longest cell, and the most value signs ending a cell."""

    head: str
    head_word: int
    cell_word: int
    short_cell: int
    longest: int
    marks: int


def _column_texts(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[_ColumnText]:
    return [_ColumnText(head=head, head_word=max((len(w) for w in head.split()), default=1),
                        cell_word=max((len(w) for t in cells for w in t.split()), default=1),
                        short_cell=max((len(t) for t in cells if len(t) <= 14), default=0),
                        longest=max((len(t) for t in cells), default=0),
                        marks=max((_marks(t) for t in cells), default=0))
            for head, cells in _column_cells(columns, rows)]


def _column_minimum(col: _ColumnText, font_pt: float, pad_mm: float) -> float:
    """The narrowest a column can be: no word broken (header words are bold), and no short cell (up to 14
    characters) on two lines."""
    em_mm = font_pt * 25.4 / 72
    char_mm = em_mm * 0.55
    return max(max(col.head_word * em_mm * 0.62, col.cell_word * em_mm * 0.55) + pad_mm, col.short_cell * char_mm + pad_mm)


def _column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], total_mm: float,
                   font_pt: float = TABLE_PT, pad_mm: float = 2.2, *,
                   texts: Sequence[_ColumnText] | None = None) -> list[float]:
    """Share `total_mm` between columns. No column is narrower than its longest word (bold in the
    header) nor than its longest short cell (cells up to 14 characters stay on one line); what is left
    goes in proportion to each column's longest text, so long names get room and numbers stay narrow.
    `texts`: the columns' `_column_texts`, when the caller has them."""
    em_mm = font_pt * 25.4 / 72
    char_mm, bold_mm = em_mm * 0.55, em_mm * 0.62
    mins: list[float] = []
    wants: list[float] = []
    for col in texts if texts is not None else _column_texts(columns, rows):
        lo = _column_minimum(col, font_pt, pad_mm)
        # a header should need at most two lines when there is room
        want = max(min(col.longest, 45) * char_mm + pad_mm, len(col.head) * bold_mm / 2 + pad_mm, lo)
        mins.append(lo)
        wants.append(want)
    sum_min, sum_want = sum(mins), sum(wants)
    if sum_want <= total_mm:
        extra = total_mm - sum_want
        return [w + extra * w / sum_want for w in wants]
    if sum_min >= total_mm:
        return [m * total_mm / sum_min for m in mins]
    share = (total_mm - sum_min) / (sum_want - sum_min)
    return [m + (w - m) * share for m, w in zip(mins, wants, strict=True)]


def _table_font(columns: Sequence[str], rows: Sequence[Sequence[str]], total_mm: float,
                base_pt: float = TABLE_PT, *, texts: Sequence[_ColumnText] | None = None) -> float:
    """The largest table font (`base_pt`, the template's table size, down to 9 pt) at which no word has to
    break: wide appendix tables (one column per indicator) shrink instead of running off the page."""
    size = float(base_pt)
    measured = texts if texts is not None else _column_texts(columns, rows)
    # room left for the widest text column (at least a fifth of the line), so it does not wrap word by word
    while size > 9 and sum(_column_minimum(c, size, 2.2) for c in measured) > total_mm * 0.88:
        size -= 0.5
    return size


def _cell_paragraph(cell: Any, text: str, *, bold: bool = False, align: str = "left",
                    font_pt: float = TABLE_PT) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = cell.paragraphs[0]
    p.paragraph_format.first_line_indent = Mm(0)
    p.paragraph_format.space_before = Pt(1)
    p.paragraph_format.space_after = Pt(1)
    p.paragraph_format.line_spacing = 1.0
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT,
                   "center": WD_ALIGN_PARAGRAPH.CENTER}[align]
    run = p.add_run(text)
    run.font.size = Pt(font_pt)
    run.bold = bold
    # the paragraph mark at the table's size too: an empty cell is then no taller than a filled one
    p_pr = p._p.get_or_add_pPr()
    mark = p_pr.find(qn("w:rPr"))
    if mark is None:
        mark = etree.SubElement(p_pr, qn("w:rPr"))
    for tag in ("w:sz", "w:szCs"):
        etree.SubElement(mark, qn(tag)).set(qn("w:val"), str(round(font_pt * 2)))


def _marks(text: str) -> int:
    """How many value signs ("*", "†") end `text`."""
    stripped = text.rstrip(VALUE_MARKS)
    return len(text) - len(stripped)


def _align_for(text: str, column: str, j: int) -> str:
    if j == 0 and column.strip().upper() == "STT":
        return "center"
    if text.strip() in _DASH:
        return "center"
    return "right" if _looks_numeric(text.strip().rstrip(VALUE_MARKS)) else "left"


_MARK = "\ue000"   # a private-use character standing for a cell's text while its XML is prepared


class BodyXml:
    """A block of WordprocessingML (here: one table) that docxtpl inserts in place of a `{{p … }}`
    paragraph. It plays the part of docxtpl's Subdoc for content without images or other parts, and
    does not need the optional `docxcompose` package that Subdoc imports. `__html__` marks it safe
    for the autoescaping environment; its text was escaped when it was built. Held as pieces (a table's
    rows), joined only when asked for as a whole."""

    def __init__(self, xml: str | Sequence[str]) -> None:
        self.chunks: list[str] = [xml] if isinstance(xml, str) else list(xml)

    @property
    def xml(self) -> str:
        return "".join(self.chunks)

    def __html__(self) -> str:
        return self.xml

    def __str__(self) -> str:
        return self.xml


class _TableSlot(BodyXml):
    """What docxtpl puts in place of a `{{p rendered.… }}` paragraph for a code-built table: a one-word
    paragraph, replaced by the table's XML when the document is written (`_save_with_tables`). A table of
    4,000 rows (19 MB of XML) then skips docxtpl's regular expressions and jinja and is never held as an
    XML tree (which took some 300 MB)."""

    def __init__(self, name: str, table: BodyXml) -> None:
        super().__init__(f"<w:p><w:r><w:t>{_MARK}{name}{_MARK}</w:t></w:r></w:p>")
        self.name, self.table = name, table


def _save_with_tables(tpl: DocxTemplate, out: Path, rendered: Mapping[str, Any]) -> None:
    """Save the rendered document to `out`, each table slot's paragraph (in whichever part it landed)
    replaced by its table's XML, streamed into the zip."""
    slots = {s.xml.encode("utf-8"): s.table for s in rendered.values() if isinstance(s, _TableSlot)}
    if not slots:
        tpl.save(str(out))
        return
    buffer = io.BytesIO()
    tpl.save(buffer)
    mark = _MARK.encode("utf-8")
    placed = 0
    # parts written by name: they take the archive's deflate level (a ZipInfo would bring zlib's default); the
    # summary's level: the 4,000-unit appendix's ~20 MB of XML took 0.14 s of CPU at zlib's default, 0.04 s at 3
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                         compresslevel=ZIP_LEVEL) as dst:
        for info in src.infolist():
            data = src.read(info)
            if mark not in data:
                dst.writestr(info.filename, data)
                continue
            with dst.open(info.filename, "w") as fh:
                start = 0
                while (at := data.find(mark, start)) >= 0:
                    begin = data.rfind(b"<w:p>", start, at)
                    slot = next((k for k in slots if data.startswith(k, begin)), None) if begin >= 0 else None
                    if slot is None:   # the mark inside some other text: not a slot
                        fh.write(data[start:at + len(mark)])
                        start = at + len(mark)
                        continue
                    fh.write(data[start:begin])
                    chunks = slots[slot].chunks
                    # a few hundred rows a write: the deflater and the checksum are called per write
                    for i in range(0, len(chunks), 512):
                        fh.write("".join(chunks[i:i + 512]).encode("utf-8"))
                    start = begin + len(slot)
                    placed += 1
                fh.write(data[start:])
    if placed < len(slots):
        raise RuntimeError(f"{len(slots) - placed} code-built table(s) not found in the rendered document")


def _keep_with_next(tr: Any) -> None:
    """Keep this row on the page of the next one (every paragraph of the row gets keepNext)."""
    for p_pr in tr.iter(qn("w:pPr")):
        if p_pr.find(qn("w:keepNext")) is None:
            style = p_pr.find(qn("w:pStyle"))
            p_pr.insert(0 if style is None else 1, etree.Element(qn("w:keepNext")))


_NS_DECL = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def _escape(text: str) -> str:
    """Text as lxml writes it in an element."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _inner_xml(element: Any) -> str:
    """`element` serialised as it reads inside its document (the namespace declarations lxml adds to a
    serialised sub-element dropped from its start tag: the table's own start tag carries them)."""
    xml = etree.tostring(element, encoding="unicode")
    end = xml.index(">")
    return _NS_DECL.sub("", xml[:end]) + xml[end:]


def _split(element: Any) -> tuple[str, str]:
    """The XML of `element` (holding `_MARK` once) before and after the mark."""
    before, after = _inner_xml(element).split(_MARK)
    return before, after


class _RowXml:
    """The XML of a table's body rows, from the prototype rows python-docx styled: each variant of a cell
    (column, alignment, right indent, xml:space, keep-with-next) is serialised once with a mark for its
    text; a row is then the variants' texts joined. Byte for byte the XML of a deep copy of the prototype
    with its texts set (what `_table_block` built before, 0.3 ms a row)."""

    def __init__(self, proto_group: Any, proto_data: Any, mark_twips: float) -> None:
        self.proto_data, self.mark_twips = proto_data, mark_twips
        group = copy.deepcopy(proto_group)
        group.find(".//" + qn("w:t")).text = _MARK
        self.group = _split(group)
        start = _inner_xml(proto_data)
        self.tr_open = start[:start.index("<w:tc>")] if "<w:tc>" in start else start[:start.index("<w:tc ")]
        self.cells: dict[tuple[int, str, int, bool, bool], tuple[str, str]] = {}

    def cell(self, j: int, align: str, pad: int, preserve: bool, keep: bool) -> tuple[str, str]:
        key = (j, align, pad, preserve, keep)
        found = self.cells.get(key)
        if found is None:
            tc = copy.deepcopy(list(self.proto_data.iterfind(qn("w:tc")))[j])
            t = tc.find(".//" + qn("w:t"))
            t.text = _MARK
            if preserve:
                t.set(qn("xml:space"), "preserve")
            jc = tc.find(".//" + qn("w:jc"))
            jc.set(qn("w:val"), align)
            if align == "right" and pad > 0:
                ind = jc.getparent().find(qn("w:ind"))
                if ind is None:
                    ind = etree.Element(qn("w:ind"))
                    jc.addprevious(ind)
                ind.set(qn("w:right"), str(round(pad * self.mark_twips)))
            if keep:
                _keep_with_next(tc)
            found = self.cells[key] = _split(tc)
        return found


_LINE_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_EMPTY_TEXT = re.compile(r'(<w:t(?: xml:space="preserve")?)></w:t>')


def _table_block(columns: Sequence[str], groups: Sequence[tuple[str, Sequence[Sequence[str]]]],
                 total_mm: float, *, base_pt: float = TABLE_PT, shares: Sequence[float] | None = None,
                 long_rows: bool = False, scratch: Any = None) -> BodyXml:
    """A bordered table: bold repeated header row, optional bold merged group rows, numbers right-aligned.

    Rows that continue an item (first cell empty: the other tiers of one indicator) stay on the page of the
    row before them, and the last three rows of the table and of each group stay together, so no page holds
    one or two rows alone. A number followed by signs ("74,19*") keeps its digits in line with the numbers
    above and below (the others get a right indent as wide as the signs). A cell's "\n" are line breaks.
    `shares` fixes the columns' relative widths (the follow-up table's, as the seed prints it) instead of
    sharing the width by content. `long_rows` is for rows of paragraphs (the follow-up table's notes): text at
    the top of its cell, and a row may run over a page break (a row taller than what is left of a page
    would otherwise push it, and the rows kept with it, to the next page and leave most of a page blank).

    python-docx styles a header row, one group row and one data row in a scratch document; the body rows are
    those prototypes' XML with their texts (`_RowXml`): a 4,000-unit appendix is a string built in a fraction
    of a second, parsed once where the table goes (`render_report`), never passed through jinja. `scratch`: that
    document, when the caller builds several tables (opening python-docx's default document is the dearest
    step of a small table); the table is taken out of it again."""
    sd = scratch if scratch is not None else Document()
    ncols = len(columns)
    all_rows = [[str(c) for c in r] for _, rows in groups for r in rows]
    texts = _column_texts(columns, all_rows)
    font_pt = _table_font(columns, all_rows, total_mm, base_pt, texts=texts)
    if shares and len(shares) == ncols and sum(shares) > 0:
        widths = [total_mm * float(w) / sum(float(x) for x in shares) for w in shares]
    else:
        widths = _column_widths(columns, all_rows, total_mm, font_pt=font_pt, texts=texts)
    table = sd.add_table(rows=3, cols=ncols)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_table_borders(table, 4)
    set_cell_margins(table, 1.0, 1.0)
    header, group_row, data_row = table.rows
    set_repeat_header(header)
    for j, col in enumerate(columns):
        _cell_paragraph(header.cells[j], str(col), bold=True, align="center", font_pt=font_pt)
    merged = group_row.cells[0].merge(group_row.cells[ncols - 1])
    _cell_paragraph(merged, "x", bold=True, font_pt=font_pt)
    merged.paragraphs[0].paragraph_format.keep_with_next = True
    set_cant_split(group_row)
    if not long_rows:
        set_cant_split(data_row)
    for j in range(ncols):
        _cell_paragraph(data_row.cells[j], "x", font_pt=font_pt)
    for row in table.rows:
        for cell in row.cells:
            cell.vertical_alignment = (WD_CELL_VERTICAL_ALIGNMENT.TOP if long_rows and row._tr is data_row._tr
                                       else WD_CELL_VERTICAL_ALIGNMENT.CENTER)
    set_col_widths(table, widths)
    tbl = table._tbl
    proto_group, proto_data = group_row._tr, data_row._tr
    tbl.remove(proto_group)
    tbl.remove(proto_data)
    mark_w = [col.marks for col in texts]
    mark_twips = font_pt * 20 * 0.5  # "*" and "†" are half an em wide in Times New Roman
    rows_xml = _RowXml(proto_group, proto_data, mark_twips)
    heads = [str(c) for c in columns]
    # a cell's XML by keep-with-next, column and text (a table of 4,000 rows repeats most of its texts)
    made: dict[bool, list[dict[str, str]]] = {keep: [{} for _ in range(ncols)] for keep in (False, True)}
    out: list[str] = []
    for title, rows in groups:
        if title:
            out.append(_escape(str(title)).join(rows_xml.group))
        n = len(rows)
        for i, r in enumerate(rows):
            cells = [str(c) for c in r] + [""] * (ncols - len(r))
            following = rows[i + 1] if i + 1 < n else None
            # the next row continues this item; or one of the last three rows (kept with the last one)
            keep = ((following is not None and len(following) > 1 and not str(following[1]).strip())
                    or (not long_rows and n - 3 <= i <= n - 2))
            parts = [rows_xml.tr_open]
            for j, (known, text) in enumerate(zip(made[keep], cells, strict=False)):   # the first ncols cells
                xml = known.get(text)
                if xml is None:
                    align = _align_for(text, heads[j], j)
                    pad = mark_w[j] - _marks(text) if align == "right" else 0
                    if "\n" in text:
                        lines = text.split("\n")
                        before, after = rows_xml.cell(j, align, pad, lines[0] != lines[0].strip(), keep)
                        xml = before + _LINE_BREAK.join(_escape(line) for line in lines) + after
                    else:
                        before, after = rows_xml.cell(j, align, pad, text != text.strip(), keep)
                        xml = before + _escape(text) + after
                    if "></w:t>" in xml:   # an empty text element, written as XML writers write it: <w:t/>
                        xml = _EMPTY_TEXT.sub(r"\1/>", xml)
                    known[text] = xml
                parts.append(xml)
            parts.append("</w:tr>")
            out.append("".join(parts))
    # the table's own XML as it reads inside the document, whose root declares the namespaces
    head = _inner_xml(tbl)
    # a tab (or a group title's line break) inside a text: docxtpl's listing rules made it a tab run (a break)
    # when the table went through its rendering
    rows_out = [_resolve_listing(row) if "\t" in row or "\n" in row else row for row in out]
    tbl.getparent().remove(tbl)
    return BodyXml([head[:head.rindex("</w:tbl>")], *rows_out, "</w:tbl>"])


def _resolve_listing(xml: str) -> str:
    """docxtpl's `resolve_listing` (tabs, line breaks inside a text), which uses no template state."""
    return DocxTemplate.resolve_listing(None, xml)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TablePage:
    """Where the code-built tables land, read from the template: the text width (mm) of the section holding
    each `{{p rendered.… }}` paragraph, and the table font size (the template's "Table Text" style)."""

    indicator_mm: float
    appendix_mm: float
    font_pt: float
    followup_mm: float | None = None


def table_page(doc: Any) -> TablePage:
    """The `TablePage` of a python-docx document (the template before rendering). A template without
    one of the placeholders gets the width of its first section (Bảng 1) or its last one (appendix)."""
    sections = list(doc.sections)
    found: dict[str, float] = {}
    index = 0
    w_p, w_t, w_sect = qn("w:p"), qn("w:t"), qn("w:sectPr")
    for p in doc.element.body.iter(w_p):
        text = "".join(t.text or "" for t in p.iter(w_t))
        for name in ("indicator_table", "appendix_table", "followup_table"):
            if f"rendered.{name}" in text and name not in found:
                found[name] = text_width_mm(sections[min(index, len(sections) - 1)])
        p_pr = p.find(qn("w:pPr"))
        if p_pr is not None and p_pr.find(w_sect) is not None:
            index += 1  # this paragraph ends a section; the next one starts the following section
    font_pt = TABLE_PT
    try:
        size = doc.styles["Table Text"].font.size
    except KeyError:
        size = None
    if size is not None:
        font_pt = size.pt
    return TablePage(indicator_mm=found.get("indicator_table", text_width_mm(sections[0])),
                     appendix_mm=found.get("appendix_table", text_width_mm(sections[-1])), font_pt=font_pt,
                     followup_mm=found.get("followup_table", text_width_mm(sections[-1])))


def _rendered(tpl: DocxTemplate, ctx: Mapping[str, Any], charts_dir: Path, page: TablePage) -> dict[str, Any]:
    """What the renderer adds under `rendered`: charts, code-built tables and point letters."""
    charts = []
    for n, spec in enumerate(ctx.get("charts") or [], start=1):
        # a native Word chart; its workbook (figures and chart) kept in charts_dir
        charts.append({"image": NativeChart(tpl, spec, n, keep=charts_dir / f"bieu-do-{n}.xlsx"),
                       "caption": spec.get("caption") or f"Biểu đồ {n}. {spec.get('title', '')}".strip(),
                       "point": str(spec.get("point") or "")})
    item4 = ctx.get("item4") or {}
    ind = item4.get("indicator_table")
    app = ctx.get("appendix")
    fol = ctx.get("followup")
    # the tables' prototype rows are styled in one scratch document (each table leaves it when built)
    scratch = Document() if any(isinstance(t, Mapping) and t.get("columns") for t in (ind, app, fol)) else None
    indicator_table: Any = ""
    if isinstance(ind, Mapping) and ind.get("columns"):
        indicator_table = _table_block(ind["columns"], [("", ind.get("rows") or [])], page.indicator_mm,
                                       base_pt=page.font_pt, scratch=scratch)
    appendix_table: Any = ""
    if isinstance(app, Mapping) and app.get("columns"):
        groups = [(g.get("title", ""), g.get("rows") or []) for g in app.get("groups") or []]
        appendix_table = _table_block(app["columns"], groups, page.appendix_mm, base_pt=page.font_pt,
                                      scratch=scratch)
    followup_table: Any = ""
    if isinstance(fol, Mapping) and fol.get("columns"):
        groups = [(g.get("title", ""), g.get("rows") or []) for g in fol.get("groups") or []]
        followup_table = _table_block(fol["columns"], groups, page.followup_mm or page.appendix_mm,
                                      base_pt=page.font_pt, shares=fol.get("widths"), long_rows=True,
                                      scratch=scratch)
    tables = {name: _TableSlot(name, table) if isinstance(table, BodyXml) else table for name, table in
              (("indicator_table", indicator_table), ("appendix_table", appendix_table),
               ("followup_table", followup_table))}
    return {"charts": charts, **tables, "labels": _point_labels(ctx), "draft": bool(placeholders_left(ctx))}


def default_template() -> Path:
    """The shipped template, `templates/report/bao-cao-thang.docx` (package data in an installed wheel)."""
    return bundled.template_file("report", "bao-cao-thang.docx")


_ENV_OPTIONS: dict[str, Any] = {"autoescape": True}   # the report's jinja options, for every environment below


def _make_env() -> jinja2.Environment:
    return jinja2.Environment(**_ENV_OPTIONS)


class _CompiledOnce(jinja2.Environment):
    """The rendering environment, whose `from_string` (docxtpl's way in: one template per part of the
    document) keeps each part's compiled code in jinja's own bytecode cache (`FileSystemBytecodeCache`: a
    folder of this user's in the system's temporary folder, written atomically), keyed by the part's source.
    A part's source is the template's, never the data's, so every report from one template after the first
    skips the compiling (~0.06 s of CPU for the default template, most of docxtpl's rendering at 200 units).
    The key holds the options and jinja's version (jinja's file header names only Python's); a cache file that
    cannot be read, or no usable cache folder, and it compiles as jinja does."""

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:  # noqa: A002
        cache = self.bytecode_cache
        if cache is None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        cls = template_class or self.template_class
        # the environment's options shape the compiled code: they are part of the key
        options = sorted({**_ENV_OPTIONS, "autoescape": self.autoescape}.items())
        key = hashlib.sha1(f"cchc-report|jinja={jinja2.__version__}|{options!r}|{source}".encode()).hexdigest()
        try:
            bucket = cache.get_bucket(self, key, None, source)
        except Exception:   # noqa: BLE001 -- unreadable, truncated or foreign cache file: compiled and replaced
            bucket = jinja2.bccache.Bucket(self, cache.get_cache_key(key), cache.get_source_checksum(source))
        if bucket.code is None:
            bucket.code = self.compile(source)
            try:
                cache.set_bucket(bucket)
            except OSError:   # a full or read-only disk: this report is rendered all the same
                pass
        return cls.from_code(self, bucket.code, self.make_globals(globals), None)


def _cache_folder() -> str | None:
    """Where compiled parts may be kept: None for jinja's own folder in the temporary folder (POSIX: it makes
    it this user's alone, mode 0700, and refuses one that is not). On Windows jinja uses the shared temporary
    folder as it is (C:\\Windows\\Temp for a service, writable by every local user), so the cache goes under the
    user's own LOCALAPPDATA, or nowhere."""
    if os.name != "nt":
        return None
    base = os.environ.get("LOCALAPPDATA")
    if not base:
        raise RuntimeError("no per-user folder")
    folder = os.path.join(base, "cchc", "jinja")
    os.makedirs(folder, exist_ok=True)
    return folder


def _render_env() -> jinja2.Environment:
    """The environment of `_make_env`, with its compiled parts cached (`_CompiledOnce`)."""
    try:
        cache: jinja2.BytecodeCache | None = jinja2.FileSystemBytecodeCache(_cache_folder())
    except (OSError, RuntimeError):   # no safe folder (jinja refuses a temporary one it does not own alone)
        cache = None
    return _CompiledOnce(**_ENV_OPTIONS, bytecode_cache=cache)


def render_report(
    context: Mapping[str, Any],
    out: Path,
    *,
    template: Path | None = None,
    charts_dir: Path | None = None,
    final: bool = False,
) -> Path:
    """Render the report for `context` (see docs/report-template.md) into the .docx `out`; return `out`.

    `template` defaults to templates/report/bao-cao-thang.docx. Page size, orientation and margins are the
    template's own (the code-built tables take the text width of the section they land in). Charts are native
    Word charts; each one's workbook (`bieu-do-N.xlsx`: its figures and the chart, to open in Excel) goes to
    `charts_dir` (kept) or to a temporary folder removed afterwards. While parts are left to complete the
    document is marked "DỰ THẢO" on every page; with `final=True` it is not written at all
    (`PlaceholdersLeft`).
    """
    out = Path(out)
    left = placeholders_left(context)
    if final and left:
        raise PlaceholdersLeft(left)
    ctx = _clean(context)
    _normalise_case_rows(ctx)
    _keep_heading_words(ctx)
    tpl = DocxTemplate(str(template or default_template()))
    tpl.init_docx()
    page = table_page(tpl.docx)
    template_sections = [copy.deepcopy(section._sectPr) for section in tpl.docx.sections]
    with ExitStack() as stack:
        if charts_dir is None:
            charts_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cchc_charts_")))
        ctx["rendered"] = _rendered(tpl, ctx, Path(charts_dir), page)
        tpl.render(ctx, jinja_env=_render_env(), autoescape=True)
        _keep_page_setup(tpl.docx, template_sections)
        _fit_case_figures(tpl.docx)
        out.parent.mkdir(parents=True, exist_ok=True)
        _save_with_tables(tpl, out, ctx["rendered"])
    return out


def _figure_width_mm(text: str, font_pt: float) -> float:
    """Width of a figure such as "230.403" in a Times-like font: digits half an em, separators a quarter."""
    em_mm = font_pt * 25.4 / 72
    return sum(em_mm * (0.5 if ch.isdigit() else 0.25) for ch in text)


def _fit_case_figures(doc: Any, floor_pt: float = 7.5, pad_mm: float = 1.25) -> None:
    """Bảng 2's figures never break inside a number: a year's province totals ("230.403", "1.234.567") do not
    fit the form's narrow columns at the template's size, and a cell showing "230.40" over "3" is a misread
    figure. The data rows' font shrinks (in half points, not below `floor_pt`) until the widest figure of
    each column fits its width; the header rows keep the template's size."""
    heading = CASE_COLUMN_DEFS[1].group   # the first column group of the form's header
    for table in doc.tables:
        if len(table.columns) != CASE_COLUMNS or heading not in table.rows[0].cells[2].text:
            continue
        widths = [col.width.mm if col.width is not None else 12.0 for col in table.columns]
        data_rows = [row for row in table.rows[3:]]
        runs = [run for row in data_rows for cell in row.cells for par in cell.paragraphs for run in par.runs]
        base = next((run.font.size.pt for run in runs if run.font.size is not None), 11.0)
        size = base
        while size > floor_pt and any(
                _figure_width_mm(cell.text.strip(), size) + pad_mm > widths[j]
                for row in data_rows for j, cell in enumerate(row.cells) if j >= 2 and cell.text.strip()):
            size -= 0.5
        if size < base:
            for run in runs:
                run.font.size = Pt(size)


def _keep_page_setup(doc: Any, template_sections: Sequence[Any]) -> None:
    """A section break inside a block the data left out (the appendix's `{%p if appendix %}`) disappears
    with it, and the document's last section settings (the appendix's landscape page) would then rule the
    pages before it. The last section of the rendered document takes back the settings (page set-up,
    headers, numbering) of the template section its content came from: with no appendix, the first one."""
    kept = len(doc.sections)
    if kept >= len(template_sections):
        return
    last = doc.element.body.find(qn("w:sectPr"))
    replacement = copy.deepcopy(template_sections[kept - 1])
    if last is None:
        doc.element.body.append(replacement)
    else:
        last.getparent().replace(last, replacement)


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

def to_pdf(docx: Path, out_dir: Path) -> Path | None:
    """Convert `docx` to PDF in `out_dir` with LibreOffice (`cchc_excel.documents.office`); None when LibreOffice
    (or the office module) is unavailable. A failed conversion raises `office.OfficeError`."""
    try:
        from cchc_excel.documents import office
    except ImportError:
        return None
    if not office.available():
        return None
    return office.convert(Path(docx), Path(out_dir), "pdf")


# --------------------------------------------------------------------------------------------
# template check
# --------------------------------------------------------------------------------------------

_DOCXTPL_PREFIX = re.compile(r"(\{[{%]-?)(?:p|tr|tc|r)\s+")
_BLOCK_TAG = re.compile(r"\{%-?(.*?)-?%\}", re.S)
_DOCXTPL_ONLY = frozenset({"colspan", "cellbg", "vm", "hm"})
_INNER_ONLY = frozenset({"elif", "else", "endif", "endfor", "endwith", "endmacro", "endblock", "endfilter",
                         "endcall", "endset", "endautoescape", "endraw", "break", "continue"})
_OPENERS = ("for", "if", "with", "filter", "macro", "call", "block", "autoescape")
_SHOWN = 80  # characters of a paragraph quoted in a message
# A docx main part, as [Content_Types].xml declares it (a .docm, .dotx or .xlsx declares another type).
_DOCX_MAIN = "wordprocessingml.document.main+xml"


@dataclass(frozen=True)
class _Place:
    """Where a finding is in the template: `index` among the document's paragraphs (body and table cells, in
    reading order; None in a header or footer, or when unknown) and the paragraph's text."""

    index: int | None
    text: str
    header: bool = False

    @property
    def label(self) -> str:
        if self.index is not None:
            return f"Đoạn {self.index}"
        return "Đầu trang/chân trang" if self.header else "Một đoạn"


def _at(code: str, place: _Place, file: str, **extra: Any) -> Problem:
    text = place.text.strip()
    shown = text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"
    return problem(code, file=file, cell=place.label, value=place.text, shown=shown, **extra)


def _syntax_problem(exc: jinja2.TemplateSyntaxError, place: _Place, file: str) -> Problem:
    """Classify jinja's (English) syntax error into one of the registry's codes."""
    detail = exc.message or str(exc)
    unknown = re.search(r"unknown tag '(\w+)'", detail)
    if unknown:
        tag = unknown.group(1)
        if tag.startswith("end") or tag in ("else", "elif"):
            return _at("template-block-unmatched", place, file, name=tag)
        return _at("template-tag-unknown", place, file, name=tag)
    low = detail.lower()
    innermost = re.search(r"block that needs to be closed is '(\w+)'", detail)
    if innermost and "end of template" in low:
        return _at("template-block-unclosed", place, file, name=innermost.group(1))
    if "unexpected end of template" in low:
        return _at("template-tag-unclosed", place, file)
    return _at("template-tag-invalid", place, file)


def _paragraph_syntax_problems(env: jinja2.Environment, place: _Place, file: str) -> Iterator[Problem]:
    """Errors jinja finds in one paragraph's text, judged on its own (loops may open here and close later)."""
    text = place.text
    if "{" not in text:
        return
    norm = _DOCXTPL_PREFIX.sub(r"\1 ", text)
    for m in _BLOCK_TAG.finditer(norm):
        inner = m.group(1).strip()
        word = inner.split()[0] if inner else ""
        if word in _DOCXTPL_ONLY or word in _INNER_ONLY:
            continue
        probe = f"{{% {inner} %}}{{% end{word} %}}" if word in _OPENERS else m.group(0)
        try:
            env.parse(probe)
        except jinja2.TemplateSyntaxError as exc:
            yield _syntax_problem(exc, place, file)
    rest = _BLOCK_TAG.sub("", norm)
    try:
        env.parse(rest)
    except jinja2.TemplateSyntaxError as exc:
        yield _syntax_problem(exc, place, file)


def _iter_paragraphs(doc: Any) -> Iterator[_Place]:
    """Every paragraph: body and nested table cells in reading order, then headers/footers."""
    w_p, w_t = qn("w:p"), qn("w:t")
    for i, p in enumerate(doc.element.body.iter(w_p)):
        yield _Place(i, "".join(t.text or "" for t in p.iter(w_t)))
    for section in doc.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            if part.is_linked_to_previous:
                continue
            for p in part._element.iter(w_p):
                yield _Place(None, "".join(t.text or "" for t in p.iter(w_t)), header=True)


def _unbalanced_blocks(paragraphs: Sequence[_Place], file: str) -> Iterator[Problem]:
    """Blocks opened and never closed, and closing tags with no opening one, paragraph by paragraph (the
    opening paragraph is named, not the end of the document where jinja notices)."""
    stack: list[tuple[_Place, str]] = []
    for place in paragraphs:
        if place.header or "{%" not in place.text:
            continue
        for m in _BLOCK_TAG.finditer(_DOCXTPL_PREFIX.sub(r"\1 ", place.text)):
            inner = m.group(1).strip()
            word = inner.split()[0] if inner else ""
            if word in _OPENERS:
                stack.append((place, word))
            elif word.startswith("end") and word[3:] in _OPENERS:
                if stack and stack[-1][1] == word[3:]:
                    stack.pop()
                else:
                    yield _at("template-block-unmatched", place, file, name=word)
    for place, word in stack:
        yield _at("template-block-unclosed", place, file, name=word)


def _locate(line_text: str, paragraphs: Sequence[_Place]) -> _Place:
    probe = re.sub(r"\s+", " ", _DOCXTPL_PREFIX.sub(r"\1 ", line_text)).strip()
    if probe:
        for place in paragraphs:
            norm = re.sub(r"\s+", " ", _DOCXTPL_PREFIX.sub(r"\1 ", place.text)).strip()
            if norm and (norm in probe or probe in norm):
                return place
    return _Place(None, line_text.strip())


def _path_index(value: Any, path: str, out: dict[int, str]) -> None:
    if isinstance(value, Mapping):
        out[id(value)] = path
        for k, v in value.items():
            _path_index(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list):
        out[id(value)] = path
        for i, v in enumerate(value):
            _path_index(v, f"{path}[{i}]", out)


def _missing_nested(tpl: DocxTemplate, context: Mapping[str, Any]) -> list[str]:
    """Fields the template reads that the context's objects lack (`report.subject`, `item4.tasks.summary`…),
    found by a dry run of the jinja source with an Undefined that records each miss."""
    ctx = _clean(context)
    _normalise_case_rows(ctx)
    ctx["rendered"] = {"charts": [{"image": "", "caption": c.get("caption", ""), "point": str(c.get("point") or "")}
                                  for c in ctx.get("charts") or []],
                       "indicator_table": "", "appendix_table": "", "followup_table": "",
                       "labels": _point_labels(ctx),
                       "draft": bool(placeholders_left(ctx))}
    paths: dict[int, str] = {}
    _path_index(ctx, "", paths)
    missing: dict[str, None] = {}

    class Recording(jinja2.ChainableUndefined):
        def __init__(self, hint: str | None = None, obj: Any = jinja2.utils.missing, name: str | None = None,
                     exc: type[jinja2.exceptions.TemplateRuntimeError] = jinja2.UndefinedError) -> None:
            super().__init__(hint, obj, name, exc)
            if name is not None and obj is not jinja2.utils.missing and id(obj) in paths:
                owner = re.sub(r"\[\d+\]", "[]", paths[id(obj)])
                if f"{owner}.{name}" not in OPTIONAL_FIELDS:
                    missing[f"{owner}.{name}"] = None

    dry = jinja2.Environment(autoescape=True, undefined=Recording)
    sources = [tpl.patch_xml(tpl.get_xml())]
    for _key, part in tpl.get_headers_footers(tpl.HEADER_URI):
        sources.append(tpl.patch_xml(tpl.get_part_xml(part)))
    for src in sources:
        dry.from_string(src).render(ctx)
    return list(missing)


def _unreadable(template: Path) -> Problem:
    """Why `template` does not open as a Word document: it is not a .docx at all (plain text, a PDF, an old
    .doc, a .docm or .dotx, a workbook), or it is a damaged one (a cut-off zip, a broken main part)."""
    file = str(template)
    try:
        with zipfile.ZipFile(template) as archive:
            types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError):
        with open(template, "rb") as fh:
            head = fh.read(4)
        return problem("template-damaged" if head.startswith(b"PK") else "template-not-docx", file=file)
    if _DOCX_MAIN not in types:
        return problem("template-not-docx", file=file)
    return problem("template-damaged", file=file)


def iter_template_problems(template: Path, context: Mapping[str, Any] | None = None) -> Iterator[Problem]:
    """What would stop `template` from rendering, as `Problem`s (codes `template-*`, see core/problems.py):
    a file that is not a .docx or is damaged; broken tags with the paragraph's number and text; blocks left
    open or closed twice; and, given a `context`, the fields the template uses that the context lacks."""
    template = Path(template)
    file = str(template)
    if not template.is_file():
        yield problem("path-missing", file=file)
        return
    try:
        doc = Document(file)
        tpl = DocxTemplate(file)
        tpl.init_docx()
        paragraphs = list(_iter_paragraphs(doc))
    except Exception:  # whatever python-docx raises, the finding is "this file does not open"
        yield _unreadable(template)
        return
    env = _make_env()
    found = [p for place in paragraphs for p in _paragraph_syntax_problems(env, place, file)]
    yield from found

    # the whole document as docxtpl sees it: catches loops/ifs left open across paragraphs
    sources = [tpl.patch_xml(tpl.get_xml())]
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _key, part in tpl.get_headers_footers(uri):
            sources.append(tpl.patch_xml(tpl.get_part_xml(part)))
    whole_ok = True
    for src in sources:
        src = re.sub(r"<w:p([ >])", r"\n<w:p\1", src)  # one paragraph a line, as docxtpl renders
        try:
            env.parse(src)
        except jinja2.TemplateSyntaxError as exc:
            whole_ok = False
            if found:
                continue  # already reported, paragraph by paragraph
            blocks = list(_unbalanced_blocks(paragraphs, file))
            if blocks:
                found.extend(blocks)
                yield from blocks
                continue
            lines = src.splitlines()
            line = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else ""
            finding = _syntax_problem(exc, _locate(re.sub(r"<[^>]+>", "", line), paragraphs), file)
            found.append(finding)
            yield finding

    if context is None or not whole_ok or found:
        return
    provided = set(context.keys()) | RENDERER_NAMES | OPTIONAL_TOP
    undeclared = tpl.get_undeclared_template_variables(jinja_env=_make_env(), context=dict(context))
    for name in sorted(set(undeclared) - provided):
        yield problem("template-field-missing", file=file, name=name)
    try:
        nested = _missing_nested(tpl, context)
    except Exception:  # data of the wrong shape (e.g. a number where a list is expected)
        yield problem("template-data-shape", file=file)
    else:
        for name in nested:
            yield problem("template-field-missing", file=file, name=name)


def check_template(template: Path, context: Mapping[str, Any] | None = None) -> list[Problem]:
    """All of `iter_template_problems(template, context)`; an empty list when the template renders."""
    return list(iter_template_problems(template, context))
