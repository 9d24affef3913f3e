"""Edge: read a returned intake workbook and check every value, collecting every problem at once.

Reading: `safety.inspect` first (no parser sees a hostile file), then python-calamine for the cell values
(measured ~30x faster than openpyxl, docs/measurements.md) and our own defusedxml parse of
xl/workbook.xml for the defined names — calamine does not expose them. Inputs are found through the
defined names the file carries, so inserted rows or a renamed sheet do not break the import; .xls/.ods
files carry no names we can read, so the positions of the same `Layout` are used (with a warning).
Rates and Đạt/Chưa đạt are never taken from the file: they are recomputed from the inputs and the plan.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import math
import operator
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, make_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook

from ..core import layout as L
from ..core.layout import Layout, Slot, a1
from ..core.period import Period
from ..core.plan import Plan
from ..core.problems import Problem, ValidationReport, problem, wording
from ..core.units import Registry
from ..core.vntext import clean_multiline, clean_text, match_key, parse_date, parse_number
from .safety import Inspection, Limits, inspect, parse_ref, run_isolated


@dataclass(frozen=True)
class IndicatorValue:
    key: str
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None          # rate (computed) or reported percent, in percent units
    weight: float | None = None
    answer: str | None = None           # Có/Không, or a status for task-like indicators
    done_date: date | None = None
    note: str | None = None
    sheet: str | None = None
    cell: str | None = None             # where the first input is in the received file


# The case table's count columns, from the layout: the inputs a clerk types (CASE_KEYS, also the store's
# columns) and the totals the form computes from them (received, resolved, pending).
CASE_KEYS: tuple[str, ...] = L.CASE_INPUT_KEYS


def _case_total(parts: tuple[str, ...]) -> property:
    # One C call for the parts (a generator of getattr per part was a visible share of the case checks).
    get = operator.attrgetter(*parts)
    if len(parts) == 1:
        return property(lambda self: sum((get(self),)))
    return property(lambda self: sum(get(self)))


# One row of the case table: its field, its 1-based row in the received file, one count per input column
# and one read-only total per total column, all generated from `layout.CASE_COLUMNS`.
CaseRow = make_dataclass(
    "CaseRow", [("field", str), ("row", int), *[(k, int, dataclasses.field(default=0)) for k in CASE_KEYS]],
    namespace={key: _case_total(parts) for key, parts in L.case_totals_of().items()}, frozen=True)
CaseRow.__module__ = __name__  # pickled and shown as readback.CaseRow


@dataclass(frozen=True)
class TaskStatus:
    key: str
    status: str | None
    done_date: date | None = None
    document: str | None = None
    note: str | None = None


@dataclass
class Submission:
    """What one received file says, after checking."""

    file: str
    sha256: str
    kind: str = "unknown"
    plan_id: str | None = None
    unit_code: str | None = None
    period_code: str | None = None
    format_version: int | None = None
    generated: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, IndicatorValue] = field(default_factory=dict)
    cases: list[CaseRow] = field(default_factory=list)
    tasks: dict[str, TaskStatus] = field(default_factory=dict)
    difficulties: list[str] = field(default_factory=list)
    proposals: list[str] = field(default_factory=list)
    report: ValidationReport = field(default_factory=ValidationReport)

    @property
    def accepted(self) -> bool:
        return self.report.ok

    COPY_CHECK_MIN_FIGURES = 6

    def content_fingerprint(self) -> str | None:
        """Hash of the reported figures (not who filled it): equal for a copy of another unit's file.
        None when there are too few non-zero figures to tell a copy from two small units that really had
        the same (e.g. all zero) month. `read_workbook` computes it once, in the reading process, for the
        finished submission (`remember_fingerprint`); the store asks for it again."""
        held = self.__dict__.get("_fingerprint")
        if held is not None:
            return held[0]
        figures = [x for v in self.indicators.values() for x in (v.numerator, v.denominator, v.value) if x]
        figures += [getattr(c, k) for c in self.cases for k in CASE_KEYS if getattr(c, k)]
        if len(figures) < self.COPY_CHECK_MIN_FIGURES:
            return None
        parts = [f"{k}={v.numerator}/{v.denominator}/{v.value}/{v.answer}" for k, v in sorted(self.indicators.items())]
        parts += [f"{c.field}:{[getattr(c, k) for k in CASE_KEYS]}" for c in self.cases]
        return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()

    def remember_fingerprint(self) -> None:
        """Compute `content_fingerprint` now and keep it: the figures are final (a reader's last step)."""
        self.__dict__.pop("_fingerprint", None)
        self.__dict__["_fingerprint"] = (self.content_fingerprint(),)


@dataclass(frozen=True)
class ReadContext:
    """What the reader needs from the workspace."""

    plan: Plan
    registry: Registry
    secret: str
    period: Period | None = None       # the period being imported, when the office says so
    limits: Limits = field(default_factory=Limits)


# ------------------------------------------------------------------------------------------------
# Raw reading (I/O)


@dataclass
class RawWorkbook:
    inspection: Inspection
    sheets: dict[str, list[list[Any]]]   # sheet name -> rows (from A1)
    names: Mapping[str, tuple[str, int, int, int, int]]  # defined name -> (sheet, r1, c1, r2, c2)
    data: bytes | None = None            # the file's bytes, for number formats (xlsx/xlsm only)
    formats: dict[tuple[str, int, int], str] = field(default_factory=dict)  # (sheet, row, col) -> format code

    def load_formats(self, cells: Iterable[tuple[str, int, int]]) -> None:
        """Look up the number format of these cells (calamine does not expose formats). Cheap: styles.xml
        and one pass over the sheets concerned; nothing for files that are not .xlsx, or unreadable."""
        wanted: dict[str, set[tuple[int, int]]] = {}
        for sheet, row, col in cells:
            wanted.setdefault(sheet, set()).add((row, col))
        if not wanted or self.data is None or self.inspection.kind not in ("xlsx", "xlsm"):
            return
        try:
            found = _cell_formats(self.data, wanted, self.inspection.parts)
        except Exception:  # a broken style part only costs us the format check, never the import
            return
        self.formats.update(found)

    def number_format(self, sheet: str, row: int, col: int) -> str:
        return self.formats.get((sheet, row, col), "")

    def value(self, sheet: str, row: int, col: int) -> Any:
        rows = self.sheets.get(sheet)
        if rows is None or row >= len(rows):
            return None
        r = rows[row]
        if col >= len(r):
            return None
        v = r[col]
        return None if v == "" else v


def read_raw(path: Path, data: bytes, limits: Limits) -> RawWorkbook:
    """Read every sheet's values (bounded) and the defined names. Raises nothing for bad files: the
    inspection's problems say what is wrong."""
    insp = inspect(path, data, limits=limits)
    raw = RawWorkbook(insp, {}, {})
    if insp.fatal or insp.kind not in ("xlsx", "xlsm", "xls", "ods"):
        if not insp.problems:
            insp.problems.append(problem("file-not-workbook", file=str(path), detail=wording("format-not-supported")))
        return raw
    # Large files, and formats whose insides inspect() cannot scan, are parsed in a worker process with a
    # deadline and a memory ceiling (safety.run_isolated); small scanned .xlsx files in-process (docs/limits.md).
    if insp.kind in ("xls", "ods") or insp.inflated_bytes > limits.isolate_over_bytes:
        status, payload = run_isolated(_read_sheets, (data, limits), timeout_s=limits.parse_timeout_s,
                                       memory_bytes=limits.parse_memory_bytes)
    else:
        # calamine reads the parts inspect() inflated and checked, stored: it does not inflate them again,
        # and only what holds values (`Inspection.values_copy`); should that copy fail to read (an odd file
        # keeping a sheet where the copy leaves parts out), the whole stored copy is read, as before. The guide
        # sheet holds no input and no locked cell: it is not parsed unless a defined name points into it.
        guide = L.SHEET_GUIDE
        skip = () if insp.workbook is not None and insp.workbook.names_point_into(guide) else (guide,)
        trimmed = insp.values_copy()
        try:
            status, payload = "ok", _read_sheets(trimmed or data, limits, skip)
        except Exception as exc:  # calamine raises its own error types for corrupt content
            status, payload = "error", f"{type(exc).__name__}: {exc}"[:300]
            # Without a trimmed copy the file itself was read, and so would be the second time (no stored
            # copy either: both need every part held): a broken file is not parsed twice.
            if trimmed is not None:
                try:
                    status, payload = "ok", _read_sheets(insp.stored_copy() or data, limits, skip)
                except Exception as exc:
                    status, payload = "error", f"{type(exc).__name__}: {exc}"[:300]
    if status == "timeout":
        insp.problems.append(problem("file-too-slow", file=str(path), detail=wording("read-timeout", seconds=limits.parse_timeout_s)))
        return raw
    if status == "memory":
        insp.problems.append(problem("file-too-large", file=str(path), detail=wording("read-memory", reason=payload)))
        return raw
    if status != "ok":
        insp.problems.append(problem("file-unreadable", file=str(path), detail=payload))
        return raw
    if len(payload) > limits.max_sheets:
        insp.problems.append(problem("file-too-large", file=str(path), detail=wording("sheet-count", count=len(payload))))
        return raw
    raw.sheets = payload
    raw.names = _names_of(insp)
    raw.data = data
    return raw


_X = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that change what a number means (ECMA-376 18.8.30): percent, dates and times.
_BUILTIN_FORMATS = {9: "0%", 10: "0.00%", 14: "dd/mm/yyyy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy",
                    18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "dd/mm/yyyy h:mm",
                    45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 49: "@"}


def _xml(zf: zipfile.ZipFile, name: str) -> Any:
    return SafeET.fromstring(zf.read(name), forbid_dtd=True, forbid_entities=True, forbid_external=True)


_STYLES_SEEN: dict[bytes, list[str]] = {}


def _style_formats(xml: bytes) -> list[str]:
    """The number format code of each cell style (cellXfs) of a styles part. Forms of one shape carry the
    same styles part byte for byte: parsed once per process (keyed by the bytes themselves)."""
    known = _STYLES_SEEN.get(xml)
    if known is not None:
        return known
    styles = SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    codes = dict(_BUILTIN_FORMATS)
    for nf in styles.iter(f"{_X}numFmt"):
        try:
            codes[int(nf.get("numFmtId", ""))] = nf.get("formatCode", "")
        except ValueError:
            continue
    xfs: list[str] = []
    cell_xfs = styles.find(f"{_X}cellXfs")
    for xf in (cell_xfs if cell_xfs is not None else []):
        try:
            xfs.append(codes.get(int(xf.get("numFmtId", "0")), ""))
        except ValueError:
            xfs.append("")
    if len(_STYLES_SEEN) >= 32:
        _STYLES_SEEN.clear()
    _STYLES_SEEN[xml] = xfs
    return xfs


_PARTS_SEEN: dict[tuple[bytes, bytes], list[tuple[str, str]]] = {}


def _sheet_parts(workbook: bytes, rels: bytes) -> list[tuple[str, str]]:
    """(sheet name, part name) in workbook order; parsed once per process for the same two parts (forms of
    one shape have them byte for byte: a workbook part with ~200 defined names took a millisecond)."""
    key = (workbook, rels)
    known = _PARTS_SEEN.get(key)
    if known is not None:
        return known
    safe = {"forbid_dtd": True, "forbid_entities": True, "forbid_external": True}
    targets = {r.get("Id"): r.get("Target", "") for r in SafeET.fromstring(rels, **safe).iter(f"{_PR}Relationship")}
    out = []
    for sheet in SafeET.fromstring(workbook, **safe).iter(f"{_X}sheet"):
        target = targets.get(sheet.get(f"{_R}id"), "")
        out.append((sheet.get("name", ""), target.lstrip("/") if target.startswith("/") else "xl/" + target))
    if len(_PARTS_SEEN) >= 32:
        _PARTS_SEEN.clear()
    _PARTS_SEEN[key] = out
    return out


def _cell_formats(data: bytes, wanted: dict[str, set[tuple[int, int]]],
                  parts: dict[str, bytes] | None = None) -> dict[tuple[str, int, int], str]:
    """(sheet, row, col) -> number format code of the wanted cells ((row, col) per sheet name); a cell whose
    style's format does not change what its number means (not a percent, not a date) may be left out. The
    file has passed `safety.inspect` (sizes bounded, no DTD or entities), which keeps its small parts
    inflated (`parts`): they are not inflated again; styles and workbook parts parsed with defusedxml."""
    out: dict[tuple[str, int, int], str] = {}
    held = parts or {}
    zf: zipfile.ZipFile | None = None

    def part(name: str) -> bytes | None:
        nonlocal zf
        if name in held:
            return held[name]
        if zf is None:
            zf = zipfile.ZipFile(io.BytesIO(data))
        try:
            return zf.read(name)
        except KeyError:
            return None

    try:
        styles = part("xl/styles.xml")
        if styles is None:
            return out
        xfs = _style_formats(styles)
        if not _meaningful_styles(xfs):
            return out
        workbook, rels = part("xl/workbook.xml"), part("xl/_rels/workbook.xml.rels")
        if workbook is None or rels is None:
            raise KeyError("xl/workbook.xml")   # as before: no sheet parts, no formats
        for name, where in _sheet_parts(workbook, rels):
            if name not in wanted:
                continue
            xml = part(where)
            if xml is not None:
                _sheet_cell_styles(xml, wanted[name], name, xfs, out)
    finally:
        if zf is not None:
            zf.close()
    return out


_MEANINGFUL_XFS: dict[tuple[str, ...], tuple[int, ...]] = {}
# A cell's start tag (any namespace prefix, any attribute order) and its reference.
_CELL_START = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?(?<=\s)r\s*=\s*["']([A-Za-z]{1,3}[0-9]{1,9})["']""")


def _meaningful_styles(xfs: list[str]) -> tuple[int, ...]:
    """The cell styles whose number format changes what a number means (percent, date)."""
    key = tuple(xfs)
    known = _MEANINGFUL_XFS.get(key)
    if known is None:
        if len(_MEANINGFUL_XFS) > 64:
            _MEANINGFUL_XFS.clear()
        known = _MEANINGFUL_XFS[key] = tuple(i for i, code in enumerate(xfs) if format_meaning(code))
    return known


def _sheet_cell_styles(xml: bytes, cells: set[tuple[int, int]], sheet: str, xfs: list[str],
                       out: dict[tuple[str, int, int], str]) -> None:
    """The number formats of the cells `cells` ((row, col)) of one sheet part, where they change what a number means
    (the other cells are left out: their format says nothing). Only the few cells carrying a percent or
    date style are looked at: each such style attribute (` s="8"`, either quote, as every writer puts it)
    is found with one search for both quotes and its start tag read. A parser's call per element was half
    the reader's time (measured); a search per cell still a fifth."""
    for style in _meaningful_styles(xfs):
        code = xfs[style]
        for found in _style_attribute(style).finditer(xml):
            at = found.start()
            start = xml.rfind(b"<", 0, at)
            end = xml.find(b">", at)
            m = _CELL_START.match(xml, start, end + 1) if start >= 0 and end >= 0 else None
            if m:
                parsed = parse_ref("x!" + m.group(1).decode("ascii"))
                if parsed and (parsed[1], parsed[2]) in cells:
                    out[(sheet, parsed[1], parsed[2])] = code


@functools.lru_cache(maxsize=256)
def _style_attribute(style: int) -> re.Pattern[bytes]:
    """` s="8"` or ` s='8'`: one scan of the sheet instead of one per quote (the two cannot overlap)."""
    return re.compile(b""" s=(?:"%d"|'%d')""" % (style, style))


_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


@functools.lru_cache(maxsize=512)
def format_meaning(code: str) -> str:
    """What a number format says about the number it shows: "percent" (the cell holds a fraction: 0.875
    shows as 87,5%), "date" (a day serial), or "" (a plain number)."""
    bare = _FORMAT_NOISE.sub("", code or "").lower().replace("general", "")
    if "%" in bare:
        return "percent"
    if re.search(r"[dmyhs]", bare):
        return "date"
    return ""


def _names_of(insp: Inspection) -> Mapping[str, tuple[str, int, int, int, int]]:
    """The defined names that are plain ranges, resolved (`parse_ref`). The names come from the workbook part
    alone, and forms of one shape carry it byte for byte: resolved once per process for those bytes and
    shared, read-only, by the files of that shape (`safety.WorkbookPart.resolved_names`). A workbook part
    not held inflated (over 1 MB), or none (.xls, .ods), gets its names parsed when first asked for (`_Names`)."""
    if insp.workbook is None or "xl/workbook.xml" not in insp.parts:
        return _Names(insp.defined_names)
    return insp.workbook.resolved_names


class _Names(dict):
    """Defined names parsed when first asked for: a form has ~120, a reader needs most but not all, and
    parsing them all up front was a visible share of the import."""

    def __init__(self, refs: dict[str, str]) -> None:
        super().__init__()
        self._refs = refs

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self:
            ref = self._refs.get(name)
            self[name] = parse_ref(ref) if ref else None
        value = dict.get(self, name)
        return default if value is None else value


def _read_sheets(data: bytes, limits: Limits, skip: Iterable[str] = ()) -> dict[str, list[list[Any]]]:
    """Every sheet's values with calamine, from A1, at most max_rows_read rows past the first used one, of
    64 columns each. One `to_python` call per sheet (a Python list per row was a visible share); with
    skip_empty_area=False the rows and columns before the first used cell are there as empty cells, so
    addresses stay true (iter_rows put the empty rows before the first used one but not the columns: the
    padding done here before counted those rows twice). The sheet's extent is bounded by the guard. The
    sheets named in `skip` (no check reads them) are not parsed: they are there, empty."""
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out: dict[str, list[list[Any]]] = {}
    for name in wb.sheet_names[: limits.max_sheets + 1]:
        if name in skip:
            out[name] = []
            continue
        sheet = wb.get_sheet_by_name(name)
        start_row = (sheet.start or (0, 0))[0]
        rows = sheet.to_python(skip_empty_area=False, nrows=start_row + limits.max_rows_read)
        out[name] = [r if len(r) <= 64 else r[:64] for r in rows]
    return out


# ------------------------------------------------------------------------------------------------
# Interpreting and checking (pure given a RawWorkbook)


def _meta(raw: RawWorkbook) -> dict[str, str]:
    """The metadata sheet's values (layout.META), by defined name, else by its key column."""
    meta = L.META
    rows = raw.sheets.get(meta.sheet) or []
    out: dict[str, str] = {}
    for key in meta.keys:
        loc = raw.names.get(key)
        value = raw.value(loc[0], loc[1], loc[2]) if loc else None
        if value is None:
            # Names lost (xls/ods) or removed: the metadata sheet keeps key/value pairs side by side.
            value = next((row[meta.value_col] for row in rows
                          if len(row) > max(meta.key_col, meta.value_col) and row[meta.key_col] == key), None)
        if value is not None:
            out[key] = str(value).strip()
    return out


class _Locator:
    """Find a slot's cells in the received file: by its defined name, else by the layout position."""

    def __init__(self, raw: RawWorkbook, file: str) -> None:
        self.raw = raw
        self.file = file
        self.used_positions = False
        # A slot's cells are asked for more than once (the number formats, then its check): found once per
        # slot object (held here with its cells, so its id is not reused while the file is read).
        self._found: dict[int, tuple[Slot, list[tuple[str, int, int, Any]]]] = {}

    def cells(self, slot: Slot) -> list[tuple[str, int, int, Any]]:
        found = self._found.get(id(slot))
        if found is None:
            found = self._found[id(slot)] = (slot, self._cells(slot))
        return found[1]

    def _cells(self, slot: Slot) -> list[tuple[str, int, int, Any]]:
        loc = self.raw.names.get(slot.name)
        if loc is not None:
            sheet, r1, col, r2, _ = loc
        else:
            self.used_positions = True
            sheet, r1, col = slot.sheet, slot.row, slot.col
            r2 = r1 + slot.rows - 1
        # `RawWorkbook.value` for a column of cells, without a call per cell (the case table has hundreds).
        rows = self.raw.sheets.get(sheet) or []
        n = len(rows)
        if r1 == r2:   # one cell (most slots)
            v = rows[r1][col] if r1 < n and col < len(rows[r1]) else None
            return [(sheet, r1, col, None if v == "" else v)]
        if r1 >= 0:   # a column: the rows the sheet has, then empty cells past its end
            # One pass building the cells (two, through a list of values, was measured twice as long).
            out = [(sheet, r, col, None if (v := line[col]) == "" else v) if col < len(line) else (sheet, r, col, None)
                   for r, line in enumerate(rows[r1:min(r2 + 1, n)], r1)]
            if r2 >= n:
                out.extend((sheet, r, col, None) for r in range(max(r1, n), r2 + 1))
            return out
        out = []
        for r in range(r1, r2 + 1):   # a reference to row 0 ("A0:A9"): as the rows' list indexes it
            if r < n:
                line = rows[r]
                v = line[col] if col < len(line) else None
                out.append((sheet, r, col, None if v == "" else v))
            else:
                out.append((sheet, r, col, None))
        return out

    def cell(self, slot: Slot) -> tuple[str, int, int, Any]:
        return self.cells(slot)[0]


def _p(code: str, file: str, sheet: str, row: int, col: int, slot: Slot, value: Any = None, **kw: Any) -> Problem:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # what the clerk typed: "986", not "986.0" (calamine returns numbers as floats)
    return problem(code, file=file, sheet=sheet, cell=a1(row, col), name=slot.name, value=value, **kw)


_PLAIN_INTEGER = re.compile(r"\s*\d+\s*")
_DOT_DECIMAL = re.compile(r"\s*\d{1,3}\.\d+\s*%?\s*")
EXCEL_EPOCH = date(1899, 12, 30)


def _vn(value: float) -> str:
    """A number as the clerk would write it: 87,5 / 1234."""
    return f"{round(value, 9):g}".replace(".", ",")


def _serial_date(serial: float) -> str:
    try:
        return (EXCEL_EPOCH + timedelta(days=int(serial))).strftime("%d/%m/%Y")
    except (OverflowError, ValueError):
        return _vn(serial)


def _number(raw_value: Any, where: tuple[str, int, int], slot: Slot, file: str, *, whole: bool,
            lo: float | None, hi: float | None, fmt: str = "") -> tuple[float | None, list[Problem]]:
    """Read one numeric input. `fmt` is the meaning of the cell's number format ("percent", "date" or "")
    where the file tells it: a percent-formatted cell holds a fraction (the clerk typed "87,5%"), a
    date-formatted one a day serial (the clerk typed a date)."""
    # The common case first: a plain number in range (what the checks below accept without a word).
    if (type(raw_value) is float and not fmt and 0 <= raw_value < math.inf
            and (lo is None or raw_value >= lo) and (hi is None or raw_value <= hi)):
        if not whole:
            return raw_value, []
        if abs(raw_value - round(raw_value)) <= 1e-9:
            return float(round(raw_value)), []
    sheet, row, col = where
    problems: list[Problem] = []
    if isinstance(raw_value, (date, datetime)):
        return None, [_p("date-in-number-cell", file, sheet, row, col, slot, raw_value.strftime("%d/%m/%Y"))]
    if isinstance(raw_value, (int, float)) and not isinstance(raw_value, bool):
        if fmt == "date":
            return None, [_p("date-in-number-cell", file, sheet, row, col, slot, _serial_date(raw_value))]
        if fmt == "percent":
            typed = _vn(raw_value * 100) + "%"
            if whole:
                return None, [_p("percent-in-count-cell", file, sheet, row, col, slot, typed)]
            raw_value = round(raw_value * 100, 9)
            problems.append(_p("percent-from-format", file, sheet, row, col, slot, typed, detail=_vn(raw_value)))
    if not whole and isinstance(raw_value, str) and _DOT_DECIMAL.fullmatch(raw_value) and "," not in raw_value:
        # A percentage never needs a thousands dot: "95.5" is a decimal point (vi-VN writes 95,5).
        decimal = parse_number(raw_value.replace(".", ","))
        if decimal.value is not None and 0 <= decimal.value <= 100:
            return decimal.value, [_p("decimal-point", file, sheet, row, col, slot, raw_value.strip(),
                                      detail=_vn(decimal.value))]
    parsed = parse_number(raw_value)
    if parsed.value is None:
        if parsed.reason is None:
            return None, []
        code = "ambiguous-number" if "không rõ" in parsed.reason else "not-a-number"
        return None, [_p(code, file, sheet, row, col, slot, raw_value, detail=parsed.reason)]
    value = parsed.value
    if parsed.percent and whole:
        return None, [_p("percent-in-count-cell", file, sheet, row, col, slot, raw_value)]
    if parsed.converted and not _PLAIN_INTEGER.fullmatch(str(raw_value)):
        # Only when the reading could surprise (a decimal comma, separators, a % sign): "34" typed into a
        # text cell is 34 and needs no word.
        problems.append(_p("number-from-text", file, sheet, row, col, slot, raw_value, detail=_vn(value)))
    if value < 0:
        problems.append(_p("negative", file, sheet, row, col, slot, raw_value))
        return None, problems
    if whole and abs(value - round(value)) > 1e-9:
        problems.append(_p("not-whole", file, sheet, row, col, slot, raw_value))
        return None, problems
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        problems.append(_p("percent-out-of-range", file, sheet, row, col, slot, raw_value))
        return None, problems
    return (float(round(value)) if whole else value), problems


_STATUS_KEYS = {match_key(s): s for s in L.STATUSES}
_STATUS_KEYS.update({match_key("Hoàn thành"): L.STATUSES[0], match_key("Đã xong"): L.STATUSES[0],
                     match_key("Đang triển khai"): L.STATUSES[1], match_key("Chưa"): L.STATUSES[2],
                     match_key("Chưa triển khai"): L.STATUSES[2]})
_YES = {match_key(x) for x in ("Có", "co", "x", "yes", "đã", "1", "true")}
_NO = {match_key(x) for x in ("Không", "khong", "no", "chưa", "0", "false")}


def _text(raw_value: Any, where: tuple[str, int, int], slot: Slot, file: str, limits: Limits,
          multiline: bool = False) -> tuple[str | None, list[Problem]]:
    if raw_value is None:
        return None, []
    if isinstance(raw_value, float) and raw_value.is_integer():
        raw_value = int(raw_value)
    if isinstance(raw_value, (date, datetime)):
        raw_value = raw_value.strftime("%d/%m/%Y")
    text, legacy = (clean_multiline if multiline else clean_text)(str(raw_value))
    sheet, row, col = where
    problems: list[Problem] = []
    if legacy:
        problems.append(_p("legacy-encoding", file, sheet, row, col, slot, str(raw_value)[:80], detail=legacy))
    if len(text) > limits.max_text_chars:
        problems.append(_p("text-too-long", file, sheet, row, col, slot, len(text), detail=limits.max_text_chars))
        text = text[: limits.max_text_chars]
    return (text or None), problems


def _choice(raw_value: Any, where: tuple[str, int, int], slot: Slot, file: str) -> tuple[str | None, list[Problem]]:
    if raw_value is None:
        return None, []
    sheet, row, col = where
    if isinstance(raw_value, bool):
        raw_value = L.YESNO[0] if raw_value else L.YESNO[1]
    key = match_key(str(raw_value))
    if slot.kind == "yesno":
        if key in _YES:
            return L.YESNO[0], []
        if key in _NO:
            return L.YESNO[1], []
        return None, [_p("not-in-list", file, sheet, row, col, slot, raw_value, detail=", ".join(L.YESNO))]
    status = _STATUS_KEYS.get(key)
    if status is None:
        return None, [_p("not-in-list", file, sheet, row, col, slot, raw_value, detail=", ".join(L.STATUSES))]
    return status, []


def _date(raw_value: Any, where: tuple[str, int, int], slot: Slot, file: str) -> tuple[date | None, list[Problem]]:
    if raw_value is None:
        return None, []
    parsed = parse_date(raw_value)
    if parsed is None or not (2000 <= parsed.year <= 2100):
        sheet, row, col = where
        return None, [_p("not-a-date", file, sheet, row, col, slot, raw_value)]
    return parsed, []


def identify(raw: RawWorkbook, ctx: ReadContext, file: str, sub: Submission) -> Layout | None:
    """Check the metadata and signature; return the layout to read the file with, or None."""
    meta = _meta(raw)
    report = sub.report
    if not meta.get("META_UNIT") or not meta.get("META_PERIOD"):
        report.add(problem("not-our-form", file=file))
        return None
    sub.unit_code, sub.period_code, sub.plan_id = meta["META_UNIT"], meta["META_PERIOD"], meta.get("META_PLAN")
    sub.generated = meta.get("META_GENERATED")
    try:
        sub.format_version = int(float(meta.get("META_VERSION", "0")))
    except ValueError:
        sub.format_version = 0
    fields = (meta.get("META_VERSION", ""), meta.get("META_PLAN", ""), sub.unit_code, sub.period_code)
    if not L.verify(ctx.secret, fields, meta.get("META_GENERATED", ""), meta.get("META_SIGNATURE", "")):
        report.add(problem("bad-signature", file=file))
        return None
    if sub.format_version < L.FORMAT_VERSION:
        report.add(problem("old-format-version", file=file, value=sub.format_version, detail=L.FORMAT_VERSION))
        return None
    if sub.plan_id != ctx.plan.id:
        report.add(problem("wrong-plan", file=file, value=sub.plan_id, detail=ctx.plan.id))
        return None
    try:
        period = Period.parse(sub.period_code)
    except ValueError:
        report.add(problem("not-our-form", file=file))
        return None
    if ctx.period is not None and period != ctx.period:
        report.add(problem("wrong-period", file=file, value=period.code, detail=ctx.period.code))
    unit = ctx.registry.get(sub.unit_code)
    if unit is None:
        report.add(problem("unit-not-in-registry", file=file, value=sub.unit_code))
        return None
    stem = Path(file).name
    parts = stem.split("_")
    if len(parts) >= 3 and parts[0] == period.code and parts[1] != unit.code and ctx.registry.get(parts[1]):
        report.add(problem("filename-unit-mismatch", file=file, value=unit.code, detail=parts[1]))
    return L.build_layout(ctx.plan, unit, ctx.registry.tier(unit.tier), period)


def _check_fixed(raw: RawWorkbook, lay: Layout, loc: _Locator, file: str) -> Iterator[Problem]:
    """Locked cells (ids, targets) that differ from the plan: the plan wins, the change is reported."""
    for fixed in lay.fixed:
        pos = raw.names.get(fixed.name)
        sheet, row, col = (pos[0], pos[1], pos[2]) if pos else (fixed.sheet, fixed.row, fixed.col)
        found = raw.value(sheet, row, col)
        expected = fixed.value
        if found is None and pos is None and loc.used_positions:
            continue
        same = (found == expected) if not isinstance(expected, float) else (
            isinstance(found, (int, float)) and abs(float(found) - expected) < 1e-9)
        if not same and " ".join(str(found).split()) != " ".join(str(expected).split()):
            # Whole numbers as the clerk saw them ("20", not "20.0") in the message.
            if isinstance(found, float) and found.is_integer():
                found = int(found)
            shown = f"{expected:g}" if isinstance(expected, float) else expected
            yield problem("locked-cell-changed", file=file, sheet=sheet, cell=a1(row, col), name=fixed.name,
                          value=found, detail=shown)


# ------------------------------------------------------------------------------------------------
# Checks: one generator per sheet. Each reads its sheet's slots, fills its part of the Submission and
# yields every problem it finds; `interpret` collects them all.

# Codes for an input left blank; an untouched form reports one `form-empty` instead of one per cell.
MISSING_CODES = frozenset({"required-missing", "indicator-input-missing", "task-status-missing",
                           "case-field-missing"})


@dataclass
class _Reading:
    """One file being interpreted: what every sheet check needs, and whether the clerk typed anything."""

    raw: RawWorkbook
    lay: Layout
    loc: _Locator
    file: str
    limits: Limits
    touched: bool = False          # some input holds something (the form is not empty)
    cases_bad: bool = False        # a case count could not be read (taken as 0)

    def read(self, slot: Slot, cell: tuple[str, int, int, Any] | None = None
             ) -> tuple[Any, list[Problem], tuple[str, int, int], Any]:
        """Read one input cell by its slot's kind: (value, problems, where, what was typed)."""
        sheet, row, col, value = cell if cell is not None else self.loc.cell(slot)
        where = (sheet, row, col)
        if value is None:   # an empty cell: nothing and no problem, whatever the kind (as each reader says)
            return None, [], where, None
        kind = slot.kind
        if kind in ("count", "percent"):
            # A number format only changes what a number means (`_number`); `formats` holds no other cell.
            fmt = format_meaning(self.raw.number_format(*where)) if self.raw.formats else ""
            got, probs = _number(value, where, slot, self.file, whole=kind == "count",
                                 lo=None if kind == "count" else 0, hi=None if kind == "count" else 100, fmt=fmt)
        elif kind in ("yesno", "status"):
            got, probs = _choice(value, where, slot, self.file)
        elif kind == "date":
            got, probs = _date(value, where, slot, self.file)
        else:
            got, probs = _text(value, where, slot, self.file, self.limits, multiline=kind == "longtext")
        return got, probs, where, value


def check_info(r: _Reading, sub: Submission) -> Iterator[Problem]:
    """'Thông tin': who filled the form."""
    for slot in r.lay.info_slots:
        got, probs, where, _ = r.read(slot)
        yield from probs
        if got is None and slot.required and not probs:
            yield _p("required-missing", r.file, *where, slot, severity="warning", label=slot.label.lower())
        sub.info[slot.role or slot.name] = got


def check_indicators(r: _Reading, sub: Submission) -> Iterator[Problem]:
    """'Chỉ tiêu': each indicator's inputs, its rate (recomputed, never read) and its note."""
    for block in r.lay.indicators:
        yield from _check_indicator(r, sub, block)


def _check_indicator(r: _Reading, sub: Submission, block: L.IndicatorBlock) -> Iterator[Problem]:
    ind = block.item.indicator
    read: dict[str, tuple[Any, tuple[str, int, int], Any, Slot]] = {}
    for slot in block.slots:
        got, probs, where, value = r.read(slot)
        yield from probs
        r.touched = r.touched or value is not None
        read[slot.role or ""] = (got, where, value, slot)
    note, probs, _, _ = r.read(block.note)
    yield from probs
    # Required inputs missing (the bad ones already have their own problem).
    for got, where, value, slot in read.values():
        if got is None and value is None and slot.required:
            yield _p("indicator-input-missing", r.file, *where, slot, label=slot.label, indicator=ind.id)
    first = next(iter(read.values()), None)

    def got(role: str) -> Any:
        return read[role][0] if role in read else None

    # The IndicatorValue's fields by kind, made once (not one dataclass made and replaced per indicator).
    values: dict[str, Any]
    if ind.kind == "rate":
        num, den = got("numerator"), got("denominator")
        rate = None
        if num is not None and den is not None:
            if num > den:
                _, where, _, slot = read["numerator"]
                yield _p("numerator-exceeds-denominator", r.file, *where, slot, value=int(num), detail=int(den))
            elif den > 0:
                rate = num / den * 100
        values = {"numerator": num, "denominator": den, "value": rate}
    elif ind.kind == "percent":
        values = {"value": got("value"), "weight": got("weight")}
    elif ind.kind == "yesno":
        answer = got("value")
        values = {"answer": answer, "value": None if answer is None else (100.0 if answer == L.YESNO[0] else 0.0)}
    else:
        values = {"answer": got("status"), "done_date": got("done_date")}
    sub.indicators[ind.key] = IndicatorValue(key=ind.key, note=note, sheet=first[1][0] if first else None,
                                             cell=a1(first[1][1], first[1][2]) if first else None, **values)


def check_cases(r: _Reading, sub: Submission) -> Iterator[Problem]:
    """'Giải quyết TTHC': a row counts when any of its cells holds something; its totals must balance."""
    slots = {s.role: s for s in L.case_slots(r.lay.case_table)}
    col_cells = {key: r.loc.cells(slot) for key, slot in slots.items()}
    field_slot = slots["field"]
    whole, parts = L.CASE_BALANCE
    # The rows where any cell holds something (most of the table is empty), in one pass over its cells.
    filled = {i for column in col_cells.values() for i, cell in enumerate(column) if cell[3] is not None}
    for i in range(len(col_cells["field"])):
        if i not in filled:
            continue   # an empty row (most of the table)
        cells = {key: col_cells[key][i] if i < len(col_cells[key]) else None for key in slots}
        r.touched = True
        counts: dict[str, int] = {}
        bad = False
        for key in CASE_KEYS:
            got, probs, _, _ = r.read(slots[key], cells[key])
            yield from probs
            bad = bad or any(p.severity == "error" for p in probs)
            counts[key] = int(got or 0)
        fname, probs, (fsheet, frow, fcol), _ = r.read(field_slot, cells["field"])
        yield from probs
        if not fname:
            yield _p("case-field-missing", r.file, fsheet, frow, fcol, field_slot)
            fname = wording("unnamed-case-field", row=frow + 1)
        r.cases_bad = r.cases_bad or bad
        case = CaseRow(field=fname, row=frow + 1, **counts)
        balance = sum(getattr(case, k) for k in parts)
        if not bad and balance != getattr(case, whole):
            # Point at the row's first total (column 3 of the form, right of the field name).
            yield problem("case-balance", file=r.file, sheet=fsheet,
                          cell=a1(frow, fcol + r.lay.case_table.column(whole).col - field_slot.col),
                          name=field_slot.name, field=fname, value=balance, detail=getattr(case, whole))
        sub.cases.append(case)


def check_case_denominators(r: _Reading, sub: Submission) -> Iterator[Problem]:
    """An indicator whose denominator the plan ties to a case-table total must equal that total. A case
    count that could not be read was taken as 0: comparing totals would then only add noise."""
    if not sub.cases or r.cases_bad:
        return
    totals = {key: sum(getattr(c, key) for c in sub.cases) for key in L.CASE_TOTAL_KEYS}
    for block in r.lay.indicators:
        ind = block.item.indicator
        iv = sub.indicators.get(ind.key)
        if ind.denominator_equals and iv and iv.denominator is not None:
            expected = totals[ind.denominator_equals]
            if int(iv.denominator) != expected:
                slot = block.slots[1]
                sheet, row, col, _ = r.loc.cell(slot)
                total = r.lay.case_table.column(ind.denominator_equals)
                yield _p("case-denominator-mismatch", r.file, sheet, row, col, slot, value=int(iv.denominator),
                         detail=expected, column=total.number, group=total.group)


def check_tasks(r: _Reading, sub: Submission) -> Iterator[Problem]:
    """'Nhiệm vụ': each task's status, completion date, document and note."""
    for trow in r.lay.tasks:
        got: dict[str, Any] = {}
        typed: dict[str, Any] = {}
        where: dict[str, tuple[str, int, int]] = {}
        for slot in (trow.status, trow.done_date, trow.document, trow.note):
            role = slot.role or ""
            got[role], probs, where[role], typed[role] = r.read(slot)
            yield from probs
            r.touched = r.touched or typed[role] is not None
        if got["status"] is None and typed["status"] is None:
            yield _p("task-status-missing", r.file, *where["status"], trow.status, task=trow.item.task.id)
        if got["status"] == L.STATUSES[0] and typed["done_date"] is None:  # a bad date has its own problem
            yield _p("status-date-missing", r.file, *where["done_date"], trow.done_date)
        key = trow.item.task.key
        sub.tasks[key] = TaskStatus(key, got["status"], got["done_date"], got["document"], got["note"])


def check_notes(r: _Reading, sub: Submission) -> Iterator[Problem]:
    """'Khó khăn, kiến nghị': one item per line."""
    for slot in r.lay.note_slots:
        text, probs, _, _ = r.read(slot)
        yield from probs
        items = [x for x in (line.strip(" -•+*\t") for line in (text or "").split("\n")) if x]
        r.touched = r.touched or bool(items)
        (sub.difficulties if slot.role == "difficulties" else sub.proposals).extend(items)


def check_locked(r: _Reading, sub: Submission) -> Iterator[Problem]:
    """Locked cells (ids, targets) and where the inputs were found."""
    yield from _check_fixed(r.raw, r.lay, r.loc, r.file)
    if r.loc.used_positions and r.raw.inspection.kind in ("xlsx", "xlsm"):
        yield problem("not-our-form", file=r.file, severity="warning")


# In order: a later check may use what an earlier one read (denominators use the case rows).
CHECKS = (check_info, check_indicators, check_cases, check_case_denominators, check_tasks, check_notes,
          check_locked)


def interpret(raw: RawWorkbook, ctx: ReadContext, file: str, sha256: str) -> Submission:
    """Turn a raw workbook into a checked Submission (no I/O): identify it, then run every sheet check."""
    sub = Submission(file=file, sha256=sha256, kind=raw.inspection.kind)
    sub.report.extend(raw.inspection.problems)
    if raw.inspection.fatal:
        return sub
    if raw.inspection.kind in ("xls", "ods"):
        sub.report.add(problem("file-converted-format", file=file, detail="." + raw.inspection.kind))
    lay = identify(raw, ctx, file, sub)
    if lay is None:
        return sub
    loc = _Locator(raw, file)
    # Number formats only matter where a number sits in a numeric input (one look at styles.xml).
    raw.load_formats([(sheet, row, col) for s in lay.slots if s.kind in ("count", "percent")
                      for sheet, row, col, v in loc.cells(s)
                      if v is not None and isinstance(v, (int, float)) and not isinstance(v, bool)])
    reading = _Reading(raw, lay, loc, file, ctx.limits)
    for check in CHECKS:
        sub.report.extend(check(reading, sub))
    if not reading.touched:
        # An untouched form: one clear problem instead of one "missing" per cell.
        sub.report = ValidationReport([p for p in sub.report.problems if p.code not in MISSING_CODES])
        sub.report.add(problem("form-empty", file=file))
    return sub


def read_workbook(path: Path, ctx: ReadContext, *, data: bytes | None = None) -> Submission:
    """Read and check one received file. Never raises for a bad file."""
    path = Path(path)
    if data is None:
        data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    # Problems name the file as received (its name), like every cell-level problem, not our folder.
    raw = read_raw(Path(path.name), data, ctx.limits)
    sub = interpret(raw, ctx, path.name, sha)
    sub.remember_fingerprint()
    return sub
