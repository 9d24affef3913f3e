"""The registry of reporting units: tiers declared by the province, units with parent and flags.

`parse_registry` takes the mapping of a registry file (tiers plus either inline units or rows read from a
CSV beside it) and returns a frozen `Registry` plus every problem found. Pure core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .problems import Problem, ValidationReport, problem, unknown_key, wording
from .vntext import clean_text, match_key


@dataclass(frozen=True)
class Tier:
    code: str             # "tinh", "huyen", "xa"
    name: str             # "Cấp tỉnh"
    parent: str | None = None   # tier code of the level units of this tier report under (xa -> huyen)
    group_label: str | None = None  # "Sở, ban, ngành" — how the official form groups this tier


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    tier: str
    parent: str | None = None
    flags: frozenset[str] = frozenset()
    contact: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Registry:
    id: str
    province: str
    tiers: tuple[Tier, ...]
    units: tuple[Unit, ...]
    valid_from: str | None = None
    valid_to: str | None = None
    note: str | None = None
    _by_code: dict[str, Unit] = field(default_factory=dict, compare=False, repr=False)
    _by_name: dict[str, Unit] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_code.update({u.code: u for u in self.units})
        self._by_name.update({match_key(u.name): u for u in self.units})

    @property
    def tier_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.tiers)

    def tier(self, code: str) -> Tier:
        for t in self.tiers:
            if t.code == code:
                return t
        raise KeyError(code)

    def get(self, code: str) -> Unit | None:
        return self._by_code.get(code)

    def in_force(self, day: date) -> bool:
        """Whether the registry is valid on `day` (an open end is valid for ever)."""
        start, end = _date(self.valid_from), _date(self.valid_to)
        return (start is None or start <= day) and (end is None or day <= end)

    def find_by_name(self, name: str) -> Unit | None:
        """Find a unit however its name was typed (NFC/NFD, TCVN3, VNI, case, spacing)."""
        return self._by_name.get(match_key(name))

    def in_tier(self, tier: str) -> list[Unit]:
        return [u for u in self.units if u.tier == tier]

    def children(self, code: str) -> list[Unit]:
        return [u for u in self.units if u.parent == code]

    def district_of(self, unit: Unit) -> Unit | None:
        """The parent unit (commune -> district); None in a two-tier province or for top-level units."""
        return self._by_code.get(unit.parent) if unit.parent else None


_UNIT_KEYS = {"code", "name", "tier", "parent", "parent_code", "flags", "contact", "source"}
_TIER_KEYS = {"code", "name", "parent", "group_label"}
_REGISTRY_KEYS = {"id", "province", "valid_from", "valid_to", "note", "tiers", "units", "units_csv"}


def _date(value: object) -> date | None:
    """A validity bound as written in the file (2025-07-01, a YAML date, or 01/7/2025); None if absent or unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    parts = text.replace("-", "/").split("/")
    try:
        d, m, y = (int(x) for x in parts)
        return date(y, m, d)
    except (ValueError, TypeError):
        return None


def _flags(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple)):
        return frozenset(str(v).strip() for v in value if str(v).strip())
    return frozenset(s.strip() for s in str(value).replace(";", "+").replace(",", "+").split("+") if s.strip())


def parse_registry(data: Any, *, source: str = "<registry>",
                   rows: Sequence[Mapping[str, Any]] | None = None,
                   rows_source: str | None = None) -> tuple[Registry | None, ValidationReport]:
    """Build a Registry from its mapping; `rows` are units read from a CSV named by `units_csv`."""
    problems: list[Problem] = []

    def add(code: str, node: Any, path: str, src: str = source, **kw: Any) -> None:
        line = getattr(node, "line", None)
        place = f"dòng {line} ({path})" if line else path
        problems.append(problem(code, file=src, cell=place, **kw))

    if not isinstance(data, Mapping):
        add("field-invalid", None, "registry", value=type(data).__name__, name="registry",
            detail=wording("registry-needs"))
        return None, ValidationReport(problems)

    def check_keys(node: Any, path: str, allowed: set[str], src: str = source) -> None:
        """Unknown keys: a near miss of a known key ("flag" for "flags") is an error, since its value would
        vanish silently (a unit losing its mountain flag loses its adjusted target); others are warnings."""
        if not isinstance(node, Mapping):
            return
        line_of = getattr(node, "line_of", None)
        for key in node:
            if key in allowed:
                continue
            line = line_of(key) if line_of else getattr(node, "line", None)
            problems.append(unknown_key(str(key), allowed, file=src, cell=f"dòng {line} ({path})" if line else path))

    check_keys(data, "registry", _REGISTRY_KEYS)
    tiers: list[Tier] = []
    for i, node in enumerate(data.get("tiers") or []):
        check_keys(node, f"tiers[{i}]", _TIER_KEYS)
        if not isinstance(node, Mapping) or not node.get("code"):
            add("field-missing", node, f"tiers[{i}]", name="code")
            continue
        tiers.append(Tier(code=str(node["code"]).strip(), name=str(node.get("name") or node["code"]).strip(),
                          parent=(str(node["parent"]).strip() if node.get("parent") else None),
                          group_label=(str(node["group_label"]).strip() if node.get("group_label") else None)))
    if not tiers:
        add("field-missing", data, "registry", name="tiers")
    tier_codes = [t.code for t in tiers]
    for t in tiers:
        if t.parent and t.parent not in tier_codes:
            add("unknown-tier", data, f"tiers.{t.code}.parent", value=t.parent, detail=", ".join(tier_codes))

    unit_nodes: list[tuple[Any, str, str]] = []
    for i, node in enumerate(data.get("units") or []):
        check_keys(node, f"units[{i}]", _UNIT_KEYS)
        unit_nodes.append((node, f"units[{i}]", source))
    if rows:
        # The columns of a CSV are its header line: report an unknown column once, on line 1.
        for column in rows[0]:
            if column not in _UNIT_KEYS and column:
                problems.append(unknown_key(str(column), _UNIT_KEYS, file=rows_source or source,
                                            cell="dòng 1 (tiêu đề cột)"))
    for node in rows or []:
        unit_nodes.append((node, f"dòng CSV {getattr(node, 'line', '?')}", rows_source or source))
    if not unit_nodes:
        add("field-missing", data, "registry", name="units / units_csv")

    units: list[Unit] = []
    seen: dict[str, str] = {}
    for node, path, src in unit_nodes:
        if not isinstance(node, Mapping):
            add("field-invalid", node, path, src, value=node, name="unit", detail=wording("unit-needs"))
            continue
        missing = [k for k in ("code", "name", "tier") if not str(node.get(k) or "").strip()]
        for key in missing:
            add("field-missing", node, path, src, name=key)
        if missing:
            continue
        code = str(node["code"]).strip()
        tier = str(node["tier"]).strip()
        if tier not in tier_codes:
            add("unknown-tier", node, path, src, value=tier, detail=", ".join(tier_codes))
            continue
        if code in seen:
            add("duplicate-id", node, path, src, value=code, detail=seen[code])
            continue
        seen[code] = path
        name, _ = clean_text(str(node["name"]))
        parent = str(node.get("parent") or node.get("parent_code") or "").strip() or None
        units.append(Unit(code=code, name=name, tier=tier, parent=parent, flags=_flags(node.get("flags")),
                          contact=(str(node["contact"]).strip() if node.get("contact") else None),
                          source=(str(node["source"]).strip() if node.get("source") else None)))
    by_code = {u.code: u for u in units}
    tier_parent = {t.code: t.parent for t in tiers}
    positions = {str(n.get("code", "")).strip(): (n, p, s) for n, p, s in unit_nodes if isinstance(n, Mapping)}
    for unit in units:
        node, path, src = positions[unit.code]
        if unit.parent:
            parent = by_code.get(unit.parent)
            if parent is None:
                add("unknown-parent", node, path, src, value=unit.parent)
            elif tier_parent.get(unit.tier) and parent.tier != tier_parent[unit.tier]:
                add("parent-wrong-tier", node, path, src, value=unit.parent, detail=tier_parent[unit.tier])
    for t in tiers:
        if not any(u.tier == t.code for u in units):
            problems.append(problem("tier-without-units", file=source, value=t.code))
    for key in ("valid_from", "valid_to"):
        if data.get(key) not in (None, "") and _date(data[key]) is None:
            add("registry-validity", data, key, detail=wording("validity-not-a-date", key=key, value=data[key]))
    start, end = _date(data.get("valid_from")), _date(data.get("valid_to"))
    if start and end and end < start:
        add("registry-validity", data, "valid_to", detail=wording("validity-reversed", end=end, start=start))
    report = ValidationReport(problems)
    if not report.ok:
        return None, report
    registry = Registry(id=str(data.get("id") or "").strip(), province=str(data.get("province") or "").strip(),
                        tiers=tuple(tiers), units=tuple(units),
                        valid_from=(str(data["valid_from"]) if data.get("valid_from") else None),
                        valid_to=(str(data["valid_to"]) if data.get("valid_to") else None),
                        note=(str(data["note"]).strip() if data.get("note") else None))
    return registry, report


def check_against_plan(registry: Registry, plan_tiers: Sequence[str], *, source: str) -> list[Problem]:
    """Tiers the plan uses but the registry does not declare."""
    return [problem("plan-registry-tier", file=source, value=t) for t in plan_tiers if t not in registry.tier_codes]
