"""The report's faster paths (issue 17) give what the plain ones gave: the follow-up notes' unit order, the
code-built tables' font and widths, the summary rows' shared strings and the summary's imports."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cchc_excel.documents import report
from cchc_excel.documents.xlsxprint import Book


def _reference_font(columns: list[str], rows: list[list[str]], total_mm: float, base_pt: float) -> float:
    """`_table_font` as it measured before (every cell again for each size tried)."""
    def minimum(head: str, cells: list[str], font_pt: float) -> float:
        em_mm = font_pt * 25.4 / 72
        head_word = max((len(w) for w in head.split()), default=1)
        cell_word = max((len(w) for t in cells for w in t.split()), default=1)
        short_cell = max((len(t) for t in cells if len(t) <= 14), default=0)
        return max(max(head_word * em_mm * 0.62, cell_word * em_mm * 0.55) + 2.2, short_cell * em_mm * 0.55 + 2.2)

    cells = [(str(h), list(dict.fromkeys(str(r[j]) for r in rows if j < len(r)))) for j, h in enumerate(columns)]
    size = float(base_pt)
    while size > 9 and sum(minimum(h, c, size) for h, c in cells) > total_mm * 0.88:
        size -= 0.5
    return size


def _reference_widths(columns: list[str], rows: list[list[str]], total_mm: float, font_pt: float) -> list[float]:
    em_mm = font_pt * 25.4 / 72
    char_mm, bold_mm = em_mm * 0.55, em_mm * 0.62
    mins, wants = [], []
    for j, head in enumerate(columns):
        cells = list(dict.fromkeys(str(r[j]) for r in rows if j < len(r)))
        head_word = max((len(w) for w in head.split()), default=1)
        cell_word = max((len(w) for t in cells for w in t.split()), default=1)
        short_cell = max((len(t) for t in cells if len(t) <= 14), default=0)
        lo = max(max(head_word * em_mm * 0.62, cell_word * em_mm * 0.55) + 2.2, short_cell * char_mm + 2.2)
        longest = max((len(t) for t in cells), default=0)
        want = max(min(longest, 45) * char_mm + 2.2, len(head) * bold_mm / 2 + 2.2, lo)
        mins.append(lo)
        wants.append(want)
    sum_min, sum_want = sum(mins), sum(wants)
    if sum_want <= total_mm:
        return [w + (total_mm - sum_want) * w / sum_want for w in wants]
    if sum_min >= total_mm:
        return [m * total_mm / sum_min for m in mins]
    share = (total_mm - sum_min) / (sum_want - sum_min)
    return [m + (w - m) * share for m, w in zip(mins, wants, strict=True)]


@pytest.mark.parametrize("seed", range(8))
def test_table_font_and_widths_measure_each_column_once_with_the_same_result(seed: int) -> None:
    rng = random.Random(seed)
    words = ["UBND", "xã", "Phước", "Hòa", "Sở", "Thông", "tin", "và", "Truyền", "thông", "74,19*", "100,00",
             "33,84*†", "KPS", "x", "-", "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận"]
    ncols = rng.randint(3, 14)
    columns = ["STT", "Đơn vị", *[f"CT {i}" for i in range(1, ncols - 1)]]
    rows = [[str(n), *[" ".join(rng.choices(words, k=rng.randint(0, 4))) for _ in range(rng.randint(1, ncols - 1))]]
            for n in range(1, rng.randint(2, 60))]
    total = rng.choice([150.0, 160.0, 247.0])
    font = report._table_font(columns, rows, total, 13)
    assert font == _reference_font(columns, rows, total, 13)
    assert report._column_widths(columns, rows, total, font_pt=font) == _reference_widths(columns, rows, total, font)
    marks = [max((report._marks(str(r[j])) for r in rows if j < len(r)), default=0) for j in range(len(columns))]
    assert [c.marks for c in report._column_texts(columns, rows)] == marks


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: re.sub(r' spans="[^"]*"', "", z.read(n).decode("utf-8")) for n in z.namelist()
                if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"}


def test_summary_rows_number_new_texts_as_xlsxwriter_does(tmp_path: Path) -> None:
    """A column's texts remembered with their shared-string index: new texts (first seen in a later column of
    an earlier row), the same text in two kinds, a text beyond Excel's limit, all as xlsxwriter writes them."""
    columns = [("Mã", 8), ("Đơn vị", 20), ("Ghi chú", 30), ("Số", 9)]
    long = "Một ghi chú rất dài " * 2000
    rows = [[(f"T{i % 3}", "text"), (["Sở Tư pháp", "T1", long][i % 3], "text" if i % 2 else "center"),
             (["T2", "", None, "Sở Tư pháp"][i % 4], "text"), (i, "count")] for i in range(12)]
    made = {}
    for charted in (True, False):
        path = tmp_path / f"{charted}.xlsx"
        book = Book(path)
        try:
            sh = book.sheet("A", "TIÊU ĐỀ", columns, charted=charted)
            for row in rows:
                sh.write(row)
        finally:
            book.close()
        made[charted] = _parts(path)
    assert made[False] == made[True]


def test_summary_module_leaves_the_store_and_reader_unimported() -> None:
    code = ("import sys; import cchc_excel.documents.summary as s; "
            "assert 'sqlalchemy' not in sys.modules and 'cchc_excel.documents.errorbook' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
