"""Edge: the store's schema under Alembic. `upgrade_store` brings a store of any earlier release (0.1.0
included, made before migrations) to the schema of this code, in one transaction under the schema lock.

Opening a store (`Store`) never migrates: it refuses an older or newer schema (`store.ensure_schema`), so
that an upgrade is a deliberate step, taken after a backup.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from ..core.problems import Refusal, problem
from .store import (
    KNOWN_REVISIONS,
    SCHEMA_BASELINE,
    SCHEMA_HEAD,
    VERSION_TABLE,
    _tables,
    lock_schema,
    make_engine,
    schema_revision,
    shown_url,
    stamp,
    store_refusal,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class UpgradeOutcome:
    store: str               # the store as shown to the user (no password)
    before: str | None       # None: the database was empty
    after: str
    changed: bool


def alembic_config(connection: object | None = None, url: str | None = None) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_store(url: str) -> UpgradeOutcome:
    """Run the migrations from the store's revision to SCHEMA_HEAD. An empty database gets the whole
    schema; a store of a newer release is refused."""
    try:
        from alembic import command
    except ImportError as exc:
        raise store_refusal(url, exc) from exc
    try:
        engine = make_engine(url)
    except (ImportError, ArgumentError, NoSuchModuleError, SQLAlchemyError, sqlite3.Error) as exc:
        raise store_refusal(url, exc) from exc
    try:
        with engine.begin() as conn:
            lock_schema(conn)
            before = schema_revision(conn)
            if before is not None and before not in KNOWN_REVISIONS:
                raise Refusal(problem("store-schema-new", file=shown_url(url), value=before, detail=SCHEMA_HEAD))
            if before == SCHEMA_BASELINE and VERSION_TABLE not in _tables(conn):
                stamp(conn, SCHEMA_BASELINE)    # a 0.1.0 store: its tables are revision 0001
            if before != SCHEMA_HEAD:
                command.upgrade(alembic_config(conn), "head")
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise store_refusal(url, exc) from exc
    finally:
        engine.dispose()
    return UpgradeOutcome(shown_url(url), before, SCHEMA_HEAD, before != SCHEMA_HEAD)
