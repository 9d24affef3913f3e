"""Edge: generate the intake workbooks of a period, one per unit — the one generation path, at two speeds.

`generate` renders one workbook per *shape* and patches in each unit's identity (`fastgen`);
`generate_reference` renders every workbook from scratch with the reference writer (`writer`). Both give the
same files (tests/test_fastgen.py compares them part by part). The arrows go one way: intake → fastgen →
writer → layout. The writer's public names are importable from here, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..core import layout as L
from ..core.period import Period
from ..core.plan import Plan
from ..core.units import Registry, Unit
from .fastgen import generate_fast
from .writer import Generated, safe_code, target_path, workbook_filename, write_workbook

__all__ = ["Generated", "generate", "generate_reference", "safe_code", "units_for", "workbook_filename",
           "write_workbook"]


def units_for(registry: Registry, codes: Iterable[str] | None) -> tuple[list[Unit], list[str]]:
    """Units selected by code (all when none given) and the codes that are unknown."""
    wanted = list(codes or [])
    if not wanted:
        return list(registry.units), []
    found = [registry.get(c) for c in wanted]
    return [u for u in found if u is not None], [c for c, u in zip(wanted, found, strict=True) if u is None]


def generate(plan: Plan, registry: Registry, period: Period, units: Iterable[Unit], out_dir: Path, *,
             secret: str, office: dict[str, Any] | None = None, protect_password: str | None = None,
             workers: int = 1, carried: Any = None) -> Iterator[Generated]:
    """Write one workbook per unit into `out_dir`, yielding each as it is written (for progress bars).
    The fast speed: one workbook rendered per shape, each unit's identity patched in (`fastgen`).
    `carried`: per unit, the carried-over cases to pre-fill (`fastgen.generate_fast`)."""
    yield from generate_fast(plan, registry, period, units, out_dir, secret=secret, office=office,
                             protect_password=protect_password, workers=workers, carried=carried)


def generate_reference(plan: Plan, registry: Registry, period: Period, units: Iterable[Unit], out_dir: Path, *,
                       secret: str, office: dict[str, Any] | None = None, protect_password: str | None = None,
                       ) -> Iterator[Generated]:
    """Write one workbook per unit with `write_workbook`, each from scratch (the reference speed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for unit in units:
        lay = L.build_layout(plan, unit, registry.tier(unit.tier), period)
        target = target_path(out_dir, period, unit)
        write_workbook(lay, plan, target, secret=secret, office=office, protect_password=protect_password)
        yield Generated(unit, target)
