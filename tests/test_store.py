"""The archive: idempotent imports, versions, rejected files kept, crash safety and concurrent imports.

Store tests go through `import_files` on a real workspace (SQLite file + archive folder), as `cchc import`
does; the crash and concurrency tests run the import in separate Python processes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy import inspect as sa_inspect

from cchc_excel.archive import store as store_mod
from cchc_excel.archive.importing import import_files, store_for
from cchc_excel.archive.workspace import Workspace
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form
from tests.store_backends import query

ON_TIME = datetime(2025, 3, 14, 9, 0)
TAN, BINH = "22789", "22783"   # Xã Phước Tân, Xã Phước Bình (same tier and indicators as Phước Hòa)
ROOT = Path(__file__).resolve().parent.parent


def counts(ws: Workspace) -> dict[str, int]:
    """Rows in every table of the store."""
    engine = create_engine(ws.store_url)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                    for name, table in store_mod.metadata.tables.items()}
    finally:
        engine.dispose()


def values_for(unit: str, ct1: int) -> dict[str, Any]:
    """A clean report whose figures differ by unit (so no unit looks like a copy of another)."""
    return good_values_phuoc_hoa() | {"CT_1_TU": ct1, "TT_NGUOI_LAP": f"Cán bộ {unit}"}


def run_import(ws: Workspace, paths: list[Path]) -> list[Any]:
    return [o for _, o in import_files(ws, paths, period=MARCH, received_at=ON_TIME)]


def test_importing_the_same_file_twice_changes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    path = ws_form(workspace, PHUOC_HOA, tmp_path, good_values_phuoc_hoa())
    [first] = run_import(workspace, [path])
    before = counts(workspace)
    renamed = tmp_path / "gui-lai" / "bao-cao-thang-3.xlsx"   # the same bytes sent again under another name
    renamed.parent.mkdir()
    shutil.copyfile(path, renamed)
    again = run_import(workspace, [path, renamed])
    assert counts(workspace) == before
    assert before["files"] == before["submissions"] == 1 and before["indicator_values"] == 11
    assert (first.duplicate, first.status, first.version) == (False, "accepted", 1)
    assert [(o.duplicate, o.submission_id, o.version, o.is_current) for o in again] == [
        (True, first.submission_id, 1, True)] * 2


def test_corrected_resubmission_becomes_current_and_the_first_stays_in_history(
        workspace: Workspace, tmp_path: Path) -> None:
    first = ws_form(workspace, PHUOC_HOA, tmp_path / "lan-1", values_for(PHUOC_HOA, 40))
    second = ws_form(workspace, PHUOC_HOA, tmp_path / "lan-2", values_for(PHUOC_HOA, 45))
    outcomes = run_import(workspace, [first, second])
    assert [(o.version, o.is_current, o.status) for o in outcomes] == [(1, True, "accepted"), (2, True, "accepted")]
    with store_for(workspace) as store:
        history = store.history(PHUOC_HOA, MARCH.code)
        current = store.values_frame([MARCH.code])
    assert [(h["version"], h["is_current"]) for h in history] == [(1, False), (2, True)]
    assert current[current["indicator"] == "1"]["numerator"].tolist() == [45]
    assert len(current) == 11   # only the current version's values count


def test_rejected_file_is_archived_byte_for_byte_with_its_problems(workspace: Workspace, tmp_path: Path) -> None:
    path = ws_form(workspace, PHUOC_HOA, tmp_path, good_values_phuoc_hoa() | {"CT_1_TU": "abc"})
    [outcome] = run_import(workspace, [path])
    assert (outcome.status, outcome.is_current) == ("rejected", False)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    archived = list(workspace.archive_dir.rglob(f"{sha}*"))
    assert [p.relative_to(workspace.archive_dir).as_posix() for p in archived] == [f"{sha[:2]}/{sha}.xlsx"]
    assert hashlib.sha256(archived[0].read_bytes()).hexdigest() == sha
    [(status, problems_json)] = query(workspace, "SELECT status, problems_json FROM submissions")
    assert status == "rejected" and '"code": "not-a-number"' in problems_json and '"cell": "E6"' in problems_json
    assert counts(workspace)["indicator_values"] == 0   # a rejected file's figures never reach the tables


def test_unreadable_file_is_archived_and_rejected(workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "2025-03_22786_xa-phuoc-hoa.xlsx"
    bad.write_bytes(b"")
    [outcome] = run_import(workspace, [bad])
    assert (outcome.status, [p["code"] for p in outcome.problems]) == ("rejected", ["file-empty"])
    assert counts(workspace)["files"] == 1


CHILD_CRASH = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from cchc_excel.archive import store
    from cchc_excel.archive.importing import import_files
    from cchc_excel.core.period import Period
    from cchc_excel.archive.workspace import open_workspace

    original = store.Store._insert_values

    def slow(conn, sid, sub):
        original(conn, sid, sub)                 # values are in, the transaction is not committed
        Path(sys.argv[3]).write_text(str(sid))
        time.sleep(120)

    store.Store._insert_values = staticmethod(slow)
    ws, _ = open_workspace(Path(sys.argv[1]))
    for _ in import_files(ws, [Path(sys.argv[2])], period=Period.parse("2025-03"),
                          received_at=datetime(2025, 3, 14, 9)):
        pass
""")


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_import_killed_before_commit_leaves_no_half_submission(workspace: Workspace, tmp_path: Path) -> None:
    first = ws_form(workspace, PHUOC_HOA, tmp_path / "a", values_for(PHUOC_HOA, 40))
    second = ws_form(workspace, TAN, tmp_path / "b", values_for(TAN, 41))
    run_import(workspace, [first])
    before = counts(workspace)
    marker = tmp_path / "inserted"
    child = subprocess.Popen([sys.executable, "-c", CHILD_CRASH, str(workspace.root), str(second), str(marker)],
                             env=_child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "child never reached the insert"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    assert query(workspace, "PRAGMA integrity_check") == [("ok",)]
    assert counts(workspace) == before
    orphans = query(workspace, "SELECT s.id FROM submissions s WHERE s.status = 'accepted' AND NOT EXISTS "
                               "(SELECT 1 FROM indicator_values v WHERE v.submission_id = s.id)")
    assert orphans == []
    [again] = run_import(workspace, [second])
    assert (again.duplicate, again.status, again.unit_code, again.version) == (False, "accepted", TAN, 1)
    assert counts(workspace)["indicator_values"] == 2 * before["indicator_values"]


CHILD_IMPORT = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from cchc_excel.archive.importing import import_files
    from cchc_excel.core.period import Period
    from cchc_excel.archive.workspace import open_workspace

    ws, _ = open_workspace(Path(sys.argv[1]))
    Path(sys.argv[3]).write_text("ready")
    while not Path(sys.argv[4]).exists():
        time.sleep(0.01)
    for path, outcome in import_files(ws, [Path(sys.argv[2])], period=Period.parse("2025-03"),
                                      received_at=datetime(2025, 3, 14, 9)):
        print(path.name, outcome.status, outcome.duplicate, flush=True)
""")


def test_two_imports_at_once_count_each_file_once(workspace: Workspace, tmp_path: Path) -> None:
    made = tmp_path / "made"
    hoa = ws_form(workspace, PHUOC_HOA, made / "1", values_for(PHUOC_HOA, 40))
    tan = ws_form(workspace, TAN, made / "2", values_for(TAN, 41))
    binh_1 = ws_form(workspace, BINH, made / "3", values_for(BINH, 42))
    binh_2 = ws_form(workspace, BINH, made / "4", values_for(BINH, 43), name="2025-03_22783_sua-lai.xlsx")
    folders = {"mot": [hoa, tan, binh_1], "hai": [tan, binh_1, binh_2]}
    for folder, paths in folders.items():
        (tmp_path / folder).mkdir()
        for p in paths:
            shutil.copyfile(p, tmp_path / folder / p.name)
    go = tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", CHILD_IMPORT, str(workspace.root), str(tmp_path / f),
                                  str(tmp_path / f"ready-{f}"), str(go)],
                                 env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for f in folders]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{f}").exists() for f in folders):
        assert all(c.poll() is None for c in children), [c.stderr.read().decode() for c in children if c.stderr]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    go.write_text("go")
    results = [c.communicate(timeout=120) for c in children]
    assert [c.returncode for c in children] == [0, 0], [err.decode()[-2000:] for _, err in results]
    lines = sorted(line for out, _ in results for line in out.decode().splitlines())
    assert len(lines) == 6 and all(" accepted " in line for line in lines)

    assert counts(workspace)["files"] == 4
    assert counts(workspace)["submissions"] == 4
    assert query(workspace, "SELECT unit_code, COUNT(*) FROM submissions WHERE is_current GROUP BY unit_code "
                            "ORDER BY unit_code") == [(BINH, 1), (PHUOC_HOA, 1), (TAN, 1)]
    assert query(workspace, f"SELECT version FROM submissions WHERE unit_code = '{BINH}' ORDER BY version") == [
        (1,), (2,)]
    assert counts(workspace)["indicator_values"] == 4 * 11
    assert query(workspace, "PRAGMA integrity_check") == [("ok",)]


def test_older_version_imported_after_a_newer_one_does_not_replace_it(workspace: Workspace, tmp_path: Path) -> None:
    older = ws_form(workspace, PHUOC_HOA, tmp_path / "lan-1", values_for(PHUOC_HOA, 40))
    newer = ws_form(workspace, PHUOC_HOA, tmp_path / "lan-2", values_for(PHUOC_HOA, 45))
    [n] = [o for _, o in import_files(workspace, [newer], period=MARCH, received_at=datetime(2025, 3, 14, 10))]
    [o] = [o for _, o in import_files(workspace, [older], period=MARCH, received_at=datetime(2025, 3, 13, 16))]
    assert [(x.version, x.status, x.is_current) for x in (n, o)] == [(1, "accepted", True), (2, "accepted", False)]
    with store_for(workspace) as store:
        current = store.values_frame([MARCH.code])
    assert current[current["indicator"] == "1"]["numerator"].tolist() == [45]


# -- schema versions (Alembic) ---------------------------------------------------------------------------

FIXTURE_0_1_0 = Path(__file__).parent / "fixtures" / "store-0.1.0.sqlite"   # made by release 0.1.0's code


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            present = set(sa_inspect(conn).get_table_names())
            return {name: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {name}")))
                    for name in store_mod.metadata.tables if name in present}
    finally:
        engine.dispose()


def test_store_of_release_0_1_0_is_refused_then_upgraded_without_losing_a_row(workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from cchc_excel.app.cli import app
    from cchc_excel.core.problems import Refusal

    shutil.copyfile(FIXTURE_0_1_0, workspace.root / "store.sqlite")
    before = _rows(workspace.store_url)
    assert sum(map(len, before.values())) == 70 and len(before["submissions"]) == 5
    try:
        store_for(workspace)
        raise AssertionError("an old store was opened")
    except Refusal as exc:
        assert [(p.code, p.value) for p in exc.problems] == [("store-schema-old", "0001")]
        assert "cchc db upgrade" in exc.problems[0].message

    done = CliRunner().invoke(app, ["db", "upgrade", "--workspace", str(workspace.root), "--json"])
    assert done.exit_code == 0, done.stdout
    assert json.loads(done.stdout)["result"] | {"store": None} == {"store": None, "before": "0001",
                                                                   "after": store_mod.SCHEMA_HEAD, "changed": True}
    after = _rows(workspace.store_url)
    assert {k: v for k, v in after.items() if k in before} == before, "every row of 0.1.0 is kept"
    assert after["web_users"] == [] and after["web_audit"] == [], "the web page's tables are created (0003)"
    assert query(workspace, "SELECT version_num FROM alembic_version") == [(store_mod.SCHEMA_HEAD,)]
    path = ws_form(workspace, TAN, Path(workspace.root) / "nhan", values_for(TAN, 47))
    [outcome] = run_import(workspace, [path])     # the upgraded store takes imports: Tân's version 2
    assert (outcome.status, outcome.version, outcome.is_current) == ("accepted", 2, True)


def test_store_of_a_newer_release_is_refused(any_workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from cchc_excel.app.cli import app

    store_for(any_workspace).close()
    engine = create_engine(any_workspace.store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for command in (["check"], ["db", "upgrade"]):
        done = CliRunner().invoke(app, [*command, "--workspace", str(any_workspace.root), "--json"])
        assert done.exit_code == 1
        assert [p["code"] for p in json.loads(done.stdout)["problems"]] == ["store-schema-new"]


def test_migrations_build_the_schema_of_the_code(backend: str, store_url_for: Any, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from cchc_excel.archive.schema import alembic_config, upgrade_store

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == store_mod.SCHEMA_HEAD
    url = store_url_for(tmp_path)
    assert upgrade_store(url).before is None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), store_mod.metadata) == []
            indexes = {i["name"]: i for i in sa_inspect(conn).get_indexes("submissions")}
            assert indexes["uq_submissions_current"]["unique"] and indexes["uq_submissions_version"]["unique"]
    finally:
        engine.dispose()


def test_version_rules_are_database_constraints(any_workspace: Workspace, tmp_path: Path) -> None:
    """Even a writer that skips the store's locks cannot make a second current version or reuse a number."""
    from sqlalchemy.exc import IntegrityError

    path = ws_form(any_workspace, PHUOC_HOA, tmp_path, values_for(PHUOC_HOA, 40))
    run_import(any_workspace, [path])
    engine = create_engine(any_workspace.store_url)
    try:
        for sql in ("INSERT INTO files (id, sha256, size, first_name, archived_path, first_seen) VALUES "
                    "(99, 'x', 1, 'x', 'x', '2025-03-14 09:00:00')",):
            with engine.begin() as conn:
                conn.execute(text(sql))
        row = ("INSERT INTO submissions (file_id, file_name, unit_code, period_code, status, is_current, version, "
               "received_at, imported_at, errors, warnings, problems_json) VALUES (99, 'x', '22786', '2025-03', "
               "'accepted', {current}, {version}, '2025-03-14 09:00:00', '2025-03-14 09:00:00', 0, 0, '[]')")
        for current, version in (("true", 2), ("false", 1)):
            try:
                with engine.begin() as conn:
                    conn.execute(text(row.format(current=current, version=version)))
                raise AssertionError(f"accepted current={current} version={version}")
            except IntegrityError:
                pass
    finally:
        engine.dispose()
