"""Reading returned workbooks back: one test per rule, each naming the exact code, sheet and cell.

Forms are Xã Phước Hòa's (22786) March 2025 Ninh Thuận form, filled with openpyxl at its defined names
(`conftest.fill`) from a complete, consistent report (`good_values`) with one thing changed per test."""

from __future__ import annotations

import dataclasses
import io
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from cchc_excel.archive.importing import import_files, store_for
from cchc_excel.archive.workspace import Workspace
from cchc_excel.core import aggregate
from cchc_excel.core import layout as L
from cchc_excel.core.problems import MESSAGES, problem, wording
from cchc_excel.core.units import Unit
from cchc_excel.core.vntext import to_legacy
from cchc_excel.documents import office
from cchc_excel.workbook import intake
from cchc_excel.workbook.readback import CASE_KEYS, ReadContext, Submission, read_workbook
from tests.conftest import MARCH, PHUOC_HOA, SECRET, fill, good_values_phuoc_hoa, write_form, ws_form
from tests.lo import needs_libreoffice

IND, CASES, TASKS, INFO, NOTES = L.SHEET_IND, L.SHEET_CASES, L.SHEET_TASKS, L.SHEET_INFO, L.SHEET_NOTES
NAME = "2025-03_22786_xa-phuoc-hoa.xlsx"
ON_TIME = datetime(2025, 3, 14, 9, 0)

Filled = Callable[..., Path]


def where(sub: Submission) -> list[tuple[Any, ...]]:
    return sub.report.flatten("code", "sheet", "cell")


def message(code: str, **fields: Any) -> str:
    """The registry's wording for `code` with these fields: tests never retype message text."""
    return problem(code, **fields).message


def test_complete_form_reads_clean_with_every_value(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form(), nt_ctx)
    assert where(sub) == []
    assert (sub.unit_code, sub.period_code, sub.plan_id, sub.format_version) == (PHUOC_HOA, "2025-03",
                                                                                 "ninh-thuan-2025", 1)
    assert (sub.indicators["3"].numerator, sub.indicators["3"].denominator, sub.indicators["3"].value) == (
        90, 120, 75.0)
    assert (sub.indicators["3"].sheet, sub.indicators["3"].cell) == (IND, "E10")
    assert (sub.indicators["15"].value, sub.indicators["15"].weight) == (95.5, 80)
    assert [(c.field, c.row, c.received, c.resolved, c.pending) for c in sub.cases] == [
        ("Hộ tịch", 10, 75, 60, 15), ("Chứng thực", 11, 45, 40, 5)]
    assert {k: (t.status, t.done_date) for k, t in sub.tasks.items()} == {
        "II.2.a": ("Đang thực hiện", None), "II.2.c": ("Đã hoàn thành", date(2025, 3, 10)),
        "II.3.a": ("Đang thực hiện", None), "II.3.d": ("Chưa thực hiện", None)}
    assert sub.difficulties == ["Đường truyền chậm", "Thiếu máy quét"]
    assert sub.proposals == ["Cấp thêm máy quét"]
    assert sub.info["TT_NGAY_LAP"] == date(2025, 3, 14)


# --- one rule per test --------------------------------------------------------------------------

def test_text_that_is_not_a_number_is_refused_at_its_cell(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": "abc"}), nt_ctx)
    assert where(sub) == [("not-a-number", IND, "E6")]
    p = sub.report.problems[0]
    assert (p.severity, p.name, p.value) == ("error", "CT_1_TU", "abc")
    assert p.message == message("not-a-number", file=NAME, sheet=IND, cell="E6", name="CT_1_TU", value="abc")
    assert sub.indicators["1"].numerator is None and sub.indicators["1"].value is None


def test_count_of_cases_must_be_whole(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"GQ_TRUC_TIEP": [12.5, 15]}), nt_ctx)
    # Only the bad cell: no balance or denominator noise follows from a row that is already wrong.
    assert where(sub) == [("not-whole", CASES, "E10")]
    assert sub.report.problems[0].message == message("not-whole", file=NAME, sheet=CASES, cell="E10",
                                                     name="GQ_TRUC_TIEP", value=12.5)


def test_negative_count_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": -5}), nt_ctx)
    assert where(sub) == [("negative", IND, "E6")]


def test_numerator_larger_than_denominator_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": 60, "CT_1_MAU": 50}), nt_ctx)
    assert where(sub) == [("numerator-exceeds-denominator", IND, "E6")]
    assert sub.report.problems[0].message == message("numerator-exceeds-denominator", sheet=IND, cell="E6",
                                                     name="CT_1_TU", value=60, detail=50)
    assert sub.indicators["1"].value is None


def test_percentage_outside_0_to_100_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_15_GT": 105}), nt_ctx)
    assert where(sub) == [("percent-out-of-range", IND, "E26")]


def test_missing_required_value_is_named_by_cell(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_2_MAU": None}), nt_ctx)
    assert where(sub) == [("indicator-input-missing", IND, "E9")]
    p = sub.report.problems[0]
    assert p.severity == "error" and "chỉ tiêu 2" in p.message


def test_date_that_is_not_a_date_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"TT_NGAY_LAP": "hôm qua"}), nt_ctx)
    assert where(sub) == [("not-a-date", INFO, "C13")]


def test_impossible_completion_date_is_one_problem_not_two(filled_form: Filled, nt_ctx: ReadContext) -> None:
    """A task marked done with a date that does not exist: the date is wrong, but it is not missing."""
    sub = read_workbook(filled_form({"NV_II_2_C_NGAY": "30/02/2025"}), nt_ctx)
    assert where(sub) == [("not-a-date", TASKS, "G6")]


def test_done_task_without_date_gets_a_warning(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"NV_II_2_C_NGAY": None}), nt_ctx)
    assert sub.report.flatten("code", "severity", "cell") == [("status-date-missing", "warning", "G6")]


def test_status_outside_the_list_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"NV_II_2_A_TT": "Sắp xong"}), nt_ctx)
    assert where(sub) == [("not-in-list", TASKS, "F5")]
    assert sub.report.problems[0].message == message(
        "not-in-list", sheet=TASKS, cell="F5", name="NV_II_2_A_TT", value="Sắp xong", detail=", ".join(L.STATUSES))


def test_status_typed_loosely_is_matched_to_the_list(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"NV_II_2_A_TT": "  đang THỰC hiện "}), nt_ctx)
    assert where(sub) == []
    assert sub.tasks["II.2.a"].status == "Đang thực hiện"


def test_case_row_that_does_not_balance_gets_a_warning(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"GQ_DANG_TRONG_HAN": [10, 5]}), nt_ctx)
    # The problem points at the row's received total (form column 3) and names the field.
    assert sub.report.flatten("code", "severity", "sheet", "cell") == [("case-balance", "warning", CASES, "C10")]
    p = sub.report.problems[0]
    assert (p.name, p.value) == ("GQ_LINH_VUC", 70)
    assert p.message == message("case-balance", sheet=CASES, cell="C10", name="GQ_LINH_VUC", field="Hộ tịch",
                                value=70, detail=75)
    assert sub.accepted


def test_indicator_3_denominator_must_equal_cases_received(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_3_MAU": 130}), nt_ctx)
    assert where(sub) == [("case-denominator-mismatch", IND, "E11")]
    assert sub.report.problems[0].message == message("case-denominator-mismatch", sheet=IND, cell="E11",
                                                     name="CT_3_MAU", value=130, detail=120, column=3,
                                                     group="Số hồ sơ nhận giải quyết")


def test_denominator_compared_with_resolved_total_names_the_resolved_column(
        filled_form: Filled, nt_ctx: ReadContext) -> None:
    """Indicator 4's denominator must equal the resolved total (column 7), and the message says so."""
    sub = read_workbook(filled_form({"CT_4_MAU": 110}), nt_ctx)
    assert sub.report.flatten("code", "name") == [("case-denominator-mismatch", "CT_4_MAU")]
    p = sub.report.problems[0]
    assert p.message == message("case-denominator-mismatch", sheet=IND, cell=p.cell, name="CT_4_MAU", value=110,
                                detail=100, column=7, group="Số hồ sơ đã giải quyết")
    assert "nhận" not in p.message


# --- what the cell's number format says about what was typed -----------------------------------

def _formatted(path: Path, name: str, number_format: str) -> Path:
    """Give the cell behind `name` a number format, as Excel or LibreOffice do when "87,5%" or a date is
    typed into a General cell."""
    wb = openpyxl.load_workbook(path)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    wb[sheet][ref.replace("$", "").split(":")[0]].number_format = number_format
    wb.save(path)
    return path


def test_percent_typed_with_a_percent_sign_is_read_as_points_with_a_warning(
        filled_form: Filled, nt_ctx: ReadContext) -> None:
    """"87,5%" typed in the percentage cell is stored as 0.875 with a percent format: 87,5, not 0,875."""
    path = _formatted(filled_form({"CT_15_GT": 0.875}), "CT_15_GT", "0.00%")
    sub = read_workbook(path, nt_ctx)
    assert sub.report.flatten("code", "severity", "sheet", "cell") == [
        ("percent-from-format", "warning", IND, "E26")]
    assert sub.report.problems[0].message == message("percent-from-format", sheet=IND, cell="E26",
                                                     name="CT_15_GT", value="87,5%", detail="87,5")
    assert sub.indicators["15"].value == 87.5 and sub.accepted


def test_fraction_in_a_plain_percentage_cell_is_taken_as_typed(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_15_GT": 0.875}), nt_ctx)
    assert where(sub) == [] and sub.indicators["15"].value == 0.875


def test_date_typed_into_a_count_cell_is_an_error_that_says_a_date(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": date(2025, 3, 15)}), nt_ctx)
    assert where(sub) == [("date-in-number-cell", IND, "E6")]
    assert sub.report.problems[0].message == message("date-in-number-cell", sheet=IND, cell="E6", name="CT_1_TU",
                                                     value="15/03/2025")
    assert sub.indicators["1"].numerator is None


def test_date_serial_in_a_date_formatted_case_cell_is_an_error(filled_form: Filled, nt_ctx: ReadContext) -> None:
    path = _formatted(filled_form({"GQ_TRUC_TUYEN": [45731, 30]}), "GQ_TRUC_TUYEN", "[$-42A]dd/mm/yy")
    sub = read_workbook(path, nt_ctx)
    assert where(sub) == [("date-in-number-cell", CASES, "D10")]
    assert sub.report.problems[0].value == "15/03/2025"


def test_percent_typed_into_a_count_cell_is_an_error(filled_form: Filled, nt_ctx: ReadContext) -> None:
    path = _formatted(filled_form({"CT_1_TU": 0.4}), "CT_1_TU", "0%")
    sub = read_workbook(path, nt_ctx)
    assert where(sub) == [("percent-in-count-cell", IND, "E6")]
    assert sub.report.problems[0].value == "40%"


# --- accepted sloppiness ------------------------------------------------------------------------

def test_number_typed_as_text_with_thousands_dot_is_read_with_a_warning(
        filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": "1.234", "CT_1_MAU": 2000}), nt_ctx)
    assert sub.report.flatten("code", "severity", "cell") == [("number-from-text", "warning", "E6")]
    assert sub.report.problems[0].message == message("number-from-text", sheet=IND, cell="E6", name="CT_1_TU",
                                                     value="1.234", detail="1234")
    assert sub.indicators["1"].numerator == 1234 and sub.indicators["1"].value == pytest.approx(61.7)


def test_plain_integer_typed_as_text_is_read_without_a_warning(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": "34", "CT_1_MAU": " 50 ", "GQ_TRUC_TUYEN": ["60", "30"]}), nt_ctx)
    assert where(sub) == []
    assert (sub.indicators["1"].numerator, sub.indicators["1"].denominator) == (34, 50)


def test_decimal_point_in_a_percentage_is_named_as_such(filled_form: Filled, nt_ctx: ReadContext) -> None:
    """"95.5" in a percentage cell: a decimal point (vi-VN writes 95,5), not a value outside 0-100."""
    sub = read_workbook(filled_form({"CT_15_GT": "95.5"}), nt_ctx)
    assert sub.report.flatten("code", "severity", "cell") == [("decimal-point", "warning", "E26")]
    assert sub.report.problems[0].message == message("decimal-point", sheet=IND, cell="E26", name="CT_15_GT",
                                                     value="95.5", detail="95,5")
    assert sub.indicators["15"].value == 95.5


def test_decimal_comma_in_a_percentage_is_read(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_15_GT": "92,5"}), nt_ctx)
    assert sub.report.flatten("code", "cell") == [("number-from-text", "E26")]
    assert sub.indicators["15"].value == 92.5


def test_space_and_nbsp_thousands_are_read(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": "1 234", "CT_1_MAU": "2\u00a0000"}), nt_ctx)
    assert sub.report.flatten("code", "cell") == [("number-from-text", "E6"), ("number-from-text", "E7")]
    assert (sub.indicators["1"].numerator, sub.indicators["1"].denominator) == (1234, 2000)


def test_decomposed_and_tcvn3_text_become_unicode(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({
        "TT_NGUOI_LAP": unicodedata.normalize("NFD", "Nguyễn Thị Hoa"),
        "KK_KHO_KHAN": to_legacy("Đường truyền chậm", "TCVN3") + "\n" + to_legacy("Thiếu máy quét", "TCVN3"),
    }), nt_ctx)
    assert sub.report.flatten("code", "sheet", "cell", "name") == [("legacy-encoding", NOTES, "A4", "KK_KHO_KHAN")]
    assert "TCVN3" in sub.report.problems[0].message
    assert sub.info["TT_NGUOI_LAP"] == unicodedata.normalize("NFC", "Nguyễn Thị Hoa")
    assert sub.difficulties == ["Đường truyền chậm", "Thiếu máy quét"]


def _shift_names(wb: openpyxl.Workbook, sheet: str, from_row: int, by: int) -> None:
    """Move the defined names on `sheet` at or below `from_row` (1-based) down, as Excel does on insert."""
    for dn in list(wb.defined_names.values()):
        dests = list(dn.destinations)
        if len(dests) != 1 or dests[0][0] != sheet:
            continue
        ref = dests[0][1]
        parts = []
        for part in ref.split(":"):
            col, row = part.rsplit("$", 1)
            row_n = int(row)
            parts.append(f"{col}${row_n + by if row_n >= from_row else row_n}")
        dn.attr_text = f"{L.quote_sheet(sheet)}!{':'.join(parts)}"


def test_rows_inserted_above_the_indicator_table_do_not_lose_values(
        filled_form: Filled, nt_ctx: ReadContext) -> None:
    path = filled_form()
    wb = openpyxl.load_workbook(path)
    wb[IND].insert_rows(4, amount=2)   # two rows above the header (row 5)
    _shift_names(wb, IND, 4, 2)
    wb.save(path)
    sub = read_workbook(path, nt_ctx)
    assert where(sub) == []
    assert (sub.indicators["3"].numerator, sub.indicators["3"].denominator) == (90, 120)
    assert sub.indicators["3"].cell == "E12"
    assert sub.indicators["15"].value == 95.5


def test_inserted_rows_move_the_cells_named_in_problems(filled_form: Filled, nt_ctx: ReadContext) -> None:
    path = filled_form({"CT_1_TU": "abc"})
    wb = openpyxl.load_workbook(path)
    wb[IND].insert_rows(4)
    _shift_names(wb, IND, 4, 1)
    wb.save(path)
    assert where(read_workbook(path, nt_ctx)) == [("not-a-number", IND, "E7")]


def test_renamed_sheet_with_its_names_updated_is_still_read(filled_form: Filled, nt_ctx: ReadContext) -> None:
    path = filled_form({"CT_1_TU": "abc"})
    wb = openpyxl.load_workbook(path)
    wb[IND].title = "Chi tieu T3"
    for dn in wb.defined_names.values():
        dn.attr_text = dn.attr_text.replace(L.quote_sheet(IND), "'Chi tieu T3'")
    wb.save(path)
    sub = read_workbook(path, nt_ctx)
    assert where(sub) == [("not-a-number", "Chi tieu T3", "E6")]
    assert sub.indicators["3"].numerator == 90


# --- file-level failures ------------------------------------------------------------------------

def test_plain_workbook_is_not_our_form(tmp_path: Path, nt_ctx: ReadContext) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["Tỷ lệ", 90, 120])
    wb.save(tmp_path / "bao-cao.xlsx")
    sub = read_workbook(tmp_path / "bao-cao.xlsx", nt_ctx)
    assert where(sub) == [("not-our-form", None, None)]
    assert not sub.accepted


def _edit_meta(path: Path, **changes: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[L.SHEET_META]
    for row in ws.iter_rows(min_col=1, max_col=2):
        if row[0].value in changes:
            row[1].value = changes[row[0].value]
    wb.save(path)


def test_edited_unit_in_hidden_metadata_breaks_the_signature(filled_form: Filled, nt_ctx: ReadContext) -> None:
    path = filled_form()
    _edit_meta(path, META_UNIT="22789")
    sub = read_workbook(path, nt_ctx)
    assert where(sub) == [("bad-signature", None, None)]
    assert sub.report.problems[0].message == MESSAGES["bad-signature"][1].format(file=NAME)


def test_form_of_another_period_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    ctx = ReadContext(nt_ctx.plan, nt_ctx.registry, SECRET, MARCH.previous())
    sub = read_workbook(filled_form(), ctx)
    assert where(sub) == [("wrong-period", None, None)]
    assert (sub.report.problems[0].value, sub.accepted) == ("2025-03", False)


def test_form_signed_for_a_unit_not_in_the_registry_is_refused(tmp_path: Path, nt_ctx: ReadContext) -> None:
    ghost = Unit(code="99999", name="Xã Không Có", tier="xa")
    lay = L.build_layout(nt_ctx.plan, ghost, nt_ctx.registry.tier("xa"), MARCH)
    path = intake.write_workbook(lay, nt_ctx.plan, tmp_path / "2025-03_99999_xa-khong-co.xlsx", secret=SECRET)
    sub = read_workbook(path, nt_ctx)
    assert where(sub) == [("unit-not-in-registry", None, None)]
    assert sub.report.problems[0].value == "99999"


def test_older_format_version_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    path = filled_form()
    wb = openpyxl.load_workbook(path)
    meta = {row[0].value: row[1].value for row in wb[L.SHEET_META].iter_rows(min_col=1, max_col=2, max_row=6)}
    fields = ("0", meta["META_PLAN"], meta["META_UNIT"], meta["META_PERIOD"])
    _edit_meta(path, META_VERSION="0", META_SIGNATURE=L.sign(SECRET, fields, meta["META_GENERATED"]))
    sub = read_workbook(path, nt_ctx)
    assert where(sub) == [("old-format-version", None, None)]
    assert (sub.report.problems[0].value, sub.format_version) == (0, 0)


def test_empty_file_is_refused(tmp_path: Path, nt_ctx: ReadContext) -> None:
    (tmp_path / NAME).write_bytes(b"")
    assert where(read_workbook(tmp_path / NAME, nt_ctx)) == [("file-empty", None, None)]


def test_truncated_zip_is_unreadable(filled_form: Filled, tmp_path: Path, nt_ctx: ReadContext) -> None:
    data = filled_form().read_bytes()
    (tmp_path / NAME).write_bytes(data[: len(data) // 2])
    sub = read_workbook(tmp_path / NAME, nt_ctx)
    assert where(sub) == [("file-unreadable", None, None)]
    assert sub.report.problems[0].message.startswith(f"Tệp {NAME} không mở được")


def test_corrupted_part_inside_zip_is_unreadable(filled_form: Filled, tmp_path: Path, nt_ctx: ReadContext) -> None:
    data = bytearray(filled_form().read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + min(info.compress_size, 400)):
        data[i] ^= 0x5A
    (tmp_path / NAME).write_bytes(bytes(data))
    assert where(read_workbook(tmp_path / NAME, nt_ctx)) == [("file-unreadable", None, None)]


def test_password_protected_file_is_refused(tmp_path: Path, nt_ctx: ReadContext) -> None:
    # What Excel writes for "Encrypt with password": an OLE2 container holding an EncryptedPackage stream.
    fake = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1016 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 512
    (tmp_path / NAME).write_bytes(fake)
    sub = read_workbook(tmp_path / NAME, nt_ctx)
    assert where(sub) == [("file-encrypted", None, None)]
    assert sub.kind == "encrypted"


def test_pdf_sent_by_mistake_is_not_a_workbook(tmp_path: Path, nt_ctx: ReadContext) -> None:
    (tmp_path / "bao-cao.pdf").write_bytes(b"%PDF-1.7\n%...")
    sub = read_workbook(tmp_path / "bao-cao.pdf", nt_ctx)
    assert sub.report.flatten("code", "value") == [("file-not-workbook", None)]
    assert "PDF" in sub.report.problems[0].message


# --- what clerks do to forms --------------------------------------------------------------------

def test_lowered_target_in_locked_cell_is_reported_and_plan_target_used(
        workspace: Workspace, tmp_path: Path) -> None:
    values = good_values_phuoc_hoa() | {"CT_2_TU": 22, "CT_2_MAU": 100, "CT_2_CHITIEU": 20}
    path = ws_form(workspace, PHUOC_HOA, tmp_path, values)
    [(_, outcome)] = list(import_files(workspace, [path], period=MARCH, received_at=ON_TIME))
    assert [(p["code"], p["severity"], p["sheet"], p["cell"]) for p in outcome.problems] == [
        ("locked-cell-changed", "warning", IND, "I8")]
    assert outcome.problems[0]["message"] == message("locked-cell-changed", sheet=IND, cell="I8", value=20,
                                                     detail=25)
    assert outcome.status == "accepted"
    with store_for(workspace) as store:
        values_df = store.values_frame([MARCH.code])
    rows = aggregate.per_unit(workspace.plan, workspace.registry, values_df, MARCH)
    row = rows[(rows["unit_code"] == PHUOC_HOA) & (rows["indicator"] == "2")].iloc[0]
    assert (row["target"], row["value"], row["status"]) == (25, 22, aggregate.NOT_MET)


def test_form_of_another_unit_sent_under_its_own_name_is_read_as_that_unit(
        filled_form: Filled, tmp_path: Path, nt_ctx: ReadContext) -> None:
    """Phước Tân (22789) sends Phước Hòa's file renamed: the form says whose it is, the name is flagged."""
    copy = tmp_path / "2025-03_22789_xa-phuoc-tan.xlsx"
    shutil.copyfile(filled_form(), copy)
    sub = read_workbook(copy, nt_ctx)
    assert sub.report.flatten("code", "severity", "value") == [("filename-unit-mismatch", "warning", PHUOC_HOA)]
    assert sub.unit_code == PHUOC_HOA


def test_figures_copied_from_another_unit_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    values = good_values_phuoc_hoa()
    hoa = ws_form(workspace, PHUOC_HOA, tmp_path, values)
    tan = ws_form(workspace, "22789", tmp_path, values | {"TT_NGUOI_LAP": "Trần Văn Tân"})
    outcomes = [o for _, o in import_files(workspace, [hoa, tan], period=MARCH, received_at=ON_TIME)]
    assert [(o.unit_code, o.status) for o in outcomes] == [(PHUOC_HOA, "accepted"), ("22789", "rejected")]
    assert [(p["code"], p["value"]) for p in outcomes[1].problems] == [("duplicate-of-other-unit", PHUOC_HOA)]


def test_untouched_form_is_one_form_empty_error(blank_form: Callable[[str], Path], nt_ctx: ReadContext) -> None:
    sub = read_workbook(blank_form(), nt_ctx)
    assert sub.report.flatten("code", "severity", "sheet", "cell") == [("form-empty", "error", None, None)]


def test_form_saved_with_macros_is_accepted_with_a_warning(
        filled_form: Filled, tmp_path: Path, nt_ctx: ReadContext) -> None:
    xlsm = tmp_path / NAME.replace(".xlsx", ".xlsm")
    with zipfile.ZipFile(filled_form()) as src, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    sub = read_workbook(xlsm, nt_ctx)
    assert where(sub) == [("file-macros", None, None)]
    assert (sub.kind, sub.accepted, sub.indicators["3"].value) == ("xlsm", True, 75.0)


@needs_libreoffice
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_form_converted_by_libreoffice_is_read_by_position(
        fmt: str, filled_form: Filled, tmp_path: Path, nt_ctx: ReadContext) -> None:
    converted = office.convert(filled_form({"CT_1_TU": "abc"}), tmp_path / fmt, fmt)
    sub = read_workbook(converted, nt_ctx)
    assert where(sub) == [("file-converted-format", None, None), ("not-a-number", IND, "E6")]
    assert sub.report.problems[0].message == message("file-converted-format", file=converted.name,
                                                     detail="." + fmt)
    assert (sub.kind, sub.unit_code) == (fmt, PHUOC_HOA)
    assert (sub.indicators["3"].numerator, sub.indicators["3"].denominator) == (90, 120)
    assert [c.field for c in sub.cases] == ["Hộ tịch", "Chứng thực"]
    assert sub.tasks["II.2.c"].done_date == date(2025, 3, 10)


def test_blank_form_of_a_small_plan_round_trips_every_kind(
        tmp_path: Path, small_plan: Any, small_registry: Any) -> None:
    path = write_form(small_plan, small_registry, "STP", tmp_path)
    fill(path, {"TT_NGUOI_LAP": "Lê Văn A", "TT_DIEN_THOAI": "0912345678", "TT_NGAY_LAP": date(2025, 3, 12),
                "CT_3_TU": 90, "CT_3_MAU": 120, "CT_15_GT": 92.5, "CT_15_SL": 40, "CT_16_CO": "có",
                "CT_17_TT": "Đã hoàn thành", "CT_17_NGAY": date(2025, 3, 5),
                "GQ_LINH_VUC": ["Hộ tịch"], "GQ_TRUC_TUYEN": [90], "GQ_TRUC_TIEP": [30], "GQ_KY_TRUOC": [0],
                "GQ_TRUOC_HAN": [100], "GQ_DUNG_HAN": [0], "GQ_QUA_HAN": [0], "GQ_DANG_TRONG_HAN": [20],
                "GQ_DANG_QUA_HAN": [0], "NV_II_1_TT": "Đang thực hiện"})
    sub = read_workbook(path, ReadContext(small_plan, small_registry, SECRET, MARCH))
    assert where(sub) == []
    assert {k: (v.value, v.answer) for k, v in sub.indicators.items()} == {
        "3": (75.0, None), "15": (92.5, None), "16": (100.0, "Có"), "17": (None, "Đã hoàn thành")}
    assert sub.indicators["17"].done_date == date(2025, 3, 5)


# --- each check's own findings (every code the reader emits is exercised: tests/test_problems.py) -------------


def test_blank_info_row_is_a_warning_named_by_its_label(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"TT_NGUOI_LAP": None}), nt_ctx)
    assert sub.report.flatten("code", "severity", "sheet", "cell") == [
        ("required-missing", "warning", L.SHEET_INFO, "C9")]
    assert sub.report.problems[0].message == message("required-missing", file=NAME, sheet=L.SHEET_INFO, cell="C9",
                                                     name="TT_NGUOI_LAP", label="người lập biểu")


def test_task_without_status_names_the_task(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"NV_II_2_A_TT": None}), nt_ctx)
    [(code, sheet, cell)] = where(sub)
    assert (code, sheet) == ("task-status-missing", L.SHEET_TASKS)
    assert sub.report.problems[0].message == message("task-status-missing", file=NAME, sheet=sheet, cell=cell,
                                                     name="NV_II_2_A_TT", task="II.2.a")


def test_case_row_without_field_name_is_kept_under_its_row_number(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"GQ_LINH_VUC": [None, "Chứng thực"]}), nt_ctx)
    first = L.CASE_FIRST_ROW + 1
    assert where(sub) == [("case-field-missing", L.SHEET_CASES, f"B{first}")]
    assert [c.field for c in sub.cases] == [wording("unnamed-case-field", row=first), "Chứng thực"]


def test_count_with_an_unclear_separator_is_ambiguous(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form({"CT_1_TU": "1,234"}), nt_ctx)
    assert [p.code for p in sub.report.problems][:1] == ["ambiguous-number"]
    assert sub.report.problems[0].value == "1,234"


def test_form_of_another_plan_is_refused(filled_form: Filled, nt_ctx: ReadContext) -> None:
    other = dataclasses.replace(nt_ctx.plan, id="ke-hoach-khac")
    sub = read_workbook(filled_form(), ReadContext(other, nt_ctx.registry, SECRET))
    assert where(sub) == [("wrong-plan", None, None)]
    assert (sub.report.problems[0].value, sub.accepted) == (nt_ctx.plan.id, False)


def test_case_rows_carry_every_input_and_total_of_the_layout(filled_form: Filled, nt_ctx: ReadContext) -> None:
    sub = read_workbook(filled_form(), nt_ctx)
    row = sub.cases[0]
    assert tuple(f.name for f in dataclasses.fields(row))[2:] == L.CASE_INPUT_KEYS == CASE_KEYS
    for total, parts in L.case_totals_of().items():
        assert getattr(row, total) == sum(getattr(row, k) for k in parts)
