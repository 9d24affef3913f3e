"""A year's reform plan as data: indicators with per-tier targets, tasks with deadlines, target adjustments.

`parse_plan` turns the mapping read from a plan file into a frozen `Plan` plus every problem found, each
naming its place in the file ("dòng 42, indicators[3].targets.xa"). The file format is documented in
docs/plan-format.md. Pure core: no file access here.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .period import Deadline, Period, due_warning, parse_deadline
from .problems import Problem, ValidationReport, problem, unknown_key, wording

KINDS = ("rate", "percent", "yesno", "task")
COMBINE_RULES = ("pooled", "weighted", "mean")
OVER_MONTHS = ("sum", "latest")   # aggregate_over_months: a flow is summed over months, a stock takes the latest

# Comparison words an officer may write, mapped to our three comparisons.
COMPARISONS = {
    "min": "min", "toi_thieu": "min", "tối thiểu": "min", ">=": "min", "at_least": "min",
    "exact": "exact", "bang": "exact", "bằng": "exact", "=": "exact", "==": "exact",
    "max": "max", "toi_da": "max", "tối đa": "max", "<=": "max", "at_most": "max",
}
COMPARISON_LABELS = {"min": "Tối thiểu", "exact": "", "max": "Tối đa"}

# Case-table totals an indicator's denominator may be tied to (names of the case-table columns).
CASE_TOTALS = ("received", "resolved", "pending")


# ------------------------------------------------------------------------------------------------
# The met rule, defined once. A result meets its target when the result *as shown* (rounded to
# SHOWN_DECIMALS, as the form and the report print it: 74,995 shows as 75,00) compares with the target by
# the target's operator. Plans print a bare target ("100", "98") as "exact"; a rate at or above it meets
# it. `met` (Python), `met_excel` (the form's formula) and aggregate's column-wise version are all
# generated from SHOWN_DECIMALS, MET_NUDGE and MET_OPERATORS; tests/test_contract.py checks they agree.
MET, NOT_MET = "Đạt", "Chưa đạt"
SHOWN_DECIMALS = 2
# 74.995 is stored as 74.99499999999999...; the nudge makes it show (and count) as 75,00, as Excel's
# ROUND does (it rounds the decimal number shown, not the binary one).
MET_NUDGE = 1e-12
MET_OPERATORS = {"min": ">=", "exact": ">=", "max": "<="}
_COMPARE = {">=": operator.ge, "<=": operator.le}


def shown_value(result: float) -> float:
    """A result as the form shows it (2 decimals, half away from zero on the decimal value)."""
    return round(result + MET_NUDGE, SHOWN_DECIMALS)


def met(result: float, target: float, comparison: str) -> bool:
    """The met rule in Python: the shown result against the target."""
    return bool(_COMPARE[MET_OPERATORS[comparison]](shown_value(result), target))


def met_excel(result: str, target: str, comparison: str) -> str:
    """The met rule as an Excel/LibreOffice condition over two cell references (TRUE when met)."""
    return f"ROUND({result},{SHOWN_DECIMALS}){MET_OPERATORS[comparison]}{target}"


@dataclass(frozen=True)
class Target:
    """A target for one tier (or every tier when `tier` is None)."""

    value: float
    comparison: str = "min"          # "min" | "exact" | "max"
    tier: str | None = None
    printed_id: str | None = None    # "2.1": the sub-row id under which the plan prints it
    adjusted_by: tuple[str, ...] = ()

    def is_met(self, result: float | None) -> bool | None:
        """Met / not met / unknown, by the one met rule (`met`)."""
        if result is None:
            return None
        return met(result, self.value, self.comparison)

    @property
    def label(self) -> str:
        """Vietnamese label as printed in plans: "Tối thiểu 60%", "100%", "Tối đa 5%"."""
        number = f"{self.value:g}".replace(".", ",")
        prefix = COMPARISON_LABELS[self.comparison]
        return f"{prefix} {number}%".strip()


@dataclass(frozen=True)
class Indicator:
    key: str                      # unique in the plan: "3", or "NQ01/9" when the plan has groups
    id: str                       # as printed: "3", "2.3", "9"
    code: str                     # ASCII, for defined names: "3", "NQ01_9"
    name: str
    kind: str                     # rate | percent | yesno | task
    short: str | None = None      # short name for narrow table columns ("Tỷ lệ hồ sơ trực tuyến")
    unit: str = "%"
    group: str | None = None
    numerator_label: str | None = None
    denominator_label: str | None = None
    weight_label: str | None = None      # percent kind: count used to weight the mean (e.g. số lượt đánh giá)
    applies_to: tuple[str, ...] = ()     # tier codes and/or unit codes
    targets: tuple[Target, ...] = ()
    combine: str = "pooled"
    # A longer period (quarter, year, year to date): "sum" adds a flow over its months (cases received);
    # "latest" takes each unit's latest month of a stock (how many TTHC are offered online at a time).
    over_months: str = "sum"
    denominator_equals: str | None = None  # a CASE_TOTALS entry the denominator must equal
    source: str | None = None
    host: str | None = None
    evaluator: str | None = None
    deadline: Deadline | None = None
    note: str | None = None
    coordinators: str | None = None       # "Cơ quan phối hợp", as text (optional)

    def target_for_tier(self, tier: str) -> Target | None:
        for target in self.targets:
            if target.tier == tier:
                return target
        for target in self.targets:
            if target.tier is None:
                return target
        return None


@dataclass(frozen=True)
class Task:
    key: str
    id: str
    code: str
    text: str
    deadline: Deadline
    host: str | None = None
    coordinators: str | None = None
    assigned_to: tuple[str, ...] = ()     # tier codes / unit codes whose workbooks carry the task
    coordinating: tuple[str, ...] = ()    # tier codes / unit codes that coordinate (shown as "Phối hợp")
    group: str | None = None
    source: str | None = None
    product: str | None = None
    note: str | None = None               # status note printed beside the task ("Ghi chú"), optional


# How an adjustment's `delta` changes a target. "giảm 10%" in a plan does not say which one is meant, so the
# plan file says it: "points" (percentage points: 35 - 10 = 25) or "percent_of_target" (a share of the
# target: 35 - 10% x 35 = 31.5). Without `mode`, points (the reading of seed 000 in docs/domain.md), with a
# warning so the choice is written down.
ADJUSTMENT_MODES = ("points", "percent_of_target")


@dataclass(frozen=True)
class Adjustment:
    id: str
    flag: str
    delta: float
    indicators: tuple[str, ...]
    tiers: tuple[str, ...] = ()   # empty: any tier
    text: str | None = None
    mode: str = "points"          # see ADJUSTMENT_MODES

    def change(self, base: float) -> float:
        """The change this adjustment makes to a target of `base`."""
        return base * self.delta / 100 if self.mode == "percent_of_target" else self.delta


CARRIED_OVER = ("editable", "locked", "off")


@dataclass(frozen=True)
class Reporting:
    window_rule: str = "nd09"      # nd09 (15th–14th) | calendar
    due_day: int = 15
    due_month_offset: int = 0
    large_change_points: float = 30.0  # a month-on-month jump (percentage points) worth a warning
    carried_over: str = "editable"     # the carried-over column pre-filled from last period: editable | locked | off


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    source: str | None = None


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    province: str
    year: int
    tiers: tuple[str, ...]
    indicators: tuple[Indicator, ...]
    tasks: tuple[Task, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    groups: tuple[Group, ...] = ()
    reporting: Reporting = field(default_factory=Reporting)
    case_fields: tuple[str, ...] = ()
    document: str | None = None
    issuer: str | None = None

    def indicator(self, key: str) -> Indicator:
        for ind in self.indicators:
            if ind.key == key:
                return ind
        raise KeyError(key)


# ----------------------------------------------------------------------------------------------
# Resolution per unit


@dataclass(frozen=True)
class UnitIndicator:
    indicator: Indicator
    target: Target | None


def unit_matches(selectors: Sequence[str], *, unit_code: str, tier: str) -> bool:
    """Whether a unit is selected by a list of tier codes and unit codes ("*" selects all)."""
    return "*" in selectors or tier in selectors or unit_code in selectors


def resolve_target(plan: Plan, indicator: Indicator, *, unit_code: str, tier: str,
                   flags: frozenset[str] | set[str] = frozenset()) -> Target | None:
    """The target of `indicator` for one unit, with the plan's adjustments for the unit's flags applied."""
    base = indicator.target_for_tier(tier)
    if base is None:
        return None
    value = base.value
    applied: list[str] = []
    for adj in plan.adjustments:
        if adj.flag in flags and indicator.key in adj.indicators and (not adj.tiers or tier in adj.tiers):
            value += adj.change(base.value)
            applied.append(adj.id)
    if not applied:
        return Target(base.value, base.comparison, tier, base.printed_id)
    value = min(100.0, max(0.0, value))
    return Target(value, base.comparison, tier, base.printed_id, tuple(applied))


def indicators_for(plan: Plan, *, unit_code: str, tier: str,
                   flags: frozenset[str] | set[str] = frozenset()) -> list[UnitIndicator]:
    """Indicators that apply to one unit, in plan order, each with the unit's own target."""
    out = []
    for ind in plan.indicators:
        if unit_matches(ind.applies_to, unit_code=unit_code, tier=tier):
            out.append(UnitIndicator(ind, resolve_target(plan, ind, unit_code=unit_code, tier=tier,
                                                         flags=flags)))
    return out


@dataclass(frozen=True)
class UnitTask:
    task: Task
    role: str  # "Chủ trì" | "Phối hợp"


def tasks_for(plan: Plan, *, unit_code: str, tier: str) -> list[UnitTask]:
    out = []
    for task in plan.tasks:
        if unit_matches(task.assigned_to, unit_code=unit_code, tier=tier):
            out.append(UnitTask(task, "Chủ trì"))
        elif unit_matches(task.coordinating, unit_code=unit_code, tier=tier):
            out.append(UnitTask(task, "Phối hợp"))
    return out


# ----------------------------------------------------------------------------------------------
# Parsing


def _line(node: Any, key: str | None = None) -> int | None:
    line_of = getattr(node, "line_of", None)
    if line_of is None:
        return None
    return line_of(key) if key is not None else getattr(node, "line", None)


class _Ctx:
    """Collects problems and formats places as "dòng N (path)"."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def where(self, node: Any, path: str, key: str | None = None) -> str:
        line = _line(node, key)
        full = f"{path}.{key}" if key else path
        return f"dòng {line} ({full})" if line else full

    def add(self, code: str, node: Any, path: str, key: str | None = None, **kw: Any) -> None:
        self.problems.append(problem(code, file=self.source, cell=self.where(node, path, key), **kw))


def as_id(value: Any) -> str:
    """An id as printed. YAML may have read "2.1" as a float; "2.10" cannot be told from "2.1" then,
    which is why the format docs ask for quotes."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).strip()


def code_of(key: str) -> str:
    """ASCII code for defined names: "NQ01/9" -> "NQ01_9", "2.3" -> "2_3"."""
    from .vntext import ascii_fold  # local: keeps module import light

    text = ascii_fold(key)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper() or "X"


def _str(node: Mapping, key: str) -> str | None:
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v).strip() for v in value)
    text = str(value).strip()
    return text or None


def _list(node: Mapping, key: str) -> tuple[str, ...]:
    value = node.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(s.strip() for s in re.split(r"[,;]", value) if s.strip())
    if isinstance(value, (list, tuple)):
        return tuple(as_id(v) for v in value)
    return (as_id(value),)


_INDICATOR_KEYS = {"id", "name", "short", "kind", "unit", "group", "numerator", "denominator", "weight", "applies_to",
                   "target", "targets", "combine", "aggregate_over_months", "denominator_equals", "source", "host", "evaluator",
                   "deadline", "note", "coordinators"}
_TASK_KEYS = {"id", "text", "deadline", "host", "coordinators", "assigned_to", "coordinating", "group",
              "source", "product", "note"}
_PLAN_KEYS = {"id", "title", "province", "year", "tiers", "indicators", "tasks", "adjustments", "groups",
              "reporting", "case_fields", "document", "issuer", "format"}


def _parse_target(ctx: _Ctx, node: Any, path: str, tier: str | None, known_tiers: Sequence[str]) -> Target | None:
    printed = None
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        comparison, value = "exact", float(node)
    elif isinstance(node, Mapping):
        printed = as_id(node["id"]) if node.get("id") is not None else None
        found = [(k, v) for k, v in node.items() if str(k).lower() in COMPARISONS]
        others = [k for k in node if str(k).lower() not in COMPARISONS and k != "id"]
        for key in others:
            ctx.add("unknown-comparison", node, path, key, value=key)
        if len(found) != 1:
            ctx.add("field-missing", node, path, name="min | exact | max")
            return None
        comparison = COMPARISONS[str(found[0][0]).lower()]
        raw = found[0][1]
        try:
            value = float(str(raw).replace("%", "").replace(",", ".").strip())
        except ValueError:
            ctx.add("field-invalid", node, path, str(found[0][0]), value=raw, name="target", detail=wording("is-not-a-number"))
            return None
    else:
        ctx.add("field-invalid", None, path, value=node, name="target", detail=wording("target-shape"))
        return None
    if not 0 <= value <= 100:
        ctx.add("target-out-of-range", node, path, value=value)
        return None
    if tier is not None and tier not in known_tiers:
        ctx.add("unknown-tier", node, path, value=tier, detail=", ".join(known_tiers))
    return Target(value, comparison, tier, printed)


def _check_selectors(ctx: _Ctx, node: Mapping, path: str, key: str, selectors: Sequence[str],
                     tiers: Sequence[str]) -> None:
    """Lowercase selectors must be tiers (unit codes are upper case by convention), so a typo like "xaa"
    is caught instead of silently selecting nothing."""
    for sel in selectors:
        if sel != "*" and sel.islower() and sel not in tiers:
            ctx.add("unknown-tier", node, path, key, value=sel, detail=", ".join(tiers))


def _check_node(ctx: _Ctx, node: Any, path: str, what: str, allowed: set[str] | None,
                required: Sequence[str]) -> bool:
    """A plan entry must be a mapping with its required keys; unknown keys are reported (typos)."""
    if not isinstance(node, Mapping):
        ctx.add("field-invalid", None, path, value=node, name=what, detail=wording("entry-needs", keys=", ".join(required)))
        return False
    for key in node:
        if allowed is not None and key not in allowed:
            # A near miss of a known key is an error (its value would be dropped silently), others warnings.
            ctx.problems.append(unknown_key(str(key), allowed, file=ctx.source, cell=ctx.where(node, path, key)))
    ok = True
    for key in required:
        if node.get(key) in (None, ""):
            ctx.add("field-missing", node, path, name=key)
            ok = False
    return ok


def _parse_indicator(ctx: _Ctx, node: Any, path: str, plan_tiers: Sequence[str], default_year: int,
                     groups: Mapping[str, Group]) -> Indicator | None:
    if not _check_node(ctx, node, path, "indicator", _INDICATOR_KEYS, ("id", "name", "kind")):
        return None
    ind_id = as_id(node["id"])
    kind = str(node["kind"]).strip()
    if kind not in KINDS:
        ctx.add("unknown-kind", node, path, "kind", value=kind)
        return None
    group = _str(node, "group")
    if group is not None and group not in groups:
        ctx.add("field-invalid", node, path, "group", value=group, name="group",
                detail=wording("group-undeclared"))
    key = f"{group}/{ind_id}" if group else ind_id
    numerator, denominator = _str(node, "numerator"), _str(node, "denominator")
    if kind == "rate":
        if not numerator:
            ctx.add("missing-label", node, path, name=ind_id, detail=wording("numerator-label"))
        if not denominator:
            ctx.add("missing-label", node, path, name=ind_id, detail=wording("denominator-label"))
    targets: list[Target] = []
    if node.get("target") is not None:
        t = _parse_target(ctx, node["target"], f"{path}.target", None, plan_tiers)
        if t:
            targets.append(t)
    per_tier = node.get("targets")
    if per_tier is not None:
        if not isinstance(per_tier, Mapping):
            ctx.add("field-invalid", node, path, "targets", value=per_tier, name="targets",
                    detail=wording("targets-shape"))
        else:
            for tier, tnode in per_tier.items():
                t = _parse_target(ctx, tnode, f"{path}.targets.{tier}", str(tier), plan_tiers)
                if t:
                    targets.append(t)
    explicit = _list(node, "applies_to")
    # Tier typos in `targets` were reported there already; check only what the officer wrote here.
    _check_selectors(ctx, node, path, "applies_to", explicit, plan_tiers)
    applies = explicit or (tuple(t.tier for t in targets if t.tier) or tuple(plan_tiers))
    default_combine = "pooled" if kind == "rate" else ("weighted" if node.get("weight") else "mean")
    combine = _str(node, "combine") or default_combine
    if combine not in COMBINE_RULES or (combine == "pooled" and kind != "rate") or (
            combine == "weighted" and not node.get("weight") and kind != "rate"):
        ctx.add("field-invalid", node, path, "combine", value=combine, name="combine",
                detail=wording("combine-rules"))
        combine = default_combine
    over_months = _str(node, "aggregate_over_months") or "sum"
    if over_months not in OVER_MONTHS:
        ctx.add("field-invalid", node, path, "aggregate_over_months", value=over_months, name="aggregate_over_months",
                detail=", ".join(OVER_MONTHS))
        over_months = "sum"
    den_eq = _str(node, "denominator_equals")
    if den_eq is not None and den_eq not in CASE_TOTALS:
        ctx.add("field-invalid", node, path, "denominator_equals", value=den_eq, name="denominator_equals",
                detail=", ".join(CASE_TOTALS))
        den_eq = None
    deadline = None
    if node.get("deadline") is not None:
        deadline = parse_deadline(node["deadline"], default_year=default_year)
        if deadline is None:
            ctx.add("bad-deadline", node, path, "deadline", value=node["deadline"])
    return Indicator(
        key=key, id=ind_id, code=code_of(key), name=str(node["name"]).strip(), kind=kind, short=_str(node, "short"),
        unit=_str(node, "unit") or "%", group=group, numerator_label=numerator, denominator_label=denominator,
        weight_label=_str(node, "weight"), applies_to=applies, targets=tuple(targets), combine=combine,
        over_months=over_months,
        denominator_equals=den_eq, source=_str(node, "source"), host=_str(node, "host"),
        evaluator=_str(node, "evaluator"), deadline=deadline, note=_str(node, "note"),
        coordinators=_str(node, "coordinators"))


def _parse_task(ctx: _Ctx, node: Any, path: str, plan_tiers: Sequence[str], default_year: int) -> Task | None:
    if not _check_node(ctx, node, path, "task", _TASK_KEYS, ("id", "text", "deadline")):
        return None
    deadline = parse_deadline(node["deadline"], default_year=default_year)
    if deadline is None:
        ctx.add("bad-deadline", node, path, "deadline", value=node["deadline"])
        return None
    task_id = as_id(node["id"])
    group = _str(node, "group")
    assigned = _list(node, "assigned_to") or tuple(plan_tiers)
    coordinating = _list(node, "coordinating")
    _check_selectors(ctx, node, path, "assigned_to", assigned, plan_tiers)
    _check_selectors(ctx, node, path, "coordinating", coordinating, plan_tiers)
    key = f"{group}/{task_id}" if group else task_id
    return Task(key=key, id=task_id, code=code_of(key), text=" ".join(str(node["text"]).split()),
                deadline=deadline, host=_str(node, "host"), coordinators=_str(node, "coordinators"),
                assigned_to=assigned, coordinating=coordinating, group=group, source=_str(node, "source"),
                product=_str(node, "product"), note=_str(node, "note"))


def _parse_adjustment(ctx: _Ctx, node: Any, path: str, plan_tiers: Sequence[str]) -> Adjustment | None:
    if not _check_node(ctx, node, path, "adjustment", {"id", "flag", "delta", "indicators", "tiers", "text", "mode"},
                       ("id", "flag", "delta", "indicators")):
        return None
    mode = _str(node, "mode")
    if mode is None:
        ctx.problems.append(problem("adjustment-mode-missing", file=ctx.source, cell=ctx.where(node, path),
                                    value=as_id(node["id"]), delta=node["delta"]))
        mode = "points"
    elif mode not in ADJUSTMENT_MODES:
        ctx.add("field-invalid", node, path, "mode", value=mode, name="mode", detail=wording("one-of", choices=" hoặc ".join(ADJUSTMENT_MODES)))
        return None
    try:
        delta = float(str(node["delta"]).replace(",", "."))
    except ValueError:
        ctx.add("field-invalid", node, path, "delta", value=node["delta"], name="delta", detail=wording("is-not-a-number"))
        return None
    tiers = _list(node, "tiers")
    for tier in tiers:
        if tier not in plan_tiers:
            ctx.add("unknown-tier", node, path, "tiers", value=tier, detail=", ".join(plan_tiers))
    return Adjustment(id=as_id(node["id"]), flag=str(node["flag"]).strip(), delta=delta,
                      indicators=_list(node, "indicators"), tiers=tiers, text=_str(node, "text"), mode=mode)


def _first_dupe(items: Sequence[Any], key: str) -> Iterator[tuple[int, int]]:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            yield seen[value], index
        else:
            seen[value] = index


def _parse_entries(ctx: _Ctx, data: Mapping[str, Any], section: str,
                   parse: Callable[[Any, str], Any]) -> list[Any]:
    """The entries of a list section (indicators, tasks), each parsed where it stands; a repeated key is
    reported at the repeat, naming where the first one is."""
    entries: list[Any] = []
    nodes: list[tuple[Any, str]] = []
    raw = data.get(section) or []
    for i, node in enumerate(raw if isinstance(raw, list) else []):
        entry = parse(node, f"{section}[{i}]")
        if entry:
            entries.append(entry)
            nodes.append((node, f"{section}[{i}]"))
    for first, dup in _first_dupe(entries, "key"):
        node, path = nodes[dup]
        ctx.add("duplicate-id", node, path, "id", value=entries[dup].id,
                detail=ctx.where(nodes[first][0], nodes[first][1], "id"))
    return entries


def parse_plan(data: Any, *, source: str = "<plan>") -> tuple[Plan | None, ValidationReport]:
    """Turn a plan mapping into a Plan; every problem at once, each with its place in the file."""
    ctx = _Ctx(source)
    if not isinstance(data, Mapping):
        ctx.add("field-invalid", None, "plan", value=type(data).__name__, name="plan",
                detail=wording("plan-needs"))
        return None, ValidationReport(ctx.problems)
    for key in data:
        if key not in _PLAN_KEYS:
            ctx.problems.append(unknown_key(str(key), _PLAN_KEYS, file=source, cell=ctx.where(data, "plan", key)))
    for key in ("id", "year", "tiers", "indicators"):
        if data.get(key) in (None, "", []):
            ctx.add("field-missing", data, "plan", name=key)
    try:
        year = int(data.get("year") or date.today().year)
    except (TypeError, ValueError):
        ctx.add("field-invalid", data, "plan", "year", value=data.get("year"), name="year", detail=wording("year-needed"))
        year = date.today().year
    tiers = _list(data, "tiers")
    groups_raw = data.get("groups") or []
    groups: dict[str, Group] = {}
    for i, g in enumerate(groups_raw if isinstance(groups_raw, list) else []):
        if isinstance(g, Mapping) and g.get("id"):
            groups[as_id(g["id"])] = Group(as_id(g["id"]), str(g.get("title") or g["id"]), _str(g, "source"))
        else:
            ctx.add("field-missing", g, f"groups[{i}]", name="id")

    indicators: list[Indicator] = _parse_entries(ctx, data, "indicators",
                                lambda node, path: _parse_indicator(ctx, node, path, tiers, year, groups))
    tasks: list[Task] = _parse_entries(ctx, data, "tasks", lambda node, path: _parse_task(ctx, node, path, tiers, year))

    adjustments: list[Adjustment] = []
    keys = {ind.key for ind in indicators}
    raw_adj = data.get("adjustments") or []
    for i, node in enumerate(raw_adj if isinstance(raw_adj, list) else []):
        adj = _parse_adjustment(ctx, node, f"adjustments[{i}]", tiers)
        if adj:
            for ref in adj.indicators:
                if ref not in keys:
                    ctx.add("unknown-indicator", node, f"adjustments[{i}]", "indicators", value=ref)
            adjustments.append(adj)

    reporting = Reporting()
    rep = data.get("reporting")
    if isinstance(rep, Mapping):
        try:
            reporting = Reporting(
                window_rule=str(rep.get("window_rule", "nd09")),
                due_day=int(rep.get("due_day", 15)),
                due_month_offset=int(rep.get("due_month_offset", 0)),
                large_change_points=float(rep.get("large_change_points", 30.0)),
                carried_over=str(rep.get("carried_over", "editable")).strip())
        except (TypeError, ValueError) as exc:
            ctx.add("field-invalid", rep, "reporting", value=rep, name="reporting", detail=str(exc))
        if reporting.window_rule not in ("nd09", "calendar"):
            ctx.add("field-invalid", rep, "reporting", "window_rule", value=reporting.window_rule,
                    name="window_rule", detail=wording("window-rules"))
        if reporting.carried_over not in CARRIED_OVER:
            ctx.add("field-invalid", rep, "reporting", "carried_over", value=reporting.carried_over,
                    name="carried_over", detail=", ".join(CARRIED_OVER))

    if isinstance(rep, Mapping) and reporting.window_rule in ("nd09", "calendar") and 1 <= reporting.due_day <= 31:
        # Nghị định 09 khoản 5 Điều 8: at least one working day (public holidays do not count) between cut-off
        # and the due date as the plan states it (before any move off a day off). A warning,
        # not an error: seed 004 itself asks for reports "trước ngày 15" with a window ending on the 14th.
        short = [m for m in range(1, 13) if due_warning(
            Period(year, "month", m),
            Period(year, "month", m).due_date(reporting.due_day, month_offset=reporting.due_month_offset, roll=False),
            reporting.window_rule)]
        if short:
            months = ", ".join(f"{m}/{year}" for m in short)
            ctx.problems.append(problem("due-before-cutoff", file=source, cell=ctx.where(rep, "reporting"),
                                        detail=wording("due-day-months", day=reporting.due_day, months=months)))

    plan = Plan(
        id=str(data.get("id") or "").strip(), title=str(data.get("title") or "").strip(),
        province=str(data.get("province") or "").strip(), year=year, tiers=tiers,
        indicators=tuple(indicators), tasks=tuple(tasks), adjustments=tuple(adjustments),
        groups=tuple(groups.values()), reporting=reporting, case_fields=_list(data, "case_fields"),
        document=_str(data, "document"), issuer=_str(data, "issuer"))
    report = ValidationReport(ctx.problems)
    return (plan if report.ok else None), report
