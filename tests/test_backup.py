"""Backups that restore, and the store's check-up, on SQLite and PostgreSQL: `cchc backup` then `cchc restore`
gives back every row of every table and every archived file with its hash; `cchc check` names what is wrong."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, select
from typer.testing import CliRunner

from cchc_excel.app.cli import app
from cchc_excel.archive.backup import TABLE_ORDER
from cchc_excel.archive.importing import import_files
from cchc_excel.archive.workspace import Workspace, open_workspace
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form
from tests.test_store_concurrency import BINH, TAN, _when, values_for

runner = CliRunner()


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    done = runner.invoke(app, [*args, "--json"])
    return done.exit_code, json.loads(done.stdout)


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            meta = MetaData()
            out = {}
            for name in TABLE_ORDER:
                table = Table(name, meta, autoload_with=conn)
                out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.columns))]
            return out
    finally:
        engine.dispose()


def archived(ws_root: Path) -> dict[str, str]:
    return {p.relative_to(ws_root / "archive").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((ws_root / "archive").rglob("*")) if p.is_file()}


def fill(ws: Workspace, tmp_path: Path) -> None:
    paths = [ws_form(ws, PHUOC_HOA, tmp_path / "a", values_for(PHUOC_HOA, 40)),
             ws_form(ws, PHUOC_HOA, tmp_path / "b", values_for(PHUOC_HOA, 45)),
             ws_form(ws, TAN, tmp_path / "c", values_for(TAN, 41)),
             ws_form(ws, BINH, tmp_path / "d", good_values_phuoc_hoa() | {"CT_1_TU": "abc"})]
    list(import_files(ws, paths, period=MARCH, received_at=_when()))
    # An account and its journal line: the web page's tables travel with the backup too.
    from cchc_excel.app.users import add_user
    from cchc_excel.archive.importing import store_for

    with store_for(ws) as store:
        add_user(store.engine, "van-phong", "office", "mat-khau-du-dai-1")


def test_backup_then_restore_gives_back_every_row_and_every_archived_file(
        any_workspace: Workspace, tmp_path: Path, store_url_for: Any) -> None:
    ws = any_workspace
    fill(ws, tmp_path)
    code, out = cli("backup", "--workspace", str(ws.root), str(tmp_path / "sao-luu.zip"))
    assert code == 0, out
    assert out["result"]["rows"]["submissions"] == 4 and out["result"]["archived_files"] == 4

    target = tmp_path / "khoi-phuc"
    new_store = store_url_for(target)
    code, out = cli("restore", str(tmp_path / "sao-luu.zip"), str(target), "--store", new_store)
    assert code == 0, out
    assert dump(new_store) == dump(ws.store_url)
    assert archived(target) == archived(ws.root) and len(archived(target)) == 4
    assert (target / "cchc.yaml").read_text(encoding="utf-8") == (ws.root / "cchc.yaml").read_text(encoding="utf-8")

    # The restored store takes new imports (ids and sequences carry on after the restored rows).
    restored, _ = open_workspace(target)
    assert restored is not None
    restored.store_url = new_store
    more = ws_form(restored, BINH, tmp_path / "e", values_for(BINH, 42))
    [(_, o)] = list(import_files(restored, [more], period=MARCH, received_at=_when()))
    assert (o.status, o.version, o.is_current) == ("accepted", 2, True)


def test_restore_refuses_a_folder_or_store_that_has_data(workspace: Workspace, tmp_path: Path) -> None:
    fill(workspace, tmp_path)
    assert cli("backup", "-w", str(workspace.root), str(tmp_path / "b.zip"))[0] == 0
    code, out = cli("restore", str(tmp_path / "b.zip"), str(workspace.root))
    assert code == 1 and [p["code"] for p in out["problems"]] == ["restore-target-not-empty"]
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    code, out = cli("restore", str(tmp_path / "junk.zip"), str(tmp_path / "new"))
    assert code == 1 and [p["code"] for p in out["problems"]] == ["backup-invalid"]


def test_backup_taken_while_an_import_runs_restores_to_a_consistent_store(workspace: Workspace,
                                                                           tmp_path: Path) -> None:
    forms = [ws_form(workspace, code, tmp_path / code, values_for(code, 40 + i))
             for i, code in enumerate([PHUOC_HOA, TAN, BINH, "22780", "22777", "22774"])]
    runner_thread = threading.Thread(target=lambda: list(import_files(workspace, forms, period=MARCH,
                                                                      received_at=_when(), workers=1)))
    runner_thread.start()
    code, out = cli("backup", "-w", str(workspace.root), str(tmp_path / "during.zip"))
    runner_thread.join()
    assert code == 0, out
    code, out = cli("restore", str(tmp_path / "during.zip"), str(tmp_path / "r"))
    assert code == 0, out["problems"]   # the check found every archived file the rows name


def test_check_names_a_missing_and_a_changed_archived_file(any_workspace: Workspace, tmp_path: Path) -> None:
    ws = any_workspace
    fill(ws, tmp_path)
    code, out = cli("check", "--workspace", str(ws.root))
    assert (code, out["problems"]) == (0, []) and out["result"]["archived_files"] == 4
    files = sorted(p for p in ws.archive_dir.rglob("*.xlsx"))
    files[0].unlink()
    files[1].write_bytes(files[1].read_bytes() + b"x")
    code, out = cli("db", "check", "--workspace", str(ws.root))
    assert code == 1
    assert sorted(p["code"] for p in out["problems"]) == ["archived-file-changed", "archived-file-missing"]


def test_check_names_a_submission_whose_file_row_is_gone(workspace: Workspace, tmp_path: Path) -> None:
    """A store edited by hand (or half restored): the submission stays, its file row is gone."""
    import sqlite3

    fill(workspace, tmp_path)
    db = sqlite3.connect(workspace.root / "store.sqlite")
    db.execute("PRAGMA foreign_keys=OFF")
    file_id = db.execute("SELECT file_id FROM submissions ORDER BY id LIMIT 1").fetchone()[0]
    db.execute("DELETE FROM files WHERE id = ?", (file_id,))
    db.commit()
    db.close()
    code, out = cli("check", "--workspace", str(workspace.root))
    codes = sorted({p["code"] for p in out["problems"]})
    assert code == 1 and codes == ["store-integrity", "submission-without-file"], out["problems"]


def test_import_that_keeps_losing_the_race_says_the_store_is_busy(workspace: Workspace, tmp_path: Path,
                                                                   monkeypatch: Any) -> None:
    """After every retry lost to parallel imports the user reads `store-busy`, never "database is locked";
    nothing half-written stays behind."""
    from sqlalchemy.exc import OperationalError

    from cchc_excel.archive import store as store_module

    def always_locked(*_: Any, **__: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(store_module.Store, "_record", always_locked)
    monkeypatch.setattr(store_module.time, "sleep", lambda _s: None)
    path = ws_form(workspace, PHUOC_HOA, tmp_path / "a", good_values_phuoc_hoa())
    done = runner.invoke(app, ["import", "--workspace", str(workspace.root), str(path), "--json"])
    out = json.loads(done.stdout)
    assert done.exit_code == 1 and [p["code"] for p in out["problems"]] == ["store-busy"], out
    assert "database is locked" not in out["problems"][0]["message"].split("(")[0]
