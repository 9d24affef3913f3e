"""The jump check's history read in two steps (`ArchiveIndex.latest`): each unit's latest month first, and a
unit whose file has a value for a key that month left empty (0/0: nothing to measure) completed from the
whole year. The answer is the same as reading the whole year for every unit (`Store.latest_values`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cchc_excel.archive.importing import ArchiveIndex, import_files, store_for
from cchc_excel.archive.workspace import Workspace
from cchc_excel.workbook.readback import ReadContext, read_workbook
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form

TAN = "22789"   # Phước Tân


def test_a_key_the_latest_month_left_empty_is_measured_from_an_earlier_month(workspace: Workspace,
                                                                            tmp_path: Path) -> None:
    values = good_values_phuoc_hoa()
    feb, jan = MARCH.previous(), MARCH.previous().previous()
    months = [(jan, values, 2), (feb, values | {"CT_1_TU": 0, "CT_1_MAU": 0}, 3)]   # February: 0/0 for indicator 1
    for n, (period, vals, month) in enumerate(months):
        for unit in (PHUOC_HOA, TAN):
            own = vals | ({"CT_7_TU": 95} if unit == TAN else {})   # other figures: not a copy of Phước Hòa's
            path = ws_form(workspace, unit, tmp_path / f"{unit}-{n}", own, period=period)
            [(_, outcome)] = list(import_files(workspace, [path], period=period,
                                               received_at=datetime(2025, month, 10)))
            assert outcome.status == "accepted", outcome.problems
    # March at 10% for indicator 1: a jump from January's 80% (February had nothing to measure), for Phước
    # Hòa; Phước Tân keeps 80%.
    mar = [ws_form(workspace, PHUOC_HOA, tmp_path / "mar", values | {"CT_1_TU": 5}),
           ws_form(workspace, TAN, tmp_path / "mar-tan", values | {"CT_7_TU": 95})]
    outcomes = [o for _, o in import_files(workspace, mar, period=MARCH, received_at=datetime(2025, 3, 10))]
    assert [o.status for o in outcomes] == ["accepted"] * 2
    assert [[p["name"] for p in o.problems if p["code"] == "big-jump"] for o in outcomes] == [["1"], []]


def test_the_two_steps_agree_with_the_whole_year_on_every_key_a_file_has(any_workspace: Workspace,
                                                                          tmp_path: Path) -> None:
    workspace = any_workspace   # SQLite and PostgreSQL
    values = good_values_phuoc_hoa()
    feb, jan = MARCH.previous(), MARCH.previous().previous()
    sent = [(jan, PHUOC_HOA, values), (feb, PHUOC_HOA, values | {"CT_1_TU": 0, "CT_1_MAU": 0, "CT_2_TU": 20}),
            (jan, TAN, values | {"CT_3_TU": 80})]   # Phước Tân: nothing in February
    for n, (period, unit, vals) in enumerate(sent):
        path = ws_form(workspace, unit, tmp_path / str(n), vals, period=period)
        list(import_files(workspace, [path], period=period, received_at=datetime(2025, 3, 1)))
    ctx = ReadContext(workspace.plan, workspace.registry, workspace.secret, MARCH)
    subs = [read_workbook(ws_form(workspace, unit, tmp_path / f"m{unit}", values | {"CT_7_TU": 90 + i}), ctx)
            for i, unit in enumerate((PHUOC_HOA, TAN))]
    with store_for(workspace) as store:
        whole = store.latest_values(MARCH.code, "2024-03")
        latest = ArchiveIndex(store).latest(MARCH, subs)
    keys = {(sub.unit_code, key) for sub in subs for key, iv in sub.indicators.items() if iv.value is not None}
    assert {k: whole.get(k) for k in keys} == {k: latest.get(k) for k in keys}
    assert whole[(PHUOC_HOA, "1")] == 80.0 and whole[(PHUOC_HOA, "2")] == 20.0
    assert round(whole[(TAN, "3")], 6) == 66.666667
