"""Edge: `cchc demo` — the whole monthly cycle on the bundled sample province, offline, in one folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import bundled
from ..archive.importing import import_files
from ..archive.store import ImportOutcome
from ..archive.workspace import open_workspace
from ..core.period import Period
from ..documents.errorbook import write_error_books
from .reporting import aggregate_period, write_reports

SAMPLE_NAME = "ninh-thuan-2025"


def samples_dir() -> Path:
    """The sample workspaces: $CCHC_SAMPLES, else the bundled ones (package data, see cchc_excel.bundled)."""
    env = os.environ.get("CCHC_SAMPLES")
    if env:
        return Path(env)
    return bundled.samples_dir()


def run_demo(out: Path, *, pdf: bool = True, say: Callable[..., Any] = print) -> dict[str, Any]:
    """Copy the sample workspace to `out`, import its months, print the summaries and write the reports."""
    src = samples_dir() / SAMPLE_NAME
    if not (src / "cchc.yaml").exists():
        raise FileNotFoundError(f"Không tìm thấy dữ liệu mẫu {src} (chạy samples/make_samples.py để tạo).")
    out = Path(out)
    ws_dir = out / "workspace"
    if ws_dir.exists():
        shutil.rmtree(ws_dir)
    shutil.copytree(src, ws_dir, ignore=shutil.ignore_patterns("store.sqlite*", "archive"))
    ws, report = open_workspace(ws_dir)
    if ws is None:
        raise RuntimeError("; ".join(p.message for p in report.problems))
    months = sorted(p.name for p in (ws_dir / "nop").iterdir() if p.is_dir())
    outcomes: list[ImportOutcome] = []
    for month in months:
        period = Period.parse(month)
        got = [o for _, o in import_files(ws, [ws_dir / "nop" / month], period=period)]
        outcomes.extend(got)
        accepted = sum(o.status == "accepted" for o in got)
        say(f"{period.title_label}: nhập {len(got)} tệp — {accepted} chấp nhận, {len(got) - accepted} trả lại.")
    last = Period.parse(months[-1])
    agg = aggregate_period(ws, last)
    c = agg.completeness
    say(f"\nTình hình nộp báo cáo {last.label}:")
    for r in c.itertuples(index=False):
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
    # What goes back to the clerks: this month's findings, one workbook for the office and one per unit.
    this_month = [o for o in outcomes if o.period_code in (last.code, None)]
    error_book = write_error_books(ws, this_month, report_dir / f"loi-can-sua-{last.code}.xlsx")[0]
    write_error_books(ws, this_month, report_dir / "loi-theo-don-vi", per_unit=True)
    outputs = {"Báo cáo Word": str(files.docx), "PDF": str(files.pdf) if files.pdf else None,
               "Tổng hợp Excel": str(files.xlsx), "Bảng lỗi gửi đơn vị": str(error_book),
               "Thư mục làm việc": str(ws_dir)}
    # The quarter of the last month, built from its months (issue 13).
    quarter = Period.for_quarter(last.year, (last.index - 1) // 3 + 1)
    if any(Period.parse(m) in quarter.months() for m in months):
        q_files = write_reports(ws, quarter, report_dir, pdf=pdf)
        outputs[f"Báo cáo {quarter.label}"] = str(q_files.docx)
        if q_files.pdf:
            outputs[f"PDF {quarter.label}"] = str(q_files.pdf)
        say(f"Báo cáo {quarter.label}: {q_files.docx}")
    return {"period": last.code, "months": months, "files": len(outcomes),
            "accepted": sum(o.status == "accepted" for o in outcomes), "rejected": len(errors),
            "completeness": c.to_dict(orient="records"), "outputs": outputs}
