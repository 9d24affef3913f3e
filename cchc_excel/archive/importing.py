"""Edge: import a folder of received files into the workspace's store.

For each file: read and check it (readback), add the checks that need the archive (a copy of another
unit's figures, a big jump from the unit's own history, a late arrival), then record it atomically.
One bad file never stops the batch; every file is archived, accepted or not.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import signal
import stat
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from ..core.period import Period
from ..core.problems import Refusal, problem, wording
from ..core.vntext import format_number, format_short_date, parse_date
from ..workbook.readback import ReadContext, Submission, read_workbook
from ..workbook.safety import Limits
from .frames import long_lived_frozen
from .store import ImportOutcome, Store, clean_partial_files, name_suffix
from .workspace import Workspace

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
RECEIPT_LOG = "so-nhan.csv"   # optional register of arrival times kept by the office: file,received_at


class FileList(list):
    """The files found, plus the folders that could not be read (`unreadable`: (folder, error)); those are
    reported as rejected entries of the import instead of being skipped without a word."""

    unreadable: list[tuple[Path, OSError]]

    def __init__(self, items: Iterable[Path] = ()) -> None:
        super().__init__(items)
        self.unreadable = []


def _walk(folder: Path, found: FileList) -> None:
    try:
        entries = sorted(folder.iterdir())
    except NotADirectoryError:   # an entry that could not be examined and is a file after all
        return
    except OSError as exc:
        found.unreadable.append((folder, exc))
        return
    for entry in entries:
        mode = _mode(entry)   # one stat per entry (is_dir then is_file were two per file)
        if mode is not None and stat.S_ISDIR(mode):
            _walk(entry, found)
        elif ((mode is None or stat.S_ISREG(mode)) and name_suffix(entry.name).lower() in SUFFIXES
              and not entry.name.startswith(("~$", ".~lock"))):
            found.append(entry)   # one that cannot be examined is listed: its read fails and is reported
        elif mode is None:
            _walk(entry, found)   # perhaps a folder: one that cannot be read is reported (`unreadable`)


def _mode(path: Path) -> int | None:
    """The file mode of `path`, links followed; 0 when nothing is there (an entry removed meanwhile); None
    when something is there that cannot be examined (no permission, a looping link, a link to a removed
    drive or a missing file, a name the system refuses): a workbook among those is listed and a folder
    walked, so that the import reports what it cannot read instead of leaving it out without a word or
    stopping the whole import."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:   # a link is there but not what it points to (a removed drive): not nothing
        return None if os.path.lexists(path) else 0
    except (OSError, ValueError):
        return None


def collect_files(paths: Iterable[Path]) -> FileList:
    """Files to import, in a stable order: folders are searched recursively; Office lock files
    ("~$x.xlsx", ".~lock.x#") are skipped. Explicitly named files are taken whatever their suffix, so a
    PDF sent by mistake is archived and reported rather than ignored. Folders that cannot be read are kept
    in `unreadable`."""
    out = FileList()
    for p in paths:
        p = p if isinstance(p, Path) else Path(p)
        if p.is_dir():
            sub = FileList()
            _walk(p, sub)
            out.extend(sorted(sub))
            out.unreadable.extend(sub.unreadable)
        else:
            out.append(p)
    out.unreadable.extend(getattr(paths, "unreadable", []))
    return out


def import_interrupted(done: int, total: int) -> Refusal:
    """Ctrl-C during an import: say how many files were stored (recorded in batches, each one transaction;
    a file is counted once its batch is committed, so nothing counted is lost) and that running the same
    command again finishes the job. Exit code 130."""
    return Refusal(problem("import-interrupted", value=done, detail=max(0, total - done)), exit_code=130)


def read_receipts(folder: Path) -> dict[str, datetime]:
    """Arrival times from the office's register, if the folder has one."""
    log = folder / RECEIPT_LOG
    if not log.exists():
        return {}
    out: dict[str, datetime] = {}
    for row in csv.DictReader(io.StringIO(log.read_text(encoding="utf-8-sig"))):
        name, when = (row.get("file") or "").strip(), (row.get("received_at") or "").strip()
        if not name or not when:
            continue
        try:
            out[name] = datetime.fromisoformat(when)
        except ValueError:
            d = parse_date(when)
            if d:
                out[name] = datetime(d.year, d.month, d.day, 12, 0)
    return out


def store_for(ws: Workspace) -> Store:
    return Store(ws.store_url, ws.archive_dir)


class ArchiveIndex:
    """What the jump check needs, fetched once per period rather than per file (measured: two queries and a
    DataFrame per file were a third of the import): each unit's latest value per indicator over the 12
    earlier months. Kept in step with the files of the batch as they are recorded. (The copy check is not
    here: it is decided by the store inside the writing transaction, see `store.decide_copy_check`.)"""

    HISTORY_MONTHS = 12

    def __init__(self, store: Store) -> None:
        self.store = store
        # period -> (the units with history, (unit, indicator) -> value, the units whose every key is known):
        # first each unit's latest month only (`Store.latest_reported`); a unit whose file has a value for a
        # key that month left empty is completed from the whole window (`Store.latest_values`), once.
        self._latest: dict[str, tuple[set[str], dict[tuple[str, str], float], set[str]]] = {}
        self._pending: dict[str, dict[str, dict[str, int]]] = {}     # period -> unit -> field -> pending before
        self._due: dict[str, date] = {}

    def pending_before(self, period: Period, ws: Workspace) -> dict[str, dict[str, int]]:
        """Per unit and field, the cases pending at the end of the previous period (the carried-over check)."""
        from .history import pending_before

        if period.code not in self._pending:
            self._pending[period.code] = pending_before(self.store, ws.history, period)
        return self._pending[period.code]

    def _since(self, period: Period) -> str:
        since = period
        for _ in range(self.HISTORY_MONTHS):
            since = since.previous()
        return since.code

    def latest(self, period: Period, subs: Iterable[Submission] = ()) -> dict[tuple[str, str], float]:
        """(unit, indicator) -> the unit's latest value over the 12 months before `period`: right for every
        key that a file of `subs` (files of that period) has a value for; other keys may be missing."""
        code = period.code
        state = self._latest.get(code)
        if state is None:
            units, found = self.store.latest_reported(code, self._since(period))
            state = self._latest[code] = (units, found, set())
        units, found, complete = state
        missing = sorted({sub.unit_code for sub in subs
                          if sub.unit_code in units and sub.unit_code not in complete
                          and any(iv.value is not None and (sub.unit_code, key) not in found
                                  for key, iv in sub.indicators.items())})
        if missing:
            found.update(self.store.latest_values(code, self._since(period), units=missing))
            complete.update(missing)
        return found

    def prepare(self, subs: Iterable[Submission]) -> None:
        """Read at once what the jump checks of these files need (`latest`), one query for the lot."""
        by_period: dict[str, list[Submission]] = {}
        for sub in subs:
            if sub.period_code and sub.unit_code and sub.accepted:
                by_period.setdefault(sub.period_code, []).append(sub)
        for code, some in by_period.items():
            try:
                period = Period.parse(code)
            except ValueError:
                continue
            self.latest(period, some)

    def due(self, period: Period, ws: Workspace) -> date:
        """The period's due date under the workspace's plan, once per period."""
        due = self._due.get(period.code)
        if due is None:
            plan = ws.plan.reporting
            due = self._due[period.code] = period.due_date(plan.due_day, month_offset=plan.due_month_offset)
        return due

    def recorded(self, sub: Submission, outcome: ImportOutcome) -> None:
        """A file of the batch became current: later periods' history must be read again."""
        if outcome.duplicate or not outcome.is_current or not sub.period_code or not sub.unit_code:
            return
        for cache in (self._latest, self._pending):
            for code in [c for c in cache if c > sub.period_code]:
                del cache[code]


def check_against_archive(sub: Submission, store: Store, ws: Workspace, received_at: datetime,
                          index: ArchiveIndex | None = None) -> None:
    """Checks that need what was received before (late arrival, big jump). Adds problems to `sub.report`.
    The copy check needs the state at the moment of writing, so `Store.record` makes it."""
    if not sub.period_code or not sub.unit_code or not sub.accepted:
        return
    index = index or ArchiveIndex(store)
    try:
        period = Period.parse(sub.period_code)
    except ValueError:
        return
    due = index.due(period, ws)
    if received_at.date() > due:
        sub.report.add(problem("late-submission", file=sub.file, value=format_short_date(received_at.date()),
                               detail=format_short_date(due)))
    limit = ws.plan.reporting.large_change_points
    latest = index.latest(period, [sub])
    unit = sub.unit_code
    for key, iv in sub.indicators.items():
        if iv.value is None:
            continue
        last = latest.get((unit, key))
        if last is None:
            continue
        if abs(iv.value - last) >= limit:
            sub.report.add(problem("big-jump", file=sub.file, sheet=iv.sheet, cell=iv.cell, name=key,
                                   value=format_number(iv.value),
                                   detail=wording("previous-value", value=format_number(last))))
    from .history import check_carried_of  # the carried-over column against last period's pending (issue 13)

    sub.report.extend(check_carried_of(sub, index.pending_before(period, ws), period))


# Reading is CPU work per file (inspection, calamine, checks): it runs in worker processes, while the
# archive checks and the store's writes stay in this process, in file order, one transaction per batch.
_WORKER_CTX: ReadContext | None = None
PARALLEL_MIN_FILES = 16
READ_CHUNK = 8        # files per task sent to a worker (and per result message sent back)
BATCH_SECONDS = 1.0   # longest wait before a batch is recorded (progress, Ctrl-C)


def _exit_with_parent(poll: float = 0.5) -> None:
    """End this worker when the importing process dies, however it dies (kill -9 included): a worker
    blocked on the task queue would otherwise live on as an orphan. Two signs, either one enough: the
    parent's sentinel (multiprocessing gives one under every start method, Windows included; under fork a
    sibling may hold it open) and a change of the parent process id (POSIX re-parents orphans)."""
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    ppid = os.getppid()
    while True:
        if sentinel is not None:
            if wait([sentinel], timeout=poll):
                break
        else:
            threading.Event().wait(poll)
        if os.getppid() != ppid:
            break
    os._exit(1)


def _init_reader(ctx: ReadContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx
    # Ctrl-C is the main process's business (it says what was stored); workers would print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()


def _read_one(path: Path, ctx: ReadContext | None = None) -> tuple[Path, bytes | None, Submission]:
    ctx = ctx or _WORKER_CTX
    assert ctx is not None
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as exc:   # ValueError: a name the system refuses
        sub = Submission(file=path.name, sha256="0" * 64)
        sub.report.add(problem("file-unreadable", file=path.name, detail=str(exc)))
        return path, None, sub
    return path, data, read_workbook(path, ctx, data=data)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def _reading(files: list[Path], ctx: ReadContext,
             workers: int) -> Iterator[Iterator[tuple[Path, bytes | None, Submission]]]:
    """The files read and checked, in order. The worker pool lives until the import ends (its last batch
    recorded), not only until the last file is read."""
    if workers <= 1 or len(files) < PARALLEL_MIN_FILES:
        yield (_read_one(path, ctx) for path in files)
        return
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_reader, initargs=(ctx,))
    try:
        yield pool.map(_read_one, files, chunksize=READ_CHUNK)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def import_files(ws: Workspace, paths: Iterable[Path], *, period: Period | None = None,
                 received_at: datetime | None = None, limits: Limits | None = None,
                 store: Store | None = None, workers: int | None = None) -> Iterator[tuple[Path, ImportOutcome]]:
    """Import each file, yielding (path, outcome) as it goes (for progress bars)."""
    own = store is None
    store = store or store_for(ws)
    clean_partial_files(store.archive_dir)   # what an import killed half way left behind
    ctx = ReadContext(plan=ws.plan, registry=ws.registry, secret=ws.secret, period=period,
                      limits=limits or Limits())
    receipts: dict[Path, dict[str, datetime]] = {}
    index = ArchiveIndex(store)
    files = collect_files(paths)
    for folder, exc in files.unreadable:
        detail = exc.strerror or str(exc)
        yield folder, ImportOutcome(folder.name or str(folder), 0, "rejected", False, False, 0, None, None, 1, 0,
                                    [problem("folder-unreadable", file=str(folder), detail=detail).to_dict()])
    # Files are recorded in batches (one transaction, one round of disk syncs each: `Store.record_many`);
    # a batch holds one period, so the archive checks of a file see every earlier period's files stored.
    # Batches grow from one file (the first outcome at once, as before) to `Store.BATCH_FILES`.
    batch: list[tuple[Path, Submission, bytes, datetime]] = []
    started = 0.0
    limit = 1

    def flush() -> Iterator[tuple[Path, ImportOutcome]]:
        nonlocal limit
        # The archive checks of the batch's files, before their rows go in: what they need is read for the
        # whole batch at once (`ArchiveIndex.prepare`).
        index.prepare(sub for _, sub, _, _ in batch)
        for _, sub, _, when in batch:
            check_against_archive(sub, store, ws, when, index)
        outcomes = store.record_many([(sub, data, when) for _, sub, data, when in batch])
        limit = min(2 * limit, store.BATCH_FILES)
        for (path, sub, _, _), outcome in zip(batch, outcomes, strict=True):
            index.recorded(sub, outcome)
            yield path, outcome
        batch.clear()

    # The objects alive now (modules, plan, registry) left out of the collector's full passes until the import
    # ends (`long_lived_frozen`): each file's results arrive as thousands of new objects, which started a full
    # pass every few batches, each walking the whole heap again (measured ~0.9 s of the importing process at
    # 4,000 files). Frozen before the worker pool starts.
    try:
        n_workers = default_workers() if workers is None else workers
        with long_lived_frozen(), _reading(files, ctx, n_workers) as results:
            for path, data, sub in results:
                when = received_at
                if when is None:   # the office's register is read only when no arrival time is given
                    folder = path.parent
                    if folder not in receipts:
                        receipts[folder] = read_receipts(folder)
                    when = receipts[folder].get(path.name) or datetime.now().replace(microsecond=0)
                if batch and (sub.period_code != batch[0][1].period_code or len(batch) >= limit
                              or time.monotonic() - started > BATCH_SECONDS):
                    yield from flush()
                if data is None:
                    yield path, ImportOutcome(path.name, 0, "rejected", False, False, 0, None, None, 1, 0,
                                              sub.report.to_list())
                    continue
                if not batch:
                    started = time.monotonic()
                # The archived copy is written and synced in the store's threads while the next files are
                # read; the batch's transaction waits for it (`Store.record_many`).
                store.archive_ahead(sub.sha256, data, sub.file)
                batch.append((path, sub, data, when))
            if batch:
                yield from flush()
    finally:
        store.discard_ahead()   # copies of files not recorded (the import stopped half way)
        if own:
            store.close()
