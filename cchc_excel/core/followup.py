"""The plan follow-up table: every indicator and task of the plan, in the plan's own order and numbering,
with host, coordinators, deadline and a "Ghi chú" stated from the units' reports (pure core).

The shape is the appendix of seed 002 (Hải Dương, "Nhiệm vụ, chỉ tiêu được giao trong Kế hoạch phải hoàn
thành trong năm 2024"): STT, nội dung/chỉ tiêu, cơ quan chủ trì, cơ quan phối hợp, thời hạn hoàn thành, ghi
chú. The note says only what the data says: the province figure against the target ("đã đồng bộ 719.569 hồ
sơ (70,29%); chưa đồng bộ 304.169 hồ sơ (29,71%)"), the units under their own target with their rates
("Sở Tư pháp: 27,74%"), a task's state from its hosts' latest reports ("Chưa hoàn thành, quá hạn: …",
"Đã hoàn thành ngày 26/02/2024 (Công văn số …)") and, where no unit reported, "Chưa có đơn vị báo cáo". The
plan file's own `note` (a status written when the plan was copied) is never printed as if it were data.

For a month, indicators use that month's figures; for a year (or quarter, half), the months of the period
that hold data, pooled by `aggregate.pool_months` — the rule the report uses for a longer period (counts
summed, rate recomputed; `aggregate.data_months` picks the months). Tasks always use each unit's latest
reported status up to the last of those months. `task_progress` gives a task's status month by month for
each unit, with what changed since the month before; `overdue_items` lists the overdue rows with their hosts
named (for item 4 of the report).
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from .aggregate import (
    MET,
    NO_CASES,
    NOT_MET,
    NOT_REPORTED,
    VALUE_COLUMNS,
    data_months,
    label_of,
    per_group,
    per_unit,
    pool_months,
    tier_heading,
    unit_base,
    units_by_tier,
)
from .layout import STATUSES
from .narrative import UnitRows, count_with_rate, group_rows, nb
from .period import Period
from .plan import Indicator, Plan, Task, unit_matches
from .units import Registry, Tier
from .vntext import format_count, format_percent, format_short_date

__all__ = ["APPENDIX_COLUMNS", "DONE", "FollowupRow", "FollowupTable", "NO_REPORT", "OverdueItem", "TASK_NOT_DONE",
           "agencies_lines", "appendix_part", "build_followup", "complement_with_rate", "count_phrase",
           "overdue_items", "task_progress"]

DONE, DOING, TODO = STATUSES
TASK_NOT_DONE = "Chưa hoàn thành"
NO_REPORT = "Chưa có đơn vị báo cáo"
NAMES_PER_TIER = 5          # units named per tier in a note; the rest are counted ("và 24 đơn vị cấp xã khác")
DETAILS_LIMIT = 5           # completion dates and documents listed one by one up to this many units
DETAIL_REF = "Phụ lục kết quả thực hiện chỉ tiêu của từng đơn vị"
_STATE_WORDS = {DOING: "đang thực hiện", TODO: "chưa thực hiện", NOT_REPORTED: "chưa báo cáo"}


@dataclass(frozen=True)
class FollowupRow:
    """One row of the table. `kind`: "indicator", "task" or "heading" (a group title across the table)."""

    kind: str
    key: str
    number: str                      # STT as the plan prints it: "9", "12.1", "II.3.a"
    content: str
    host: str = ""
    coordinators: str = ""
    deadline: str = ""               # as the plan states it ("Trong tháng 01/2024", "Thường xuyên")
    notes: tuple[str, ...] = ()      # the "Ghi chú", one line each
    status: str = ""                 # Đạt | Chưa đạt | Đã hoàn thành | Chưa hoàn thành | Chưa có đơn vị báo cáo | …
    overdue: bool = False
    pending: tuple[str, ...] = ()    # unit codes that have not done it (tasks) or missed the target (indicators)

    @property
    def note(self) -> str:
        return "\n".join(self.notes)


@dataclass(frozen=True)
class FollowupTable:
    plan_id: str
    title: str                       # "NHIỆM VỤ, CHỈ TIÊU ĐƯỢC GIAO TRONG KẾ HOẠCH …"
    period: Period
    data_to: Period | None           # the last month whose data is used (None: no data at all)
    as_of: date                      # overdue is judged on this day
    data_note: str                   # "Số liệu lũy kế từ tháng 1 đến hết tháng 3 năm 2025 …"
    rows: tuple[FollowupRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "title": self.title, "period": self.period.code,
                "data_to": self.data_to.code if self.data_to else None, "as_of": self.as_of.isoformat(),
                "data_note": self.data_note,
                "rows": [{"kind": r.kind, "key": r.key, "number": r.number, "content": r.content, "host": r.host,
                          "coordinators": r.coordinators, "deadline": r.deadline, "note": r.note,
                          "status": r.status, "overdue": r.overdue, "pending": list(r.pending)}
                         for r in self.rows]}


@dataclass(frozen=True)
class OverdueItem:
    """An overdue task (or dated indicator not met) with the hosts that have not done it, named."""

    kind: str
    key: str
    number: str
    text: str
    deadline: str
    hosts: tuple[str, ...]           # unit labels ("Sở Thông tin và Truyền thông"), or the plan's host text


# ----------------------------------------------------------------------------------------------
# Phrases


_NOUNS = ("phản ánh, kiến nghị", "hồ sơ", "thủ tục hành chính", "TTHC", "giao dịch", "văn bản", "kết quả",
          "dự thảo", "lãnh đạo, cán bộ, công chức", "cán bộ, công chức", "dịch vụ công")
# Where the action of "được <verb>" ends: a preposition, a qualifier, the object.
_VERB_END = re.compile(r"\s+(?:trên|qua|tại|lên|theo|của|thông qua|đầy đủ|hồ sơ|kết quả|với|vào|cho)\b|[;(]")


def count_phrase(ind: Indicator) -> tuple[str, str | None]:
    """(noun, verb) for an indicator's counts, read from the plan's labels: the denominator names what is
    counted ("Tổng số hồ sơ …" -> "hồ sơ"); "được <verb>" in the numerator names the action ("Số hồ sơ … được
    đồng bộ đầy đủ trên Cổng …" -> "đồng bộ"). The verb is None when the label has no "được" (then only the
    count and rate are written, never a guessed verb)."""
    den = re.sub(r"^(?:tổng\s+)?số\s+", "", (ind.denominator_label or "").strip(), flags=re.IGNORECASE)
    noun = ""
    folded = den.casefold()
    best = len(folded) + 1
    for candidate in _NOUNS:
        at = folded.find(candidate.casefold())
        if 0 <= at < best:
            noun, best = candidate, at
    verb = None
    m = re.search(r"(?:^|\s)(?:đã\s+)?được\s+(.+)$", ind.numerator_label or "", flags=re.IGNORECASE)
    if m:
        text = _VERB_END.split(m.group(1), maxsplit=1)[0].strip(" ,.")
        verb = text or None
    return noun, verb


def complement_with_rate(numerator: float, denominator: float, verb: str, noun: str = "hồ sơ") -> str:
    """`narrative.count_with_rate` with its complement: "đã đồng bộ 719.569 hồ sơ (70,29%); chưa đồng bộ
    304.169 hồ sơ (29,71%)"."""
    done = f"đã {verb} {count_with_rate(numerator, denominator, noun)}"
    rest = max(0.0, float(denominator) - float(numerator))
    return f"{done}; chưa {verb} {count_with_rate(rest, denominator, noun)}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _pct(value: Any) -> str:
    return "" if value is None or pd.isna(value) else format_percent(float(value))


def _short_date(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, date):
        return format_short_date(value)
    try:
        return format_short_date(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


def _others(tier: Tier, n: int) -> str:
    return f"và {nb(n)} đơn vị {_lower_first(tier.name)} khác"


def _named(registry: Registry, codes: Sequence[str], describe: Any = None, *, limit: int = NAMES_PER_TIER,
           ref: str | None = None) -> list[tuple[Tier, int, str]]:
    """Per tier, its number of units and "Sở Tư pháp: 27,74%; Sở Y tế: 40,12% và 03 đơn vị cấp xã khác (chi
    tiết tại …)"."""
    out = []
    for tier, mine in units_by_tier(registry, list(codes)):
        shown = [label_of(registry, c) + (describe(c) if describe else "") for c in mine[:limit]]
        text = "; ".join(shown)
        if len(mine) > limit:
            text += " " + _others(tier, len(mine) - limit) + (f" (chi tiết tại {ref})" if ref else "")
        out.append((tier, len(mine), text))
    return out


def _lines_by_tier(registry: Registry, head: str, codes: Sequence[str], describe: Any = None,
                   ref: str | None = None) -> list[str]:
    """"<head> (02 đơn vị): A; B" for units of one tier; one line per tier ("<head>, UBND cấp xã (05 đơn vị):
    …") when they come from several."""
    groups = _named(registry, codes, describe, ref=ref)
    if len(groups) == 1:
        return [f"{head} ({nb(len(codes))} đơn vị): {groups[0][2]}"]
    return [f"{head} – {tier_heading(registry, tier)} ({nb(count)} đơn vị): {text}" for tier, count, text in groups]


# ----------------------------------------------------------------------------------------------
# Plan order


_NUMERIC_ID = re.compile(r"\d+(?:\.\d+)*")


def _id_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def plan_sections(plan: Plan) -> list[tuple[str | None, list[Indicator | Task]]]:
    """The plan's items in its own order. When indicators and tasks share one numbering (Hải Dương: items
    1–13, indicators and tasks interleaved, plain numbers, no groups) they are one list in number order;
    otherwise indicators come first, by the plan's groups (Vĩnh Long's three tables), then tasks."""
    ids = [i.id for i in plan.indicators] + [t.id for t in plan.tasks]
    shared = (plan.tasks and plan.indicators and not plan.groups and not any(t.group for t in plan.tasks)
              and all(_NUMERIC_ID.fullmatch(x) for x in ids) and len(set(ids)) == len(ids))
    if shared:
        items: list[Indicator | Task] = [*plan.indicators, *plan.tasks]
        return [(None, sorted(items, key=lambda it: _id_key(it.id)))]
    sections: list[tuple[str | None, list[Indicator | Task]]] = []
    loose = [i for i in plan.indicators if not i.group]
    if loose:
        sections.append(("Chỉ tiêu", list(loose)))
    for group in plan.groups:
        mine = [i for i in plan.indicators if i.group == group.id]
        if mine:
            sections.append((group.title, list(mine)))
    task_groups = list(dict.fromkeys(t.group for t in plan.tasks))
    for g in task_groups:
        mine_t = [t for t in plan.tasks if t.group == g]
        sections.append(("Nhiệm vụ" + (f" ({g})" if g else ""), list(mine_t)))
    if len(sections) == 1 and plan.tasks == () and not plan.groups:
        return [(None, sections[0][1])]
    return sections


def _latest_tasks(tasks: pd.DataFrame, months: Sequence[Period]) -> dict[tuple[str, str], Any]:
    codes = {m.code for m in months}
    if tasks.empty or not codes:
        return {}
    t = tasks[tasks["period_code"].isin(codes)].sort_values("period_code", kind="stable")
    t = t.groupby(["unit_code", "task"], sort=False).tail(1)
    return {(r.unit_code, r.task): r for r in _records(t)}


def _records(frame: pd.DataFrame) -> list[Any]:
    """`frame.itertuples(index=False)` from column lists (itertuples boxes each value of a string column one
    by one: 16,000 task rows nationally)."""
    row = namedtuple("Pandas", [str(c) for c in frame.columns], rename=True)  # type: ignore[misc]
    return [row._make(values) for values in zip(*(frame[c].tolist() for c in frame.columns), strict=True)]


# ----------------------------------------------------------------------------------------------
# Notes

# The notes read the per-unit and per-group frames through narrative's `UnitRows` and `group_rows` (one
# definition each).


def _tiers_with_value(g: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in g if r["level"] == "tier" and not pd.isna(r["value"])]


def _indicator_row(plan: Plan, registry: Registry, ind: Indicator, units: UnitRows,
                   g: Sequence[dict[str, Any]], as_of: date, ref: str) -> FollowupRow:
    mine = units.rows.get(ind.key, [])
    code, status_of = units.code, units.status
    deadline = _capital(ind.deadline.text) if ind.deadline else ""
    base = {"kind": "indicator", "key": ind.key, "number": ind.id, "content": _content(ind),
            "host": ind.host or "", "coordinators": ind.coordinators or "", "deadline": deadline}
    if not mine:
        return FollowupRow(**base, notes=("Không có đơn vị nào trong danh mục được giao chỉ tiêu này.",),
                           status=NO_REPORT)
    reported = [i for i in mine if status_of[i] != NOT_REPORTED]
    if not reported:
        return FollowupRow(**base, notes=(NO_REPORT,), status=NO_REPORT)
    judged = [i for i in reported if status_of[i] != NO_CASES]
    if not judged:
        return FollowupRow(**base, notes=(f"Không phát sinh ({nb(len(reported))} đơn vị đã báo cáo, không có hồ "
                                          "sơ, lượt đánh giá để tính).",), status=NO_CASES)
    notes: list[str] = []
    single = len(mine) == 1
    scope = label_of(registry, str(code[mine[0]])) if single else "Toàn tỉnh"
    prow = next((r for r in g if r["level"] == "province"), None)
    status = ""
    if ind.kind in ("rate", "percent") and prow is not None:
        notes.append(f"{scope}: {_figure(ind, prow)}.")
        status = _province_status(ind, g, registry)
        if status == NOT_MET and not single:
            tiers = _tier_words(ind, g, registry)
            if tiers:
                notes.append(f"Chưa đạt chỉ tiêu: {tiers}.")
        elif status == NOT_MET:
            target = ind.target_for_tier(str(units.tier[mine[0]]))
            notes.append(f"Chưa đạt chỉ tiêu ({_lower_first(target.label)})." if target else "Chưa đạt chỉ tiêu.")
        elif status == MET:
            notes.append("Đạt chỉ tiêu.")
    else:  # yes/no and task indicators: who has done it
        done = sum(1 for i in judged if status_of[i] == MET)
        status = MET if done == len(judged) else NOT_MET
        notes.append(f"Đã thực hiện: {nb(done)}/{nb(len(judged))} đơn vị đã báo cáo.")
    missed = units.by_value([i for i in judged if status_of[i] == NOT_MET])
    missed_codes = [code[i] for i in missed]
    if not single and missed:
        values = {code[i]: units.value[i] for i in missed}
        describe = (lambda c: f": {_pct(values[c])}") if ind.kind in ("rate", "percent") else None
        notes += _lines_by_tier(registry, "Đơn vị chưa đạt", missed_codes, describe, ref)
    missing = [code[i] for i in mine if status_of[i] == NOT_REPORTED]
    if missing:
        notes += _lines_by_tier(registry, "Chưa báo cáo", missing)
    overdue = bool(status == NOT_MET and ind.deadline is not None and ind.deadline.is_overdue(as_of))
    if overdue and ind.deadline is not None:
        notes[0] = f"Quá hạn (thời hạn {ind.deadline.label}). " + notes[0]
    return FollowupRow(**base, notes=tuple(notes), status=status, overdue=overdue,
                       pending=tuple(str(c) for c in missed_codes))


def _content(ind: Indicator) -> str:
    """The indicator as the plan names it; its targets added when the name does not state them."""
    if "%" in ind.name or not ind.targets:
        return ind.name
    tiers = {t.tier for t in ind.targets}
    if len({(t.value, t.comparison) for t in ind.targets}) == 1 or tiers == {None}:
        return f"{ind.name} ({_lower_first(ind.targets[0].label)})"
    return f"{ind.name} ({'; '.join(f'{t.printed_id or t.tier}: {_lower_first(t.label)}' for t in ind.targets)})"


def _figure(ind: Indicator, row: Any) -> str:
    value = row["value"]
    if pd.isna(value):
        return "chưa có số liệu"
    if ind.kind == "rate" and not pd.isna(row["numerator"]) and not pd.isna(row["denominator"]):
        noun, verb = count_phrase(ind)
        num, den = float(row["numerator"]), float(row["denominator"])
        if verb:
            return complement_with_rate(num, den, verb, noun)
        return f"{_pct(value)} ({format_count(num)}/{format_count(den)} {noun}".rstrip() + ")"
    return _pct(value)


def _province_status(ind: Indicator, g: Sequence[dict[str, Any]], registry: Registry) -> str:
    """Met when every tier's pooled figure meets its tier's target (the province row when the plan gives one
    target for all); `g`: the indicator's group rows."""
    verdicts = []
    for r in _tiers_with_value(g):
        target = ind.target_for_tier(str(r["group_code"]))
        if target is not None:
            verdicts.append(target.is_met(float(r["value"])))
    if not verdicts:
        return ""
    return MET if all(verdicts) else NOT_MET


def _tier_words(ind: Indicator, g: Sequence[dict[str, Any]], registry: Registry) -> str:
    parts = []
    for r in _tiers_with_value(g):
        code = r["group_code"]
        target = ind.target_for_tier(str(code))
        if target is None or target.is_met(float(r["value"])):
            continue
        name = registry.tier(str(code)).name if code in registry.tier_codes else str(r["group_name"])
        parts.append(f"{_lower_first(name)} {_pct(r['value'])} ({_lower_first(target.label)})")
    return "; ".join(parts)


def _task_units(plan: Plan, registry: Registry, task: Task) -> tuple[list[str], list[str]]:
    hosts = [u.code for u in registry.units if unit_matches(task.assigned_to, unit_code=u.code, tier=u.tier)]
    host_set = set(hosts)   # a task of every commune has thousands of hosts
    coords = [u.code for u in registry.units if u.code not in host_set
              and unit_matches(task.coordinating, unit_code=u.code, tier=u.tier)]
    return hosts, coords


def _state(r: Any) -> str:
    status = getattr(r, "status", None) if r is not None else None
    return status if isinstance(status, str) and status in STATUSES else NOT_REPORTED


def _given(r: Any) -> str:
    """"ngày 26/02/2024; Công văn số 627/UBND-VP ngày 26/02/2024" from what the unit wrote."""
    parts = []
    when = _short_date(getattr(r, "done_date", None))
    if when:
        parts.append(f"ngày {when}")
    doc = getattr(r, "document", None)
    if isinstance(doc, str) and doc.strip():
        parts.append(doc.strip().rstrip("."))
    return "; ".join(parts)


def _task_row(plan: Plan, registry: Registry, task: Task, latest: dict[tuple[str, str], Any], as_of: date
              ) -> FollowupRow:
    hosts, coords = _task_units(plan, registry, task)
    host_text = task.host or "; ".join(label_of(registry, c) for c in hosts[:3])
    base = {"kind": "task", "key": task.key, "number": task.id,
            "content": task.text + (f" (Sản phẩm: {task.product})" if task.product else ""),
            "host": host_text, "coordinators": task.coordinators or "",
            "deadline": _capital(task.deadline.text or task.deadline.label)}
    rows = {c: latest.get((c, task.key)) for c in [*hosts, *coords]}
    if not any(r is not None for r in rows.values()):
        return FollowupRow(**base, notes=(NO_REPORT,), status=NO_REPORT)
    states = {c: _state(rows[c]) for c in hosts}
    done = [c for c in hosts if states[c] == DONE]
    pending = [c for c in hosts if states[c] != DONE]
    notes: list[str] = []
    overdue = False
    due = task.deadline.due
    if hosts and not pending:
        late = [c for c in done if due and (d := _done_date(rows[c])) and d > due]
        if len(hosts) == 1:
            given = _given(rows[hosts[0]])
            notes.append(DONE + (f" {given.replace('; ', ' (', 1)})" if "; " in given else f" {given}" if given
                                 else "") + (" (sau thời hạn)" if late else "") + ".")
        else:
            notes.append(f"{DONE} ({nb(len(done))}/{nb(len(hosts))} đơn vị chủ trì)."
                         + (f" Hoàn thành sau thời hạn: {nb(len(late))} đơn vị." if late else ""))
            if len(done) <= DETAILS_LIMIT:
                notes += [f"- {label_of(registry, c)}: {g}" for c in done if (g := _given(rows[c]))]
        status = DONE
    else:
        overdue = task.deadline.is_overdue(as_of)
        head = TASK_NOT_DONE + (f", quá hạn (thời hạn {task.deadline.label})" if overdue else "")

        def describe(c: str) -> str:
            words = [_STATE_WORDS[states[c]]]
            if (g := _given(rows[c])) and states[c] != NOT_REPORTED:
                words.append(g)
            return f" ({'; '.join(words)})"

        if len(pending) == 1:
            notes.append(f"{head}: {label_of(registry, pending[0])}{describe(pending[0])}.")
        else:
            notes.append(f"{head}: {nb(len(pending))}/{nb(len(hosts))} đơn vị chủ trì.")
            notes += [f"- {tier_heading(registry, tier)} ({nb(count)}): {text}"
                      for tier, count, text in _named(registry, pending, describe)]
        if done:
            notes.append(f"Đã hoàn thành: {nb(len(done))}/{nb(len(hosts))} đơn vị chủ trì.")
        status = TASK_NOT_DONE
    reported_coords = [c for c in coords if rows[c] is not None]
    if reported_coords:
        parts = [f"{label_of(registry, c)}: {_lower_first(_state(rows[c]))}" for c in reported_coords[:NAMES_PER_TIER]]
        more = len(reported_coords) - NAMES_PER_TIER
        notes.append("Đơn vị phối hợp: " + "; ".join(parts) + (f" và {nb(more)} đơn vị khác" if more > 0 else "")
                     + ".")
    return FollowupRow(**base, notes=tuple(notes), status=status, overdue=overdue, pending=tuple(pending))


def _done_date(r: Any) -> date | None:
    value = getattr(r, "done_date", None)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value is not None and not pd.isna(value) else None
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------
# The table


def build_followup(plan: Plan, registry: Registry, period: Period, *, values: pd.DataFrame, tasks: pd.DataFrame,
                   as_of: date | None = None, detail_ref: str = DETAIL_REF) -> FollowupTable:
    """The follow-up table of `plan` for `period` from the store's current values and task rows (all the
    months of the period may be passed; those holding data are used, `aggregate.data_months`).

    `as_of`: the day overdue is judged on; by default the last day of the data window of the last month used.
    """
    codes = [*(values["period_code"].tolist() if not values.empty else []),
             *(tasks["period_code"].tolist() if not tasks.empty else [])]
    months = data_months(period, codes)
    data_to = months[-1] if months else None
    if as_of is None:
        last = data_to or period.last_month
        as_of = last.window(plan.reporting.window_rule)[1]
    base_frame = unit_base(plan, registry)
    if data_to is not None:
        # The months pooled as `aggregate` pools a longer period (one rule: counts summed, rate recomputed).
        pooled = pool_months(plan, values, months, data_to).drop(columns=["months"])
        units = per_unit(plan, registry, pooled, data_to, base=base_frame)
        # A unit that sent no row at all for an indicator has not reported it (aggregate counts a filed unit's
        # blank rows as "không phát sinh"; a row that is not there is not a blank).
        codes_used = {m.code for m in months}
        used = values[values["period_code"].isin(codes_used)] if not values.empty else values
        sent = (set(zip(used["unit_code"].tolist(), used["indicator"].tolist(), strict=True)) if not used.empty
                else set())
        absent = [(u, i) not in sent
                  for u, i in zip(units["unit_code"].tolist(), units["indicator"].tolist(), strict=True)]
        units.loc[absent, "status"] = NOT_REPORTED
        groups = per_group(plan, units, has_districts=False)
    else:
        units = per_unit(plan, registry, pd.DataFrame(columns=VALUE_COLUMNS), period.last_month, base=base_frame)
        groups = pd.DataFrame()
    latest = _latest_tasks(tasks, months)
    unit_rows = UnitRows(units)
    rows_by_indicator = group_rows(groups)
    rows: list[FollowupRow] = []
    sections = plan_sections(plan)
    letters = "ABCDEFGHIK"
    for n, (title, items) in enumerate(sections):
        if title is not None and len(sections) > 1:
            rows.append(FollowupRow(kind="heading", key=f"#{n}", number=letters[n % len(letters)], content=title))
        for item in items:
            if isinstance(item, Indicator):
                rows.append(_indicator_row(plan, registry, item, unit_rows, rows_by_indicator.get(item.key, []),
                                           as_of, detail_ref))
            else:
                rows.append(_task_row(plan, registry, item, latest, as_of))
    return FollowupTable(plan_id=plan.id, title=_title(plan, period), period=period, data_to=data_to,
                         as_of=as_of, data_note=_data_note(period, months, as_of), rows=tuple(rows))


def _title(plan: Plan, period: Period) -> str:
    return f"NHIỆM VỤ, CHỈ TIÊU ĐƯỢC GIAO TRONG KẾ HOẠCH NĂM {plan.year}: TÌNH HÌNH THỰC HIỆN ĐẾN {period.label.upper()}"


def _data_note(period: Period, months: Sequence[Period], as_of: date) -> str:
    if not months:
        return f"Chưa có số liệu được chấp nhận của {period.label}."
    last = months[-1]
    if period.kind == "month":
        figures = f"Số liệu chỉ tiêu: {last.label}"
    elif len(months) == 1:
        figures = f"Số liệu chỉ tiêu: {last.label} (tháng có số liệu gần nhất)"
    elif list(months) == period.months()[:len(months)]:
        figures = (f"Số liệu chỉ tiêu: lũy kế từ tháng {months[0].index} đến hết tháng {last.index} năm {last.year} "
                   "(tháng có số liệu gần nhất; tỷ lệ tính trên tổng số lũy kế)")
    else:   # months without any accepted file are left out, as in the report: say which months are pooled
        figures = (f"Số liệu chỉ tiêu: lũy kế {nb(len(months))} tháng có số liệu (tháng "
                   f"{', '.join(str(m.index) for m in months)} năm {last.year}; tỷ lệ tính trên tổng số lũy kế)")
    return (f"{figures}; tình trạng nhiệm vụ: báo cáo gần nhất của từng đơn vị đến {last.label}; "
            f"quá hạn tính đến ngày {format_short_date(as_of)}.")


def overdue_items(table: FollowupTable, registry: Registry) -> list[OverdueItem]:
    """The overdue rows of the table with the hosts that have not done them, named — for item 4's task
    paragraph ("Nhiệm vụ … (thời hạn tháng 1/2024) quá hạn: Sở Thông tin và Truyền thông")."""
    out = []
    for r in table.rows:
        if not r.overdue:
            continue
        hosts = tuple(label_of(registry, c) for c in r.pending) or ((r.host,) if r.host else ())
        out.append(OverdueItem(kind=r.kind, key=r.key, number=r.number, text=r.content, deadline=r.deadline,
                               hosts=hosts))
    return out


# Columns of the follow-up table as the appendix prints it (seed 002) and their shares of the line width.
APPENDIX_COLUMNS = (("STT", 1.3), ("Nội dung/chỉ tiêu", 7.0), ("Cơ quan chủ trì thực hiện", 3.6),
                    ("Cơ quan phối hợp", 3.3), ("Thời hạn hoàn thành", 2.6), ("Ghi chú", 7.4))


def agencies_lines(text: str) -> str:
    """"Văn phòng UBND tỉnh; Sở Tư pháp" -> one agency a line ("- …"), as the seed prints them."""
    parts = [p.strip() for p in text.split(";") if p.strip()]
    return text if len(parts) <= 1 else "\n".join(f"- {p}" for p in parts)


def appendix_part(table: FollowupTable) -> dict[str, Any]:
    """The table as the report's appendix context (docs/report-template.md, `followup`): title, the line
    saying what the data covers, columns with their width shares, and groups of rows (a plan's group title
    — "A. Chỉ tiêu" — is a group row across the table). A cell's lines are separated by "\n". The caller adds
    `number` and `note` (the "(Kèm theo Báo cáo số …)" line)."""
    groups: list[dict[str, Any]] = []
    current: dict[str, Any] = {"title": "", "rows": []}
    for r in table.rows:
        if r.kind == "heading":
            if current["rows"] or current["title"]:
                groups.append(current)
            current = {"title": f"{r.number}. {r.content}", "rows": []}
            continue
        current["rows"].append([r.number, r.content, agencies_lines(r.host), agencies_lines(r.coordinators),
                                r.deadline, r.note])
    if current["rows"] or current["title"]:
        groups.append(current)
    return {"title": table.title, "data_note": table.data_note, "columns": [c for c, _ in APPENDIX_COLUMNS],
            "widths": [w for _, w in APPENDIX_COLUMNS], "groups": groups}


# ----------------------------------------------------------------------------------------------
# Progress month by month

CHANGE_COLUMN = "Thay đổi so với kỳ trước"


def task_progress(plan: Plan, registry: Registry, tasks: pd.DataFrame, months: Sequence[Period]) -> pd.DataFrame:
    """Each (task, unit) the plan assigns — hosts and coordinators — with its reported status in each month
    ("Chưa báo cáo" where the unit sent nothing for it) and what changed in the last month against the one
    before ("Đang thực hiện → Đã hoàn thành", "Không thay đổi", "Chưa báo cáo kỳ này")."""
    codes = [m.code for m in months]
    t = tasks[tasks["period_code"].isin(codes)] if not tasks.empty else tasks
    seen = ({(u, k, p): st for u, k, p, st in zip(t["unit_code"].tolist(), t["task"].tolist(),
                                                  t["period_code"].tolist(), t["status"].tolist(), strict=True)}
            if not t.empty else {})
    rows = []
    for task in plan.tasks:
        hosts, coords = _task_units(plan, registry, task)
        for role, mine in (("Chủ trì", hosts), ("Phối hợp", coords)):
            for code in mine:
                statuses = [seen.get((code, task.key, c)) for c in codes]
                statuses = [s if isinstance(s, str) and s else NOT_REPORTED for s in statuses]
                unit = registry.get(code)
                rows.append({"task": task.key, "number": task.id, "text": task.text,
                             "deadline": task.deadline.label, "unit_code": code, "unit": label_of(registry, code),
                             "tier": unit.tier if unit else "", "role": role,
                             **dict(zip(codes, statuses, strict=True)), CHANGE_COLUMN: _change(statuses)})
    return pd.DataFrame(rows, columns=["task", "number", "text", "deadline", "unit_code", "unit", "tier", "role",
                                       *codes, CHANGE_COLUMN])


def _change(statuses: Sequence[str]) -> str:
    if not statuses:
        return ""
    now = statuses[-1]
    if len(statuses) == 1:
        return "Kỳ đầu theo dõi"
    before = statuses[-2]
    if now == NOT_REPORTED:
        return "Chưa báo cáo kỳ này" if before != NOT_REPORTED else "Chưa báo cáo"
    if before == NOT_REPORTED:
        return f"Báo cáo mới: {_lower_first(now)}"
    if now == before:
        return "Không thay đổi"
    return f"{before} → {_lower_first(now)}"


def month_label(period: Period) -> str:
    """Column heading of a month: "T3/2025"."""
    return f"T{period.index}/{period.year}"
