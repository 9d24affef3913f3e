"""What the pages show, shaped from the library the CLI uses (aggregate_period, the store's frames, the error
workbook's wording). No figure is computed here that the library already computes; this module only picks,
joins and words things for the page."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import pandas as pd

from ...archive.store import ImportOutcome, Store, files, submissions
from ...archive.workspace import Workspace
from ...core.aggregate import expected_frame
from ...core.narrative import unit_label
from ...core.period import Period, working_days_between
from ...core.plan import met
from ...core.vntext import format_number, format_short_date, parse_date
from ...documents.errorbook import findings_of, slot_labels
from ...workbook.intake import generate, target_path
from ..reporting import aggregate_period

STATUS_CLASS = {"Đúng hạn": "ok", "Muộn": "late", "Bị trả lại": "bad", "Chưa nộp": "missing"}


def current_period(ws: Workspace, today: date) -> Period:
    """The reporting month the office is working on today (the plan's due-month offset taken into account)."""
    p = Period.for_month(today.year, today.month)
    for _ in range(max(0, ws.plan.reporting.due_month_offset)):
        p = p.previous()
    return p


def due_of(ws: Workspace, period: Period) -> date:
    return period.due_date(ws.plan.reporting.due_day, month_offset=ws.plan.reporting.due_month_offset)


def months_with_data(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(submissions.select().with_only_columns(submissions.c.period_code).distinct()).all()
    return sorted({r[0] for r in rows if r[0]}, reverse=True)


def _when(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "NaT":
        return ""
    ts = pd.Timestamp(value)
    return f"{ts:%d/%m/%Y %H:%M}"


def _info(row: Any) -> dict[str, Any]:
    try:
        return json.loads(row) if isinstance(row, str) and row else {}
    except ValueError:
        return {}


# ---------------------------------------------------------------------------------------------------------
# The period at a glance


@dataclass
class Glance:
    period: Period
    due: date
    days_left: int          # working days to the due date; negative: working days since it passed
    tiers: list[dict[str, Any]]
    districts: list[dict[str, Any]]
    latest: list[dict[str, Any]]
    has_data: bool
    today: date | None = None


def glance(ws: Workspace, store: Store, period: Period, today: date) -> Glance:
    agg = aggregate_period(ws, period, store=store, today=today)
    due = due_of(ws, period)
    tiers = [{"name": r.tier_name, "total": r.tier == "*", **{k: int(getattr(r, k)) for k in
             ("expected", "on_time", "late", "rejected", "missing")}} for r in agg.completeness.itertuples()]
    st = agg.unit_status
    districts = []
    if "district_code" in st and st["district_code"].notna().any():
        for (_code, name), g in st[st["district_code"].notna()].groupby(["district_code", "district_name"],
                                                                        sort=True):
            counts = g["status"].value_counts()
            districts.append({"name": name, "expected": len(g), "on_time": int(counts.get("Đúng hạn", 0)),
                              "late": int(counts.get("Muộn", 0)), "rejected": int(counts.get("Bị trả lại", 0)),
                              "missing": int(counts.get("Chưa nộp", 0))})
    subs = store.submissions_frame([period.code])
    latest = []
    if not subs.empty:
        for r in subs.sort_values("id", ascending=False).head(12).itertuples():
            unit = ws.registry.get(r.unit_code) if isinstance(r.unit_code, str) else None
            latest.append({"id": int(r.id), "file": r.file_name, "unit_code": unit.code if unit else None,
                           "unit": unit.name if unit else "(không rõ đơn vị)", "status": r.status,
                           "current": bool(r.is_current), "version": int(r.version),
                           "received": _when(r.received_at), "errors": int(r.errors), "warnings": int(r.warnings)})
    # Working days, as unit_status counts a late file: weekends and public holidays do not count.
    return Glance(period=period, due=due, days_left=working_days_between(today, due), tiers=tiers,
                  districts=districts, latest=latest, has_data=not subs.empty, today=today)


# ---------------------------------------------------------------------------------------------------------
# The chase list


@dataclass
class ChaseRow:
    code: str
    name: str
    label: str
    tier: str
    status: str
    days_late: int
    preparer: str
    phone: str
    email: str
    wrong: list[str] = field(default_factory=list)
    message: str = ""
    mailto: str = ""


def latest_contacts(store: Store) -> dict[str, dict[str, Any]]:
    """unit -> the info block of its latest accepted form (any period): preparer, phone, e-mail."""
    subs = store.submissions_frame()
    out: dict[str, dict[str, Any]] = {}
    if subs.empty:
        return out
    ok = subs[subs["status"] == "accepted"].sort_values(["received_at", "id"])
    for r in ok.itertuples():
        info = _info(r.info_json)
        if info:
            out[str(r.unit_code)] = info
    return out


def _wrong_lines(problems_json: str | None, ws: Workspace, unit_code: str, period: Period) -> list[str]:
    try:
        probs = [p for p in json.loads(problems_json or "[]") if p.get("severity") == "error"]
    except ValueError:
        return []
    unit = ws.registry.get(unit_code)
    labels = slot_labels(ws.plan, ws.registry, unit, period) if unit else {}
    out = []
    for f in findings_of(probs, labels):
        where = f"Ô {f.cell}, trang '{f.sheet}'" if f.cell and f.sheet else ""
        label = f" ({f.label})" if f.label else ""
        out.append(f"{where}{label}: {f.what}" if where else f.what)
    return out


def chase_list(ws: Workspace, store: Store, period: Period, today: date) -> list[ChaseRow]:
    agg = aggregate_period(ws, period, store=store, today=today)
    due = due_of(ws, period)
    contacts = latest_contacts(store)
    subs = store.submissions_frame([period.code])
    rows = []
    todo = agg.unit_status[agg.unit_status["status"].isin(["Chưa nộp", "Bị trả lại"])]
    for r in todo.itertuples():
        unit = ws.registry.get(r.unit_code)
        if unit is None:
            continue
        info = contacts.get(unit.code, {})
        email = str(info.get("TT_EMAIL") or "") or (unit.contact if unit.contact and "@" in unit.contact else "")
        wrong: list[str] = []
        if r.status == "Bị trả lại" and not subs.empty:
            mine = subs[subs["unit_code"] == unit.code].sort_values("id")
            if not mine.empty:
                wrong = _wrong_lines(mine.iloc[-1]["problems_json"], ws, unit.code, period)
        label = unit_label(ws.registry, unit)
        # Not accepted yet: late so far, in working days as unit_status counts a late file (`days_late`).
        late = int(r.days_late) if pd.notna(r.days_late) else max(0, working_days_between(due, today))
        by = (f"trước ngày {format_short_date(due)}" if late == 0
              else f"ngay trong ngày (đã quá hạn {late} ngày làm việc so với hạn {format_short_date(due)})")
        message = f"Đề nghị {label} gửi báo cáo {period.label} {by}"
        if wrong:
            message += "; tệp đã gửi còn lỗi: " + "; ".join(wrong[:5])
            if len(wrong) > 5:
                message += f" và {len(wrong) - 5} lỗi khác"
            message += ". Đề nghị sửa đúng ô nêu trên trong biểu mẫu đã gửi rồi gửi lại"
        message += ". Trân trọng."
        subject = f"Báo cáo CCHC {period.label} — {label}"
        mailto = (f"mailto:{quote(email, safe='@.')}?subject={quote(subject)}&body={quote(message)}"
                  if email else "")
        rows.append(ChaseRow(code=unit.code, name=unit.name, label=label, tier=r.tier_name, status=r.status,
                             days_late=late, preparer=str(info.get("TT_NGUOI_LAP") or ""),
                             phone=str(info.get("TT_DIEN_THOAI") or ""), email=email, wrong=wrong,
                             message=message, mailto=mailto))
    return rows


CHASE_COLUMNS = (("Mã", 10), ("Đơn vị", 32), ("Cấp", 12), ("Tình trạng", 12), ("Số ngày muộn", 9),
                 ("Người lập biểu", 20), ("Điện thoại", 14), ("Thư điện tử", 28), ("Lỗi cần sửa", 50),
                 ("Nội dung đôn đốc", 60))


def chase_workbook(rows: list[ChaseRow], period: Period) -> bytes:
    """The chase list as a printable sheet (A4 landscape, one page wide, header row repeated)."""
    import io

    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("Đôn đốc")
    title = book.add_format({"bold": True, "font_size": 13, "font_name": "Times New Roman"})
    head = book.add_format({"bold": True, "text_wrap": True, "border": 1, "bg_color": "#DDEBF7",
                            "valign": "vcenter", "font_name": "Times New Roman"})
    cell = book.add_format({"text_wrap": True, "border": 1, "valign": "top", "font_name": "Times New Roman"})
    sheet.write(0, 0, f"Danh sách đơn vị cần đôn đốc — báo cáo {period.label}", title)
    for col, (name, width) in enumerate(CHASE_COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write(2, col, name, head)
    for i, r in enumerate(rows, start=3):
        values = [r.code, r.label, r.tier, r.status, r.days_late, r.preparer, r.phone, r.email,
                  "\n".join(r.wrong), r.message]
        for col, v in enumerate(values):
            # text from clerks' files is written as text, never as a formula
            if isinstance(v, str):
                sheet.write_string(i, col, v, cell)
            else:
                sheet.write_number(i, col, v, cell)
    if not rows:
        sheet.write(3, 0, "Không có đơn vị nào cần đôn đốc.")
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(2)
    sheet.set_footer("&CTrang &P/&N")
    book.close()
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------------
# A unit's page


def unit_versions(ws: Workspace, store: Store, code: str, uploaders: dict[int, str]) -> list[dict[str, Any]]:
    subs = store.submissions_frame()
    if subs.empty:
        return []
    mine = subs[subs["unit_code"] == code].sort_values(["period_code", "version"], ascending=[False, False])
    out = []
    for r in mine.itertuples():
        info = _info(r.info_json)
        out.append({"id": int(r.id), "period": r.period_code, "version": int(r.version), "file": r.file_name,
                    "status": r.status, "current": bool(r.is_current), "received": _when(r.received_at),
                    "imported": _when(r.imported_at), "errors": int(r.errors), "warnings": int(r.warnings),
                    "preparer": str(info.get("TT_NGUOI_LAP") or ""), "phone": str(info.get("TT_DIEN_THOAI") or ""),
                    "by": uploaders.get(int(r.id), "")})
    return out


def unit_problems(ws: Workspace, store: Store, code: str, period: Period) -> tuple[dict[str, Any] | None, list[Any]]:
    """The latest file of the period and its findings in the clerk's words (sheet, cell, row label, fix)."""
    subs = store.submissions_frame([period.code])
    if subs.empty:
        return None, []
    mine = subs[subs["unit_code"] == code].sort_values("id")
    if mine.empty:
        return None, []
    last = mine.iloc[-1]
    unit = ws.registry.get(code)
    labels = slot_labels(ws.plan, ws.registry, unit, period) if unit else {}
    try:
        probs = json.loads(last["problems_json"] or "[]")
    except ValueError:
        probs = []
    return {"id": int(last["id"]), "file": last["file_name"], "status": last["status"],
            "version": int(last["version"])}, list(findings_of(probs, labels))


def unit_figures(ws: Workspace, store: Store, code: str, period: Period) -> tuple[list[str], list[dict[str, Any]]]:
    """The unit's figures against its own targets, month by month over the year to date."""
    months = period.year_to_date()
    values = store.values_frame([m.code for m in months])
    values = values[values["unit_code"] == code] if not values.empty else values
    exp = expected_frame(ws.plan, ws.registry)
    exp = exp[exp["unit_code"] == code]
    rows = []
    for e in exp.itertuples():
        series: list[float | None] = []
        for m in months:
            v = values[(values["indicator"] == e.indicator) & (values["period_code"] == m.code)] \
                if not values.empty else values
            x = v.iloc[-1]["value"] if not v.empty else None
            series.append(None if x is None or pd.isna(x) else float(x))
        target = None if e.target is None or pd.isna(e.target) else float(e.target)
        ind = ws.plan.indicator(e.indicator)
        title = ind.short or ind.name
        last = next((x for x in reversed(series) if x is not None), None)
        met_now = met(last, target, e.comparison) if last is not None and target is not None and e.comparison \
            else None
        rows.append({"key": e.indicator, "printed": e.printed_id, "title": title, "target": target,
                     "target_label": e.target_label, "adjusted": bool(e.adjusted),
                     "values": [format_number(x) if x is not None else "" for x in series],
                     "chart": sparkline(series, target), "met": met_now})
    return [f"T{int(m.code[-2:])}" for m in months], rows


def sparkline(series: list[float | None], target: float | None, *, width: int = 180, height: int = 44
              ) -> dict[str, Any]:
    """Coordinates of a small line chart (values, and the target as a dashed line); drawn as inline SVG."""
    known = [x for x in series if x is not None]
    top = max([100.0, *known, *( [target] if target is not None else [])]) if known or target else 100.0
    n = max(1, len(series) - 1)
    pad = 4

    def y(v: float) -> float:
        return round(height - pad - (v / top) * (height - 2 * pad), 1) if top else height - pad

    points = [(round(pad + i * (width - 2 * pad) / n, 1), y(v)) for i, v in enumerate(series) if v is not None]
    return {"width": width, "height": height, "points": " ".join(f"{a},{b}" for a, b in points),
            "dots": points, "target_y": y(target) if target is not None else None}


def archived_file(store: Store, submission_id: int) -> tuple[str, bytes] | None:
    """The bytes of a received file exactly as it came, addressed by its submission id (never by a name)."""
    q = (files.select().with_only_columns(files.c.archived_path, submissions.c.file_name)
         .join_from(files, submissions, files.c.id == submissions.c.file_id)
         .where(submissions.c.id == submission_id))
    with store.engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        return None
    return str(row[1]), store.file_bytes(str(row[0]))


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


__all__ = ["findings_of", "generate", "slot_labels", "target_path", "unit_label"]


def parse_received(text: str) -> datetime | None:
    """The arrival time typed on the page ("15/03/2025", "2025-03-15", with an optional time); None: the
    import's own rule (so-nhan.csv beside the files, else now)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    day, _, clock = text.partition(" ")
    d = parse_date(day)
    if d is None:
        return None
    hour, minute = 12, 0
    if clock and ":" in clock:
        h, _, m = clock.partition(":")
        if h.isdigit() and m.isdigit():
            hour, minute = min(23, int(h)), min(59, int(m))
    return datetime(d.year, d.month, d.day, hour, minute)


def file_time(path: Any) -> str:
    return f"{datetime.fromtimestamp(path.stat().st_mtime):%d/%m/%Y %H:%M}"


def office_available() -> bool:
    from ...documents.office import available

    return available()


def period_outcomes(store: Store, period: Period) -> list[ImportOutcome]:
    """Every file received for the period, as the import reported it: what the error workbook is written from."""
    subs = store.submissions_frame([period.code])
    out = []
    for r in subs.itertuples():
        try:
            probs = json.loads(r.problems_json or "[]")
        except ValueError:
            probs = []
        out.append(ImportOutcome(file_name=r.file_name, submission_id=int(r.id), status=r.status, duplicate=False,
                                 is_current=bool(r.is_current), version=int(r.version), unit_code=r.unit_code,
                                 period_code=r.period_code, errors=int(r.errors), warnings=int(r.warnings),
                                 problems=probs))
    return out


def item4_preview(context: dict[str, Any]) -> dict[str, Any]:
    """Item 4 of Part I as the report writes it: its paragraphs, for reading in the page."""
    item4 = context.get("item4") or {}
    heading = next((f"{p.get('number')}. {p.get('heading')}" for p in context.get("parts") or []
                    if p.get("item4")), "4. Tình hình, kết quả triển khai nhiệm vụ cải cách thủ tục hành chính")
    paras: list[dict[str, Any]] = []
    for key in ("summary",):
        if item4.get(key):
            paras.append({"text": item4[key]})
    sentence = (item4.get("completeness") or {}).get("sentence")
    if sentence:
        paras.append({"text": sentence})
    if item4.get("indicator_lead"):
        paras.append({"text": item4["indicator_lead"]})
    for pt in item4.get("indicator_points") or []:
        paras.append({"title": f"{pt.get('label', '')} {pt.get('title', '')}".strip(),
                      "points": [str(s) for s in pt.get("sentences") or []],
                      "text": pt.get("missed") or ""})
    if item4.get("case_lead"):
        paras.append({"text": item4["case_lead"]})
    labels = item4.get("labels") or {}
    tasks = item4.get("tasks") or {}
    if tasks.get("summary"):
        paras.append({"title": f"{labels.get('tasks', '')} Tiến độ thực hiện nhiệm vụ".strip(),
                      "text": tasks["summary"],
                      "points": [f"{t.get('text')} ({t.get('host')}; hạn {t.get('deadline')})"
                                for t in tasks.get("overdue") or []]})
    for key, title in (("difficulties", "Khó khăn, vướng mắc"), ("proposals", "Kiến nghị, đề xuất")):
        rows = item4.get(key) or []
        if rows:
            paras.append({"title": f"{labels.get(key, '')} {title}".strip(),
                          "points": [f"{d.get('text')} ({d.get('units')})" for d in rows]})
    return {"heading": heading, "paragraphs": paras, "draft": bool((context.get("report") or {}).get("draft"))}
