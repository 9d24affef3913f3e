#!/usr/bin/python3
"""Fill cells of a workbook the way a clerk types them, in headless LibreOffice; recalculate; read back; save.

Run with Debian's interpreter (the only one with pyuno), from a clean environment:

    /usr/bin/python3 tests/lo_fill.py JOB.json

JOB.json::

    {"src": "/path/in.xlsx", "dst": "/path/out.xlsx", "locale": "vi-VN",
     "cells": [{"sheet": "Chỉ tiêu", "cell": "E12", "text": "1.234"}, {"name": "CT_3_TU", "text": "12"}],
     "read": [{"name": "CT_3_TYLE"}, {"sheet": "Chỉ tiêu", "cell": "F12"}],
     "dst_filter": "Calc MS Excel 2007 XML",      # optional, chosen from dst's extension otherwise
     "convert_pdf": "/path/out.pdf",               # optional: export the filled document to PDF
     "protect_check": true,                        # optional: add locked / sheet_protected to "read"
     "timeout": 120}                               # optional: connection timeout in seconds

Prints ONE JSON object on stdout: {"ok": true, "filled": [...], "read": [...], "seconds": ..., ...}
or {"ok": false, "error": "..."} with exit code 1. soffice is always cleaned up (its own process
group, a private profile that is deleted, a watcher process that kills it if this script is killed).

Linux-only test helper; stdlib + uno.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

SOFFICE = os.environ.get("CCHC_SOFFICE") or shutil.which("soffice") or "/usr/bin/soffice"

FILTERS = {
    ".xlsx": "Calc MS Excel 2007 XML",
    ".xlsm": "Calc MS Excel 2007 VBA XML",
    ".ods": "calc8",
    ".xls": "MS Excel 97",
    ".pdf": "calc_pdf_Export",
}

CELL_TYPES = {"EMPTY": "empty", "VALUE": "value", "TEXT": "text", "FORMULA": "formula"}
# com.sun.star.sheet.FormulaResult constants
FORMULA_RESULT = {1: "value", 2: "string", 4: "error"}

XCU_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">\
<value>{locale}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse">\
<value>false</value></prop></item>
</oor:items>
"""

# Runs beside soffice: when this script dies (even by SIGKILL) it is re-parented, and the watcher
# kills soffice's process group and removes the private directory.
WATCHER = r"""
import os, shutil, signal, sys, time
parent, pgid, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
while True:
    time.sleep(0.5)
    if os.getppid() != parent:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        time.sleep(0.5)
        shutil.rmtree(tmp, ignore_errors=True)
        break
    try:
        os.killpg(pgid, 0)
    except OSError:
        break
"""


class Office:
    """One private soffice instance: start, connect, and always clean up."""

    def __init__(self, locale: str, timeout: float) -> None:
        self.locale = locale
        self.timeout = timeout
        self.tmp = Path(tempfile.mkdtemp(prefix="cchc_lofill_"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.watcher: subprocess.Popen[bytes] | None = None
        self.ctx: Any = None
        self.desktop: Any = None
        self.log_path = self.tmp / "soffice.log"

    def start(self) -> None:
        profile = self.tmp / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(
            XCU_TEMPLATE.format(locale=self.locale), encoding="utf-8"
        )
        soffice_tmp = self.tmp / "tmp"
        soffice_tmp.mkdir()
        pipe = f"cchc_lofill_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        self.pipe = pipe
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(TMPDIR=str(soffice_tmp), TMP=str(soffice_tmp), TEMP=str(soffice_tmp))
        args = [
            SOFFICE,
            "--headless",
            "--invisible",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--nologo",
            f"-env:UserInstallation={profile.as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                cwd=str(self.tmp),
            )
        pgid_file = os.environ.get("LO_FILL_PGID_FILE")
        if pgid_file:
            Path(pgid_file).write_text(str(self.proc.pid), encoding="ascii")
        self.watcher = subprocess.Popen(
            [sys.executable, "-c", WATCHER, str(os.getpid()), str(self.proc.pid), str(self.tmp)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def connect(self) -> None:
        import uno  # noqa: PLC0415 - only Debian's python has it
        from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.ctx = resolver.resolve(url)
                break
            except NoConnectException:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(
                        f"soffice exited with code {self.proc.returncode}: {self.log_tail()}"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no UNO connection to soffice within {self.timeout:g} s") from None
                time.sleep(0.1)
        self.desktop = self.ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", self.ctx
        )
        # pyuno installs its own SIGTERM handler on connecting: make SIGTERM clean up again.
        install_signal_handlers()

    def config(self, path: str, name: str) -> Any:
        import uno  # noqa: PLC0415

        provider = self.ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.configuration.ConfigurationProvider", self.ctx
        )
        arg = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
        arg.Name, arg.Value = "nodepath", path
        node = provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationAccess", (arg,))
        return node.getByName(name)

    def log_tail(self, n: int = 800) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")[-n:]
        except OSError:
            return ""

    def close(self) -> None:
        if self.desktop is not None:
            try:
                self.desktop.terminate()
            except Exception:  # noqa: BLE001 - the bridge is disposed as soffice quits
                pass
            self.desktop = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.watcher is not None:
            self.watcher.kill()
            self.watcher.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def install_signal_handlers() -> None:
    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def prop(name: str, value: Any) -> Any:
    import uno  # noqa: PLC0415

    p = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    p.Name, p.Value = name, value
    return p


def sheet_by_name(doc: Any, name: str) -> Any:
    sheets = doc.Sheets
    if not sheets.hasByName(name):
        raise KeyError(f"no sheet {name!r} (sheets: {list(sheets.ElementNames)})")
    return sheets.getByName(name)


def resolve(doc: Any, spec: dict[str, Any]) -> Any:
    """The cell a spec points at: {"name": N[, "sheet": S]} or {"sheet": S, "cell": "E12"}."""
    name = spec.get("name")
    sheet_name = spec.get("sheet")
    if name:
        candidates: list[Any] = []
        if sheet_name:  # a sheet-scoped name first
            ranges = getattr(sheet_by_name(doc, sheet_name), "NamedRanges", None)
            if ranges is not None and ranges.hasByName(name):
                candidates.append(ranges.getByName(name))
        if not candidates and doc.NamedRanges.hasByName(name):
            candidates.append(doc.NamedRanges.getByName(name))
        if not candidates:  # sheet-scoped on any sheet, if unique
            for sh in doc.Sheets:
                ranges = getattr(sh, "NamedRanges", None)
                if ranges is not None and ranges.hasByName(name):
                    candidates.append(ranges.getByName(name))
            if len(candidates) > 1:
                raise KeyError(f"name {name!r} is defined on several sheets; give 'sheet'")
        if not candidates:
            raise KeyError(f"no defined name {name!r}")
        referred = candidates[0].getReferredCells()
        if referred is None:
            raise KeyError(f"defined name {name!r} ({candidates[0].getContent()}) is not a cell reference")
        return referred.getCellByPosition(0, 0)
    if sheet_name and spec.get("cell"):
        return sheet_by_name(doc, sheet_name).getCellRangeByName(spec["cell"])
    raise KeyError(f"cell spec needs 'name' or 'sheet'+'cell': {spec}")


def where(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: spec[k] for k in ("name", "sheet", "cell") if k in spec}


def address(cell: Any, doc: Any) -> str:
    a = cell.getCellAddress()
    sheet = doc.Sheets.getByIndex(a.Sheet).Name
    col, n = "", a.Column + 1
    while n:
        n, r = divmod(n - 1, 26)
        col = chr(65 + r) + col
    return f"{sheet}!{col}{a.Row + 1}"


def describe(cell: Any) -> dict[str, Any]:
    ctype = CELL_TYPES.get(cell.getType().value, str(cell.getType().value))
    out: dict[str, Any] = {
        "string": cell.getString(),
        "value": cell.getValue(),
        "type": ctype,
        "formula": cell.getFormula(),
        "error": cell.getError(),
    }
    if ctype == "formula":
        out["result_type"] = FORMULA_RESULT.get(cell.getPropertyValue("FormulaResultType2"), None)
    return out


def run(job: dict[str, Any]) -> dict[str, Any]:
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    office = Office(job.get("locale", "vi-VN"), float(job.get("timeout", 120)))
    try:
        office.start()
        office.connect()
        timings["start_connect"] = time.monotonic() - t0
        locale_seen = office.config("/org.openoffice.Setup/L10N", "ooSetupSystemLocale")
        recalc_seen = office.config("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode")

        src = Path(job["src"]).resolve()
        work = office.tmp / "work"
        work.mkdir()
        copy = work / src.name  # a copy: a stale .~lock# beside the original cannot bite
        shutil.copyfile(src, copy)
        t = time.monotonic()
        doc = office.desktop.loadComponentFromURL(copy.as_uri(), "_blank", 0, (prop("Hidden", True),))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not load {src}")
        timings["load"] = time.monotonic() - t
        try:
            t = time.monotonic()
            filled = []
            for spec in job.get("cells", []):
                entry: dict[str, Any] = where(spec)
                try:
                    cell = resolve(doc, spec)
                    entry["address"] = address(cell, doc)
                    text = str(spec.get("text", ""))
                    sheet = doc.Sheets.getByIndex(cell.getCellAddress().Sheet)
                    protected = bool(sheet.isProtected()) and bool(cell.CellProtection.IsLocked)
                    before = cell.getFormula()
                    # Like typing: locale-aware parsing; LibreOffice 7.4 silently ignores it on a
                    # locked cell of a protected sheet (no exception), so check protection too.
                    cell.setPropertyValue("FormulaLocal", text)
                    if protected and cell.getFormula() == before:
                        entry["accepted"] = False
                        entry["error"] = "refused: cell is locked and its sheet is protected"
                    else:
                        entry["accepted"], entry["error"] = True, None
                    entry["result"] = describe(cell)
                except Exception as exc:  # noqa: BLE001 - per-cell refusal is a result, not a crash
                    entry["accepted"] = False
                    entry["error"] = f"{type(exc).__name__}: {getattr(exc, 'Message', '') or exc}"
                filled.append(entry)
            timings["fill"] = time.monotonic() - t

            t = time.monotonic()
            doc.calculateAll()
            timings["recalc"] = time.monotonic() - t

            read = []
            for spec in job.get("read", []):
                entry = where(spec)
                try:
                    cell = resolve(doc, spec)
                    entry["address"] = address(cell, doc)
                    entry.update(describe(cell))
                    if job.get("protect_check"):
                        a = cell.getCellAddress()
                        entry["locked"] = bool(cell.CellProtection.IsLocked)
                        entry["sheet_protected"] = bool(doc.Sheets.getByIndex(a.Sheet).isProtected())
                except Exception as exc:  # noqa: BLE001
                    entry["error"] = f"{type(exc).__name__}: {getattr(exc, 'Message', '') or exc}"
                read.append(entry)

            t = time.monotonic()
            if job.get("dst"):
                dst = Path(job["dst"]).resolve()
                dst.parent.mkdir(parents=True, exist_ok=True)
                flt = job.get("dst_filter") or FILTERS.get(dst.suffix.lower())
                if not flt:
                    raise ValueError(f"no filter for {dst.suffix}; give dst_filter")
                doc.storeToURL(dst.as_uri(), (prop("FilterName", flt), prop("Overwrite", True)))
            if job.get("convert_pdf"):
                pdf = Path(job["convert_pdf"]).resolve()
                pdf.parent.mkdir(parents=True, exist_ok=True)
                doc.storeToURL(pdf.as_uri(), (prop("FilterName", "calc_pdf_Export"), prop("Overwrite", True)))
            timings["store"] = time.monotonic() - t
        finally:
            try:
                doc.close(True)
            except Exception:  # noqa: BLE001
                pass
    finally:
        t = time.monotonic()
        office.close()
        timings["shutdown"] = time.monotonic() - t
    return {
        "ok": True,
        "filled": filled,
        "read": read,
        "locale": locale_seen,
        "ooxml_recalc_mode": recalc_seen,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "seconds": round(time.monotonic() - t0, 3),
    }


def main(argv: list[str]) -> int:
    install_signal_handlers()
    if len(argv) != 2:
        print(json.dumps({"ok": False, "error": "usage: lo_fill.py JOB.json"}))
        return 1
    try:
        job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        result = run(job)
    except BaseException as exc:  # noqa: BLE001 - always answer with JSON
        traceback.print_exc(file=sys.stderr)
        print(
            json.dumps(
                {"ok": False, "error": f"{type(exc).__name__}: {getattr(exc, 'Message', '') or exc}"},
                ensure_ascii=False,
            )
        )
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
