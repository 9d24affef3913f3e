"""Store back ends for the tests: SQLite (a file in the workspace) and PostgreSQL (a throwaway cluster on
127.0.0.1, started once per session with initdb/pg_ctl as in docs/store.md; skipped only when no server
binaries exist). Registered in conftest.py."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cchc_excel.archive.workspace import Workspace, init_workspace, open_workspace

BACKENDS = ["sqlite", "postgresql"]
SIGNING_KEY = "khoa-ky-thu-nghiem-kho"   # fixed, so forms made once per module sign for every workspace
_numbers = itertools.count(1)


def _initdb() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[-3]))
    return found[-1] if found else shutil.which("initdb")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[dict[str, object]]:
    """A throwaway PostgreSQL: yields {"port": …, "admin": psycopg autocommit connection factory}."""
    initdb = _initdb()
    if initdb is None:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    psycopg = pytest.importorskip("psycopg")
    as_pg = ["runuser", "-u", "postgres", "--"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    tmp = tempfile.mkdtemp(prefix="pg", dir="/tmp")
    if as_pg:
        shutil.chown(tmp, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def pg(tool: str, *args: str, check: bool = True) -> None:
        cmd = [*as_pg, os.path.join(os.path.dirname(initdb), tool), "-D", f"{tmp}/data", *args]
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if check and done.returncode:
            log = Path(f"{tmp}/log").read_text() if os.path.exists(f"{tmp}/log") else ""
            raise RuntimeError(f"{tool} failed:\n{done.stdout}{done.stderr}{log}")

    try:
        pg("initdb", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        pg("pg_ctl", "-l", f"{tmp}/log", "-w", "start", "-o", f"-p {port} -k {tmp} -c listen_addresses="
           "127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")

        def admin() -> object:
            return psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True)

        with admin() as conn:  # type: ignore[attr-defined]
            conn.execute("CREATE ROLE app LOGIN PASSWORD 'app'")
        yield {"port": port, "admin": admin}
    finally:
        pg("pg_ctl", "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def new_pg_database(server: dict[str, object]) -> str:
    """A fresh empty database owned by 'app'; its SQLAlchemy URL."""
    name = f"t{os.getpid()}_{next(_numbers)}"
    with server["admin"]() as conn:  # type: ignore[operator]
        conn.execute(f"CREATE DATABASE {name} OWNER app")
    return f"postgresql+psycopg://app:app@127.0.0.1:{server['port']}/{name}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url_for(backend: str, request: pytest.FixtureRequest) -> object:
    """A function giving a fresh, empty store URL of the test's back end for a workspace folder."""
    server = request.getfixturevalue("pg_server") if backend == "postgresql" else None

    def make(root: Path) -> str:
        if server is None:
            return f"sqlite:///{(Path(root) / 'store.sqlite').resolve().as_posix()}"
        return new_pg_database(server)

    return make


def make_workspace(root: Path, store_url: str) -> Workspace:
    """A workspace on the Ninh Thuận plan with the fixed signing key and the given store."""
    from tests.conftest import NT_PLAN, NT_REGISTRY

    init_workspace(root, plan=NT_PLAN, registry=NT_REGISTRY)
    cfg = root / "cchc.yaml"
    lines = []
    for line in cfg.read_text(encoding="utf-8").splitlines():
        if line.startswith("secret:"):
            line = f"secret: {SIGNING_KEY}"
        elif line.startswith("store:"):
            line = f"store: {store_url}" if "://" in store_url and not store_url.startswith("sqlite") else line
        lines.append(line)
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws, report = open_workspace(root)
    assert ws is not None, report.flatten("code", "file", "cell")
    return ws


@pytest.fixture
def any_workspace(tmp_path: Path, store_url_for: object) -> Workspace:
    """A workspace whose store is on the test's back end (SQLite file or a fresh PostgreSQL database)."""
    root = tmp_path / "ws"
    return make_workspace(root, store_url_for(root))  # type: ignore[operator]


def query(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a SQL query on the workspace's store, as tuples (SQLite and PostgreSQL alike)."""
    engine = create_engine(ws.store_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()
