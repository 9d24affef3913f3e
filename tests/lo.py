"""pytest-side LibreOffice helpers: fill a workbook like a clerk (via tests/lo_fill.py), render to PDF.

`lo_fill.py` needs pyuno, which only Debian's /usr/bin/python3 has; it is run in a clean environment
(no PYTHONPATH/PYTHONHOME/VIRTUAL_ENV, no venv on PATH) and answers with JSON on stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cchc_excel.documents import office

HERE = Path(__file__).resolve().parent
LO_FILL = HERE / "lo_fill.py"
UNO_PYTHON = Path(os.environ.get("CCHC_UNO_PYTHON", "/usr/bin/python3"))


def clean_env() -> dict[str, str]:
    """The environment for Debian's python: without the caller's virtualenv or interpreter settings."""
    env = dict(os.environ)
    venv = env.pop("VIRTUAL_ENV", None)
    for var in (
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONUSERBASE",
        "PYTHONEXECUTABLE",
        "__PYVENV_LAUNCHER__",
    ):
        env.pop(var, None)
    venv_bins = {str(Path(sys.prefix) / "bin")} if sys.prefix != sys.base_prefix else set()
    if venv:
        venv_bins.add(str(Path(venv) / "bin"))
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in venv_bins]
    env["PATH"] = os.pathsep.join(parts or ["/usr/bin", "/bin"])
    return env


def _have_uno() -> bool:
    if not UNO_PYTHON.is_file():
        return False
    try:
        r = subprocess.run(
            [str(UNO_PYTHON), "-c", "import uno"],
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


HAVE_LIBREOFFICE: bool = office.available() and _have_uno()
HAVE_POPPLER: bool = shutil.which("pdftotext") is not None and shutil.which("pdfinfo") is not None


_SKIP_NO_LO = pytest.mark.skipif(
    not HAVE_LIBREOFFICE,
    reason="needs LibreOffice: soffice and /usr/bin/python3 with uno (apt-get install "
    "libreoffice-calc-nogui libreoffice-writer-nogui python3-uno)",
)
# For a whole module: `pytestmark = LIBREOFFICE_MARKS`.
LIBREOFFICE_MARKS: list[pytest.MarkDecorator] = [pytest.mark.libreoffice, _SKIP_NO_LO]


def needs_libreoffice(obj: Any) -> Any:
    """Decorator: mark a test (function or class) `libreoffice` and skip it without LibreOffice."""
    return pytest.mark.libreoffice(_SKIP_NO_LO(obj))


needs_poppler = pytest.mark.skipif(not HAVE_POPPLER, reason="needs poppler-utils (pdftotext, pdfinfo)")


def _kill_group(pgid: int) -> None:
    if pgid > 1 and hasattr(os, "killpg"):  # never killpg(0/1): that would hit our own group / everything
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass


def fill_in_libreoffice(
    src: Path,
    dst: Path,
    cells: list[dict[str, Any]],
    read: Sequence[dict[str, Any]] = (),
    locale: str = "vi-VN",
    timeout: float = 120,
    pdf: Path | None = None,
    *,
    protect_check: bool = False,
    dst_filter: str | None = None,
) -> dict[str, Any]:
    """Type `cells` into `src` in headless LibreOffice, recalculate, read `read`, save as `dst`.

    Returns lo_fill.py's JSON ({"ok", "filled", "read", "timings", "seconds", ...}); raises
    AssertionError (with soffice's/helper's stderr tail) when the helper fails or times out.
    """
    job: dict[str, Any] = {
        "src": str(Path(src).resolve()),
        "dst": str(Path(dst).resolve()),
        "locale": locale,
        "cells": list(cells),
        "read": list(read),
        "protect_check": protect_check,
        "timeout": timeout,
    }
    if pdf is not None:
        job["convert_pdf"] = str(Path(pdf).resolve())
    if dst_filter:
        job["dst_filter"] = dst_filter
    with tempfile.TemporaryDirectory(prefix="cchc_lojob_") as tmp:
        job_path = Path(tmp) / "job.json"
        job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        pgid_file = Path(tmp) / "soffice.pgid"
        env = clean_env()
        env["LO_FILL_PGID_FILE"] = str(pgid_file)
        proc = subprocess.Popen(
            [str(UNO_PYTHON), str(LO_FILL), str(job_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.kill()
            out, err = proc.communicate()
            pgid = pgid_file.read_text().strip() if pgid_file.is_file() else ""
            if pgid.isdigit():  # soffice runs in its own group: kill it too
                _kill_group(int(pgid))
            raise AssertionError(
                f"lo_fill.py timed out after {timeout + 30:g} s; stderr tail:\n"
                + err.decode("utf-8", "replace")[-2000:]
            ) from None
    stderr_tail = err.decode("utf-8", "replace")[-2000:]
    try:
        result = json.loads(out.decode("utf-8"))
    except ValueError:
        raise AssertionError(
            f"lo_fill.py exit {proc.returncode}, no JSON on stdout: {out[-500:]!r}\nstderr tail:\n{stderr_tail}"
        ) from None
    if not result.get("ok"):
        raise AssertionError(f"lo_fill.py failed: {result.get('error')}\nstderr tail:\n{stderr_tail}")
    return result


def to_pdf(src: Path, out_dir: Path) -> Path:
    """Render `src` (.xlsx, .docx, ...) to PDF with headless LibreOffice."""
    return office.convert(Path(src), Path(out_dir), "pdf")


def pdf_text(pdf: Path) -> str:
    """The PDF's text in layout order (`pdftotext -layout`)."""
    r = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, timeout=60
    )
    return r.stdout.decode("utf-8", "replace")


def pdf_pages(pdf: Path) -> int:
    """Number of pages (`pdfinfo`)."""
    r = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, timeout=60)
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("Pages:"):
            return int(line.split(":", 1)[1])
    raise AssertionError(f"pdfinfo gave no page count for {pdf}")
