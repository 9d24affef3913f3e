"""The monthly cycle at national scale: generate, (fill), import, aggregate, report. Not part of the tests.

    python benchmarks/cycle.py --units 4000 [--months 12] [--workers 2] [--profile import]
    python benchmarks/cycle.py --scale            # N = 200, 1,000, 4,000, each in its own process

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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import openpyxl

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

TARGETS = {"cycle_s_at_4000": 60.0, "import_ratio": 10.0, "peak_mb_at_4000": 1024.0, "cycle_s_at_200": 5.0}

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
    reg, report = parse_registry(data, source="synthetic")
    assert reg is not None, report.flatten("code", "cell")
    return reg


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

def unit_values(lay: L.Layout, rng: random.Random, fields: tuple[str, ...]) -> dict[str, Any]:
    """Consistent values for one form: indicator 3's denominator is the received total, 4's and 10's the
    resolved total (the plan's denominator_equals), every numerator ≤ its denominator."""
    n_rows = rng.randint(1, 4)
    cols: dict[str, list[Any]] = {k: [] for k in ("GQ_LINH_VUC", "GQ_TRUC_TUYEN", "GQ_TRUC_TIEP", "GQ_KY_TRUOC",
                                                  "GQ_TRUOC_HAN", "GQ_DUNG_HAN", "GQ_QUA_HAN",
                                                  "GQ_DANG_TRONG_HAN", "GQ_DANG_QUA_HAN")}
    totals = {"received": 0, "resolved": 0, "pending": 0}
    for field in rng.sample(fields, n_rows):
        online, direct, carried = rng.randint(0, 400), rng.randint(0, 150), rng.randint(0, 30)
        received = online + direct + carried
        resolved = rng.randint(received * 6 // 10, received)
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


def synthesise_history(ws: Workspace, months: int, seed: int) -> int:
    """Accepted, current submissions of every unit for the `months` periods before PERIOD."""
    plan, registry = ws.plan, ws.registry
    periods = []
    p = PERIOD
    for _ in range(months):
        p = p.previous()
        periods.append(p)
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
                    v = unit_values(lay, rng, plan.case_fields)
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


class Stages:
    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: dict[str, dict[str, Any]] = {}

    def run(self, name: str, fn: Callable[[], Any], *, units: int | None = None, profile: bool = False) -> Any:
        prof = cProfile.Profile() if profile else None
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        result = fn()
        if prof:
            prof.disable()
        seconds = time.perf_counter() - t0
        count = self.n if units is None else units
        rss = peak_rss_mb()
        self.rows[name] = {"seconds": round(seconds, 3),
                           "units_per_second": round(count / seconds, 1) if count and seconds else None,
                           "peak_rss_mb": rss["max"], "peak_rss_self_mb": rss["self"],
                           "peak_rss_children_mb": rss["children"]}
        print(f"  {name:<22} {seconds:8.2f} s  {self.rows[name]['units_per_second'] or '':>9} units/s  "
              f"peak RSS so far {rss['self']:.0f} MB (children {rss['children']:.0f} MB)", flush=True)
        if prof:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())
        return result


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


def cycle(n: int, months: int, workers: int, ref_sample: int, read_sample: int, keep: Path | None,
          profile: str | None, seed: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"cchc-cycle-{n}-", dir=keep))
    plan = two_tier_plan()
    registry = synthetic_registry(n, seed)
    ws = workspace(work / "ws", plan, registry)
    out = work / "bieu-mau"
    stages = Stages(n)
    print(f"N={n} units ({len(registry.in_tier('tinh'))} tinh, {len(registry.in_tier('xa'))} xa), "
          f"months={months}, workers={workers}, work dir {work}", flush=True)

    history = 0
    if months > 1:
        history = stages.run("history (synthetic)", lambda: synthesise_history(ws, months - 1, seed + 1),
                             units=n * (months - 1))
    units = list(registry.units)
    stages.run("generate", lambda: sum(1 for _ in fastgen.generate_fast(
        plan, registry, PERIOD, units, out, secret=SECRET, office=ws.office, workers=workers, generated=GENERATED)))
    shapes = len({fastgen.shape_key(L.build_layout(plan, u, registry.tier(u.tier), PERIOD)) for u in units})

    # Fill (the clerks' work): not part of the cycle.
    jobs = [(u.code, str(out / intake.workbook_filename(PERIOD, u)), seed * 100003 + i) for i, u in enumerate(units)]
    chunks = [jobs[i:i + 100] for i in range(0, len(jobs), 100)]

    def fill_all() -> int:
        if workers <= 1:
            _fill_init(plan, registry)
            return sum(_fill_chunk(c) for c in chunks)
        with ProcessPoolExecutor(workers, initializer=_fill_init, initargs=(plan, registry)) as pool:
            return sum(pool.map(_fill_chunk, chunks))

    stages.run("fill (not in cycle)", fill_all)

    outcomes: list[Any] = []
    stages.run("import", lambda: outcomes.extend(o for _, o in import_files(ws, [out], period=PERIOD,
                                                                           received_at=RECEIVED)),
               profile=profile == "import")
    accepted = sum(1 for o in outcomes if o.status == "accepted")
    codes: dict[str, int] = {}
    for o in outcomes:
        for p in o.problems:
            codes[p["code"]] = codes.get(p["code"], 0) + 1
    agg = stages.run("aggregate", lambda: aggregate_period(ws, PERIOD, today=date(2025, 12, 20)),
                     profile=profile == "aggregate")
    stages.run("report", lambda: write_reports(ws, PERIOD, work / "bao-cao", pdf=False, agg=agg,
                                               issue_date=date(2025, 12, 20)), profile=profile == "report")
    cycle_s = sum(stages.rows[s]["seconds"] for s in ("generate", "import", "aggregate", "report"))
    print(f"  cycle (generate+import+aggregate+report) {cycle_s:.2f} s; {accepted}/{n} accepted; "
          f"problems by code {codes}; {shapes} shapes", flush=True)

    # Side by side, same run: generation from scratch vs shape templates on a sample of units.
    rng = random.Random(seed)
    sample = rng.sample(units, min(ref_sample, n))
    t0 = time.perf_counter()
    for _ in intake.generate_reference(plan, registry, PERIOD, sample, work / "ref", secret=SECRET, office=ws.office):
        pass
    ref_per = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    for _ in fastgen.generate_fast(plan, registry, PERIOD, sample, work / "fast-sample", secret=SECRET,
                                   office=ws.office):
        pass
    fast_cold = (time.perf_counter() - t0) / len(sample)
    fast_run = stages.rows["generate"]["seconds"] / n * max(1, workers)   # per unit per core, whole run
    print(f"  generation per workbook: xlsxwriter from scratch {ref_per * 1000:.1f} ms; shape templates "
          f"{fast_cold * 1000:.2f} ms on the same {len(sample)} units (1 process, templates built in the "
          f"timing), {fast_run * 1000:.2f} ms per core in the full run -> {ref_per / fast_run:.0f}x", flush=True)

    # Side by side, same files, same run: the project's reader vs openpyxl reading every input cell.
    files = [Path(j[1]) for j in rng.sample(jobs, min(read_sample, n))]
    layouts = {}
    for f in files:
        unit = registry.get(f.name.split("_")[1])
        layouts[f] = L.build_layout(plan, unit, registry.tier(unit.tier), PERIOD)
    ctx = ReadContext(plan, registry, SECRET, PERIOD)
    t_ours = t_opx = 0.0
    for f in files:  # interleaved so load drift hits both
        t0 = time.perf_counter()
        sub = read_workbook(f, ctx)
        t_ours += time.perf_counter() - t0
        assert sub.accepted, sub.report.to_list()[:3]
        t0 = time.perf_counter()
        openpyxl_read(f, layouts[f])
        t_opx += time.perf_counter() - t0
    ours, opx = t_ours / len(files), t_opx / len(files)
    import_per = stages.rows["import"]["seconds"] / n
    print(f"  reading per file ({len(files)} files): read_workbook {ours * 1000:.2f} ms, openpyxl "
          f"{opx * 1000:.1f} ms -> {opx / ours:.1f}x; whole import per file {import_per * 1000:.2f} ms "
          f"(read+check+archive+store) -> {opx / import_per:.1f}x", flush=True)

    disk = sum(f.stat().st_size for f in out.iterdir())
    result = {
        "units": n, "months": months, "workers": workers, "shapes": shapes, "accepted": accepted,
        "history_submissions": history, "problem_codes": codes,
        "stages": stages.rows, "cycle_seconds": round(cycle_s, 3),
        "peak_rss_mb": peak_rss_mb()["max"],
        "generation_ms_per_workbook": {"xlsxwriter_from_scratch": round(ref_per * 1000, 2),
                                       "shape_templates_sample_cold": round(fast_cold * 1000, 3),
                                       "shape_templates_full_run_per_core": round(fast_run * 1000, 3),
                                       "ratio": round(ref_per / fast_run, 1)},
        "read_ms_per_file": {"read_workbook": round(ours * 1000, 3), "openpyxl": round(opx * 1000, 2),
                             "import_files": round(import_per * 1000, 3), "files": len(files)},
        "import_ratio": round(opx / import_per, 1), "reader_ratio": round(opx / ours, 1),
        "workbooks_mb": round(disk / 1e6, 1),
    }
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return result


def verdicts(r: dict[str, Any]) -> list[str]:
    out = []
    n, c = r["units"], r["cycle_seconds"]

    def line(name: str, ok: bool, text: str) -> None:
        out.append(f"  [{'MET ' if ok else 'MISS'}] {name}: {text}")

    if n == 4000:
        t = TARGETS["cycle_s_at_4000"]
        line("national cycle N=4,000 within 60 s", c <= t,
             f"{c:.1f} s ({'%.1f s to spare' % (t - c) if c <= t else 'missed by %.1f s' % (c - t)})")
        m = TARGETS["peak_mb_at_4000"]
        line("peak memory < 1 GiB at N=4,000", r["peak_rss_mb"] < m,
             f"{r['peak_rss_mb']:.0f} MB ({r['peak_rss_mb'] / m:.0%} of 1 GiB)")
    if n == 200:
        t = TARGETS["cycle_s_at_200"]
        line("N=200 within 5 s", c <= t,
             f"{c:.2f} s ({'%.2f s to spare' % (t - c) if c <= t else 'missed by %.2f s' % (c - t)})")
    if n not in (200, 4000):
        out.append(f"  (cycle targets are stated for N=200 and N=4,000; N={n}: {c:.1f} s)")
    ratio = r["import_ratio"]
    line("import >= 10x openpyxl (whole import per file vs openpyxl reading per file)", ratio >= 10,
         f"{ratio:.1f}x" + ("" if ratio >= 10 else f" (missed by {10 - ratio:.1f}x)")
         + f"; reader alone {r['reader_ratio']:.1f}x")
    if r["months"] > 1:
        out.append(f"  memory flat in months: compare peak {r['peak_rss_mb']:.0f} MB here with a --months 1 run "
                   "at the same N (benchmarks/README.md)")
    return out


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
    ap.add_argument("--ref-sample", type=int, default=100, help="units generated from scratch for the ratio")
    ap.add_argument("--read-sample", type=int, default=100, help="files read by both readers for the ratio")
    ap.add_argument("--profile", choices=("import", "aggregate", "report"), help="cProfile one stage")
    ap.add_argument("--keep", type=Path, help="keep the work folder under this directory")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", action="store_true", help="N = 200, 1,000, 4,000, each in its own process")
    ap.add_argument("--sizes", default="200,1000,4000", help="the N of --scale, comma-separated")
    args = ap.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    if args.scale:
        results = []
        for n in (int(x) for x in args.sizes.split(",")):
            cmd = [sys.executable, __file__, "--units", str(n), "--months", str(args.months), "--workers",
                   str(args.workers), "--ref-sample", str(min(args.ref_sample, 50)), "--read-sample",
                   str(args.read_sample), "--seed", str(args.seed)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            print(proc.stdout.rsplit("\n", 2)[0], flush=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print("\nhow cost grows (seconds; per-unit ms in brackets):")
        names = ["generate", "import", "aggregate", "report"]
        print(f"  {'N':>6} " + " ".join(f"{s:>20}" for s in names) + f" {'cycle':>8} {'peak MB':>8}")
        for r in results:
            cells = [f"{r['stages'][s]['seconds']:8.2f} ({r['stages'][s]['seconds'] / r['units'] * 1000:6.2f})"
                     for s in names]
            print(f"  {r['units']:>6} " + " ".join(f"{c:>20}" for c in cells)
                  + f" {r['cycle_seconds']:8.2f} {r['peak_rss_mb']:8.0f}")
        print(json.dumps({"scale": results, "machine": machine()}, ensure_ascii=False))
        return 0
    result = cycle(args.units, args.months, args.workers, args.ref_sample, args.read_sample, args.keep,
                   args.profile, args.seed)
    print("targets:")
    print("\n".join(verdicts(result)))
    result["machine"] = machine()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
