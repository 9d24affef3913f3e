"""A generated form typed into by a clerk in LibreOffice Calc (vi-VN), saved as .xlsx and imported.

One LibreOffice run for the whole module (~2 s): the fixture types every input through UNO's FormulaLocal
(locale-aware, refused on locked cells, as typing is), recalculates and saves; the tests look at the
answer, at the saved file with openpyxl, and at what `read_workbook` makes of it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from cchc_excel.core import layout as L
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry
from cchc_excel.workbook.readback import ReadContext, read_workbook
from tests.conftest import MARCH, SECRET, write_form
from tests.lo import fill_in_libreoffice, needs_libreoffice

pytestmark = pytest.mark.libreoffice

TYPED: dict[str, str] = {
    "TT_NGUOI_LAP": "Lê Văn An",
    "TT_DIEN_THOAI": "0912345678",
    "TT_NGAY_LAP": "05/03/2025",
    "CT_3_TU": "1.234",
    "CT_3_MAU": "2000",
    "CT_15_GT": "92,5",
    "CT_15_SL": "40",
    "CT_16_CO": "Có",
    "CT_17_TT": "Đã hoàn thành",
    "CT_17_NGAY": "05/03/2025",
    "GQ_LINH_VUC": "Hộ tịch",
    "GQ_TRUC_TUYEN": "1.234", "GQ_TRUC_TIEP": "766", "GQ_KY_TRUOC": "0",
    "GQ_TRUOC_HAN": "1.500", "GQ_DUNG_HAN": "300", "GQ_QUA_HAN": "0",
    "GQ_DANG_TRONG_HAN": "200", "GQ_DANG_QUA_HAN": "0",
    "NV_II_1_TT": "Đang thực hiện",
    "KK_KHO_KHAN": "Thiếu máy quét",
}
LOCKED = {"sheet": L.SHEET_IND, "cell": "C6", "text": "Tối thiểu 50%"}   # indicator 3's printed target
READ = ["CT_3_TYLE", "CT_3_KQ", "CT_15_TYLE", "CT_15_KQ", "CT_16_KQ", "CT_17_KQ"]


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory, small_plan: Plan,
          small_registry: Registry) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("lo")
    form = write_form(small_plan, small_registry, "STP", out)
    saved = out / "da-nhap" / form.name
    cells = [{"name": name, "text": text} for name, text in TYPED.items()] + [LOCKED]
    result = fill_in_libreoffice(form, saved, cells=cells, read=[{"name": n} for n in READ],
                                 locale="vi-VN", protect_check=True)
    return saved, result


@needs_libreoffice
def test_every_input_is_accepted_and_the_locked_target_refused(typed: tuple[Path, dict[str, Any]]) -> None:
    _, result = typed
    accepted = {f.get("name") or f["cell"]: f["accepted"] for f in result["filled"]}
    assert accepted == {**{name: True for name in TYPED}, "C6": False}
    assert "locked" in result["filled"][-1]["error"]
    wb = openpyxl.load_workbook(typed[0])
    assert wb[L.SHEET_IND]["C6"].value == "Tối thiểu 75%"


@needs_libreoffice
def test_formulas_compute_rate_and_verdict_in_the_saved_file(typed: tuple[Path, dict[str, Any]]) -> None:
    saved, result = typed
    live = {r["name"]: r["string"] for r in result["read"]}
    assert live == {"CT_3_TYLE": "61,70", "CT_3_KQ": L.NOT_MET, "CT_15_TYLE": "92,50", "CT_15_KQ": L.MET,
                    "CT_16_KQ": L.MET, "CT_17_KQ": L.MET}
    wb = openpyxl.load_workbook(saved, data_only=True)

    def at(name: str) -> Any:
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        return wb[sheet][ref.replace("$", "")].value

    assert at("CT_3_TYLE") == pytest.approx(61.7)
    assert (at("CT_3_KQ"), at("CT_15_KQ"), at("CT_16_KQ")) == (L.NOT_MET, L.MET, L.MET)
    assert wb[L.SHEET_CASES]["N10"].value == "Khớp"
    assert all(wb[s].protection.sheet for s in wb.sheetnames)


@needs_libreoffice
def test_file_saved_by_libreoffice_imports_clean_with_what_was_typed(
        typed: tuple[Path, dict[str, Any]], small_plan: Plan, small_registry: Registry) -> None:
    saved, _ = typed
    sub = read_workbook(saved, ReadContext(small_plan, small_registry, SECRET, MARCH))
    assert sub.report.flatten("code", "sheet", "cell") == []
    ind = sub.indicators
    assert (ind["3"].numerator, ind["3"].denominator, ind["3"].value) == (1234, 2000, pytest.approx(61.7))
    assert (ind["15"].value, ind["15"].weight) == (92.5, 40)
    assert (ind["16"].answer, ind["17"].answer, ind["17"].done_date) == ("Có", "Đã hoàn thành", date(2025, 3, 5))
    assert sub.info == {"TT_NGUOI_LAP": "Lê Văn An", "TT_CHUC_VU": None, "TT_DIEN_THOAI": "0912345678",
                        "TT_EMAIL": None, "TT_NGAY_LAP": date(2025, 3, 5)}
    assert [(c.field, c.online, c.direct, c.received, c.resolved, c.pending) for c in sub.cases] == [
        ("Hộ tịch", 1234, 766, 2000, 1800, 200)]
    assert sub.tasks["II.1"].status == "Đang thực hiện"
    assert sub.difficulties == ["Thiếu máy quét"]


# --- what typing changes: "87,5%" in a percentage cell, a date in a count cell, an empty case table -------

SLIPS: dict[str, str] = {
    "TT_NGUOI_LAP": "Lê Văn An",
    "CT_3_TU": "15/03/2025",      # a date typed into a count cell
    "CT_3_MAU": "2000",
    "CT_15_GT": "87,5%",          # the percent sign typed with the percentage
    "CT_15_SL": "40",
}


@pytest.fixture(scope="module")
def slipped(tmp_path_factory: pytest.TempPathFactory, small_plan: Plan,
            small_registry: Registry) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("lo-slips")
    form = write_form(small_plan, small_registry, "STP", out)
    saved = out / "da-nhap" / form.name
    table = L.build_layout(small_plan, small_registry.get("STP"), small_registry.tier("tinh"), MARCH).case_table
    check_total = L.a1(table.total_row, table.check_col)
    result = fill_in_libreoffice(form, saved, cells=[{"name": n, "text": t} for n, t in SLIPS.items()],
                                 read=[{"name": "CT_15_TYLE"}, {"name": "CT_15_KQ"},
                                       {"sheet": L.SHEET_CASES, "cell": check_total}], locale="vi-VN")
    return saved, result


@needs_libreoffice
def test_percent_typed_with_percent_sign_in_libreoffice_imports_as_points_with_a_warning(
        slipped: tuple[Path, dict[str, Any]], small_plan: Plan, small_registry: Registry) -> None:
    saved, result = slipped
    live = [r["string"] for r in result["read"]]
    assert live[:2] == ["87,50", L.NOT_MET]      # the form itself reads 87,5 (not 0,88) against the target 90
    sub = read_workbook(saved, ReadContext(small_plan, small_registry, SECRET, MARCH))
    assert ("percent-from-format", "warning", L.SHEET_IND, "CT_15_GT") in sub.report.flatten(
        "code", "severity", "sheet", "name")
    assert sub.indicators["15"].value == 87.5


@needs_libreoffice
def test_date_typed_in_libreoffice_into_a_count_cell_is_an_error_naming_sheet_and_cell(
        slipped: tuple[Path, dict[str, Any]], small_plan: Plan, small_registry: Registry) -> None:
    saved, _ = slipped
    sub = read_workbook(saved, ReadContext(small_plan, small_registry, SECRET, MARCH))
    lay = L.build_layout(small_plan, small_registry.get("STP"), small_registry.tier("tinh"), MARCH)
    cell = lay.slot("CT_3_TU").cell
    assert ("date-in-number-cell", "error", L.SHEET_IND, cell) in sub.report.flatten("code", "severity", "sheet",
                                                                                     "cell")
    assert sub.indicators["3"].numerator is None and not sub.accepted


@needs_libreoffice
def test_empty_case_table_shows_no_match_verdict_after_recalculation(slipped: tuple[Path, dict[str, Any]]) -> None:
    _, result = slipped
    assert result["read"][2]["string"] == ""     # not a green "Khớp" before anything is entered
