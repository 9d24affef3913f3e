"""Edge: the web page's accounts and its journal of actions (who did what, when).

Two tables (`web_users`, `web_audit`) of the workspace's store (archive/store.py, migration 0003), so a
backup holds them and `cchc db upgrade` creates them in an older store. Passwords are hashed with Argon2id (argon2-cffi); nothing here ever stores or logs a password.
Used by `cchc user add/list/remove` and by `cchc serve`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from ..archive.store import web_audit, web_users
from ..core.problems import Refusal, problem

ROLES = ("office", "viewer")
ROLE_LABELS = {"office": "Văn phòng (nhập tệp, lập báo cáo)", "viewer": "Chỉ xem"}
MIN_PASSWORD = 10
NAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,40}$")

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    created_at: datetime


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def list_users(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        rows = conn.execute(select(web_users).order_by(web_users.c.name)).mappings().all()
    return [Account(r["name"], r["role"], r["created_at"]) for r in rows]


def has_users(engine: Engine) -> bool:
    return bool(list_users(engine))


def check_new_user(name: str, role: str, password: str, confirm: str | None = None) -> None:
    if not NAME_RE.match(name or ""):
        raise Refusal(problem("user-bad-name", value=name), exit_code=2)
    if role not in ROLES:
        raise Refusal(problem("user-bad-role", value=role), exit_code=2)
    if len(password or "") < MIN_PASSWORD:
        raise Refusal(problem("password-weak", detail=MIN_PASSWORD), exit_code=2)
    if confirm is not None and confirm != password:
        raise Refusal(problem("password-mismatch"), exit_code=2)


def add_user(engine: Engine, name: str, role: str, password: str, *, by: str = "cchc user") -> Account:
    check_new_user(name, role, password)
    with engine.begin() as conn:
        if conn.execute(select(web_users.c.id).where(web_users.c.name == name)).first():
            raise Refusal(problem("user-exists", value=name))
        conn.execute(insert(web_users).values(name=name, role=role, password_hash=_hasher.hash(password),
                                              created_at=_now()))
    record(engine, by, "user-add", detail={"name": name, "role": role})
    return Account(name, role, _now())


def remove_user(engine: Engine, name: str, *, by: str = "cchc user") -> None:
    with engine.begin() as conn:
        gone = conn.execute(delete(web_users).where(web_users.c.name == name)).rowcount
    if not gone:
        raise Refusal(problem("user-unknown", value=name))
    record(engine, by, "user-remove", detail={"name": name})


def authenticate(engine: Engine, name: str, password: str) -> Account | None:
    """The account when the password is right, else None. A hash made with older parameters is renewed."""
    with engine.connect() as conn:
        row = conn.execute(select(web_users).where(web_users.c.name == name)).mappings().first()
    if row is None:
        try:   # same work whether or not the name exists: no timing hint of which names are real
            _hasher.verify(_DUMMY_HASH, password or "")
        except (VerificationError, InvalidHashError):
            pass
        return None
    try:
        _hasher.verify(row["password_hash"], password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        with engine.begin() as conn:
            conn.execute(update(web_users).where(web_users.c.id == row["id"])
                         .values(password_hash=_hasher.hash(password)))
    return Account(row["name"], row["role"], row["created_at"])


_DUMMY_HASH = _hasher.hash("cchc-excel-not-a-password")


def record(engine: Engine, user: str, action: str, *, unit_code: str | None = None, period_code: str | None = None,
           detail: Any = None) -> None:
    """One line of the journal: who did what, when (and to which unit and period)."""
    with engine.begin() as conn:
        conn.execute(insert(web_audit).values(at=_now(), user=user, action=action, unit_code=unit_code,
                                              period_code=period_code,
                                              detail=json.dumps(detail, ensure_ascii=False, default=str)
                                              if detail is not None else None))


def journal(engine: Engine, *, unit_code: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The latest lines of the journal, newest first (a unit's only, when given)."""
    q = select(web_audit).order_by(web_audit.c.id.desc()).limit(limit)
    if unit_code:
        q = q.where(web_audit.c.unit_code == unit_code)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        try:
            d["detail"] = json.loads(d["detail"]) if d["detail"] else None
        except ValueError:
            pass
        out.append(d)
    return out
