"""Intake workbooks as written by `intake`, opened with openpyxl the way any other reader sees them."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

from cchc_excel.core import layout as L
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry
from cchc_excel.workbook import intake, writer
from tests.conftest import MARCH, PHUOC_HOA, SECRET, unit_of, write_form

SHEETS = [L.SHEET_GUIDE, L.SHEET_INFO, L.SHEET_IND, L.SHEET_CASES, L.SHEET_TASKS, L.SHEET_NOTES, L.SHEET_META]


@pytest.fixture(scope="module")
def phuoc_hoa(tmp_path_factory: pytest.TempPathFactory, nt_plan: Plan, nt_registry: Registry) -> Path:
    return write_form(nt_plan, nt_registry, PHUOC_HOA, tmp_path_factory.mktemp("intake"))


@pytest.fixture(scope="module")
def phuoc_hoa_layout(nt_plan: Plan, nt_registry: Registry) -> L.Layout:
    unit = unit_of(nt_registry, PHUOC_HOA)
    return L.build_layout(nt_plan, unit, nt_registry.tier(unit.tier), MARCH)


@pytest.fixture(scope="module")
def book(phuoc_hoa: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(phuoc_hoa)


def _cells(ref: str) -> list[tuple[int, int]]:
    """(row, col), 1-based, of every cell of an A1 range."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return [(r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def _validation_covering(ws, row: int, col: int):  # type: ignore[no-untyped-def]
    found = [dv for dv in ws.data_validations.dataValidation
             if any(row in range(r.min_row, r.max_row + 1) and col in range(r.min_col, r.max_col + 1)
                    for r in dv.sqref.ranges)]
    return found


def test_workbook_has_the_seven_sheets_in_order_with_meta_hidden(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == SHEETS
    assert book[L.SHEET_META].sheet_state in ("hidden", "veryHidden")
    assert [book[s].sheet_state for s in SHEETS[:-1]] == ["visible"] * 6


def test_every_sheet_is_protected(book: openpyxl.Workbook) -> None:
    assert {name: book[name].protection.sheet for name in SHEETS} == {name: True for name in SHEETS}


def test_every_slot_cell_is_unlocked_with_a_validation_and_input_message(
        book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    bad = []
    for slot in phuoc_hoa_layout.slots:
        ws = book[slot.sheet]
        for offset in range(slot.rows):
            row, col = slot.row + offset + 1, slot.col + 1
            cell = ws.cell(row=row, column=col)
            dvs = _validation_covering(ws, row, col)
            if cell.protection.locked is not False:
                bad.append((slot.name, cell.coordinate, "locked"))
            if len(dvs) != 1:
                bad.append((slot.name, cell.coordinate, f"{len(dvs)} validations"))
            elif not (dvs[0].showInputMessage and dvs[0].prompt):
                bad.append((slot.name, cell.coordinate, "no input message"))
    assert bad == []


def test_labels_targets_and_formulas_are_locked(book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    ws = book[L.SHEET_IND]
    block = phuoc_hoa_layout.indicators[0]
    row = block.first_row + 1
    for col in (L.IND_COL_ID, L.IND_COL_NAME, L.IND_COL_TARGET, L.IND_COL_LABEL, L.IND_COL_RATE,
                L.IND_COL_RESULT, L.IND_COL_TVALUE):
        assert ws.cell(row=row, column=col + 1).protection.locked is True, (row, col)
    for fixed in phuoc_hoa_layout.fixed:
        assert book[fixed.sheet].cell(row=fixed.row + 1, column=fixed.col + 1).protection.locked is True
    info = book[L.SHEET_INFO]
    assert info["C3"].value == "Xã Phước Hòa" and info["C3"].protection.locked is True


def test_every_slot_and_fixed_name_points_where_the_layout_says(
        book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    expected = {s.name: (s.sheet, s.ref.split("!")[1]) for s in phuoc_hoa_layout.slots}
    expected.update({f.name: (f.sheet, f.ref.split("!")[1]) for f in phuoc_hoa_layout.fixed})
    expected.update({k: (L.SHEET_META, f"${L.col_letter(c)}${r + 1}")
                     for k, (r, c) in phuoc_hoa_layout.meta_names.items()})
    found = {}
    for name in expected:
        assert name in book.defined_names, name
        found[name] = tuple(next(iter(book.defined_names[name].destinations)))
    assert found == expected


def test_mountain_commune_form_shows_target_lowered_by_ten_points(
        book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    block = next(b for b in phuoc_hoa_layout.indicators if b.item.indicator.id == "2")
    ws = book[L.SHEET_IND]
    row = block.first_row + 1
    assert ws.cell(row=row, column=L.IND_COL_ID + 1).value == "2.3"
    assert ws.cell(row=row, column=L.IND_COL_TVALUE + 1).value == 25
    assert ws.cell(row=row, column=L.IND_COL_TARGET + 1).value.startswith("Tối thiểu 25%")
    assert "(đã điều chỉnh)" in ws.cell(row=row, column=L.IND_COL_TARGET + 1).value


def test_file_name_is_period_unit_code_and_ascii_slug(phuoc_hoa: Path) -> None:
    assert phuoc_hoa.name == "2025-03_22786_xa-phuoc-hoa.xlsx"


def test_every_printed_sheet_is_set_up_for_a4(book: openpyxl.Workbook) -> None:
    assert {name: book[name].page_setup.paperSize for name in SHEETS[:-1]} == {name: 9 for name in SHEETS[:-1]}


def print_setup(book: openpyxl.Workbook) -> dict[str, tuple[Any, ...]]:
    """Per printed sheet: (paper size, fit to page, pages wide, pages tall, columns in the print area)."""
    out = {}
    for name in SHEETS[:-1]:
        ws = book[name]
        area = ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area
        min_col, _, max_col, _ = range_boundaries(area.split("!")[-1].replace("$", ""))
        out[name] = (ws.page_setup.paperSize, ws.sheet_properties.pageSetUpPr.fitToPage,
                     1 if ws.page_setup.fitToWidth is None else ws.page_setup.fitToWidth,  # OOXML default 1
                     ws.page_setup.fitToHeight, max_col - min_col + 1 > 1)
    return out


def test_every_printed_sheet_fits_one_a4_page_wide(book: openpyxl.Workbook) -> None:
    """Fit to 1 page wide on A4 (paper size 9), any number of pages tall; and no print area is a single
    column, which LibreOffice never shrinks to the page (the notes sheet ran ~30 mm off the page)."""
    assert print_setup(book) == {name: (9, True, 1, 0, True) for name in SHEETS[:-1]}


def test_case_table_note_spans_the_printed_width(book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    """The note under the case table is merged over the table and wrapped, so print does not cut it."""
    table = phuoc_hoa_layout.case_table
    row = table.total_row + 3
    merged = [str(r) for r in book[L.SHEET_CASES].merged_cells.ranges if r.min_row == row]
    assert merged == [f"A{row}:{L.col_letter(table.check_col)}{row}"]
    assert book[L.SHEET_CASES][f"A{row}"].value.endswith("cột 3 = cột 7 + cột 11.")


def test_empty_form_shows_no_case_table_verdict(phuoc_hoa: Path, phuoc_hoa_layout: L.Layout) -> None:
    """Totals and the check column are blank (not 0 and "Khớp") until something is entered."""
    table = phuoc_hoa_layout.case_table
    ws = openpyxl.load_workbook(phuoc_hoa, data_only=True)[L.SHEET_CASES]
    totals = [ws.cell(row=table.total_row + 1, column=c.col + 1).value for c in table.columns[1:]]
    check = ws.cell(row=table.total_row + 1, column=table.check_col + 1).value
    assert set(totals) == {None} and check is None
    formulas = openpyxl.load_workbook(phuoc_hoa)[L.SHEET_CASES]
    assert formulas.cell(row=table.total_row + 1, column=3).value.startswith("=IF(COUNT(")


def test_numeric_inputs_keep_a_general_format_so_typed_percent_and_dates_show_in_the_format(
        book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    formats = {book[s.sheet].cell(row=s.row + 1, column=s.col + 1).number_format
               for s in phuoc_hoa_layout.slots if s.kind in ("count", "percent")}
    assert formats == {"[$-42A]General"}


def test_workbook_carries_no_macros_and_no_external_links(phuoc_hoa: Path) -> None:
    with zipfile.ZipFile(phuoc_hoa) as zf:
        names = zf.namelist()
    assert not [n for n in names if "vbaproject" in n.lower() or n.startswith("xl/externalLinks")]


def test_hidden_metadata_names_unit_period_plan_and_version(
        book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    meta = book[L.SHEET_META]
    values = {meta.cell(row=r + 1, column=1).value: meta.cell(row=r + 1, column=2).value
              for r in range(len(L.META_KEYS))}
    assert values["META_UNIT"] == PHUOC_HOA and values["META_PERIOD"] == "2025-03"
    assert values["META_PLAN"] == "ninh-thuan-2025" and values["META_VERSION"] == str(L.FORMAT_VERSION)
    assert L.verify(SECRET, phuoc_hoa_layout.signed_fields, values["META_GENERATED"], values["META_SIGNATURE"])


def test_two_tier_registry_commune_forms_build(tmp_path: Path, nt_plan: Plan, kh_registry: Registry) -> None:
    """After 1 July 2025 there is no district tier: communes still get their own form, mountain target too."""
    units = kh_registry.in_tier("xa")
    written = list(intake.generate(nt_plan, kh_registry, MARCH, units, tmp_path, secret=SECRET))
    assert [g.path.name for g in written] == [intake.workbook_filename(MARCH, u) for u in units]
    bac_ai = openpyxl.load_workbook(next(g.path for g in written if g.unit.code == "X03"))
    assert bac_ai.sheetnames == SHEETS
    lay = L.build_layout(nt_plan, unit_of(kh_registry, "X03"), kh_registry.tier("xa"), MARCH)
    block = next(b for b in lay.indicators if b.item.indicator.id == "2")
    assert bac_ai[L.SHEET_IND].cell(row=block.first_row + 1, column=L.IND_COL_TVALUE + 1).value == 25


def test_unit_without_tasks_gets_the_no_tasks_line(tmp_path: Path, small_plan: Plan,
                                                    small_registry: Registry) -> None:
    path = write_form(small_plan, small_registry, "X01", tmp_path)
    ws = openpyxl.load_workbook(path)[L.SHEET_TASKS]
    assert ws.cell(row=L.TASK_FIRST_ROW + 1, column=1).value == "Đơn vị không có nhiệm vụ riêng trong kế hoạch."
    assert not [n for n in openpyxl.load_workbook(path).defined_names if n.startswith("NV_")]


def test_small_plan_form_has_a_slot_of_every_kind(tmp_path: Path, small_plan: Plan,
                                                  small_registry: Registry) -> None:
    unit = unit_of(small_registry, "STP")
    lay = L.build_layout(small_plan, unit, small_registry.tier("tinh"), MARCH)
    assert {s.kind for s in lay.slots} == set(L.KINDS)
    book = openpyxl.load_workbook(write_form(small_plan, small_registry, "STP", tmp_path))
    assert set(s.name for s in lay.slots) <= set(book.defined_names)


def test_free_text_inputs_are_text_formatted_so_leading_zeros_survive(
        book: openpyxl.Workbook, phuoc_hoa_layout: L.Layout) -> None:
    formats = {s.name: book[s.sheet].cell(row=s.row + 1, column=s.col + 1).number_format
               for s in phuoc_hoa_layout.slots if s.kind in ("text", "longtext", "field")}
    assert set(formats.values()) == {"@"}
    counts = {book[s.sheet].cell(row=s.row + 1, column=s.col + 1).number_format
              for s in phuoc_hoa_layout.slots if s.kind == "count"}
    assert counts == {writer.COUNT_FMT}
