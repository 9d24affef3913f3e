"""The import's archive copies written ahead in the store's threads (`Store.archive_ahead`): a file's row is
committed only once its copy is on disk and in place, a copy already archived is not written again, and an
import stopped half way or a failed write leaves no temporary file behind."""

from __future__ import annotations

import gc
import hashlib
from pathlib import Path

import pytest

from cchc_excel.archive import store as store_mod
from cchc_excel.archive.importing import import_files
from cchc_excel.archive.store import PART_PREFIX, Store
from cchc_excel.archive.workspace import Workspace
from cchc_excel.workbook.readback import ReadContext, read_workbook
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form
from tests.test_store import ON_TIME, counts

TAN, BINH = "22789", "22783"


def _forms(ws: Workspace, folder: Path) -> list[Path]:
    return [ws_form(ws, unit, folder / unit, good_values_phuoc_hoa() | {"CT_1_TU": ct1})
            for unit, ct1 in ((PHUOC_HOA, 40), (TAN, 41), (BINH, 42))]


def _parts(archive: Path) -> list[Path]:
    return sorted(archive.glob(f"*/{PART_PREFIX}*"))


def _archived(archive: Path) -> dict[str, str]:
    """Relative path -> sha256 of every archived copy."""
    return {p.relative_to(archive).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(archive.glob("*/*")) if not p.name.startswith(PART_PREFIX)}


def test_a_file_is_recorded_with_its_copy_in_place_and_again_as_a_duplicate(workspace: Workspace,
                                                                           tmp_path: Path) -> None:
    paths = _forms(workspace, tmp_path / "forms")
    outcomes = [o for _, o in import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)]
    assert [o.status for o in outcomes] == ["accepted"] * 3
    archive = workspace.archive_dir
    copies = _archived(archive)
    assert sorted(copies.values()) == sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in paths)
    assert not _parts(archive)
    before = counts(workspace)
    again = [o for _, o in import_files(workspace, [*paths, paths[0]], period=MARCH, received_at=ON_TIME,
                                        workers=1)]
    assert [o.duplicate for o in again] == [True] * 4
    assert counts(workspace) == before and _archived(archive) == copies and not _parts(archive)


def test_copies_started_ahead_are_used_once_or_discarded(workspace: Workspace, tmp_path: Path) -> None:
    paths = _forms(workspace, tmp_path / "forms")
    ctx = ReadContext(workspace.plan, workspace.registry, workspace.secret, MARCH)
    items = [(read_workbook(p, ctx), p.read_bytes(), ON_TIME) for p in paths]
    archive = tmp_path / "archive"
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}", archive) as store:
        store.record_many(items[:1])                       # the first copy archived the plain way
        for sub, data, _ in items:
            store.archive_ahead(sub.sha256, data, sub.file)   # the first again (archived already), the others
        store.archive_ahead(items[1][0].sha256, items[1][1], items[1][0].file)   # twice: one copy
        outcomes = store.record_many(items[:2])
        assert [o.duplicate for o in outcomes] == [True, False]
        assert len(_archived(archive)) == 2
        store.discard_ahead()                              # the third was never recorded
        assert not _parts(archive) and len(_archived(archive)) == 2
        assert [o.duplicate for o in store.record_many(items)] == [True, True, False]
    assert len(_archived(archive)) == 3 and not _parts(archive)


def test_an_import_stopped_half_way_leaves_no_temporary_copy(workspace: Workspace, tmp_path: Path) -> None:
    paths = _forms(workspace, tmp_path / "forms")
    run = import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)
    next(run)          # the first file is recorded (a batch of one); the second's copy may be under way
    run.close()
    assert not _parts(workspace.archive_dir)
    assert counts(workspace)["submissions"] == 1 and len(_archived(workspace.archive_dir)) == 1
    rest = [o for _, o in import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)]
    assert [o.duplicate for o in rest] == [True, False, False]


def test_an_import_freezes_the_heap_for_its_run_only_and_leaves_a_callers_freeze(workspace: Workspace,
                                                                                tmp_path: Path) -> None:
    paths = _forms(workspace, tmp_path / "forms")
    assert gc.get_freeze_count() == 0
    run = import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)
    try:
        next(run)
        assert gc.get_freeze_count() > 0   # frozen while the import runs
        run.close()                        # stopped half way: the freeze is undone all the same
        assert gc.get_freeze_count() == 0
        gc.freeze()                        # a caller's own freeze: neither added to nor handed back
        frozen = gc.get_freeze_count()
        list(import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1))
        # still frozen (not handed back to the collector), nothing of the import's own left frozen; a frozen
        # object freed meanwhile leaves the count, so it is not compared for equality
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        run.close()
        gc.unfreeze()


def test_a_failed_write_records_nothing_of_its_batch_and_leaves_no_temporary_copy(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _forms(workspace, tmp_path / "forms")
    original = store_mod._write_file_synced
    bad = hashlib.sha256(paths[2].read_bytes()).hexdigest()

    def failing(path: str, data: bytes, unless: str | None = None) -> bool:
        if bad[:16] in Path(path).name:
            raise OSError(28, "No space left on device")
        return original(path, data, unless)

    monkeypatch.setattr(store_mod, "_write_file_synced", failing)
    recorded = []
    with pytest.raises(OSError):
        for _, outcome in import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1):
            recorded.append(outcome)
    # The first file is its own batch; the second and third share one, which the failure stops whole.
    assert len(recorded) == 1 and counts(workspace)["submissions"] == 1
    assert not _parts(workspace.archive_dir)


def test_the_same_bytes_under_two_extensions_are_two_copies_written_at_once(workspace: Workspace,
                                                                           tmp_path: Path) -> None:
    [path] = _forms(workspace, tmp_path / "forms")[:1]
    ctx = ReadContext(workspace.plan, workspace.registry, workspace.secret, MARCH)
    data = path.read_bytes()
    first, second = read_workbook(path, ctx), read_workbook(path, ctx)
    second.file = path.with_suffix(".xlsm").name
    archive = tmp_path / "archive"
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}", archive) as store:
        for sub in (first, second):
            store.archive_ahead(sub.sha256, data, sub.file)
        outcomes = store.record_many([(first, data, ON_TIME), (second, data, ON_TIME)])
    assert [o.duplicate for o in outcomes] == [False, True]
    assert sorted(Path(p).suffix for p in _archived(archive)) == [".xlsm", ".xlsx"]
    assert set(_archived(archive).values()) == {hashlib.sha256(data).hexdigest()} and not _parts(archive)


def test_the_folders_of_renamed_copies_are_synced_before_their_rows_are_committed(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy's new name lives in its folder: that folder (and the archive's, for a folder made by the
    import) is synced before the rows naming the copy are committed; a copy archived already syncs nothing."""
    paths = _forms(workspace, tmp_path / "forms")
    archive = workspace.archive_dir
    synced: list[tuple[Path, int, int]] = []   # (folder, rows committed, copies in place) at each sync

    def spy(folder: str) -> None:
        synced.append((Path(folder), counts(workspace)["submissions"], len(_archived(archive))))

    monkeypatch.setattr(store_mod, "_sync_folder", spy)
    outcomes = [o for _, o in import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)]
    assert [o.status for o in outcomes] == ["accepted"] * 3
    folders = {f for f, _, _ in synced}
    shards = {(archive / rel).parent for rel in _archived(archive)}
    assert shards <= folders, f"copies' folders not synced: {shards - folders}"
    assert archive in folders, "the archive's folder, where the new shard folders are named, was not synced"
    late = [(f, rows, copies) for f, rows, copies in synced if rows >= copies]
    assert not late, f"folders synced once the rows naming their copies were committed: {late}"
    synced.clear()
    again = [o for _, o in import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)]
    assert [o.duplicate for o in again] == [True] * 3 and synced == [], synced


def test_a_shard_folder_made_before_the_store_met_it_is_synced_into_the_archives(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process may have made a copy's folder without syncing the archive's folder yet: the first
    copy renamed into it by this store syncs the archive's folder all the same."""
    paths = _forms(workspace, tmp_path / "forms")[:1]
    archive = workspace.archive_dir
    shard = archive / hashlib.sha256(paths[0].read_bytes()).hexdigest()[:2]
    shard.mkdir(parents=True)   # made elsewhere
    synced: list[Path] = []
    monkeypatch.setattr(store_mod, "_sync_folder", lambda folder: synced.append(Path(folder)))
    outcomes = [o for _, o in import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)]
    assert [o.status for o in outcomes] == ["accepted"]
    assert [(archive / rel).parent for rel in _archived(archive)] == [shard]
    assert archive in synced and shard in synced, synced
