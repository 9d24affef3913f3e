"""Aggregation: pure functions over the long table of reported values (pandas in, pandas out).

Rates are pooled — the sum of numerators over the sum of denominators — never the mean of the units'
percentages; the number and share of units meeting their own targets is reported beside, labelled.
Reported percentages are combined by the rule the plan states per indicator (weighted by a count, or a
plain mean). Year to date sums the counts of the months and recomputes the rate from the sums.

A quarter, six or nine months, or a year is built from the accepted monthly submissions of its months, the
same way (`pool_months`): each unit's counts summed over the months it sent and its rate recomputed,
percentages combined by the plan's rule, yes/no and tasks at their latest answer, the case table's flows
summed (carried-over cases from the first month, pending ones from the last), difficulties and proposals
gathered and attributed with their month; a unit that missed a month is named, its figures cover the months
it sent (`unit_status`: months accepted, on time, late, missing). The previous period of the same kind and
the same period last year are pooled the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from .layout import CASE_COLUMNS, CASE_INPUT_KEYS, STATUSES, case_totals_of, col_letter
from .period import Period, working_days_between
from .plan import (
    MET,
    MET_NUDGE,
    MET_OPERATORS,
    NOT_MET,
    SHOWN_DECIMALS,
    Indicator,
    Plan,
    Target,
    indicators_for,
    tasks_for,
)
from .problems import wording
from .succession import carried_mismatches
from .units import Registry, Tier, Unit
from .vntext import clean_text, format_number, match_key

NOT_REPORTED = "Chưa báo cáo"
NO_CASES = "Không phát sinh"
PARTIAL = "Thiếu tháng"   # a longer period: the unit sent some of its months, not all

VALUE_COLUMNS = ["unit_code", "period_code", "indicator", "numerator", "denominator", "value", "weight", "answer",
                 "file_name", "sheet", "cell"]


@dataclass(frozen=True)
class Combined:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n: int = 0


def rules_of(plan: Plan) -> dict[str, str]:
    """The combination rule of each indicator: pooled for rates, else the plan's weighted / mean."""
    return {i.key: ("pooled" if i.kind == "rate" else i.combine) for i in plan.indicators}


COMBINED_COLUMNS = ["value", "numerator", "denominator", "n"]


def _numbers(column: pd.Series) -> pd.Series:
    """The column as `pd.to_numeric(errors="coerce")` gives it, without its copy when it holds floats already
    (the store's figures: a year of history is half a million rows)."""
    return column if column.dtype == "float64" else pd.to_numeric(column, errors="coerce")


# From this many rows a grouping is done a few indicators at a time, in batches of about this many rows
# (`_indicator_batches`): a year of history is half a million rows, and one grouping of them all held four times
# their figures at once. Smaller batches hold less but cost a grouping's overhead each: at 100,000 a year of
# 4,000 units' batches (two indicators each) set the aggregation's peak, ~9 MB more than one indicator each.
BATCH_ROWS = 50_000


def _factorize(column: pd.Series) -> Any:
    """`pd.factorize(column)[0]` (codes in the order values first appear, -1 for a missing value), a slice of
    `BATCH_ROWS` rows at a time: pandas sizes its hash table for every row, not for the few distinct values (a
    year of history's indicators: 32 MB at once for 4 MB of codes)."""
    if len(column) <= BATCH_ROWS:
        codes, uniques = pd.factorize(column)
        return _compact(codes, len(uniques))
    seen: dict[Any, int] = {}
    out = []
    for start in range(0, len(column), BATCH_ROWS):
        codes, uniques = pd.factorize(column.iloc[start:start + BATCH_ROWS])
        # the slice's codes renumbered by first appearance in the whole column; its -1 takes the appended -1
        renumber = pd.Series([*(seen.setdefault(u, len(seen)) for u in uniques), -1], dtype="int64").to_numpy()
        out.append(renumber[codes])
    return _compact(pd.concat([pd.Series(c, copy=False) for c in out], ignore_index=True).to_numpy(), len(seen))


def _compact(codes: Any, n: int) -> Any:
    """Codes of `n` values (and -1) in the smallest signed integers that hold them: a year of history's
    indicator codes are kept through the whole aggregation (`aggregate`), 0.5 MB as int8 instead of 4 MB."""
    for dtype, top in (("int8", 127), ("int16", 32_767), ("int32", 2_147_483_647)):
        if n <= top:
            return codes.astype(dtype)
    return codes


def _period_mask(column: pd.Series, keep: Callable[[str], bool], periods: tuple[Any, Any] | None = None
                 ) -> pd.Series:
    """Rows whose period code `keep` accepts (a missing code: False), as a boolean Series over `column`'s index:
    what `column == code`, `column.isin(codes)` or `column < code` give, the labels tested once each.
    `periods`: `_coded(column)`, when the caller has them (`aggregate` codes its rows' periods once for the
    dozen tests it makes: one test of a year of history's strings cost ~35 ms, a take of their codes ~1 ms)."""
    codes, labels = _coded(column) if periods is None else periods
    return _label_mask(codes, labels, keep, column.index)


def _label_mask(codes: Any, labels: Any, keep: Callable[[Any], bool], index: Any) -> pd.Series:
    """Rows whose code's label `keep` accepts (a code of -1: False), as a boolean Series over `index`: each
    label tested once, the rows' answers taken from their codes."""
    kept = pd.Series([*(bool(keep(label)) for label in labels), False], dtype="bool").to_numpy()
    return pd.Series(kept[codes], index=index, copy=False)


def _coded(column: pd.Series, codes: Any = None) -> tuple[Any, Any]:
    """`column` as (codes, labels): `_factorize(column)` (or `codes`, when the caller has them) and the value of
    each code (`labels[code]`). Grouping many times on the codes hashes integers, not the strings again."""
    codes = _factorize(column) if codes is None else codes
    first = pd.Series(codes, copy=False)
    first = first[first >= 0].drop_duplicates().sort_values()   # each code's first row, in the codes' order
    return codes, column.iloc[first.index.to_numpy()].array


def _joint_key(codes: Sequence[Any], widths: Sequence[int]) -> Any:
    """One int64 per row for several keys' codes (each code below its key's width): the number whose digits they
    are, the first key's most significant, so that the joint keys sort as the tuples of codes do and each holds
    one combination. A row with a code of -1 gets a meaningless key: the caller masks or leaves it out."""
    key = codes[0].astype("int64")
    for code, width in zip(codes[1:], widths[1:], strict=True):
        key *= width
        key += code
    return key


def _split_key(key: Any, widths: Sequence[int]) -> list[Any]:
    """The codes `_joint_key` made each of `key` of (keys of rows with every code present)."""
    digits = []
    for width in reversed(widths[1:]):
        digits.append(key % width)
        key = key // width
    return [key, *reversed(digits)]


def _coded_rows(coded: Mapping[str, tuple[Any, Any]] | None, rows: Any) -> Mapping[str, tuple[Any, Any]] | None:
    """`coded` for the rows a boolean mask selects."""
    return None if coded is None else {c: (codes[rows], labels) for c, (codes, labels) in coded.items()}


def _indicator_batches(indicators: pd.Series, rows: Any = None, *, codes: Any = None) -> Iterator[Any]:
    """Masks over `indicators` (and `rows`, a boolean array, when given) each selecting whole indicators, about
    `BATCH_ROWS` rows each, in the order the indicators first appear; rows without an indicator in none.
    `codes`: `_factorize(indicators)` when the caller has it (`aggregate` factorizes the history's once).
    Each mask is made when the caller asks for it, from one small integer per row: a year of history's masks
    all at once held a byte per row per batch while the batches were summed (the aggregation's peak)."""
    codes = _factorize(indicators) if codes is None else codes
    if rows is not None:
        codes = codes.copy()
        codes[~rows] = -1
    sizes = pd.Series(codes[codes >= 0]).value_counts(sort=False).sort_index()
    batch_of, batch, filled = [], 0, 0
    for size in sizes.tolist():
        if filled and filled + size > BATCH_ROWS:
            batch, filled = batch + 1, 0
        batch_of.append(batch)
        filled += size
    batch_of.append(-1)   # a code of -1 (no indicator, or not among `rows`) takes the last entry: no batch
    if not len(sizes):
        return iter(())
    batch_ids = _compact(pd.Series(batch_of, dtype="int64").to_numpy(), batch + 1)[codes]
    return (batch_ids == b for b in range(batch + 1))


def combine_groups(rules: Mapping[str, str], rows: pd.DataFrame, keys: Sequence[str], *,
                   where: Any = None, codes: Any = None,
                   coded: Mapping[str, tuple[Any, Any]] | None = None) -> pd.DataFrame:
    """Combine units' figures per (keys..., indicator) by each indicator's rule, vectorised:
    pooled = sum of numerators / sum of denominators (pairs with both present); weighted = sum(value x weight)
    / sum(weight); mean = plain mean. Columns: keys, indicator, value, numerator, denominator, n.

    `where` (a boolean mask over `rows`): only those rows, as `combine_groups(rules, rows[where], keys)` gives
    them, without that copy when they are many (a year to date of history: the batches are copied from
    `rows` one at a time). `codes`: `_factorize(rows["indicator"])`, when the caller has it. `coded`: every
    key and the indicator as `_coded` gives them over `rows`, when the caller has them (the rows are then
    grouped on those integers: a year of history's unit codes hashed once, not by every grouping)."""
    cols = [*keys, "indicator"]
    if where is not None:
        where = pd.Series(where, copy=False).to_numpy(dtype=bool)
        if where.all():
            where = None
        elif where.sum() < BATCH_ROWS:   # the figures of those rows copied (not the file names and cells)
            kept = [c for c in rows.columns if c in (*cols, "numerator", "denominator", "value", "weight")]
            rows, where, codes, coded = rows.loc[where, kept], None, None, _coded_rows(coded, where)
    if rows.empty or (where is not None and not where.any()):
        return pd.DataFrame(columns=[*cols, *COMBINED_COLUMNS])
    g = _sums_by_indicator(rows, cols, where, codes, coded) if where is not None or len(rows) >= BATCH_ROWS \
        else _sums(rows, cols, coded=coded)[0]
    rule = g["indicator"].map(rules).fillna("mean")
    pooled, weighted = rule.eq("pooled"), rule.eq("weighted")
    nan = float("nan")
    rate = (g["_num"] / g["_den"].where(g["_den"] > 0) * 100)
    wmean = g["_vw"] / g["_w"].where(g["_w"] > 0)
    mean = g["_v"] / g["_n_val"].where(g["_n_val"] > 0)
    out = g[cols].copy()
    out["value"] = rate.where(pooled, wmean.where(weighted, mean))
    out["numerator"] = g["_num"].where(pooled, nan)
    out["denominator"] = g["_den"].where(pooled, g["_w"].where(weighted, nan))
    out["n"] = g["_n_pair"].where(pooled, g["_n_val"]).astype(int)
    return out


def _sums(rows: pd.DataFrame, cols: list[str], *, batch: bool = False,
          coded: Mapping[str, tuple[Any, Any]] | None = None) -> tuple[pd.DataFrame, Any]:
    """Per group of `cols` (in order of first appearance): the sums `combine_groups` combines.

    `batch` (the rows of one indicator, `_sums_by_indicator`): the floats are summed as one grouping of all the
    rows sums them when its groups interleave, and the groups' rows are located: (first row, last row, rows)
    per group, positions in `rows`. pandas sums the groups of a grouping whose rows come group after group
    with numpy's pairwise `reduceat`, others with its compensated (Kahan) loop: one indicator's rows may come
    group after group when all the rows do not. A row without a group at the end (left out by the grouping)
    keeps the batch on the compensated loop.

    `coded` (`combine_groups`): the rows are grouped on the codes of `cols` (-1: no group), in the same order
    and with the same sums as on the values themselves (a code per value), and the values put back. With
    `batch`, the caller's rows end with that row left out already (its codes -1: `_sums_by_indicator` copies
    the batch once, with that row, instead of appending it to a copy here)."""
    if batch and coded is None:
        blank = rows.iloc[:1].copy()
        for c in cols:
            if c in blank:
                blank[c] = blank[c].where(pd.Series(False, index=blank.index))
        rows = pd.concat([rows, blank], ignore_index=True)
    num, den, val = _numbers(rows["numerator"]), _numbers(rows["denominator"]), _numbers(rows["value"])
    wgt = _numbers(rows["weight"]) if "weight" in rows else pd.Series(float("nan"), rows.index)
    pair = num.notna() & den.notna()
    has_value = val.notna()
    used_weight = wgt.where(has_value & wgt.notna(), 0.0)
    # Only the figures are copied, the rows are grouped by their own key columns. copy=False: the columns just
    # computed are the frame's (no consolidated second copy). The counts are summed from booleans (a byte a
    # row; their sums are int64 as from ints).
    work = pd.DataFrame({"_num": num.where(pair, 0.0), "_den": den.where(pair, 0.0), "_n_pair": pair,
                         "_vw": val.fillna(0.0) * used_weight, "_w": used_weight,
                         "_v": val.where(has_value, 0.0), "_n_val": has_value}, copy=False)
    widths = [max(len(coded[c][1]), 1) for c in cols] if coded is not None else []
    one_key = len(cols) > 1 and 0 < len(rows) and math.prod(widths) < 2 ** 62
    if coded is None:
        by = [rows[c] for c in cols]
    elif one_key:
        # One integer per combination of the keys' codes: grouped as on the keys themselves (the groups in the
        # order they first appear, the same rows in each), one key factorized instead of several combined.
        key = _joint_key([coded[c][0] for c in cols], widths)
        missing = coded[cols[0]][0] < 0
        for c in cols[1:]:
            missing |= coded[c][0] < 0
        by = [pd.Series(pd.arrays.IntegerArray(key, missing), index=rows.index, name="_key")]
    else:
        by = [pd.Series(pd.arrays.IntegerArray(coded[c][0], coded[c][0] < 0), index=rows.index, name=c)
              for c in cols]
    grouped = work.groupby(by, sort=False)
    sums = grouped.sum(numeric_only=True).reset_index()
    if coded is not None and one_key:
        for at, (c, code) in enumerate(zip(cols, _split_key(sums.pop("_key").to_numpy(dtype="int64"), widths),
                                           strict=True)):
            sums.insert(at, c, coded[c][1].take(code))
    elif coded is not None:
        for c in cols:
            sums[c] = coded[c][1].take(sums[c].to_numpy(dtype="int64"))
    if not batch:
        return sums, None
    number = pd.Series(grouped.ngroup().to_numpy())   # groups are numbered in the order they first appear
    number = number[number.ge(0)]                      # -1 / NaN: a row left out
    first = number.drop_duplicates(keep="first").index.to_numpy()
    last = number.drop_duplicates(keep="last").sort_values().index.to_numpy()
    return sums, (first, last, number.value_counts().sort_index().to_numpy())


def _sums_by_indicator(rows: pd.DataFrame, cols: list[str], where: Any = None, codes: Any = None,
                       coded: Mapping[str, tuple[Any, Any]] | None = None) -> pd.DataFrame:
    """`_sums` of many rows, an indicator at a time. Every group has one indicator, so it is summed from the
    same rows in the same order; the groups are then put back in the order they first appear in `rows`, as
    one grouping gives them. The same floats as one grouping: each batch is summed by the compensated loop,
    which one grouping uses whenever a group of three rows or more is not in one run (its rows interleave
    with others'); otherwise (rows sorted by group) the rows are summed in one grouping. `where`: only those
    rows (`combine_groups`); `coded`: their keys' codes (`_sums`)."""
    if where is not None:
        where = pd.Series(where, copy=False).to_numpy(dtype=bool)
    # (grouped on codes: the key columns are not copied)
    figures = [c for c in (*(cols if coded is None else ()), "numerator", "denominator", "value", "weight")
               if c in rows.columns]
    parts, firsts, interleaved = [], [], False
    for chosen in _indicator_batches(rows["indicator"], where, codes=codes):
        at = chosen.nonzero()[0]
        if coded is None:
            sums, (first, last, count) = _sums(rows.loc[chosen, figures], cols, batch=True)
        else:
            # The batch's figures and, as the row left out at its end, its first row's again (codes -1): one
            # copy of the batch, not a second one with the row appended (`_sums`).
            pad = pd.concat([pd.Series(at, copy=False), pd.Series(at[:1], copy=False)], ignore_index=True)
            picked = rows[figures].take(pad.to_numpy()).reset_index(drop=True)
            minus = {c: (pd.concat([pd.Series(codes[at], copy=False), pd.Series([-1], dtype=codes.dtype)],
                                   ignore_index=True).to_numpy(), labels) for c, (codes, labels) in coded.items()}
            sums, (first, last, count) = _sums(picked, cols, batch=True, coded=minus)
            del picked
        if len(sums):
            # Positions among the rows summed (those `where` selects): whether a group's rows come in one run
            # is judged as if only they were there. (Counted for each batch once it is summed: an int32 per
            # row of a year of history, kept, was 2 MB more while the batches are summed, the aggregation's peak.)
            mine = at if where is None else where.cumsum(dtype="int32")[at] - 1
            parts.append(sums)
            firsts.append(mine[first])
            interleaved = interleaved or bool(((mine[last] - mine[first] + 1 > count) & (count >= 3)).any())
    if not parts or not interleaved:
        return _sums(rows if where is None else rows.loc[where, figures], cols,
                     coded=coded if where is None else _coded_rows(coded, where))[0]
    order = pd.concat([pd.Series(f) for f in firsts], ignore_index=True).argsort(kind="stable")
    sums = pd.concat(parts, ignore_index=True)
    parts.clear()   # the batches' sums freed before their reordered copy is made (one copy less at the peak)
    return sums.take(order.to_numpy()).reset_index(drop=True)


def combine(indicator: Indicator, rows: pd.DataFrame) -> Combined:
    """Combine units' figures for one indicator by the plan's rule."""
    if rows.empty:
        return Combined(None)
    rule = "pooled" if indicator.kind == "rate" else indicator.combine
    one = combine_groups({indicator.key: rule}, rows.assign(indicator=indicator.key), [])
    r = one.iloc[0]

    def opt(x: Any) -> float | None:
        return None if pd.isna(x) else float(x)

    return Combined(opt(r["value"]), opt(r["numerator"]), opt(r["denominator"]), int(r["n"]))


_UNITS_FRAME: list[tuple[Registry, pd.DataFrame]] = []   # the last registry's frame (an aggregation asks 4 times)


def units_frame(registry: Registry) -> pd.DataFrame:
    """One row per unit: its name, tier and district. The last registry's frame is kept (a registry is
    immutable) and handed out as a copy (a caller's change stays its own under pandas 2 as well; the object
    columns' pointers are copied, not the strings). The entry is read once: another thread (the web page's
    jobs) may replace it meanwhile, never half of it."""
    entry = _UNITS_FRAME[0] if _UNITS_FRAME else None
    if entry is not None and entry[0] is registry:
        return entry[1].copy()
    out = _units_frame(registry)
    _UNITS_FRAME[:] = [(registry, out)]
    return out.copy()


def _units_frame(registry: Registry) -> pd.DataFrame:
    rows = []
    for u in registry.units:
        district = registry.district_of(u)
        rows.append({"unit_code": u.code, "unit_name": u.name, "tier": u.tier,
                     "tier_name": registry.tier(u.tier).name,
                     "district_code": district.code if district else None,
                     "district_name": district.name if district else None,
                     "flags": ",".join(sorted(u.flags))})
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "tier", "tier_name", "district_code",
                                       "district_name", "flags"])


class _PlanFor:
    """`indicators_for` / `tasks_for` of many units, resolved once per kind of unit: what applies to a unit
    depends on its code only when a selector of the plan names it; otherwise on its tier (and its flags, for
    the targets' adjustments)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.named = {c for i in plan.indicators for c in i.applies_to} | {
            c for t in plan.tasks for c in (*t.assigned_to, *t.coordinating)}
        self._ind: dict[tuple[Any, ...], list[Any]] = {}
        self._task: dict[tuple[Any, ...], list[Any]] = {}

    def _key(self, u: Unit) -> tuple[Any, ...]:
        return ("unit", u.code, u.tier, frozenset(u.flags)) if u.code in self.named else \
            ("tier", u.tier, frozenset(u.flags))

    def indicators(self, u: Unit) -> list[Any]:
        key = self._key(u)
        if key not in self._ind:
            self._ind[key] = indicators_for(self.plan, unit_code=u.code, tier=u.tier, flags=u.flags)
        return self._ind[key]

    def tasks(self, u: Unit) -> list[Any]:
        key = self._key(u)
        if key not in self._task:
            self._task[key] = tasks_for(self.plan, unit_code=u.code, tier=u.tier)
        return self._task[key]


def expected_frame(plan: Plan, registry: Registry) -> pd.DataFrame:
    """Every (unit, indicator) the plan expects, with the unit's own target (adjustments applied)."""
    rows = []
    plan_for = _PlanFor(plan)
    # The rows of a list of indicators (one list per kind of unit) worked out once: a target's label is
    # formatted once per kind, not once per unit.
    built: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for u in registry.units:
        kind = plan_for._key(u)
        mine = built.get(kind)
        if mine is None:
            mine = built[kind] = [
                (item.indicator.key, (t.printed_id if t and t.printed_id else item.indicator.id),
                 t.value if t else None, t.comparison if t else None, t.label if t else "",
                 bool(t and t.adjusted_by)) for item in plan_for.indicators(u) for t in (item.target,)]
        rows.extend((u.code, *r) for r in mine)
    return pd.DataFrame(rows, columns=EXPECTED_COLUMNS)


EXPECTED_COLUMNS = ["unit_code", "indicator", "printed_id", "target", "comparison", "target_label", "adjusted"]


def _met(value: float | None, target: float | None, comparison: str | None) -> str | None:
    if value is None or pd.isna(value):
        return None
    if target is None or pd.isna(target):
        return None
    return MET if Target(float(target), comparison or "min").is_met(float(value)) else NOT_MET


_SERIES_COMPARE = {">=": pd.Series.ge, "<=": pd.Series.le}


def _met_series(value: pd.Series, target: pd.Series, comparison: pd.Series) -> pd.Series:
    """The met rule (`plan.met`) over columns, generated from the same decimals, nudge and operators:
    the shown result against the target; "" when unknown."""
    shown = (pd.to_numeric(value, errors="coerce") + MET_NUDGE).round(SHOWN_DECIMALS)
    target = pd.to_numeric(target, errors="coerce")
    met = pd.Series(False, index=value.index)
    for word, op in MET_OPERATORS.items():
        met = met.mask(comparison.eq(word), _SERIES_COMPARE[op](shown, target))
    known = shown.notna() & target.notna()
    return pd.Series(
        [(MET if m else NOT_MET) if k else "" for m, k in zip(met, known, strict=True)], index=value.index)


def former_tiers(plan: Plan, registry: Registry) -> set[str]:
    """Tiers of the registry that today's plan does not have: an abolished tier kept by the workspace history
    (`core.succession.history_registry`) so that its pooled figure is shown for the months it existed."""
    return {t.code for t in registry.tiers} - set(plan.tiers)


def former_expected(plan: Plan, registry: Registry, values: pd.DataFrame) -> pd.DataFrame:
    """Units of a former tier expected for the indicators they did report (never for others), with the
    indicator's target where the plan gives one for that tier or for every tier."""
    columns = EXPECTED_COLUMNS
    former = {u.code: u for u in registry.units if u.tier in former_tiers(plan, registry)}
    if not former or values.empty:
        return pd.DataFrame(columns=columns)
    known = {i.key: i for i in plan.indicators if i.kind in ("rate", "percent")}
    pairs = values.loc[values["unit_code"].isin(set(former)) & values["indicator"].isin(set(known)),
                       ["unit_code", "indicator"]].drop_duplicates()
    rows = []
    for code, key in pairs.itertuples(index=False):
        ind, t = known[key], known[key].target_for_tier(former[code].tier)
        rows.append({"unit_code": code, "indicator": key, "printed_id": t.printed_id if t and t.printed_id else ind.id,
                     "target": t.value if t else None, "comparison": t.comparison if t else None,
                     "target_label": t.label if t else "", "adjusted": False})
    order = {i.key: n for n, i in enumerate(plan.indicators)}
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("indicator", key=lambda s: s.map(order), kind="stable")


def unit_base(plan: Plan, registry: Registry, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Expected (unit, indicator) rows with the unit's target and its place (tier, district); with `values`,
    also the units of a former tier for what they reported (`former_expected`)."""
    expected = expected_frame(plan, registry)
    if values is not None and former_tiers(plan, registry):
        extra = former_expected(plan, registry, values)
        if not extra.empty:
            expected = pd.concat([expected, extra], ignore_index=True)
    return expected.merge(units_frame(registry), on="unit_code", how="left")


def per_unit(plan: Plan, registry: Registry, values: pd.DataFrame, period: Period, *,
             base: pd.DataFrame | None = None, periods: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """Each expected (unit, indicator) for the period: figures, target, met / not met / not reported.
    `periods`: `_coded(values["period_code"])`, when the caller has them (`_period_mask`)."""
    exp = base if base is not None else unit_base(plan, registry)
    cur = values[_period_mask(values["period_code"], lambda c: c == period.code, periods)] \
        if not values.empty else values
    cur = cur.reindex(columns=VALUE_COLUMNS)
    out = exp.merge(cur.drop(columns=["period_code"]), on=["unit_code", "indicator"], how="left")
    kind = out["indicator"].map({i.key: i.kind for i in plan.indicators})
    answer = out["answer"].where(out["answer"].notna(), None)
    reported = out["value"].notna() | out["numerator"].notna() | answer.notna()
    numeric = _met_series(out["value"], out["target"], out["comparison"].fillna("min"))
    by_answer = pd.Series(NOT_MET, index=out.index).mask(
        (kind.eq("yesno") & answer.eq("Có")) | (kind.eq("task") & answer.eq(STATUSES[0])), MET)
    status = numeric.where(kind.isin(["rate", "percent"]), by_answer)
    filed = out["unit_code"].isin(cur["unit_code"].dropna().unique())
    no_cases = filed & _no_cases(kind, out)
    out["status"] = status.where(reported, NOT_REPORTED).mask(no_cases, NO_CASES)
    out["period_code"] = period.code
    # A former tier's unit (abolished tier) is shown for the periods it reported, never invented afterwards.
    former = out["tier"].notna() & ~out["tier"].isin(set(plan.tiers))
    if former.any():
        out = out[~(former & out["status"].eq(NOT_REPORTED))].reset_index(drop=True)
    return out


def _no_cases(kind: pd.Series, rows: pd.DataFrame) -> pd.Series:
    """Rows of a unit that sent its file but had nothing to count: a rate with numerator and denominator
    both 0 or blank, a percentage with no ratings (weight 0) or left blank."""
    num = pd.to_numeric(rows["numerator"], errors="coerce")
    den = pd.to_numeric(rows["denominator"], errors="coerce")
    val = pd.to_numeric(rows["value"], errors="coerce")
    wgt = pd.to_numeric(rows["weight"], errors="coerce")
    empty_rate = kind.eq("rate") & num.fillna(0).eq(0) & den.fillna(0).eq(0)
    empty_percent = kind.eq("percent") & (wgt.eq(0) | val.isna())
    return empty_rate | empty_percent


def _group_rows(plan: Plan, unit_rows: pd.DataFrame, level: str, key_col: str | None, name_col: str | None
                ) -> pd.DataFrame:
    rows = unit_rows if key_col is None else unit_rows[unit_rows[key_col].notna()]
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(_group=("*" if key_col is None else rows[key_col]),
                       _name=("Toàn tỉnh" if name_col is None else rows[name_col]),
                       _reported=(~rows["status"].isin([NOT_REPORTED, NO_CASES])).astype(int),
                       _no_cases=rows["status"].eq(NO_CASES).astype(int), _met=rows["status"].eq(MET).astype(int))
    comb = combine_groups(rules_of(plan), rows[rows["status"].ne(NO_CASES)], ["_group"])
    counts = rows.groupby(["_group", "indicator"], sort=False).agg(
        group_name=("_name", "first"), units_expected=("unit_code", "size"), units_reported=("_reported", "sum"),
        units_no_cases=("_no_cases", "sum"), units_met=("_met", "sum")).reset_index()
    out = counts.merge(comb, on=["_group", "indicator"], how="left").rename(columns={"_group": "group_code"})
    out.insert(0, "level", level)
    out["share_met"] = (out["units_met"] / out["units_reported"].where(out["units_reported"] > 0) * 100)
    return out[["level", "group_code", "group_name", "indicator", "value", "numerator", "denominator",
                "units_expected", "units_reported", "units_no_cases", "units_met", "share_met"]]


def per_group(plan: Plan, unit_rows: pd.DataFrame, *, has_districts: bool) -> pd.DataFrame:
    """Pooled figures per tier, per district (communes under it, three-tier provinces only), province."""
    parts = [_group_rows(plan, unit_rows, "tier", "tier", "tier_name")]
    if has_districts:
        parts.append(_group_rows(plan, unit_rows, "district", "district_code", "district_name"))
    parts.append(_group_rows(plan, unit_rows, "province", None, None))
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def latest_of_stocks(plan: Plan, values: pd.DataFrame) -> pd.DataFrame:
    """Month rows over several months, with each stock indicator (`aggregate_over_months: latest`, e.g. how many
    TTHC are offered online) kept only at each unit's latest month; flows (cases received) keep every month to
    be summed."""
    if values.empty:
        return values
    everything = pd.Series(True, index=values.index)
    keep = _latest_rows(plan, values, everything)
    return values if keep is everything else values[keep]


def _latest_rows(plan: Plan, values: pd.DataFrame, rows: pd.Series,
                 coded: Mapping[str, tuple[Any, Any]] | None = None) -> pd.Series:
    """`latest_of_stocks` as a mask: the `rows` (a mask over `values`) kept when only they are looked at. The
    year to date is then copied once, from the whole frame, instead of its rows and again its kept rows.
    `coded`: the indicators as `_coded` gives them (each label tested once, not every row's string)."""
    latest = {i.key for i in plan.indicators if i.over_months == "latest"}
    if not latest:
        return rows
    if coded is None:
        stock = rows & values["indicator"].isin(latest)
    else:
        stock = rows & _label_mask(*coded["indicator"], lambda label: label in latest, values.index)
    if not stock.any():
        return rows
    # The latest month per (unit, indicator), on the months' ranks (period codes sort as text): the max of
    # integers is a cython reduction, the max of strings a Python loop over the groups.
    period = values["period_code"][stock]   # the three columns read, not a copy of the stock rows
    rank, _ = pd.factorize(period, sort=True)
    rank = pd.Series(rank, index=period.index)
    last = rank.groupby([values["unit_code"][stock], values["indicator"][stock]], sort=False).transform("max")
    keep = rows & ~stock
    keep.loc[stock] = rank.eq(last) & rank.ge(0)
    return keep


def ytd_per_unit(plan: Plan, registry: Registry, values: pd.DataFrame, period: Period, *, codes: Any = None,
                 coded: Mapping[str, tuple[Any, Any]] | None = None,
                 periods: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """Year-to-date figures per unit: counts summed over the year's months, rate recomputed (a stock
    indicator: its latest month). `codes`: `_factorize(values["indicator"])`, when the caller has it; `coded`:
    the unit codes and indicators as `_coded` gives them (`combine_groups`); `periods`: the period codes so
    (`_period_mask`), coded here otherwise (once for the two uses below)."""
    months = {p.code for p in period.year_to_date()}
    if values.empty:
        v = values.reindex(columns=VALUE_COLUMNS)
        months_n = v.groupby(["unit_code", "indicator"], sort=False)["period_code"].nunique().rename("months")
    else:
        # How many months each (unit, indicator) has, stocks included (a few indicators at a time when the
        # year is many rows: each (unit, indicator) lies in one batch, and the counts are merged on their keys).
        periods = _coded(values["period_code"]) if periods is None else periods
        inside = _period_mask(values["period_code"], lambda c: c in months, periods).to_numpy()
        months_n = _months_counted(values["period_code"], inside, coded, periods) if coded is not None else None
        if months_n is None:
            batches = [inside] if inside.sum() < BATCH_ROWS else _indicator_batches(values["indicator"], inside,
                                                                                     codes=codes)
            counted = [values["period_code"][chosen].groupby(
                [values["unit_code"][chosen], values["indicator"][chosen]], sort=False).nunique()
                for chosen in batches]
            # (no batch: no row has an indicator, and no figure is combined, `out` below is empty)
            months_n = (pd.concat(counted) if len(counted) > 1 else counted[0]).rename("months") if counted else None
        # the figures of the rows kept, picked a batch at a time (`combine_groups`), not copied at once
        v = values
        inside = _latest_rows(plan, values, pd.Series(inside, index=values.index), coded)
    out = combine_groups(rules_of(plan), v, ["unit_code"], where=None if values.empty else inside, codes=codes,
                         coded=None if values.empty else coded)
    out = out.merge(months_n.reset_index(), on=["unit_code", "indicator"], how="left") if not out.empty else out
    return out.reindex(columns=["unit_code", "indicator", "value", "numerator", "denominator", "months"])


def _months_counted(period_code: pd.Series, rows: Any, coded: Mapping[str, tuple[Any, Any]],
                    periods: tuple[Any, Any] | None = None) -> pd.Series | None:
    """How many months each (unit, indicator) has among `rows` (a boolean array), as `ytd_per_unit` counts them
    (the period codes' `nunique` per unit and indicator; a row without either is left out), on the codes of
    `coded` and the period's: which (unit, indicator, month) occur is marked in a table of them all, instead of
    hashing a year of history's unit codes and indicators again (and sizing the hash table for every row).
    None when that table would be larger than the rows (the caller groups them). `periods`:
    `_coded(period_code)`, when the caller has them."""
    unit_codes, unit_labels = coded["unit_code"]
    ind_codes, ind_labels = coded["indicator"]
    period_codes, period_labels = _coded(period_code) if periods is None else periods
    widths = [max(len(unit_labels), 1), max(len(ind_labels), 1), len(period_labels) + 1]   # + a missing month
    pairs, width = widths[0] * widths[1], widths[2]
    if pairs * width > max(len(period_code), 1_000_000):
        return None
    keep = rows & (unit_codes >= 0) & (ind_codes >= 0)
    key = _joint_key([unit_codes[keep], ind_codes[keep], period_codes[keep]], widths)   # (unit, indicator, month)
    key += 1                                        # a missing month (-1) at 0
    seen = pd.Series([False]).to_numpy().repeat(pairs * width)
    seen[key] = True
    del key
    seen = seen.reshape(pairs, width)
    counts = seen[:, 1:].sum(axis=1)                # the months, a missing one not counted (nunique)
    at = seen.any(axis=1).nonzero()[0]              # the (unit, indicator) with a row
    units, inds = _split_key(at, widths[:2])
    index = pd.MultiIndex.from_arrays([unit_labels.take(units), ind_labels.take(inds)],
                                      names=["unit_code", "indicator"])
    return pd.Series(counts[at].astype("int64"), index=index, name="months")


def data_months(period: Period, codes: Sequence[str]) -> list[Period]:
    """The months of `period` whose data is used: a month itself; for a longer period, those of its months for
    which the office holds any accepted submission (`codes`). A month nobody reported (not collected yet, or
    before the office used this tool) is left out and the report names the months it covers; a unit missing a
    month the others sent is named."""
    if period.kind == "month":
        return [period]
    present = {str(c) for c in codes if isinstance(c, str)}
    return [m for m in period.months() if m.code in present]


def pool_months(plan: Plan, values: pd.DataFrame, months: Sequence[Period], label: Period) -> pd.DataFrame:
    """One row per (unit, indicator) over `months`, stamped with `label`'s code so that `per_unit` judges it
    like a month: counts summed and the rate recomputed (pooled), percentages combined by the plan's rule
    (weighted: weights summed; mean: mean of the months), the latest answer for yes/no and task indicators;
    a stock indicator (`aggregate_over_months: latest`) at the unit's latest month.
    Each unit's row covers the months it sent; `months` says how many."""
    codes = {m.code for m in months}
    v = values[values["period_code"].isin(codes)] if not values.empty else values.reindex(columns=VALUE_COLUMNS)
    if v.empty:
        return pd.DataFrame(columns=[*VALUE_COLUMNS, "months"])
    kinds = {i.key: i.kind for i in plan.indicators}
    v = v.sort_values("period_code", kind="stable")
    numeric = latest_of_stocks(plan, v[v["indicator"].map(kinds).isin(["rate", "percent"])])
    rules = rules_of(plan)
    comb = combine_groups(rules, numeric, ["unit_code"])
    rule = comb["indicator"].map(rules)
    comb["weight"] = comb["denominator"].where(rule.eq("weighted"))
    comb["denominator"] = comb["denominator"].where(rule.eq("pooled"))
    # Where each figure was read: the latest month's file and cell.
    last = numeric.groupby(["unit_code", "indicator"], sort=False)[["file_name", "sheet", "cell"]].last()
    comb = comb.drop(columns=["n"]).join(last, on=["unit_code", "indicator"])
    answers = v[v["indicator"].map(kinds).isin(["yesno", "task"]) & v["answer"].notna()]
    answers = answers.groupby(["unit_code", "indicator"], sort=False).tail(1).drop(columns=["period_code"])
    out = pd.concat([x for x in (comb, answers) if not x.empty], ignore_index=True) if len(comb) + len(answers) \
        else pd.DataFrame(columns=VALUE_COLUMNS)
    n = v.groupby(["unit_code", "indicator"], sort=False)["period_code"].nunique().rename("months")
    out = out.join(n, on=["unit_code", "indicator"])
    out["period_code"] = label.code
    return out.reindex(columns=[*VALUE_COLUMNS, "months"])


def with_pooled_periods(plan: Plan, values: pd.DataFrame, period: Period) -> pd.DataFrame:
    """`values` (month rows) plus, for a longer period, pooled rows for it, the previous period of the same
    kind and the same period last year, so that everything downstream reads them by period code."""
    if period.kind == "month" or values.empty:
        return values
    present = list(values["period_code"].dropna().unique())
    extra = []
    for p in dict.fromkeys([period, period.previous(), period.same_period_last_year()]):
        months = data_months(p, present) if p == period else p.months()
        pooled = pool_months(plan, values, months, p)
        if not pooled.empty:
            extra.append(pooled.drop(columns=["months"]))
    mine = values[~values["period_code"].isin({period.code, period.previous().code,
                                                period.same_period_last_year().code})]
    return pd.concat([mine, *extra], ignore_index=True) if extra else mine


def pool_cases(cases: pd.DataFrame, months: Sequence[Period], label: Period) -> pd.DataFrame:
    """The case table over `months` per (unit, field): received, resolved flows summed; carried-over cases
    from the unit's first month, pending cases from its last month (stocks, not flows)."""
    codes = {m.code for m in months}
    if cases.empty or not codes:
        return cases.iloc[0:0] if not cases.empty else cases
    c = cases[cases["period_code"].isin(codes)].sort_values("period_code", kind="stable")
    if c.empty:
        return c
    keys = ["unit_code", "field"] if "field" in c.columns else ["unit_code"]
    stocks_first, stocks_last = ["carried"], ["pending_in", "pending_late"]
    flows = [k for k in CASE_INPUT_KEYS if k not in (*stocks_first, *stocks_last)]
    g = c.groupby(keys, sort=False, dropna=False)
    out = g[flows].sum()
    out = out.join(g[stocks_first].first()).join(g[stocks_last].last()).reset_index()
    out["period_code"] = label.code
    return out


@dataclass
class Aggregation:
    period: Period
    units: pd.DataFrame            # per unit and indicator, this period
    groups: pd.DataFrame           # per tier / district / province with time comparisons
    units_ytd: pd.DataFrame
    completeness: pd.DataFrame     # per tier
    unit_status: pd.DataFrame      # per unit: on time / late / rejected / missing
    tasks: pd.DataFrame
    cases: pd.DataFrame            # case table summed per tier (+ province)
    flags: pd.DataFrame            # data-quality flags (never block)
    texts: pd.DataFrame            # difficulties and proposals, de-duplicated, attributed
    # The value rows of the period's own months as read (restated onto today's units where that happened:
    # `unit_code_then`), for `cchc aggregate --csv`: not the history behind the comparisons (`long_rows`).
    long: pd.DataFrame = field(default_factory=pd.DataFrame)
    months: list[Period] = field(default_factory=list)  # the months with data behind a longer period
    # The registry as the period saw it (`period_registry`): today's units, plus an abolished tier's units
    # for the periods they reported in. None: the registry the aggregation was given.
    registry: Registry | None = None
    # The months among those read (history included) whose figures were restated onto today's units
    # (`app.reporting.restate_history`): the report says so in one sentence.
    restated_periods: list[str] = field(default_factory=list)

    def tables(self) -> Mapping[str, pd.DataFrame]:
        return {"units": self.units, "groups": self.groups, "units_ytd": self.units_ytd,
                "completeness": self.completeness, "unit_status": self.unit_status, "tasks": self.tasks,
                "cases": self.cases, "flags": self.flags, "texts": self.texts, "long": self.long}


def _ytd_groups(plan: Plan, registry: Registry, values: pd.DataFrame, period: Period, *, has_districts: bool,
                codes: Any = None, coded: Mapping[str, tuple[Any, Any]] | None = None,
                periods: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """Year to date per group: the year's unit-month figures pooled together (counts summed, then combined).
    `periods`: `_coded(values["period_code"])`, when the caller has them (`_period_mask`)."""
    keys = ["level", "group_code", "indicator"]
    months = {p.code for p in period.year_to_date()}
    ytd = _latest_rows(plan, values, _period_mask(values["period_code"], lambda c: c in months, periods), coded) \
        if not values.empty else None
    if ytd is None or not ytd.any():
        return pd.DataFrame(columns=[*keys, "value_ytd"])
    # Each row's group looked up by unit (the rows' order kept, as a left merge keeps it); the figures are not
    # copied, the year's rows of units with a group are picked by `combine_groups` a batch at a time.
    info = units_frame(registry).set_index("unit_code")
    figures = {c: values[c] for c in ("indicator", "numerator", "denominator", "value", "weight") if c in values}
    levels: list[tuple[str, str | None]] = [("tier", "tier")]
    if has_districts:
        levels.append(("district", "district_code"))
    levels.append(("province", None))
    parts = []
    for level, key in levels:
        if coded is None:
            group = pd.Series("*", index=values.index) if key is None else values["unit_code"].map(info[key])
            chosen = ytd if key is None else ytd & group.notna()
            by_group = None
        else:
            # Each unit's group looked up once (not once per row), the rows' groups as codes (`combine_groups`).
            unit_codes, unit_labels = coded["unit_code"]
            unit_labels = pd.Series(unit_labels)
            of_unit, labels = pd.factorize(pd.Series("*", index=unit_labels.index) if key is None
                                           else unit_labels.map(info[key]))
            of_unit = pd.Series([*of_unit, -1], dtype="int64").to_numpy()   # a row without a unit: -1 (last)
            group_codes = _compact(of_unit[unit_codes], len(labels))
            chosen = ytd & pd.Series(group_codes >= 0, index=values.index)
            by_group = {"group_code": (group_codes, labels.array), "indicator": coded["indicator"]}
        # (grouped on the codes: no column of the groups' codes as text)
        frame = pd.DataFrame({**({"group_code": group} if by_group is None else {}), **figures}, copy=False)
        comb = combine_groups(rules_of(plan), frame, ["group_code"], where=chosen, codes=codes,
                              coded=by_group).assign(level=level)
        parts.append(comb[keys + ["value"]].rename(columns={"value": "value_ytd"}))
    return pd.concat(parts, ignore_index=True)


def _timed_groups(plan: Plan, registry: Registry, values: pd.DataFrame, period: Period, *,
                  base: pd.DataFrame | None = None, units: pd.DataFrame | None = None, codes: Any = None,
                  coded: Mapping[str, tuple[Any, Any]] | None = None,
                  periods: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """Per group: the period's figures (`units`: its `per_unit`, when already computed), the previous period's,
    the same period's last year and the year to date, the change, the group's target and status. `periods`:
    `_coded(values["period_code"])`, when the caller has them; coded here otherwise (once for every period
    tested below)."""
    if periods is None and not values.empty:
        periods = _coded(values["period_code"])
    has_districts = any(u.parent for u in registry.units)
    base = base if base is not None else unit_base(plan, registry)
    units = units if units is not None else per_unit(plan, registry, values, period, base=base, periods=periods)
    now = per_group(plan, units, has_districts=has_districts)
    if now.empty:
        return now
    keys = ["level", "group_code", "indicator"]
    present = set(periods[1]) if periods is not None else set()

    def values_for(p: Period, suffix: str) -> pd.DataFrame:
        if p.code not in present:
            # No unit reported in that period: no group has a figure (units_reported is 0 everywhere).
            return now[keys].iloc[0:0].assign(**{f"value_{suffix}": pd.Series(dtype="float64")})
        g = per_group(plan, per_unit(plan, registry, values, p, base=base, periods=periods),
                      has_districts=has_districts)
        if g.empty:
            return pd.DataFrame(columns=[*keys, f"value_{suffix}"])
        g = g[g["units_reported"] > 0]
        return g[[*keys, "value"]].rename(columns={"value": f"value_{suffix}"})

    out = now.merge(values_for(period.previous(), "prev"), on=keys, how="left")
    out = out.merge(values_for(period.same_period_last_year(), "last_year"), on=keys, how="left")
    out = out.merge(_ytd_groups(plan, registry, values, period, has_districts=has_districts, codes=codes,
                                coded=coded, periods=periods), on=keys, how="left")
    out["change_prev"] = out["value"] - out["value_prev"]
    out["change_last_year"] = out["value"] - out["value_last_year"]
    # Target of the group: the tier's base target (province level: only when every tier has the same).
    targets = []
    for row in out.itertuples(index=False):
        ind = plan.indicator(row.indicator)
        if row.level == "tier":
            t = ind.target_for_tier(row.group_code)
        elif row.level == "district":
            dist = registry.get(row.group_code)
            child_tier = next((t.code for t in registry.tiers if t.parent == (dist.tier if dist else None)), None)
            t = ind.target_for_tier(child_tier) if child_tier else None
        else:
            tier_targets = {(t.value, t.comparison) for t in (ind.target_for_tier(c) for c in plan.tiers) if t}
            t = ind.target_for_tier(plan.tiers[0]) if len(tier_targets) == 1 else None
        targets.append((t.value if t else None, t.comparison if t else None, t.label if t else ""))
    out["target"] = [t[0] for t in targets]
    out["comparison"] = [t[1] for t in targets]
    out["target_label"] = [t[2] for t in targets]
    out["status"] = [_met(v, t, c) for v, t, c in zip(out["value"], out["target"], out["comparison"], strict=True)]
    return out


STATUS_COLUMNS = ["unit_code", "status", "received_at", "versions", "file_name", "days_late"]
MONTHS_COLUMNS = ["months_expected", "months_accepted", "months_on_time", "months_late", "months_missing",
                  "missing_months"]


def unit_status(plan: Plan, registry: Registry, subs: pd.DataFrame, period: Period,
                months: Sequence[Period] | None = None) -> pd.DataFrame:
    """On time / late / rejected / missing for every unit the plan expects to report; `days_late` counts
    working days (weekends and public holidays excluded) from the due date to the first accepted file.

    A longer period summarises its `months` (default: those with data, see `data_months`): per unit, how many
    were accepted, on time, late, missing (`missing_months`: "2, 3"); its status is "Đúng hạn" when every
    month came on time, "Muộn" when all came but some late, "Thiếu tháng" when some are missing, "Bị trả lại"
    or "Chưa nộp" when none was accepted."""
    if period.kind != "month":
        return _long_unit_status(plan, registry, subs, period, months)
    due = period.due_date(plan.reporting.due_day, month_offset=plan.reporting.due_month_offset)
    plan_for = _PlanFor(plan)
    expected = [u for u in registry.units if plan_for.indicators(u) or plan_for.tasks(u)]
    s = subs[subs["period_code"] == period.code] if not subs.empty else subs
    # Per unit, read once from the grouped frame (not a mask per unit): how many versions, the last current
    # one, the last one, the first accepted arrival. Rows keep the store's order (by submission id).
    versions: dict[str, int] = {}
    last_current: dict[str, dict[str, Any]] = {}
    last_any: dict[str, dict[str, Any]] = {}
    first_ok: dict[str, Any] = {}
    if not s.empty:
        keys = s[["unit_code", "received_at", "file_name"]]
        versions = s.groupby("unit_code", sort=False).size().to_dict()
        last_any = _last_rows(keys)
        last_current = _last_rows(keys[s["is_current"].astype(bool)])
        ok = s[s["status"] == "accepted"]
        first_ok = ok.groupby("unit_code", sort=False)["received_at"].min().to_dict() if not ok.empty else {}
    rows = []
    for u in expected:
        c = last_current.get(u.code)
        if c is not None:
            when = pd.Timestamp(first_ok.get(u.code, pd.NaT)).date()
            status = "Đúng hạn" if when <= due else "Muộn"
            rows.append({"unit_code": u.code, "status": status, "received_at": pd.Timestamp(c["received_at"]),
                         "versions": versions[u.code], "file_name": c["file_name"],
                         "days_late": max(working_days_between(due, when), 0) if when > due else 0})
        elif u.code in versions:
            c = last_any[u.code]
            rows.append({"unit_code": u.code, "status": "Bị trả lại", "received_at": pd.Timestamp(c["received_at"]),
                         "versions": versions[u.code], "file_name": c["file_name"], "days_late": None})
        else:
            rows.append({"unit_code": u.code, "status": "Chưa nộp", "received_at": None, "versions": 0,
                         "file_name": None, "days_late": None})
    out = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    out = out.merge(units_frame(registry), on="unit_code", how="left")
    out["due_date"] = due
    return out


def _last_rows(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """unit_code -> its last row (received_at, file_name) in the frame's order."""
    last = frame.drop_duplicates("unit_code", keep="last")
    return {code: {"received_at": r, "file_name": f}
            for code, r, f in zip(last["unit_code"].tolist(), last["received_at"].tolist(),
                                  last["file_name"].tolist(), strict=True)}


def _long_unit_status(plan: Plan, registry: Registry, subs: pd.DataFrame, period: Period,
                      months: Sequence[Period] | None) -> pd.DataFrame:
    if months is None:
        accepted = subs[subs["status"] == "accepted"] if not subs.empty else subs
        months = data_months(period, list(accepted["period_code"]) if not accepted.empty else [])
    per_month = [unit_status(plan, registry, subs, m) for m in months]
    base = units_frame(registry)
    if not per_month:
        out = unit_status(plan, registry, subs.iloc[0:0] if not subs.empty else subs, period.first_month)
        out["status"], out["due_date"] = "Chưa nộp", None
        for col in MONTHS_COLUMNS:
            out[col] = "" if col == "missing_months" else 0
        return out
    rows = []
    records = [f.to_dict("records") for f in per_month]   # rows as dicts once, not a Series per unit and month
    for i, code in enumerate(per_month[0]["unit_code"]):
        states = [(m, f[i]) for m, f in zip(months, records, strict=True)]
        on_time = [m for m, r in states if r["status"] == "Đúng hạn"]
        late = [m for m, r in states if r["status"] == "Muộn"]
        missing = [m for m, r in states if r["status"] not in ("Đúng hạn", "Muộn")]
        rejected = any(r["status"] == "Bị trả lại" for _, r in states)
        got = [r for _, r in states if r["status"] in ("Đúng hạn", "Muộn")]
        if not got:
            status = "Bị trả lại" if rejected else "Chưa nộp"
        elif missing:
            status = PARTIAL
        else:
            status = "Muộn" if late else "Đúng hạn"
        latest = got[-1] if got else states[-1][1]
        rows.append({"unit_code": code, "status": status, "received_at": latest["received_at"],
                     "versions": int(sum(int(r["versions"]) for _, r in states)), "file_name": latest["file_name"],
                     "days_late": int(sum(int(r["days_late"] or 0) for _, r in states if r["status"] == "Muộn")),
                     "months_expected": len(months), "months_accepted": len(got), "months_on_time": len(on_time),
                     "months_late": len(late), "months_missing": len(missing),
                     "missing_months": ", ".join(str(m.index) for m in missing)})
    out = pd.DataFrame(rows, columns=[*STATUS_COLUMNS, *MONTHS_COLUMNS]).merge(base, on="unit_code", how="left")
    out["due_date"] = per_month[-1]["due_date"].iloc[0] if len(per_month[-1]) else None
    return out


def completeness(registry: Registry, status: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for tier in registry.tiers:
        g = status[status["tier"] == tier.code]
        if g.empty and not status.empty:
            continue   # a tier none of whose units is expected (an abolished tier's): no "0/0" row
        rows.append({"tier": tier.code, "tier_name": tier.name, "expected": len(g),
                     "on_time": int((g["status"] == "Đúng hạn").sum()), "late": int((g["status"] == "Muộn").sum()),
                     "rejected": int((g["status"] == "Bị trả lại").sum()),
                     "missing": int((g["status"] == "Chưa nộp").sum()),
                     "partial": int((g["status"] == PARTIAL).sum())})
    df = pd.DataFrame(rows)
    total = {"tier": "*", "tier_name": "Toàn tỉnh", **{c: int(df[c].sum()) for c in
                                                         ("expected", "on_time", "late", "rejected", "missing",
                                                          "partial")}}
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)


def task_table(plan: Plan, registry: Registry, tasks: pd.DataFrame, period: Period, today: date) -> pd.DataFrame:
    """Every assigned (unit, task) with its reported status; overdue when past its deadline and not done."""
    codes = {m.code for m in period.months()}  # a longer period: each task at its latest reported status
    t = tasks[tasks["period_code"].isin(codes)].sort_values("period_code", kind="stable") if not tasks.empty \
        else tasks
    # (unit, task) -> (status, done date) of its latest report; columns as lists (iterating rows of string
    # columns goes element by element through pandas).
    reported = dict(zip(zip(t["unit_code"].tolist(), t["task"].tolist(), strict=True),
                        zip(t["status"].tolist(), t["done_date"].tolist(), strict=True), strict=True)) \
        if not t.empty else {}
    rows = []   # a tuple per row, not a dict: 4,000 units' tasks as dicts held ~12 MB at the aggregation's end
    plan_for = _PlanFor(plan)
    deadlines = {t.key: (t.deadline.label, t.deadline.due) for t in plan.tasks}   # worked out once per task
    for u in registry.units:
        for ut in plan_for.tasks(u):
            r = reported.get((u.code, ut.task.key))
            status = r[0] if r is not None and isinstance(r[0], str) else None
            label, due = deadlines[ut.task.key]
            overdue = bool(due and due < today and status != STATUSES[0])
            rows.append((u.code, u.name, u.tier, ut.task.key, ut.task.id, ut.task.text, ut.role, ut.task.host or "",
                         label, due, status or NOT_REPORTED, overdue, r[1] if r is not None else None))
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "tier", "task", "task_id", "text", "role", "host",
                                       "deadline", "due", "status", "overdue", "done_date"])


def case_summary(registry: Registry, cases: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The case table by tier and in total: the form's input columns summed, then its totals."""
    cols = list(CASE_INPUT_KEYS)
    c = cases[cases["period_code"] == period.code] if not cases.empty else cases
    info = units_frame(registry)[["unit_code", "tier", "tier_name"]]
    rows = []
    merged = c.merge(info, on="unit_code", how="left") if not c.empty else pd.DataFrame(columns=[*cols, "tier"])
    for tier in registry.tiers:
        g = merged[merged["tier"] == tier.code]
        if not registry.in_tier(tier.code):
            continue   # a tier without units in the period (an abolished tier after it ended): no row
        rows.append({"tier": tier.code, "tier_name": tier.name, "units": g["unit_code"].nunique() if len(g) else 0,
                     **{k: int(g[k].sum()) if len(g) else 0 for k in cols}})
    df = pd.DataFrame(rows)
    total = {"tier": "*", "tier_name": "Tổng cộng", "units": int(df["units"].sum()),
             **{k: int(df[k].sum()) for k in cols}}
    return with_case_totals(pd.concat([df, pd.DataFrame([total])], ignore_index=True))


def with_case_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the form's total columns (received, resolved, pending) summed from their inputs."""
    out = frame.copy()
    for total, parts in case_totals_of().items():
        out[total] = sum(out[p] for p in parts)
    return out


def robust_z(history: Sequence[float], value: float) -> float | None:
    """Robust z-score of `value` against a unit's own past values (median and MAD)."""
    s = pd.Series(list(history), dtype=float).dropna()
    if len(s) < 3:
        return None
    med = float(s.median())
    mad = float((s - med).abs().median())
    if mad == 0:
        return None if value == med else float("inf") * (1 if value > med else -1)
    return 0.6745 * (value - med) / mad


def _history_spread(values: pd.DataFrame, before: Any, codes: Any = None,
                    coded: Mapping[str, tuple[Any, Any]] | None = None) -> pd.DataFrame:
    """robust_z, vectorised: the median, MAD and count of each (unit, indicator)'s values in the rows `before`
    selects (its own history), an indicator at a time (a year of history is half a million rows; the median
    and MAD do not depend on the order of the values, nor do they on the order of the groups: the caller
    joins them on their keys). `coded`: the unit codes and indicators as `_coded` gives them, grouped on
    (the rows' strings are not hashed again)."""
    keys = ["unit_code", "indicator"]
    batches = [before] if before.sum() < BATCH_ROWS else _indicator_batches(values["indicator"], before,
                                                                             codes=codes)
    parts = []
    for chosen in batches:
        if not chosen.any():
            continue
        if coded is not None:
            parts.append(_coded_spread(values["value"], chosen, coded))
            continue
        past = values.loc[chosen, [*keys, "value"]].astype({"value": float})
        past = past[past[keys].notna().all(axis=1)]   # a row without either is in no group (`_spread`)
        parts.append(_spread(past.groupby(keys)["value"], past["value"]))
    return pd.concat(parts) if parts else pd.DataFrame({"median": [], "mad": [], "count": []},
                                                       index=pd.MultiIndex.from_tuples([], names=keys))


def _coded_spread(value: pd.Series, chosen: Any, coded: Mapping[str, tuple[Any, Any]]) -> pd.DataFrame:
    """`_history_spread` of the rows `chosen` selects, grouped on one integer per (unit, indicator) made of
    their codes; the same medians, deviations and counts, indexed by the keys' values."""
    unit_codes, unit_labels = coded["unit_code"]
    ind_codes, ind_labels = coded["indicator"]
    widths = [max(len(unit_labels), 1), max(len(ind_labels), 1)]
    units, inds = unit_codes[chosen], ind_codes[chosen]
    keyed = (units >= 0) & (inds >= 0)          # a row without either is in no group (as grouping drops it)
    key = _joint_key([units[keyed], inds[keyed]], widths)
    past = pd.Series(value.to_numpy(dtype=float)[chosen][keyed], copy=False)
    out = _spread(past.groupby(key), past)
    units, inds = _split_key(out.index.to_numpy(), widths)   # the keys, in the groups' (sorted) order
    out.index = pd.MultiIndex.from_arrays([unit_labels.take(units), ind_labels.take(inds)],
                                          names=["unit_code", "indicator"])
    return out


def _spread(by_key: Any, past: pd.Series) -> pd.DataFrame:
    """The median, MAD and count of each group of `by_key` (a grouping of `past`, every row in a group), indexed
    by the grouping's keys in their (sorted) order. One grouping, the keys hashed once: the median, each value's
    distance to it, their median."""
    median = by_key.median()
    number = by_key.ngroup().to_numpy()         # the group's position in `median`'s order
    dev = (past - median.to_numpy()[number]).abs()
    return pd.DataFrame({"median": median.to_numpy(), "mad": dev.groupby(number).median().to_numpy(),
                         "count": by_key.size().to_numpy()}, index=median.index)


def _jumps(values: pd.DataFrame, this: pd.Series, before: Any, z_limit: float, codes: Any,
           coded: Mapping[str, tuple[Any, Any]] | None) -> list[dict[str, Any]]:
    """`quality_flags`' values far from the unit's own history: the period's rows (`this`) against the rows
    `before` selects. A function of its own so that its frames are freed before the case checks run, and
    only the columns a flag shows are copied (the month's rows, all thirteen columns, twice, were the
    aggregation's peak at a year of history)."""
    keys = ["unit_code", "indicator"]
    shown = [*keys, "value", "file_name", "cell"]
    cur = values.loc[this & values["value"].notna(), shown]
    if cur.empty:
        return []
    rows = []
    joined = cur.join(_history_spread(values, before, codes, coded), on=keys)
    joined = joined[joined["count"] >= 3]
    value = joined["value"].astype(float)
    diff = value - joined["median"]
    # no spread (MAD 0): infinitely far when the value differs from the median, either way
    flat = pd.Series(float("nan"), index=diff.index).mask(diff > 0, float("inf")).mask(diff < 0, float("-inf"))
    z = (0.6745 * diff / joined["mad"].where(joined["mad"] > 0)).where(joined["mad"] > 0, flat)
    hits = joined[(z.abs() > z_limit) & (diff.abs() >= 5)]
    # columns as lists (a year of history flags thousands of values: not a row object each)
    for unit, ind, v, ref, file_name, cell, zv in zip(
            *(hits[c].tolist() for c in ("unit_code", "indicator", "value", "median", "file_name", "cell")),
            z[hits.index].tolist(), strict=True):
        rows.append({"unit_code": unit, "indicator": ind, "kind": "jump", "value": float(v),
                     "reference": float(ref),
                     "detail": wording("jump-detail", z=format_number(zv, 1)) if abs(zv) != float("inf")
                     else wording("jump-flat-detail"),
                     "file_name": file_name, "cell": cell})
    return rows


def quality_flags(plan: Plan, values: pd.DataFrame, cases: pd.DataFrame, period: Period,
                  z_limit: float = 3.5, *, codes: Any = None, coded: Mapping[str, tuple[Any, Any]] | None = None,
                  periods: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """Values far from the unit's own history (robust z-score over its past months), and denominators that
    disagree with the case table. History is summarised once per (unit, indicator), not searched per value.
    `codes`: `_factorize(values["indicator"])`, `coded`: the unit codes and indicators as `_coded` gives them,
    `periods`: the period codes so (`_period_mask`; coded here otherwise, once for both tests), when the caller
    has them."""
    columns = ["unit_code", "indicator", "kind", "value", "reference", "detail", "file_name", "cell"]
    rows = []
    if values.empty:
        return pd.DataFrame(rows, columns=columns)
    periods = _coded(values["period_code"]) if periods is None else periods
    this = _period_mask(values["period_code"], lambda c: c == period.code, periods)
    before = (_period_mask(values["period_code"], lambda c: c < period.code, periods)
              & values["value"].notna()).to_numpy()
    if before.any():
        rows.extend(_jumps(values, this, before, z_limit, codes, coded))
    tied = [i for i in plan.indicators if i.denominator_equals]
    totals_named = {c.key: c.group for c in CASE_COLUMNS if c.is_total}   # a total's key -> its heading group
    if tied and not cases.empty:
        cc = with_case_totals(cases[cases["period_code"] == period.code])
        totals = cc.groupby("unit_code")[list(case_totals_of())].sum()
        # (the columns read, not the month's every column)
        cur_all = values.loc[this, ["unit_code", "indicator", "denominator", "file_name", "cell"]]
        for ind in tied:
            vi = cur_all[(cur_all["indicator"] == ind.key) & cur_all["denominator"].notna()]
            vi = vi.join(totals[ind.denominator_equals].rename("expected"), on="unit_code", how="inner")
            for r in vi[vi["denominator"].astype(int) != vi["expected"].astype(int)].itertuples(index=False):
                rows.append({"unit_code": r.unit_code, "indicator": ind.key, "kind": "case-mismatch",
                             "value": float(r.denominator), "reference": float(r.expected),
                             "detail": wording("case-mismatch-detail", total=totals_named[ind.denominator_equals]),
                             "file_name": r.file_name, "cell": r.cell})
    # Carried-over cases that differ from the unit's pending at the end of the previous period (issue 13).
    carried = next(c for c in CASE_COLUMNS if c.key == "carried")
    carried_col = col_letter(carried.col)
    for r in carried_mismatches(cases, period.code, period.previous().code).itertuples(index=False):
        rows.append({"unit_code": r.unit_code, "indicator": None, "kind": "carried-mismatch",
                     "value": float(r.carried), "reference": float(r.expected), "detail": f"{carried.label}, {r.field}",
                     "file_name": r.file_name, "cell": f"{carried_col}{r.row}" if r.row else None})
    return pd.DataFrame(rows, columns=columns)


def unit_label(registry: Registry, unit: Unit) -> str:
    """The one way a unit is named in every list: agencies of the first tier by their name ("Sở Tư pháp"),
    local authorities as their People's Committee ("UBND huyện Bác Ái", "UBND xã Phước Hòa")."""
    top = registry.tiers[0].code if registry.tiers else None
    name = unit.name
    if unit.tier == top or name.upper().startswith(("UBND", "ỦY BAN", "UỶ BAN")):
        return name
    return "UBND " + name[:1].lower() + name[1:]


def label_of(registry: Registry, code: str) -> str:
    """`unit_label` by unit code (the code itself for a unit the registry does not know)."""
    unit = registry.get(code)
    return unit_label(registry, unit) if unit else str(code)


def tier_heading(registry: Registry, tier: Tier) -> str:
    """How an official heads the units of a tier in a list: "Sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã"."""
    top = registry.tiers[0].code if registry.tiers else None
    if tier.code == top:
        return tier.group_label or tier.name
    return "UBND " + tier.name[:1].lower() + tier.name[1:]


def units_by_tier(registry: Registry, codes: Sequence[str]) -> list[tuple[Tier, list[str]]]:
    """`codes` grouped by tier in the registry's tier order, keeping their order inside a tier."""
    buckets: dict[str, list[str]] = {t.code: [] for t in registry.tiers}   # one lookup per code
    unknown = []
    for c in codes:
        u = registry.get(c)
        if u is None:
            unknown.append(c)
        elif (mine := buckets.get(u.tier)) is not None:
            mine.append(c)
    out = [(t, buckets[t.code]) for t in registry.tiers if buckets[t.code]]
    if unknown:
        out.append((Tier(code="?", name="Khác"), unknown))
    return out


# What a clerk types when there is nothing to report: "Không", "Không có", "-", "Chưa có", "Không có khó
# khăn, vướng mắc", "Ko", "N/A", "0"…
_NOTHING = re.compile(
    r"^(?:(?:không|khong|ko|k|chưa|chua)(?: có| co)?(?: gì| gi)?"
    r"(?: (?:khó khăn|vướng mắc|kiến nghị|đề xuất|ý kiến|đề nghị|phát sinh|nội dung|vấn đề)(?: và| hoặc)?)*"
    r"|n a|na|none|x|0|nil|trống)?$")
_BULLET = re.compile(r"^(?:[-+•*–—·>]+|\(?\d{1,2}[.)]|[a-zđ]\))\s*", re.IGNORECASE)


def tidy_clerk_text(text: object) -> str | None:
    """A difficulty or proposal as a report prints it, or None when the clerk said there is none.

    Strips list marks, spaces before punctuation, repeated and trailing punctuation; "&" becomes "và";
    the first letter is capitalised. "Không có", "Không", "-", "Chưa có"… are no difficulty at all."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    clean, _ = clean_text(str(text))
    key = " ".join(re.sub(r"[^\w]+", " ", clean.casefold()).split())
    if _NOTHING.match(key):
        return None
    out = clean
    while True:
        stripped = _BULLET.sub("", out, count=1)
        if stripped == out:
            break
        out = stripped
    out = re.sub(r"\s*&\s*", " và ", out)
    out = re.sub(r"\s+([,.;:!?)])", r"\1", out)
    out = re.sub(r"([(])\s+", r"\1", out)
    out = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", out)
    out = re.sub(r"\.{2,}(?!\.)", ".", out) if "..." not in out else out
    out = re.sub(r"(?<=[^\W\d_])([,;])(?=[^\W\d_])", r"\1 ", out)
    out = out.strip(" \t.,;:-–—")
    out = " ".join(out.split())
    if not re.search(r"\w", out):
        return None
    return out[:1].upper() + out[1:]


def gather_texts(registry: Registry, texts: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Difficulties and proposals, tidied and de-duplicated (however typed), attributed to every unit that
    raised them (named by `unit_label`, in tier order; `unit_codes` keeps the codes). What a clerk typed to
    say there is nothing ("Không có", "-") is dropped."""
    codes_in = {m.code for m in period.months()}
    t = texts[texts["period_code"].isin(codes_in)].sort_values("period_code", kind="stable") if not texts.empty \
        else texts
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    order = {u.code: i for i, u in enumerate(registry.units)}
    tidied: dict[Any, tuple[str, str] | None] = {}   # many units type the same sentence: tidy it once
    for kind, raw, unit_code, period_code in zip(*(t[c].tolist() for c in ("kind", "text", "unit_code",
                                                                        "period_code")), strict=True) \
            if not t.empty else ():
        memo_key = raw if isinstance(raw, str) else None
        found = tidied.get(memo_key, False) if memo_key is not None else False
        if found is False:
            text = tidy_clerk_text(raw)
            found = None if text is None else (text, match_key(text).rstrip(" .;"))
            if memo_key is not None:
                tidied[memo_key] = found
        if found is None:
            continue
        text, match = found
        entry = rows.setdefault((kind, match), {"kind": kind, "text": text, "codes": {}, "months": {}})
        entry["codes"][unit_code] = None   # a dict: insertion-ordered and O(1) membership
        month = int(str(period_code)[-2:]) if str(period_code)[-2:].isdigit() else None
        if month is not None:
            entry["months"].setdefault(unit_code, {})[month] = None
    records = []
    labels: dict[str, str] = {}   # a unit raising many texts is named once

    def label(c: str) -> str:
        if c not in labels:
            labels[c] = label_of(registry, c)
        return labels[c]

    for v in rows.values():
        codes = sorted(v["codes"], key=lambda c: order.get(c, len(order)))

        def named(c: str, v: dict[str, Any] = v) -> str:
            if period.kind == "month" or not v["months"].get(c):
                return label(c)
            return f"{label(c)} (tháng {', '.join(str(m) for m in sorted(v['months'][c]))})"

        records.append({"kind": v["kind"], "text": v["text"], "units": "; ".join(named(c) for c in codes),
                        "count": len(codes), "unit_codes": ",".join(codes)})
    out = pd.DataFrame(records, columns=["kind", "text", "units", "count", "unit_codes"])
    return out.sort_values(["kind", "count"], ascending=[True, False], kind="stable").reset_index(drop=True)


LONG_DROPPED = ("submission_id",)   # internal to the store: no reader of long-<period>.csv needs it


def long_rows(values: pd.DataFrame, period: Period, periods: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """The month rows of `period`'s own months, without the store's internal ids: what long-<period>.csv
    gives a reader (the months before, read for the comparisons, are left out). `periods`:
    `_coded(values["period_code"])`, when the caller has them (`_period_mask`)."""
    codes = {m.code for m in period.months()}
    rows = values[_period_mask(values["period_code"], lambda c: c in codes, periods)] if not values.empty else values
    return rows.drop(columns=[c for c in LONG_DROPPED if c in rows.columns]).reset_index(drop=True)


def aggregate(plan: Plan, registry: Registry, period: Period, *, values: pd.DataFrame, subs: pd.DataFrame,
              cases: pd.DataFrame, tasks: pd.DataFrame, texts: pd.DataFrame, today: date | None = None
              ) -> Aggregation:
    """Everything the report needs for one period, from what the store returns."""
    values = values.reindex(columns=VALUE_COLUMNS) if values.empty else values
    # The rows' periods coded once for every period tested below (this one, the previous, last year's, the year
    # to date, the months before...): each test is then of a few labels, not of every row's string again.
    periods = _coded(values["period_code"])
    long = long_rows(values, period, periods)
    restated = restated_periods(values)
    months = [period]
    if period.kind != "month":
        accepted = subs[subs["status"] == "accepted"] if not subs.empty else subs
        months = data_months(period, list(accepted["period_code"]) if not accepted.empty else [])
        month_values, month_cases, month_periods = values, cases, periods
        values = with_pooled_periods(plan, values, period)
        periods = _coded(values["period_code"])   # (the pooled rows added: a frame of its own)
        cases = pool_cases(cases, months, period)
    # The history's indicators factorized once for every grouping done an indicator at a time (the year to
    # date per unit and per group, the jump check), not once by each.
    codes = _factorize(values["indicator"]) if len(values) >= BATCH_ROWS else None
    # The same for the units and the indicators' values: the year to date per unit and per group is grouped on
    # integers (each grouping hashed the half a million unit codes and indicators again).
    coded = {"unit_code": _coded(values["unit_code"]), "indicator": _coded(values["indicator"], codes)} \
        if codes is not None else None
    base = unit_base(plan, registry, values)
    units = per_unit(plan, registry, values, period, base=base, periods=periods)
    registry = period_registry(plan, registry, units)
    status = unit_status(plan, registry, subs, period, months)
    if period.kind == "month":
        flags = quality_flags(plan, values, cases, period, codes=codes, coded=coded, periods=periods)
    else:
        month_codes = _factorize(month_values["indicator"]) if len(month_values) >= BATCH_ROWS else None
        found = [quality_flags(plan, month_values, month_cases, m, codes=month_codes, periods=month_periods)
                 for m in months]
        flags = pd.concat(found, ignore_index=True) if found else quality_flags(plan, values.iloc[0:0], cases, period)
    return Aggregation(
        period=period, units=units,
        groups=_timed_groups(plan, registry, values, period, base=base, units=units, codes=codes, coded=coded,
                             periods=periods),
        units_ytd=ytd_per_unit(plan, registry, values, period, codes=codes, coded=coded, periods=periods),
        completeness=completeness(registry, status),
        unit_status=status,
        tasks=task_table(plan, registry, tasks, period, today or period.window(plan.reporting.window_rule)[1]),
        cases=case_summary(registry, cases, period), flags=flags,
        texts=gather_texts(registry, texts, period), long=long, months=months, registry=registry,
        restated_periods=restated)


def restated_periods(values: pd.DataFrame) -> list[str]:
    """The month codes whose value rows were restated onto today's units (`unit_code_then` filled by
    `core.succession.map_frames`)."""
    if values is None or "unit_code_then" not in values:
        return []
    return sorted(set(values.loc[values["unit_code_then"].notna(), "period_code"].astype(str)))


def period_registry(plan: Plan, registry: Registry, units: pd.DataFrame) -> Registry:
    """The registry as the period saw it: a former tier's units (an abolished tier, from the workspace history)
    only when they reported in the period, and the tier only while it has units; unchanged otherwise."""
    gone = former_tiers(plan, registry)
    if not gone:
        return registry
    seen = set(units["unit_code"]) if not units.empty else set()
    kept = tuple(u for u in registry.units if u.tier not in gone or u.code in seen)
    tiers = tuple(t for t in registry.tiers if t.code not in gone or any(u.tier == t.code for u in kept))
    if len(kept) == len(registry.units) and len(tiers) == len(registry.tiers):
        return registry
    return Registry(id=registry.id, province=registry.province, tiers=tiers, units=kept,
                    valid_from=registry.valid_from, valid_to=registry.valid_to, note=registry.note)
