"""Many months of history: `core.aggregate.combine_groups` sums a large frame an indicator at a time
(`_sums_by_indicator`, to hold less at once). It must give exactly what one grouping of all the rows gives,
to the last bit of every float, whatever the rows' order (pandas sums a grouping whose rows come group after
group with numpy's pairwise reduceat, other groupings with a compensated loop)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from cchc_excel.core import aggregate as A

RULES = {"r1": "pooled", "r2": "pooled", "p1": "weighted", "p2": "mean", "y1": "mean"}


def _frame(seed: int, units: int = 40, months: int = 12, *, blanks: bool = True) -> pd.DataFrame:
    """Month rows as the store gives them (by period, then unit), figures with fractions so that the order of
    a float sum shows in its last bits; some figures missing, some units without a tier."""
    rng = random.Random(seed)
    rows = []
    for m in range(1, months + 1):
        for u in range(units):
            for ind in RULES:
                num = den = val = wgt = None
                if ind.startswith("r"):
                    den = float(rng.randint(0, 50))
                    num = float(rng.randint(0, int(den)))
                    val = num / den * 100 if den else None
                elif ind.startswith("p"):
                    val, wgt = rng.uniform(0, 100), float(rng.randint(0, 30))
                else:
                    val = rng.choice([0.0, 100.0, 1 / 3])
                if blanks and rng.random() < 0.05:
                    num = val = None
                rows.append({"unit_code": f"U{u:03d}", "period_code": f"2025-{m:02d}", "indicator": ind,
                             "numerator": num, "denominator": den, "value": val, "weight": wgt,
                             "tier": None if (blanks and u == 7) else ("a" if u % 3 else "b")})
    return pd.DataFrame(rows)


def _both(monkeypatch: pytest.MonkeyPatch, rows: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    monkeypatch.setattr(A, "BATCH_ROWS", 10**12)
    whole = A.combine_groups(RULES, rows, keys)
    monkeypatch.setattr(A, "BATCH_ROWS", 1)
    batched = A.combine_groups(RULES, rows, keys)
    return whole, batched


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("keys", [["unit_code"], ["tier"], []])
def test_batched_sums_are_one_groupings_sums(monkeypatch: pytest.MonkeyPatch, seed: int, keys: list[str]) -> None:
    rows = _frame(seed)
    whole, batched = _both(monkeypatch, rows, keys)
    assert len(whole) > 0
    pd.testing.assert_frame_equal(whole, batched, check_exact=True)


@pytest.mark.parametrize("keys", [["unit_code"], ["tier"]])
def test_rows_sorted_by_group_take_the_same_path(monkeypatch: pytest.MonkeyPatch, keys: list[str]) -> None:
    """Rows that come group after group (pandas' reduceat) and shuffled rows: both as one grouping."""
    rows = _frame(4, blanks=False)
    for frame in (rows.sort_values([*keys, "indicator"], kind="stable"), rows.sample(frac=1, random_state=5)):
        whole, batched = _both(monkeypatch, frame, keys)
        pd.testing.assert_frame_equal(whole, batched, check_exact=True)


def test_without_weights_and_with_a_missing_indicator(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _frame(6).drop(columns=["weight"])
    rows.loc[rows.index[::50], "indicator"] = None
    whole, batched = _both(monkeypatch, rows, ["unit_code"])
    pd.testing.assert_frame_equal(whole, batched, check_exact=True)


def test_one_month_goes_one_grouping(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group of one row per unit: any order of summing is exact; still the same frame."""
    whole, batched = _both(monkeypatch, _frame(7, months=1), ["unit_code"])
    pd.testing.assert_frame_equal(whole, batched, check_exact=True)


@pytest.mark.parametrize("batch_rows", [1, 500, 10**12])
@pytest.mark.parametrize("keys", [["unit_code"], ["tier"]])
def test_where_is_the_rows_selected(monkeypatch: pytest.MonkeyPatch, batch_rows: int, keys: list[str]) -> None:
    """`where` picks the rows a batch at a time: the same frame as the selected rows' copy, to the last bit,
    whether the selection leaves gaps inside a group's run (sorted rows) or not."""
    for frame in (_frame(8), _frame(9, blanks=False).sort_values([*keys, "indicator"], kind="stable")):
        where = (frame["period_code"] >= "2025-04") & frame["unit_code"].ne("U003")
        where &= pd.Series([i % 7 != 0 for i in range(len(frame))], index=frame.index)
        monkeypatch.setattr(A, "BATCH_ROWS", 10**12)
        copied = A.combine_groups(RULES, frame[where], keys)
        monkeypatch.setattr(A, "BATCH_ROWS", batch_rows)
        pd.testing.assert_frame_equal(A.combine_groups(RULES, frame, keys, where=where), copied, check_exact=True)
        pd.testing.assert_frame_equal(A.combine_groups(RULES, frame, keys, where=where.to_numpy()), copied,
                                      check_exact=True)
    none = pd.Series(False, index=frame.index)
    assert A.combine_groups(RULES, frame, keys, where=none).empty


@pytest.mark.parametrize("batch_rows", [1, 3, 1000])
def test_factorize_by_slices_is_pandas_factorize(monkeypatch: pytest.MonkeyPatch, batch_rows: int) -> None:
    column = _frame(10)["indicator"].astype("str")
    column[column.index[::13]] = None
    monkeypatch.setattr(A, "BATCH_ROWS", batch_rows)
    assert A._factorize(column).tolist() == pd.factorize(column)[0].tolist()
