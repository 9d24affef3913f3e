"""Edge: the archive. Every file received (byte for byte, by content hash), who/when/which unit and period,
the parsed values and the validation result.

SQLAlchemy Core over SQLite by default (a file in the workspace, nothing to start); the URL is
configurable: PostgreSQL is the supported server (`pip install 'cchc_excel[postgres]'`, docs/store.md).
Each file is imported in one transaction: a crash half way leaves the store as it was.

Several imports may run at once. What depends on other submissions of a period (the version number, which
version is current, the copy check) is decided inside the writing transaction, under a lock per period:
SQLite transactions start with BEGIN IMMEDIATE (one writer at a time), PostgreSQL takes
`pg_advisory_xact_lock` on the period. Unique indexes hold the rules as well: one row per file, version
numbers unique per (unit, period), at most one current version. A conflict that slips through is retried.

The schema is versioned with Alembic (`archive/migrations`). Opening a store creates the schema on an
empty database (under a lock, so two processes may start together) and refuses a store of an older or
newer schema with a Vietnamese message (`cchc db upgrade` for an older one).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import random
import socket
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    event,
    exists,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from ..core.problems import Refusal, problem, wording
from ..workbook.readback import CASE_KEYS, Submission

metadata = MetaData()

files = Table(
    "files", metadata,
    Column("id", Integer, primary_key=True),
    # insert_sentinel (no DDL): a batch's rows go in as one multi-row INSERT .. RETURNING whose ids
    # SQLAlchemy sorts back into the rows' order by this unique client-side value; without it SQLite has no
    # sentinel and `record_many` ran one INSERT per row (8,000 statements for 4,000 files).
    Column("sha256", String(64), nullable=False, unique=True, insert_sentinel=True),
    Column("size", Integer, nullable=False),
    Column("first_name", Text, nullable=False),
    Column("archived_path", Text, nullable=False),
    Column("first_seen", DateTime, nullable=False),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_id", Integer, ForeignKey("files.id"), nullable=False, unique=True, insert_sentinel=True),
    Column("file_name", Text, nullable=False),
    Column("kind", String(10)),
    Column("unit_code", String(40), index=True),
    Column("period_code", String(10), index=True),
    Column("plan_id", String(80)),
    Column("status", String(10), nullable=False),       # accepted | rejected
    Column("is_current", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),
    Column("received_at", DateTime, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("fingerprint", String(64)),
    Column("info_json", Text),
    Column("problems_json", Text, nullable=False),
)

values = Table(
    "indicator_values", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("indicator", String(40), nullable=False),
    Column("numerator", Float), Column("denominator", Float), Column("value", Float), Column("weight", Float),
    Column("answer", Text), Column("done_date", String(10)), Column("note", Text),
    Column("sheet", Text), Column("cell", String(12)),
    UniqueConstraint("submission_id", "indicator"),
)

cases = Table(
    "case_rows", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("field", Text, nullable=False), Column("row", Integer),
    *[Column(k, Integer, nullable=False) for k in CASE_KEYS],
)

tasks = Table(
    "task_status", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("task", String(60), nullable=False), Column("status", Text), Column("done_date", String(10)),
    Column("document", Text), Column("note", Text),
)

texts = Table(
    "texts", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("kind", String(12), nullable=False),   # difficulty | proposal
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
)


# The office web page's accounts and its journal of actions (who did what, when): part of the store, so a
# backup holds them and a migration creates them (revision 0003). Used by app/users.py.
web_users = Table(
    "web_users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("role", String(10), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

web_audit = Table(
    "web_audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("user", String(60), nullable=False),
    Column("action", String(40), nullable=False),      # upload | report | forms | user-add | user-remove | login
    Column("unit_code", String(40), index=True),
    Column("period_code", String(10)),
    Column("detail", Text),                             # JSON: what the action touched
)

# The rules of versions as constraints: version numbers unique per (unit, period); at most one current
# version (a partial unique index: SQLite and PostgreSQL both have them). Rows without a unit or period
# (unreadable files) have NULLs, which unique indexes do not compare.
Index("uq_submissions_version", submissions.c.unit_code, submissions.c.period_code, submissions.c.version,
      unique=True)
Index("uq_submissions_current", submissions.c.unit_code, submissions.c.period_code, unique=True,
      sqlite_where=text("is_current"), postgresql_where=text("is_current"))

# The Alembic revision of `metadata` (archive/migrations/versions); tests/test_store.py holds them equal.
SCHEMA_HEAD = "0003"
# Stores made before migrations existed (release 0.1.0): the tables of revision 0001, no version table.
SCHEMA_BASELINE = "0001"
VERSION_TABLE = "alembic_version"
_version_meta = MetaData()
version_table = Table(VERSION_TABLE, _version_meta,
                      Column("version_num", String(32), primary_key=True))


# Statements built once (bound parameters): building them per file was a visible share of the import.
_EXISTING = (select(submissions).join(files, files.c.id == submissions.c.file_id)
             .where(files.c.sha256 == bindparam("sha")))
_SAME_UNIT_PERIOD = (submissions.c.unit_code == bindparam("unit"), submissions.c.period_code == bindparam("period"))
_VERSIONS = select(func.max(submissions.c.version)).where(*_SAME_UNIT_PERIOD)
_LATER = select(func.count()).select_from(submissions).where(
    *_SAME_UNIT_PERIOD, submissions.c.is_current.is_(True), submissions.c.received_at > bindparam("received"))
_COPY_OWNER = (select(submissions.c.unit_code)
               .where(submissions.c.period_code == bindparam("period"), submissions.c.is_current.is_(True),
                      submissions.c.fingerprint == bindparam("fp"), submissions.c.unit_code != bindparam("unit"))
               .order_by(submissions.c.unit_code).limit(1))
_DEMOTE = update(submissions).where(*_SAME_UNIT_PERIOD, submissions.c.is_current.is_(True)).values(is_current=False)


# The same questions for a whole batch (`Store.record_many`), one query each.
_PERIODS = bindparam("periods", expanding=True)
_EXISTING_MANY = (select(submissions, files.c.sha256).join(files, files.c.id == submissions.c.file_id)
                  .where(files.c.sha256.in_(bindparam("shas", expanding=True))))
_OUTCOME_COLUMNS = ("id", "status", "is_current", "version", "unit_code", "period_code", "errors", "warnings")
# Only the batch's units and fingerprints are asked for: a batch reading its whole period's rows made the
# import quadratic (measured: 360,000 rows fetched for 4,000 files).
_UNITS = bindparam("units", expanding=True)
_VERSIONS_MANY = (select(submissions.c.unit_code, submissions.c.period_code, func.max(submissions.c.version))
                  .where(submissions.c.period_code.in_(_PERIODS), submissions.c.unit_code.in_(_UNITS))
                  .group_by(submissions.c.unit_code, submissions.c.period_code))
_CURRENT_MANY = (select(submissions.c.unit_code, submissions.c.period_code, submissions.c.received_at,
                        submissions.c.fingerprint, files.c.sha256)
                 .join(files, files.c.id == submissions.c.file_id)
                 .where(submissions.c.period_code.in_(_PERIODS), submissions.c.unit_code.in_(_UNITS),
                        submissions.c.is_current.is_(True)))
_OWNERS_MANY = (select(submissions.c.unit_code, submissions.c.period_code, submissions.c.fingerprint)
                .where(submissions.c.period_code.in_(_PERIODS), submissions.c.unit_code.is_not(None),
                       submissions.c.is_current.is_(True),
                       submissions.c.fingerprint.in_(bindparam("fingerprints", expanding=True))))


@dataclass(frozen=True)
class ImportOutcome:
    file_name: str
    submission_id: int
    status: str              # accepted | rejected
    duplicate: bool          # the same bytes were imported before: nothing changed
    is_current: bool
    version: int
    unit_code: str | None
    period_code: str | None
    errors: int
    warnings: int
    problems: list[dict[str, Any]]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            # Take over transaction control from pysqlite so BEGIN IMMEDIATE is really ours.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # WAL is a property of the database file: set it once. Switching needs an exclusive lock and
            # SQLite does not wait for it (no busy handler), so two imports starting together retry here.
            deadline = time.monotonic() + 60
            while cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                try:
                    cur.execute("PRAGMA journal_mode=WAL")
                except sqlite3.OperationalError as exc:
                    if time.monotonic() > deadline or not _is_lock(exc):
                        raise  # a read-only or unreachable file will not change by waiting
                    time.sleep(0.05)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url)


RECORD_ATTEMPTS = 8
PART_PREFIX = ".part-"
_HOST = "".join(c for c in socket.gethostname() if c.isalnum())[:32] or "host"
# SQLSTATEs worth a retry: serialization failure, deadlock, unique violation (a concurrent insert).
_RETRY_STATES = {"40001", "40P01", "23505"}


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__


def _is_conflict(exc: BaseException) -> bool:
    """A clash with a concurrent transaction, which running again resolves."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _RETRY_STATES:
        return True
    if isinstance(exc, IntegrityError):
        return "unique" in str(orig or exc).lower()
    return _is_lock(orig or exc)


def _lock_key(name: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock."""
    return int.from_bytes(hashlib.sha256(f"cchc_excel:{name}".encode()).digest()[:8], "big", signed=True)


def lock_period(conn: Connection, period_code: str | None) -> None:
    """Serialise the writers of one period until the transaction ends. SQLite needs nothing more: its
    transactions start with BEGIN IMMEDIATE, one writer at a time. On PostgreSQL a transaction-level
    advisory lock, released by COMMIT or ROLLBACK (and by the server if the client dies)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(f"period:{period_code or ''}")})


def decide_copy_check(conn: Connection, sub: Submission) -> None:
    """The copy check (another unit's figures sent as one's own), decided inside the writing transaction:
    an accepted file whose figures equal another unit's current submission of the period is rejected. Any
    verdict reached earlier from a cached index is replaced, so two imports at once cannot both accept."""
    code = "duplicate-of-other-unit"
    earlier = [p for p in sub.report.problems if p.code == code]
    sub.report.problems = [p for p in sub.report.problems if p.code != code]
    fingerprint = sub.content_fingerprint() if sub.accepted and sub.unit_code and sub.period_code else None
    if fingerprint is None:
        return
    owner = conn.execute(_COPY_OWNER, {"period": sub.period_code, "fp": fingerprint,
                                       "unit": sub.unit_code}).scalar()
    if owner is not None:
        same = [p for p in earlier if p.value == owner]
        sub.report.add(same[0] if same else problem(code, file=sub.file, value=owner))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def schema_revision(conn: Connection) -> str | None:
    """The store's schema revision: None for an empty database, SCHEMA_BASELINE for a store made before
    migrations (its tables, no version table)."""
    names = _tables(conn)
    if VERSION_TABLE in names:
        return conn.execute(select(version_table.c.version_num)).scalar()
    return SCHEMA_BASELINE if "submissions" in names else None


def lock_schema(conn: Connection) -> None:
    """One process at a time creates or upgrades the schema (SQLite: BEGIN IMMEDIATE already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key("schema")})


def stamp(conn: Connection, revision: str) -> None:
    _version_meta.create_all(conn)
    conn.execute(version_table.delete())
    conn.execute(version_table.insert(), {"version_num": revision})


KNOWN_REVISIONS = ("0001", "0002", "0003")   # oldest first; the migrations' ids


def ensure_schema(engine: Engine, url: str) -> None:
    """Create the schema on an empty database (Alembic's way: create_all, then stamp the head revision),
    under a lock so that two processes starting together do not both create it; refuse an older or a
    newer schema with a Vietnamese message."""
    with engine.begin() as conn:
        lock_schema(conn)
        revision = schema_revision(conn)
        if revision is None:
            metadata.create_all(conn)
            stamp(conn, SCHEMA_HEAD)
            return
    if revision == SCHEMA_HEAD:
        return
    if revision in KNOWN_REVISIONS:
        raise Refusal(problem("store-schema-old", file=shown_url(url), value=revision, detail=SCHEMA_HEAD))
    raise Refusal(problem("store-schema-new", file=shown_url(url), value=revision, detail=SCHEMA_HEAD))


# The pip package that provides a database driver module, for the "install it" message.
DRIVER_PACKAGES = {"psycopg2": "psycopg2-binary", "psycopg": "\"psycopg[binary]\"", "pymysql": "pymysql",
                   "MySQLdb": "mysqlclient", "pyodbc": "pyodbc", "oracledb": "oracledb", "asyncpg": "asyncpg",
                   "pg8000": "pg8000"}


def _is_lock(exc: BaseException) -> bool:
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


def _is_read_only(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "read only" in text


def shown_url(url: str) -> str:
    """The store's address as shown to a user: the file of a SQLite URL, a server URL without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database or url).removeprefix("file:")
    return parsed.render_as_string(hide_password=True)


def store_refusal(url: str, exc: BaseException) -> Refusal:
    """Say in Vietnamese why the store cannot be used: a missing driver, a read-only file, or anything else."""
    where = shown_url(url)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        root = exc.name.split(".")[0]
        return Refusal(problem("store-driver-missing", file=where, value=root,
                               detail=DRIVER_PACKAGES.get(root, root)))
    if isinstance(exc, NoSuchModuleError):
        return Refusal(problem("store-unreachable", file=where,
                               detail=wording("store-kind-unsupported", kind=url.split(":", 1)[0])))
    if _is_read_only(exc):
        return Refusal(problem("store-read-only", file=where))
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return Refusal(problem("store-unreachable", file=where, detail=detail))


def _process_gone(pid: int) -> bool:
    """True when no process of this host has this id (POSIX only; elsewhere we cannot tell: False)."""
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def clean_partial_files(archive_dir: Path, *, max_age: float = 3600.0) -> list[Path]:
    """Remove the temporary files (`.part-HOST-PID-SHA`) that a crashed import left in the archive: those
    of this host whose process is gone, and any older than `max_age` seconds (a live import renames its
    file within milliseconds). Returns the files removed."""
    removed: list[Path] = []
    now = time.time()
    for path in Path(archive_dir).glob(f"*/{PART_PREFIX}*"):
        fields = path.name[len(PART_PREFIX):].split("-")
        host, pid = (fields[0], fields[1]) if len(fields) == 3 else (_HOST, fields[0])  # 0.1.0: .part-PID-SHA
        try:
            stale = now - path.stat().st_mtime > max_age
            if not stale and host == _HOST and pid.isdigit():
                stale = _process_gone(int(pid))
            if stale:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue  # renamed or removed by its owner meanwhile
    return removed


def name_suffix(name: str) -> str:
    """The suffix of a file name's last part (".xlsx"), as PurePath(name).suffix gave before Python 3.14:
    none for a leading dot only (".xlsx") or a trailing dot ("a."; Windows drops it, and 3.14's pathlib
    would answer "."). One rule for every name, without building a path (the usual case is a plain name)."""
    base = os.path.basename(name)
    i = base.rfind(".")
    return base[i:] if 0 < i < len(base) - 1 else ""


@functools.lru_cache(maxsize=64)
def _archive_extension(suffix: str) -> str:
    """The extension of an archived copy: the received file's suffix, lower case, letters, digits and dots
    only, at most 6 characters; ".bin" when nothing is left."""
    return "".join(c for c in suffix.lower() if c.isalnum() or c == ".")[:6] or ".bin"


class Store:
    """The archive of one workspace. A store that cannot be opened or written raises `Refusal` with a
    Vietnamese message (missing driver, read-only file, unreachable server), never a driver traceback."""

    def __init__(self, url: str, archive_dir: Path, *, check_schema: bool = True) -> None:
        self.url = url
        self.archive_dir = Path(archive_dir)
        self._dirs: dict[str, str] = {}   # sha[:2] -> its folder of the archive, made
        self._new_dirs: set[str] = set()   # folders first met by this store, not yet synced into the archive's
        self._pool: Any = None   # the archive's writing threads, started by the first batch
        # `archive_ahead`: target -> (temporary, future of its group, index in the group); the copies not
        # handed to the threads yet, (temporary, bytes, unless, target), go in groups of WRITE_GROUP files.
        self._ahead: dict[str, tuple[str, Any, int]] = {}
        self._group: list[tuple[str, bytes, str | None, str]] = []
        try:
            self.engine = make_engine(url)
            if check_schema:
                ensure_schema(self.engine, url)
        except (ImportError, ArgumentError, NoSuchModuleError, SQLAlchemyError, sqlite3.Error) as exc:
            raise store_refusal(url, exc) from exc

    def close(self) -> None:
        self.discard_ahead()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------
    def _archive(self, sha: str, data: bytes, name: str) -> str:
        """Keep the received bytes under archive/<sha[:2]>/<sha>.<ext>; content-addressed, so writing
        the same file twice is harmless and a crash leaves at worst an unreferenced copy."""
        return self._archive_paths([(sha, data, name)])[0]

    def _archive_target(self, sha: str, name: str) -> tuple[str, str]:
        """(path relative to the archive, absolute path) of a file's copy; its folder made once. String
        work only (asked twice per file: pathlib objects were a visible share of the import's process)."""
        ext = _archive_extension(name_suffix(name))
        folder = self._dirs.get(sha[:2])
        if folder is None:
            folder = os.path.join(os.fspath(self.archive_dir), sha[:2])
            os.makedirs(folder, exist_ok=True)
            # Synced into the archive's folder even when it exists: another process may have made it and not
            # synced the archive's folder yet (a folder met once per store: one sync more at most).
            self._new_dirs.add(folder)
            self._dirs[sha[:2]] = folder
        return f"{sha[:2]}/{sha}{ext}", f"{folder}{os.sep}{sha}{ext}"

    def _temporary(self, target: str, sha: str) -> str:
        # A private name (host, process id): renamed into place once on disk, else removed by
        # `clean_partial_files` on the next run. With the copy's extension: the same bytes sent as .xlsx
        # and .xlsm are two copies, written at the same time by two threads.
        folder, name = os.path.split(target)
        return f"{folder}{os.sep}{PART_PREFIX}{_HOST}-{os.getpid()}-{sha[:16]}{name[len(sha):]}"

    def _sync_folders(self, folders: set[str]) -> None:
        """Make the renames into `folders` durable before the rows naming the copies are committed: the
        copies' bytes are synced, but a new name lives in its folder, which a power cut could lose with it
        (the row would then name a copy that is not there, and the next run would remove the temporary one).
        The folders (and the archive's, for a folder first met by this store) are synced from the writing
        threads at once, so the file system commits them in a round or two (measured ~10 ms a batch of 128
        files). Not on Windows: Python cannot open a folder there to sync it, so the renames are not synced."""
        if not folders or os.name == "nt":
            return
        new = self._new_dirs & folders
        if new:   # a folder made for this batch: its own name lives in the archive's folder
            folders = folders | {os.fspath(self.archive_dir)}
            self._new_dirs -= new
        if len(folders) == 1:
            _sync_folder(next(iter(folders)))
            return
        for future in [self._threads().submit(_sync_folder, f) for f in folders]:
            future.result()

    def _threads(self) -> Any:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="cchc-archive")
        return self._pool

    def _submit_copies(self, copies: Sequence[tuple[str, bytes, str | None, str]]
                       ) -> list[tuple[str, str, Any, int]]:
        """Hand (temporary, bytes, unless, target) copies to the writing threads, WRITE_GROUP to a task
        (one thread's wake-up per group rather than per file); (temporary, target, future of its group,
        index in the group) of each copy, in order. `unless`: a path whose existence means the copy is
        archived already (the thread asks, see `archive_ahead`), or None when the caller has asked."""
        jobs: list[tuple[str, str, Any, int]] = []
        for start in range(0, len(copies), WRITE_GROUP):
            group = copies[start:start + WRITE_GROUP]
            future = self._threads().submit(_write_files_synced,
                                            [(tmp, data, unless) for tmp, data, unless, _target in group])
            jobs += [(tmp, target, future, i) for i, (tmp, _data, _unless, target) in enumerate(group)]
        return jobs

    def _submit_group(self) -> None:
        if self._group:
            group, self._group = self._group, []
            for tmp, target, future, i in self._submit_copies(group):
                self._ahead[target] = (tmp, future, i)

    def archive_ahead(self, sha: str, data: bytes, name: str) -> None:
        """Start writing and syncing the copy of a file that `record_many` will record next, in the store's
        writing threads, while the caller goes on (the import reads the next files meanwhile). Nothing is
        renamed into place here: `record_many` waits for the copy and renames it before the file's rows
        go in. Copies never recorded are removed by `discard_ahead`. The copies go to the threads
        WRITE_GROUP at a time (one task, one thread's wake-up per group rather than per file), the last
        group of a batch when `record_many` asks for it."""
        _rel, target = self._archive_target(sha, name)
        if target in self._ahead or any(t == target for _tmp, _data, _unless, t in self._group):
            return
        # Whether the copy exists already is asked in the thread as well: a stat in a folder where another
        # thread is creating a file waits for it (measured 0.2 ms a call).
        self._group.append((self._temporary(target, sha), data, target, target))
        if len(self._group) >= WRITE_GROUP:
            self._submit_group()

    def discard_ahead(self) -> None:
        """Remove the copies started by `archive_ahead` and not recorded (an import stopped half way)."""
        self._group = []   # never handed to a thread: nothing written
        pending, self._ahead = self._ahead, {}
        for tmp, future, _i in pending.values():
            future.exception()   # let it finish before removing the file
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _archive_paths(self, items: Sequence[tuple[str, bytes, str]]) -> list[str]:
        """Archive (sha, bytes, file name) items; their paths relative to the archive, in order. Each new
        copy is written under a temporary name and synced (several at once in the store's threads, or
        already under way from `archive_ahead`), and renamed into place only once every copy of the call
        is on disk. Plain strings rather than Path objects: the paths of 4,000 files were a visible share
        of the import's parent process."""
        out: list[str] = []
        # (temporary, target, future of its group or None when written here, index in the group)
        jobs: list[tuple[str, str, Any, int]] = []
        new: list[tuple[str, bytes, str | None, str]] = []     # (temporary, bytes, None, target) to write here
        seen: set[str] = set()
        renamed: set[str] = set()
        try:
            self._submit_group()   # the last copies started ahead
            for sha, data, name in items:
                rel, target = self._archive_target(sha, name)
                out.append(rel)
                if target in seen:
                    continue
                seen.add(target)
                ahead = self._ahead.pop(target, None)
                if ahead is not None:
                    jobs.append((ahead[0], target, ahead[1], ahead[2]))
                elif not os.path.exists(target):
                    new.append((self._temporary(target, sha), data, None, target))
            if len(new) == 1 and not jobs:   # one file: no thread for it
                tmp, data, _none, target = new[0]
                _write_file_synced(tmp, data)
                jobs.append((tmp, target, None, 0))
            else:
                jobs += self._submit_copies(new)
            failures = [exc for _tmp, _target, future, i in jobs
                        if future is not None and isinstance(exc := future.result()[i], BaseException)]
            if failures:   # every write has finished: none is left writing a file removed below
                raise failures[0]
            moved: set[str] = set()
            for tmp, target, future, i in jobs:
                if future is None or future.result()[i]:   # False: the copy was archived already
                    os.replace(tmp, target)
                    moved.add(os.path.dirname(target))
                renamed.add(tmp)
            self._sync_folders(moved)
        finally:
            for tmp, _target, future, _i in jobs:
                if tmp not in renamed:
                    if future is not None:
                        future.exception()
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
        return out

    def record(self, sub: Submission, data: bytes, *, received_at: datetime | None = None) -> ImportOutcome:
        """Store one checked submission and its bytes, atomically. Importing the same bytes again changes
        nothing; an accepted file for a unit and period becomes its current version."""
        archived = self._archive(sub.sha256, data, sub.file)
        for attempt in range(RECORD_ATTEMPTS):
            try:
                return self._record(sub, data, archived, received_at)
            except (IntegrityError, OperationalError, DBAPIError) as exc:
                # Another import got there first (the same file, the next version number) or the server
                # broke a deadlock: run the transaction again, it will see the other one's rows.
                if not _is_conflict(exc):
                    raise store_refusal(self.url, exc) from exc  # read-only file, server gone
                if attempt == RECORD_ATTEMPTS - 1:
                    raise Refusal(problem("store-busy", file=sub.file, detail=_first_line(exc))) from exc
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def _record(self, sub: Submission, data: bytes, archived: str, received_at: datetime | None,
                batch: _BatchState | None = None) -> ImportOutcome | dict[str, Any]:
        received_at = (received_at or _now()).replace(tzinfo=None, microsecond=0)
        if batch is not None:   # one file of `record_many`: decided against the batch's state
            return batch.add(sub, len(data), archived, received_at, batch.now)
        key = {"unit": sub.unit_code, "period": sub.period_code}
        with self.engine.begin() as conn:
            lock_period(conn, sub.period_code)
            existing = conn.execute(_EXISTING, {"sha": sub.sha256}).mappings().first()
            if existing is not None:
                return ImportOutcome(sub.file, existing["id"], existing["status"], True, existing["is_current"],
                                     existing["version"], existing["unit_code"], existing["period_code"],
                                     existing["errors"], existing["warnings"], json.loads(existing["problems_json"]))
            file_id = conn.execute(files.insert(), {
                "sha256": sub.sha256, "size": len(data), "first_name": sub.file, "archived_path": archived,
                "first_seen": _now()}).inserted_primary_key[0]
            decide_copy_check(conn, sub)
            problems = sub.report.to_list()
            status = "accepted" if sub.accepted else "rejected"
            version = 1
            if sub.unit_code and sub.period_code:
                version = 1 + (conn.execute(_VERSIONS, key).scalar() or 0)
            is_current = status == "accepted"
            if is_current:
                # An older version imported after a newer one (a late batch, a receipt log) stays history.
                is_current = not conn.execute(_LATER, {**key, "received": received_at}).scalar()
            if is_current:
                conn.execute(_DEMOTE, key)
            sid = conn.execute(submissions.insert(), {
                "file_id": file_id, "file_name": sub.file, "kind": sub.kind, "unit_code": sub.unit_code,
                "period_code": sub.period_code, "plan_id": sub.plan_id, "status": status, "is_current": is_current,
                "version": version, "received_at": received_at, "imported_at": _now(),
                "errors": len(sub.report.errors), "warnings": len(sub.report.warnings),
                "fingerprint": sub.content_fingerprint(),
                "info_json": json.dumps(sub.info, ensure_ascii=False, default=str),
                "problems_json": json.dumps(problems, ensure_ascii=False, default=str)}).inserted_primary_key[0]
            if status == "accepted":
                self._insert_values(conn, sid, sub)
        return ImportOutcome(sub.file, sid, status, False, is_current, version, sub.unit_code, sub.period_code,
                             len(sub.report.errors), len(sub.report.warnings), problems)

    @staticmethod
    def _insert_values(conn: Connection, sid: int | Sequence[int], sub: Submission | Sequence[Submission]) -> None:
        """The rows of accepted submissions besides their own; `sid` and `sub` are one submission or, for a
        batch, sequences of them (one executemany per table for the whole batch)."""
        pairs = zip(sid, sub, strict=True) if isinstance(sid, (list, tuple)) else [(sid, sub)]
        rows: dict[Table, list[tuple[Any, ...]]] = {values: [], cases: [], tasks: [], texts: []}
        for one_sid, one_sub in pairs:
            _add_child_rows(rows, one_sid, one_sub)  # type: ignore[arg-type]
        for table, part in rows.items():
            if part:
                _insert_rows(conn, table, part)

    # -- writing many ----------------------------------------------------------------------------
    BATCH_FILES = 128   # files per transaction in `record_many`

    def _archive_many(self, items: Sequence[tuple[Submission, bytes]]) -> list[str]:
        """`_archive` for a batch: every new copy written and synced (side by side, or started earlier by
        `archive_ahead`), then renamed into place; none before every copy of the batch is on disk."""
        return self._archive_paths([(sub.sha256, data, sub.file) for sub, data in items])

    def record_many(self, items: Sequence[tuple[Submission, bytes, datetime | None]]) -> list[ImportOutcome]:
        """`record` for a batch of files, in order, with the same outcomes: the archived copies are written
        and synced first (or waited for, when `archive_ahead` started them), then all rows go in one transaction (under the lock of each period), so a file's
        row is committed only once its bytes are on disk and each file is all-or-nothing. What `_record`
        asks the database per file (the same bytes before? versions, the current version, the copy check)
        is read once per batch inside the transaction and followed in memory as the batch is written; rows
        go in with executemany. A conflict runs the batch again; any other failure falls back to `record`
        file by file, so the files before a bad one are kept, as they were one transaction each."""
        if not items:
            return []
        archived = self._archive_many([(sub, data) for sub, data, _ in items])
        for attempt in range(RECORD_ATTEMPTS):
            try:
                return self._record_many(items, archived)
            except (IntegrityError, OperationalError, DBAPIError) as exc:
                if not _is_conflict(exc):
                    break
                if attempt == RECORD_ATTEMPTS - 1:
                    break
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        return [self.record(sub, data, received_at=when) for sub, data, when in items]

    def _record_many(self, items: Sequence[tuple[Submission, bytes, datetime | None]],
                     archived: Sequence[str]) -> list[ImportOutcome]:
        now = _now()
        periods = sorted({sub.period_code or "" for sub, _, _ in items})
        with self.engine.begin() as conn:
            for code in periods:
                lock_period(conn, code or None)
            batch = _BatchState(conn, items, periods, now)
            pending = [self._record(sub, data, path, when or now, batch)
                       for (sub, data, when), path in zip(items, archived, strict=True)]
            ids = batch.write(conn)
        # A submission written by this batch is known by its row number until the ids are back.
        return [o if isinstance(o, ImportOutcome) else
                ImportOutcome(submission_id=ids[o.pop("row")], **o) for o in pending]

    # -- reading ---------------------------------------------------------------------------------
    def submissions_frame(self, period_codes: Sequence[str] | None = None) -> pd.DataFrame:
        """Every submission (all versions) with its status, for status and completeness."""
        q = select(submissions.c.id, submissions.c.file_name, submissions.c.unit_code, submissions.c.period_code,
                   submissions.c.status, submissions.c.is_current, submissions.c.version,
                   submissions.c.received_at, submissions.c.imported_at, submissions.c.errors,
                   submissions.c.warnings, submissions.c.problems_json, submissions.c.info_json)
        if period_codes:
            q = q.where(submissions.c.period_code.in_(list(period_codes)))
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(q.order_by(submissions.c.id)).mappings().all(),
                                columns=[str(c.name) for c in q.selected_columns])   # plain str, as read_frame

    def has_accepted(self, period_codes: Sequence[str]) -> bool:
        """Whether any file of these months was accepted (one EXISTS query, not every submission row)."""
        q = select(exists().where(submissions.c.period_code.in_(list(period_codes)),
                                  submissions.c.status == "accepted"))
        with self.engine.connect() as conn:
            return bool(conn.execute(q).scalar())

    def _current(self, table: Table, period_codes: Iterable[str]) -> pd.DataFrame:
        """The current submissions' rows of a child table with their unit, period and file (one query for it:
        `archive.frames.current_frame`, which builds on this module's tables)."""
        from .frames import current_frame

        with self.engine.connect() as conn:
            return current_frame(conn, table, period_codes)

    def values_frame(self, period_codes: Iterable[str]) -> pd.DataFrame:
        """The long table of current reported values: unit, period, indicator, figures, source file and cell."""
        return self._current(values, period_codes)

    def cases_frame(self, period_codes: Iterable[str]) -> pd.DataFrame:
        return self._current(cases, period_codes)

    def tasks_frame(self, period_codes: Iterable[str]) -> pd.DataFrame:
        return self._current(tasks, period_codes)

    def texts_frame(self, period_codes: Iterable[str]) -> pd.DataFrame:
        return self._current(texts, period_codes)

    def history(self, unit_code: str, period_code: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(submissions).where(
                submissions.c.unit_code == unit_code, submissions.c.period_code == period_code)
                .order_by(submissions.c.version)).mappings().all()
        return [dict(r) for r in rows]

    def previous_values(self, unit_code: str, before_period: str, indicator_keys: Iterable[str],
                        limit: int = 12) -> pd.DataFrame:
        """A unit's own current values of earlier periods (for jump checks)."""
        q = (select(submissions.c.period_code, values.c.indicator, values.c.value)
             .join(submissions, submissions.c.id == values.c.submission_id)
             .where(submissions.c.is_current.is_(True), submissions.c.unit_code == unit_code,
                    submissions.c.period_code < before_period, values.c.indicator.in_(list(indicator_keys)))
             .order_by(submissions.c.period_code.desc()).limit(limit * 40))
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(q).mappings().all(), columns=["period_code", "indicator", "value"])

    def current_fingerprints(self, period_code: str) -> list[tuple[str, str]]:
        """(unit, fingerprint) of every current submission of a period: the copy check of a whole batch
        in one query."""
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(select(submissions.c.unit_code, submissions.c.fingerprint).where(
                submissions.c.period_code == period_code, submissions.c.is_current.is_(True),
                submissions.c.fingerprint.is_not(None)))]

    def latest_values(self, before_period: str, since_period: str,
                      units: Sequence[str] | None = None) -> dict[tuple[str, str], float]:
        """(unit, indicator) -> the unit's latest current value in [since_period, before_period), of every
        unit or of `units` only: the jump check of a whole batch in one query. The database picks each key's
        latest month (a year of history is ~11 rows a key: fetching them all to keep one cost ~1.3 s at 4,000
        units); a unit has one current submission a month, so (unit, indicator, month) is one row."""
        window = [submissions.c.is_current.is_(True), submissions.c.period_code < before_period,
                  submissions.c.period_code >= since_period, values.c.value.is_not(None)]
        if units is not None:
            window.append(submissions.c.unit_code.in_(bindparam("units", expanding=True)))
        joined = values.join(submissions, submissions.c.id == values.c.submission_id)
        latest = (select(submissions.c.unit_code.label("unit"), values.c.indicator.label("indicator"),
                         func.max(submissions.c.period_code).label("period"))
                  .select_from(joined).where(*window)
                  .group_by(submissions.c.unit_code, values.c.indicator).subquery())
        q = (select(submissions.c.unit_code, values.c.indicator, values.c.value).select_from(joined)
             .join(latest, and_(latest.c.unit == submissions.c.unit_code, latest.c.indicator == values.c.indicator,
                                latest.c.period == submissions.c.period_code))
             .where(*window))
        # One query: `units` are one batch's (at most BATCH_FILES), far below any driver's limit on parameters.
        with self.engine.connect() as conn:
            rows = conn.execute(q, {} if units is None else {"units": list(units)}).all()
        return {(unit, indicator): float(value) for unit, indicator, value in rows}

    def latest_reported(self, before_period: str, since_period: str) -> tuple[set[str], dict[tuple[str, str], float]]:
        """The units with a current submission in [since_period, before_period), and (unit, indicator) ->
        value of each one's latest such submission. A key not there may still have a value in an earlier
        month (the latest left it empty): `latest_values(..., units=...)` answers for those units. Measured at
        4,000 units and 11 months: 0.2 s, where `latest_values` of every unit took 0.7 s (it groups every
        value row of the year to find each key's month)."""
        window = (submissions.c.is_current.is_(True), submissions.c.period_code < before_period,
                  submissions.c.period_code >= since_period, submissions.c.unit_code.is_not(None))
        last = (select(submissions.c.unit_code.label("unit"), func.max(submissions.c.period_code).label("period"))
                .where(*window).group_by(submissions.c.unit_code).subquery())
        q = (select(submissions.c.unit_code, values.c.indicator, values.c.value)
             .select_from(last.join(submissions, and_(submissions.c.unit_code == last.c.unit,
                                                      submissions.c.period_code == last.c.period))
                          .join(values, values.c.submission_id == submissions.c.id))
             .where(*window, values.c.value.is_not(None)))
        with self.engine.connect() as conn:
            units = set(conn.execute(select(last.c.unit)).scalars().all())
            found = {(unit, indicator): float(value) for unit, indicator, value in conn.execute(q).all()}
        return units, found

    def file_bytes(self, archived_path: str) -> bytes:
        return (self.archive_dir / archived_path).read_bytes()


# Archive copies written and synced at once (`Store._archive_paths`, `Store.archive_ahead`). One after the
# other, each fsync waits for its own journal commit (ext4, measured 4 ms a file, 0.5 s for a batch of 128);
# issued together from threads (the I/O releases the GIL) the file system commits them in a few rounds.
# Creating a file also waits while the journal is busy (measured 1-2 ms an open under load): each copy is
# written whole (open, write, fsync, close) in a thread, so the importing thread never sits in the kernel.
SYNC_THREADS = 16
# Copies handed to a thread as one task: a task per file cost the importing process a future, a queue put and
# a thread's wake-up each (measured ~0.1 ms a file). A batch of 128 files is still 16 groups, one per thread.
WRITE_GROUP = 8


def _write_file_synced(path: str, data: bytes, unless: str | None = None) -> bool:
    """Write `data` to `path` and fsync it; nothing if the file `unless` exists (the copy is archived
    already). True if written."""
    if unless is not None and os.path.exists(unless):
        return False
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return True


def _sync_folder(folder: str) -> None:
    """fsync a folder, where the system allows it: some file systems refuse to open or sync one, and the
    folder is then left as it is (not called on Windows, where Python cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_files_synced(group: Sequence[tuple[str, bytes, str | None]]) -> list[bool | Exception]:
    """`_write_file_synced` for each (path, data, unless) of a group, one after the other; each file's
    result, or the exception its write raised (the others are written all the same: each copy is
    waited for, and removed if not renamed, by the caller)."""
    out: list[bool | Exception] = []
    for path, data, unless in group:
        try:
            out.append(_write_file_synced(path, data, unless))
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, who raises it
            out.append(exc)
    return out


class _BatchState:
    """What `_record` would read from the database, for a batch of files: read once inside the writing
    transaction (the periods locked), then kept in step with each file of the batch, in order."""

    def __init__(self, conn: Connection, items: Sequence[tuple[Submission, bytes, datetime | None]],
                 periods: Sequence[str], now: datetime) -> None:
        self.now = now
        shas = sorted({sub.sha256 for sub, _, _ in items})
        # sha -> the outcome fields of the submission holding those bytes (the store's or this batch's).
        self.known: dict[str, dict[str, Any]] = {}
        for i in range(0, len(shas), 500):
            for r in conn.execute(_EXISTING_MANY, {"shas": shas[i:i + 500]}).mappings():
                self.known[r["sha256"]] = {k: r[k] for k in _OUTCOME_COLUMNS} | {
                    "problems": json.loads(r["problems_json"])}
        self.versions: dict[tuple[str, str], int] = {}
        # (unit, period) -> [received_at, fingerprint, sha] of the current version
        self.current: dict[tuple[str, str], list[Any]] = {}
        # (period, fingerprint) -> units current with it, for the fingerprints of this batch only: the copy
        # check of a file looks up its own fingerprint, and a batch's files only add theirs.
        self.owners: dict[tuple[str, str], set[str]] = {}
        real = [p for p in periods if p]
        units = sorted({sub.unit_code for sub, _, _ in items if sub.unit_code})
        prints = sorted({fp for sub, _, _ in items if (fp := sub.content_fingerprint()) is not None})
        if real and units:
            for i in range(0, len(units), 500):
                chunk = {"periods": real, "units": units[i:i + 500]}
                for unit, period, top in conn.execute(_VERSIONS_MANY, chunk):
                    self.versions[(unit, period)] = top
                for unit, period, received, fp, sha in conn.execute(_CURRENT_MANY, chunk):
                    self.current[(unit, period)] = [received, fp, sha]
        if real and prints:
            for i in range(0, len(prints), 500):
                for unit, period, fp in conn.execute(_OWNERS_MANY, {"periods": real, "fingerprints": prints[i:i + 500]}):
                    self.owners.setdefault((period, fp), set()).add(unit)
        self.demote: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.subs: list[dict[str, Any]] = []
        self.children: list[tuple[Submission, dict[str, Any]]] = []

    def add(self, sub: Submission, size: int, archived: str, received_at: datetime,
            now: datetime) -> ImportOutcome | dict[str, Any]:
        """Decide one file as `_record` does; an ImportOutcome, or its fields with the batch row number
        in place of the submission id (known once the batch is written)."""
        known = self.known.get(sub.sha256)
        if known is not None:
            fields = {"file_name": sub.file, "status": known["status"], "duplicate": True,
                      "is_current": known["is_current"], "version": known["version"],
                      "unit_code": known["unit_code"], "period_code": known["period_code"],
                      "errors": known["errors"], "warnings": known["warnings"]}
            if "row" in known:   # the same bytes earlier in this batch: as the store would return them
                return {**fields, "row": known["row"], "problems": json.loads(self.subs[known["row"]]["problems_json"])}
            return ImportOutcome(submission_id=known["id"], problems=known["problems"], **fields)
        unit, period = sub.unit_code, sub.period_code
        fingerprint = sub.content_fingerprint()   # once per file
        # The copy check, as `decide_copy_check` makes it, against the period's current versions.
        code = "duplicate-of-other-unit"
        earlier = [p for p in sub.report.problems if p.code == code]
        sub.report.problems = [p for p in sub.report.problems if p.code != code]
        if fingerprint is not None and sub.accepted and unit and period:
            others = self.owners.get((period, fingerprint), set()) - {unit}
            if others:
                owner = min(others)
                same = [p for p in earlier if p.value == owner]
                sub.report.add(same[0] if same else problem(code, file=sub.file, value=owner))
        problems = sub.report.to_list()
        status = "accepted" if sub.accepted else "rejected"
        key = (unit, period) if unit and period else None
        version = 1
        if key is not None:
            version = 1 + self.versions.get(key, 0)
            self.versions[key] = version
        is_current = status == "accepted"
        before = self.current.get(key) if key is not None else None
        if is_current and before is not None and before[0] > received_at:
            is_current = False   # an older version imported after a newer one stays history
        if is_current and key is not None:
            if before is not None:
                self._demote(key, before)
            self.current[key] = [received_at, fingerprint, sub.sha256]
            if fingerprint is not None:
                self.owners.setdefault((period, fingerprint), set()).add(unit)
        n = len(self.subs)
        errors, warnings = len(sub.report.errors), len(sub.report.warnings)
        self.files.append({"sha256": sub.sha256, "size": size, "first_name": sub.file, "archived_path": archived,
                           "first_seen": now})
        self.subs.append({
            "file_id": None, "file_name": sub.file, "kind": sub.kind, "unit_code": unit, "period_code": period,
            "plan_id": sub.plan_id, "status": status, "is_current": is_current, "version": version,
            "received_at": received_at, "imported_at": now, "errors": errors, "warnings": warnings,
            "fingerprint": fingerprint, "info_json": json.dumps(sub.info, ensure_ascii=False, default=str),
            "problems_json": json.dumps(problems, ensure_ascii=False, default=str)})
        if status == "accepted":
            self.children.append((n, sub))
        self.known[sub.sha256] = {"status": status, "is_current": is_current, "version": version,
                                  "unit_code": unit, "period_code": period, "errors": errors,
                                  "warnings": warnings, "row": n}
        return {"file_name": sub.file, "row": n, "status": status, "duplicate": False, "is_current": is_current,
                "version": version, "unit_code": unit, "period_code": period, "errors": errors,
                "warnings": warnings, "problems": problems}

    def _demote(self, key: tuple[str, str], before: list[Any]) -> None:
        _received, fp, sha = before
        if fp is not None:
            self.owners.get((key[1], fp), set()).discard(key[0])
        known = self.known.get(sha)
        if known is not None:
            known["is_current"] = False   # a later copy of the same bytes in this batch says so
        if known is not None and "row" in known:
            self.subs[known["row"]]["is_current"] = False   # written by this batch: inserted demoted
        else:
            self.demote.append({"unit": key[0], "period": key[1]})

    def write(self, conn: Connection) -> list[int]:
        """Write the batch (demotions first, so the one-current index holds at every row); the new
        submission ids, in batch order."""
        if self.demote:
            conn.execute(_DEMOTE, self.demote)
        if not self.files:
            return []
        file_ids = conn.execute(files.insert().returning(files.c.id, sort_by_parameter_order=True),
                                self.files).scalars().all()
        for row, file_id in zip(self.subs, file_ids, strict=True):
            row["file_id"] = file_id
        ids = list(conn.execute(submissions.insert().returning(submissions.c.id, sort_by_parameter_order=True),
                                self.subs).scalars().all())
        if self.children:
            Store._insert_values(conn, [ids[n] for n, _ in self.children], [sub for _, sub in self.children])
        return ids


def _add_child_rows(rows: dict[Table, list[tuple[Any, ...]]], sid: int, sub: Submission) -> None:
    """The rows an accepted submission adds besides its own (values, case rows, tasks and texts), as
    tuples in their table's column order (`_insert_rows`)."""
    rows[values].extend((sid, iv.key, iv.numerator, iv.denominator, iv.value, iv.weight, iv.answer,
                         iv.done_date.isoformat() if iv.done_date else None, iv.note, iv.sheet, iv.cell)
                        for iv in sub.indicators.values())
    rows[cases].extend((sid, c.field, c.row, *[getattr(c, k) for k in CASE_KEYS]) for c in sub.cases)
    rows[tasks].extend((sid, t.key, t.status, t.done_date.isoformat() if t.done_date else None, t.document,
                        t.note) for t in sub.tasks.values())
    rows[texts].extend((sid, "difficulty", i, t) for i, t in enumerate(sub.difficulties))
    rows[texts].extend((sid, "proposal", i, t) for i, t in enumerate(sub.proposals))


# An INSERT of every column of a table, compiled once per dialect: (SQL text, bind processors by column,
# the driver's parameter order for a positional style, or the names for a named one).
_INSERTS: dict[tuple[str, str, str, str], tuple[str, list[tuple[int, Any]], list[int] | None, list[str] | None]] = {}


def _insert_rows(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """executemany of rows given as tuples in the table's column order. The statement is SQLAlchemy's own
    (`table.insert()` compiled for the connection's dialect, as `conn.execute(table.insert(), dicts)`
    compiles it) and each value goes through its column type's bind processor where the dialect has one,
    as SQLAlchemy applies them; only the per-row parameter dicts are skipped (measured: building and
    processing them was ~0.5 ms of the importing process per file, some 20 child rows each). The same
    path on SQLite (qmark, positional) and PostgreSQL (psycopg, named)."""
    dialect = conn.dialect
    key = (table.name, dialect.name, dialect.driver, dialect.paramstyle)
    plan = _INSERTS.get(key)
    if plan is None:
        names = [c.key for c in table.columns]
        compiled = table.insert().compile(dialect=dialect, column_keys=names)
        processors = [(i, proc) for i, c in enumerate(table.columns)
                      if (proc := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
        if compiled.positional:
            order = [names.index(name) for name in compiled.positiontup or ()]
            plan = (str(compiled), processors, None if order == list(range(len(names))) else order, None)
        else:
            plan = (str(compiled), processors, None, names)
        _INSERTS[key] = plan
    sql, processors, order, named = plan
    if processors or order is not None:
        # Column by column (the bind processors mapped over a column, the columns put in the driver's
        # order), then back to rows: no Python loop per row and value.
        columns: list[Any] = list(zip(*rows, strict=True))
        for i, proc in processors:
            columns[i] = map(proc, columns[i])
        if order is not None:
            columns = [columns[i] for i in order]
        rows = list(zip(*columns, strict=True))
    conn.exec_driver_sql(sql, [dict(zip(named, row, strict=True)) for row in rows] if named else rows)  # type: ignore[arg-type]
