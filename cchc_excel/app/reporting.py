"""Edge: load a period's data from the store, aggregate it, and write the report files."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from ..archive.frames import aggregation_frames, long_lived_frozen
from ..archive.store import Store
from ..archive.workspace import Workspace
from ..core.aggregate import Aggregation, aggregate
from ..core.followup import appendix_part, overdue_items
from ..core.narrative import build_context
from ..core.period import Period
from ..core.problems import Refusal, problem
from ..documents.background import Background, Later
from ..documents.summary import write_summary


def periods_needed(period: Period) -> list[str]:
    """Month codes: this period's months, the previous period's and the same period's last year, the months
    of both years to date, and the twelve months before (history for the unit-level jump check). A quarter,
    half, nine months or year is built from its months (`core.aggregate.pool_months`)."""
    wanted: set[str] = set()
    for p in (period, period.previous(), period.same_period_last_year()):
        wanted |= {m.code for m in p.months()}
    wanted |= {p.code for p in period.year_to_date()}
    wanted |= {p.code for p in period.same_period_last_year().year_to_date()}
    p = period.first_month
    for _ in range(12):
        p = p.previous()
        wanted.add(p.code)
    return sorted(wanted)


def aggregate_period(ws: Workspace, period: Period, *, store: Store | None = None, today: date | None = None
                     ) -> Aggregation:
    """Aggregate a month, or a quarter, half, nine months or year from the accepted submissions of its months."""
    own = store is None
    store = store or Store(ws.store_url, ws.archive_dir)
    try:
        codes = periods_needed(period)
        months = [m.code for m in period.months()]
        # A month's cases with the month before: the carried-over cases are checked against its pending.
        case_months = [period.previous().code, *months] if period.kind == "month" else months
        # The months before are read with the figures only (frames.HISTORY_COLUMNS): summed, never shown.
        frames = aggregation_frames(store, value_months=codes, case_months=case_months, months=months,
                                    lean_history=True)
        frames, registry = restate_history(ws, frames)
        # The store's ids are not read by the aggregation (nor shown): their column goes before it runs, the
        # other columns shared, not copied (4 MB of a year of history at national scale).
        frames["values"] = frames["values"].drop(columns=["submission_id"], errors="ignore")
        return aggregate(ws.plan, registry, period, today=today, **frames)
    finally:
        if own:
            store.close()


def restate_history(ws: Workspace, frames: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Older periods' frames restated on today's units through the workspace's succession maps, and the
    registry that also knows the abolished tiers (core.succession; docs/history.md). Unchanged without history."""
    if ws.history is None or not ws.history.changed:
        return frames, ws.registry
    from ..core.succession import history_registry, map_frames

    return map_frames(ws.plan, ws.history, **frames), history_registry(ws.history)


def history_note(ws: Workspace, agg: Aggregation) -> str | None:
    """The report's one sentence saying that earlier figures were converted to the new units, when they were."""
    if ws.history is None or not agg.restated_periods:
        return None
    return ws.history.sentence(agg.restated_periods)


def require_data(ws: Workspace, period: Period, store: Store | None = None) -> None:
    """A report needs at least one accepted file for the month (for a longer period: for one of its months);
    otherwise it would be all blanks."""
    own = store is None
    store = store or Store(ws.store_url, ws.archive_dir)
    try:
        accepted = store.has_accepted([m.code for m in period.months()])
    finally:
        if own:
            store.close()
    if not accepted:
        raise Refusal(problem("period-no-data", value=period.label))


def report_template(ws: Workspace, template: Path | None) -> Path | None:
    """The template to use: the one given (relative to the current folder), else `report.template` of
    cchc.yaml (relative to the workspace), else None for the bundled one. A missing file is refused."""
    if template is None and ws.report.get("template"):
        template = Path(str(ws.report["template"]))
        if not template.is_absolute():
            template = ws.root / template
    if template is not None and not Path(template).is_file():
        raise Refusal(problem("template-missing", file=str(template)))
    return None if template is None else Path(template)


def check_report_template(template: Path, context: dict[str, Any]) -> None:
    """Run the template checker before rendering, so a broken template is a message, not a traceback."""
    from ..documents.report import check_template

    issues = check_template(template, context)
    if issues:
        raise Refusal(problem("template-broken", file=str(template), value=len(issues),
                              detail="; ".join(i.message.rstrip(".") for i in issues[:3])))


def check_out_dir(out_dir: Path) -> None:
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise Refusal(problem("out-not-folder", file=str(out_dir)), exit_code=2)


@dataclass(frozen=True)
class ReportFiles:
    docx: Path
    xlsx: Path
    pdf: Path | None
    context: dict[str, Any]


def default_issue_date(ws: Workspace, period: Period) -> date:
    """The report is dated on the day it is due from the office (configurable with --date)."""
    return period.due_date(ws.plan.reporting.due_day, month_offset=ws.plan.reporting.due_month_offset)


# From this many units in the registry the summary is written in a second process. Measured at low load on 2
# CPUs: 4,000 units 6.3 s -> 5.3 s; 200 units 1.7 s -> 1.9 s (the child's interpreter and imports, ~1.4 s of
# CPU, outlast the whole summary). The break-even is near 1,000 units; 2,000 keeps a margin.
PARALLEL_SUMMARY_UNITS = 2000


def write_reports(ws: Workspace, period: Period, out_dir: Path, *, issue_date: date | None = None,
                  pdf: bool = True, template: Path | None = None, agg: Aggregation | None = None,
                  final: bool = False) -> ReportFiles:
    """Write the Word report (and its PDF when LibreOffice is present) and the Excel summary.

    While parts are left for the office to write, the report is a draft ("DỰ THẢO" on every page); with
    `final=True` it raises `report.PlaceholdersLeft` (its message lists those parts) and writes nothing.

    Refuses (`Refusal`, nothing written) a period without any accepted file, an `out_dir` that is a file, and
    a missing or broken template."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    template = report_template(ws, template)
    require_data(ws, period)
    # The Excel summary is written in a second process while this one builds and renders the Word report
    # (2 CPUs); the child starts now, so its interpreter and imports overlap the work below. Small registries
    # stay in one process: the start would cost more than it saves. It writes a temporary file, copied into
    # place once the report is written: a refusal after it started (template, final) still leaves nothing.
    summary = Background(write_summary, parallel=len(ws.registry.units) >= PARALLEL_SUMMARY_UNITS)
    handle, name = tempfile.mkstemp(prefix="cchc-tong-hop-", suffix=".xlsx")
    os.close(handle)
    try:
        agg = agg or aggregate_period(ws, period)   # before the freeze: its frames are what is kept out of passes
        with long_lived_frozen():
            return _write_reports(ws, period, out_dir, summary, Path(name), issue_date=issue_date, pdf=pdf,
                                  template=template, agg=agg, final=final)
    finally:
        summary.close()   # a job already sent is finished first: the file is never removed while written
        Path(name).unlink(missing_ok=True)


def _write_reports(ws: Workspace, period: Period, out_dir: Path, summary: Background, summary_tmp: Path, *,
                   issue_date: date | None, pdf: bool, template: Path | None, agg: Aggregation,
                   final: bool) -> ReportFiles:
    # The registry as the period saw it: an abolished tier's units for the months they reported (issue 13).
    registry = agg.registry or ws.registry
    # The summary starts with the aggregation; the follow-up table, its last sheet, follows once built.
    summary.start(summary_aggregation(agg), ws.plan, registry, summary_tmp, followup=Later)
    # The plan follow-up table: the report's Phụ lục II, and its overdue rows name the hosts in item 4 (issue 18).
    followup = build_followup_for(ws, period, detail_ref="Phụ lục I", progress=False, agg=agg)
    summary.give(followup.table)
    # the docx stack is only needed from here: imported once the summary's job is on its way
    from ..documents.report import render_report, to_pdf

    context = build_context(ws.plan, registry, agg, report_cfg=ws.report,
                            issue_date=issue_date or default_issue_date(ws, period),
                            followup=appendix_part(followup.table),
                            overdue=overdue_items(followup.table, ws.registry))
    if note := history_note(ws, agg):   # "Số liệu các kỳ trước 01/7/2025 đã được quy đổi ..." (issue 13)
        context["history_note"] = note
        completeness = (context.get("item4") or {}).get("completeness")
        if isinstance(completeness, dict):
            completeness["sentence"] = f"{completeness.get('sentence') or ''} {note}".strip()
    if template is not None:
        check_report_template(template, context)
    if final:
        from ..documents.report import PlaceholdersLeft, placeholders_left

        if left := placeholders_left(context):
            raise PlaceholdersLeft(left)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-cchc-{period.code}"
    docx = render_report(context, out_dir / f"{stem}.docx", template=template, charts_dir=out_dir / "bieu-do",
                         final=final)
    summary.result()
    xlsx = out_dir / f"tong-hop-{period.code}.xlsx"
    shutil.copyfile(summary_tmp, xlsx)   # a folder in its place is an OSError naming it, as xlsxwriter's was
    pdf_path = to_pdf(docx, out_dir) if pdf else None
    return ReportFiles(docx=docx, xlsx=xlsx, pdf=pdf_path, context=context)


def summary_aggregation(agg: Aggregation) -> Aggregation:
    """`agg` as the summary's process needs it: the summary reads neither the long table nor the year-to-date
    units, so they are not pickled to it (emptied, their columns kept). Their column names are plain str
    (`archive.frames.read_frame`): SQLAlchemy's `quoted_name` would make the child import SQLAlchemy to read
    them back (~140 modules, 0.3-0.4 s on its critical path; tests/test_frames_names.py)."""
    return replace(agg, long=agg.long.iloc[:0], units_ytd=agg.units_ytd.iloc[:0])


# ------------------------------------------------------------------------------------------------
# The plan follow-up table (issue 18)


@dataclass(frozen=True)
class Followup:
    """What `cchc followup` needs: the table, each task's status per month, and the months with data."""

    table: Any               # core.followup.FollowupTable
    progress: Any            # pandas DataFrame from core.followup.task_progress (None: not asked for)
    months: list[Period]


def build_followup_for(ws: Workspace, period: Period, *, store: Store | None = None, as_of: date | None = None,
                       detail_ref: str | None = None, progress: bool = True, agg: Aggregation | None = None
                       ) -> Followup:
    """The follow-up table for a month (its own figures) or a longer period (its months with data pooled, as
    the report pools them); tasks from each unit's latest report. `detail_ref` names the appendix that lists
    every unit's result (the report's "Phụ lục I"). Refuses a period without any accepted file.

    Only the months the table uses are read (a month: itself); with `progress` (`cchc followup`), also the
    tasks of the year to date for `Followup.progress`, which is None otherwise (the report needs the table
    alone).

    `agg`, the period's aggregation (the report has it): its month rows (`Aggregation.long`) are used instead
    of reading them again when they are the store's rows as they stand (`_values_of`)."""
    from ..core.aggregate import data_months
    from ..core.followup import build_followup, task_progress

    own = store is None
    store = store or Store(ws.store_url, ws.archive_dir)
    try:
        month_codes = [m.code for m in (period.year_to_date() if period.kind == "month" else period.months())]
        # a month's table uses its own figures and tasks (core.aggregate.data_months): not the year's months
        table_codes = [period.code] if period.kind == "month" else month_codes
        if agg is not None and agg.period == period:
            # the aggregation read the submissions: its months with data; the store asked only for the refusal
            if not store.has_accepted(table_codes):
                raise Refusal(problem("period-no-data", value=period.label))
            data = [m.code for m in agg.months]
        else:
            subs = store.submissions_frame(table_codes)
            accepted = subs[subs["status"] == "accepted"] if not subs.empty else subs
            if accepted.empty or (period.kind == "month" and period.code not in set(accepted["period_code"])):
                raise Refusal(problem("period-no-data", value=period.label))
            data = list(accepted["period_code"])
        values = _values_of(ws, period, agg, table_codes)
        if values is None:
            values = store.values_frame(table_codes)
        tasks = store.tasks_frame(month_codes if progress else table_codes)
    finally:
        if own:
            store.close()
    table = build_followup(ws.plan, ws.registry, period, values=values, tasks=tasks, as_of=as_of,
                           **({"detail_ref": detail_ref} if detail_ref else {}))
    months = period.year_to_date() if period.kind == "month" else data_months(period, data)
    return Followup(table=table, progress=task_progress(ws.plan, ws.registry, tasks, months) if progress else None,
                    months=months)


def _values_of(ws: Workspace, period: Period, agg: Aggregation | None, codes: list[str]) -> Any:
    """`agg`'s month rows for `codes`, or None to read them. `Aggregation.long` holds the current value rows of
    the period's months from the same statement as `Store.values_frame` (`archive.frames.current_frame`: the
    same rows in the same order), less `submission_id`, which the table does not read; used only when no
    succession map restated them (`restate_history`: then they are no longer the store's rows) and when it
    holds rows (a copy sent to the summary's process is emptied)."""
    if agg is None or agg.period != period or agg.long.empty or (ws.history is not None and ws.history.changed):
        return None
    long = agg.long
    if not set(codes) >= set(long["period_code"].unique()):
        long = long[long["period_code"].isin(codes)]
    return long


@dataclass(frozen=True)
class FollowupFiles:
    docx: Path
    xlsx: Path
    followup: Followup


def followup_docx(ws: Workspace, followup: Followup, path: Path, issue_date: date | None = None) -> Path:
    from ..documents.followup_docx import write_followup_docx

    report = ws.report or {}
    return write_followup_docx(followup.table, path, province=ws.plan.province,
                               year=issue_date.year if issue_date else None,
                               doc_symbol=str(report.get("doc_symbol") or "BC-UBND"),
                               issuer_short=str(report.get("issuer_short") or "UBND"))


def write_followup(ws: Workspace, period: Period, out_dir: Path, *, issue_date: date | None = None,
                   as_of: date | None = None) -> FollowupFiles:
    """`cchc followup`: the follow-up appendix in Word and the follow-up workbook (table and progress)."""
    from ..documents.followup import write_followup_xlsx

    check_out_dir(out_dir)
    followup = build_followup_for(ws, period, as_of=as_of)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docx = followup_docx(ws, followup, out_dir / f"phu-luc-theo-doi-{period.code}.docx", issue_date)
    xlsx = write_followup_xlsx(followup.table, followup.progress, followup.months,
                               out_dir / f"theo-doi-ke-hoach-{period.code}.xlsx")
    return FollowupFiles(docx=docx, xlsx=xlsx, followup=followup)
