"""Edge: backups that restore, and the store's check-up.

`backup_workspace` writes one .zip: the workspace's own files (cchc.yaml, plan, registry), a logical export
of every table of the store (one JSON array per row, `store/<table>.jsonl`) and every archived file that
the exported rows name. The export is one consistent snapshot while imports go on: SQLite through its
online backup API (a page copy to a temporary file, read afterwards), PostgreSQL in one REPEATABLE READ
READ ONLY transaction. Archived files are content-addressed and written before the row that names them
commits, so every file the snapshot names is there. The same format restores into SQLite or PostgreSQL.

`restore_workspace` rebuilds a workspace in an empty folder (and an empty store): files, schema (the
backup's revision through Alembic, then upgraded to this code's), rows, archived files checked against
their hashes; then `check_store` runs on the result.

`check_store` verifies a store: the database's own integrity check (SQLite), every archived file present
with its hash, no submission without its file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Date, DateTime, MetaData, Table, func, select, text
from sqlalchemy.engine import Connection, Engine

from ..core.problems import Refusal, ValidationReport, problem, wording
from .store import (
    KNOWN_REVISIONS,
    SCHEMA_HEAD,
    Store,
    _tables,
    files,
    make_engine,
    metadata,
    schema_revision,
    shown_url,
    submissions,
)
from .workspace import CONFIG_NAME

FORMAT = 1
MANIFEST = "cchc-backup.json"
STORE_FILES = {"store.sqlite", "store.sqlite-wal", "store.sqlite-shm", "store.sqlite-journal"}
# Parents before children: the order rows are inserted on restore.
TABLE_ORDER = ["files", "submissions", "indicator_values", "case_rows", "task_status", "texts", "web_users",
               "web_audit"]
BATCH = 2000


@dataclass
class BackupOutcome:
    file: str
    store: str
    schema: str
    rows: dict[str, int]
    archived_files: int
    workspace_files: list[str]
    report: ValidationReport = field(default_factory=ValidationReport)


@dataclass
class CheckOutcome:
    store: str
    schema: str | None
    rows: dict[str, int]
    archived_files: int
    report: ValidationReport = field(default_factory=ValidationReport)


@dataclass
class RestoreOutcome:
    folder: str
    store: str
    schema: str
    rows: dict[str, int]
    archived_files: int
    check: CheckOutcome | None = None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _ordered(table: Table) -> Any:
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def _export(conn: Connection, zf: zipfile.ZipFile) -> tuple[dict[str, int], dict[str, list[str]], list[Any]]:
    """Write every table as JSON lines; return row counts, column names and the archived files' rows."""
    names = _tables(conn)
    reflected = MetaData()
    counts: dict[str, int] = {}
    columns: dict[str, list[str]] = {}
    archived: list[Any] = []
    for name in [t for t in TABLE_ORDER if t in names]:
        table = Table(name, reflected, autoload_with=conn)
        columns[name] = [c.name for c in table.columns]
        n = 0
        with zf.open(f"store/{name}.jsonl", "w") as out:
            for row in conn.execute(_ordered(table)):
                out.write((json.dumps([_jsonable(v) for v in row], ensure_ascii=False) + "\n").encode("utf-8"))
                n += 1
        counts[name] = n
    if "files" in names:
        archived = conn.execute(select(files.c.archived_path, files.c.sha256, files.c.first_name,
                                       files.c.first_seen).order_by(files.c.id)).all()
    return counts, columns, archived


def _sqlite_path(engine: Engine) -> str | None:
    return engine.url.database if engine.dialect.name == "sqlite" else None


def backup_workspace(root: Path, store_url: str, archive_dir: Path, out: Path) -> BackupOutcome:
    """Write the backup of a workspace to `out` (a .zip, written under a temporary name and renamed)."""
    root, archive_dir, out = Path(root), Path(archive_dir), Path(out)
    with Store(store_url, archive_dir) as store:   # refuses an unreachable store or an old/new schema
        engine = store.engine
        tmp = out.with_name(out.name + ".part")
        out.parent.mkdir(parents=True, exist_ok=True)
        report = ValidationReport()
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                source = _sqlite_path(engine)
                if source:
                    # Online backup: a consistent copy while imports write, then read at leisure.
                    with tempfile.TemporaryDirectory() as tdir:
                        snap = Path(tdir) / "snapshot.sqlite"
                        src = sqlite3.connect(source, timeout=60)
                        dst = sqlite3.connect(snap)
                        try:
                            src.backup(dst)
                        finally:
                            dst.close()
                            src.close()
                        snap_engine = make_engine(f"sqlite:///{snap.as_posix()}")
                        try:
                            with snap_engine.begin() as conn:
                                schema = schema_revision(conn) or SCHEMA_HEAD
                                counts, columns, archived = _export(conn, zf)
                        finally:
                            snap_engine.dispose()
                else:
                    with engine.connect() as conn:
                        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                        with conn.begin():
                            schema = schema_revision(conn) or SCHEMA_HEAD
                            counts, columns, archived = _export(conn, zf)
                hashes: dict[str, str] = {}
                for rel, sha, name, seen in archived:
                    path = archive_dir / rel
                    if not path.is_file():
                        report.add(problem("archived-file-missing", file=str(path), name=name,
                                           value=seen.strftime("%d/%m/%Y") if seen else ""))
                        continue
                    zf.write(path, f"archive/{rel}", compress_type=zipfile.ZIP_STORED)
                    hashes[rel] = sha
                kept = []
                for entry in sorted(root.iterdir()):
                    if entry.is_file() and entry.name not in STORE_FILES and not entry.name.startswith(".") \
                            and entry.resolve() != out.resolve() and entry.resolve() != tmp.resolve():
                        zf.write(entry, f"workspace/{entry.name}")
                        kept.append(entry.name)
                manifest = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "schema": schema, "source": shown_url(store_url), "backend": engine.dialect.name,
                            "rows": counts, "columns": columns, "archive": hashes, "workspace": kept}
                zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                tmp.unlink()
    return BackupOutcome(str(out), shown_url(store_url), schema, counts, len(hashes), kept, report)


def _invalid(path: Path, detail: str) -> Refusal:
    return Refusal(problem("backup-invalid", file=str(path), detail=detail))


def _safe_member(name: str, prefix: str) -> PurePosixPath | None:
    rel = PurePosixPath(name[len(prefix):])
    if not name.startswith(prefix) or rel.is_absolute() or ".." in rel.parts or not rel.parts:
        return None
    return rel


def _coerce(value: Any, column: Any) -> Any:
    if isinstance(value, str):
        if isinstance(column.type, DateTime):
            return datetime.fromisoformat(value)
        if isinstance(column.type, Date):
            return date.fromisoformat(value)
    return value


def _rows(zf: zipfile.ZipFile, name: str) -> Iterator[list[Any]]:
    with zf.open(f"store/{name}.jsonl") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def restore_workspace(backup: Path, target: Path, *, store_url: str | None = None) -> RestoreOutcome:
    """Rebuild a workspace from a backup into `target` (absent or empty) and a store (`store_url`, default:
    the `store` of the restored cchc.yaml), which must be empty."""
    from .schema import alembic_config
    from .workspace import _store_url

    backup, target = Path(backup), Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Refusal(problem("restore-target-not-empty", file=str(target)))
    try:
        zf = zipfile.ZipFile(backup)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _invalid(backup, "không đọc được tệp .zip") from exc
    with zf:
        try:
            manifest = json.loads(zf.read(MANIFEST))
        except (KeyError, ValueError) as exc:
            raise _invalid(backup, f"thiếu {MANIFEST}") from exc
        schema = str(manifest.get("schema"))
        if manifest.get("format") != FORMAT or schema not in KNOWN_REVISIONS:
            raise _invalid(backup, f"định dạng {manifest.get('format')}, lược đồ {schema} — bản sao lưu của "
                                   "phiên bản mới hơn; cài phiên bản cchc_excel mới nhất")
        target.mkdir(parents=True, exist_ok=True)
        archive_dir = target / "archive"
        for info in zf.infolist():
            if info.is_dir():
                continue
            ws_rel = _safe_member(info.filename, "workspace/")
            if ws_rel is not None and len(ws_rel.parts) == 1:
                (target / ws_rel.name).write_bytes(zf.read(info))
        hashes: dict[str, str] = manifest.get("archive", {})
        for rel, sha in hashes.items():
            safe = _safe_member(f"archive/{rel}", "archive/")
            if safe is None:
                raise _invalid(backup, f"đường dẫn không hợp lệ '{rel}'")
            data = zf.read(f"archive/{rel}")
            if hashlib.sha256(data).hexdigest() != sha:
                raise _invalid(backup, f"tệp lưu trữ {rel} bị hỏng (mã băm không khớp)")
            dest = archive_dir.joinpath(*safe.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        if store_url is None:
            cfg_path = target / CONFIG_NAME
            cfg: dict[str, Any] = {}
            if cfg_path.exists():
                import yaml

                cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
            store_url = _store_url(target, cfg.get("store") if isinstance(cfg, dict) else None)
        engine = make_engine(store_url)
        try:
            with engine.begin() as conn:
                if schema_revision(conn) is not None:
                    raise Refusal(problem("restore-target-not-empty", file=shown_url(store_url)))
                from alembic import command

                command.upgrade(alembic_config(conn), schema)   # the backup's schema, empty
                reflected = MetaData()
                counts: dict[str, int] = {}
                for name in TABLE_ORDER:
                    if name not in manifest.get("columns", {}):
                        continue
                    table = Table(name, reflected, autoload_with=conn)
                    cols = [table.c[c] for c in manifest["columns"][name]]
                    batch: list[dict[str, Any]] = []
                    n = 0
                    for row in _rows(zf, name):
                        batch.append({c.name: _coerce(v, c) for c, v in zip(cols, row, strict=True)})
                        if len(batch) >= BATCH:
                            conn.execute(table.insert(), batch)
                            n += len(batch)
                            batch = []
                    if batch:
                        conn.execute(table.insert(), batch)
                        n += len(batch)
                    counts[name] = n
                if conn.dialect.name == "postgresql":
                    for name in ("files", "submissions"):
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                          f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"))
                if schema != SCHEMA_HEAD:
                    command.upgrade(alembic_config(conn), "head")
        finally:
            engine.dispose()
    check = check_store(store_url, archive_dir)
    return RestoreOutcome(str(target), shown_url(store_url), SCHEMA_HEAD, counts, len(hashes), check)


def check_store(store_url: str, archive_dir: Path) -> CheckOutcome:
    """Verify a store and its archive; every finding is a problem (nothing is repaired)."""
    archive_dir = Path(archive_dir)
    report = ValidationReport()
    where = shown_url(store_url)
    with Store(store_url, archive_dir) as store, store.engine.connect() as conn:
        schema = schema_revision(conn)
        if conn.dialect.name == "sqlite":
            found = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if found != ["ok"]:
                report.add(problem("store-integrity", file=where, detail="; ".join(map(str, found[:5]))))
            broken = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
            if broken:
                report.add(problem("store-integrity", file=where,
                                   detail=wording("dangling-rows", count=len(broken), table=broken[0][0])))
        rows = {name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for name, t in metadata.tables.items()}
        orphans = conn.execute(select(submissions.c.id, submissions.c.file_name)
                               .outerjoin(files, files.c.id == submissions.c.file_id)
                               .where(files.c.id.is_(None))).all()
        for sid, name in orphans:
            report.add(problem("submission-without-file", file=where, name=name, value=sid))
        listed = conn.execute(select(files.c.archived_path, files.c.sha256, files.c.first_name,
                                     files.c.first_seen).order_by(files.c.id)).all()
        if conn.in_transaction():
            conn.rollback()   # hashing the files needs no lock on the store
    for rel, sha, name, seen in listed:
        path = archive_dir / rel
        if not path.is_file():
            report.add(problem("archived-file-missing", file=str(path), name=name,
                               value=seen.strftime("%d/%m/%Y") if seen else ""))
        elif _sha256_file(path) != sha:
            report.add(problem("archived-file-changed", file=str(path), name=name))
    return CheckOutcome(where, schema, rows, len(listed), report)
