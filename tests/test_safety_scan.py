"""The guard's scan of a small part held whole (`_scan_whole`, searches that find nothing in an ordinary
part) refuses exactly what the full scan (`_scan`, every cell matched) refuses, with the same message."""

from __future__ import annotations

import random

import pytest

from cchc_excel.workbook import safety as S

TOKENS = [
    '<c r="A1"><v>1</v></c>', '<c r="B7" s="3" t="s"><v>2</v></c>', '<c r="ZZ999"><v>1</v></c>', '<c r="ZZ999"/>',
    '<c r="AAA1"><v>1</v></c>', '<c r="A1000"><v>1</v></c>', '<c r="AB1234" s="1"/>', '<c r="XFD1048576"><v>1</v></c>',
    '<c r="C99999"><v>1</v></c>', '<c r="C100001"><v>1</v></c>', '<c r="D5000"><v>x</v></c>', '<c r="a1"><v>1</v></c>',
    '<c s="1" r="B2"><v>1</v></c>', '<c s="1" r="XFD99999"><v>1</v></c>', '<c><v>1</v></c>', '<c/>', "<c>",
    '<c\tr="A1"><v>1</v></c>', '<c  r="Q9"><v>1</v></c>', '<c r=\'E10\'><v>1</v></c>', '<c r="A0"><v>1</v></c>',
    '<c r="A1234567890"><v>1</v></c>', '<x:c r="XFD1048576"><v>1</v></x:c>', '<row r="5">', "</row>", "<row>",
    '<row r="200000">', '<cols><col min="1" max="3"/></cols>', '<cfRule type="x"/>', '<color rgb="1"/>',
    '<sst count="123" uniqueCount="7">', '<mergeCells count="99999999999">', ' uniqueCount="1000000"',
    'xcount="99999999"', '<x count = \'4000000\'/>', "<!DOCTYPE x>", "<!ENTITY e 'x'>", "<!-- note! -->",
    "<![CDATA[<c r=\"XFD1\">]]>", "<t>Đạt! 100%</t>", "!", "<", ">", '"', "A", "9", " ", "\n",
]
HEADS = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet><sheetData>',
         "<worksheet>", '<?xml version="1.0" encoding="windows-1252"?><worksheet>', "\ufeff<w>", "plain text ",
         "\x00<\x00w\x00>"]


def _verdict(fn: object, total: int, limits: S.Limits) -> object:
    """What `_inspect_zip` concludes from a part's scan: a refusal (code, detail) or None."""
    try:
        scan = fn()  # type: ignore[operator]
    except S._Refused as exc:
        return exc.code, exc.detail
    if scan.max_count > total:
        return "count", scan.max_count
    rows, cols = scan.extent
    if rows > limits.max_sheet_rows:
        return "rows", rows
    if rows * cols > limits.max_sheet_cells:
        return "cells", rows, cols
    return None


@pytest.mark.parametrize("limits", [S.Limits(), S.Limits(max_sheet_rows=5000, max_sheet_cells=800_000),
                                    S.Limits(max_sheet_rows=500)], ids=["default", "tight", "below-near"])
def test_whole_part_scan_refuses_what_the_full_scan_refuses(limits: S.Limits) -> None:
    rng = random.Random(17)
    refused = 0
    for i in range(4000):
        name = rng.choice(["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/media/image1.bin", "docProps/x"])
        body = rng.choice(HEADS) + "".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 12)))
        buf = body.encode("utf-8")
        total = rng.choice([500, 132_432, 10**7, 10**9])
        whole = _verdict(lambda: S._scan_whole(name, buf, total, limits), total, limits)  # noqa: B023
        full = _verdict(lambda: S._scan(name, iter([buf])), total, limits)  # noqa: B023
        assert whole == full, (i, name, buf, total)
        refused += whole is not None
    assert refused > 1000   # the cases exercise the refusals, not only clean parts


def test_an_ordinary_form_sheet_takes_the_quick_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sheet as Excel writes it is not handed to the per-cell scan."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData>'
             + "".join(f'<row r="{r}"><c r="A{r}" s="1" t="s"><v>{r}</v></c><c r="B{r}"/></row>' for r in range(1, 300))
             + '</sheetData><mergeCells count="2"/></worksheet>').encode()

    def fail(*_: object) -> None:
        raise AssertionError("per-cell scan used")

    monkeypatch.setattr(S, "_scan", fail)
    scan = S._scan_whole("xl/worksheets/sheet1.xml", sheet, 100_000, S.Limits())
    assert scan.xml and scan.max_count == 0
