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

from ..core.problems import ValidationReport, problem
from ..core.succession import History, SuccessionMap, check_succession, parse_succession
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
