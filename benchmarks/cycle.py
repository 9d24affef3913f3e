"""The monthly cycle at national scale: generate, (fill), import, aggregate, report. Not part of the tests.

    python benchmarks/cycle.py --units 4000 [--months 12 [--flat]] [--repeat 3] [--workers 2] [--profile import]
    python benchmarks/cycle.py --units 200 --repeat 0   # the command start-up figures alone
    python benchmarks/cycle.py --scale            # N = 200, 1,000, 4,000: growth table

Each stage runs in a fresh process (start-up, imports and the workspace opened each time, as a command
would); the cycle is repeated (`--repeat`, default 3) and medians are printed, each figure with the load
average of the machine at the time. The openpyxl baseline is read on a sample of the same files just before and
just after the import (half each).

Synthetic two-tier registry of N units ("Sở …" and "Xã/Phường …" from syllable lists, ~12% of communes
flagged mien_nui_dtts; VPUBND and STTTT present so their extra indicators appear) on the Ninh Thuận 2025
plan re-tiered in memory to two tiers (tinh, xa). The clerks' fill is timed apart and not counted in the
cycle. With --months M, the M-1 earlier months are synthesised by inserting rows into the store's tables
in one transaction (no files generated); the current month is imported for real, on top of that history.
The last line printed is one JSON object. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import os
import platform
import pstats
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import openpyxl
import yaml

from cchc_excel.app.reporting import aggregate_period, write_reports
from cchc_excel.archive import store as S
from cchc_excel.archive.datafiles import load_plan
from cchc_excel.archive.importing import import_files
from cchc_excel.archive.workspace import DEFAULT_OFFICE, DEFAULT_REPORT, Workspace
from cchc_excel.core import layout as L
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry, parse_registry
from cchc_excel.workbook import fastgen, intake
from cchc_excel.workbook.readback import ReadContext, read_workbook

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "templates" / "plans" / "ninh-thuan-2025.yaml"
SECRET = "khoa-ky-benchmark"
PERIOD = Period.parse("2025-12")
GENERATED = datetime(2025, 12, 1, 8, 0, tzinfo=timezone.utc)
RECEIVED = datetime(2025, 12, 12, 9, 0)   # before the due date: no late-submission warnings

# ------------------------------------------------------------------------------------------------
# Synthetic registry and plan

DEPARTMENTS = ["Nội vụ", "Tư pháp", "Tài chính", "Công Thương", "Xây dựng", "Giao thông vận tải", "Y tế",
               "Giáo dục và Đào tạo", "Tài nguyên và Môi trường", "Nông nghiệp và Phát triển nông thôn",
               "Lao động - Thương binh và Xã hội", "Văn hóa, Thể thao và Du lịch", "Khoa học và Công nghệ",
               "Kế hoạch và Đầu tư", "Dân tộc và Tôn giáo", "Ngoại vụ"]
FIRST = ["Phước", "Tân", "An", "Bình", "Hòa", "Long", "Thạnh", "Mỹ", "Vĩnh", "Xuân", "Đông", "Tây", "Nam",
         "Bắc", "Quảng", "Hưng", "Thuận", "Lợi", "Phú", "Hiệp", "Trung", "Hải", "Sơn", "Lâm", "Cát", "Kim",
         "Thành", "Nhơn", "Hữu", "Đức"]
SECOND = ["Hòa", "Thắng", "Lộc", "Thịnh", "Hải", "Sơn", "Trung", "Hưng", "Phú", "Thuận", "An", "Bình",
          "Long", "Tiến", "Hà", "Minh", "Thành", "Mỹ", "Nghĩa", "Lợi", "Khánh", "Quang", "Điền", "Tân"]


def synthetic_registry(n: int, seed: int = 2025) -> Registry:
    reg, report = parse_registry(synthetic_registry_data(n, seed), source="synthetic")
    assert reg is not None, report.flatten("code", "cell")
    return reg


def synthetic_registry_data(n: int, seed: int = 2025) -> dict[str, Any]:
    """The registry as its YAML file would hold it."""
    rng = random.Random(seed)
    n_dept = max(2, min(60, n // 25))
    units: list[dict[str, Any]] = [{"code": "VPUBND", "name": "Văn phòng Ủy ban nhân dân tỉnh", "tier": "tinh"},
                                   {"code": "STTTT", "name": "Sở Thông tin và Truyền thông", "tier": "tinh"}]
    for i in range(n_dept - 2):
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        suffix = "" if i < len(DEPARTMENTS) else f" (cơ sở {i // len(DEPARTMENTS) + 1})"
        units.append({"code": f"S{i + 1:02d}", "name": f"Sở {dept}{suffix}", "tier": "tinh"})
    seen: set[str] = set()
    for i in range(n - n_dept):
        kind = "Phường" if rng.random() < 0.15 else "Xã"
        for attempt in range(50):
            name = f"{kind} {rng.choice(FIRST)} {rng.choice(SECOND)}"
            if attempt > 20:
                name += f" {rng.randint(2, 99)}"
            if name not in seen:
                break
        seen.add(name)
        flags = "mien_nui_dtts" if kind == "Xã" and rng.random() < 0.12 else ""
        units.append({"code": f"{20000 + i * 3}", "name": name, "tier": "xa", "flags": flags})
    data = {"id": f"tong-hop-{n}", "province": "Tỉnh thử nghiệm",
            "tiers": [{"code": "tinh", "name": "Cấp tỉnh", "group_label": "Sở, ban, ngành"},
                      {"code": "xa", "name": "Cấp xã", "group_label": "Xã, phường, đặc khu"}],
            "units": units}
    return data


def two_tier_plan() -> Plan:
    """The Ninh Thuận 2025 plan without its district tier."""
    plan, report = load_plan(PLAN)
    assert plan is not None, report.flatten("code", "cell")

    def keep(sel: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(s for s in sel if s != "huyen")

    inds = tuple(dataclasses.replace(i, applies_to=keep(i.applies_to),
                                     targets=tuple(t for t in i.targets if t.tier != "huyen"))
                 for i in plan.indicators)
    tasks = tuple(dataclasses.replace(t, assigned_to=keep(t.assigned_to), coordinating=keep(t.coordinating))
                  for t in plan.tasks)
    adjustments = tuple(dataclasses.replace(a, tiers=keep(a.tiers)) for a in plan.adjustments)
    return dataclasses.replace(plan, tiers=("tinh", "xa"), indicators=inds, tasks=tasks, adjustments=adjustments)


def workspace(root: Path, plan: Plan, registry: Registry) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    # CCHC_BENCH_STORE=postgresql+psycopg://… measures the same cycle on an (empty) PostgreSQL database.
    url = os.environ.get("CCHC_BENCH_STORE") or f"sqlite:///{(root / 'store.sqlite').as_posix()}"
    return Workspace(root=root, plan=plan, registry=registry, store_url=url, secret=SECRET,
                     office=dict(DEFAULT_OFFICE), report={**DEFAULT_REPORT, "place": "Thử nghiệm"})


# ------------------------------------------------------------------------------------------------
# The clerks' values (seeded) and the fill by patching the sheet XML

def unit_values(lay: L.Layout, rng: random.Random, fields: tuple[str, ...],
                pending_at_end: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    """Consistent values for one form: indicator 3's denominator is the received total, 4's and 10's the
    resolved total (the plan's denominator_equals), every numerator ≤ its denominator. `pending_at_end`
    ((field, cases), the next month's carried-over column): the case rows are those fields, each ending the
    month with that many pending, as an office's own previous report does."""
    cols: dict[str, list[Any]] = {k: [] for k in ("GQ_LINH_VUC", "GQ_TRUC_TUYEN", "GQ_TRUC_TIEP", "GQ_KY_TRUOC",
                                                  "GQ_TRUOC_HAN", "GQ_DUNG_HAN", "GQ_QUA_HAN",
                                                  "GQ_DANG_TRONG_HAN", "GQ_DANG_QUA_HAN")}
    totals = {"received": 0, "resolved": 0, "pending": 0}
    rows = pending_at_end if pending_at_end is not None else [(f, None) for f in rng.sample(fields, rng.randint(1, 4))]
    for field, left in rows:
        online, direct, carried = rng.randint(left or 0, 400 + (left or 0)), rng.randint(0, 150), rng.randint(0, 30)
        received = online + direct + carried
        resolved = rng.randint(received * 6 // 10, received) if left is None else received - left
        late = rng.randint(0, resolved // 20)
        before = rng.randint(0, resolved - late)
        pending = received - resolved
        pending_late = rng.randint(0, pending // 10)
        row = (field, online, direct, carried, before, resolved - late - before, late, pending - pending_late,
               pending_late)
        for key, v in zip(cols, row, strict=True):
            cols[key].append(v)
        totals["received"] += received
        totals["resolved"] += resolved
        totals["pending"] += pending
    out: dict[str, Any] = {"TT_NGUOI_LAP": rng.choice(["Nguyễn Thị Hoa", "Trần Văn Minh", "Lê Thị Thu"]),
                           "TT_CHUC_VU": "Công chức Văn phòng - Thống kê",
                           "TT_DIEN_THOAI": f"0259 {rng.randint(3000000, 3999999)}",
                           "TT_NGAY_LAP": date(2025, 12, rng.randint(1, 11)),
                           "KK_KHO_KHAN": "Đường truyền chậm\nThiếu máy quét", "KK_KIEN_NGHI": "Cấp thêm máy quét",
                           **cols}
    for block in lay.indicators:
        ind = block.item.indicator
        den = None
        for slot in block.slots:
            if slot.role == "denominator":
                den = totals[ind.denominator_equals] if ind.denominator_equals else rng.randint(1, 300)
                out[slot.name] = den
            elif slot.kind == "percent":
                out[slot.name] = round(rng.uniform(85, 100), 1)
            elif slot.role == "weight":
                out[slot.name] = rng.randint(5, 200)
            elif slot.kind == "yesno":
                out[slot.name] = "Có"
            elif slot.kind == "status":
                out[slot.name] = rng.choice(L.STATUSES[:2])
        num_slot = next((s for s in block.slots if s.role == "numerator"), None)
        if num_slot is not None and den is not None:
            out[num_slot.name] = rng.randint(int(den * 0.7), den)
    for trow in lay.tasks:
        status = rng.choice(L.STATUSES)
        out[trow.status.name] = status
        if status == L.STATUSES[0]:
            out[trow.done_date.name] = date(2025, 11, rng.randint(1, 28))
            out[trow.document.name] = f"Số {rng.randint(1, 300)}/BC-UBND"
    return out


_EXCEL_EPOCH = date(1899, 12, 30)
_BLANK = re.compile(r'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"/>')


def _cell_xml(ref: str, style: str, value: Any) -> str:
    if isinstance(value, date):
        return f'<c r="{ref}" s="{style}"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
    text = fastgen.xml_escape(str(value))
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def fill_file(path: Path, lay: L.Layout, values: dict[str, Any]) -> None:
    """Type `values` (slot name -> value, lists fill column blocks) into the blank input cells, in place."""
    by_sheet: dict[str, dict[str, Any]] = {}
    slots = {s.name: s for s in lay.slots}
    for name, value in values.items():
        slot = slots[name]
        for i, v in enumerate(value if isinstance(value, list) else [value]):
            by_sheet.setdefault(slot.sheet, {})[slot.cell_at(i)] = v
    order = [L.SHEET_GUIDE, L.SHEET_INFO, L.SHEET_IND, L.SHEET_CASES, L.SHEET_TASKS, L.SHEET_NOTES, L.SHEET_META]
    parts = {f"xl/worksheets/sheet{i + 1}.xml": by_sheet.get(name, {}) for i, name in enumerate(order)}
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info, data in items:
            cells = parts.get(info.filename)
            if cells:
                text = data.decode("utf-8")
                text = _BLANK.sub(lambda m, c=cells: _cell_xml(m.group(1), m.group(2), c[m.group(1)])
                                  if m.group(1) in c else m.group(0), text)
                data = text.encode("utf-8")
            zout.writestr(info, data, compresslevel=1)
    path.write_bytes(buf.getvalue())


_FILL: dict[str, Any] = {}


def _fill_init(plan: Plan, registry: Registry) -> None:
    _FILL.update(plan=plan, registry=registry)


def _fill_chunk(jobs: list[tuple[str, str, int]]) -> int:
    plan, registry = _FILL["plan"], _FILL["registry"]
    for code, path, seed in jobs:
        unit = registry.get(code)
        lay = L.build_layout(plan, unit, registry.tier(unit.tier), PERIOD)
        fill_file(Path(path), lay, unit_values(lay, random.Random(seed), plan.case_fields))
    return len(jobs)


# ------------------------------------------------------------------------------------------------
# History: earlier months inserted straight into the store's tables


def synthesise_history(ws: Workspace, months: int, seed: int, jobs: list[tuple[str, str, int]]) -> int:
    """Accepted, current submissions of every unit for the `months` periods before PERIOD. The last of them
    ends with the cases pending that the clerks' forms of PERIOD carry over (`jobs`' seeds give the fill's
    values): a real office's carried-over column is its previous report's pending, so the import's carried-over
    check finds what it finds in practice (next to nothing), not a warning on nearly every case row."""
    plan, registry = ws.plan, ws.registry
    periods = []
    p = PERIOD
    for _ in range(months):
        p = p.previous()
        periods.append(p)
    carried_now: dict[str, list[tuple[str, int]]] = {}
    for code, _, job_seed in jobs:
        unit = registry.get(code)
        now = unit_values(L.build_layout(plan, unit, registry.tier(unit.tier), PERIOD), random.Random(job_seed),
                          plan.case_fields)
        carried_now[code] = list(zip(now["GQ_LINH_VUC"], now["GQ_KY_TRUOC"], strict=True))
    store = S.Store(ws.store_url, ws.archive_dir)
    rng = random.Random(seed)
    n = 0
    try:
        with store.engine.begin() as conn:
            for period in periods:
                files, subs, vals, case_rows, task_rows = [], [], [], [], []
                base_id = n
                for i, unit in enumerate(registry.units):
                    lay = L.build_layout(plan, unit, registry.tier(unit.tier), period)
                    v = unit_values(lay, rng, plan.case_fields,
                                    carried_now[unit.code] if period == periods[0] else None)
                    sid = base_id + i + 1
                    sha = f"{sid:064x}"
                    files.append({"id": sid, "sha256": sha, "size": 1, "first_name": f"{period.code}_{unit.code}.xlsx",
                                  "archived_path": f"synthetic/{sha}", "first_seen": RECEIVED})
                    subs.append({"id": sid, "file_id": sid, "file_name": f"{period.code}_{unit.code}.xlsx",
                                 "kind": "xlsx", "unit_code": unit.code, "period_code": period.code,
                                 "plan_id": plan.id, "status": "accepted", "is_current": True, "version": 1,
                                 "received_at": RECEIVED, "imported_at": RECEIVED, "errors": 0, "warnings": 0,
                                 "fingerprint": sha, "info_json": "{}", "problems_json": "[]"})
                    for block in lay.indicators:
                        ind = block.item.indicator
                        row = {"submission_id": sid, "indicator": ind.key, "numerator": None, "denominator": None,
                               "value": None, "weight": None, "answer": None, "done_date": None, "note": None,
                               "sheet": L.SHEET_IND, "cell": block.slots[0].cell}
                        names = {s.role: s.name for s in block.slots}
                        if ind.kind == "rate":
                            num, den = v[names["numerator"]], v[names["denominator"]]
                            row.update(numerator=num, denominator=den, value=num / den * 100 if den else None)
                        elif ind.kind == "percent":
                            row.update(value=v[names["value"]], weight=v.get(names.get("weight", "")))
                        elif ind.kind == "yesno":
                            row.update(answer=v[names["value"]], value=100.0)
                        else:
                            row.update(answer=v[names["status"]])
                        vals.append(row)
                    for r in range(len(v["GQ_LINH_VUC"])):
                        case_rows.append({"submission_id": sid, "field": v["GQ_LINH_VUC"][r], "row": 10 + r,
                                          **{k: v[c][r] for k, c in zip(
                                              S.CASE_KEYS, ("GQ_TRUC_TUYEN", "GQ_TRUC_TIEP", "GQ_KY_TRUOC",
                                                            "GQ_TRUOC_HAN", "GQ_DUNG_HAN", "GQ_QUA_HAN",
                                                            "GQ_DANG_TRONG_HAN", "GQ_DANG_QUA_HAN"), strict=True)}})
                    for trow in lay.tasks:
                        task_rows.append({"submission_id": sid, "task": trow.item.task.key,
                                          "status": v[trow.status.name], "done_date": None, "document": None,
                                          "note": None})
                n += len(registry.units)
                conn.execute(S.files.insert(), files)
                conn.execute(S.submissions.insert(), subs)
                conn.execute(S.values.insert(), vals)
                conn.execute(S.cases.insert(), case_rows)
                conn.execute(S.tasks.insert(), task_rows)
    finally:
        store.close()
    return n


# ------------------------------------------------------------------------------------------------
# Measuring


def peak_rss_mb() -> dict[str, float]:
    """Peak resident set size so far (Linux: ru_maxrss in KiB; macOS: bytes)."""
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return {"self": round(own, 1), "children": round(kids, 1), "max": round(max(own, kids), 1)}


def openpyxl_read(path: Path, lay: L.Layout) -> int:
    """The straightforward way: load with openpyxl and read every input cell of the layout."""
    wb = openpyxl.load_workbook(path, data_only=True)
    got = 0
    for slot in lay.slots:
        ws = wb[slot.sheet]
        for i in range(slot.rows):
            if ws.cell(row=slot.row + i + 1, column=slot.col + 1).value is not None:
                got += 1
    for fixed in lay.fixed:
        wb[fixed.sheet].cell(row=fixed.row + 1, column=fixed.col + 1)
    wb.close()
    return got


def installed_env() -> dict[str, str]:
    """The environment of a command run as an installed package runs it: bytecode written and reused (pip
    compiles a package's modules when it installs it; the standard library's and the dependencies' are there
    already). A checkout run with PYTHONDONTWRITEBYTECODE (as on this machine) would recompile every module
    of the package a process imports, the stages' lazy imports and the report's child process included,
    inside the times measured."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_package(env: dict[str, str]) -> None:
    """The package's bytecode compiled beside it first (`__pycache__`, ignored by git), as pip does at install."""
    package = Path(sys.modules["cchc_excel"].__file__ or "").parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package), str(Path(__file__).parent)], env=env,
                   check=True, capture_output=True)


def startup(a: argparse.Namespace, work: Path) -> dict[str, Any]:
    """What a command costs before its work: the interpreter, the imports, Typer's parsing (and, for the two
    `check` commands, reading a plan and a registry of N units). Each command runs `a.startup_repeat` times,
    each time in a fresh process, the commands interleaved (load drift hits each alike); medians of wall and
    CPU time, beside `python -c pass`. The package's bytecode is compiled first, as pip does when it installs
    it (`installed_env`, `compile_package`)."""
    reg_path = work / f"registry-{a.units}.yaml"
    reg_path.write_text(yaml.safe_dump(synthetic_registry_data(a.units, a.seed), allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    env = installed_env()
    cli = [sys.executable, "-m", "cchc_excel"]
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "cchc --help": [*cli, "--help"],
                "cchc generate --help": [*cli, "generate", "--help"],
                "cchc plan check": [*cli, "plan", "check", str(PLAN), "--json"],
                f"cchc units check (N={a.units})": [*cli, "units", "check", str(reg_path), "--json"]}
    for name, cmd in commands.items():   # compiles the bytecode into the cache; checks the command works
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=work)
        if proc.returncode != 0:
            raise SystemExit(f"start-up: {name} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    wall: dict[str, list[float]] = {k: [] for k in commands}
    cpu: dict[str, list[float]] = {k: [] for k in commands}
    load_before = load()
    for _ in range(a.startup_repeat):
        for name, cmd in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, cwd=work, check=True)
            wall[name].append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    out = {name: {"wall_ms": round(median(wall[name]) * 1000, 1), "cpu_ms": round(median(cpu[name]) * 1000, 1)}
           for name in commands}
    # The fixed cost of a command: the slower of the two --help runs (a command's options parsed, no work).
    fixed = max(out["cchc --help"]["wall_ms"], out["cchc generate --help"]["wall_ms"]) / 1000
    return {"commands": out, "repeat": a.startup_repeat, "fixed_seconds": round(fixed, 3),
            "load_before": load_before, "load_after": load()}


def print_startup(s: dict[str, Any]) -> None:
    print(f"  command start-up (median of {s['repeat']}, fresh processes, interleaved, bytecode cached; load "
          f"{s['load_before']:.2f}->{s['load_after']:.2f}):", flush=True)
    for name, row in s["commands"].items():
        print(f"    {name:<28} {row['wall_ms']:7.0f} ms wall {row['cpu_ms']:7.0f} ms CPU", flush=True)


# ------------------------------------------------------------------------------------------------
# Stages, each in a fresh process (`--stage NAME --work DIR`): what a command pays, start-up included
# (interpreter, imports, plan and registry), nothing warmed by an earlier stage.

CYCLE_STAGES = ("generate", "import", "aggregate", "report")


def load() -> float:
    """The machine's 1-minute load average (other engineers' work shares these 2 cores)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


class Ctx:
    """What every stage process rebuilds from the arguments (deterministic: same seed, same units)."""

    def __init__(self, work: Path, n: int, seed: int) -> None:
        self.work, self.n, self.seed = work, n, seed
        self.plan = two_tier_plan()
        self.registry = synthetic_registry(n, seed)
        self.ws = workspace(work / "ws", self.plan, self.registry)
        self.out = work / "bieu-mau"
        self.units = list(self.registry.units)
        self.jobs = [(u.code, str(self.out / intake.workbook_filename(PERIOD, u)), seed * 100003 + i)
                     for i, u in enumerate(self.units)]


def stage_history(c: Ctx, a: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = synthesise_history(c.ws, a.months - 1, c.seed + 1, c.jobs)
    return {"seconds": time.perf_counter() - t0, "units": rows}


def stage_generate(c: Ctx, a: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    made = sum(1 for _ in fastgen.generate_fast(c.plan, c.registry, PERIOD, c.units, c.out, secret=SECRET,
                                                office=c.ws.office, workers=a.workers, generated=GENERATED))
    seconds = time.perf_counter() - t0
    extra = {"shapes": len({fastgen.shape_key(L.build_layout(c.plan, u, c.registry.tier(u.tier), PERIOD))
                            for u in c.units})}
    if a.ref_sample:   # side by side: from scratch with xlsxwriter on a sample (not in the stage's time)
        sample = random.Random(c.seed).sample(c.units, min(a.ref_sample, c.n))
        t1 = time.perf_counter()
        for _ in intake.generate_reference(c.plan, c.registry, PERIOD, sample, c.work / "ref", secret=SECRET,
                                           office=c.ws.office):
            pass
        ref_per = (time.perf_counter() - t1) / len(sample)
        fast_run = seconds / c.n * max(1, a.workers)
        extra["generation_ms_per_workbook"] = {"xlsxwriter_from_scratch": round(ref_per * 1000, 2),
                                               "shape_templates_full_run_per_core": round(fast_run * 1000, 3),
                                               "ratio": round(ref_per / fast_run, 1)}
        shutil.rmtree(c.work / "ref", ignore_errors=True)
    return {"seconds": seconds, "units": made, **extra}


def stage_fill(c: Ctx, a: argparse.Namespace) -> dict[str, Any]:
    chunks = [c.jobs[i:i + 100] for i in range(0, len(c.jobs), 100)]
    t0 = time.perf_counter()
    if a.workers <= 1:
        _fill_init(c.plan, c.registry)
        done = sum(_fill_chunk(ch) for ch in chunks)
    else:
        with ProcessPoolExecutor(a.workers, initializer=_fill_init, initargs=(c.plan, c.registry)) as pool:
            done = sum(pool.map(_fill_chunk, chunks))
    return {"seconds": time.perf_counter() - t0, "units": done}


def stage_import(c: Ctx, a: argparse.Namespace, prof: cProfile.Profile | None) -> dict[str, Any]:
    """The import, one call over every file, as the office runs it. The openpyxl baseline brackets it on the
    same files: half of a sample of them read just before the import, half just after (load drift over the
    import hits both sides alike), each file by openpyxl then by read_workbook (the reader's ratio).
    (The import used to run in slices with the baseline between them: each slice paid a worker pool's start
    and its ramp up and down, ~1 s of 11 at N=4,000, which no office's import pays.)"""
    files = [Path(j[1]) for j in c.jobs]
    layouts = {Path(j[1]): j[0] for j in c.jobs}
    sample = random.Random(c.seed).sample(files, min(len(files), max(2, a.read_sample)))
    ctx = ReadContext(c.plan, c.registry, SECRET, PERIOD)
    t_opx = t_ours = 0.0

    def baseline(part: list[Path]) -> None:
        nonlocal t_opx, t_ours
        for f in part:
            unit = c.registry.get(layouts[f])
            lay = L.build_layout(c.plan, unit, c.registry.tier(unit.tier), PERIOD)
            t0 = time.perf_counter()
            openpyxl_read(f, lay)
            t_opx += time.perf_counter() - t0
            t0 = time.perf_counter()
            sub = read_workbook(f, ctx)
            t_ours += time.perf_counter() - t0
            assert sub.accepted, sub.report.to_list()[:3]

    half = len(sample) // 2
    baseline(sample[:half])
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    outcomes = [o for _, o in import_files(c.ws, files, period=PERIOD, received_at=RECEIVED)]
    if prof:
        prof.disable()
    t_imp = time.perf_counter() - t0
    baseline(sample[half:])
    sampled = len(sample)
    codes: dict[str, int] = {}
    for o in outcomes:
        for pr in o.problems:
            codes[pr["code"]] = codes.get(pr["code"], 0) + 1
    opx, ours, per = t_opx / sampled, t_ours / sampled, t_imp / c.n
    return {"seconds": t_imp, "units": len(outcomes),
            "accepted": sum(1 for o in outcomes if o.status == "accepted"), "problem_codes": codes,
            "read_ms_per_file": {"openpyxl": round(opx * 1000, 2), "read_workbook": round(ours * 1000, 3),
                                 "import_files": round(per * 1000, 3), "files": sampled},
            "import_ratio": round(opx / per, 1), "reader_ratio": round(opx / ours, 1)}


def stage_aggregate(c: Ctx, a: argparse.Namespace, prof: cProfile.Profile | None) -> dict[str, Any]:
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    aggregate_period(c.ws, PERIOD, today=date(2025, 12, 20))
    if prof:
        prof.disable()
    return {"seconds": time.perf_counter() - t0}


def stage_report(c: Ctx, a: argparse.Namespace, prof: cProfile.Profile | None) -> dict[str, Any]:
    """`cchc report`: aggregation then the Word report and the Excel summary; only the writing is timed
    (the aggregation is the stage before), the peak memory is the command's."""
    agg = aggregate_period(c.ws, PERIOD, today=date(2025, 12, 20))
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    write_reports(c.ws, PERIOD, c.work / "bao-cao", pdf=False, agg=agg, issue_date=date(2025, 12, 20))
    if prof:
        prof.disable()
    return {"seconds": time.perf_counter() - t0}


def run_stage(a: argparse.Namespace) -> dict[str, Any]:
    started, load_before = time.perf_counter(), load()
    c = Ctx(a.work, a.units, a.seed)
    setup = time.perf_counter() - started
    prof = cProfile.Profile() if a.profile == a.stage else None
    fn = {"history": stage_history, "generate": stage_generate, "fill": stage_fill}.get(a.stage)
    out = fn(c, a) if fn else {"import": stage_import, "aggregate": stage_aggregate,
                               "report": stage_report}[a.stage](c, a, prof)
    rss = peak_rss_mb()
    out.update(stage=a.stage, setup_seconds=round(setup, 3), seconds=round(out["seconds"], 3),
               process_seconds=round(time.perf_counter() - started, 3), peak_rss_mb=rss["max"],
               peak_rss_self_mb=rss["self"], peak_rss_children_mb=rss["children"],
               load_before=load_before, load_after=load())
    if prof:
        for key, lines in (("cumulative", 45), ("tottime", 25)):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(lines)
            print(buf.getvalue(), file=sys.stderr)
    return out


def _stage_process(stage: str, work: Path, a: argparse.Namespace) -> dict[str, Any]:
    # Started from `-c`, not as this script: the report's second process (spawned) runs the caller's main
    # script first, and this one imports openpyxl, SQLAlchemy and the import stack at its top (~0.8 s), where
    # the `cchc` command's imports its CLI (~50 ms).
    # (sys.path[0] as `python cycle.py` has it: the package found where the parent found it, not in the current folder)
    start = f"import sys; sys.path[0] = {str(Path(__file__).parent)!r}; import cycle; raise SystemExit(cycle.main())"
    cmd = [sys.executable, "-c", start, "--stage", stage, "--work", str(work), "--units", str(a.units),
           "--months", str(a.months), "--workers", str(a.workers), "--ref-sample", str(a.ref_sample),
           "--read-sample", str(a.read_sample), "--seed", str(a.seed)]
    if a.profile:
        cmd += ["--profile", a.profile]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=installed_env())
    if a.profile == stage:
        print(proc.stderr, flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def cycle(a: argparse.Namespace) -> dict[str, Any]:
    """`a.repeat` runs of the cycle, each in a fresh work folder, each stage in a fresh process; medians."""
    n = a.units
    runs: list[dict[str, dict[str, Any]]] = []
    if a.keep is not None:
        a.keep.mkdir(parents=True, exist_ok=True)
    start_up = None
    if a.startup_repeat:
        scratch = Path(tempfile.mkdtemp(prefix=f"cchc-startup-{n}-", dir=a.keep))
        start_up = startup(a, scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        print(f"N={n}", flush=True)
        print_startup(start_up)
    finished: list[Path] = []
    for r in range(a.repeat):
        work = Path(tempfile.mkdtemp(prefix=f"cchc-cycle-{n}-", dir=a.keep))
        print(f"N={n} months={a.months} workers={a.workers} run {r + 1}/{a.repeat} in {work}", flush=True)
        stages: dict[str, dict[str, Any]] = {}
        names = (["history"] if a.months > 1 else []) + ["generate", "fill", "import", "aggregate", "report"]
        for name in names:
            row = stages[name] = _stage_process(name, work, a)
            note = " (not in cycle)" if name in ("history", "fill") else ""
            print(f"  {name + note:<22} {row['seconds']:8.2f} s  process {row['process_seconds']:6.2f} s  "
                  f"peak RSS {row['peak_rss_mb']:5.0f} MB  load {row['load_before']:.2f}->{row['load_after']:.2f}",
                  flush=True)
        imp = stages["import"]
        print(f"  import vs openpyxl (bracketing the import, {imp['read_ms_per_file']['files']} files): openpyxl "
              f"{imp['read_ms_per_file']['openpyxl']:.1f} ms/file, whole import {imp['read_ms_per_file']['import_files']:.2f}"
              f" ms/file -> {imp['import_ratio']:.1f}x; read_workbook {imp['read_ms_per_file']['read_workbook']:.2f}"
              f" ms/file -> {imp['reader_ratio']:.1f}x", flush=True)
        runs.append(stages)
        if a.keep is None:
            finished.append(work)
    # Deleted only after the last run: ext4 creates files slowly just after thousands were deleted (it skips
    # recently freed inodes; measured: the next run's generate 2.5-3.9 s -> 9.6-11.3 s).
    for work in finished:
        shutil.rmtree(work, ignore_errors=True)
    if not runs:   # --repeat 0: the start-up figures alone
        return {"units": n, "repeat": 0, "date": date.today().isoformat(), "startup": start_up}
    med: dict[str, dict[str, Any]] = {}
    for name in runs[0]:
        rows = [run[name] for run in runs]
        med[name] = {"seconds": round(median([x["seconds"] for x in rows]), 3),
                     "peak_rss_mb": round(median([x["peak_rss_mb"] for x in rows]), 1),
                     "load": round(median([x["load_after"] for x in rows]), 2),
                     "all_seconds": [x["seconds"] for x in rows]}
    cycles = [sum(run[s]["seconds"] for s in CYCLE_STAGES) for run in runs]
    peaks = [max(run[s]["peak_rss_mb"] for s in CYCLE_STAGES) for run in runs]
    result = {
        "units": n, "months": a.months, "workers": a.workers, "repeat": a.repeat, "date": date.today().isoformat(),
        "stages": med, "cycle_seconds": round(median(cycles), 3), "all_cycle_seconds": [round(x, 3) for x in cycles],
        "peak_rss_mb": round(median(peaks), 1),
        "import_ratio": median([run["import"]["import_ratio"] for run in runs]),
        "reader_ratio": median([run["import"]["reader_ratio"] for run in runs]),
        "load": {"min": min(run[s]["load_before"] for run in runs for s in run),
                 "max": max(run[s]["load_after"] for run in runs for s in run)},
        "accepted": runs[-1]["import"]["accepted"], "problem_codes": runs[-1]["import"]["problem_codes"],
        "shapes": runs[-1]["generate"].get("shapes"),
        "generation": runs[-1]["generate"].get("generation_ms_per_workbook"),
        "startup": start_up,
        "runs": runs,
    }
    print(f"medians of {a.repeat}: " + ", ".join(f"{s} {med[s]['seconds']:.2f} s (load {med[s]['load']:.2f})"
                                                   for s in CYCLE_STAGES)
          + f"; cycle {result['cycle_seconds']:.2f} s; peak RSS {result['peak_rss_mb']:.0f} MB; "
          f"import {result['import_ratio']:.1f}x openpyxl", flush=True)
    return result


TARGETS = {"cycle_s_at_4000": 15.0, "cycle_s_at_4000_12_months": 20.0, "cycle_s_at_200": 2.0,
           "import_ratio": 25.0, "peak_mb_at_4000": 512.0, "flat_months": 0.10, "startup_s": 0.3}


def verdicts(r: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if not r.get("repeat"):   # --repeat 0: the start-up only
        return out + _startup_verdict(r.get("startup"))
    n, c = r["units"], r["cycle_seconds"]

    def line(name: str, ok: bool, text: str) -> None:
        out.append(f"  [{'MET ' if ok else 'MISS'}] {name}: {text} (load {r['load']['min']:.1f}-{r['load']['max']:.1f})")

    if n == 4000:
        t = TARGETS["cycle_s_at_4000_12_months"] if r["months"] >= 12 else TARGETS["cycle_s_at_4000"]
        line(f"national cycle N=4,000{' with 12 months' if r['months'] >= 12 else ''} within {t:.0f} s", c <= t,
             f"{c:.1f} s")
        m = TARGETS["peak_mb_at_4000"]
        line("peak RSS < 512 MB at N=4,000", r["peak_rss_mb"] < m, f"{r['peak_rss_mb']:.0f} MB")
    if n == 200:
        line("province cycle N=200 within 2 s", c <= TARGETS["cycle_s_at_200"], f"{c:.2f} s")
    if n not in (200, 4000):
        out.append(f"  (cycle targets are stated for N=200 and N=4,000; N={n}: {c:.1f} s)")
    ratio = r["import_ratio"]
    line("import >= 25x openpyxl (whole import per file vs openpyxl, read just before and after it, same files)",
         ratio >= TARGETS["import_ratio"], f"{ratio:.1f}x; reader alone {r['reader_ratio']:.1f}x")
    return out + _startup_verdict(r.get("startup"))


def _startup_verdict(s: dict[str, Any] | None) -> list[str]:
    if not s:
        return []
    py = s["commands"]["python -c pass"]["wall_ms"]
    return [f"  [{'MET ' if s['fixed_seconds'] < TARGETS['startup_s'] else 'MISS'}] command start-up "
            f"< {TARGETS['startup_s']} s (cchc <command> --help, interpreter included): "
            f"{s['fixed_seconds'] * 1000:.0f} ms, of which python itself {py:.0f} ms "
            f"(load {s['load_before']:.1f}-{s['load_after']:.1f})"]


def machine() -> dict[str, Any]:
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        nproc = os.cpu_count()
    return {"nproc": nproc, "python": platform.python_version(), "platform": platform.platform(),
            "rss_source": "resource.getrusage ru_maxrss (self, children)"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=4000)
    ap.add_argument("--months", type=int, default=1)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--repeat", type=int, default=3, help="runs of the cycle; medians are reported")
    ap.add_argument("--ref-sample", type=int, default=50, help="units generated from scratch for the ratio")
    ap.add_argument("--read-sample", type=int, default=100, help="files read by openpyxl for the ratio")
    ap.add_argument("--startup-repeat", type=int, default=10,
                    help="runs of each command for the start-up time (0: not measured)")
    ap.add_argument("--profile", choices=("import", "aggregate", "report"), help="cProfile one stage")
    ap.add_argument("--keep", type=Path, help="keep the work folders under this directory")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", action="store_true", help="N = --sizes, each in its own process, growth table")
    ap.add_argument("--sizes", default="200,1000,4000", help="the N of --scale, comma-separated")
    ap.add_argument("--flat", action="store_true", help="also run --months 1 at the same N: memory flat in months?")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.profile:
        args.repeat = 1
    if args.stage:
        print(json.dumps(run_stage(args), ensure_ascii=False))
        return 0
    print(f"machine: {machine()}; load {load():.2f}", flush=True)
    compile_package(installed_env())   # once, before any command or stage is started
    if args.scale:
        results = []
        for n in (int(x) for x in args.sizes.split(",")):
            results.append(cycle(argparse.Namespace(**{**vars(args), "units": n})))
        print("\nhow cost grows (median seconds; per-unit ms in brackets; load at the stage's end):")
        print(f"  {'N':>6} " + " ".join(f"{s:>26}" for s in CYCLE_STAGES) + f" {'cycle':>8} {'peak MB':>8}")
        for r in results:
            cells = [f"{r['stages'][s]['seconds']:7.2f} ({r['stages'][s]['seconds'] / r['units'] * 1000:5.2f}) "
                     f"L{r['stages'][s]['load']:.1f}" for s in CYCLE_STAGES]
            print(f"  {r['units']:>6} " + " ".join(f"{c:>26}" for c in cells)
                  + f" {r['cycle_seconds']:8.2f} {r['peak_rss_mb']:8.0f}")
        print("targets:")
        for r in results:
            print(f" N={r['units']}:")
            print("\n".join(verdicts(r)))
        print(json.dumps({"scale": [{k: v for k, v in r.items() if k != "runs"} for r in results],
                          "machine": machine()}, ensure_ascii=False))
        return 0
    result = cycle(args)
    print("targets:")
    print("\n".join(verdicts(result)))
    if not result["repeat"]:
        result["machine"] = machine()
        print(json.dumps(result, ensure_ascii=False))
        return 0
    if args.flat and args.months > 1:
        one = cycle(argparse.Namespace(**{**vars(args), "months": 1}))
        growth = result["peak_rss_mb"] / one["peak_rss_mb"] - 1
        print(f"  [{'MET ' if growth <= TARGETS['flat_months'] else 'MISS'}] memory flat in months (within 10%): "
              f"1 month {one['peak_rss_mb']:.0f} MB, {args.months} months {result['peak_rss_mb']:.0f} MB "
              f"({growth:+.0%})")
        result["one_month"] = {k: v for k, v in one.items() if k != "runs"}
    result["machine"] = machine()
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
