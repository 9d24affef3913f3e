"""The error workbook a clerk receives: Vietnamese only, one block per file (rejected first), the row's
label on the form, what to do, the unit's standing today, one period, A4; one workbook per unit."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from cchc_excel.app.cli import app
from cchc_excel.archive.datafiles import load_plan
from cchc_excel.archive.importing import import_files, store_for
from cchc_excel.archive.store import ImportOutcome
from cchc_excel.archive.workspace import Workspace, init_workspace, open_workspace
from cchc_excel.core.problems import FIXES, MESSAGES
from cchc_excel.documents.errorbook import write_error_books, write_error_report, write_error_reports_per_unit
from tests.conftest import MARCH, NT_PLAN, NT_REGISTRY, PHUOC_HOA, good_values_phuoc_hoa, ws_form

TAN, BINH = "22789", "22783"      # Xã Phước Tân, Xã Phước Bình
NT_TASKS = load_plan(NT_PLAN)[0].tasks  # type: ignore[union-attr]
NAME_LIKE = re.compile(r"\b(?:CT|GQ|NV|TT|KK|META)_[A-Z0-9_]+\b")


def values_for(unit: str, ct1: int) -> dict[str, Any]:
    """A clean report whose figures differ by unit (no unit looks like a copy of another)."""
    values = good_values_phuoc_hoa() | {"CT_1_TU": ct1, "TT_NGUOI_LAP": f"Cán bộ {unit}"}
    if any(t.id == "II.3.a" for t in NT_TASKS):       # the NĐ 09/2019 reporting task of the bundled plan
        values.setdefault("NV_II_3_A_TT", "Đang thực hiện")
    return values


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, list[ImportOutcome]]:
    """March 2025: Phước Hòa rejected, then accepted an hour later; Phước Tân rejected; Phước Bình accepted
    but late (a warning); a file that is not a form at all."""
    root = tmp_path_factory.mktemp("errws") / "ws"
    init_workspace(root, plan=NT_PLAN, registry=NT_REGISTRY)
    ws, report = open_workspace(root)
    assert ws is not None, report.flatten("code", "file")
    inbox = tmp_path_factory.mktemp("inbox")
    bad_hoa = ws_form(ws, PHUOC_HOA, inbox / "v1", values_for(PHUOC_HOA, 40) | {"CT_13_TU": 95})
    good_hoa = ws_form(ws, PHUOC_HOA, inbox / "v2", values_for(PHUOC_HOA, 41),
                       name="2025-03_22786_xa-phuoc-hoa_lan2.xlsx")
    bad_tan = ws_form(ws, TAN, inbox / "tan", values_for(TAN, 42) | {"CT_7_TU": "abc"})
    late_binh = ws_form(ws, BINH, inbox / "binh", values_for(BINH, 43))
    other = inbox / "bao-cao-khac.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Báo cáo khác"
    wb.save(other)
    outcomes: list[ImportOutcome] = []
    for paths, when in [([bad_hoa, bad_tan, other], datetime(2025, 3, 14, 9)),
                        ([good_hoa], datetime(2025, 3, 14, 10)), ([late_binh], datetime(2025, 3, 18, 9))]:
        outcomes += [o for _, o in import_files(ws, paths, period=MARCH, received_at=when, workers=1)]
    assert [o.status for o in outcomes] == ["rejected", "rejected", "rejected", "accepted", "accepted"]
    return ws, outcomes


@pytest.fixture(scope="module")
def book(cycle: tuple[Workspace, list[ImportOutcome]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws, outcomes = cycle
    with store_for(ws) as store:
        return write_error_report(outcomes, tmp_path_factory.mktemp("loi") / "loi.xlsx", ws.registry,
                                  plan=ws.plan, store=store, period=MARCH, office=ws.office)


def rows(path: Path) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))


def strings(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def headings(path: Path) -> list[str]:
    """The block headings: "1. UBND xã Phước Tân — tệp … — BỊ TRẢ LẠI (1 lỗi)"."""
    return [r[0] for r in rows(path) if isinstance(r[0], str) and re.match(r"\d+\. ", r[0])]


def test_error_workbook_shows_no_problem_code_and_no_defined_name(book: Path) -> None:
    text = strings(book)
    assert not [s for s in text if s in MESSAGES], "problem codes are for the office, not for clerks"
    assert not [s for s in text if NAME_LIKE.search(s)], [s for s in text if NAME_LIKE.search(s)]
    assert not [s for s in text if "đã đọc" in s and "thành" in s]


def test_rejected_files_come_first_then_files_accepted_with_warnings(book: Path) -> None:
    heads = headings(book)
    assert len(heads) == 4, heads      # three rejected files and Phước Bình's late one; clean files left out
    verdicts = ["TRẢ LẠI" in h for h in heads]
    assert verdicts == [True, True, True, False], heads
    assert "Phước Bình" in heads[-1] and "cảnh báo" in heads[-1]
    # still-open rejections before the one a later version has replaced
    assert "Phước Hòa" in heads[2], heads
    files = [r[3] for r in rows(book) if r[0] == "Tệp đã nhận:"]
    assert files[2:] == ["2025-03_22786_xa-phuoc-hoa.xlsx", "2025-03_22783_xa-phuoc-binh.xlsx"], files


def test_each_finding_names_the_row_of_the_form_and_what_to_do(book: Path) -> None:
    found = [r for r in rows(book) if r[1] == "Chỉ tiêu" and r[2] == "E22"]
    assert len(found) == 1, found
    _, sheet, cell, label, typed, severity, what, fix = found[0]
    assert label.startswith("Chỉ tiêu 13") and "— Tử số: " in label, label
    assert (typed, severity) == ("95", "Lỗi")
    assert what.startswith("Tử số 95 lớn hơn mẫu số"), what
    assert fix == FIXES["numerator-exceeds-denominator"]
    not_a_form = [r for r in rows(book) if r[3] == "Cả tệp" and r[5] == "Lỗi"]
    assert not_a_form and not_a_form[0][7] == FIXES["not-our-form"]


def test_a_later_accepted_version_shows_the_unit_as_accepted(book: Path) -> None:
    table = rows(book)
    heads = [i for i, r in enumerate(table) if isinstance(r[0], str) and re.match(r"\d+\. ", r[0])]
    standing = {table[i][0].split(" — ")[0].split(". ", 1)[1]: table[i + 2][0] for i in heads}  # under "Tệp"
    assert "ĐÃ ĐẠT" in standing["UBND xã Phước Hòa"]
    assert "2025-03_22786_xa-phuoc-hoa_lan2.xlsx" in standing["UBND xã Phước Hòa"]
    assert "CHƯA CÓ BẢN ĐẠT" in standing["UBND xã Phước Tân"]


def test_one_period_per_workbook(cycle: tuple[Workspace, list[ImportOutcome]], tmp_path: Path) -> None:
    ws, outcomes = cycle
    february = ws_form(ws, TAN, tmp_path / "feb", values_for(TAN, 44) | {"CT_7_TU": "x"},
                       period=MARCH.previous())
    feb = [o for _, o in import_files(ws, [february], received_at=datetime(2025, 2, 14), workers=1)]
    assert feb[0].period_code == "2025-02" and feb[0].status == "rejected"
    path = write_error_report([*feb, *outcomes], tmp_path / "loi.xlsx", ws.registry, plan=ws.plan)
    text = "\n".join(strings(path))
    assert "THÁNG 3 NĂM 2025" in text and "2025-02_" not in text
    books = write_error_books(ws, [*feb, *outcomes], tmp_path / "loi.xlsx")
    assert sorted(p.name for p in books) == ["loi_2025-02.xlsx", "loi_2025-03.xlsx"]


def test_one_workbook_per_unit_holds_that_unit_only(cycle: tuple[Workspace, list[ImportOutcome]],
                                                     tmp_path: Path) -> None:
    ws, outcomes = cycle
    with store_for(ws) as store:
        paths = write_error_reports_per_unit(outcomes, tmp_path / "loi", ws.registry, plan=ws.plan, store=store,
                                             period=MARCH)
    assert sorted(p.name for p in paths) == [
        "loi_2025-03_22783_xa-phuoc-binh.xlsx", "loi_2025-03_22786_xa-phuoc-hoa.xlsx",
        "loi_2025-03_22789_xa-phuoc-tan.xlsx", "loi_2025-03_khong-ro-don-vi.xlsx"]
    assert all(p.name.isascii() for p in paths)
    for path in paths:
        units = {h.split(" — ")[0].split(". ", 1)[1] for h in headings(path)}
        assert len(units) == 1, (path.name, units)
    tan = next(p for p in paths if "22789" in p.name)
    assert "Đơn vị: UBND xã Phước Tân" in strings(tan)


def test_import_per_unit_writes_one_workbook_per_unit(cycle: tuple[Workspace, list[ImportOutcome]],
                                                      tmp_path: Path) -> None:
    ws, _ = cycle
    bad = ws_form(ws, TAN, tmp_path / "in", values_for(TAN, 45) | {"CT_7_TU": "y"})
    out = tmp_path / "loi"
    result = CliRunner().invoke(app, ["import", "-w", str(ws.root), str(bad), "--period", "2025-03",
                                      "--errors-xlsx", str(out), "--per-unit", "--json"])
    assert result.exit_code == 1, result.stdout
    assert [p.name for p in out.iterdir()] == ["loi_2025-03_22789_xa-phuoc-tan.xlsx"]


def test_error_workbook_prints_on_a4_fit_to_width_with_titles_and_page_numbers(book: Path) -> None:
    for sheet in openpyxl.load_workbook(book).worksheets:
        assert_prints_on_a4(sheet)


def assert_prints_on_a4(sheet: Any) -> None:
    setup = sheet.page_setup
    assert int(setup.paperSize) == 9, sheet.title
    assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
    fit = tuple(1 if v is None else int(v) for v in (setup.fitToWidth, setup.fitToHeight))  # OOXML default: 1
    assert fit == (1, 0), (sheet.title, "one page wide, as many pages tall as needed")
    assert sheet.print_title_rows, sheet.title
    footer = sheet.oddFooter.center.text or ""
    assert "Trang &[Page]/&[Pages]" in footer or "Trang &P/&N" in footer, (sheet.title, footer)


def test_every_file_and_cell_level_code_has_a_fix() -> None:
    clerk_codes = [code for code, (_, template) in MESSAGES.items()
                   if template.startswith(("Ô {cell}", "Dòng {cell}", "Tệp {file}", "Tên tệp {file}"))]
    assert clerk_codes
    missing = [c for c in clerk_codes if c not in FIXES]
    assert not missing, f"add a 'Cách sửa' line to problems.FIXES for: {missing}"
    assert not set(FIXES) - set(MESSAGES)
