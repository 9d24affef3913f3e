"""`cchc demo` end to end on the bundled samples: every output exists and holds the samples' figures."""

from __future__ import annotations

import json
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


def _named(wb: openpyxl.Workbook, name: str):
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")].value


def huyen_online_share_from_the_sample_files() -> float:
    """Indicator 3 pooled over the district tier, read straight from the March files (none of them is
    rejected in the samples): an independent path to the figure the report must print."""
    num = den = 0
    for path in sorted((SAMPLES / "nop" / "2025-03").glob("2025-03_58*.xlsx")):
        wb = openpyxl.load_workbook(path)
        if _named(wb, "META_UNIT").startswith("58") and len(_named(wb, "META_UNIT")) == 3:
            num += float(str(_named(wb, "CT_3_TU")).replace(".", ""))
            den += float(_named(wb, "CT_3_MAU"))
    assert den > 0, "no district files found in the samples"
    return num / den * 100


@pytest.mark.slow
def test_demo_runs_the_cycle_and_writes_every_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--json"])
    assert result.exit_code == 0, result.stdout + str(result.exception)
    out = json.loads(result.stdout)["result"]
    assert out["months"] == ["2025-01", "2025-02", "2025-03"]
    total = next(c for c in out["completeness"] if c["tier"] == "*")
    # Due Saturday 15/03/2025 moves to Monday 17/03 (a day off moves the due date): the files of 16-17/03 are
    # on time.
    assert (total["expected"], total["on_time"], total["late"], total["rejected"], total["missing"]) == (
        90, 84, 0, 3, 3), total
    assert out["outputs"]["Báo cáo quý I năm 2025"].endswith("bao-cao-cchc-2025-Q1.docx")
    assert out["rejected"] == 5, "the samples' deliberate mistakes: 4 rejected forms and 1 file that is not ours"

    outputs = out["outputs"]
    for key in ("Báo cáo Word", "Tổng hợp Excel", "Bảng lỗi gửi đơn vị"):
        assert Path(outputs[key]).stat().st_size > 5000, key

    text = "\n".join(p.text for p in docx.Document(outputs["Báo cáo Word"]).paragraphs)
    assert "4. Tình hình, kết quả triển khai nhiệm vụ cải cách thủ tục hành chính" in text
    expected = format_percent(huyen_online_share_from_the_sample_files())
    assert f"cấp huyện đạt {expected} (chỉ tiêu tối thiểu 75%)" in text, expected
    assert "so với tháng trước" in text, "March must compare with February"

    errors = openpyxl.load_workbook(outputs["Bảng lỗi gửi đơn vị"]).active
    # The clerks' copy says how to fix each deliberate mistake of the sample (column "Cách sửa").
    fixes = {row[7] for row in errors.iter_rows(values_only=True)}
    expected_codes = ("numerator-exceeds-denominator", "not-a-number", "case-denominator-mismatch",
                      "percent-out-of-range", "not-our-form", "case-balance", "filename-unit-mismatch")
    assert {FIXES[c] for c in expected_codes} <= fixes, fixes

    summary = openpyxl.load_workbook(outputs["Tổng hợp Excel"])
    rows = list(summary["Tổng hợp"].iter_rows(min_row=4, values_only=True))
    huyen = next(r for r in rows if r[1] == "Cấp huyện" and r[2] == "3")
    assert format_percent(huyen[5]) == expected

    if HAVE_LIBREOFFICE and HAVE_POPPLER:
        pdf = Path(outputs["PDF"])
        assert "BÁO CÁO" in pdf_text(pdf) and expected in pdf_text(pdf)
