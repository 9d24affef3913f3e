"""`cchc serve`: run the web page with uvicorn (pure Python, runs on Windows) on a port of our choosing."""

from __future__ import annotations

import ipaddress
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from ...archive.importing import store_for
from ...archive.workspace import Workspace
from ...core.problems import Refusal, problem
from .. import users
from .app import create_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (port 0: the system picks a free one, without a race)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise Refusal(problem("web-port-busy", file=host, value=port, detail=exc.strerror or str(exc)),
                      exit_code=1) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(ws: Workspace, *, host: str = "127.0.0.1", port: int = 0, open_browser: bool = True, pdf: bool | None = None,
          announce: Callable[[str], None] = print) -> None:
    """Start the page and block until Ctrl-C (or SIGTERM). Bound to a non-loopback address, refuse to start
    until accounts exist."""
    import uvicorn

    local = is_loopback(host)
    store = store_for(ws)
    if not local and not users.has_users(store.engine):
        store.close()
        raise Refusal(problem("web-needs-accounts", value=host))
    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    app = create_app(ws, local_only=local, store=store, pdf=pdf)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    announce(f"Trang báo cáo CCHC: {url}  (thư mục làm việc {Path(ws.root).resolve()})")
    announce("Nhấn Ctrl-C để dừng.")
    if open_browser:
        threading.Timer(0.8, lambda: webbrowser.open(url)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        store.close()
