"""LibreOffice edge: find `soffice` and convert documents headless (.docx/.xlsx -> .pdf, .xls/.ods -> .xlsx).

Each conversion runs in a private throw-away profile (so it never collides with a user's open
LibreOffice or with a parallel run), sends soffice's output to a file (soffice keeps its standard
streams open, reading a pipe to EOF can hang), kills the whole process tree on timeout and removes
the profile afterwards. Portable: POSIX uses a new session + killpg, Windows a new process group +
`taskkill /T /F`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["OfficeError", "available", "convert", "find_soffice"]

ENV_VAR = "CCHC_SOFFICE"

_CANDIDATES: tuple[Path, ...] = (
    Path(r"C:\Program Files\LibreOffice\program\soffice.exe"),
    Path(r"C:\Program Files (x86)\LibreOffice\program\soffice.exe"),
    Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"),
)

# LibreOffice export filter per target extension. No quotes around names with spaces: the
# arguments go to soffice as a list, without a shell, and quotes would reach it literally.
_FILTERS: dict[str, str] = {
    "pdf": "pdf",
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "ods": "ods:calc8",
    "xls": "xls:MS Excel 97",
    "docx": "docx:MS Word 2007 XML",
    "odt": "odt:writer8",
    "csv": "csv:Text - txt - csv (StarCalc):44,34,76,1",  # UTF-8, comma, double quote
}


class OfficeError(RuntimeError):
    """LibreOffice is missing, timed out or produced no output. The message is Vietnamese, for the user."""


def find_soffice() -> Path | None:
    """LibreOffice's soffice executable: $CCHC_SOFFICE, then PATH, then the usual install locations."""
    env = os.environ.get(ENV_VAR, "").strip().strip('"')
    if env:
        p = Path(env)
        if p.is_dir():  # allow pointing at the program folder
            for name in ("soffice.exe", "soffice"):
                if (p / name).is_file():
                    return p / name
        elif p.is_file():
            return p
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    for cand in _CANDIDATES:
        try:
            if cand.is_file():
                return cand
        except OSError:
            continue
    return None


def available() -> bool:
    """True when an soffice executable can be found."""
    return find_soffice() is not None


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill soffice and everything it started (soffice -> oosplash -> soffice.bin)."""
    if sys.platform == "win32":
        if proc.poll() is None:
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
    elif hasattr(os, "killpg"):
        # The process was started as a session leader, so its id is the group id; sweep the group
        # even after a normal exit in case a helper outlived it.
        try:
            os.killpg(proc.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        except (ProcessLookupError, PermissionError):
            pass
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _rmtree(path: Path) -> None:
    # soffice.bin may still hold files for a moment on Windows after being killed.
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.2)


def convert(src: Path, out_dir: Path, fmt: str = "pdf", *, timeout: float = 120) -> Path:
    """Convert `src` with headless LibreOffice into `out_dir` as `<stem>.<fmt>`; return that path.

    `fmt` is a target extension ("pdf", "xlsx", "ods", "xls", "docx", "odt", "csv"). Raises
    `OfficeError` when soffice is missing, times out or produces no file.
    """
    src = Path(src).resolve()
    out_dir = Path(out_dir).resolve()
    fmt = fmt.lower().lstrip(".")
    if not src.is_file():
        raise OfficeError(f"Không tìm thấy tệp cần chuyển đổi: {src}")
    soffice = find_soffice()
    if soffice is None:
        raise OfficeError(
            "Không tìm thấy LibreOffice (soffice). Hãy cài LibreOffice hoặc đặt biến môi trường "
            f"{ENV_VAR} trỏ tới soffice."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{src.stem}.{fmt}"
    if target.exists() and target.resolve() != src:
        target.unlink()
    if target.resolve() == src:
        raise OfficeError(f"Tệp đích trùng với tệp nguồn: {src}")

    profile = Path(tempfile.mkdtemp(prefix="cchc_lo_"))
    tmp = profile / "tmp"
    tmp.mkdir()
    log_path = profile / "soffice.log"
    env = dict(os.environ)
    for var in ("TMPDIR", "TMP", "TEMP"):
        env[var] = str(tmp)
    for var in ("PYTHONPATH", "PYTHONHOME"):
        env.pop(var, None)
    args = [
        str(soffice),
        f"-env:UserInstallation={(profile / 'user_install').as_uri()}",
        "--headless",
        "--invisible",
        "--norestore",
        "--nodefault",
        "--nolockcheck",
        "--nologo",
        "--convert-to",
        _FILTERS.get(fmt, fmt),
        "--outdir",
        str(out_dir),
        str(src),
    ]
    popen_kw: dict[str, object] = {}
    if sys.platform == "win32":
        popen_kw["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(
            subprocess, "CREATE_NO_WINDOW", 0
        )
    else:
        popen_kw["start_new_session"] = True
    log_text = ""
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(profile),
                **popen_kw,  # type: ignore[arg-type]
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_tree(proc)
                raise OfficeError(
                    f"LibreOffice chuyển đổi tệp {src.name} quá {timeout:g} giây và đã bị dừng."
                ) from None
            finally:
                # soffice may leave helpers (oosplash/soffice.bin) in its group: always sweep it.
                _kill_tree(proc)
        try:
            log_text = log_path.read_text("utf-8", errors="replace").strip()
        except OSError:
            log_text = ""
    finally:
        _rmtree(profile)
    if not target.is_file() or target.stat().st_size == 0:
        tail = log_text[-500:]
        raise OfficeError(
            f"LibreOffice không tạo được tệp {target.name} từ {src.name} (mã thoát {proc.returncode})."
            + (f" Chi tiết: {tail}" if tail else "")
        )
    return target
