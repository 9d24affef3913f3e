"""Imports at once, on SQLite and PostgreSQL: 2, 4 and 8 processes on overlapping files, a copy of another
unit's figures racing its original, and an import killed with SIGKILL at a random moment, then re-run.

Every test builds its own workspace on a fresh store (nothing created beforehand: the processes also race
to create the schema) and checks the rules the store promises: each file recorded once, version numbers
1..n per unit and period, exactly one current version, one owner per set of figures."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from cchc_excel.archive.importing import import_files
from cchc_excel.archive.workspace import Workspace
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form
from tests.store_backends import make_workspace, query

TAN, BINH, COPIER = "22789", "22783", "22780"


def values_for(unit: str, ct1: int) -> dict[str, Any]:
    return good_values_phuoc_hoa() | {"CT_1_TU": ct1, "TT_NGUOI_LAP": f"Cán bộ {unit}"}


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Seven received files, signed once with the fixed key: two versions of Phước Hòa and of Phước Bình,
    Phước Tân, and Xã 22780 sending Phước Tân's figures as its own (the copy)."""
    base = tmp_path_factory.mktemp("forms")
    ws = make_workspace(base / "ws", "sqlite:///" + (base / "unused.sqlite").as_posix())
    made = {
        "hoa_1": ws_form(ws, PHUOC_HOA, base / "1", values_for(PHUOC_HOA, 40)),
        "hoa_2": ws_form(ws, PHUOC_HOA, base / "2", values_for(PHUOC_HOA, 45), name="2025-03_22786_sua.xlsx"),
        "tan": ws_form(ws, TAN, base / "3", values_for(TAN, 41)),
        "binh_1": ws_form(ws, BINH, base / "4", values_for(BINH, 42)),
        "binh_2": ws_form(ws, BINH, base / "5", values_for(BINH, 43), name="2025-03_22783_sua.xlsx"),
        "copy": ws_form(ws, COPIER, base / "6", values_for(TAN, 41)),
    }
    return made


def _child_import(ws_root: str, folder: str, ready: str, go: str, workers: int, out: str,
                  slow: float = 0.0) -> None:
    """One `cchc import` in a process of its own; each outcome a JSON line in `out` (flushed at once).
    `slow`: seconds added to each file's write (a busy server), so that a kill lands in the middle."""
    import traceback

    from cchc_excel.archive import importing, store
    from cchc_excel.archive.workspace import open_workspace

    importing.PARALLEL_MIN_FILES = 2
    if slow:
        record = store.Store._record

        def slow_record(self: Any, *args: Any) -> Any:
            time.sleep(slow)
            return record(self, *args)

        store.Store._record = slow_record  # type: ignore[method-assign]
    with open(out, "w", encoding="utf-8") as fh:
        try:
            ws, _ = open_workspace(Path(ws_root))
            assert ws is not None
            Path(ready).write_text("ready")
            while not Path(go).exists():
                time.sleep(0.01)
            for path, o in importing.import_files(ws, [Path(folder)], period=MARCH, received_at=_when(),
                                                  workers=workers):
                fh.write(json.dumps([path.name, o.status, o.duplicate, o.unit_code]) + "\n")
                fh.flush()
        except BaseException:
            fh.write("ERROR " + traceback.format_exc())
            fh.flush()
            raise


# Fork where the system has it (the children start in milliseconds, modules already loaded); spawn elsewhere.
MP = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


def _start(ws: Workspace, folder: Path, tag: str, workers: int = 1, slow: float = 0.0) -> tuple[Any, Path, Path]:
    ready = folder.parent / f"ready-{tag}"
    out = folder.parent / f"out-{tag}.jsonl"
    child = MP.Process(target=_child_import, args=(str(ws.root), str(folder), str(ready), str(folder.parent / "go"),
                                                   workers, str(out), slow))
    child.start()
    return child, ready, out


def _lines(out: Path) -> list[str]:
    return out.read_text(encoding="utf-8").splitlines() if out.exists() else []


def state(ws: Workspace) -> dict[str, Any]:
    """What a clean import decides, independent of ids and import times."""
    subs = query(ws, "SELECT f.sha256, s.unit_code, s.status, s.is_current, s.version, s.errors "
                      "FROM submissions s JOIN files f ON f.id = s.file_id ORDER BY f.sha256")
    values = query(ws, "SELECT f.sha256, COUNT(v.indicator) FROM submissions s JOIN files f ON f.id = s.file_id "
                        "LEFT JOIN indicator_values v ON v.submission_id = s.id GROUP BY f.sha256 ORDER BY f.sha256")
    return {"submissions": [(sha, u, st, bool(c), v, e) for sha, u, st, c, v, e in subs], "values": values,
            "files": query(ws, "SELECT COUNT(*) FROM files")[0][0]}


def assert_rules_hold(ws: Workspace, n_files: int) -> None:
    assert query(ws, "SELECT COUNT(*) FROM files") == [(n_files,)]
    assert query(ws, "SELECT COUNT(*) FROM submissions") == [(n_files,)]
    versions = query(ws, "SELECT unit_code, version FROM submissions ORDER BY unit_code, version")
    by_unit: dict[str, list[int]] = {}
    for unit, version in versions:
        by_unit.setdefault(unit, []).append(version)
    assert all(v == list(range(1, len(v) + 1)) for v in by_unit.values()), by_unit
    current = query(ws, "SELECT unit_code, COUNT(*) FROM submissions WHERE is_current GROUP BY unit_code")
    assert all(n == 1 for _, n in current), current
    accepted_units = {u for (u,) in query(ws, "SELECT DISTINCT unit_code FROM submissions WHERE status = 'accepted'")}
    assert {u for u, _ in current} == accepted_units
    owners = query(ws, "SELECT fingerprint, COUNT(*) FROM submissions WHERE is_current GROUP BY fingerprint "
                        "HAVING COUNT(*) > 1")
    assert owners == [], "two units current with the same figures (the copy check raced)"


@pytest.mark.parametrize("processes", [2, 4, 8])
def test_simultaneous_imports_of_overlapping_files_keep_every_rule(
        any_workspace: Workspace, forms: dict[str, Path], tmp_path: Path, processes: int) -> None:
    names = list(forms)
    rng = random.Random(processes)
    children = []
    for i in range(processes):
        folder = tmp_path / "runs" / f"p{i}"
        folder.mkdir(parents=True)
        order = names[i % len(names):] + names[:i % len(names)]   # each process its own order, all overlap
        picked = order if i % 2 == 0 else rng.sample(order, k=len(order) - 1)
        for key in picked:
            shutil.copyfile(forms[key], folder / f"{key}-{forms[key].name}")
        children.append(_start(any_workspace, folder, f"p{i}"))
    deadline = time.monotonic() + 90
    while not all(ready.exists() for _, ready, _ in children):
        assert all(c.exitcode is None for c, _, _ in children), [_lines(out) for _, _, out in children]
        assert time.monotonic() < deadline, "children never got ready"
        time.sleep(0.02)
    (tmp_path / "runs" / "go").write_text("go")
    for c, _, _ in children:
        c.join(timeout=120)
    lines = [line for _, _, out in children for line in _lines(out)]
    assert [c.exitcode for c, _, _ in children] == [0] * processes, [x for x in lines if x.startswith("ERROR")]
    assert not any("locked" in line for line in lines)
    outcomes = [json.loads(line) for line in lines]
    assert len(outcomes) == sum(len(list((tmp_path / "runs" / f"p{i}").iterdir())) for i in range(processes))

    assert_rules_hold(any_workspace, len(forms))
    copy_race = query(any_workspace, f"SELECT unit_code, status, is_current FROM submissions WHERE unit_code IN "
                                      f"('{TAN}', '{COPIER}') ORDER BY unit_code")
    assert sorted(st for _, st, _ in copy_race) == ["accepted", "rejected"], copy_race


def _children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"   # a zombie has exited (nobody reaped it yet)


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or os.name != "posix", reason="needs /proc and SIGKILL")
def test_import_killed_at_a_random_moment_then_rerun_equals_a_clean_import(
        any_workspace: Workspace, forms: dict[str, Path], tmp_path: Path, store_url_for: Any) -> None:
    folder = tmp_path / "nhan"
    folder.mkdir()
    for key in ("hoa_1", "tan", "binh_1", "binh_2", "hoa_2", "copy"):
        shutil.copyfile(forms[key], folder / f"{key}-{forms[key].name}")
    # A temporary file an earlier crash left behind (its process is long gone).
    stale = any_workspace.archive_dir / "ab" / ".part-otherhost-4242-abcdef0123456789"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a file")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))

    child, _, out = _start(any_workspace, folder, "k", workers=2, slow=0.15)
    (tmp_path / "go").write_text("go")
    deadline = time.monotonic() + 60
    while not _lines(out) and child.exitcode is None:   # a first file recorded: the pool is up and working
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(random.uniform(0.0, 0.5))
    assert child.pid is not None
    workers = _children_of(child.pid)
    assert workers, "the import's reader workers were not running"
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = [w for w in workers if _alive(w)]
    for w in orphans:            # do not leave them to hang the suite
        os.kill(w, signal.SIGKILL)
    assert not orphans, "reader workers outlived the killed import"

    list(import_files(any_workspace, [folder], period=MARCH, received_at=_when()))
    assert not stale.exists() and not list(any_workspace.archive_dir.glob("*/.part-*"))

    clean_root = tmp_path / "sach"
    clean = make_workspace(clean_root, store_url_for(clean_root))
    list(import_files(clean, [folder], period=MARCH, received_at=_when()))
    assert state(any_workspace) == state(clean)
    assert_rules_hold(any_workspace, 6)


def _when() -> Any:
    from datetime import datetime

    return datetime(2025, 3, 14, 9)
