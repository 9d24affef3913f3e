"""The summary's data rows are written as ready XML (`xlsxprint.Sheet.write`); they must be the very cells,
shared strings, formats and heights that xlsxwriter's own write_* and set_row give (`charted` sheets keep
xlsxwriter's cells, so the two paths are compared sheet against sheet)."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from cchc_excel.documents.xlsxprint import Book

COLUMNS = [("Mã", 8), ("Đơn vị", 20), ("Số", 9), ("Tỷ lệ", 8), ("Ghi chú", 30)]
ROWS = [
    [("T01", "text"), ("UBND xã Phước Hòa", "text"), (12, "count"), (78.456, "pct"), ("=1+1", "text")],
    [(None, "text"), (float("nan"), "text"), (np.int64(1234567), "count"), (np.float64(0.005), "pct"),
     ("  lề trái và phải  ", "center")],
    [(pd.NA, "center"), ("Một ghi chú rất dài " * 12, "text"), (None, "count"), (float("nan"), "pct"),
     ("dòng một\ndòng hai\ndòng ba", "bold")],
    [(7, "center"), ("UBND xã Phước Hòa", "error"), (np.nan, "count"), (pd.NA, "pct"), ("", "text")],
    [("+84 912", "text"), ("@tên", "note"), (3.0, "count"), (100, "pct")],
]


def _sheet_xml(path: Path, n: int) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read(f"xl/worksheets/sheet{n}.xml").decode("utf-8")
    xml = re.sub(r' spans="[^"]*"', "", xml)   # an optional hint, per 16-row block
    return xml.replace(' tabSelected="1"', "")    # the first sheet is the selected one


def test_rows_as_xml_are_the_cells_xlsxwriter_writes(tmp_path: Path) -> None:
    path = tmp_path / "rows.xlsx"
    book = Book(path)
    try:
        for charted in (True, False):
            sh = book.sheet("A" if charted else "B", "TIÊU ĐỀ", COLUMNS, subtitle=["Ghi chú"], charted=charted)
            for i, row in enumerate(ROWS):
                sh.write(row)
                if i == 2:
                    sh.band("Một dòng chen giữa các hàng")
            sh.empty("Hết.")
    finally:
        book.close()
    assert _sheet_xml(path, 2) == _sheet_xml(path, 1)
    ws = load_workbook(path)["B"]
    assert ws["E4"].value == "=1+1" and ws["E4"].data_type == "s"
    assert ws["C5"].value == 1234567 and math.isclose(ws["D5"].value, 0.01)
    assert ws.row_dimensions[6].height > ws.row_dimensions[4].height


def test_a_value_excel_cannot_hold_falls_back_to_xlsxwriter(tmp_path: Path) -> None:
    path = tmp_path / "inf.xlsx"
    book = Book(path)
    try:
        for charted in (True, False):
            sh = book.sheet("A" if charted else "B", "TIÊU ĐỀ", COLUMNS, charted=charted)
            sh.write([("x", "text"), ("y", "text"), (float("inf"), "count"), (1.5, "pct"), ("z", "text")])
    finally:
        book.close()
    assert _sheet_xml(path, 2) == _sheet_xml(path, 1)
