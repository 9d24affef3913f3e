"""The office's web page (`cchc serve`): Starlette handlers, thin over the library the CLI uses.

Security model: on a loopback address with no accounts the page is the operator's own tool (every action is
recorded as "máy này"); once accounts exist — and always when bound to another address — every page needs
a login. Sessions are signed cookies (HttpOnly, SameSite=Strict); every form carries a CSRF token tied to
the session; login attempts are rate-limited per address and name; roles are checked on the server
(`viewer` reads, `office` also uploads, generates and builds).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import shutil
import time
import zipfile
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Starlette parses forms with python-multipart and signs the session cookie with itsdangerous; both are
# imported here so that a missing one stops the server at start rather than at the first form.
import itsdangerous  # noqa: F401
import python_multipart  # noqa: F401
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ...archive.importing import import_files, store_for
from ...archive.store import ImportOutcome, Store
from ...archive.workspace import Workspace
from ...core.period import Period
from ...core.plan import indicators_for, tasks_for
from ...core.problems import Refusal, problem
from ...core.vntext import format_short_date
from .. import users
from . import data
from .jobs import Job, Jobs
from .uploads import MAX_BATCH_BYTES, MAX_FILES, BatchWriter

HERE = Path(__file__).resolve().parent
LOCAL_USER = "máy này"

ROLE_OFFICE = "office"
ROLE_VIEWER = "viewer"

MIME = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12", ".xls": "application/vnd.ms-excel",
        ".ods": "application/vnd.oasis.opendocument.spreadsheet",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".pdf": "application/pdf", ".zip": "application/zip"}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
}


@dataclass
class Viewer:
    name: str
    role: str

    @property
    def can_change(self) -> bool:
        return self.role == ROLE_OFFICE


@dataclass
class LoginThrottle:
    """At most `limit` failed logins per (address, name) and per address in `window` seconds."""

    limit: int = 5
    window: float = 300.0
    failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _recent(self, key: str) -> deque[float]:
        q = self.failures[key]
        while q and q[0] < time.monotonic() - self.window:
            q.popleft()
        return q

    def blocked(self, address: str, name: str) -> bool:
        return (len(self._recent(f"{address}|{name}")) >= self.limit
                or len(self._recent(address)) >= 4 * self.limit)

    def failed(self, address: str, name: str) -> None:
        now = time.monotonic()
        self._recent(f"{address}|{name}").append(now)
        self._recent(address).append(now)

    def cleared(self, address: str, name: str) -> None:
        self.failures.pop(f"{address}|{name}", None)


@dataclass
class WebState:
    ws: Workspace
    store: Store
    jobs: Jobs
    env: Environment
    local_only: bool
    today: Callable[[], date] = date.today
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    pdf: bool | None = None   # None: when LibreOffice is there

    def login_required(self) -> bool:
        return not self.local_only or users.has_users(self.store.engine)


# ---------------------------------------------------------------------------------------------------------
# helpers


def _state(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, form: Any) -> None:
    sent = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
    expected = str(request.session.get("csrf") or "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Tải lại trang rồi làm lại.")


def current_viewer(request: Request) -> Viewer | None:
    st = _state(request)
    if not st.login_required():
        return Viewer(LOCAL_USER, ROLE_OFFICE)
    name = request.session.get("user")
    if not name:
        return None
    for acc in users.list_users(st.store.engine):
        if acc.name == name:
            return Viewer(acc.name, acc.role)
    return None


def need(request: Request, role: str | None = None) -> Viewer:
    viewer = current_viewer(request)
    if viewer is None:
        raise _LoginNeeded()
    if role == ROLE_OFFICE and not viewer.can_change:
        raise HTTPException(403, "Tài khoản chỉ xem không được làm việc này (cần vai trò văn phòng).")
    return viewer


class _LoginNeeded(Exception):
    pass


def period_of(request: Request) -> Period:
    st = _state(request)
    text = request.query_params.get("ky") or request.path_params.get("ky")
    if not text:
        return data.current_period(st.ws, st.today())
    try:
        return Period.parse_month(str(text))
    except ValueError:
        raise HTTPException(400, f"Kỳ báo cáo không hợp lệ: {str(text)[:20]!r} (ví dụ hợp lệ: 2025-03).") from None


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    st = _state(request)
    viewer = context.pop("viewer", None) or current_viewer(request)
    period = context.get("period")
    months = data.months_with_data(st.store)
    current = data.current_period(st.ws, st.today()).code
    if current not in months:
        months = [current, *months]
    html = st.env.get_template(name).render(
        request=request, viewer=viewer, csrf=csrf_token(request), office=st.ws.office,
        province=st.ws.plan.province, months=sorted(set(months), reverse=True), ky=period.code if period else "",
        login_required=st.login_required(), path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def attachment(content: bytes, filename: str) -> Response:
    suffix = Path(filename).suffix.lower()
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename) or "tep"
    return Response(content, media_type=MIME.get(suffix, "application/octet-stream"), headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def report_dir(ws: Workspace, period: Period) -> Path:
    return ws.root / "bao-cao" / period.code


def forms_dir(ws: Workspace, period: Period) -> Path:
    return ws.root / "bieu-mau" / period.code


def record(st: WebState, viewer: Viewer, action: str, **kw: Any) -> None:
    users.record(st.store.engine, viewer.name, action, **kw)


# ---------------------------------------------------------------------------------------------------------
# pages


async def glance_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    g = data.glance(st.ws, st.store, period, st.today())
    months = data.months_with_data(st.store)
    return render(request, "glance.html", period=period, g=g, latest_month=months[0] if months else None,
                  jobs=st.jobs.recent())


async def chase_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    rows = data.chase_list(st.ws, st.store, period, st.today())
    return render(request, "chase.html", period=period, rows=rows, due=data.due_of(st.ws, period))


async def chase_sheet(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    rows = data.chase_list(st.ws, st.store, period, st.today())
    return attachment(data.chase_workbook(rows, period), f"don-doc-{period.code}.xlsx")


async def receive_page(request: Request) -> Response:
    viewer = need(request)
    period = period_of(request)
    return render(request, "receive.html", viewer=viewer, period=period, max_files=MAX_FILES,
                  max_mb=data_limits()["file_mb"])


def data_limits() -> dict[str, int]:
    from .uploads import MAX_FILE_BYTES, MB

    return {"file_mb": MAX_FILE_BYTES // MB, "batch_mb": MAX_BATCH_BYTES // MB}


def _outcome_item(st: WebState, path: Path, o: ImportOutcome) -> dict[str, Any]:
    unit = st.ws.registry.get(o.unit_code) if o.unit_code else None
    labels: dict[str, str] = {}
    if unit and o.period_code:
        try:
            labels = data.slot_labels(st.ws.plan, st.ws.registry, unit, Period.parse_month(o.period_code))
        except ValueError:
            labels = {}
    findings = data.findings_of(o.problems, labels)
    return {"file": o.file_name, "unit_code": unit.code if unit else None, "unit": unit.name if unit else "",
            "period": o.period_code or "", "status": o.status, "duplicate": o.duplicate, "version": o.version,
            "current": o.is_current, "errors": o.errors, "warnings": o.warnings, "id": o.submission_id,
            "problems": [{"severity": f.severity, "sheet": f.sheet, "cell": f.cell, "label": f.label,
                          "typed": f.typed, "what": f.what, "fix": f.fix} for f in findings]}


async def receive_post(request: Request) -> Response:
    viewer = need(request, ROLE_OFFICE)
    st = _state(request)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPException(411, "Thiếu độ dài nội dung; gửi lại từ trang Nhận tệp.")
    if int(length) > MAX_BATCH_BYTES:
        return _refused(request, [problem("upload-too-large", file="Lần gửi này",
                                          detail=f"{MAX_BATCH_BYTES // (1024 * 1024)} MB")])
    try:
        form = await request.form(max_files=MAX_FILES + 1, max_fields=20)
    except HTTPException:
        return _refused(request, [problem("upload-too-many", value=f"hơn {MAX_FILES}", detail=MAX_FILES)])
    check_csrf(request, form)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    uploads = [f for f in uploads if f.filename]
    if not uploads:
        return _refused(request, [problem("upload-empty")])
    if len(uploads) > MAX_FILES:
        return _refused(request, [problem("upload-too-many", value=len(uploads), detail=MAX_FILES)])
    writer = BatchWriter()
    for up in uploads:
        writer.add(up.filename, await up.read())
        await up.close()
    batch = writer.batch
    period = None
    if form.get("ky"):
        try:
            period = Period.parse_month(str(form.get("ky")))
        except ValueError:
            period = None
    received = data.parse_received(str(form.get("received_at") or ""))

    def work(job: Job) -> None:
        job.total = len(batch.paths)
        for p in batch.refused:
            job.items.append({"file": p.file or "", "status": "refused", "problems": [
                {"code": p.code, "severity": "error", "sheet": "", "cell": "", "label": "", "typed": "", "what": p.message,
                 "fix": ""}]})
        try:
            # workers=1: reading in this server's process; a batch of 200 takes about half a minute
            for path, outcome in import_files(st.ws, batch.paths, period=period, received_at=received,
                                              store=st.store, workers=1):
                item = _outcome_item(st, path, outcome)
                job.items.append(item)
                job.done += 1
                if not outcome.duplicate:
                    record(st, viewer, "upload", unit_code=outcome.unit_code, period_code=outcome.period_code,
                           detail={"file": outcome.file_name, "submission": outcome.submission_id,
                                   "status": outcome.status, "version": outcome.version})
        finally:
            shutil.rmtree(batch.folder, ignore_errors=True)
        ok = sum(1 for i in job.items if i["status"] == "accepted")
        job.message = f"Đã nhận {ok}/{len(job.items)} tệp; {len(job.items) - ok} tệp bị trả lại hoặc không nhận."

    shown = len(batch.paths) + len(batch.refused)
    job = st.jobs.start("import", viewer.name, f"Nhận {shown} tệp" if shown > 1 else "Nhận tệp", work)
    if wants_json(request):
        return JSONResponse({"job": job.id, "url": f"/viec/{job.id}"})
    return RedirectResponse(f"/viec/{job.id}", status_code=303)


def _refused(request: Request, problems: list[Any]) -> Response:
    if wants_json(request):
        return JSONResponse({"problems": [p.to_dict() for p in problems]}, status_code=400)
    return render(request, "message.html", status=400, title="Không nhận được tệp",
                  lines=[p.message for p in problems], back="/nhan-tep")


async def job_page(request: Request) -> Response:
    need(request)
    job = _state(request).jobs.get(request.path_params["job"])
    if job is None:
        raise HTTPException(404, "Không có việc này (máy chủ đã khởi động lại?).")
    return render(request, "job.html", job=job)


async def job_json(request: Request) -> Response:
    need(request)
    job = _state(request).jobs.get(request.path_params["job"])
    if job is None:
        raise HTTPException(404, "Không có việc này.")
    since = request.query_params.get("tu", "0")
    return JSONResponse(job.public(int(since) if since.isdigit() else 0))


async def unit_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    code = request.path_params["code"]
    unit = st.ws.registry.get(code)
    if unit is None:
        raise HTTPException(404, "Không có đơn vị này trong danh mục.")
    period = period_of(request)
    history = users.journal(st.store.engine, unit_code=unit.code)
    uploaders = {int(h["detail"]["submission"]): h["user"] for h in history
                 if h["action"] == "upload" and isinstance(h.get("detail"), dict) and h["detail"].get("submission")}
    versions = data.unit_versions(st.ws, st.store, unit.code, uploaders)
    latest, findings = data.unit_problems(st.ws, st.store, unit.code, period)
    months, figures = data.unit_figures(st.ws, st.store, unit.code, period)
    district = st.ws.registry.district_of(unit)
    return render(request, "unit.html", period=period, unit=unit, tier=st.ws.registry.tier(unit.tier).name,
                  district=district, label=data.unit_label(st.ws.registry, unit), versions=versions, latest=latest,
                  findings=findings, fig_months=months, figures=figures, history=history)


async def download_received(request: Request) -> Response:
    need(request)
    st = _state(request)
    found = data.archived_file(st.store, int(request.path_params["sid"]))
    if found is None:
        raise HTTPException(404, "Không có tệp này.")
    name, body = found
    return attachment(body, name)


async def forms_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    folder = forms_dir(st.ws, period)
    rows = []
    for u in st.ws.registry.units:
        path = data.target_path(folder, period, u)
        rows.append({"unit": u, "file": path.name, "ready": path.is_file()})
    return render(request, "forms.html", period=period, rows=rows, ready=sum(r["ready"] for r in rows))


async def forms_post(request: Request) -> Response:
    viewer = need(request, ROLE_OFFICE)
    st = _state(request)
    form = await request.form()
    check_csrf(request, form)
    period = period_of(request)
    units = list(st.ws.registry.units)

    def work(job: Job) -> None:
        job.total = len(units)
        for g in data.generate(st.ws.plan, st.ws.registry, period, units, forms_dir(st.ws, period),
                               secret=st.ws.secret, office=st.ws.office, protect_password=st.ws.protect_password):
            job.done += 1
            job.items.append({"file": g.path.name, "unit": g.unit.name, "status": "written"})
        record(st, viewer, "forms", period_code=period.code, detail={"count": job.done})
        job.message = f"Đã tạo {job.done} biểu mẫu {period.label}."
        job.result = {"url": f"/bieu-mau?ky={period.code}"}

    job = st.jobs.start("forms", viewer.name, f"Tạo biểu mẫu {period.label}", work)
    return RedirectResponse(f"/viec/{job.id}", status_code=303)


async def form_download(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    unit = st.ws.registry.get(request.path_params["code"])
    if unit is None:
        raise HTTPException(404, "Không có đơn vị này trong danh mục.")
    path = data.target_path(forms_dir(st.ws, period), period, unit)
    if not path.is_file():
        raise HTTPException(404, "Chưa tạo biểu mẫu kỳ này; bấm 'Tạo biểu mẫu' trước.")
    return attachment(path.read_bytes(), path.name)


async def forms_zip(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    folder = forms_dir(st.ws, period)
    buf = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for u in st.ws.registry.units:
            path = data.target_path(folder, period, u)
            if path.is_file():
                zf.write(path, path.name)
                count += 1
    if not count:
        raise HTTPException(404, "Chưa tạo biểu mẫu kỳ này; bấm 'Tạo biểu mẫu' trước.")
    return attachment(buf.getvalue(), f"bieu-mau-{period.code}-{st.today():%Y%m%d}.zip")


REPORT_FILES = {  # kind -> (file name pattern, what it is)
    "docx": ("bao-cao-cchc-{p}.docx", "Báo cáo Word (dự thảo)"),
    "pdf": ("bao-cao-cchc-{p}.pdf", "Báo cáo PDF"),
    "xlsx": ("tong-hop-{p}.xlsx", "Bảng tổng hợp Excel"),
    "errors": ("loi-{p}.xlsx", "Bảng lỗi gửi đơn vị (Excel)"),
}
PREVIEW = "muc-4.json"


async def report_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    folder = report_dir(st.ws, period)
    outputs = []
    for kind, (pattern, label) in REPORT_FILES.items():
        path = folder / pattern.format(p=period.code)
        if path.is_file():
            outputs.append({"kind": kind, "label": label, "file": path.name,
                            "size": f"{max(1, path.stat().st_size // 1024)} KB",
                            "built": data.file_time(path)})
    preview = None
    if (folder / PREVIEW).is_file():
        preview = json.loads((folder / PREVIEW).read_text(encoding="utf-8"))
    return render(request, "report.html", period=period, outputs=outputs, preview=preview,
                  pdf_possible=data.office_available() if st.pdf is None else st.pdf)


async def report_post(request: Request) -> Response:
    viewer = need(request, ROLE_OFFICE)
    st = _state(request)
    form = await request.form()
    check_csrf(request, form)
    period = period_of(request)
    folder = report_dir(st.ws, period)

    def work(job: Job) -> None:
        from ...documents.errorbook import write_error_books
        from ..reporting import write_reports

        job.total = 3
        pdf = data.office_available() if st.pdf is None else st.pdf
        files = write_reports(st.ws, period, folder, pdf=pdf)
        job.done = 2
        job.items.append({"file": files.docx.name, "status": "written"})
        outcomes = data.period_outcomes(st.store, period)
        write_error_books(st.ws, outcomes, folder / REPORT_FILES["errors"][0].format(p=period.code))
        job.done = 3
        (folder / PREVIEW).write_text(json.dumps(data.item4_preview(files.context), ensure_ascii=False),
                                      encoding="utf-8")
        record(st, viewer, "report", period_code=period.code,
               detail={"docx": files.docx.name, "pdf": files.pdf.name if files.pdf else None})
        job.message = f"Đã lập báo cáo {period.label}."
        job.result = {"url": f"/bao-cao?ky={period.code}"}

    job = st.jobs.start("report", viewer.name, f"Lập báo cáo {period.label}", work)
    return RedirectResponse(f"/viec/{job.id}", status_code=303)


async def report_download(request: Request) -> Response:
    need(request)
    st = _state(request)
    period = period_of(request)
    kind = request.path_params["kind"]
    if kind not in REPORT_FILES:
        raise HTTPException(404, "Không có loại tệp này.")
    path = report_dir(st.ws, period) / REPORT_FILES[kind][0].format(p=period.code)
    if not path.is_file():
        raise HTTPException(404, "Chưa có tệp này; bấm 'Lập báo cáo' trước.")
    return attachment(path.read_bytes(), path.name)


async def plan_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    plan = st.ws.plan
    return render(request, "plan.html", plan=plan, tiers={t.code: t.name for t in st.ws.registry.tiers})


async def units_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    plan, reg = st.ws.plan, st.ws.registry
    rows = []
    for u in reg.units:
        items = indicators_for(plan, unit_code=u.code, tier=u.tier, flags=u.flags)
        targets = []
        for item in items:
            t = item.target
            shown = t.printed_id if t and t.printed_id else item.indicator.id
            targets.append({"id": shown, "label": t.label if t else "", "adjusted": bool(t and t.adjusted_by)})
        district = reg.district_of(u)
        rows.append({"unit": u, "tier": reg.tier(u.tier).name, "district": district.name if district else "",
                     "flags": ", ".join(sorted(u.flags)), "targets": targets,
                     "tasks": len(tasks_for(plan, unit_code=u.code, tier=u.tier))})
    return render(request, "units.html", rows=rows, registry=reg)


async def journal_page(request: Request) -> Response:
    need(request)
    st = _state(request)
    return render(request, "journal.html", history=users.journal(st.store.engine, limit=500))


# ---------------------------------------------------------------------------------------------------------
# login


def _safe_next(target: str | None) -> str:
    target = target or "/"
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


async def login_page(request: Request) -> Response:
    st = _state(request)
    if not st.login_required():
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", next=_safe_next(request.query_params.get("tiep")), error=None)


async def login_post(request: Request) -> Response:
    st = _state(request)
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    name = str(form.get("name") or "")[:60]
    password = str(form.get("password") or "")[:200]
    address = request.client.host if request.client else "?"
    nxt = _safe_next(str(form.get("next") or "/"))
    if st.throttle.blocked(address, name):
        minutes = int(st.throttle.window // 60)
        return render(request, "login.html", status=429, next=nxt,
                      error=problem("login-throttled", detail=minutes).message)
    account = users.authenticate(st.store.engine, name, password)
    if account is None:
        st.throttle.failed(address, name)
        return render(request, "login.html", status=401, next=nxt, error=problem("login-failed").message)
    st.throttle.cleared(address, name)
    request.session.clear()
    request.session["user"] = account.name
    request.session["csrf"] = secrets.token_urlsafe(32)   # a new session: a new token
    users.record(st.store.engine, account.name, "login")
    return RedirectResponse(nxt, status_code=303)


async def logout_post(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, form)
    request.session.clear()
    return RedirectResponse("/dang-nhap", status_code=303)


# ---------------------------------------------------------------------------------------------------------
# the application


def _guard(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        try:
            response = await handler(request)
        except _LoginNeeded:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if wants_json(request):
                return JSONResponse({"error": "Cần đăng nhập."}, status_code=401)
            return RedirectResponse(f"/dang-nhap?tiep={quote(target)}", status_code=303)
        except Refusal as exc:
            return render(request, "message.html", status=400, title="Chưa làm được",
                          lines=[p.message for p in exc.problems], back=request.url.path)
        except HTTPException as exc:
            if wants_json(request):
                return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
            return render(request, "message.html", status=exc.status_code, title="Chưa làm được",
                          lines=[str(exc.detail)], back="/")
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    return wrapped


def session_key(ws: Workspace) -> str:
    """The cookie-signing key, derived from the workspace's secret: sessions survive a restart of the server,
    and the forms' signing key itself is never used for anything else."""
    return hmac.new(ws.secret.encode(), b"cchc-web-session", hashlib.sha256).hexdigest()


def make_env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                      autoescape=select_autoescape(["html"], default=True), trim_blocks=True, lstrip_blocks=True)
    env.filters["short_date"] = format_short_date
    env.globals["STATUS_CLASS"] = data.STATUS_CLASS
    return env


def create_app(ws: Workspace, *, local_only: bool = True, store: Store | None = None,
               today: Callable[[], date] | None = None, pdf: bool | None = None) -> Starlette:
    """The web application over one workspace. `local_only`: bound to a loopback address (no login while
    there are no accounts). `today`: for tests; `pdf`: False to skip LibreOffice even when it is there."""
    store = store or store_for(ws)
    g = _guard
    routes = [
        Route("/", g(glance_page)),
        Route("/don-doc", g(chase_page)),
        Route("/don-doc.xlsx", g(chase_sheet)),
        Route("/nhan-tep", g(receive_page)),
        Route("/nhan-tep", g(receive_post), methods=["POST"]),
        Route("/viec/{job:str}.json", g(job_json)),
        Route("/viec/{job:str}", g(job_page)),
        Route("/don-vi/{code:str}", g(unit_page)),
        Route("/tep/{sid:int}", g(download_received)),
        Route("/bieu-mau", g(forms_page)),
        Route("/bieu-mau", g(forms_post), methods=["POST"]),
        Route("/bieu-mau/tat-ca.zip", g(forms_zip)),
        Route("/bieu-mau/don-vi/{code:str}", g(form_download)),
        Route("/bao-cao", g(report_page)),
        Route("/bao-cao", g(report_post), methods=["POST"]),
        Route("/bao-cao/tai/{kind:str}", g(report_download)),
        Route("/ke-hoach", g(plan_page)),
        Route("/danh-muc", g(units_page)),
        Route("/nhat-ky", g(journal_page)),
        Route("/dang-nhap", g(login_page)),
        Route("/dang-nhap", g(login_post), methods=["POST"]),
        Route("/dang-xuat", g(logout_post), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=session_key(ws), session_cookie="cchc_phien",
                             max_age=8 * 3600, same_site="strict", https_only=False)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.web = WebState(ws=ws, store=store, jobs=Jobs(), env=make_env(), local_only=local_only,
                             today=today or date.today, pdf=pdf)
    return app
