"""`cchc demo` end to end on the bundled samples: a whole year across the 2025 change of units, every output
exists and holds the samples' figures, recomputed here straight from the sample files."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from cchc_excel.app.cli import app
from cchc_excel.core.problems import FIXES
from cchc_excel.core.vntext import format_percent
from tests.lo import HAVE_LIBREOFFICE, HAVE_POPPLER, pdf_text

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "ninh-thuan-2025"
# March's rejected communes (samples/README.md, "Deliberate mistakes in March"): not in any figure.
REJECTED_MARCH = {"2025-03_22786_xa-phuoc-hoa.xlsx", "2025-03_22855_xa-tan-hai.xlsx"}


def cells(path: Path, *names: str) -> dict[str, str | None]:
    """The values at defined names, read from the workbook's XML with nothing of the library: an independent
    path to the figures the reports must print."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        sheets = dict(re.findall(r'<sheet name="([^"]+)"[^>]*? r:id="(rId\d+)"', book))
        targets = dict(re.findall(r'Id="(rId\d+)"[^>]*? Target="([^"]+)"', rels))
        out: dict[str, str | None] = {}
        for name in names:
            ref = re.search(rf'<definedName name="{name}"[^>]*>([^<]*)<', book).group(1)
            sheet, cell = ref.rsplit("!", 1)
            xml = z.read("xl/" + targets[sheets[sheet.strip("'")]].removeprefix("/xl/")).decode("utf-8")
            m = re.search(rf'<c r="{cell.replace("$", "")}"[^>]*?(?:/>|>(.*?)</c>)', xml)
            inner = (m.group(1) or "") if m else ""
            value = re.search(r"<(?:v|t)[^>]*>([^<]*)<", inner)
            out[name] = value.group(1) if value else None
    return out


def online_share(files: list[Path]) -> float:
    """Indicator 3 (online share) pooled over `files`: the numerators summed over the denominators summed."""
    num = den = 0.0
    for path in files:
        got = cells(path, "CT_3_TU", "CT_3_MAU")
        num += float(str(got["CT_3_TU"]).replace(".", ""))
        den += float(str(got["CT_3_MAU"]))
    assert den > 0, "no files"
    return num / den * 100


def commune_files(nop: Path, months: list[str]) -> list[Path]:
    """The accepted commune (xã, phường: five-digit code) files of `months`."""
    return [p for m in months for p in sorted((nop / m).glob(f"{m}_?????_*.xlsx"))
            if p.name.split("_")[1].isdigit() and p.name not in REJECTED_MARCH]


def text_of(path: str) -> str:
    document = docx.Document(path)
    cells_text = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells_text)


def test_the_committed_months_are_those_the_guides_name() -> None:
    assert sorted(p.name for p in (SAMPLES / "nop").iterdir()) == ["2025-01", "2025-02", "2025-03"]
    receipts = (SAMPLES / "nop" / "2025-03" / "so-nhan.csv").read_text(encoding="utf-8")
    # 15/03/2025 is a Saturday: due Monday 17/03; the sample's late units arrive after it.
    for code in ("SKHCN", "22813", "22852"):
        when = re.search(rf"2025-03_{code}_[^,]*\.xlsx,(\S+)", receipts).group(1)
        assert when > "2025-03-18", (code, when)


@pytest.mark.slow
def test_demo_runs_the_year_across_the_change_and_writes_every_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--json"])
    assert result.exit_code == 0, result.stdout + str(result.exception)
    out = json.loads(result.stdout)["result"]
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    assert out["months"] == months
    assert out["period"] == "2025-12"
    assert out["rejected"] == 5, "the samples' deliberate mistakes: 4 rejected forms and 1 file that is not ours"
    # December: the Khánh Hòa units of the former Ninh Thuận part (17 agencies, 24 communes and wards);
    # 22813 and 22910 late.
    total = next(c for c in out["completeness"] if c["tier"] == "*")
    assert (total["expected"], total["on_time"], total["late"], total["rejected"], total["missing"]) == (
        41, 39, 2, 0, 0), total
    outputs = out["outputs"]
    for key in ("Báo cáo Word", "Tổng hợp Excel", "Bảng lỗi gửi đơn vị", "Báo cáo quý I năm 2025",
                "Báo cáo năm 2025"):
        assert Path(outputs[key]).stat().st_size > 5000, key
    nop = Path(outputs["Thư mục làm việc"]) / "nop"

    # March, in the workspace's store: the late units are late again (due date moved to Monday 17/03).
    with sqlite3.connect(Path(outputs["Thư mục làm việc"]) / "store.sqlite") as db:
        march = db.execute("select unit_code, problems_json from submissions where period_code = '2025-03' "
                           "and status = 'accepted'").fetchall()
    late = {unit for unit, found in march if "late-submission" in {p["code"] for p in json.loads(found or "[]")}}
    assert (len(march), late) == (84, {"SKHCN", "22813", "22852"})

    # The monthly report: December against November, on the two-tier units.
    month = text_of(outputs["Báo cáo Word"])
    december = format_percent(online_share(commune_files(nop, ["2025-12"])))
    assert f"cấp xã đạt {december}" in month, december
    assert "so với tháng trước" in month
    assert "cấp huyện đạt" not in month, "no district tier after 30/6/2025"

    # The quarter (reprinted on today's units): the communes pooled over January–March, from the committed files.
    quarter = text_of(outputs["Báo cáo quý I năm 2025"])
    q1 = format_percent(online_share(commune_files(SAMPLES / "nop", ["2025-01", "2025-02", "2025-03"])))
    assert f"cấp xã đạt {q1}" in quarter, q1

    # The year across the change: the commune share pools January–June of the former Ninh Thuận communes
    # (restated on the Khánh Hòa ones) with July–December; the district tier appears for its months; one
    # sentence says the earlier figures were converted.
    year = text_of(outputs["Báo cáo năm 2025"])
    ytd = format_percent(online_share(commune_files(nop, months)))
    assert f"cấp xã đạt {ytd}" in year, ytd
    first_half = format_percent(online_share(commune_files(nop, months[:6])))
    assert ytd != first_half, "the year is not the first half alone"
    assert "Số liệu các kỳ trước 01/7/2025 đã được quy đổi theo đơn vị hành chính mới." in year
    summary = openpyxl.load_workbook(outputs["Tổng hợp năm 2025"])
    rows = list(summary["Tổng hợp"].iter_rows(min_row=4, values_only=True))
    xa = next(r for r in rows if r[1] == "Cấp xã" and r[2] == "3")
    assert format_percent(xa[5]) == ytd
    assert "Cấp huyện" in year, "the district tier's cases (Bảng 2) for the months it existed"

    errors = openpyxl.load_workbook(outputs["Bảng lỗi gửi đơn vị"]).active
    # The clerks' copy says how to fix each deliberate mistake of the sample (column "Cách sửa").
    fixes = {row[7] for row in errors.iter_rows(values_only=True)}
    expected_codes = ("numerator-exceeds-denominator", "not-a-number", "case-denominator-mismatch",
                      "percent-out-of-range", "not-our-form", "case-balance", "filename-unit-mismatch")
    assert {FIXES[c] for c in expected_codes} <= fixes, fixes

    if HAVE_LIBREOFFICE and HAVE_POPPLER:
        pdf = Path(outputs["PDF"])
        assert "BÁO CÁO" in pdf_text(pdf) and december in pdf_text(pdf)
