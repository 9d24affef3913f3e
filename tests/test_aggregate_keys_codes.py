"""Grouping on the keys' integer codes (`core.aggregate._coded`, `combine_groups(coded=...)`) gives the same
frame, to the last bit, as grouping on the text keys: same groups in the same order, same dtypes, same sums."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from cchc_excel.core import aggregate as A
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry

from .test_months_batching import RULES, _frame


def _coded(rows: pd.DataFrame, keys: list[str]) -> dict[str, tuple[object, object]]:
    return {c: A._coded(rows[c]) for c in [*keys, "indicator"]}


@pytest.mark.parametrize("batch_rows", [1, 500, 10**12])
@pytest.mark.parametrize("keys", [["unit_code"], ["tier"]])
def test_grouped_on_codes_is_grouped_on_text(monkeypatch: pytest.MonkeyPatch, batch_rows: int, keys: list[str]
                                            ) -> None:
    frame = _frame(11)
    frame.loc[frame.index[::97], "indicator"] = None   # rows without an indicator: in no group either way
    where = (frame["period_code"] >= "2025-03") & frame["unit_code"].ne("U005")
    monkeypatch.setattr(A, "BATCH_ROWS", batch_rows)
    for mask in (None, where, where.to_numpy()):
        text = A.combine_groups(RULES, frame, keys, where=mask)
        coded = A.combine_groups(RULES, frame, keys, where=mask, coded=_coded(frame, keys))
        assert len(text) > 0
        pd.testing.assert_frame_equal(coded, text, check_exact=True)
        assert list(coded.dtypes) == list(text.dtypes)


def test_labels_follow_the_codes() -> None:
    column = pd.Series(["b", None, "a", "b", "c", "a"], dtype="str")
    codes, labels = A._coded(column)
    assert list(codes) == [0, -1, 1, 0, 2, 1]
    assert list(labels) == ["b", "a", "c"] and labels.dtype == column.dtype


def _history(plan: Plan, registry: Registry, period: Period) -> pd.DataFrame:
    """A year of month rows of every unit (and one the registry does not know) for the plan's numeric
    indicators, figures with fractions (a float sum's order shows in its last bits)."""
    rng = random.Random(3)
    units = [u.code for u in registry.units] + ["KHONG-CO"]
    indicators = [i.key for i in plan.indicators if i.kind in ("rate", "percent", "count")]
    rows = []
    for m in period.year_to_date():
        for u in units:
            for ind in indicators:
                den = float(rng.randint(0, 40))
                rows.append({"unit_code": u, "period_code": m.code, "indicator": ind,
                             "numerator": float(rng.randint(0, int(den))), "denominator": den,
                             "value": rng.uniform(0, 100), "weight": float(rng.randint(0, 9)), "answer": None,
                             "file_name": None, "sheet": None, "cell": None})
    return pd.DataFrame(rows)


def test_year_to_date_on_codes_is_on_text(monkeypatch: pytest.MonkeyPatch, nt_plan: Plan, nt_registry: Registry
                                          ) -> None:
    """The year to date per unit and per group (tier, district, province), the history grouped on codes as
    `aggregate` does with many rows, and on the text keys."""
    period = Period.for_month(2025, 9)
    values = _history(nt_plan, nt_registry, period)
    monkeypatch.setattr(A, "BATCH_ROWS", 300)
    codes = A._factorize(values["indicator"])
    coded = {"unit_code": A._coded(values["unit_code"]), "indicator": A._coded(values["indicator"], codes)}
    for has_districts in (True, False):
        text = A._ytd_groups(nt_plan, nt_registry, values, period, has_districts=has_districts, codes=codes)
        by_codes = A._ytd_groups(nt_plan, nt_registry, values, period, has_districts=has_districts, codes=codes,
                                 coded=coded)
        assert len(text) > 0
        pd.testing.assert_frame_equal(by_codes, text, check_exact=True)
    text = A.ytd_per_unit(nt_plan, nt_registry, values, period, codes=codes)
    pd.testing.assert_frame_equal(A.ytd_per_unit(nt_plan, nt_registry, values, period, codes=codes, coded=coded),
                                  text, check_exact=True)
    assert "KHONG-CO" in set(text["unit_code"])
