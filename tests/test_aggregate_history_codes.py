"""A year of history tested and grouped on integer codes (`core.aggregate._period_mask`, `_months_counted`,
`_history_spread(coded=...)`) gives what the tests and groupings on the strings give, to the last bit."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from cchc_excel.core import aggregate as A
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry

from .test_aggregate_keys_codes import _history


def _gappy(plan: Plan, registry: Registry, period: Period) -> pd.DataFrame:
    """`_history` with holes: rows without a period, unit or indicator, values missing, repeated values (a
    median of an even count, a spread of 0)."""
    values = _history(plan, registry, period)
    rng = random.Random(5)
    for column, every in (("period_code", 89), ("unit_code", 97), ("indicator", 101), ("value", 13)):
        values.loc[values.index[rng.randrange(every)::every], column] = None
    values.loc[values.index[::7], "value"] = 50.0
    return values


@pytest.mark.parametrize("batch_rows", [1, 10**12])
def test_period_masks_are_the_string_tests(monkeypatch: pytest.MonkeyPatch, batch_rows: int) -> None:
    monkeypatch.setattr(A, "BATCH_ROWS", batch_rows)   # 1: the column factorized a row at a time
    column = pd.Series(["2025-02", "2025-01", None, "2025-03", "2025-01", "2025-12"] * 3, dtype="str")
    wanted = {"2025-02", "2025-12"}
    for periods in (None, A._coded(column)):   # coded on the spot, or by the caller (`aggregate`)
        pd.testing.assert_series_equal(A._period_mask(column, lambda c: c == "2025-01", periods), column == "2025-01")
        pd.testing.assert_series_equal(A._period_mask(column, lambda c: c < "2025-03", periods), column < "2025-03")
        pd.testing.assert_series_equal(A._period_mask(column, lambda c: c in wanted, periods), column.isin(wanted))


def test_period_mask_of_a_changed_column_is_new() -> None:
    # A column changed in place keeps its array: its test (outside an aggregation) reads the new codes.
    column = pd.Series(["2025-01", "2025-04"], dtype="object")
    assert A._period_mask(column, lambda c: c == "2025-04").tolist() == [False, True]
    column[0] = "2025-04"
    assert A._period_mask(column, lambda c: c == "2025-04").tolist() == [True, True]


def test_months_counted_on_codes_is_nunique(nt_plan: Plan, nt_registry: Registry) -> None:
    values = _gappy(nt_plan, nt_registry, Period.for_month(2025, 9))
    lone = values.iloc[:1].assign(unit_code="MOT-DONG", period_code=None)   # its one row has no period
    values = pd.concat([values, lone], ignore_index=True)
    rows = values["period_code"].ne("2025-04").to_numpy()
    coded = {"unit_code": A._coded(values["unit_code"]), "indicator": A._coded(values["indicator"])}
    counted = A._months_counted(values["period_code"], rows, coded)
    text = values["period_code"][rows].groupby([values["unit_code"][rows], values["indicator"][rows]],
                                               sort=False).nunique()
    assert counted is not None and (counted == 0).any()   # a group whose only rows have no period
    keys = ["unit_code", "indicator"]
    mine = counted.reset_index().sort_values(keys, ignore_index=True)
    theirs = text.rename("months").reset_index().sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


@pytest.mark.parametrize("batch_rows", [400, 10**12])
def test_jump_check_on_codes_is_on_text(monkeypatch: pytest.MonkeyPatch, batch_rows: int, nt_plan: Plan,
                                        nt_registry: Registry) -> None:
    monkeypatch.setattr(A, "BATCH_ROWS", batch_rows)
    period = Period.for_month(2025, 9)
    values = _gappy(nt_plan, nt_registry, period)
    values.loc[values["period_code"].eq(period.code), "value"] *= 3   # far from the history: flagged
    codes = A._factorize(values["indicator"])
    coded = {"unit_code": A._coded(values["unit_code"]), "indicator": A._coded(values["indicator"], codes)}
    empty = pd.DataFrame(columns=["unit_code", "period_code"])
    text = A.quality_flags(nt_plan, values, empty, period, codes=codes)
    by_codes = A.quality_flags(nt_plan, values, empty, period, codes=codes, coded=coded)
    assert text["kind"].eq("jump").sum() > 10
    pd.testing.assert_frame_equal(by_codes, text, check_exact=True)
    before = (values["period_code"] < period.code) & values["value"].notna()
    spread = A._history_spread(values, before.to_numpy(), codes, coded).sort_index()
    pd.testing.assert_frame_equal(spread, A._history_spread(values, before.to_numpy(), codes).sort_index(),
                                  check_exact=True)
