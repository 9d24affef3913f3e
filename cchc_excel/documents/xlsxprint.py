"""Edge: an xlsxwriter workbook whose every sheet prints readably on A4 (the summary and the error workbook).

Each sheet: A4 (paper 9), landscape or portrait, fit to the page width only (as many pages tall as needed),
header rows repeated on every page, "Trang 1/3" in the footer, long text wrapped. Spreadsheet programs do
not grow the rows a library writes, so each row's height is set here from the wrapped text it holds.

xlsxwriter with strings_to_formulas/strings_to_numbers/strings_to_urls off, and every text written with
write_string: a note from a clerk that begins with "=", "+", "-" or "@" stays text, never a formula.
"""

from __future__ import annotations

import functools
import math
import threading
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

FONT = "Times New Roman"
FONT_SIZE = 10
LINE_HEIGHT = 13.0          # points per line of 10 pt Times New Roman
FOOTER = '&C&"Times New Roman"&9Trang &P/&N'
PAPER_A4 = 9
_SAFE = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
         "nan_inf_to_errors": True}
_MEASURED = frozenset({"text", "center", "bold", "error"})   # the kinds whose text sets a row's height
_STRMAX = 32767                                              # Excel's longest cell text, in UTF-16 units
# Deflate level of the workbook's parts. A national summary holds ~28 MB of XML: zlib's default (6) spent
# 0.48 s of CPU on it, level 3 0.18 s, for a file 12% larger (3.3 MB instead of 3.0 MB); the parts are the same.
ZIP_LEVEL = 3


def chars_per_line(width: float) -> float:
    """How many characters of 10 pt Times New Roman fit on one line of a column `width` wide (Excel's
    width unit is a digit of the default 11 pt font: 7 px + 5 px padding). Measured on LibreOffice's
    rendering, a line of Vietnamese text averages about 4.2 px a character; 5 px leaves room for Excel's
    wider rendering, so that a row is never too short."""
    return max(1.0, (width * 7 + 5 - 6) / 5.0)


def wrapped_lines(text: str, width: float) -> int:
    """Lines that `text` takes when wrapped at word boundaries in a column `width` wide."""
    text = str(text)
    per_line = chars_per_line(width)
    if len(text) <= per_line and "\n" not in text:
        return 1   # fits whole (most cells: numbers, codes, names); no need to walk its words
    return _wrapped_lines(text, per_line)


@functools.lru_cache(maxsize=65536)
def _wrapped_lines(text: str, per_line: float) -> int:
    """`wrapped_lines` for a text longer than a line (remembered: a summary repeats its texts by unit)."""
    lines = 0
    for para in str(text).split("\n"):
        n, used = 1, 0
        for word in para.split():
            size = len(word)
            if used and used + 1 + size > per_line:
                n, used = n + 1, 0
            if size > per_line:               # a long word (a file name) breaks on its own
                n += math.ceil(size / per_line) - 1
                used = size % int(per_line) or int(per_line)
            else:
                used += (1 if used else 0) + size
        lines += n
    return max(1, lines)


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is int:
        return False
    if kind is float:
        return value != value   # NaN; pd.isna per cell was a visible share of the summary
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _excel_text(text: str) -> str:
    """`text` cut to Excel's limit, as xlsxwriter's write_string cuts it."""
    if len(text) <= _STRMAX // 2:
        return text
    units = text.encode("utf-16-le")
    return text if len(units) <= 2 * _STRMAX else units[:2 * _STRMAX].decode("utf-16-le", "ignore")


class _Worksheet(Worksheet):
    """xlsxwriter's worksheet, plus data rows handed over as ready XML (`Sheet.write`), each a whole
    `<row>` with its height. xlsxwriter keeps writing everything else (titles, headers, merged bands, page
    set-up, charts, filters); when it assembles the sheet, its own rows and the given ones are interleaved
    in row order. (A sheet whose rows feed a native chart keeps xlsxwriter's cells: `Sheet.charted`.)"""

    def __init__(self) -> None:
        super().__init__()
        self.rows_xml: dict[int, str] = {}
        self._row_tags: dict[int, str] = {}

    def row_tag(self, lines: int) -> str:
        """The `<row>` start tag of a row `lines` text lines tall, as xlsxwriter's set_row + _write_row
        write it ("{r}" left for the row number)."""
        tag = self._row_tags.get(lines)
        if tag is None:
            pixels = int((LINE_HEIGHT * lines + 4) * 4.0 / 3.0 + 0.5)
            if pixels == self.original_row_height == self.default_row_height:
                tag = '<row r="{r}">'
            else:
                tag = f'<row r="{{r}}" ht="{pixels * 0.75:.16g}" customHeight="1">'
            tag = self._row_tags[lines] = tag
        return tag

    def add_row_xml(self, row: int, last_col: int, xml: str) -> None:
        if self._check_dimensions(row, max(last_col, 0)) or (self.dim_colmin != 0 and self._check_dimensions(row, 0)):
            raise ValueError(f"row {row + 1} is outside the worksheet")
        self.rows_xml[row] = xml

    def _write_rows(self) -> None:
        given = self.rows_xml
        if not given:
            super()._write_rows()
            return
        low, high = self.dim_rowmin, self.dim_rowmax
        start = low
        write = self.fh.write
        try:
            for row in sorted(given):
                if row > start:                 # xlsxwriter's own rows before this one
                    self.dim_rowmin, self.dim_rowmax = start, row - 1
                    super()._write_rows()
                write(given[row])
                start = row + 1
            if start <= high:
                self.dim_rowmin, self.dim_rowmax = start, high
                super()._write_rows()
        finally:
            self.dim_rowmin, self.dim_rowmax = low, high


class _LevelZip(zipfile.ZipFile):
    """The zip file xlsxwriter writes the package into, deflating at `ZIP_LEVEL` (xlsxwriter has no option
    for it; its in-memory parts come as `ZipInfo`s, whose level `writestr` would otherwise leave at zlib's
    default)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", ZIP_LEVEL)
        super().__init__(*args, **kwargs)

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: int | None = None,
                 compresslevel: int | None = None) -> None:
        super().writestr(zinfo_or_arcname, data, compress_type,
                         self.compresslevel if compresslevel is None else compresslevel)


_STORE_LOCK = threading.Lock()


class _Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook, its package zipped by `_LevelZip`. xlsxwriter names the class it zips with
    in its module: that name points at ours while this workbook is stored (a lock keeps two stores in
    threads from mixing; other workbooks are not affected once it returns)."""

    def _store_workbook(self) -> None:
        with _STORE_LOCK:
            saved = xlsxwriter.workbook.ZipFile
            xlsxwriter.workbook.ZipFile = _LevelZip  # type: ignore[misc]
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = saved  # type: ignore[misc]


class _Column:
    """A column of a sheet: its letter, width, the wrapped line count of each text it has held, and each
    text's cell XML after the cell reference (the same text recurs down a column: a unit's name on each of its
    indicators' rows, an indicator's name on every unit's row)."""

    __slots__ = ("letter", "head", "width", "blank_xf", "known", "texts")

    def __init__(self, index: int, width: float, blank_xf: int) -> None:
        self.letter, self.width, self.blank_xf = xl_col_to_name(index), width, blank_xf
        self.head = f'<c r="{self.letter}'
        self.known: dict[str, int] = {}      # text -> wrapped lines
        self.texts: dict[str, tuple[str, str, int]] = {}   # text -> (kind, XML after the reference, lines)

    def blank(self, ref: str) -> str:
        return f'<c r="{self.letter}{ref}" s="{self.blank_xf}"/>'

    def lines(self, text: str) -> int:
        n = self.known.get(text)
        if n is None:
            n = self.known[text] = wrapped_lines(text, self.width)
        return n


class Sheet:
    """One worksheet: a title block, a header row repeated on every printed page, then rows whose height
    follows their wrapped text."""

    def __init__(self, book: Book, ws: Any, widths: Sequence[float], header_row: int, *,
                 charted: bool = False) -> None:
        self.book, self.ws, self.widths = book, ws, list(widths)
        self.charted = charted
        self.header_row = header_row
        self.row = header_row + 1
        self.columns = [_Column(c, w, book.xf["text"]) for c, w in enumerate(self.widths)]

    @property
    def ncols(self) -> int:
        return len(self.widths)

    def span_width(self, first: int = 0, last: int | None = None) -> float:
        last = self.ncols - 1 if last is None else last
        return sum(self.widths[first:last + 1])

    def fit_height(self, row: int, texts: Sequence[tuple[str, float]], *, min_lines: int = 1) -> None:
        lines = max([min_lines, *(wrapped_lines(t, w) for t, w in texts if t)])
        self.ws.set_row(row, LINE_HEIGHT * lines + 4)

    def write(self, values: Sequence[tuple[Any, str]]) -> int:
        """One data row; kinds: text, center, count, pct, bold. Returns the row index.

        The row goes to the sheet as ready-made XML (`_Worksheet.rows_xml`): the same cells, shared strings,
        formats and height that xlsxwriter's write_* and set_row would give, without its per-cell
        bookkeeping (a national summary has 700,000 cells). The height follows the wrapped texts, each
        text's line count computed once per column (`_Column.lines`)."""
        self.write_rows(([value for value, _ in values],), [kind for _, kind in values])
        return self.row - 1

    def write_rows(self, rows: Iterable[Sequence[Any]], kinds: Sequence[str]) -> None:
        """Data rows whose cells are of `kinds` (one a column), as `write` writes each: a long table's rows
        without a (value, kind) pair per cell, and with what every row looks up looked up once."""
        columns = self.columns
        if self.charted or len(kinds) > len(columns):
            for values in rows:
                self._write_cells(list(zip(values, kinds, strict=False)))
            return
        book, ws = self.book, self.ws
        xf, strings, text_xf, str_table = book.xf, book.strings, book.xf["text"], book.str_table
        specs = [(col, kind, kind == "count" or kind == "pct") for col, kind in zip(columns, kinds, strict=False)]
        for values in rows:
            r = self.row
            ref = str(r + 1)
            cells = []
            lines = 1
            for (col, kind, numeric), value in zip(specs, values, strict=False):  # fewer values: a shorter row
                if value is None:
                    cells.append(col.blank(ref))
                    continue
                of = type(value)
                if numeric:
                    if (of is float and value != value) or (of is not float and of is not int and is_blank(value)):
                        cells.append(col.blank(ref))
                        continue
                    number = float(value) if kind == "count" else round(float(value), 2)
                    if not math.isfinite(number):     # xlsxwriter writes it as an error value (#NUM!)
                        self._write_cells(list(zip(values, kinds, strict=False)))
                        break
                    cells.append(f'<c r="{col.letter}{ref}" s="{xf[kind]}"><v>{number:.16G}</v></c>')
                    continue
                if of is not str:
                    if is_blank(value):
                        cells.append(col.blank(ref))
                        continue
                    value = str(value)
                known = col.texts.get(value)
                if known is not None and known[0] == kind:   # a text this column has written: in the table already
                    str_table.count += 1
                else:
                    index = strings.get(value)
                    if index is None:
                        index = book.string_index(value)
                    else:
                        str_table.count += 1
                    known = col.texts[value] = (kind, f'" s="{xf.get(kind, text_xf)}" t="s"><v>{index}</v></c>',
                                                col.lines(value) if kind in _MEASURED and value else 1)
                cells.append(col.head + ref + known[1])
                if known[2] > lines:
                    lines = known[2]
            else:
                ws.add_row_xml(r, len(cells) - 1, ws.row_tag(lines).replace("{r}", ref) + "".join(cells) + "</row>")
                self.row += 1

    def _write_cells(self, values: Sequence[tuple[Any, str]]) -> int:
        """`write` through xlsxwriter's cells: a native chart takes its cached values from them."""
        r = self.row
        texts = []
        for c, (value, kind) in enumerate(values):
            self.book.cell(self.ws, r, c, value, kind)
            if kind in _MEASURED and not is_blank(value):
                texts.append((str(value), self.widths[c]))
        self.fit_height(r, texts)
        self.row += 1
        return r

    def band(self, text: str, kind: str = "band", *, first: int = 0, last: int | None = None) -> int:
        """A line of text across the columns (a block heading, a note)."""
        last = self.ncols - 1 if last is None else last
        r = self.row
        fmt = self.book.fmt[kind]
        if last > first:
            self.ws.merge_range(r, first, r, last, "", fmt)
        self.ws.write_string(r, first, text, fmt)
        self.fit_height(r, [(text, self.span_width(first, last) * (0.9 if kind.startswith("band") else 1.0))])
        self.row += 1
        return r

    def pair(self, label: str, text: str, *, split: int = 3) -> int:
        """A labelled line: `label` across the first `split` columns, `text` across the rest."""
        r = self.row
        for first, last, value, kind in ((0, split - 1, label, "label"), (split, self.ncols - 1, text, "note_plain")):
            if last > first:
                self.ws.merge_range(r, first, r, last, "", self.book.fmt[kind])
            self.ws.write_string(r, first, value, self.book.fmt[kind])
        self.fit_height(r, [(label, self.span_width(0, split - 1)), (text, self.span_width(split))])
        self.row += 1
        return r

    def empty(self, text: str) -> int:
        """What a sheet with nothing to show says instead of an empty grid."""
        return self.band(text, "empty")

    def skip(self, n: int = 1) -> None:
        self.row += n


class Book:
    """An xlsxwriter workbook with the formats both workbooks use and A4 page setup on every sheet."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.wb = _Workbook(str(path), _SAFE)
        base = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "top"}
        add = self.wb.add_format
        self.fmt: dict[str, Any] = {
            "title": add({**base, "bold": True, "font_size": 13, "text_wrap": True, "valign": "vcenter"}),
            "subtitle": add({**base, "italic": True, "text_wrap": True}),
            "header": add({**base, "bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True,
                           "align": "center", "valign": "vcenter"}),
            "text": add({**base, "border": 1, "text_wrap": True}),
            "center": add({**base, "border": 1, "text_wrap": True, "align": "center"}),
            "bold": add({**base, "border": 1, "text_wrap": True, "bold": True}),
            "error": add({**base, "border": 1, "text_wrap": True, "bold": True, "font_color": "#9C0006"}),
            "count": add({**base, "border": 1, "num_format": "#,##0"}),
            "pct": add({**base, "border": 1, "num_format": "0.00"}),
            "band": add({**base, "bold": True, "border": 1, "text_wrap": True, "bg_color": "#F2F2F2"}),
            "band_bad": add({**base, "bold": True, "border": 1, "text_wrap": True, "bg_color": "#FFC7CE"}),
            "band_warn": add({**base, "bold": True, "border": 1, "text_wrap": True, "bg_color": "#FFEB9C"}),
            "note": add({**base, "italic": True, "border": 1, "text_wrap": True}),
            "note_plain": add({**base, "border": 1, "text_wrap": True}),
            "label": add({**base, "border": 1, "text_wrap": True, "align": "right"}),
            "plain": add({**base, "text_wrap": True}),
            "empty": add({**base, "italic": True, "border": 1, "text_wrap": True, "align": "center",
                          "font_color": "#595959"}),
        }
        # xf indices for the cell XML of `Sheet.write` (xlsxwriter gives a format its index on first use)
        self.xf = {kind: f._get_xf_index() for kind, f in self.fmt.items()}
        self.str_table = self.wb.str_table
        self.strings: dict[str, int] = self.str_table.string_table   # text -> shared-string index
        self.green = add({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.red = add({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.grey = add({"bg_color": "#EDEDED", "font_color": "#404040"})

    def sheet(self, name: str, title: str, columns: Sequence[tuple[str, float]], *, landscape: bool = True,
              subtitle: Sequence[str] = (), freeze: bool = True, charted: bool = False) -> Sheet:
        """A sheet with a title, optional subtitle lines, and a header row that repeats on every page.
        `charted`: its rows feed a native chart (written as xlsxwriter cells, whose values the chart caches)."""
        ws = self.wb.add_worksheet(name[:31], worksheet_class=_Worksheet)
        widths = [w for _, w in columns]
        total = sum(widths)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        last = len(columns) - 1
        row = 0
        for text, kind in [(title, "title"), *[(s, "subtitle") for s in subtitle]]:
            if last > 0:
                ws.merge_range(row, 0, row, last, "", self.fmt[kind])
            ws.write_string(row, 0, text, self.fmt[kind])
            per = LINE_HEIGHT * (1.35 if kind == "title" else 1.0)
            ws.set_row(row, per * wrapped_lines(text, total * (0.75 if kind == "title" else 0.95)) + 4)
            row += 1
        header_row = max(2, row)          # data from row 4, as before: a blank row under a lone title
        header_lines = 1
        for c, (label, width) in enumerate(columns):
            ws.write_string(header_row, c, label, self.fmt["header"])
            header_lines = max(header_lines, wrapped_lines(label, width * 0.9))
        ws.set_row(header_row, LINE_HEIGHT * header_lines + 6)
        if freeze:
            ws.freeze_panes(header_row + 1, 0)
        self.page_setup(ws, header_row, landscape=landscape)
        return Sheet(self, ws, widths, header_row, charted=charted)

    @staticmethod
    def page_setup(ws: Any, header_row: int | None, *, landscape: bool = True) -> None:
        ws.set_paper(PAPER_A4)
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(1, 0)             # one page wide, as many tall as needed
        ws.set_margins(left=0.5, right=0.4, top=0.55, bottom=0.6)
        ws.set_footer(FOOTER, {"margin": 0.25})
        ws.center_horizontally()
        if header_row is not None:
            ws.repeat_rows(header_row, header_row)

    def string_index(self, text: str) -> int:
        """The shared-string index of `text`, as xlsxwriter's write_string takes it."""
        return self.str_table._get_shared_string_index(_excel_text(text))

    def cell(self, ws: Any, r: int, c: int, value: Any, kind: str = "text") -> None:
        if is_blank(value):
            ws.write_blank(r, c, None, self.fmt["text"])
        elif kind == "count":
            ws.write_number(r, c, float(value), self.fmt["count"])
        elif kind == "pct":
            ws.write_number(r, c, round(float(value), 2), self.fmt["pct"])
        else:
            ws.write_string(r, c, str(value), self.fmt.get(kind, self.fmt["text"]))  # always text

    def status_format(self, ws: Any, first_row: int, last_row: int, col: int,
                      colours: Sequence[tuple[str, str]]) -> None:
        """Colour a status column: (text, "green" | "red" | "grey")."""
        if last_row < first_row:
            return
        for text, colour in colours:
            ws.conditional_format(first_row, col, last_row, col, {
                "type": "cell", "criteria": "==", "value": f'"{text}"', "format": getattr(self, colour)})

    def close(self) -> None:
        self.wb.close()
