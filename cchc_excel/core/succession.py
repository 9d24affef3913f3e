"""The succession map: which unit of an older registry became which unit of a newer one (pure core).

Since 1 July 2025 the district tier is gone and communes were merged; every comparison that spans that date
needs the older periods restated on today's units. A succession map (YAML an officer can read and edit,
see docs/history.md) lists every old unit once:

- ``same`` / ``renamed``: one old unit, one new unit;
- ``merged``: several old units map to the same new unit (many -> one; each entry names that new unit);
- ``split``: one old unit, several new units, with each successor's share when the office knows it
  (shares sum to 1); without shares the whole goes to the first successor (the main one);
- ``abolished``: no successor (a unit of an abolished tier, listed under ``abolished_tiers``, needs no entry).

`map_history` restates the values, cases, tasks and texts frames of periods before the map's effective
date onto the new codes: counts are added (a split multiplies them by each share), rates are recomputed
from the summed numerators and denominators, reported percentages are re-combined by the plan's rule.
Rows of abolished units keep their old codes: a pooled figure of the abolished tier exists for the months
it existed and is never invented afterwards (`history_registry` gives the registry that knows them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import pandas as pd

from .layout import CASE_INPUT_KEYS, STATUSES, YESNO
from .plan import Plan
from .problems import Problem, ValidationReport, problem, unknown_key, wording
from .units import Registry, Unit
from .vntext import match_key

KINDS = ("same", "renamed", "merged", "split", "abolished")
# The one sentence the report says when earlier periods were restated.
CONVERTED_SENTENCE = "Số liệu các kỳ trước {date} đã được quy đổi theo đơn vị hành chính mới."
SHARE_TOLERANCE = 0.005


@dataclass(frozen=True)
class Successor:
    code: str
    share: float | None = None      # None: not known


@dataclass(frozen=True)
class Succession:
    """What became of one old unit."""

    old: str
    kind: str
    successors: tuple[Successor, ...] = ()
    note: str | None = None

    def weights(self) -> tuple[tuple[str, float], ...]:
        """(new code, share of the old unit's counts) pairs summing to 1; () when abolished. A split whose
        shares are not known gives everything to its first successor."""
        if not self.successors:
            return ()
        if len(self.successors) == 1 or any(s.share is None for s in self.successors):
            return ((self.successors[0].code, 1.0),)
        return tuple((s.code, float(s.share or 0.0)) for s in self.successors)


@dataclass(frozen=True)
class SuccessionMap:
    id: str
    from_registry: str
    to_registry: str
    effective: str                    # "2025-07-01": periods starting before it are restated
    entries: tuple[Succession, ...]
    abolished_tiers: tuple[str, ...] = ()
    note: str | None = None
    _by_old: dict[str, Succession] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_old.update({e.old: e for e in self.entries})

    def get(self, old: str) -> Succession | None:
        return self._by_old.get(old)

    @property
    def effective_month(self) -> str:
        """The first period code ("2025-07") reported by the new units."""
        return self.effective[:7]

    @property
    def effective_label(self) -> str:
        """The date as a report writes it: "01/7/2025"."""
        y, m, d = self.effective[:10].split("-")
        return f"{d}/{int(m)}/{y}"

    def sentence(self) -> str:
        return CONVERTED_SENTENCE.format(date=self.effective_label)

    def predecessors(self, new: str) -> list[str]:
        return [e.old for e in self.entries if any(s.code == new for s in e.successors)]


_MAP_KEYS = {"id", "from", "to", "effective", "abolished_tiers", "note", "units"}
_ENTRY_KEYS = {"old", "new", "kind", "note", "old_name", "new_name"}


def _code(value: Any) -> str:
    return str(value).strip()


def parse_succession(data: Any, *, source: str = "<succession>") -> tuple[SuccessionMap | None, ValidationReport]:
    """Build a SuccessionMap from its mapping (as read from YAML); every problem found at once."""
    problems: list[Problem] = []

    def where(node: Any, path: str) -> str:
        line = getattr(node, "line", None)
        return f"dòng {line} ({path})" if line else path

    if not isinstance(data, Mapping):
        problems.append(problem("field-invalid", file=source, cell="succession", name="succession",
                                value=type(data).__name__, detail=wording("succession-needs")))
        return None, ValidationReport(problems)
    for key in data:
        if key not in _MAP_KEYS:
            problems.append(unknown_key(str(key), _MAP_KEYS, file=source, cell=where(data, str(key))))
    for key in ("from", "to", "effective"):
        if not data.get(key):
            problems.append(problem("field-missing", file=source, cell=where(data, "succession"), name=key))
    entries: list[Succession] = []
    seen: dict[str, str] = {}
    for i, node in enumerate(data.get("units") or []):
        path = f"units[{i}]"
        if not isinstance(node, Mapping) or node.get("old") in (None, ""):
            problems.append(problem("field-missing", file=source, cell=where(node, path), name="old"))
            continue
        for key in node:
            if key not in _ENTRY_KEYS:
                problems.append(unknown_key(str(key), _ENTRY_KEYS, file=source, cell=where(node, path)))
        old = _code(node["old"])
        if old in seen:
            problems.append(problem("duplicate-id", file=source, cell=where(node, path), value=old, detail=seen[old]))
            continue
        seen[old] = where(node, path)
        new = node.get("new")
        successors: list[Successor] = []
        if isinstance(new, Mapping):
            for code, share in new.items():
                try:
                    value = None if share in (None, "") else float(str(share).replace(",", "."))
                except ValueError:
                    value = -1.0
                if value is not None and not 0 < value <= 1:
                    problems.append(problem("succession-share", file=source, cell=where(node, path), value=old,
                                            detail=wording("share-range", share=share, code=code)))
                successors.append(Successor(_code(code), value))
        elif isinstance(new, (list, tuple)):
            successors = [Successor(_code(c)) for c in new if _code(c)]
        elif new not in (None, ""):
            successors = [Successor(_code(new))]
        shares = [s.share for s in successors]
        if len(successors) > 1 and any(s is not None for s in shares):
            if any(s is None for s in shares):
                problems.append(problem("succession-share", file=source, cell=where(node, path), value=old,
                                        detail=wording("shares-all-or-none")))
            elif abs(sum(s or 0.0 for s in shares) - 1) > SHARE_TOLERANCE:
                problems.append(problem("succession-share", file=source, cell=where(node, path), value=old,
                                        detail=wording("shares-sum", total=sum(s or 0.0 for s in shares))))
        kind = str(node.get("kind") or "").strip()
        if kind and kind not in KINDS:
            problems.append(problem("field-invalid", file=source, cell=where(node, path), name="kind", value=kind,
                                    detail=", ".join(KINDS)))
            kind = ""
        entries.append(Succession(old=old, kind=kind, successors=tuple(successors),
                                  note=str(node["note"]).strip() if node.get("note") else None))
    # The kind follows from the entries when not written: several successors = split, none = abolished,
    # a new unit with several predecessors = merged.
    predecessors: dict[str, int] = {}
    for e in entries:
        for s in e.successors:
            predecessors[s.code] = predecessors.get(s.code, 0) + 1
    resolved = []
    for e in entries:
        inferred = ("abolished" if not e.successors else "split" if len(e.successors) > 1
                    else "merged" if predecessors[e.successors[0].code] > 1
                    else "same" if e.successors[0].code == e.old else "renamed")
        if e.kind and e.kind != inferred and not (e.kind in ("same", "renamed") and inferred in ("same", "renamed")):
            problems.append(problem("succession-kind", file=source, cell=seen[e.old], value=e.old,
                                    detail=wording("kind-disagrees", declared=e.kind, inferred=inferred)))
        resolved.append(replace(e, kind=e.kind or inferred))
    abolished = data.get("abolished_tiers") or []
    abolished = [abolished] if isinstance(abolished, str) else abolished
    report = ValidationReport(problems)
    if not report.ok:
        return None, report
    return SuccessionMap(id=_code(data.get("id") or ""), from_registry=_code(data["from"]), to_registry=_code(data["to"]),
                         effective=_code(data["effective"]), entries=tuple(resolved),
                         abolished_tiers=tuple(_code(t) for t in abolished),
                         note=str(data["note"]).strip() if data.get("note") else None), report


def check_succession(smap: SuccessionMap, old: Registry, new: Registry, *, source: str) -> list[Problem]:
    """The map against both registries: every old unit accounted for (an entry, or a tier abolished), no
    code unknown to the registry it belongs to, abolished tiers that the old registry has and the new lacks."""
    found: list[Problem] = []
    for tier in smap.abolished_tiers:
        if tier not in old.tier_codes:
            found.append(problem("unknown-tier", file=source, cell="abolished_tiers", value=tier,
                                 detail=", ".join(old.tier_codes)))
        elif tier in new.tier_codes:
            found.append(problem("succession-tier-kept", file=source, value=tier))
    for e in smap.entries:
        if old.get(e.old) is None:
            found.append(problem("succession-unknown-old", file=source, value=e.old, detail=old.id))
        for s in e.successors:
            if new.get(s.code) is None:
                found.append(problem("succession-unknown-new", file=source, value=s.code, detail=new.id,
                                     name=e.old))
    for unit in old.units:
        if smap.get(unit.code) is None and unit.tier not in smap.abolished_tiers:
            found.append(problem("succession-unmapped", file=source, value=unit.code, name=unit.name))
    return found


def summary(smap: SuccessionMap) -> dict[str, int]:
    """How many old units of each kind (for `cchc units check`)."""
    out = {k: 0 for k in KINDS}
    for e in smap.entries:
        out[e.kind] += 1
    return out


# ------------------------------------------------------------------------------------------------
# Restating older periods on today's units


def is_before(period_code: str, smap: SuccessionMap) -> bool:
    """Whether a period (month "2025-06", quarter "2025-Q2", year "2024") was reported by the old units:
    its code sorts before the effective month. Only month codes are stored, the comparison is on them."""
    return str(period_code) < smap.effective_month


def _targets(smap: SuccessionMap, codes: pd.Series) -> pd.DataFrame:
    """Each old code with its (new code, weight) pairs, one row per pair; unknown or abolished codes keep
    their own code with weight 1."""
    rows = []
    for code in pd.unique(codes):
        e = smap.get(str(code))
        pairs = e.weights() if e is not None else ()
        for new, w in pairs or ((str(code), 1.0),):
            rows.append({"_old": code, "_new": new, "_w": w})
    return pd.DataFrame(rows, columns=["_old", "_new", "_w"])


def _spread(frame: pd.DataFrame, smap: SuccessionMap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a frame into (rows kept as they are, older rows joined to their successors with weights)."""
    if frame.empty or "unit_code" not in frame or "period_code" not in frame:
        return frame, frame.iloc[0:0]
    old = frame["period_code"].astype(str) < smap.effective_month
    keep, older = frame[~old], frame[old]
    if older.empty:
        return keep, older
    joined = older.merge(_targets(smap, older["unit_code"]), left_on="unit_code", right_on="_old", how="left")
    joined["unit_code_then"] = joined["unit_code"]
    joined["unit_code"] = joined["_new"]
    return keep, joined.drop(columns=["_old", "_new"])


def _least_done(statuses: pd.Series) -> Any:
    """A merged unit's task status: the least advanced of its predecessors' (Chưa > Đang > Đã hoàn thành)."""
    known = [s for s in statuses if isinstance(s, str) and s in STATUSES]
    if not known:
        return next((s for s in statuses if isinstance(s, str)), None)
    return max(known, key=STATUSES.index)


def _answer(answers: pd.Series) -> Any:
    """A merged unit's yes/no or status answer: "Có" only when every predecessor said so; the least advanced
    task status."""
    given = [a for a in answers if isinstance(a, str) and a]
    if not given:
        return None
    if all(a in YESNO for a in given):
        return YESNO[0] if all(a == YESNO[0] for a in given) else YESNO[1]
    return _least_done(pd.Series(given))


def _codes_then(codes: pd.Series) -> str:
    """The old unit codes behind one restated row, in order, each once."""
    return ",".join(dict.fromkeys(map(str, codes)))


def _regroup(older: pd.DataFrame, keys: list[str], agg: dict[str, Any]) -> pd.DataFrame:
    """Older rows grouped per new unit and `keys`: `agg` for the columns it names, the old codes behind each
    row, and the first value of every other column."""
    full: dict[str, Any] = {c: "first" for c in older.columns if c not in (*keys, *agg, "_w", "unit_code_then")}
    full.update(agg)
    full["unit_code_then"] = _codes_then
    return older.groupby(keys, sort=False, dropna=False).agg(full).reset_index()


def _with_kept(keep: pd.DataFrame, restated: pd.DataFrame, original: pd.DataFrame) -> pd.DataFrame:
    """The rows kept as they were, then the restated ones, in the original's columns plus `unit_code_then`."""
    columns = list(dict.fromkeys([*original.columns, "unit_code_then"]))
    return pd.concat([keep, restated.reindex(columns=columns)], ignore_index=True)


def map_values(plan: Plan, values: pd.DataFrame, smap: SuccessionMap) -> pd.DataFrame:
    """The long values table with older periods restated on the new units: one row per (new unit, period,
    indicator); numerators, denominators and weights added (times the share for a split), rates recomputed,
    percentages re-combined by the plan's rule (weighted by the summed weights, or a plain mean)."""
    keep, older = _spread(values, smap)
    if older.empty:
        return values
    w = older["_w"].astype(float)
    num = pd.to_numeric(older["numerator"], errors="coerce")
    den = pd.to_numeric(older["denominator"], errors="coerce")
    val = pd.to_numeric(older["value"], errors="coerce")
    wgt = pd.to_numeric(older["weight"], errors="coerce")
    work = older.assign(numerator=num * w, denominator=den * w, weight=wgt * w, _vw=val * wgt * w,
                        _v=val, _has_w=wgt.notna() & val.notna())
    keys = ["unit_code", "period_code", "indicator"]
    groups = work.groupby(keys, sort=False, dropna=False)
    out = groups.agg(numerator=("numerator", lambda s: s.sum(min_count=1)),
                     denominator=("denominator", lambda s: s.sum(min_count=1)),
                     weight=("weight", lambda s: s.sum(min_count=1)),
                     _vw=("_vw", lambda s: s.sum(min_count=1)), _v=("_v", "mean"), _n=("_v", "size"),
                     answer=("answer", _answer), file_name=("file_name", "first"), sheet=("sheet", "first"),
                     cell=("cell", "first"),
                     unit_code_then=("unit_code_then", _codes_then),
                     ).reset_index()
    kinds = out["indicator"].map({i.key: i.kind for i in plan.indicators})
    rule = out["indicator"].map({i.key: i.combine for i in plan.indicators})
    rate = out["numerator"] / out["denominator"].where(out["denominator"] > 0) * 100
    weighted = out["_vw"] / out["weight"].where(out["weight"] > 0)
    out["value"] = rate.where(kinds.eq("rate"), weighted.where(rule.eq("weighted") & out["weight"].notna(), out["_v"]))
    # The source cell means something only when the row comes from one file.
    several = out["unit_code_then"].str.contains(",")
    for col in ("file_name", "sheet", "cell"):
        out[col] = out[col].where(~several, None)
    return _with_kept(keep, out.drop(columns=["_vw", "_v", "_n"]), values)


def map_cases(cases: pd.DataFrame, smap: SuccessionMap) -> pd.DataFrame:
    """The case table of older periods restated: counts of the same field added per new unit (a split
    multiplies them by the share, rounded to whole cases)."""
    keep, older = _spread(cases, smap)
    if older.empty:
        return cases
    counts = [k for k in CASE_INPUT_KEYS if k in older and k != "field"]
    work = older.copy()
    for k in counts:
        work[k] = pd.to_numeric(work[k], errors="coerce").fillna(0) * work["_w"].astype(float)
    out = _regroup(work, ["unit_code", "period_code", "field"], {k: "sum" for k in counts})
    for k in counts:
        out[k] = out[k].round().astype(int)
    return _with_kept(keep, out, cases)


def map_tasks(tasks: pd.DataFrame, smap: SuccessionMap) -> pd.DataFrame:
    """Task status of older periods restated: per new unit, the least advanced status of its predecessors."""
    keep, older = _spread(tasks, smap)
    if older.empty:
        return tasks
    out = _regroup(older[older["_w"] > 0], ["unit_code", "period_code", "task"], {"status": _least_done})
    return _with_kept(keep, out, tasks)


def map_texts(texts: pd.DataFrame, smap: SuccessionMap) -> pd.DataFrame:
    """Difficulties and proposals of older periods attributed to the main successor of the unit that wrote them."""
    keep, older = _spread(texts, smap)
    if older.empty:
        return texts
    older = older.sort_values("_w", ascending=False, kind="stable").drop_duplicates(
        subset=[c for c in older.columns if c not in ("unit_code", "_w")])
    return _with_kept(keep, older, texts)


def map_submissions(subs: pd.DataFrame, smap: SuccessionMap) -> pd.DataFrame:
    """Submissions of older periods restated for completeness: a successor has a month when any of its
    predecessors had an accepted submission for it (every successor of a split has it), received when the
    last of those predecessors' first accepted files came (on time only when each of them was); without an
    accepted one, the month stays as returned or missing. Abolished units keep their codes. One row per
    (new unit, month)."""
    if subs.empty or "unit_code" not in subs or "period_code" not in subs:
        return subs
    old = subs["period_code"].astype(str) < smap.effective_month
    keep, older = subs[~old], subs[old]
    if older.empty:
        return subs
    rows = []
    for (code, period_code), g in older.groupby(["unit_code", "period_code"], sort=False):
        e = smap.get(str(code))
        targets = [s.code for s in e.successors] if e is not None and e.successors else [str(code)]
        accepted = g[g["status"] == "accepted"]
        first = accepted.sort_values("received_at", kind="stable").iloc[0] if not accepted.empty else g.iloc[-1]
        for new in targets:
            rows.append({**first.to_dict(), "unit_code": new, "period_code": period_code,
                         "is_current": not accepted.empty, "unit_code_then": str(code)})
    per_old = pd.DataFrame(rows)
    out = []
    for _, g in per_old.groupby(["unit_code", "period_code"], sort=False):
        accepted = g[g["status"] == "accepted"]
        pick = accepted.sort_values("received_at", kind="stable").iloc[-1] if not accepted.empty else g.iloc[-1]
        out.append({**pick.to_dict(), "unit_code_then": _codes_then(g["unit_code_then"])})
    return _with_kept(keep, pd.DataFrame(out), subs)


@dataclass(frozen=True)
class History:
    """The registries of a workspace over time: today's, the older ones and the maps from each to the next."""

    current: Registry
    older: tuple[tuple[Registry, SuccessionMap], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.older)

    def sentence(self, period_codes: Sequence[str]) -> str | None:
        """The report's one sentence, when any of the periods used was restated; else None."""
        for _, smap in self.older:
            if any(is_before(p, smap) for p in period_codes):
                return smap.sentence()
        return None


def map_frames(plan: Plan, history: History, *, values: pd.DataFrame | None = None,
               cases: pd.DataFrame | None = None, tasks: pd.DataFrame | None = None,
               texts: pd.DataFrame | None = None, subs: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every frame given, its older periods restated on today's units through each map in turn (oldest first);
    `subs` (the submissions) for completeness (`map_submissions`)."""
    out: dict[str, pd.DataFrame] = {}
    for name, frame, fn in (("values", values, None), ("cases", cases, map_cases), ("tasks", tasks, map_tasks),
                            ("texts", texts, map_texts), ("subs", subs, map_submissions)):
        if frame is None:
            continue
        for _, smap in history.older:
            frame = map_values(plan, frame, smap) if fn is None else fn(frame, smap)
        out[name] = frame
    return out


def history_registry(history: History) -> Registry:
    """Today's registry plus the tiers the maps abolished, with their units (no parents: their communes
    have successors of their own), so that a pooled figure of an abolished tier can be shown for the months
    it existed. A plan for today's tiers expects nothing of these units, so nothing is invented afterwards."""
    current = history.current
    tiers = list(current.tiers)
    units: list[Unit] = list(current.units)
    known = {u.code for u in units}
    for old, smap in history.older:
        for code in smap.abolished_tiers:
            if code in old.tier_codes and code not in {t.code for t in tiers}:
                tiers.insert(min(old.tier_codes.index(code), len(tiers)), replace(old.tier(code), parent=None))
            for u in old.in_tier(code):
                if u.code not in known:
                    units.append(replace(u, parent=None))
                    known.add(u.code)
    if len(units) == len(current.units):
        return current
    return Registry(id=current.id, province=current.province, tiers=tuple(tiers), units=tuple(units),
                    valid_from=current.valid_from, valid_to=current.valid_to, note=current.note)


# ------------------------------------------------------------------------------------------------
# Carried-over cases: the carried-over column is what was pending at the end of the previous period


# A field name's match key, worked out once per distinct name (units type the same few names every month).
_match_key = lru_cache(maxsize=4096)(match_key)


def previous_pending(cases: pd.DataFrame, period_code: str) -> dict[str, dict[str, int]]:
    """Per unit and field, the cases pending at the end of `period_code` (pending in time + pending late) in
    the accepted case tables of that period. Fields keep the name the unit typed first."""
    out: dict[str, dict[str, int]] = {}
    if cases.empty:
        return out
    c = cases[cases["period_code"].astype(str) == period_code]
    zeros = [0] * len(c)
    cols = [c[k].tolist() if k in c else zeros for k in ("unit_code", "field", "pending_in", "pending_late")]
    names: dict[str, dict[str, str]] = {}   # unit -> match key -> the field's name as first typed
    for unit, name, pending_in, pending_late in zip(*cols, strict=True):
        pending = int(pending_in or 0) + int(pending_late or 0)
        fields = out.setdefault(str(unit), {})
        key = names.setdefault(str(unit), {}).setdefault(_match_key(str(name)), str(name))
        fields[key] = fields.get(key, 0) + pending
    return out


def carried_prefill(pending: Mapping[str, Mapping[str, int]]) -> dict[str, list[tuple[str, int]]]:
    """What `generate` pre-fills as the carried-over column: per unit, its fields with cases still pending."""
    return {unit: [(f, n) for f, n in fields.items() if n] for unit, fields in pending.items()}


def check_carried(rows: Iterable[tuple[str, str, int]], pending: Mapping[str, int], *, previous_label: str,
                  file: str | None = None, sheet: str | None = None) -> Iterator[Problem]:
    """A warning by cell where the carried-over column differs from what the unit reported pending at the end of the
    previous period. `rows`: (field, cell of its the carried-over column, value typed); `pending`: field -> pending."""
    by_key = {_match_key(f): n for f, n in pending.items()}   # field names repeat across units: cached keys
    for field_name, cell, carried in rows:
        expected = by_key.get(_match_key(field_name), 0)
        if int(carried or 0) != expected:
            yield problem("carried-mismatch", file=file, sheet=sheet, cell=cell, value=int(carried or 0),
                          detail=previous_label, expected=expected, field=field_name)


def carried_mismatches(cases: pd.DataFrame, period_code: str, previous_code: str) -> pd.DataFrame:
    """Rows of `period_code` whose the carried-over column differs from the previous period's pending (same unit and
    field), for the aggregate's data-quality flags: unit_code, field, carried, expected, file_name, row."""
    columns = ["unit_code", "field", "carried", "expected", "file_name", "row"]
    if cases.empty or not (cases["period_code"].astype(str) == previous_code).any():
        return pd.DataFrame(columns=columns)
    pending = previous_pending(cases, previous_code)
    by_unit = {unit: {_match_key(f): n for f, n in fields.items()} for unit, fields in pending.items()}
    rows = []
    c = cases[cases["period_code"].astype(str) == period_code]
    nones = [None] * len(c)
    cols = [c[k].tolist() if k in c else nones for k in ("unit_code", "field", "carried", "file_name", "row")]
    for unit, name, carried, file_name, row in zip(*cols, strict=True):
        by_key = by_unit.get(str(unit))
        if by_key is None:
            continue
        expected = by_key.get(_match_key(str(name)), 0)
        if int(carried or 0) != expected:
            rows.append({"unit_code": unit, "field": name, "carried": int(carried or 0),
                         "expected": expected, "file_name": file_name, "row": row})
    return pd.DataFrame(rows, columns=columns)
