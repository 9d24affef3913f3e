"""Edge: `cchc demo` — a whole year on the bundled sample province, offline, in one folder.

The sample (samples/README.md) is the year 2025 of the area that was Ninh Thuận: January–June reported by
the Ninh Thuận units (three tiers), July–December by the Khánh Hòa units that succeeded them (two tiers).
The repository holds January–March; the demo makes the other months in its own copy with the sample's seeded
generator (samples/make_samples.py, `generate_months`), imports January–June, switches the workspace's
configuration to the one of 01/7/2025 (Khánh Hòa plan and registry, the Ninh Thuận registry and the succession
map under `history`, docs/history.md), imports July–December and writes three reports: the last month (with
the month before), the first quarter and the year across the change.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import bundled
from ..archive.importing import import_files
from ..archive.store import ImportOutcome
from ..archive.workspace import CONFIG_NAME, Workspace, open_workspace
from ..core.period import Period
from ..documents.errorbook import write_error_books
from .reporting import aggregate_period, write_reports

SAMPLE_NAME = "ninh-thuan-2025"
# The configuration the sample office switches to on 01/7/2025, and where the one it replaces is kept.
CONFIG_AFTER = "cchc-tu-2025-07.yaml"
CONFIG_BEFORE = "cchc-den-2025-06.yaml"
CHANGE = "2025-07"
MISTAKES_MONTH = "2025-03"   # the month with the sample's deliberate mistakes (samples/README.md)


def samples_dir() -> Path:
    """The sample workspaces: $CCHC_SAMPLES, else the bundled ones (package data, see cchc_excel.bundled)."""
    env = os.environ.get("CCHC_SAMPLES")
    if env:
        return Path(env)
    return bundled.samples_dir()


def sample_maker() -> ModuleType:
    """The sample's generator (samples/make_samples.py, shipped beside the sample as a plain module)."""
    for folder in (samples_dir(), bundled.samples_dir()):
        path = folder / "make_samples.py"
        if path.exists():
            spec = importlib.util.spec_from_file_location("cchc_sample_maker", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module     # its dataclasses look their module up
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError("Không tìm thấy samples/make_samples.py để tạo các tháng còn lại của dữ liệu mẫu.")


def _open(ws_dir: Path) -> Workspace:
    ws, report = open_workspace(ws_dir)
    if ws is None:
        raise RuntimeError("; ".join(p.message for p in report.problems))
    return ws


def _import_month(ws: Workspace, ws_dir: Path, month: str, say: Callable[..., Any]) -> list[ImportOutcome]:
    period = Period.parse(month)
    got = [o for _, o in import_files(ws, [ws_dir / "nop" / month], period=period)]
    accepted = sum(o.status == "accepted" for o in got)
    late = sum(any(p.get("code") == "late-submission" for p in o.problems) for o in got if o.status == "accepted")
    say(f"{period.title_label}: nhập {len(got)} tệp — {accepted} chấp nhận ({late} nộp muộn), "
        f"{len(got) - accepted} trả lại.")
    return got


def run_demo(out: Path, *, pdf: bool = True, say: Callable[..., Any] = print) -> dict[str, Any]:
    """Copy the sample workspace to `out`, make its missing months, import the year (switching to the
    configuration of 01/7/2025 before July), print the summaries and write the reports. With `pdf`, the
    monthly report also as PDF (the quarter and the year only as Word, to keep the demo short)."""
    started = time.monotonic()
    src = samples_dir() / SAMPLE_NAME
    if not (src / "cchc.yaml").exists():
        raise FileNotFoundError(f"Không tìm thấy dữ liệu mẫu {src} (chạy samples/make_samples.py để tạo).")
    out = Path(out)
    ws_dir = out / "workspace"
    if ws_dir.exists():
        shutil.rmtree(ws_dir)
    shutil.copytree(src, ws_dir, ignore=shutil.ignore_patterns("store.sqlite*", "archive"))
    made = sample_maker().generate_months(ws_dir)
    if made:
        say(f"Tạo dữ liệu mẫu các tháng {made[0]} … {made[-1]} ({len(made)} tháng) bằng samples/make_samples.py.")
    months = sorted(p.name for p in (ws_dir / "nop").iterdir() if p.is_dir())
    ws = _open(ws_dir)
    outcomes: list[ImportOutcome] = []
    for month in months:
        if month >= CHANGE and (ws_dir / CONFIG_AFTER).exists() and ws.history is None:
            # 01/7/2025: the office keeps the old configuration and switches to the Khánh Hòa one.
            shutil.move(ws_dir / CONFIG_NAME, ws_dir / CONFIG_BEFORE)
            shutil.copyfile(ws_dir / CONFIG_AFTER, ws_dir / CONFIG_NAME)
            ws = _open(ws_dir)
            say(f"Từ 01/7/2025: cấu hình {CONFIG_NAME} thay bằng {CONFIG_AFTER} "
                f"(kế hoạch {ws.plan.id}, danh mục {ws.registry.id}; danh mục cũ ở mục history).")
        outcomes.extend(_import_month(ws, ws_dir, month, say))

    last = Period.parse(months[-1])
    agg = aggregate_period(ws, last)
    say(f"\nTình hình nộp báo cáo {last.label}:")
    for r in agg.completeness.itertuples(index=False):
        if not r.expected:      # the district tier, known to the history, has no units after 30/6/2025
            continue
        say(f"  {r.tier_name}: phải nộp {r.expected}, đúng hạn {r.on_time}, muộn {r.late}, "
            f"bị trả lại {r.rejected}, chưa nộp {r.missing}")
    errors = [o for o in outcomes if o.status != "accepted"]
    say(f"\nKiểm tra: {len(errors)} tệp bị trả lại; "
        f"{sum(o.warnings for o in outcomes)} cảnh báo trong {len(outcomes)} tệp.")
    for o in errors[:10]:
        first = next((p for p in o.problems if p.get("severity") == "error"), None)
        say(f"  {o.file_name}: {first['message'] if first else ''}")

    report_dir = out / "bao-cao"
    files = write_reports(ws, last, report_dir, pdf=pdf, agg=agg)
    outputs: dict[str, str | None] = {
        "Báo cáo Word": str(files.docx), "PDF": str(files.pdf) if files.pdf else None,
        "Tổng hợp Excel": str(files.xlsx)}
    # What goes back to the clerks of the month with the sample's mistakes: one workbook for the office and one
    # per unit.
    if MISTAKES_MONTH in months:
        flagged = [o for o in outcomes if o.period_code in (MISTAKES_MONTH, None)]
        book = write_error_books(ws, flagged, report_dir / f"loi-can-sua-{MISTAKES_MONTH}.xlsx")[0]
        write_error_books(ws, flagged, report_dir / "loi-theo-don-vi", per_unit=True)
        outputs["Bảng lỗi gửi đơn vị"] = str(book)
    outputs["Thư mục làm việc"] = str(ws_dir)
    # The first quarter and the year, built from their months (issue 13); the year maps January–June onto
    # today's units.
    for period in (Period.for_quarter(last.year, 1), Period.for_year(last.year)):
        if not any(p.code in months for p in period.months()):
            continue
        longer = write_reports(ws, period, report_dir, pdf=False)
        outputs[f"Báo cáo {period.label}"] = str(longer.docx)
        outputs[f"Tổng hợp {period.label}"] = str(longer.xlsx)
        say(f"Báo cáo {period.label}: {longer.docx}")
    seconds = round(time.monotonic() - started, 1)
    say(f"Xong trong {seconds} giây.")
    return {"period": last.code, "months": months, "files": len(outcomes),
            "accepted": sum(o.status == "accepted" for o in outcomes), "rejected": len(errors),
            "completeness": agg.completeness.to_dict(orient="records"), "outputs": outputs, "seconds": seconds}
