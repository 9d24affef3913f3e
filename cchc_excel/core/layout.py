"""The workbook layout: the one contract between the workbook writer (workbook.writer, used by intake and
fastgen) and the reader (readback).

`build_layout(plan, unit, tier, period)` is pure. It decides every sheet, every input cell (a `Slot` with its
defined name), every locked cell worth checking (`Fixed`), the identity rows, the column headers, the case
table (`CASE_COLUMNS`: keys, the official form's labels, inputs and totals) and the hidden metadata sheet
(`META`). The writer renders exactly this; the reader finds inputs by the defined names recorded here and
falls back to these positions only for formats that carry no names (.xls/.ods). `Layout.shape()` is the
fast path's template key. Documented in docs/workbook-format.md.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .period import Period
from .plan import MET as MET  # the met labels live with the met rule (plan); re-exported
from .plan import NOT_MET as NOT_MET
from .plan import Plan, Target, UnitIndicator, UnitTask, indicators_for, tasks_for
from .units import Tier, Unit

FORMAT_VERSION = 1

SHEET_GUIDE = "Hướng dẫn"
SHEET_INFO = "Thông tin"
SHEET_IND = "Chỉ tiêu"
SHEET_CASES = "Giải quyết TTHC"
SHEET_TASKS = "Nhiệm vụ"
SHEET_NOTES = "Khó khăn, kiến nghị"
SHEET_META = "_meta"

STATUSES = ("Đã hoàn thành", "Đang thực hiện", "Chưa thực hiện")
YESNO = ("Có", "Không")

CASE_ROWS = 30  # bounded block of field rows the clerk fills

# Input kinds and what they accept.
KINDS = ("count", "percent", "yesno", "status", "date", "text", "longtext", "field")


def col_letter(col: int) -> str:
    """0-based column index -> letters (0 -> A, 26 -> AA)."""
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


def quote_sheet(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def abs_ref(sheet: str, row: int, col: int, last_row: int | None = None) -> str:
    """Absolute reference of a cell, or of a column block down to `last_row`: 'Chỉ tiêu'!$E$5[:$E$9]."""
    letter = col_letter(col)
    ref = f"{quote_sheet(sheet)}!${letter}${row + 1}"
    return ref if last_row is None or last_row == row else f"{ref}:${letter}${last_row + 1}"


@dataclass(frozen=True)
class Slot:
    """One input cell (or a column block of `rows` cells) with its defined name."""

    name: str
    sheet: str
    row: int            # 0-based
    col: int            # 0-based
    kind: str
    label: str
    indicator: str | None = None
    task: str | None = None
    role: str | None = None
    required: bool = False
    rows: int = 1
    hint: str = ""

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)

    def cell_at(self, offset: int) -> str:
        return a1(self.row + offset, self.col)

    @property
    def ref(self) -> str:
        """Absolute reference for the defined name: 'Chỉ tiêu'!$E$5 or a column range."""
        return abs_ref(self.sheet, self.row, self.col, self.row + self.rows - 1)


@dataclass(frozen=True)
class Fixed:
    """A locked cell whose value the reader checks (a clerk lowering a target is caught by cell)."""

    name: str
    sheet: str
    row: int
    col: int
    value: object
    role: str = ""                  # id | target (the shown text) | target_value (the hidden number)
    indicator: str | None = None    # the indicator's key

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)

    @property
    def ref(self) -> str:
        return abs_ref(self.sheet, self.row, self.col)


@dataclass(frozen=True)
class IndicatorBlock:
    """Rows of the 'Chỉ tiêu' sheet for one indicator."""

    item: UnitIndicator
    first_row: int
    slots: tuple[Slot, ...]
    rate_name: str
    result_name: str
    note: Slot

    @property
    def rows(self) -> int:
        return len(self.slots)

    @property
    def target(self) -> Target | None:
        return self.item.target

    @property
    def rate_ref(self) -> str:
        return abs_ref(SHEET_IND, self.first_row, IND_COL_RATE)

    @property
    def result_ref(self) -> str:
        return abs_ref(SHEET_IND, self.first_row, IND_COL_RESULT)


@dataclass(frozen=True)
class CaseColumn:
    key: str            # field | online | direct | carried | before | on_time | late | pending_in | pending_late
    col: int
    label: str
    group: str
    number: int         # the official form's column number (1–13)
    name: str | None    # defined name of the input block (None for formula columns)
    formula_of: tuple[str, ...] = ()  # for total columns: keys summed

    @property
    def is_total(self) -> bool:
        return bool(self.formula_of)

    @property
    def is_count(self) -> bool:
        """A number column (an input count or a total), not the field-name column."""
        return bool(self.group)

    @property
    def heading(self) -> str:
        """One-line heading for tables that have no group row: a total is named by its group."""
        return f"{self.group}: {self.label.lower()}" if self.is_total else self.label


@dataclass(frozen=True)
class CaseTable:
    first_row: int
    rows: int
    columns: tuple[CaseColumn, ...]
    total_row: int
    check_col: int

    def column(self, key: str) -> CaseColumn:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


@dataclass(frozen=True)
class InfoRow:
    """A locked line of the 'Thông tin' sheet that says whose form this is (label, value)."""

    row: int
    label: str
    value: str


@dataclass(frozen=True)
class MetaSheet:
    """The hidden metadata sheet: key/value pairs (each value also a defined name, the key) and the list of
    case fields offered in the case table's drop-down. The reader checks it before anything else, so it does
    not depend on a unit's layout."""

    sheet: str
    keys: tuple[str, ...]
    key_col: int
    value_col: int
    list_col: int
    list_header: str

    def position(self, key: str) -> tuple[int, int]:
        return self.keys.index(key), self.value_col

    def ref(self, key: str) -> str:
        row, col = self.position(key)
        return abs_ref(self.sheet, row, col)

    def list_ref(self, count: int) -> str | None:
        """The drop-down source: the `count` list entries under the header (None for an empty list)."""
        if not count:
            return None
        return abs_ref(self.sheet, 1, self.list_col, count)


@dataclass(frozen=True)
class TaskRow:
    item: UnitTask
    row: int
    status: Slot
    done_date: Slot
    document: Slot
    note: Slot


@dataclass(frozen=True)
class Layout:
    version: int
    plan_id: str
    unit: Unit
    tier: Tier
    period: Period
    indicators: tuple[IndicatorBlock, ...]
    case_table: CaseTable
    tasks: tuple[TaskRow, ...]
    info_slots: tuple[Slot, ...]
    note_slots: tuple[Slot, ...]
    fixed: tuple[Fixed, ...]
    case_fields: tuple[str, ...] = ()    # the drop-down list of the case table's field column
    # "Từ kỳ trước" pre-filled: (field, cases pending at the end of the previous period) per case row, from the
    # unit's accepted report of that period; where they came from; whether the clerk may change them.
    carried: tuple[tuple[str, int], ...] = ()
    carried_from: str = ""
    carried_locked: bool = False

    # Fields the fast path patches per unit instead of rendering (fastgen): the unit's name and code.
    IDENTITY = ("unit",)
    # Per-unit values that are not part of the shape (a form with them is written by the reference writer).
    PREFILLED = ("carried",)

    @property
    def slots(self) -> tuple[Slot, ...]:
        """Every input of the workbook, in sheet order."""
        out: list[Slot] = list(self.info_slots)
        for block in self.indicators:
            out.extend(block.slots)
            out.append(block.note)
        out.extend(case_slots(self.case_table))
        for t in self.tasks:
            out.extend((t.status, t.done_date, t.document, t.note))
        out.extend(self.note_slots)
        return tuple(out)

    def slot(self, name: str) -> Slot:
        for s in self.slots:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def signed_fields(self) -> tuple[str, str, str, str]:
        return (str(self.version), self.plan_id, self.unit.code, self.period.code)

    @property
    def meta_names(self) -> dict[str, tuple[int, int]]:
        """Metadata key -> (row, col) of its value on the hidden sheet (also its defined name)."""
        return {key: META.position(key) for key in META.keys}

    @property
    def info_rows(self) -> tuple[InfoRow, ...]:
        """Whose form this is, above the clerk's own details on 'Thông tin'."""
        values = (("Đơn vị báo cáo", self.unit.name), ("Mã đơn vị", self.unit.code), ("Cấp", self.tier.name),
                  ("Kỳ báo cáo", self.period.title_label))
        return tuple(InfoRow(INFO_FIRST_ROW + i, label, value) for i, (label, value) in enumerate(values))

    @property
    def field_list_ref(self) -> str | None:
        return META.list_ref(len(self.case_fields))

    def shape(self) -> tuple[tuple[str, Any], ...]:
        """Everything in the layout except the unit's identity (IDENTITY), hashable: two layouts of one
        shape render the same workbook but for the unit's name and code. Built from the dataclass's own
        fields, so a field added to the layout is part of the shape without anyone listing it."""
        return tuple((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                     if f.name not in self.IDENTITY + self.PREFILLED)


# ------------------------------------------------------------------------------------------------
# Sheet 'Chỉ tiêu' columns (0-based)
IND_COL_ID, IND_COL_NAME, IND_COL_TARGET, IND_COL_LABEL, IND_COL_INPUT = 0, 1, 2, 3, 4
IND_COL_RATE, IND_COL_RESULT, IND_COL_NOTE, IND_COL_TVALUE, IND_COL_TCMP = 5, 6, 7, 8, 9
IND_HEADER_ROW = 4
IND_FIRST_ROW = 5
IND_HEADERS = {IND_COL_ID: "STT", IND_COL_NAME: "Chỉ tiêu", IND_COL_TARGET: "Chỉ tiêu giao",
               IND_COL_LABEL: "Số liệu cần nhập", IND_COL_INPUT: "Số liệu", IND_COL_RATE: "Kết quả (%)",
               IND_COL_RESULT: "Đánh giá", IND_COL_NOTE: "Ghi chú"}

# Sheet 'Giải quyết TTHC'
CASE_HEADER_ROW = 6   # group headers; sub-headers on the next row, column numbers on the one after
CASE_FIRST_ROW = 9
CASE_NUMBER_LABEL, CASE_CHECK_LABEL, CASE_TOTAL_LABEL = "STT", "Kiểm tra", "Tổng cộng"
CASE_CHECK_OK, CASE_CHECK_OFF = "Khớp", "Lệch"   # the check column's verdicts ("Lệch 5")

# Sheet 'Nhiệm vụ' columns
TASK_COL_ID, TASK_COL_TEXT, TASK_COL_ROLE, TASK_COL_HOST, TASK_COL_DEADLINE = 0, 1, 2, 3, 4
TASK_COL_STATUS, TASK_COL_DATE, TASK_COL_DOC, TASK_COL_NOTE = 5, 6, 7, 8
TASK_HEADER_ROW = 3
TASK_FIRST_ROW = 4
TASK_HEADERS = {TASK_COL_ID: "Mã", TASK_COL_TEXT: "Nội dung nhiệm vụ", TASK_COL_ROLE: "Vai trò",
                TASK_COL_HOST: "Cơ quan chủ trì / phối hợp", TASK_COL_DEADLINE: "Thời hạn",
                TASK_COL_STATUS: "Tình trạng", TASK_COL_DATE: "Ngày hoàn thành", TASK_COL_DOC: "Văn bản, sản phẩm",
                TASK_COL_NOTE: "Ghi chú"}

# Sheet 'Thông tin': the unit's identity rows, then the clerk's details (info slots)
INFO_COL_LABEL, INFO_COL_VALUE = 1, 2
INFO_FIRST_ROW = 2
INFO_SLOT_FIRST_ROW = 8
REQUIRED_MARK = " (*)"

META_KEYS = ("META_VERSION", "META_PLAN", "META_UNIT", "META_PERIOD", "META_GENERATED", "META_SIGNATURE")
META = MetaSheet(sheet=SHEET_META, keys=META_KEYS, key_col=0, value_col=1, list_col=3, list_header="LINH_VUC")


def target_text(target: Target | None) -> str:
    """The visible target cell of an indicator, as written by intake and checked by the reader."""
    if target is None:
        return "—"
    return target.label + ("\n(đã điều chỉnh)" if target.adjusted_by else "")


def _indicator_slots(item: UnitIndicator, row: int) -> tuple[Slot, ...]:
    ind = item.indicator
    c = ind.code
    common = {"sheet": SHEET_IND, "col": IND_COL_INPUT, "indicator": ind.key}
    if ind.kind == "rate":
        return (
            Slot(name=f"CT_{c}_TU", row=row, kind="count", label=ind.numerator_label or "Tử số",
                 role="numerator", required=True, hint="Số nguyên ≥ 0", **common),
            Slot(name=f"CT_{c}_MAU", row=row + 1, kind="count", label=ind.denominator_label or "Mẫu số",
                 role="denominator", required=True, hint="Số nguyên ≥ 0", **common),
        )
    if ind.kind == "percent":
        slots = [Slot(name=f"CT_{c}_GT", row=row, kind="percent", label="Tỷ lệ đạt được (%)", role="value",
                      required=True, hint="Số từ 0 đến 100", **common)]
        if ind.weight_label:
            slots.append(Slot(name=f"CT_{c}_SL", row=row + 1, kind="count", label=ind.weight_label,
                              role="weight", required=True, hint="Số nguyên ≥ 0", **common))
        return tuple(slots)
    if ind.kind == "yesno":
        return (Slot(name=f"CT_{c}_CO", row=row, kind="yesno", label="Đã thực hiện? (Có/Không)",
                     role="value", required=True, hint="Chọn Có hoặc Không", **common),)
    # task-like indicator: status and completion date
    return (
        Slot(name=f"CT_{c}_TT", row=row, kind="status", label="Tình trạng thực hiện", role="status",
             required=True, hint="Chọn trong danh sách", **common),
        Slot(name=f"CT_{c}_NGAY", row=row + 1, kind="date", label="Ngày hoàn thành", role="done_date",
             hint="Ngày/tháng/năm", **common),
    )


# The case-result table's columns (TT 01/2020/TT-VPCP form): keys, labels, groups, form numbers, input
# names and total formulas — the one definition every reader, writer and document derives from.
_RECEIVED, _RESOLVED, _PENDING = "Số hồ sơ nhận giải quyết", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết"
CASE_COLUMNS: tuple[CaseColumn, ...] = (
    CaseColumn("field", 1, "Lĩnh vực, công việc giải quyết theo cấp", "", 2, "GQ_LINH_VUC"),
    CaseColumn("received", 2, "Tổng số", _RECEIVED, 3, None, ("online", "direct", "carried")),
    CaseColumn("online", 3, "Trực tuyến", _RECEIVED, 4, "GQ_TRUC_TUYEN"),
    CaseColumn("direct", 4, "Trực tiếp, dịch vụ bưu chính", _RECEIVED, 5, "GQ_TRUC_TIEP"),
    CaseColumn("carried", 5, "Từ kỳ trước", _RECEIVED, 6, "GQ_KY_TRUOC"),
    CaseColumn("resolved", 6, "Tổng số", _RESOLVED, 7, None, ("before", "on_time", "late")),
    CaseColumn("before", 7, "Trước hạn", _RESOLVED, 8, "GQ_TRUOC_HAN"),
    CaseColumn("on_time", 8, "Đúng hạn", _RESOLVED, 9, "GQ_DUNG_HAN"),
    CaseColumn("late", 9, "Quá hạn", _RESOLVED, 10, "GQ_QUA_HAN"),
    CaseColumn("pending", 10, "Tổng số", _PENDING, 11, None, ("pending_in", "pending_late")),
    CaseColumn("pending_in", 11, "Trong hạn", _PENDING, 12, "GQ_DANG_TRONG_HAN"),
    CaseColumn("pending_late", 12, "Quá hạn", _PENDING, 13, "GQ_DANG_QUA_HAN"),
)
# The count columns a clerk types (in form order) and the totals the form computes from them.
CASE_INPUT_KEYS: tuple[str, ...] = tuple(c.key for c in CASE_COLUMNS if c.is_count and not c.is_total)
CASE_TOTAL_KEYS: tuple[str, ...] = tuple(c.key for c in CASE_COLUMNS if c.is_total)
CASE_COUNT_KEYS: tuple[str, ...] = tuple(c.key for c in CASE_COLUMNS if c.is_count)  # form order, totals too
# The form's check column: the first total equals the sum of the others (received = resolved + pending).
CASE_BALANCE: tuple[str, tuple[str, ...]] = (CASE_TOTAL_KEYS[0], CASE_TOTAL_KEYS[1:])


def _case_table() -> CaseTable:
    return CaseTable(first_row=CASE_FIRST_ROW, rows=CASE_ROWS, columns=CASE_COLUMNS,
                     total_row=CASE_FIRST_ROW + CASE_ROWS, check_col=CASE_COLUMNS[-1].col + 1)


def case_totals_of() -> dict[str, tuple[str, ...]]:
    """The form's total columns and the inputs each sums (received = online + direct + carried, ...)."""
    return {c.key: c.formula_of for c in CASE_COLUMNS if c.formula_of}


def case_slots(table: CaseTable) -> list[Slot]:
    return list(_case_slots(table))


@functools.lru_cache(maxsize=16)
def _case_slots(table: CaseTable) -> tuple[Slot, ...]:
    """The case table's input slots (remembered: every layout has the same table, read per file)."""
    out = []
    for c in table.columns:
        if c.name is None:
            continue
        kind = "field" if c.key == "field" else "count"
        out.append(Slot(name=c.name, sheet=SHEET_CASES, row=table.first_row, col=c.col, kind=kind,
                        label=f"{c.group} - {c.label}".strip(" -"), role=c.key, rows=table.rows,
                        hint="Số nguyên ≥ 0" if kind == "count" else "Chọn hoặc gõ tên lĩnh vực"))
    return tuple(out)


# Layouts already built, per plan (held, so its id is not reused): the units of one shape differ only in
# identity, so the rest of the layout is built once per (indicators with their targets, tasks with their
# roles, period, carried) and shared. Bounded: cleared when it grows past what a registry's shapes need.
_BUILT: dict[int, tuple[Plan, dict[tuple[Any, ...], Layout]]] = {}
_BUILT_MAX = 4096


def build_layout(plan: Plan, unit: Unit, tier: Tier, period: Period, *,
                 carried: Sequence[tuple[str, int]] = ()) -> Layout:
    """Decide every cell of one unit's workbook for one period (pure). `carried`: the unit's cases pending at
    the end of the previous period per field, pre-filled as "Từ kỳ trước" unless the plan says `off`."""
    items = indicators_for(plan, unit_code=unit.code, tier=unit.tier, flags=unit.flags)
    unit_tasks = tasks_for(plan, unit_code=unit.code, tier=unit.tier)
    # Everything but `unit` and `tier` follows from these (the plan's indicators and tasks by identity).
    key = (tuple((id(i.indicator), i.target) for i in items), tuple((id(t.task), t.role) for t in unit_tasks),
           period, tuple(carried))
    try:
        hash(key)
    except TypeError:   # an unhashable value somewhere: built without the cache
        return _build_layout(plan, unit, tier, period, items, unit_tasks, carried)
    entry = _BUILT.get(id(plan))
    if entry is None or entry[0] is not plan:
        if len(_BUILT) >= 8:
            _BUILT.clear()
        entry = _BUILT[id(plan)] = (plan, {})
    built = entry[1]
    known = built.get(key)
    if known is None:
        if len(built) >= _BUILT_MAX:
            built.clear()
        known = built[key] = _build_layout(plan, unit, tier, period, items, unit_tasks, carried)
    if known.unit is unit and known.tier is tier:
        return known
    return dataclasses.replace(known, unit=unit, tier=tier)


def _build_layout(plan: Plan, unit: Unit, tier: Tier, period: Period, items: list[UnitIndicator],
                  unit_tasks: list[UnitTask], carried: Sequence[tuple[str, int]]) -> Layout:
    blocks: list[IndicatorBlock] = []
    fixed: list[Fixed] = []
    row = IND_FIRST_ROW
    for item in items:
        slots = _indicator_slots(item, row)
        c = item.indicator.code
        note = Slot(name=f"CT_{c}_GHICHU", sheet=SHEET_IND, row=row, col=IND_COL_NOTE, kind="text",
                    label="Ghi chú", indicator=item.indicator.key, role="note", hint="Giải thích nếu chưa đạt")
        blocks.append(IndicatorBlock(item=item, first_row=row, slots=slots, rate_name=f"CT_{c}_TYLE",
                                     result_name=f"CT_{c}_KQ", note=note))
        key = item.indicator.key
        fixed.append(Fixed(f"CT_{c}_MA", SHEET_IND, row, IND_COL_ID, item.indicator.id
                           if item.target is None or not item.target.printed_id else item.target.printed_id,
                           role="id", indicator=key))
        fixed.append(Fixed(f"CT_{c}_CTGIAO", SHEET_IND, row, IND_COL_TARGET, target_text(item.target),
                           role="target", indicator=key))
        if item.target is not None:
            fixed.append(Fixed(f"CT_{c}_CHITIEU", SHEET_IND, row, IND_COL_TVALUE, item.target.value,
                               role="target_value", indicator=key))
        row += len(slots)

    tasks: list[TaskRow] = []
    for i, ut in enumerate(unit_tasks):
        r = TASK_FIRST_ROW + i
        c = ut.task.code
        common = {"sheet": SHEET_TASKS, "row": r, "task": ut.task.key}
        tasks.append(TaskRow(
            item=ut, row=r,
            status=Slot(name=f"NV_{c}_TT", col=TASK_COL_STATUS, kind="status", label="Tình trạng",
                        role="status", required=True, hint="Chọn trong danh sách", **common),
            done_date=Slot(name=f"NV_{c}_NGAY", col=TASK_COL_DATE, kind="date", label="Ngày hoàn thành",
                           role="done_date", hint="Ngày/tháng/năm", **common),
            document=Slot(name=f"NV_{c}_VB", col=TASK_COL_DOC, kind="text", label="Văn bản, sản phẩm",
                          role="document", hint="Số, ký hiệu văn bản", **common),
            note=Slot(name=f"NV_{c}_GC", col=TASK_COL_NOTE, kind="text", label="Ghi chú", role="note",
                      hint="", **common)))

    info = tuple(
        Slot(name=name, sheet=SHEET_INFO, row=r, col=INFO_COL_VALUE, kind=kind, label=label, role=name,
             required=req, hint=hint)
        for r, (name, kind, label, req, hint) in enumerate([
            ("TT_NGUOI_LAP", "text", "Người lập biểu", True, "Họ và tên"),
            ("TT_CHUC_VU", "text", "Chức vụ", False, ""),
            ("TT_DIEN_THOAI", "text", "Số điện thoại", True, "Số điện thoại liên hệ"),
            ("TT_EMAIL", "text", "Thư điện tử", False, ""),
            ("TT_NGAY_LAP", "date", "Ngày lập biểu", True, "Ngày/tháng/năm"),
        ], start=INFO_SLOT_FIRST_ROW))
    notes = (
        Slot(name="KK_KHO_KHAN", sheet=SHEET_NOTES, row=3, col=0, kind="longtext",
             label="Khó khăn, vướng mắc", role="difficulties", hint="Mỗi ý một dòng (Alt+Enter)"),
        Slot(name="KK_KIEN_NGHI", sheet=SHEET_NOTES, row=7, col=0, kind="longtext",
             label="Đề xuất, kiến nghị", role="proposals", hint="Mỗi ý một dòng (Alt+Enter)"),
    )
    return Layout(version=FORMAT_VERSION, plan_id=plan.id, unit=unit, tier=tier, period=period,
                  indicators=tuple(blocks), case_table=_case_table(), tasks=tuple(tasks), info_slots=info,
                  note_slots=notes, fixed=tuple(fixed), case_fields=tuple(plan.case_fields),
                  **_carried(plan, period, carried))


def carried_source(period: Period) -> str:
    """Where a pre-filled "Từ kỳ trước" came from, as the form says it."""
    return f"số hồ sơ đang giải quyết cuối {period.previous().label} theo báo cáo đã tiếp nhận"


def _carried(plan: Plan, period: Period, carried: Sequence[tuple[str, int]]) -> dict[str, Any]:
    mode = plan.reporting.carried_over
    rows = tuple((str(f), int(n)) for f, n in carried if n)[:CASE_ROWS]
    if mode == "off" or not rows:
        return {}
    return {"carried": rows, "carried_from": carried_source(period), "carried_locked": mode == "locked"}


def sign(secret: str, fields: tuple[str, ...], generated: str) -> str:
    """Keyed signature (HMAC-SHA256) over the form's identity, so a form copied from another unit or month,
    or whose hidden metadata was edited, does not verify. Truncated: it is an integrity tag, not a secret."""
    message = "|".join((*fields, generated)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:32]


def verify(secret: str, fields: tuple[str, ...], generated: str, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, fields, generated), str(signature or ""))

