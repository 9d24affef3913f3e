"""The report's computations read once (issue 17): the follow-up from the aggregation's month rows is the
follow-up read from the store; the narrative's one-pass indexes give what pandas' masks and sorts gave."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from types import SimpleNamespace

import pandas as pd

from cchc_excel.core import narrative as N
from cchc_excel.core.period import Period


def test_followup_from_the_aggregation_is_the_followup_read_from_the_store(workspace, tmp_path):  # noqa: ANN001
    from cchc_excel.app import reporting
    from cchc_excel.archive.importing import import_files
    from cchc_excel.archive.store import Store
    from tests.conftest import PHUOC_HOA, good_values_phuoc_hoa, ws_form

    march = Period(2025, "month", 3)
    for n, (unit, bump) in enumerate(((PHUOC_HOA, 0), ("22783", 1), (PHUOC_HOA, 5))):   # PHUOC_HOA sent twice
        inbox = tmp_path / f"nhan{n}"
        inbox.mkdir()
        ws_form(workspace, unit, inbox, {**good_values_phuoc_hoa(), "CT_1_TU": 30 + bump})
        got = [o for _, o in import_files(workspace, [inbox], period=march, received_at=datetime(2025, 3, 10 + n))]
        assert all(o.status == "accepted" for o in got), [o.problems for o in got]
    for period in (march, Period.parse("2025-Q1")):
        agg = reporting.aggregate_period(workspace, period)
        codes = [m.code for m in period.months()]
        reused = reporting._values_of(workspace, period, agg, codes)
        assert reused is not None
        store = Store(workspace.store_url, workspace.archive_dir)
        try:
            read = store.values_frame(codes).drop(columns=["submission_id"])
        finally:
            store.close()
        pd.testing.assert_frame_equal(reused.reset_index(drop=True), read.reset_index(drop=True))
        with_agg = reporting.build_followup_for(workspace, period, agg=agg, as_of=date(2025, 4, 20))
        alone = reporting.build_followup_for(workspace, period, as_of=date(2025, 4, 20))
        assert with_agg.table.to_dict() == alone.table.to_dict()
        assert with_agg.progress.equals(alone.progress)


def test_followup_reads_the_store_when_the_aggregation_is_not_the_stores_rows(workspace):  # noqa: ANN001
    from cchc_excel.app import reporting

    march = Period(2025, "month", 3)
    rows = pd.DataFrame({"period_code": ["2025-03"], "unit_code": ["X"], "indicator": ["1"]})
    agg = SimpleNamespace(period=march, long=rows)   # what _values_of reads of an Aggregation
    codes = ["2025-03"]
    assert reporting._values_of(workspace, march, agg, codes) is not None
    assert reporting._values_of(workspace, march, None, codes) is None
    assert reporting._values_of(workspace, Period(2025, "month", 2), agg, codes) is None, "another period"
    assert reporting._values_of(workspace, march, SimpleNamespace(period=march, long=rows.iloc[:0]), codes) is None, \
        "emptied, as the copy sent to the summary's process"
    restated = dataclasses.replace(workspace, history=SimpleNamespace(changed=True))
    assert reporting._values_of(restated, march, agg, codes) is None, "restated by a succession map"


def test_units_by_value_order_is_pandas_stable_sort_order() -> None:
    values = [3.5, float("nan"), 1.0, -0.0, 0.0, 3.5, None, 1.0, -2.25, float("nan"), 100.0]
    frame = pd.DataFrame({"unit_code": [f"U{i:02d}" for i in range(len(values))], "indicator": "ct1",
                          "status": "Chưa đạt", "tier": "xa", "value": values, "target_label": "tối thiểu 50%"})
    units = N.UnitRows(frame)
    by_pandas = frame.sort_values("value", kind="stable")["unit_code"].tolist()
    assert [units.code[i] for i in units.by_value(units.rows["ct1"])] == by_pandas
    assert units.adjusted == [False] * len(values), "no adjusted column: none adjusted"


def test_group_rows_keep_every_level_in_frame_order_and_tier_rows_keep_the_first_of_a_pair() -> None:
    groups = pd.DataFrame({"level": ["province", "tier", "tier", "tier"], "group_code": ["*", "xa", "xa", "tinh"],
                           "indicator": ["1", "1", "1", "2"], "value": [1.0, 2.0, 3.0, 4.0]})
    by_indicator = N.group_rows(groups)
    assert [r["value"] for r in by_indicator["1"]] == [1.0, 2.0, 3.0], "every level, frame order"
    assert by_indicator["2"] == [groups.iloc[3].to_dict()]
    tiers = N._tier_rows(by_indicator["1"])
    assert tiers["xa"]["value"] == 2.0 and "*" not in tiers
    assert N.group_rows(groups.iloc[:0]) == {}
