"""Carried-over cases: "Từ kỳ trước" pre-filled from the previous period's pending, a warning by cell at import
when it differs, and a data-quality flag in the aggregate (hand-computed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from cchc_excel.core import aggregate as A
from cchc_excel.core import layout as L
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.problems import MESSAGES
from cchc_excel.core.succession import carried_prefill, check_carried, previous_pending
from cchc_excel.core.units import Registry
from cchc_excel.workbook.fastgen import generate_fast

from .conftest import MARCH, SECRET

FEBRUARY = Period.parse("2025-02")
CARRIED = L.CASE_COLUMNS[[c.key for c in L.CASE_COLUMNS].index("carried")]
CARRIED_LETTER = L.col_letter(CARRIED.col)


def case(unit: str, period: str, field: str, row: int, carried: int, pending: int) -> dict[str, Any]:
    return {"unit_code": unit, "period_code": period, "file_name": f"{period}_{unit}.xlsx", "field": field,
            "row": row, "online": 10, "direct": 5, "carried": carried, "before": 0, "on_time": 15 + carried - pending,
            "late": 0, "pending_in": pending, "pending_late": 0}


def test_prefill_is_each_fields_pending_at_the_end_of_the_previous_month() -> None:
    cases = pd.DataFrame([case("STP", "2025-02", "Hộ tịch", 10, 0, 12), case("STP", "2025-02", "Chứng thực", 11, 0, 0),
                          {**case("STP", "2025-02", "Đất đai", 12, 0, 2), "pending_late": 1}])
    assert carried_prefill(previous_pending(cases, "2025-02")) == {"STP": [("Hộ tịch", 12), ("Đất đai", 3)]}


def test_layout_carries_the_prefill_outside_its_shape(small_plan: Plan, small_registry: Registry) -> None:
    unit = small_registry.get("STP")
    tier = small_registry.tier("tinh")
    one = L.build_layout(small_plan, unit, tier, MARCH, carried=[("Hộ tịch", 12)])
    other = L.build_layout(small_plan, unit, tier, MARCH, carried=[("Hộ tịch", 3), ("Đất đai", 1)])
    assert one.carried == (("Hộ tịch", 12),) and "tháng 2 năm 2025" in one.carried_from
    assert one.shape() == other.shape()                      # the values never make a new template
    assert not one.carried_locked
    locked_plan = dataclasses.replace(small_plan, reporting=dataclasses.replace(small_plan.reporting,
                                                                                carried_over="locked"))
    assert L.build_layout(locked_plan, unit, tier, MARCH, carried=[("Hộ tịch", 12)]).carried_locked
    off_plan = dataclasses.replace(small_plan, reporting=dataclasses.replace(small_plan.reporting, carried_over="off"))
    assert L.build_layout(off_plan, unit, tier, MARCH, carried=[("Hộ tịch", 12)]).carried == ()


def test_generate_prefills_field_and_count_and_locks_them_when_the_plan_says(
        small_plan: Plan, small_registry: Registry, tmp_path: Path) -> None:
    plan = dataclasses.replace(small_plan, reporting=dataclasses.replace(small_plan.reporting, carried_over="locked"))
    units = [small_registry.get("STP"), small_registry.get("X01")]
    made = list(generate_fast(plan, small_registry, MARCH, units, tmp_path, secret=SECRET,
                              carried={"STP": [("Hộ tịch", 12), ("Đất đai", 3)]}))
    ws = openpyxl.load_workbook(made[0].path)[L.SHEET_CASES]
    first = L.CASE_FIRST_ROW + 1
    assert ws[f"B{first}"].value == "Hộ tịch" and ws[f"{CARRIED_LETTER}{first}"].value == 12
    assert ws[f"{CARRIED_LETTER}{first + 1}"].value == 3
    assert ws[f"{CARRIED_LETTER}{first}"].protection.locked
    assert not ws[f"{CARRIED_LETTER}{first + 2}"].protection.locked       # rows below stay open
    notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "đã điền sẵn" in c.value]
    assert notes and "tháng 2 năm 2025" in notes[0]
    blank = openpyxl.load_workbook(made[1].path)[L.SHEET_CASES]      # no pending: nothing pre-filled
    assert blank[f"{CARRIED_LETTER}{first}"].value is None


def test_import_warns_by_cell_when_carried_differs_from_last_months_pending() -> None:
    found = list(check_carried([("Hộ tịch", "F12", 12), ("Chứng thực", "F13", 0), ("hộ tịch ", "F14", 0)],
                               {"Hộ tịch": 15, "Đất đai": 0}, previous_label="tháng 2/2025", file="a.xlsx",
                               sheet=L.SHEET_CASES))
    assert [(p.code, p.cell, p.severity) for p in found] == [("carried-mismatch", "F12", "warning"),
                                                             ("carried-mismatch", "F14", "warning")]
    assert found[0].message == MESSAGES["carried-mismatch"][1].format(
        cell="F12", value=12, detail="tháng 2/2025", expected=15, field="Hộ tịch")
    assert found[0].message.startswith("Ô F12: từ kỳ trước 12 khác số đang giải quyết cuối tháng 2/2025 (15)")


def test_aggregate_flags_carried_mismatch_among_data_quality_warnings(small_plan: Plan) -> None:
    cases = pd.DataFrame([case("STP", "2025-02", "Hộ tịch", 10, 0, 15), case("STP", "2025-03", "Hộ tịch", 12, 12, 0),
                          case("X01", "2025-02", "Hộ tịch", 10, 0, 4), case("X01", "2025-03", "Hộ tịch", 10, 4, 0),
                          case("X02", "2025-03", "Hộ tịch", 10, 9, 0)])   # X02 sent nothing in February
    values = pd.DataFrame([{"unit_code": "STP", "period_code": "2025-03", "indicator": "3", "numerator": 1,
                            "denominator": 27, "value": 100 / 27, "weight": None, "answer": None,
                            "file_name": "x", "sheet": "s", "cell": "E5"}])
    flags = A.quality_flags(small_plan, values, cases, MARCH)
    carried = flags[flags["kind"] == "carried-mismatch"]
    assert carried[["unit_code", "value", "reference", "cell"]].values.tolist() == [
        ["STP", 12.0, 15.0, f"{CARRIED_LETTER}12"]]
