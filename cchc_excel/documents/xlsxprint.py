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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

FONT = "Times New Roman"
FONT_SIZE = 10
LINE_HEIGHT = 13.0          # points per line of 10 pt Times New Roman
FOOTER = '&C&"Times New Roman"&9Trang &P/&N'
PAPER_A4 = 9
_SAFE = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
         "nan_inf_to_errors": True}


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


class Sheet:
    """One worksheet: a title block, a header row repeated on every printed page, then rows whose height
    follows their wrapped text."""

    def __init__(self, book: Book, ws: Any, widths: Sequence[float], header_row: int) -> None:
        self.book, self.ws, self.widths = book, ws, list(widths)
        self.header_row = header_row
        self.row = header_row + 1

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
        """One data row; kinds: text, center, count, pct, bold. Returns the row index."""
        r = self.row
        texts = []
        for c, (value, kind) in enumerate(values):
            self.book.cell(self.ws, r, c, value, kind)
            if kind in ("text", "center", "bold", "error") and not is_blank(value):
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
        self.wb = xlsxwriter.Workbook(str(path), _SAFE)
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
        self.green = add({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.red = add({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.grey = add({"bg_color": "#EDEDED", "font_color": "#404040"})

    def sheet(self, name: str, title: str, columns: Sequence[tuple[str, float]], *, landscape: bool = True,
              subtitle: Sequence[str] = (), freeze: bool = True) -> Sheet:
        """A sheet with a title, optional subtitle lines, and a header row that repeats on every page."""
        ws = self.wb.add_worksheet(name[:31])
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
        return Sheet(self, ws, widths, header_row)

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
