"""`Store.record_many` decides every file as `Store.record` does, file by file: versions, the current
version, the copy check (another unit's figures) and the same bytes sent twice, within a batch and across
batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from cchc_excel.archive.store import Store
from cchc_excel.archive.workspace import Workspace
from cchc_excel.workbook.readback import ReadContext, read_workbook
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form
from tests.test_store import ON_TIME

TAN, BINH = "22789", "22783"


def _forms(ws: Workspace, folder: Path) -> list[Path]:
    """A, then B with A's figures (a copy), A corrected, B again with A's first figures (no longer anyone's
    current ones), C with A's corrected figures (a copy), C on its own, and A's first file sent again."""
    def form(unit: str, ct1: int, person: str, name: str) -> Path:
        values = good_values_phuoc_hoa() | {"CT_1_TU": ct1, "TT_NGUOI_LAP": person}
        return ws_form(ws, unit, folder / name, values)

    a40 = form(PHUOC_HOA, 40, "Cán bộ A", "1")
    return [a40, form(TAN, 40, "Cán bộ B", "2"), form(PHUOC_HOA, 45, "Cán bộ A", "3"),
            form(TAN, 40, "Người khác", "4"), form(BINH, 45, "Cán bộ C", "5"), form(BINH, 50, "Cán bộ C", "6"), a40]


def _outcomes(ws: Workspace, store: Store, paths: list[Path], cuts: list[int]) -> list[dict[str, Any]]:
    ctx = ReadContext(ws.plan, ws.registry, ws.secret, MARCH)
    items = [(read_workbook(p, ctx), p.read_bytes(), ON_TIME) for p in paths]
    out = []
    if not cuts:
        out = [store.record(sub, data, received_at=when) for sub, data, when in items]
    else:
        for lo, hi in zip([0, *cuts], [*cuts, len(items)], strict=True):
            out += store.record_many(items[lo:hi])
    return [{k: v for k, v in vars(o).items() if k != "submission_id"} for o in out]


def test_batches_decide_each_file_as_one_file_at_a_time(workspace: Workspace, tmp_path: Path,
                                                       store_url_for: Any) -> None:
    """On SQLite and PostgreSQL: the batch's own queries (its units, its fingerprints) see what it needs."""
    paths = _forms(workspace, tmp_path / "forms")
    results = []
    for i, cuts in enumerate([[], [1, 4], [3], [6]]):
        (tmp_path / f"s{i}").mkdir()
        store = Store(store_url_for(tmp_path / f"s{i}"), tmp_path / f"archive-{i}")
        try:
            results.append(_outcomes(workspace, store, paths, cuts))
            with store.engine.connect() as conn:
                rows = [tuple(r) for r in conn.execute(text(
                    "select unit_code, status, is_current, version, fingerprint is not null from submissions order by id"))]
        finally:
            store.close()
        results[-1].append(rows)
    assert results[1] == results[0] and results[2] == results[0] and results[3] == results[0]
    verdicts = [(o["status"], o["duplicate"], o["is_current"], o["version"],
                 [p["code"] for p in o["problems"]]) for o in results[0][:-1]]
    assert verdicts == [
        ("accepted", False, True, 1, []),
        ("rejected", False, False, 1, ["duplicate-of-other-unit"]),
        ("accepted", False, True, 2, []),
        ("accepted", False, True, 2, []),
        ("rejected", False, False, 1, ["duplicate-of-other-unit"]),
        ("accepted", False, True, 2, []),
        ("accepted", True, False, 1, []),
    ]
