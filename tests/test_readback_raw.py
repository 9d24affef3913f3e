"""The reader's raw layer: cell positions from calamine, number formats from the sheet parts."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl

from cchc_excel.workbook import readback as R
from cchc_excel.workbook.safety import Limits, inspect, parse_ref


def _book(cells: dict[str, dict[str, object]], formats: dict[tuple[str, str], str] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, values in cells.items():
        ws = wb.create_sheet(sheet)
        for ref, value in values.items():
            ws[ref] = value
    for (sheet, ref), code in (formats or {}).items():
        wb[sheet][ref].number_format = code
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_sheet_values_keep_their_addresses_when_the_first_rows_and_columns_are_empty() -> None:
    """calamine starts a sheet at its first used cell: B3 must still be read as B3 (row 2, column 1)."""
    data = _book({"a": {"B3": 3, "B4": 4, "D9": "x"}, "b": {"A1": "top", "C2": 5}})
    sheets = R._read_sheets(data, Limits())
    assert sheets["a"][2][1] == 3 and sheets["a"][3][1] == 4 and sheets["a"][8][3] == "x"
    assert sheets["a"][0] == ["", "", "", ""] and sheets["b"][1][2] == 5 and sheets["b"][0][0] == "top"


def test_rows_read_are_counted_from_the_first_used_row() -> None:
    data = _book({"a": {f"B{r}": r for r in range(5, 40)}})
    rows = R._read_sheets(data, Limits(max_rows_read=10))["a"]
    assert len(rows) == 4 + 10 and rows[4][1] == 5 and rows[13][1] == 14


def _formats(data: bytes, wanted: dict[str, set[str]]) -> dict[tuple[str, int, int], str]:
    """The formats of the cells named in A1 (the reader asks by (row, col))."""
    cells = {sheet: {parse_ref(f"x!{ref}")[1:3] for ref in refs} for sheet, refs in wanted.items()}
    return R._cell_formats(data, cells, inspect("x.xlsx", data).parts)


def test_number_formats_found_for_percent_and_date_cells_only() -> None:
    data = _book({"s": {"A1": 0.5, "B2": 45000, "C3": 7, "D4": 8}},
                 {("s", "A1"): "0.00%", ("s", "B2"): "dd/mm/yyyy", ("s", "C3"): "#,##0"})
    found = _formats(data, {"s": {"A1", "B2", "C3", "D4"}})
    assert found == {("s", 0, 0): "0.00%", ("s", 1, 1): "dd/mm/yyyy"}
    assert [R.format_meaning(found.get(k, "")) for k in [("s", 0, 0), ("s", 1, 1), ("s", 2, 2), ("s", 3, 3)]] == [
        "percent", "date", "", ""]
    assert _formats(data, {"s": {"C3"}}) == {} and _formats(data, {"other": {"A1"}}) == {}


def _rewrite_sheet(data: bytes, change: object) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                body = change(body)  # type: ignore[operator]
            dst.writestr(info.filename, body)
    return out.getvalue()


def test_number_formats_found_whatever_the_attribute_order_quotes_or_prefix() -> None:
    """Writers other than Excel put the style before the reference, use single quotes, or prefix the
    elements with a namespace: the percent cell is still found."""
    data = _book({"s": {"A1": 0.5, "B2": 3}}, {("s", "A1"): "0%"})
    cell = re.compile(rb'<c r="A1" s="(\d+)"')
    variants = [
        lambda b: cell.sub(rb'<c s="\1" r="A1"', b),
        lambda b: cell.sub(rb"<c r='A1' s='\1'", b),
        lambda b: cell.sub(rb'<c\n r="A1" s="\1"', b),
        lambda b: re.sub(rb"<(/?)(worksheet|sheetData|row|c|v)\b", rb"<\1x:\2", b).replace(
            b"<x:worksheet xmlns=", b"<x:worksheet xmlns:x="),
    ]
    for change in variants:
        changed = _rewrite_sheet(data, change)
        assert _formats(changed, {"s": {"A1", "B2"}}) == {("s", 0, 0): "0%"}, change(
            zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml"))
