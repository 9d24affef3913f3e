"""Edge: the archive. Every file received (byte for byte, by content hash), who/when/which unit and period,
the parsed values and the validation result.

SQLAlchemy Core over SQLite by default (a file in the workspace, nothing to start); the URL is
configurable, so a PostgreSQL server works the same way. Each file is imported in one transaction: a
crash half way leaves the store as it was. SQLite transactions start with BEGIN IMMEDIATE so two imports
at once serialise instead of interleaving.
"""

from __future__ import annotations

import json
import os
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
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from ..core.problems import Refusal, problem
from ..workbook.readback import CASE_KEYS, Submission

metadata = MetaData()

files = Table(
    "files", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("first_name", Text, nullable=False),
    Column("archived_path", Text, nullable=False),
    Column("first_seen", DateTime, nullable=False),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_id", Integer, ForeignKey("files.id"), nullable=False, unique=True),
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


# Statements built once (bound parameters): building them per file was a visible share of the import.
_EXISTING = (select(submissions).join(files, files.c.id == submissions.c.file_id)
             .where(files.c.sha256 == bindparam("sha")))
_SAME_UNIT_PERIOD = (submissions.c.unit_code == bindparam("unit"), submissions.c.period_code == bindparam("period"))
_VERSIONS = select(func.count()).select_from(submissions).where(*_SAME_UNIT_PERIOD)
_LATER = select(func.count()).select_from(submissions).where(
    *_SAME_UNIT_PERIOD, submissions.c.is_current.is_(True), submissions.c.received_at > bindparam("received"))
_DEMOTE = update(submissions).where(*_SAME_UNIT_PERIOD, submissions.c.is_current.is_(True)).values(is_current=False)


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
                               detail=f"không hỗ trợ loại cơ sở dữ liệu '{url.split(':', 1)[0]}'"))
    if _is_read_only(exc):
        return Refusal(problem("store-read-only", file=where))
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return Refusal(problem("store-unreachable", file=where, detail=detail))


class Store:
    """The archive of one workspace. A store that cannot be opened or written raises `Refusal` with a
    Vietnamese message (missing driver, read-only file, unreachable server), never a driver traceback."""

    def __init__(self, url: str, archive_dir: Path) -> None:
        self.url = url
        self.archive_dir = Path(archive_dir)
        self._dirs: set[Path] = set()
        try:
            self.engine = make_engine(url)
            metadata.create_all(self.engine)
        except (ImportError, ArgumentError, NoSuchModuleError, SQLAlchemyError, sqlite3.Error) as exc:
            raise store_refusal(url, exc) from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------
    def _archive(self, sha: str, data: bytes, name: str) -> str:
        """Keep the received bytes under archive/<sha[:2]>/<sha>.<ext>; content-addressed, so writing
        the same file twice is harmless and a crash leaves at worst an unreferenced copy."""
        ext = "".join(c for c in Path(name).suffix.lower() if c.isalnum() or c == ".")[:6] or ".bin"
        rel = Path(sha[:2]) / f"{sha}{ext}"
        target = self.archive_dir / rel
        if not target.exists():
            if target.parent not in self._dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._dirs.add(target.parent)
            # A private temporary name (process id), renamed into place only once the bytes are on disk.
            tmp = target.with_name(f".part-{os.getpid()}-{sha[:16]}")
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        return rel.as_posix()

    def record(self, sub: Submission, data: bytes, *, received_at: datetime | None = None) -> ImportOutcome:
        """Store one checked submission and its bytes, atomically. Importing the same bytes again changes
        nothing; an accepted file for a unit and period becomes its current version."""
        archived = self._archive(sub.sha256, data, sub.file)
        try:
            return self._record(sub, data, archived, received_at)
        except OperationalError as exc:  # read-only file, server gone, lock held past the timeout
            raise store_refusal(self.url, exc) from exc

    def _record(self, sub: Submission, data: bytes, archived: str, received_at: datetime | None) -> ImportOutcome:
        received_at = (received_at or _now()).replace(tzinfo=None, microsecond=0)
        problems = sub.report.to_list()
        key = {"unit": sub.unit_code, "period": sub.period_code}
        with self.engine.begin() as conn:
            existing = conn.execute(_EXISTING, {"sha": sub.sha256}).mappings().first()
            if existing is not None:
                return ImportOutcome(sub.file, existing["id"], existing["status"], True, existing["is_current"],
                                     existing["version"], existing["unit_code"], existing["period_code"],
                                     existing["errors"], existing["warnings"], json.loads(existing["problems_json"]))
            file_id = conn.execute(files.insert(), {
                "sha256": sub.sha256, "size": len(data), "first_name": sub.file, "archived_path": archived,
                "first_seen": _now()}).inserted_primary_key[0]
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
    def _insert_values(conn: Connection, sid: int, sub: Submission) -> None:
        rows = [{"submission_id": sid, "indicator": iv.key, "numerator": iv.numerator,
                 "denominator": iv.denominator, "value": iv.value, "weight": iv.weight, "answer": iv.answer,
                 "done_date": iv.done_date.isoformat() if iv.done_date else None, "note": iv.note,
                 "sheet": iv.sheet, "cell": iv.cell} for iv in sub.indicators.values()]
        if rows:
            conn.execute(values.insert(), rows)
        crow = [{"submission_id": sid, "field": c.field, "row": c.row, **{k: getattr(c, k) for k in CASE_KEYS}}
                for c in sub.cases]
        if crow:
            conn.execute(cases.insert(), crow)
        trow = [{"submission_id": sid, "task": t.key, "status": t.status,
                 "done_date": t.done_date.isoformat() if t.done_date else None, "document": t.document,
                 "note": t.note} for t in sub.tasks.values()]
        if trow:
            conn.execute(tasks.insert(), trow)
        xrow = [{"submission_id": sid, "kind": "difficulty", "position": i, "text": t}
                for i, t in enumerate(sub.difficulties)]
        xrow += [{"submission_id": sid, "kind": "proposal", "position": i, "text": t}
                 for i, t in enumerate(sub.proposals)]
        if xrow:
            conn.execute(texts.insert(), xrow)

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
                                columns=[c.name for c in q.selected_columns])

    def _current(self, table: Table, period_codes: Iterable[str]) -> pd.DataFrame:
        q = (select(submissions.c.unit_code, submissions.c.period_code, submissions.c.file_name, table)
             .join(submissions, submissions.c.id == table.c.submission_id)
             .where(submissions.c.is_current.is_(True), submissions.c.period_code.in_(list(period_codes))))
        with self.engine.connect() as conn:
            return pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])

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

    def latest_values(self, before_period: str, since_period: str) -> dict[tuple[str, str], float]:
        """(unit, indicator) -> the unit's latest current value in [since_period, before_period): the jump
        check of a whole batch in one query. Streamed; only the latest value per key is kept."""
        q = (select(submissions.c.unit_code, values.c.indicator, values.c.value)
             .join(submissions, submissions.c.id == values.c.submission_id)
             .where(submissions.c.is_current.is_(True), submissions.c.period_code < before_period,
                    submissions.c.period_code >= since_period, values.c.value.is_not(None))
             .order_by(submissions.c.period_code.desc()))
        out: dict[tuple[str, str], float] = {}
        with self.engine.connect() as conn:
            for unit, indicator, value in conn.execute(q):
                out.setdefault((unit, indicator), float(value))
        return out

    def file_bytes(self, archived_path: str) -> bytes:
        return (self.archive_dir / archived_path).read_bytes()
