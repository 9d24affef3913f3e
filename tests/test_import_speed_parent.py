"""The importing process's own work, kept lean without changing what is stored: a batch's files and
submissions go in as a few multi-row statements (not one per file) on SQLite and PostgreSQL with the ids in
the rows' order, archive copies are handed to the writing threads in groups (a failed write in a group still
records nothing of its batch and leaves no temporary file), an archived copy's extension follows the
received name as before, and a folder is listed with one stat per entry."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from cchc_excel.archive import importing
from cchc_excel.archive import store as store_mod
from cchc_excel.archive.importing import collect_files, import_files
from cchc_excel.archive.store import PART_PREFIX, Store, name_suffix
from cchc_excel.archive.workspace import Workspace
from cchc_excel.workbook.readback import ReadContext, read_workbook
from tests.conftest import MARCH, good_values_phuoc_hoa, ws_form
from tests.test_store import ON_TIME, counts

UNITS = ("22786", "22789", "22783")   # Phước Hòa, Phước Tân, Phước Bình


def _forms(ws: Workspace, folder: Path, n: int) -> list[Path]:
    """n forms with distinct bytes: the three units, each with several versions (other figures)."""
    return [ws_form(ws, UNITS[i % 3], folder / str(i), good_values_phuoc_hoa() | {"CT_1_TU": 30 + i})
            for i in range(n)]


def test_a_batch_goes_in_with_a_few_statements_and_ids_in_file_order(workspace: Workspace, tmp_path: Path,
                                                                      store_url_for: Any) -> None:
    paths = _forms(workspace, tmp_path / "forms", 10)
    ctx = ReadContext(workspace.plan, workspace.registry, workspace.secret, MARCH)
    items = [(read_workbook(p, ctx), p.read_bytes(), ON_TIME) for p in paths]
    store = Store(store_url_for(tmp_path), tmp_path / "archive")
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: statements.append(sql.split()[0].upper()))
    try:
        outcomes = store.record_many(items)
        with store.engine.connect() as conn:
            rows = conn.execute(text(
                "select s.id, s.file_name, f.sha256, s.version, s.is_current from submissions s "
                "join files f on f.id = s.file_id order by s.id")).all()
    finally:
        store.close()
    # One INSERT for the files, one for the submissions, one per child table: not one per file.
    assert statements.count("INSERT") <= 6, statements
    assert [o.submission_id for o in outcomes] == [r[0] for r in rows]
    assert [(o.file_name, o.version) for o in outcomes] == [(r[1], r[3]) for r in rows]
    assert [r[2] for r in rows] == [sub.sha256 for sub, _, _ in items]
    assert [o.version for o in outcomes] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    # Each file was its unit's current version when recorded; the later ones of the batch demoted it.
    assert all(o.is_current for o in outcomes)
    assert [bool(r[4]) for r in rows] == [False] * 7 + [True] * 3


def test_a_failed_write_inside_a_group_records_nothing_of_its_batch(workspace: Workspace, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _forms(workspace, tmp_path / "forms", store_mod.WRITE_GROUP + 3)
    ctx = ReadContext(workspace.plan, workspace.registry, workspace.secret, MARCH)
    items = [(read_workbook(p, ctx), p.read_bytes(), ON_TIME) for p in paths]
    bad = items[2][0].sha256
    original = store_mod._write_file_synced

    def failing(path: str, data: bytes, unless: str | None = None) -> bool:
        if bad[:16] in Path(path).name:
            raise OSError(28, "No space left on device")
        return original(path, data, unless)

    monkeypatch.setattr(store_mod, "_write_file_synced", failing)
    archive = tmp_path / "archive"
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}", archive) as store:
        for sub, data, _ in items:
            store.archive_ahead(sub.sha256, data, sub.file)
        with pytest.raises(OSError):
            store.record_many(items)
        with store.engine.connect() as conn:
            assert conn.execute(text("select count(*) from submissions")).scalar() == 0
        assert not list(archive.glob(f"*/{PART_PREFIX}*"))
        monkeypatch.setattr(store_mod, "_write_file_synced", original)
        outcomes = store.record_many(items)   # the same batch again, the disk mended: every file, once
    assert [o.duplicate for o in outcomes] == [False] * len(items)
    copies = {hashlib.sha256(p.read_bytes()).hexdigest() for p in archive.glob("*/*")}
    assert copies == {sub.sha256 for sub, _, _ in items} and not list(archive.glob(f"*/{PART_PREFIX}*"))


def test_an_import_in_groups_archives_every_file_once(workspace: Workspace, tmp_path: Path) -> None:
    paths = _forms(workspace, tmp_path / "forms", 2 * store_mod.WRITE_GROUP + 1)
    outcomes = [o for _, o in import_files(workspace, [*paths, paths[0]], period=MARCH, received_at=ON_TIME,
                                           workers=1)]
    assert [o.duplicate for o in outcomes] == [False] * len(paths) + [True]
    archive = workspace.archive_dir
    assert sorted(p.name for p in archive.glob("*/*")) == sorted(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}.xlsx" for p in paths)
    assert counts(workspace)["submissions"] == len(paths)


# Fixed answers, not PurePath(name).suffix: Python 3.14's pathlib answers "." for "a.", which an archived
# copy's extension must not follow (Windows drops a trailing dot).
@pytest.mark.parametrize(("name", "suffix"), [
    ("a.xlsx", ".xlsx"), ("a.b.XLSM", ".XLSM"), ("a.", ""), ("...", ""), (".xlsx", ""), ("..xlsx", ".xlsx"),
    ("..", ""), ("", ""), (".", ""), ("a", ""), ("x/y.ods", ".ods"), ("x/a.b.XLSX", ".XLSX"), ("x/a.", ""),
    ("x/.xlsx", ""), ("a..b", ".b"), ("tên tệp.xlsx", ".xlsx"), ("a\\b.xls", ".xls"), ("bao-cao.tar.gz", ".gz")])
def test_name_suffix_is_the_last_parts_suffix(name: str, suffix: str) -> None:
    assert name_suffix(name) == suffix


def test_a_folder_is_listed_with_one_stat_per_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "nhan"
    (inbox / "con").mkdir(parents=True)
    (inbox / "con.xlsx").mkdir()
    for name in ("b.xlsx", "a.XLSM", "c.ods", "d.pdf", "~$b.xlsx", ".~lock.b.xlsx#", "con/e.xls", "con.xlsx/f.ods"):
        (inbox / name).write_bytes(b"x")
    (inbox / "hong.xlsx").symlink_to(inbox / "khong-co.xlsx")   # a broken link: listed, its read reported
    (inbox / "lien-ket.xlsx").symlink_to(inbox / "b.xlsx")      # a link to a file: followed, as before
    calls: list[str] = []
    real_stat = os.stat

    def counted(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        calls.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(importing.os, "stat", counted)
    found = collect_files([inbox])
    assert [p.relative_to(inbox).as_posix() for p in found] == [
        "a.XLSM", "b.xlsx", "c.ods", "con/e.xls", "con.xlsx/f.ods", "hong.xlsx", "lien-ket.xlsx"]
    assert len(calls) == len(set(calls)) and not found.unreadable


def test_a_workbook_that_cannot_be_examined_is_listed_to_be_reported(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # No permission, a looping link, a junction to a removed drive: the entry is listed (its read fails and the
    # import reports it unreadable) rather than left out without a word or aborting the whole import.
    inbox = tmp_path / "nhan"
    inbox.mkdir()
    for name in ("a.xlsx", "b.xlsx", "c.xlsx"):
        (inbox / name).write_bytes(b"x")
    real_stat = os.stat

    def refusing(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if os.fspath(path).endswith("b.xlsx"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        if os.fspath(path).endswith("c.xlsx"):
            raise ValueError("embedded null byte")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(importing.os, "stat", refusing)
    assert [p.name for p in collect_files([inbox])] == ["a.xlsx", "b.xlsx", "c.xlsx"]


def test_a_file_that_cannot_be_read_is_a_rejected_entry_named_by_its_error(tmp_path: Path) -> None:
    from cchc_excel.workbook.readback import ReadContext

    ctx = ReadContext(plan=None, registry=None, secret="s")   # type: ignore[arg-type]  # not reached
    for path in (tmp_path / "khong-co.xlsx", tmp_path / "a\x00.xlsx"):   # gone; a name the system refuses
        got_path, data, sub = importing._read_one(path, ctx)
        assert got_path == path and data is None
        assert [p.code for p in sub.report.problems] == ["file-unreadable"], sub.report.problems


def test_links_to_what_is_gone_and_unreadable_folders_are_reported(tmp_path: Path) -> None:
    """A workbook link whose target is gone (a removed drive) is listed, so its read is reported; a folder behind
    a looping link is reported unreadable; neither is left out without a word."""
    inbox = tmp_path / "nhan"
    inbox.mkdir()
    (inbox / "a.xlsx").write_bytes(b"x")
    try:
        (inbox / "b.xlsx").symlink_to(tmp_path / "o-dia-da-rut" / "b.xlsx")
        (inbox / "vong").symlink_to(inbox / "vong")
    except OSError:
        pytest.skip("links cannot be made here")
    found = collect_files([inbox])
    assert [p.name for p in found] == ["a.xlsx", "b.xlsx"]
    assert [p.name for p, _ in found.unreadable] == ["vong"]
