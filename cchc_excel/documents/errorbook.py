"""Edge: the error workbook, a document sent back to the agencies' clerks.

One period per workbook. One block per received file — rejected files first, then files accepted with
warnings — each saying the unit's standing today (a later accepted version clears an earlier rejection),
then one row per finding: the sheet and cell as the clerk sees them, the label of the row on the form
("Chỉ tiêu 13 — Tử số: ..."), what was typed, what is wrong and what to do (`problems.FIXES`). Vietnamese
only: no problem codes, no defined names. Prints on A4 with page numbers (`xlsxprint`). One workbook for
all units, or one per unit (`write_error_reports_per_unit`) so that each clerk gets only their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..archive.store import ImportOutcome, Store
from ..archive.workspace import Workspace
from ..core import layout as L
from ..core.narrative import unit_label
from ..core.period import Period
from ..core.plan import Plan
from ..core.problems import CLERK_MESSAGES, fix_for
from ..core.units import Registry, Unit
from ..core.vntext import format_number, format_short_date, parse_number, slugify
from ..workbook.intake import safe_code
from .xlsxprint import Book

SHEET_NAME = "Lỗi cần sửa"
UNKNOWN_UNIT_SLUG = "khong-ro-don-vi"
COLUMNS: tuple[tuple[str, float], ...] = (
    ("TT", 4), ("Trang tính", 11), ("Ô", 6), ("Dòng trên biểu mẫu", 30), ("Đã nhập", 11),
    ("Mức độ", 8.5), ("Sai ở đâu, sai gì", 34), ("Cách sửa", 34),
)
ROLE_WORDS = {"numerator": "Tử số", "denominator": "Mẫu số"}
FIXED_WORDS = {"id": "số thứ tự (ô khóa)", "target": "chỉ tiêu giao (ô khóa)", "target_value": "chỉ tiêu giao (ô khóa)"}
_NAME_LIKE = re.compile(r"\s*\((?:CT|GQ|NV|TT|KK|META)_[A-Za-z0-9_]*\)")


@dataclass(frozen=True)
class UnitStanding:
    """Where a unit stands for the period, from every version received."""

    accepted: bool
    file_name: str | None = None
    version: int | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class Finding:
    severity: str          # error | warning
    sheet: str
    cell: str
    label: str
    typed: str
    what: str
    fix: str


@dataclass(frozen=True)
class FileBlock:
    file_name: str
    unit_code: str | None
    unit_name: str
    period_code: str | None
    rejected: bool
    version: int
    is_current: bool
    findings: tuple[Finding, ...]
    standing: UnitStanding | None

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity != "error" for f in self.findings)

    @property
    def superseded(self) -> bool:
        """A later accepted version of the unit replaces this file."""
        s = self.standing
        return bool(s and s.accepted and s.file_name and (s.file_name != self.file_name or
                                                          (s.version or 0) != self.version))


# ------------------------------------------------------------------------------------------------
# Pure parts: labels, wording, standing, blocks.

def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _cap_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def slot_labels(plan: Plan, registry: Registry, unit: Unit, period: Period) -> dict[str, str]:
    """Defined name (or indicator key) -> the label of its row as the clerk sees it on the form."""
    tier = registry.tier(unit.tier)
    lay = L.build_layout(plan, unit, tier, period)
    out: dict[str, str] = {}
    for s in lay.info_slots:
        out[s.name] = f"Thông tin người lập biểu — {s.label}"
    for block in lay.indicators:
        ind = block.item.indicator
        target = block.item.target
        shown = target.printed_id if target is not None and target.printed_id else ind.id
        head = f"Chỉ tiêu {shown}" + (f" ({ind.short})" if ind.short else "")
        out[ind.key] = head
        for s in block.slots:
            word = ROLE_WORDS.get(s.role or "")
            out[s.name] = f"{head} — {word}: {_lower_first(s.label)}" if word else f"{head} — {s.label}"
        out[block.note.name] = f"{head} — Ghi chú"
    for fixed in lay.fixed:  # the locked cells, as the layout names them
        if fixed.indicator in out:
            out[fixed.name] = f"{out[fixed.indicator]} — {FIXED_WORDS[fixed.role]}"
    for s in L.case_slots(lay.case_table):
        out[s.name] = f"Bảng giải quyết TTHC — {s.label}"
    for t in lay.tasks:
        head = f"Nhiệm vụ {t.item.task.id}"
        for s in (t.status, t.done_date, t.document, t.note):
            out[s.name] = f"{head} — {s.label}"
    for s in lay.note_slots:
        out[s.name] = s.label
    return out


def _row_of(cell: str | None) -> int | None:
    m = re.search(r"(\d+)$", cell or "")
    return int(m.group(1)) if m else None


def label_of(p: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    name = p.get("name")
    label = labels.get(str(name), "") if name else ""
    if label.startswith("Bảng giải quyết TTHC"):
        row = _row_of(p.get("cell"))
        if row is not None:
            line = row - L.CASE_FIRST_ROW
            if 1 <= line <= L.CASE_ROWS:
                label = label.replace("Bảng giải quyết TTHC —", f"Bảng giải quyết TTHC, dòng {line} —", 1)
    if not label and not p.get("cell"):
        return "Cả tệp"
    return label


def _shown_number(value: Any) -> str:
    number = parse_number(value).value
    if number is None:
        return str(value)
    if float(number).is_integer():
        return str(int(number))
    return format_number(float(number))


def clerk_message(p: Mapping[str, Any]) -> str:
    """What is wrong, in the clerk's words: the registry message without the position (the row already
    says sheet, cell and label) and without any defined name."""
    code = str(p.get("code") or "")
    value = p.get("value")
    if code in CLERK_MESSAGES:
        text = CLERK_MESSAGES[code].format(value="" if value is None else value, cell=p.get("cell") or "",
                                           sheet=p.get("sheet") or "", shown=_shown_number(value))
    else:
        text = str(p.get("message") or "")
        cell, sheet, name = p.get("cell") or "", p.get("sheet") or "", p.get("name") or ""
        for prefix in (f"Ô {cell}, trang '{sheet}' ({name}): ", f"Dòng {cell}, trang '{sheet}' ({name}): ",
                       f"Ô {cell}, trang '{sheet}': ", f"Dòng {cell}, trang '{sheet}': "):
            if cell and text.startswith(prefix):
                text = text[len(prefix):]
                break
        else:
            m = re.match(rf"Ô {re.escape(cell)}, trang '{re.escape(sheet)}' \((lĩnh vực '[^']*')\): ", text) \
                if cell else None
            if m:
                text = f"{_cap_first(m.group(1))}: {text[m.end():]}"
    text = _NAME_LIKE.sub("", text)
    return _cap_first(text.strip())


def _typed(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return format_short_date(value.date())
    if isinstance(value, date):
        return format_short_date(value)
    return str(value)


def findings_of(problems: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> tuple[Finding, ...]:
    out = []
    for p in problems:
        sev = "error" if p.get("severity") == "error" else "warning"
        file_level = not p.get("cell")
        out.append(Finding(severity=sev, sheet=str(p.get("sheet") or ""), cell=str(p.get("cell") or ""),
                           label=label_of(p, labels), typed="" if file_level else _typed(p.get("value")),
                           what=clerk_message(p), fix=fix_for(str(p.get("code") or ""), sev)))
    # errors first, then warnings; within each, in the order of the form
    return tuple(sorted(out, key=lambda f: f.severity != "error"))


def standings_from_submissions(subs: pd.DataFrame) -> dict[str, UnitStanding]:
    """unit code -> standing, from `Store.submissions_frame` rows of one period (every version)."""
    out: dict[str, UnitStanding] = {}
    if subs is None or subs.empty:
        return out
    for unit, rows in subs.groupby("unit_code", sort=False):
        current = rows[rows["is_current"].astype(bool)]
        if not current.empty:
            c = current.iloc[-1]
            when = pd.Timestamp(c["received_at"]).to_pydatetime() if pd.notna(c["received_at"]) else None
            out[str(unit)] = UnitStanding(True, str(c["file_name"]), int(c["version"]), when)
        else:
            out[str(unit)] = UnitStanding(False)
    return out


def standings_from_outcomes(outcomes: Iterable[ImportOutcome]) -> dict[str, UnitStanding]:
    """The same from the batch alone (no store at hand): the last current accepted file of each unit."""
    out: dict[str, UnitStanding] = {}
    for o in outcomes:
        if not o.unit_code:
            continue
        if o.status == "accepted" and o.is_current:
            out[o.unit_code] = UnitStanding(True, o.file_name, o.version)
        else:
            out.setdefault(o.unit_code, UnitStanding(False))
    return out


def latest_period(outcomes: Iterable[ImportOutcome]) -> str | None:
    codes = sorted({o.period_code for o in outcomes if o.period_code})
    return codes[-1] if codes else None


def file_blocks(outcomes: Iterable[ImportOutcome], *, registry: Registry | None, plan: Plan | None,
                period: Period | None, standings: Mapping[str, UnitStanding]) -> list[FileBlock]:
    """The blocks of one period's workbook, rejected files first, then accepted files with warnings; files
    without findings are left out. A file whose period is unknown belongs to the period being written."""
    code = period.code if period else None
    seen: set[tuple[str, int]] = set()
    labels_cache: dict[str, dict[str, str]] = {}
    blocks = []
    for o in outcomes:
        if (o.period_code and code and o.period_code != code) or not o.problems:
            continue
        key = (o.file_name, o.submission_id)
        if key in seen:
            continue
        seen.add(key)
        unit = registry.get(o.unit_code) if registry and o.unit_code else None
        labels: dict[str, str] = {}
        if unit is not None and plan is not None and period is not None:
            if unit.code not in labels_cache:
                try:
                    labels_cache[unit.code] = slot_labels(plan, registry, unit, period)  # type: ignore[arg-type]
                except (KeyError, ValueError):
                    labels_cache[unit.code] = {}
            labels = labels_cache[unit.code]
        name = unit_label(registry, unit) if registry and unit else (
            f"Đơn vị mã {o.unit_code}" if o.unit_code else "Chưa xác định được đơn vị")
        blocks.append(FileBlock(file_name=o.file_name, unit_code=o.unit_code, unit_name=name,
                                period_code=o.period_code, rejected=o.status != "accepted", version=o.version,
                                is_current=o.is_current, findings=findings_of(o.problems, labels),
                                standing=standings.get(o.unit_code) if o.unit_code else None))
    # rejected and still open, rejected but replaced since, then accepted with warnings
    return sorted(blocks, key=lambda b: (0 if b.rejected and not b.superseded else 1 if b.rejected else 2))


def block_heading(b: FileBlock, number: int) -> str:
    if b.rejected:
        verdict = f"BỊ TRẢ LẠI ({b.errors} lỗi" + (f", {b.warnings} cảnh báo)" if b.warnings else ")")
    else:
        verdict = f"ĐÃ NHẬN, có {b.warnings} cảnh báo"
    return f"{number}. {b.unit_name} — {verdict}"


def standing_text(b: FileBlock) -> str:
    """The unit's standing today, as one sentence under the block heading."""
    s = b.standing
    if b.unit_code is None:
        return ("Tình trạng: không xác định được đơn vị gửi tệp này. Đề nghị đơn vị nhập số liệu vào đúng "
                "biểu mẫu được cấp và gửi lại.")
    when = f", nhận ngày {format_short_date(s.received_at.date())}" if s and s.received_at else ""
    if b.rejected:
        if b.superseded and s is not None:
            return (f"Tình trạng hiện nay: ĐÃ ĐẠT — bản gửi sau (tệp {s.file_name}, lần gửi thứ {s.version}{when}) "
                    "đã được chấp nhận; không cần sửa tệp này.")
        return "Tình trạng hiện nay: CHƯA CÓ BẢN ĐẠT — đề nghị sửa các lỗi dưới đây và gửi lại tệp."
    if b.superseded and s is not None:
        return (f"Tình trạng hiện nay: ĐÃ ĐẠT — đã thay bằng bản gửi sau (tệp {s.file_name}, lần gửi thứ "
                f"{s.version}{when}).")
    return ("Tình trạng hiện nay: ĐÃ ĐẠT — tệp đã được chấp nhận. Các cảnh báo dưới đây không bắt buộc sửa; "
            "đề nghị kiểm tra lại số liệu.")


# ------------------------------------------------------------------------------------------------
# Edges: writing the workbooks.

def _period_of(outcomes: Sequence[ImportOutcome], period: Period | str | None) -> Period | None:
    if isinstance(period, Period):
        return period
    code = period or latest_period(outcomes)
    try:
        return Period.parse(code) if code else None
    except ValueError:
        return None


def _standings(outcomes: Sequence[ImportOutcome], store: Store | None, period: Period | None
               ) -> dict[str, UnitStanding]:
    if store is not None and period is not None:
        return standings_from_submissions(store.submissions_frame([period.code]))
    return standings_from_outcomes(outcomes)


def _write(blocks: Sequence[FileBlock], path: Path, period: Period | None, *, unit_name: str | None,
           office: Mapping[str, Any] | None) -> Path:
    book = Book(path)
    when = period.label if period else "kỳ chưa xác định"
    title = f"DANH SÁCH LỖI, CẢNH BÁO TRONG BÁO CÁO {when.upper()}"
    sub = [f"Đơn vị: {unit_name}" if unit_name else
           f"Các tệp bị trả lại hoặc có cảnh báo: {len(blocks)} tệp"]
    guide = ("Cách dùng: mở tệp đã gửi, tìm trang tính và ô ghi ở cột 2–3, sửa theo cột \"Cách sửa\", lưu lại "
             "rồi gửi lại tệp. Lỗi làm tệp bị trả lại; cảnh báo không bắt buộc sửa.")
    office = office or {}
    contact = ", ".join(str(x) for x in (office.get("contact"), office.get("phone"), office.get("email")) if x)
    if contact:
        guide += f" Cần hỗ trợ, liên hệ: {contact}."
    try:
        sh = book.sheet(SHEET_NAME, title, COLUMNS, landscape=True,
                        subtitle=[*sub, f"Lập ngày {format_short_date(date.today())}. {guide}"])
        if not blocks:
            sh.empty("Không có lỗi, cảnh báo nào.")
        for i, b in enumerate(blocks, start=1):
            sh.band(block_heading(b, i), "band_bad" if b.rejected and not b.superseded else
                    "band" if b.rejected else "band_warn")
            sh.pair("Tệp đã nhận:", b.file_name)
            sh.band(standing_text(b), "note")
            for n, f in enumerate(b.findings, start=1):
                sh.write([(n, "center"), (f.sheet, "text"), (f.cell, "center"), (f.label, "text"),
                          (f.typed, "text"), ("Lỗi" if f.severity == "error" else "Cảnh báo",
                                              "error" if f.severity == "error" else "text"),
                          (f.what, "text"), (f.fix, "text")])
            sh.skip()
    finally:
        book.close()
    return Path(path)


def write_error_report(outcomes: Iterable[ImportOutcome], path: Path, registry: Registry | None = None, *,
                       plan: Plan | None = None, store: Store | None = None, period: Period | str | None = None,
                       office: Mapping[str, Any] | None = None) -> Path:
    """The error workbook of one period (default: the latest period among the outcomes) for all units.

    With the plan, each finding names the row of the form; with the store, each block says the unit's
    standing from every version received (else from this batch alone)."""
    outs = list(outcomes)
    p = _period_of(outs, period)
    blocks = file_blocks(outs, registry=registry, plan=plan, period=p, standings=_standings(outs, store, p))
    return _write(blocks, Path(path), p, unit_name=None, office=office)


def error_report_filename(period: Period | None, unit: Unit | None, unit_code: str | None = None) -> str:
    """`loi_<period>_<unit-code>_<ascii-slug>.xlsx`, like the intake workbooks' names."""
    head = f"loi_{period.code if period else 'ky-khong-ro'}"
    if unit is not None:
        return f"{head}_{safe_code(unit.code)}_{slugify(unit.name, max_len=50)}.xlsx"
    if unit_code:
        return f"{head}_{safe_code(unit_code)}.xlsx"
    return f"{head}_{UNKNOWN_UNIT_SLUG}.xlsx"


def write_error_reports_per_unit(outcomes: Iterable[ImportOutcome], folder: Path,
                                 registry: Registry | None = None, *, plan: Plan | None = None,
                                 store: Store | None = None, period: Period | str | None = None,
                                 office: Mapping[str, Any] | None = None) -> list[Path]:
    """One workbook per unit with findings in the period, in `folder`; files of no known unit go to one
    workbook for the office (`..._khong-ro-don-vi.xlsx`). Returns the paths written."""
    outs = list(outcomes)
    p = _period_of(outs, period)
    blocks = file_blocks(outs, registry=registry, plan=plan, period=p, standings=_standings(outs, store, p))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_unit: dict[str | None, list[FileBlock]] = {}
    for b in blocks:
        known = b.unit_code if (registry is None or (b.unit_code and registry.get(b.unit_code))) else None
        by_unit.setdefault(known, []).append(b)
    written = []
    for code, mine in by_unit.items():
        unit = registry.get(code) if registry and code else None
        name = mine[0].unit_name if code else None
        path = folder / error_report_filename(p, unit, code)
        written.append(_write(mine, path, p, unit_name=name, office=office))
    return written


def write_error_books(ws: Workspace, outcomes: Iterable[ImportOutcome], target: Path, *,
                      per_unit: bool = False) -> list[Path]:
    """What `cchc import --errors-xlsx TARGET [--per-unit]` writes: one workbook per period of the batch
    (`TARGET` itself when the batch holds one period, else `TARGET` with `_<period>` before the suffix, or
    `loi_<period>.xlsx` inside `TARGET` when it is a folder); with `per_unit`, `TARGET` is a folder and each
    unit gets its own workbook per period. Files of no known period go with the latest period."""
    from ..archive.importing import store_for

    outs = list(outcomes)
    target = Path(target)
    periods = sorted({o.period_code for o in outs if o.period_code}) or [None]
    written: list[Path] = []
    with store_for(ws) as store:
        for code in periods:
            mine = [o for o in outs if o.period_code in (code, None)] if code == periods[-1] else \
                [o for o in outs if o.period_code == code]
            common = {"plan": ws.plan, "store": store, "period": code, "office": ws.office}
            if per_unit:
                written += write_error_reports_per_unit(mine, target, ws.registry, **common)
                continue
            if target.is_dir():
                path = target / f"loi_{code or 'ky-khong-ro'}.xlsx"
            elif len(periods) > 1:
                path = target.with_name(f"{target.stem}_{code}{target.suffix or '.xlsx'}")
            else:
                path = target
            written.append(write_error_report(mine, path, ws.registry, **common))
    return written
