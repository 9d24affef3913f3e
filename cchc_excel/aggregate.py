"""Aggregation: pure functions over the long table of reported values (pandas in, pandas out).

Rates are pooled — the sum of numerators over the sum of denominators — never the mean of the units'
percentages; the number and share of units meeting their own targets is reported beside, labelled.
Reported percentages are combined by the rule the plan states per indicator (weighted by a count, or a
plain mean). Year to date sums the counts of the months and recomputes the rate from the sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from .layout import STATUSES
from .period import Period
from .plan import Indicator, Plan, Target, indicators_for, resolve_target, tasks_for
from .units import Registry
from .vntext import match_key

MET, NOT_MET, NOT_REPORTED = "Đạt", "Chưa đạt", "Chưa báo cáo"

VALUE_COLUMNS = ["unit_code", "period_code", "indicator", "numerator", "denominator", "value", "weight", "answer",
                 "file_name", "sheet", "cell"]


@dataclass(frozen=True)
class Combined:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n: int = 0


def combine(indicator: Indicator, rows: pd.DataFrame) -> Combined:
    """Combine units' figures for one indicator by the plan's rule."""
    if rows.empty:
        return Combined(None)
    if indicator.kind == "rate":
        ok = rows[rows["numerator"].notna() & rows["denominator"].notna()]
        num, den = float(ok["numerator"].sum()), float(ok["denominator"].sum())
        return Combined(num / den * 100 if den > 0 else None, num, den, len(ok))
    ok = rows[rows["value"].notna()]
    if ok.empty:
        return Combined(None)
    if indicator.combine == "weighted":
        w = ok["weight"].fillna(0)
        if float(w.sum()) > 0:
            return Combined(float((ok["value"] * w).sum() / w.sum()), None, float(w.sum()), len(ok))
        return Combined(None, None, 0.0, len(ok))
    return Combined(float(ok["value"].mean()), None, None, len(ok))


def units_frame(registry: Registry) -> pd.DataFrame:
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


def expected_frame(plan: Plan, registry: Registry) -> pd.DataFrame:
    """Every (unit, indicator) the plan expects, with the unit's own target (adjustments applied)."""
    rows = []
    for u in registry.units:
        for item in indicators_for(plan, unit_code=u.code, tier=u.tier, flags=u.flags):
            t = item.target
            rows.append({"unit_code": u.code, "indicator": item.indicator.key,
                         "printed_id": (t.printed_id if t and t.printed_id else item.indicator.id),
                         "target": t.value if t else None, "comparison": t.comparison if t else None,
                         "target_label": t.label if t else "", "adjusted": bool(t and t.adjusted_by)})
    return pd.DataFrame(rows, columns=["unit_code", "indicator", "printed_id", "target", "comparison",
                                       "target_label", "adjusted"])


def _met(value: float | None, target: float | None, comparison: str | None) -> str | None:
    if value is None or pd.isna(value):
        return None
    if target is None or pd.isna(target):
        return None
    return MET if Target(float(target), comparison or "min").is_met(float(value)) else NOT_MET


def per_unit(plan: Plan, registry: Registry, values: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Each expected (unit, indicator) for the period: figures, target, met / not met / not reported."""
    exp = expected_frame(plan, registry).merge(units_frame(registry), on="unit_code", how="left")
    cur = values[values["period_code"] == period.code] if not values.empty else values
    cur = cur.reindex(columns=VALUE_COLUMNS)
    out = exp.merge(cur.drop(columns=["period_code"]), on=["unit_code", "indicator"], how="left")
    kinds = {i.key: i.kind for i in plan.indicators}
    statuses = []
    for row in out.itertuples(index=False):
        kind = kinds[row.indicator]
        reported = not (pd.isna(row.value) and pd.isna(row.numerator) and (row.answer is None or pd.isna(row.answer)))
        if not reported:
            statuses.append(NOT_REPORTED)
        elif kind in ("rate", "percent"):
            statuses.append(_met(row.value, row.target, row.comparison) or "")
        elif kind == "yesno":
            statuses.append(MET if row.answer == "Có" else NOT_MET)
        else:
            statuses.append(MET if row.answer == STATUSES[0] else NOT_MET)
    out["status"] = statuses
    out["period_code"] = period.code
    return out


def _group_rows(plan: Plan, unit_rows: pd.DataFrame, level: str, key_col: str | None, name_col: str | None
                ) -> list[dict[str, Any]]:
    rows = []
    groups = [("*", "Toàn tỉnh", unit_rows)] if key_col is None else [
        (k, g[name_col].iloc[0], g) for k, g in unit_rows.groupby(key_col, sort=False, dropna=True)]
    for code, name, g in groups:
        for ind_key, gi in g.groupby("indicator", sort=False):
            ind = plan.indicator(ind_key)
            comb = combine(ind, gi)
            reported = gi[gi["status"] != NOT_REPORTED]
            met = int((gi["status"] == MET).sum())
            rows.append({"level": level, "group_code": code, "group_name": name, "indicator": ind_key,
                         "value": comb.value, "numerator": comb.numerator, "denominator": comb.denominator,
                         "units_expected": len(gi), "units_reported": len(reported), "units_met": met,
                         "share_met": (met / len(reported) * 100) if len(reported) else None})
    return rows


def per_group(plan: Plan, unit_rows: pd.DataFrame, *, has_districts: bool) -> pd.DataFrame:
    """Pooled figures per tier, per district (communes under it, three-tier provinces only), province."""
    rows = _group_rows(plan, unit_rows, "tier", "tier", "tier_name")
    if has_districts:
        under = unit_rows[unit_rows["district_code"].notna()]
        rows += _group_rows(plan, under, "district", "district_code", "district_name")
    rows += _group_rows(plan, unit_rows, "province", None, None)
    return pd.DataFrame(rows)


def ytd_per_unit(plan: Plan, registry: Registry, values: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Year-to-date figures per unit: counts summed over the year's months, rate recomputed."""
    months = {p.code for p in period.year_to_date()}
    v = values[values["period_code"].isin(months)] if not values.empty else values.reindex(columns=VALUE_COLUMNS)
    rows = []
    for (unit, ind_key), g in v.groupby(["unit_code", "indicator"], sort=False):
        comb = combine(plan.indicator(ind_key), g)
        rows.append({"unit_code": unit, "indicator": ind_key, "value": comb.value, "numerator": comb.numerator,
                     "denominator": comb.denominator, "months": g["period_code"].nunique()})
    return pd.DataFrame(rows, columns=["unit_code", "indicator", "value", "numerator", "denominator", "months"])


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
    long: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> Mapping[str, pd.DataFrame]:
        return {"units": self.units, "groups": self.groups, "units_ytd": self.units_ytd,
                "completeness": self.completeness, "unit_status": self.unit_status, "tasks": self.tasks,
                "cases": self.cases, "flags": self.flags, "texts": self.texts, "long": self.long}


def _timed_groups(plan: Plan, registry: Registry, values: pd.DataFrame, period: Period) -> pd.DataFrame:
    has_districts = any(u.parent for u in registry.units)
    now = per_group(plan, per_unit(plan, registry, values, period), has_districts=has_districts)
    if now.empty:
        return now
    keys = ["level", "group_code", "indicator"]

    def values_for(p: Period, suffix: str) -> pd.DataFrame:
        g = per_group(plan, per_unit(plan, registry, values, p), has_districts=has_districts)
        if g.empty:
            return pd.DataFrame(columns=[*keys, f"value_{suffix}"])
        g = g[g["units_reported"] > 0]
        return g[[*keys, "value"]].rename(columns={"value": f"value_{suffix}"})

    out = now.merge(values_for(period.previous(), "prev"), on=keys, how="left")
    out = out.merge(values_for(period.same_period_last_year(), "last_year"), on=keys, how="left")
    # Year to date: pool the year's months together (unit figures summed, then combined).
    months = {p.code for p in period.year_to_date()}
    ytd_vals = values[values["period_code"].isin(months)] if not values.empty else values
    ytd_rows = []
    unit_info = units_frame(registry)
    if not ytd_vals.empty:
        merged = ytd_vals.merge(unit_info, on="unit_code", how="left")
        levels: list[tuple[str, str | None, str | None]] = [("tier", "tier", "tier_name")]
        if has_districts:
            levels.append(("district", "district_code", "district_name"))
        levels.append(("province", None, None))
        for level, key_col, _name in levels:
            frame = merged if key_col != "district_code" else merged[merged["district_code"].notna()]
            grouped = [("*", frame)] if key_col is None else list(frame.groupby(key_col, sort=False))
            for code, g in grouped:
                for ind_key, gi in g.groupby("indicator", sort=False):
                    comb = combine(plan.indicator(ind_key), gi)
                    ytd_rows.append({"level": level, "group_code": code, "indicator": ind_key, "value_ytd": comb.value})
    ytd = pd.DataFrame(ytd_rows, columns=[*keys, "value_ytd"])
    out = out.merge(ytd, on=keys, how="left")
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


def unit_status(plan: Plan, registry: Registry, subs: pd.DataFrame, period: Period) -> pd.DataFrame:
    """On time / late / rejected / missing for every unit the plan expects to report."""
    due = period.due_date(plan.reporting.due_day, month_offset=plan.reporting.due_month_offset)
    expected = [u for u in registry.units
                if indicators_for(plan, unit_code=u.code, tier=u.tier, flags=u.flags)
                or tasks_for(plan, unit_code=u.code, tier=u.tier)]
    s = subs[subs["period_code"] == period.code] if not subs.empty else subs
    rows = []
    for u in expected:
        mine = s[s["unit_code"] == u.code] if not s.empty else s
        current = mine[mine["is_current"].astype(bool)] if not mine.empty else mine
        if not current.empty:
            c = current.iloc[-1]
            first_ok = mine[mine["status"] == "accepted"]["received_at"].min()
            when = pd.Timestamp(first_ok).date()
            status = "Đúng hạn" if when <= due else "Muộn"
            rows.append({"unit_code": u.code, "status": status, "received_at": pd.Timestamp(c["received_at"]),
                         "versions": len(mine), "file_name": c["file_name"]})
        elif not mine.empty:
            c = mine.iloc[-1]
            rows.append({"unit_code": u.code, "status": "Bị trả lại", "received_at": pd.Timestamp(c["received_at"]),
                         "versions": len(mine), "file_name": c["file_name"]})
        else:
            rows.append({"unit_code": u.code, "status": "Chưa nộp", "received_at": None, "versions": 0,
                         "file_name": None})
    out = pd.DataFrame(rows, columns=["unit_code", "status", "received_at", "versions", "file_name"])
    out = out.merge(units_frame(registry), on="unit_code", how="left")
    out["due_date"] = due
    return out


def completeness(registry: Registry, status: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for tier in registry.tiers:
        g = status[status["tier"] == tier.code]
        rows.append({"tier": tier.code, "tier_name": tier.name, "expected": len(g),
                     "on_time": int((g["status"] == "Đúng hạn").sum()), "late": int((g["status"] == "Muộn").sum()),
                     "rejected": int((g["status"] == "Bị trả lại").sum()),
                     "missing": int((g["status"] == "Chưa nộp").sum())})
    df = pd.DataFrame(rows)
    total = {"tier": "*", "tier_name": "Toàn tỉnh", **{c: int(df[c].sum()) for c in
                                                         ("expected", "on_time", "late", "rejected", "missing")}}
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)


def task_table(plan: Plan, registry: Registry, tasks: pd.DataFrame, period: Period, today: date) -> pd.DataFrame:
    """Every assigned (unit, task) with its reported status; overdue when past its deadline and not done."""
    t = tasks[tasks["period_code"] == period.code] if not tasks.empty else tasks
    reported = {(r.unit_code, r.task): r for r in t.itertuples(index=False)} if not t.empty else {}
    rows = []
    for u in registry.units:
        for ut in tasks_for(plan, unit_code=u.code, tier=u.tier):
            r = reported.get((u.code, ut.task.key))
            status = r.status if r is not None and isinstance(r.status, str) else None
            due = ut.task.deadline.due
            overdue = bool(due and due < today and status != STATUSES[0])
            rows.append({"unit_code": u.code, "unit_name": u.name, "tier": u.tier, "task": ut.task.key,
                         "task_id": ut.task.id, "text": ut.task.text, "role": ut.role,
                         "host": ut.task.host or "", "deadline": ut.task.deadline.label,
                         "due": due, "status": status or NOT_REPORTED, "overdue": overdue,
                         "done_date": r.done_date if r is not None else None})
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "tier", "task", "task_id", "text", "role", "host",
                                       "deadline", "due", "status", "overdue", "done_date"])


def case_summary(registry: Registry, cases: pd.DataFrame, period: Period) -> pd.DataFrame:
    cols = ["online", "direct", "carried", "before", "on_time", "late", "pending_in", "pending_late"]
    c = cases[cases["period_code"] == period.code] if not cases.empty else cases
    info = units_frame(registry)[["unit_code", "tier", "tier_name"]]
    rows = []
    merged = c.merge(info, on="unit_code", how="left") if not c.empty else pd.DataFrame(columns=[*cols, "tier"])
    for tier in registry.tiers:
        g = merged[merged["tier"] == tier.code]
        rows.append({"tier": tier.code, "tier_name": tier.name, "units": g["unit_code"].nunique() if len(g) else 0,
                     **{k: int(g[k].sum()) if len(g) else 0 for k in cols}})
    df = pd.DataFrame(rows)
    total = {"tier": "*", "tier_name": "Tổng cộng", "units": int(df["units"].sum()),
             **{k: int(df[k].sum()) for k in cols}}
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["received"] = df["online"] + df["direct"] + df["carried"]
    df["resolved"] = df["before"] + df["on_time"] + df["late"]
    df["pending"] = df["pending_in"] + df["pending_late"]
    return df


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


def quality_flags(plan: Plan, values: pd.DataFrame, cases: pd.DataFrame, period: Period,
                  z_limit: float = 3.5) -> pd.DataFrame:
    """Values far from the unit's own history, and denominators that disagree with the case table."""
    rows = []
    if not values.empty:
        cur = values[values["period_code"] == period.code]
        past = values[values["period_code"] < period.code]
        for r in cur.itertuples(index=False):
            if r.value is None or pd.isna(r.value):
                continue
            hist = past[(past["unit_code"] == r.unit_code) & (past["indicator"] == r.indicator)]["value"]
            z = robust_z(hist.tolist(), float(r.value))
            if z is not None and abs(z) > z_limit and abs(float(r.value) - float(hist.median())) >= 5:
                rows.append({"unit_code": r.unit_code, "indicator": r.indicator, "kind": "jump",
                             "value": float(r.value), "reference": float(hist.median()),
                             "detail": f"z={z:.1f}" if z not in (float("inf"), float("-inf")) else "z=∞",
                             "file_name": r.file_name, "cell": r.cell})
        if not cases.empty:
            cc = cases[cases["period_code"] == period.code].copy()
            cc["received"] = cc["online"] + cc["direct"] + cc["carried"]
            cc["resolved"] = cc["before"] + cc["on_time"] + cc["late"]
            cc["pending"] = cc["pending_in"] + cc["pending_late"]
            totals = cc.groupby("unit_code")[["received", "resolved", "pending"]].sum()
            for ind in plan.indicators:
                if not ind.denominator_equals:
                    continue
                vi = cur[(cur["indicator"] == ind.key) & cur["denominator"].notna()]
                for r in vi.itertuples(index=False):
                    if r.unit_code in totals.index:
                        expected = int(totals.loc[r.unit_code, ind.denominator_equals])
                        if int(r.denominator) != expected:
                            rows.append({"unit_code": r.unit_code, "indicator": ind.key, "kind": "case-mismatch",
                                         "value": float(r.denominator), "reference": float(expected),
                                         "detail": ind.denominator_equals, "file_name": r.file_name,
                                         "cell": r.cell})
    return pd.DataFrame(rows, columns=["unit_code", "indicator", "kind", "value", "reference", "detail",
                                       "file_name", "cell"])


def gather_texts(registry: Registry, texts: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Difficulties and proposals, de-duplicated (however typed) and attributed to every unit that raised them."""
    t = texts[texts["period_code"] == period.code] if not texts.empty else texts
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in t.itertuples(index=False):
        key = (r.kind, match_key(r.text).rstrip(" .;"))
        unit = registry.get(r.unit_code)
        name = unit.name if unit else r.unit_code
        entry = rows.setdefault(key, {"kind": r.kind, "text": r.text.rstrip(" ;"), "units": []})
        if name not in entry["units"]:
            entry["units"].append(name)
    out = pd.DataFrame([{**v, "units": "; ".join(v["units"]), "count": len(v["units"])} for v in rows.values()],
                       columns=["kind", "text", "units", "count"])
    return out.sort_values(["kind", "count"], ascending=[True, False], kind="stable").reset_index(drop=True)


def aggregate(plan: Plan, registry: Registry, period: Period, *, values: pd.DataFrame, subs: pd.DataFrame,
              cases: pd.DataFrame, tasks: pd.DataFrame, texts: pd.DataFrame, today: date | None = None
              ) -> Aggregation:
    """Everything the report needs for one period, from what the store returns."""
    values = values.reindex(columns=VALUE_COLUMNS) if values.empty else values
    units = per_unit(plan, registry, values, period)
    status = unit_status(plan, registry, subs, period)
    return Aggregation(
        period=period, units=units, groups=_timed_groups(plan, registry, values, period),
        units_ytd=ytd_per_unit(plan, registry, values, period), completeness=completeness(registry, status),
        unit_status=status,
        tasks=task_table(plan, registry, tasks, period, today or period.window(plan.reporting.window_rule)[1]),
        cases=case_summary(registry, cases, period), flags=quality_flags(plan, values, cases, period),
        texts=gather_texts(registry, texts, period), long=values)


def target_of(plan: Plan, registry: Registry, unit_code: str, indicator_key: str) -> float | None:
    """Convenience for callers and tests: a unit's resolved target value."""
    u = registry.get(unit_code)
    if u is None:
        return None
    t = resolve_target(plan, plan.indicator(indicator_key), unit_code=u.code, tier=u.tier, flags=u.flags)
    return t.value if t else None
