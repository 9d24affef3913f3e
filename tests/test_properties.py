"""Properties that must hold for any input: the number parser never raises and reads back what the
formatters write; pooled aggregation is bounded by its units, blind to empty units and to import order."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc_excel.core.aggregate import combine
from cchc_excel.core.vntext import format_count, format_number, parse_number
from tests.test_aggregate import load, run, values

PLAN, REGISTRY = load()
RATE = PLAN.indicator("3")
WEIGHTED = PLAN.indicator("15")
UNITS = ["S1", "S2", "H1", "X1", "X2"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the number parser ---------------------------------------------------------------------------------

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.decimals(allow_nan=True, allow_infinity=True), st.text(), st.binary(),
                     st.text(alphabet="0123456789.,% +-−()\u00a0\u2009\uff10\uff11\u200b"))


@SETTINGS
@given(ANYTHING)
def test_parse_number_never_raises_and_answers_value_or_reason(raw: object) -> None:
    parsed = parse_number(raw)
    if parsed.value is None:
        assert parsed.reason is None or isinstance(parsed.reason, str)
    else:
        assert parsed.reason is None and math.isfinite(parsed.value)


@SETTINGS
@given(st.integers(min_value=-10**15, max_value=10**15))
def test_formatted_count_reads_back_as_the_same_count(n: int) -> None:
    text = format_count(n)
    parsed = parse_number(text)
    assert (parsed.value, parsed.reason) == (n, None), text


@SETTINGS
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_formatted_number_reads_back_rounded_half_up_to_two_decimals(x: float) -> None:
    text = format_number(x)
    expected = float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    parsed = parse_number(text)
    assert parsed.reason is None, text
    assert parsed.value == pytest.approx(expected, abs=0.0051), text
    assert format_number(parsed.value) == text


# --- pooled aggregation --------------------------------------------------------------------------------

def rate_rows(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return values([(f"U{i}", "2025-03", "3", num, den) for i, (num, den) in enumerate(pairs)])


PAIRS = st.lists(st.integers(min_value=1, max_value=10**6).flatmap(
    lambda den: st.tuples(st.integers(min_value=0, max_value=den), st.just(den))), min_size=1, max_size=12)


@SETTINGS
@given(PAIRS)
def test_pooled_rate_lies_between_the_lowest_and_highest_unit_rate(pairs: list[tuple[int, int]]) -> None:
    pooled = combine(RATE, rate_rows(pairs)).value
    rates = [num / den * 100 for num, den in pairs]
    assert pooled is not None
    assert min(rates) - 1e-9 <= pooled <= max(rates) + 1e-9


@SETTINGS
@given(PAIRS, st.integers(min_value=0, max_value=11))
def test_unit_with_zero_denominator_changes_nothing(pairs: list[tuple[int, int]], at: int) -> None:
    with_empty = [*pairs]
    with_empty.insert(at % (len(pairs) + 1), (0, 0))
    a, b = combine(RATE, rate_rows(pairs)), combine(RATE, rate_rows(with_empty))
    assert (a.value, a.numerator, a.denominator) == (b.value, b.numerator, b.denominator)


@SETTINGS
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=100), st.integers(min_value=0, max_value=10**5)),
                min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_weighted_percent_is_bounded_and_order_free(rows: list[tuple[float, int]], rnd: object) -> None:
    frame = values([(f"U{i}", "2025-03", "15", None, None, v, w) for i, (v, w) in enumerate(rows)])
    shuffled = frame.sample(frac=1, random_state=rnd.randint(0, 2**31))  # type: ignore[attr-defined]
    a, b = combine(WEIGHTED, frame), combine(WEIGHTED, shuffled)
    assert (a.value is None) == (b.value is None)
    if a.value is not None:
        weighted = [v for v, w in rows if w > 0]
        assert min(weighted) - 1e-6 <= a.value <= max(weighted) + 1e-6
        assert a.value == pytest.approx(b.value, rel=1e-12, abs=1e-9)


UNIT_ROWS = st.lists(
    st.tuples(st.sampled_from(UNITS), st.sampled_from(["3", "2"]),
              st.integers(min_value=0, max_value=5000).flatmap(
                  lambda den: st.tuples(st.integers(min_value=0, max_value=den), st.just(den)))),
    min_size=1, max_size=10, unique_by=lambda r: (r[0], r[1]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(UNIT_ROWS, st.randoms(use_true_random=False))
def test_order_of_imports_does_not_change_the_aggregation(rows: list, rnd: object) -> None:
    frame = values([(u, "2025-03", ind, num, den) for u, ind, (num, den) in rows])
    shuffled = frame.sample(frac=1, random_state=rnd.randint(0, 2**31)).reset_index(drop=True)  # type: ignore[attr-defined]
    a, *_ = run(frame)
    b, *_ = run(shuffled)
    keys = ["level", "group_code", "indicator"]
    cols = keys + ["value", "numerator", "denominator", "units_reported", "units_met"]
    ga = a.groups[cols].sort_values(keys).reset_index(drop=True)
    gb = b.groups[cols].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(ga, gb, check_exact=False, rtol=1e-12, atol=1e-9)
    ua = a.units.sort_values(["unit_code", "indicator"]).reset_index(drop=True)
    ub = b.units.sort_values(["unit_code", "indicator"]).reset_index(drop=True)
    assert ua["status"].tolist() == ub["status"].tolist()
