"""Edge: the registries of a workspace over time and the succession maps between them.

`cchc.yaml` names today's registry under `registry` and, under `history`, each older registry with the map
from it to the next one (oldest first):

    registry: registry.yaml                      # khanh-hoa-2025, from 01/7/2025
    history:
      - registry: ninh-thuan-2025.yaml           # valid until 30/6/2025
        succession: ninh-thuan-2025-to-khanh-hoa-2025.yaml

Files are read here; `core.succession` parses and checks them (docs/history.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.period import Period
from ..core.problems import ValidationReport, problem
from ..core.succession import (
    History,
    SuccessionMap,
    carried_prefill,
    check_succession,
    map_cases,
    parse_succession,
    previous_pending,
)
from ..core.units import Registry
from .datafiles import DataFileError, load_registry, read_yaml


def load_succession(path: Path) -> tuple[SuccessionMap | None, ValidationReport]:
    """Read and parse a succession map file."""
    try:
        data = read_yaml(Path(path))
    except DataFileError as exc:
        return None, ValidationReport([problem("file-syntax", file=str(path), cell=f"dòng {exc.line or '?'}",
                                               detail=str(exc))])
    return parse_succession(data, source=str(path))


def check_succession_files(succession: Path, old: Path, new: Path) -> tuple[SuccessionMap | None, ValidationReport]:
    """`cchc units check NEW --succession MAP --from OLD`: the map, both registries, and the map against them."""
    report = ValidationReport()
    smap, found = load_succession(succession)
    report.extend(found.problems)
    old_reg, found = load_registry(old)
    report.extend(found.problems)
    new_reg, found = load_registry(new)
    report.extend(found.problems)
    if smap is not None and old_reg is not None and new_reg is not None:
        report.extend(check_succession(smap, old_reg, new_reg, source=str(succession)))
    return (smap if report.ok else None), report


def load_history(root: Path, current: Registry, entries: Any, *, source: str) -> tuple[History, ValidationReport]:
    """The `history` entries of cchc.yaml (paths relative to the workspace) as a `History`; each map is checked
    against its older registry and the next one (the last against today's)."""
    report = ValidationReport()
    pairs: list[tuple[Registry, SuccessionMap]] = []
    items = list(entries or [])
    loaded: list[tuple[Registry, SuccessionMap, str]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("registry") or not item.get("succession"):
            report.add(problem("field-missing", file=source, cell=f"history[{i}]", name="registry / succession"))
            continue
        reg, found = load_registry(Path(root) / str(item["registry"]))
        report.extend(found.problems)
        map_path = Path(root) / str(item["succession"])
        smap, found = load_succession(map_path)
        report.extend(found.problems)
        if reg is not None and smap is not None:
            loaded.append((reg, smap, str(map_path)))
    for i, (reg, smap, path) in enumerate(loaded):
        nxt = loaded[i + 1][0] if i + 1 < len(loaded) else current
        report.extend(check_succession(smap, reg, nxt, source=path))
        pairs.append((reg, smap))
    return History(current=current, older=tuple(pairs) if report.ok else ()), report


def pending_before(store: Any, history: History | None, period: Period) -> dict[str, dict[str, int]]:
    """Per unit and field, the cases pending at the end of the period before `period` in the accepted reports,
    restated on today's units when that period was reported by older ones (June for July 2025)."""
    previous = period.previous()
    frame = store.cases_frame([previous.code])
    for _, smap in (history.older if history is not None else ()):
        frame = map_cases(frame, smap)
    return previous_pending(frame, previous.code)


def carried_for(ws: Any, period: Period) -> dict[str, list[tuple[str, int]]]:
    """What `cchc generate` pre-fills as the carried-over column for each unit (nothing when the store is empty or the
    plan says `carried_over: off`)."""
    from .store import Store

    if ws.plan.reporting.carried_over == "off" or not _store_exists(ws.store_url):
        return {}
    store = Store(ws.store_url, ws.archive_dir)
    try:
        return carried_prefill(pending_before(store, ws.history, period))
    finally:
        store.close()


def _store_exists(url: str) -> bool:
    """A SQLite store not created yet means nothing was imported: do not create it just to read nothing."""
    prefix = "sqlite:///"
    return not url.startswith(prefix) or Path(url[len(prefix):]).exists()


def check_carried_of(sub: Any, pending_by_unit: dict[str, dict[str, int]], period: Period) -> list[Any]:
    """Import: a warning by cell for each case row whose carried-over column differs from the unit's pending at
    the end of the previous period (only when that period's report of the unit was accepted).
    `pending_by_unit` is `pending_before(...)` of the period, read once per batch by the import's index."""
    from ..core import layout as L
    from ..core.succession import check_carried

    if not sub.cases:
        return []
    pending = pending_by_unit.get(sub.unit_code)
    if pending is None:
        return []
    letter = L.col_letter(L.CASE_COLUMNS[[c.key for c in L.CASE_COLUMNS].index("carried")].col)
    rows = [(c.field, f"{letter}{c.row}", c.carried) for c in sub.cases]
    return list(check_carried(rows, pending, previous_label=period.previous().label.replace(" năm ", "/"),
                              file=sub.file, sheet=L.SHEET_CASES))
