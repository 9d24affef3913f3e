"""Edge: load a period's data from the store, aggregate it, and write the report files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .aggregate import Aggregation, aggregate
from .narrative import build_context
from .period import Period
from .store import Store
from .summary import write_summary
from .workspace import Workspace


def periods_needed(period: Period) -> list[str]:
    """This period, the previous one, the same one last year, and the months of the year to date."""
    wanted = {period.code, period.previous().code, period.same_period_last_year().code}
    wanted |= {p.code for p in period.year_to_date()}
    wanted |= {p.code for p in period.same_period_last_year().year_to_date()}
    # Enough history for the unit-level jump check (robust z-score over the past year).
    p = period
    for _ in range(12):
        p = p.previous()
        wanted.add(p.code)
    return sorted(wanted)


def aggregate_period(ws: Workspace, period: Period, *, store: Store | None = None, today: date | None = None
                     ) -> Aggregation:
    own = store is None
    store = store or Store(ws.store_url, ws.archive_dir)
    try:
        codes = periods_needed(period)
        return aggregate(ws.plan, ws.registry, period, values=store.values_frame(codes),
                         subs=store.submissions_frame([period.code]), cases=store.cases_frame([period.code]),
                         tasks=store.tasks_frame([period.code]), texts=store.texts_frame([period.code]),
                         today=today)
    finally:
        if own:
            store.close()


@dataclass(frozen=True)
class ReportFiles:
    docx: Path
    xlsx: Path
    pdf: Path | None
    context: dict[str, Any]


def default_issue_date(ws: Workspace, period: Period) -> date:
    """The report is dated on the day it is due from the office (configurable with --date)."""
    return period.due_date(ws.plan.reporting.due_day, month_offset=ws.plan.reporting.due_month_offset)


def write_reports(ws: Workspace, period: Period, out_dir: Path, *, issue_date: date | None = None,
                  pdf: bool = True, template: Path | None = None, agg: Aggregation | None = None) -> ReportFiles:
    """Write the Word report (and its PDF when LibreOffice is present) and the Excel summary."""
    from .report import render_report, to_pdf  # docx/matplotlib stack is only needed here

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    agg = agg or aggregate_period(ws, period)
    context = build_context(ws.plan, ws.registry, agg, report_cfg=ws.report,
                            issue_date=issue_date or default_issue_date(ws, period))
    stem = f"bao-cao-cchc-{period.code}"
    template = template or (Path(ws.report["template"]) if ws.report.get("template") else None)
    if template is not None and not template.is_absolute():
        template = ws.root / template
    docx = render_report(context, out_dir / f"{stem}.docx", template=template, charts_dir=out_dir / "bieu-do")
    xlsx = write_summary(agg, ws.plan, ws.registry, out_dir / f"tong-hop-{period.code}.xlsx")
    pdf_path = to_pdf(docx, out_dir) if pdf else None
    return ReportFiles(docx=docx, xlsx=xlsx, pdf=pdf_path, context=context)
