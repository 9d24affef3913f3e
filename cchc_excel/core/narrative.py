"""The report's content: turn an `Aggregation` into the context the Word template renders (pure core).

Every number is formatted Vietnamese-style here ("27,74%", "719.569"), so the template only places text.
Sentences follow how a clerk writes them: "cấp tỉnh đạt 78,45% (chỉ tiêu tối thiểu 75%), tăng 2,10 điểm
phần trăm so với tháng trước". Counts below ten are written "03" as official reports write them; units are
named one way throughout (`aggregate.unit_label`) and listed by tier. A unit without cases for an indicator
("Không phát sinh") is counted apart, never among the units that missed the target.

Each part and section has `paragraphs` (text stated from data or configured, printed as it is) and `todo`
(what the office still has to write, printed as a marked placeholder); `to_complete` is true when `todo` is
not empty. Nothing computed from data is dressed as a placeholder, and no placeholder asks for what the
report already lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from .aggregate import (
    MET,
    NO_CASES,
    NOT_MET,
    NOT_REPORTED,
    PARTIAL,
    Aggregation,
    label_of,
    tier_heading,
    unit_label,
    units_by_tier,
)
from .layout import CASE_COUNT_KEYS, STATUSES
from .plan import Indicator, Plan
from .units import Registry
from .vntext import (
    format_count,
    format_number,
    format_percent,
    format_points,
    format_short_date,
    format_vn_date,
    roman,
    round_half_up,
)

if TYPE_CHECKING:  # core.followup builds on this module; its items are passed in by the caller
    from .followup import OverdueItem

# Default outline of Part I (NĐ 63/2010 Điều 35 khoản 3, as amended; official-forms.md §3). Item 4 is bound
# to our data; the others are left for the office to complete unless the workspace config gives text.
DEFAULT_OUTLINE: list[dict[str, Any]] = [
    {"number": "1", "heading": "Công tác kiểm soát quy định thủ tục hành chính",
     "paragraphs": ["Kết quả đánh giá tác động, thẩm định, thẩm tra quy định thủ tục hành chính trong dự thảo "
                    "văn bản quy phạm pháp luật trong kỳ."]},
    {"number": "2", "heading": "Công bố, công khai thủ tục hành chính",
     "paragraphs": ["Số quyết định công bố, số thủ tục hành chính được công bố, công khai, cập nhật trên Cơ sở "
                    "dữ liệu quốc gia về thủ tục hành chính."]},
    {"number": "3", "heading": "Rà soát, đơn giản hóa thủ tục hành chính",
     "paragraphs": ["Kết quả rà soát, đơn giản hóa thủ tục hành chính, thủ tục hành chính nội bộ."]},
    {"number": "4", "heading": "Tình hình, kết quả triển khai nhiệm vụ cải cách thủ tục hành chính", "item4": True},
    {"number": "5", "heading": "Tiếp nhận, xử lý phản ánh, kiến nghị về quy định hành chính",
     "paragraphs": ["Số phản ánh, kiến nghị tiếp nhận, đã xử lý, đang xử lý trong kỳ."]},
    {"number": "6", "heading": "Công tác truyền thông hỗ trợ cải cách thủ tục hành chính",
     "paragraphs": ["Các hoạt động tuyên truyền, hướng dẫn người dân, doanh nghiệp trong kỳ."]},
]

MISSED_LIST_LIMIT = 12  # name at most this many units per tier in a sentence; the appendix has them all
NAMED_NO_CASES_LIMIT = 5  # name the units without cases when there are at most this many
NO_CASES_SIGN = "KPS"     # the appendix's sign for "không phát sinh"
ADJUSTED_SIGN = "†"       # the appendix's sign for a unit whose own target the plan adjusted

__all__ = ["DEFAULT_OUTLINE", "POINT_LETTERS", "build_context", "count_with_rate", "nb", "point_label",
           "spell_out_abbreviations", "unit_label"]

# Point letters (điểm) in the Vietnamese order: no f, j, w, z; "đ" after "d".
POINT_LETTERS = ("a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t",
                 "u", "v", "x", "y")


def point_label(n: int) -> str:
    """The n-th point (0-based) as printed: "a)", "b)", … "đ)", … "y)"; beyond the 23 letters "a1)", "b1)"…"""
    letter = POINT_LETTERS[n % len(POINT_LETTERS)]
    return f"{letter}{n // len(POINT_LETTERS)})" if n >= len(POINT_LETTERS) else f"{letter})"


def nb(n: int | float) -> str:
    """A count as official reports write it: below ten with a leading zero ("03"), else "1.234"."""
    n = int(n)
    return f"{n:02d}" if 0 < n < 10 else format_count(n)


def count_with_rate(numerator: float, denominator: float, noun: str = "hồ sơ") -> str:
    """"719.569 hồ sơ (70,29%)" — the style of seed 002's notes."""
    rate = numerator / denominator * 100 if denominator else None
    text = f"{format_count(numerator)} {noun}".strip()
    return f"{text} ({format_percent(rate)})" if rate is not None else text


def _pct(value: Any) -> str:
    return "" if value is None or pd.isna(value) else format_percent(float(value))


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _names(registry: Registry, codes: Sequence[str], limit: int = MISSED_LIST_LIMIT) -> str:
    """Units named by `unit_label`; grouped by tier ("Sở, ban, ngành: …; UBND cấp xã: …") when they come
    from more than one tier; at most `limit` names per tier."""
    groups = units_by_tier(registry, list(codes))
    parts = []
    for tier, mine in groups:
        text = ", ".join(label_of(registry, c) for c in mine[:limit])
        if len(mine) > limit:
            text += f" và {nb(len(mine) - limit)} đơn vị khác"
        parts.append(f"{tier_heading(registry, tier)}: {text}" if len(groups) > 1 else text)
    return "; ".join(parts)


PREVIOUS_WORD = {"month": "tháng trước", "quarter": "quý trước", "half": "kỳ trước", "nine": "cùng kỳ năm trước",
                 "year": "năm trước"}
LAST_YEAR_WORD = "cùng kỳ năm trước"


def _previous_word(agg: Aggregation) -> str | None:
    """How sentences name the previous period; None for nine months and a year, whose previous period of the
    same kind is the same period last year (compared once, as "cùng kỳ")."""
    if agg.period.kind in ("nine", "year"):
        return None
    return agg.period.previous_label


def _assessed(row: Mapping[str, Any]) -> bool:
    """Whether the group's units are measured against a target at all: a tier the plan gives no target (the
    former district tier under a plan written after it was abolished) has no "x/y đơn vị đạt" — "0/7" would
    read as seven units missing a target nobody set."""
    target = row.get("target")
    return target is not None and not pd.isna(target)


def _units_sentence(row: Mapping[str, Any], no_cases_names: str = "") -> str:
    """"16/19 đơn vị đạt chỉ tiêu của mình" or, when some had nothing to count, "5/5 đơn vị có phát sinh đạt
    chỉ tiêu của mình; 02 đơn vị không phát sinh (…)"."""
    reported, no_cases = _int(row.get("units_reported")), _int(row.get("units_no_cases"))
    parts = []
    if reported and _assessed(row):
        who = "đơn vị có phát sinh" if no_cases else "đơn vị"
        parts.append(f"{_int(row.get('units_met'))}/{reported} {who} đạt chỉ tiêu của mình")
    if no_cases:
        parts.append(f"{nb(no_cases)} đơn vị không phát sinh" + (f" ({no_cases_names})" if no_cases_names else ""))
    return "; ".join(parts)


def _tier_sentence(row: Mapping[str, Any] | None, tier_name: str, previous_word: str | None = "kỳ trước",
                   no_cases_names: str = "", with_ytd: bool = False) -> str:
    if row is None:
        return f"{_lower_first(tier_name)}: chưa có số liệu"
    units = _units_sentence(row, no_cases_names)
    if pd.isna(row["value"]):
        head = ("không phát sinh" if _int(row.get("units_no_cases")) and not _int(row.get("units_reported"))
                else "chưa có số liệu")
        if head == "không phát sinh":
            units = f"{nb(_int(row.get('units_no_cases')))} đơn vị đã báo cáo" + (
                f" ({no_cases_names})" if no_cases_names else "")
        return f"{_lower_first(tier_name)}: {head}" + (f"; {units}" if units else "")
    text = f"{_lower_first(tier_name)} đạt {_pct(row['value'])}"
    if row.get("target_label"):
        text += f" (chỉ tiêu {_lower_first(str(row['target_label']))})"
    if previous_word and not pd.isna(row.get("value_prev")):
        text += f", {format_points(float(row['value']) - float(row['value_prev']))} so với {previous_word}"
    if not pd.isna(row.get("value_last_year")):
        text += f", {format_points(float(row['value']) - float(row['value_last_year']))} so với {LAST_YEAR_WORD}"
    if with_ytd and not pd.isna(row.get("value_ytd")):
        text += f"; lũy kế từ đầu năm đạt {_pct(row['value_ytd'])}"
    if row.get("status") == NOT_MET:
        text += ", chưa đạt chỉ tiêu"
    return text + (f"; {units}" if units else "")


class UnitRows:
    """The per-unit frame's columns the sentences and the follow-up notes read, as lists, with each
    indicator's row positions (frame order): one pass over the frame instead of a pandas mask per indicator
    and per tier or status (~50-100 µs each, most of these computations at 200 units; a copy of 60,000 rows
    each nationally). A column the frame lacks reads as its default, so a narrower frame still builds."""

    def __init__(self, units: pd.DataFrame) -> None:
        n = len(units)

        def column(name: str, default: Any) -> list[Any]:
            return units[name].tolist() if name in units.columns else [default] * n

        self.code = column("unit_code", None)
        self.tier = column("tier", None)
        self.status = column("status", None)
        self.value = column("value", None)
        self.target_label = column("target_label", None)
        self.adjusted = column("adjusted", False)
        self.rows: dict[Any, list[int]] = {}
        for i, key in enumerate(column("indicator", None)):
            self.rows.setdefault(key, []).append(i)

    def by_value(self, positions: list[int]) -> list[int]:
        """`positions` by value, smallest first, missing values last (pandas' stable `sort_values`)."""
        value = self.value

        def key(i: int) -> tuple[bool, float]:
            v = value[i]
            missing = v is None or v != v
            return missing, 0.0 if missing else v

        return sorted(positions, key=key)


GroupRows = dict[Any, list[dict[str, Any]]]


def group_rows(groups: pd.DataFrame) -> GroupRows:
    """The per-group frame's rows (every level) as dicts by indicator, in frame order: one pass that the
    points, Bảng 1, Mục II-III and the follow-up notes all filter, instead of a pandas mask per indicator,
    level and status (~50-100 µs each) or a conversion of the frame per reader."""
    out: GroupRows = {}
    for row in groups.to_dict("records") if not groups.empty else []:
        out.setdefault(row["indicator"], []).append(row)
    return out


def _tier_rows(rows: Sequence[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """An indicator's tier rows (of `group_rows`) by tier code; the first row of a pair, in frame order."""
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row["level"] == "tier":
            out.setdefault(row["group_code"], row)
    return out


def _missed_text(registry: Registry, units: UnitRows, positions: Sequence[int], appendix_ref: str = "Phụ lục") -> str:
    """Units under their own target, grouped by tier as an official lists them, each with its rate (and its
    own target when the plan adjusted it): "Các đơn vị chưa đạt: Sở, ban, ngành (02 đơn vị): Sở Tư pháp:
    27,74%, Sở Y tế: 40,12%; UBND cấp xã (01 đơn vị): UBND xã Phước Hòa: 20,00% (chỉ tiêu riêng tối thiểu
    25%)."; `positions`: the indicator's rows of `units`."""
    missed = units.by_value([i for i in positions if units.status[i] == NOT_MET])
    if not missed:
        return ""
    by_code = {units.code[i]: (units.value[i], units.target_label[i], units.adjusted[i]) for i in missed}
    parts = []
    # an indicator of one tier: no tier heading (missing tiers not counted, as pandas' nunique)
    one_tier = sum(1 for t in {units.tier[i] for i in positions} if not pd.isna(t)) <= 1
    for tier, codes in units_by_tier(registry, list(by_code)):
        shown = []
        for c in codes[:MISSED_LIST_LIMIT]:
            value, target_label, adj = by_code[c]
            own = f" (chỉ tiêu riêng {_lower_first(str(target_label))})" if bool(adj) and target_label else ""
            shown.append(f"{label_of(registry, c)}: {_pct(value)}{own}")
        text = "; ".join(shown)
        if len(codes) > MISSED_LIST_LIMIT:
            text += f" và {nb(len(codes) - MISSED_LIST_LIMIT)} đơn vị khác (chi tiết tại {appendix_ref})"
        parts.append(text if one_tier else f"{tier_heading(registry, tier)} ({nb(len(codes))} đơn vị): {text}")
    if one_tier:
        return f"Các đơn vị chưa đạt ({nb(len(by_code))} đơn vị): " + "; ".join(parts) + "."
    return "Các đơn vị chưa đạt: " + "; ".join(parts) + "."


def _no_cases_names(registry: Registry, codes: Sequence[str]) -> str:
    """The units without cases named, when there are at most `NAMED_NO_CASES_LIMIT` of them."""
    if not codes or len(codes) > NAMED_NO_CASES_LIMIT:
        return ""
    return ", ".join(label_of(registry, c) for c in codes)


def indicator_points(plan: Plan, registry: Registry, agg: Aggregation, appendix_ref: str = "Phụ lục",
                     units: UnitRows | None = None, groups: GroupRows | None = None) -> list[dict[str, Any]]:
    """One point per rate/percent indicator: a sentence per tier, then the units that missed their target
    (beyond a dozen a tier, counted with a pointer to `appendix_ref`, the appendix of every unit's result).
    `units`, `groups`: `UnitRows` and `group_rows` of `agg`, when the caller has them already."""
    points: list[dict[str, Any]] = []
    previous_word = _previous_word(agg)
    # Year to date is worth its own words when the period does not start in January (Q2, 6 tháng cuối năm).
    with_ytd = agg.period.kind != "month" and agg.period.first_month.index > 1
    groups = group_rows(agg.groups) if groups is None else groups
    units = units or UnitRows(agg.units)
    for ind in plan.indicators:
        if ind.kind not in ("rate", "percent"):
            continue
        g = _tier_rows(groups.get(ind.key, []))
        if not g:
            continue
        mine = units.rows.get(ind.key, [])
        sentences = []
        for tier in registry.tiers:
            row = g.get(tier.code)
            if row is None or int(row["units_expected"]) == 0:
                continue
            no_cases = [units.code[i] for i in mine if units.tier[i] == tier.code and units.status[i] == NO_CASES]
            sentences.append(_tier_sentence(row, tier.name, previous_word, _no_cases_names(registry, no_cases),
                                            with_ytd))
        if not sentences:
            continue
        title = ind.name + (f" (chỉ tiêu {ind.id})" if plan.groups else "")
        points.append({"label": point_label(len(points)), "key": ind.key, "title": title, "sentences": sentences,
                       "missed": _missed_text(registry, units, mine, appendix_ref)})
    return points


def indicator_table(plan: Plan, registry: Registry, agg: Aggregation,
                    groups: GroupRows | None = None) -> dict[str, Any]:
    """Bảng 1: one row per (indicator, tier). "Đạt/có phát sinh" counts the units judged against their target;
    a "Không phát sinh" column appears when some unit had nothing to count. `groups`: `group_rows(agg.groups)`
    when the caller has it already."""
    rows = []
    any_no_cases = False
    g_all = agg.groups
    any_last_year = (not g_all.empty and "value_last_year" in g_all
                     and bool(g_all.loc[g_all["level"] == "tier", "value_last_year"].notna().any()))
    groups = group_rows(g_all) if groups is None else groups
    for ind in plan.indicators:
        g = _tier_rows(groups.get(ind.key, []))
        first = True
        for tier in registry.tiers:
            r = g.get(tier.code)
            if r is None or int(r["units_expected"]) == 0:
                continue
            target = ind.target_for_tier(tier.code)
            printed = target.printed_id if target and target.printed_id else ind.id
            reported, no_cases = _int(r["units_reported"]), _int(r.get("units_no_cases"))
            any_no_cases = any_no_cases or no_cases > 0
            rows.append([printed if first or (target and target.printed_id) else "",
                         (ind.short or ind.name) if first else "", tier.name, r["target_label"] or "",
                         _pct(r["value"]) or ("KPS" if no_cases and not reported else "-"),
                         _pct(r.get("value_prev")) or "-",
                         *([_pct(r.get("value_last_year")) or "-"] if any_last_year else []),
                         _pct(r.get("value_ytd")) or "-",
                         f"{_int(r['units_met'])}/{reported}"
                         if reported and (ind.kind in ("yesno", "task") or _assessed(r)) else "-",
                         nb(no_cases) if no_cases else "-"])
            first = False
    columns = ["STT", "Chỉ tiêu", "Cấp", "Chỉ tiêu giao", "Kết quả kỳ này", "Kỳ trước",
               *(["Cùng kỳ"] if any_last_year else []), "Lũy kế năm", "Số đơn vị đạt"]
    if any_no_cases:
        columns.append("Không phát sinh")
    else:
        rows = [r[:-1] for r in rows]
    note = ("Ghi chú: “Số đơn vị đạt”: số đơn vị đạt chỉ tiêu của mình trên số đơn vị có phát sinh hồ sơ, "
            "lượt đánh giá trong kỳ; “Không phát sinh”: số đơn vị đã báo cáo nhưng không phát sinh, không tính "
            "là chưa đạt."
            if any_no_cases else "")
    return {"caption": "Bảng 1. Kết quả thực hiện các chỉ tiêu theo cấp", "columns": columns, "rows": rows,
            "note": note}


def case_table(agg: Aggregation) -> dict[str, Any]:
    rows = []
    for i, r in enumerate(agg.cases.itertuples(index=False), start=1):
        label = r.tier_name
        rows.append(["" if r.tier == "*" else str(i), label,
                     *[format_count(getattr(r, k)) for k in CASE_COUNT_KEYS]])
    return {"caption": "Bảng 2. Tình hình, kết quả giải quyết thủ tục hành chính (theo mẫu Thông tư "
                       "01/2020/TT-VPCP)", "rows": rows}


def case_sentence(agg: Aggregation) -> str:
    """The case sheet in one sentence, with its table referred to: "… (Bảng 2)."."""
    c = agg.cases
    total = c[c["tier"] == "*"]
    if total.empty or int(total.iloc[0]["received"]) == 0:
        return "Trong kỳ, các đơn vị không báo cáo số liệu tiếp nhận, giải quyết hồ sơ (Bảng 2)."
    t = total.iloc[0]
    received, resolved, late = int(t["received"]), int(t["resolved"]), int(t["late"])
    text = (f"Trong kỳ, các cơ quan, đơn vị tiếp nhận {format_count(received)} hồ sơ TTHC, trong đó trực tuyến "
            f"{count_with_rate(int(t['online']), received)}; đã giải quyết {format_count(resolved)} hồ sơ")
    if resolved:
        on_time = int(t["before"]) + int(t["on_time"])
        text += f", trước hạn và đúng hạn {count_with_rate(on_time, resolved)}"
        text += (f", quá hạn {count_with_rate(late, resolved)}" if late else ", không có hồ sơ quá hạn")
    pending = int(t["pending"])
    text += (f"; đang giải quyết {format_count(pending)} hồ sơ" if pending else "")
    return text + " (chi tiết tại Bảng 2)."


def tasks_part(registry: Registry, agg: Aggregation, overdue: Sequence[OverdueItem] | None = None,
               followup_ref: str | None = None) -> dict[str, Any]:
    """The tasks point: how the assigned tasks stand this period (counts of unit-task pairs, "lượt") and the
    overdue ones.

    `overdue`, when given, are the follow-up table's overdue rows (`core.followup.overdue_items`: each task at
    its hosts' latest reported status, judged on the end of the data window): the sentence then names the
    hosts that have not done them, each with its tasks, and the table lists them in the plan's numbering;
    `followup_ref` ("Phụ lục II") points to the follow-up appendix. Without it, the overdue (unit, task)
    pairs of the period's own reports are listed."""
    t = agg.tasks
    if t.empty and not overdue:
        return {"summary": "Kế hoạch không giao nhiệm vụ có thời hạn cho các đơn vị trong kỳ.", "overdue": []}
    counts = {s: int((t["status"] == s).sum()) for s in (*STATUSES, NOT_REPORTED)} if not t.empty else {}
    parts = []
    if not t.empty:
        done, doing, todo = (counts[STATUSES[0]], counts[STATUSES[1]], counts[STATUSES[2]])
        parts = [f"{nb(done)} đã hoàn thành" if done else "chưa có lượt nào hoàn thành"]
        if doing:
            parts.append(f"{nb(doing)} đang thực hiện")
        if todo:
            parts.append(f"{nb(todo)} chưa thực hiện")
        if counts[NOT_REPORTED]:
            parts.append(f"{nb(counts[NOT_REPORTED])} chưa báo cáo")
    head = f"Tổng số {nb(len(t))} lượt nhiệm vụ được giao cho các đơn vị: {', '.join(parts)}" if parts else ""
    if overdue is not None:
        return _tasks_from_followup(head, list(overdue), followup_ref)
    late_rows = t[t["overdue"]]
    late = (f"{nb(len(late_rows))} lượt nhiệm vụ quá hạn (danh sách dưới đây)" if len(late_rows)
            else "không có nhiệm vụ quá hạn")
    summary = f"{head}; {late}."
    items = []
    for (_task, text, deadline), g in late_rows.groupby(["task", "text", "deadline"], sort=False):
        items.append({"number": "", "text": text, "host": _names(registry, list(g["unit_code"])),
                      "deadline": deadline})
    return {"summary": summary, "overdue": items}


OVERDUE_HOSTS_LIMIT = 5    # hosts named per group in the tasks sentence; the appendix lists every one
OVERDUE_CELL_LIMIT = 5     # hosts named in a cell of the overdue-task table
OVERDUE_GROUPS_LIMIT = 6   # groups of hosts (behind on the same items) in the tasks sentence


def _items_words(items: Sequence[OverdueItem]) -> str:
    """"nhiệm vụ II.3.a, II.3.d; chỉ tiêu 9"."""
    tasks = [i.number for i in items if i.kind != "indicator"]
    dated = [i.number for i in items if i.kind == "indicator"]
    return "; ".join(f"{word} {', '.join(numbers)}" for word, numbers in (("nhiệm vụ", tasks), ("chỉ tiêu", dated))
                     if numbers)


def _tasks_from_followup(head: str, items: list[OverdueItem], ref: str | None) -> dict[str, Any]:
    """"…; 02 nhiệm vụ quá hạn chưa hoàn thành (danh sách dưới đây, chi tiết tại Phụ lục II). Cơ quan, đơn vị
    chủ trì chưa hoàn thành: Sở Tư pháp (nhiệm vụ II.3.a, II.4); Sở Nội vụ, Sở Y tế (nhiệm vụ II.3.a).": the
    hosts behind on the same items together, the groups behind on most items first."""
    where = f"chi tiết tại {ref}" if ref else ""
    if not items:
        late = "không có nhiệm vụ quá hạn" + (f" (tình hình từng nhiệm vụ tại {ref})" if ref else "")
        return {"summary": f"{head}; {late}." if head else _capital(late) + ".", "overdue": []}
    tasks = sum(1 for i in items if i.kind != "indicator")
    dated = len(items) - tasks
    what = " và ".join(x for x in (f"{nb(tasks)} nhiệm vụ" if tasks else "",
                                   f"{nb(dated)} chỉ tiêu có thời hạn" if dated else "") if x)
    late = f"{what} quá hạn chưa hoàn thành (danh sách dưới đây{', ' + where if where else ''})"
    summary = f"{head}; {late}." if head else _capital(late) + "."
    by_host: dict[str, list[int]] = {}
    for n, item in enumerate(items):
        for host in item.hosts:
            by_host.setdefault(host, []).append(n)
    groups: dict[tuple[int, ...], list[str]] = {}
    for host, mine in by_host.items():
        groups.setdefault(tuple(mine), []).append(host)
    if groups:
        parts = []
        ranked = sorted(groups.items(), key=lambda kv: -len(kv[0]))
        for key, hosts in ranked[:OVERDUE_GROUPS_LIMIT]:
            names = ", ".join(hosts[:OVERDUE_HOSTS_LIMIT])
            if len(hosts) > OVERDUE_HOSTS_LIMIT:
                names += f" và {nb(len(hosts) - OVERDUE_HOSTS_LIMIT)} đơn vị khác"
            parts.append(f"{names} ({_items_words([items[i] for i in key])})")
        rest = sum(len(hosts) for _, hosts in ranked[OVERDUE_GROUPS_LIMIT:])
        if rest:
            parts[-1] += f"; {nb(rest)} đơn vị khác" + (f" ({where})" if where else "")
        summary += " Cơ quan, đơn vị chủ trì chưa hoàn thành: " + "; ".join(parts) + "."
    rows = []
    for item in items:
        hosts = list(item.hosts)
        host = ", ".join(hosts[:OVERDUE_CELL_LIMIT])
        if len(hosts) > OVERDUE_CELL_LIMIT:
            host += f" và {nb(len(hosts) - OVERDUE_CELL_LIMIT)} đơn vị khác"
        rows.append({"number": item.number, "text": item.text, "host": host, "deadline": item.deadline})
    return {"summary": summary, "overdue": rows}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def texts_part(agg: Aggregation, kind: str) -> list[dict[str, str]]:
    """The units' difficulties or proposals (tidied and attributed by the aggregation)."""
    t = agg.texts[agg.texts["kind"] == kind] if not agg.texts.empty else agg.texts
    return [{"text": str(r.text).rstrip(" .;"), "units": r.units} for r in t.itertuples(index=False)]


def completeness_part(registry: Registry, agg: Aggregation) -> tuple[str, dict[str, str]]:
    c = agg.completeness
    total = c[c["tier"] == "*"].iloc[0]
    submitted = int(total["on_time"] + total["late"])
    per_tier = []
    for r in c[c["tier"] != "*"].itertuples(index=False):
        if r.expected:
            tier = registry.tier(r.tier) if r.tier in registry.tier_codes else None
            who = tier_heading(registry, tier) if tier else r.tier_name
            per_tier.append(f"{r.on_time + r.late}/{r.expected} {who}")
    summary = (f"Trong kỳ báo cáo, {submitted}/{int(total['expected'])} cơ quan, đơn vị, địa phương đã gửi báo cáo "
               f"hợp lệ ({'; '.join(per_tier)}).")
    status = agg.unit_status
    if agg.period.kind != "month":
        return _long_completeness(registry, agg, total)

    def named(state: str) -> str:
        return _names(registry, list(status.loc[status["status"] == state, "unit_code"]))

    return summary, {"expected": str(int(total["expected"])), "on_time": nb(total["on_time"]),
                     "late": nb(total["late"]), "rejected": nb(total["rejected"]),
                     "missing": nb(total["missing"]), "missing_units": named("Chưa nộp"),
                     "late_units": named("Muộn"), "rejected_units": named("Bị trả lại"),
                     "sentence": _completeness_sentence(total, named)}


def _months_text(agg: Aggregation) -> str:
    """"3 tháng (tháng 1, 2, 3 năm 2025)" — the months with data behind a longer period."""
    months = agg.months
    if not months:
        return "0 tháng"
    return f"{len(months)} tháng (tháng {', '.join(str(m.index) for m in months)} năm {months[0].year})"


def _long_completeness(registry: Registry, agg: Aggregation, total: Mapping[str, Any]
                       ) -> tuple[str, dict[str, str]]:
    """A longer period: how many units sent every month, and each unit that missed a month named with the
    months its figures cover ("UBND xã X: số liệu 2/3 tháng (thiếu tháng 2)")."""
    status = agg.unit_status
    expected = int(total["expected"])
    full = int(total["on_time"] + total["late"])
    partial_n = int(total.get("partial", 0) or 0)
    n_months = len(agg.months)
    upto = ""
    if agg.months and len(agg.months) < len(agg.period.months()):
        upto = f" (số liệu đến hết {agg.months[-1].label})"
    summary = (f"Kỳ báo cáo {agg.period.label} tổng hợp từ báo cáo hằng tháng của {_months_text(agg)}{upto}: "
               f"{full}/{expected} cơ quan, đơn vị, địa phương gửi đủ báo cáo các tháng"
               + (f", {nb(partial_n)} đơn vị còn thiếu tháng" if partial_n else "") + ".")

    def named(state: str) -> str:
        return _names(registry, list(status.loc[status["status"] == state, "unit_code"]))

    lines = []
    for r in status[status["status"] == PARTIAL].itertuples(index=False):
        lines.append(f"{label_of(registry, r.unit_code)}: số liệu {int(r.months_accepted)}/{int(r.months_expected)} "
                     f"tháng (thiếu tháng {r.missing_months})")
    parts = [f"{int(total['on_time'])}/{expected} đơn vị gửi đúng hạn cả {n_months} tháng"]
    if int(total["late"]):
        parts.append(f"{nb(int(total['late']))} đơn vị gửi đủ nhưng có tháng gửi muộn ({named('Muộn')})")
    if lines:
        parts.append(f"{nb(len(lines))} đơn vị thiếu tháng, số liệu của đơn vị chỉ tính các tháng đã gửi: "
                     + "; ".join(lines))
    if int(total["missing"]) + int(total["rejected"]):
        none = _names(registry, list(status.loc[status["status"].isin(["Chưa nộp", "Bị trả lại"]), "unit_code"]))
        parts.append(f"{nb(int(total['missing']) + int(total['rejected']))} đơn vị chưa có báo cáo hợp lệ tháng nào"
                     + (f" ({none})" if none else ""))
    sentence = "Cụ thể: " + "; ".join(parts) + "."
    return summary, {"expected": str(expected), "on_time": nb(total["on_time"]), "late": nb(total["late"]),
                     "rejected": nb(total["rejected"]), "missing": nb(total["missing"]), "partial": nb(partial_n),
                     "missing_units": named("Chưa nộp"), "late_units": named("Muộn"),
                     "rejected_units": named("Bị trả lại"), "partial_units": "; ".join(lines),
                     "sentence": sentence}


def _completeness_sentence(total: Mapping[str, Any], named: Any) -> str:
    """"Cụ thể: 81/90 đơn vị gửi đúng hạn; 03 đơn vị gửi muộn (…); 03 báo cáo phải trả lại (…); …"."""
    expected = int(total["expected"])
    parts = [f"{int(total['on_time'])}/{expected} đơn vị gửi báo cáo đúng hạn"]
    for key, state, words in (("late", "Muộn", "đơn vị gửi muộn"),
                              ("rejected", "Bị trả lại", "đơn vị có báo cáo phải trả lại để hoàn thiện"),
                              ("missing", "Chưa nộp", "đơn vị chưa gửi báo cáo")):
        n = int(total[key])
        if n:
            names = named(state)
            parts.append(f"{nb(n)} {words}" + (f" ({names})" if names else ""))
    if len(parts) == 1:
        parts.append("không có đơn vị gửi muộn, chưa gửi hoặc phải trả lại báo cáo")
    return "Cụ thể: " + "; ".join(parts) + "."


def charts(plan: Plan, registry: Registry, agg: Aggregation, points: Sequence[Mapping[str, Any]] = (),
           limit: int = 2, units: UnitRows | None = None) -> list[dict[str, Any]]:
    """Rate by agency of the first tier against the target line, for the first rate indicators; each chart is
    attached to the point it illustrates (`point`: the point's label) and placed under it."""
    units = units or UnitRows(agg.units)
    out: list[dict[str, Any]] = []
    top = registry.tiers[0]
    point_of = {p.get("key"): p.get("label") for p in points}
    for ind in plan.indicators:
        if ind.kind != "rate" or len(out) >= limit:
            continue
        value = units.value
        u = units.by_value([i for i in units.rows.get(ind.key, []) if units.tier[i] == top.code
                            and value[i] is not None and value[i] == value[i] and units.status[i] != NO_CASES])
        if len(u) < 2:
            continue
        target = ind.target_for_tier(top.code)
        n = len(out) + 1
        short = ind.short or ind.name
        who = _lower_first(tier_heading(registry, top))
        caption = f"Biểu đồ {n}. {short} của các {who}"
        if target:
            caption += f" (chỉ tiêu {_lower_first(target.label)})"
        out.append({"kind": "bar_target", "title": short, "caption": caption, "point": point_of.get(ind.key, ""),
                    "number": n,
                    "labels": [label_of(registry, units.code[i]) for i in u],
                    "values": [round_half_up(float(value[i]), 2) for i in u],   # as the text rounds them
                    "target": target.value if target else None, "unit": "%"})
    return out


def _adjustment_notes(plan: Plan, agg: Aggregation, inds: Sequence[Indicator]) -> list[str]:
    """One legend sentence per adjustment of the plan, with the adjusted targets it gives each tier."""
    notes = []
    u = agg.units
    for adj in plan.adjustments:
        keys = [i.key for i in inds if i.key in adj.indicators or i.id in adj.indicators]
        if not keys:
            continue
        rows = u[u["indicator"].isin(keys) & u["adjusted"].astype(bool)] if "adjusted" in u else u.iloc[0:0]
        if rows.empty:
            continue
        own = []
        for tier_name, g in rows.groupby("tier_name", sort=False):
            labels = sorted({str(x) for x in g["target_label"] if x})
            if labels:
                own.append(f"{_lower_first(str(tier_name))} {_lower_first(', '.join(labels))}")
        cts = ", ".join(f"CT {_printed(i)}" for i in inds if i.key in keys)
        delta = format_number(abs(adj.delta), 0 if float(adj.delta).is_integer() else 2)
        what = adj.text.rstrip(" .") if adj.text else (
            f"{'giảm' if adj.delta < 0 else 'tăng'} {delta} điểm phần trăm so với chỉ tiêu chuẩn")
        notes.append(f"{ADJUSTED_SIGN} chỉ tiêu riêng của đơn vị theo Kế hoạch ({cts}): {_lower_first(what)}"
                     + (f" — chỉ tiêu riêng: {'; '.join(own)}" if own else ""))
    return notes


def appendix(plan: Plan, registry: Registry, agg: Aggregation, period_label: str, office: Mapping[str, Any],
             issue_date: date | None = None, units: UnitRows | None = None) -> dict[str, Any]:
    # Indicators given to whole tiers; those of one or two named agencies are in Bảng 1 already.
    inds = [i for i in plan.indicators if i.kind in ("rate", "percent") and any(a in plan.tiers for a in i.applies_to)]
    columns = ["STT", "Đơn vị", *[f"CT {_printed(i)}" for i in inds]]
    # column lists, not itertuples (which boxes each value of a string column: 60,000 rows nationally)
    u = units or UnitRows(agg.units)
    values = {(u.code[i], key): (u.status[i], u.value[i], u.adjusted[i]) for key, rows in u.rows.items()
              for i in rows}
    groups = []
    used = {"no_cases": False, "adjusted": False}
    numbers: dict[Any, str] = {}
    for gi, tier in enumerate(registry.tiers, start=1):
        rows = []
        for n, unit in enumerate(registry.in_tier(tier.code), start=1):
            cells = []
            for ind in inds:
                r = values.get((unit.code, ind.key))
                if r is None:
                    cells.append("-")
                    continue
                status, value, adj = r
                mark = ADJUSTED_SIGN if bool(adj) else ""
                if status == NOT_REPORTED:
                    cells.append("x")
                elif status == NO_CASES:
                    used["no_cases"] = True
                    cells.append(NO_CASES_SIGN)
                elif pd.isna(value):
                    cells.append("")
                else:
                    used["adjusted"] = used["adjusted"] or bool(mark)
                    shown = numbers.get(value)
                    if shown is None:     # the same rate recurs across units (100,00): formatted once
                        shown = numbers[value] = format_number(float(value))
                    cells.append(shown + ("*" if status == NOT_MET else "") + mark)
            rows.append([str(n), unit_label(registry, unit), *cells])
        if rows:
            groups.append({"title": f"{roman(gi)}. {tier_heading(registry, tier)}", "rows": rows})
    legend = ["Ghi chú: đơn vị tính %; * chưa đạt chỉ tiêu của đơn vị"]
    if used["no_cases"]:
        legend.append(f"{NO_CASES_SIGN} không phát sinh hồ sơ, lượt đánh giá trong kỳ (không tính là chưa đạt)")
    legend += ["x chưa báo cáo", "- chỉ tiêu không giao cho đơn vị"]
    if used["adjusted"]:
        legend += _adjustment_notes(plan, agg, inds)
    issuer = office.get("issuer_short") or "UBND"
    when = (f"ngày      tháng {issue_date.month} năm {issue_date.year}" if issue_date else "ngày      ")
    return {"title": f"KẾT QUẢ THỰC HIỆN CHỈ TIÊU CỦA TỪNG ĐƠN VỊ {period_label.upper()}",
            "note": f"(Kèm theo Báo cáo số      /{office.get('doc_symbol') or 'BC-UBND'} {when} "
                    f"của {issuer} tỉnh {plan.province})",
            "legend": "; ".join(legend) + ". " + "; ".join(f"CT {_printed(i)}: {i.short or i.name}" for i in inds)
                      + ".",
            "columns": columns, "groups": groups}


def _printed(ind: Indicator) -> str:
    return f"{ind.group} {ind.id}" if ind.group else ind.id


def _missed_tiers(plan: Plan, registry: Registry, groups: GroupRows) -> list[str]:
    """The indicators some tier missed, with those tiers; `groups`: `group_rows(agg.groups)`."""
    out = []
    for ind in plan.indicators:
        tiers = [registry.tier(r["group_code"]).name for r in groups.get(ind.key, [])
                 if r["level"] == "tier" and r["status"] == NOT_MET and r["group_code"] in registry.tier_codes]
        if tiers:
            out.append(f"{_lower_first(ind.short or ind.name)} ({', '.join(_lower_first(t) for t in tiers)})")
    return out


def year_target_sentences(plan: Plan, registry: Registry, agg: Aggregation,
                          groups: GroupRows | None = None) -> list[str]:
    """A year report: each indicator's pooled result per tier against the plan's year target, met ones and
    not-met ones listed apart ("Đạt chỉ tiêu năm: Tỷ lệ hồ sơ trực tuyến (cấp tỉnh 78,45%/tối thiểu 75%)").
    `groups`: `group_rows(agg.groups)` when the caller has it already."""
    groups = group_rows(agg.groups) if groups is None else groups
    met: list[str] = []
    missed: list[str] = []
    for ind in plan.indicators:
        mine = [r for r in groups.get(ind.key, []) if r["level"] == "tier"]
        for status, bucket in ((MET, met), (NOT_MET, missed)):
            part = [r for r in mine if r["status"] == status]
            if not part:
                continue
            tiers = ", ".join(f"{_lower_first(str(r['group_name']))} {_pct(r['value'])}/"
                              f"{_lower_first(str(r['target_label']))}" for r in part)
            bucket.append(f"{ind.short or ind.name} ({tiers})")
    out = []
    year = agg.period.year
    if met:
        out.append(f"So với chỉ tiêu năm {year} của Kế hoạch, các chỉ tiêu đạt ({nb(len(met))} chỉ tiêu): "
                   + "; ".join(met) + ".")
    if missed:
        out.append(f"Các chỉ tiêu chưa đạt chỉ tiêu năm {year} ({nb(len(missed))} chỉ tiêu): " + "; ".join(missed)
                   + ".")
    return out


def after_sections(plan: Plan, registry: Registry, agg: Aggregation, labels: Mapping[str, str] | None = None,
                   configured: Mapping[str, Any] | None = None,
                   groups: GroupRows | None = None) -> list[dict[str, Any]]:
    """Mục II–IV. Figures the data states are plain paragraphs; what only the office can write is `todo`.
    `configured` ({"II": text or [texts], …}, from report config `sections_after`) replaces the `todo`;
    `groups`: `group_rows(agg.groups)` when the caller has it already."""
    g = agg.groups
    tier_rows = g[(g["level"] == "tier") & g["status"].notna()] if not g.empty else g
    met = int((tier_rows["status"] == MET).sum()) if not tier_rows.empty else 0
    assessed = len(tier_rows)
    general = [f"Trong kỳ, {met}/{assessed} lượt chỉ tiêu theo cấp đạt chỉ tiêu giao (tính theo tỷ lệ gộp của "
               "từng cấp)."] if assessed else []
    groups = group_rows(g) if groups is None else groups
    if agg.period.kind == "year":
        general += year_target_sentences(plan, registry, agg, groups)
    missed = _missed_tiers(plan, registry, groups)
    focus = ("; tập trung các chỉ tiêu chưa đạt: " + "; ".join(missed)) if missed else ""
    status = agg.unit_status
    chase = "; đôn đốc các đơn vị chưa gửi báo cáo" if (status["status"] == "Chưa nộp").any() else ""
    labels = labels or {}
    proposals = texts_part(agg, "proposal")
    where = f"điểm {labels['proposals']} mục 4 Phần I" if labels.get("proposals") else "mục 4 Phần I"
    listed = [f"Đề xuất, kiến nghị của các đơn vị đã tổng hợp tại {where}."] if proposals else []
    sections = [
        {"number": "II", "heading": "ĐÁNH GIÁ CHUNG", "paragraphs": general,
         "todo": ["Ưu điểm; tồn tại, hạn chế và nguyên nhân."]},
        {"number": "III", "heading": "NHIỆM VỤ TRỌNG TÂM KỲ TỚI",
         "paragraphs": ["Tiếp tục triển khai các chỉ tiêu, nhiệm vụ tại " + (plan.title or "Kế hoạch") + focus
                        + chase + "."], "todo": []},
        {"number": "IV", "heading": "ĐỀ XUẤT, KIẾN NGHỊ", "paragraphs": listed,
         "todo": ["Đề xuất, kiến nghị của cơ quan báo cáo với cấp trên (nếu có)."]},
    ]
    for sec in sections:
        given = (configured or {}).get(sec["number"])
        if given:
            sec["paragraphs"] = sec["paragraphs"] + ([given] if isinstance(given, str) else list(given))
            sec["todo"] = []
        sec["to_complete"] = bool(sec["todo"])
    return sections


# Abbreviations spelled out at their first use in the body (reading order), as administrative texts do.
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("UBND", "Ủy ban nhân dân"),
    ("HĐND", "Hội đồng nhân dân"),
    ("TTHC", "thủ tục hành chính"),
    ("CCHC", "cải cách hành chính"),
    ("DVCTT", "dịch vụ công trực tuyến"),
    ("DVCQG", "Dịch vụ công quốc gia"),
    ("QLVB", "quản lý văn bản"),
    ("DTTS", "dân tộc thiểu số"),
    ("CSDL", "cơ sở dữ liệu"),
    ("KPS", "không phát sinh"),
)


def _spell_once(text: str, seen: set[str]) -> str:
    for abbr, full in ABBREVIATIONS:
        if abbr in seen:
            continue
        m = re.search(rf"(?<![\w(]){abbr}(?!\w)", text)
        if m is None:
            continue
        seen.add(abbr)
        if abbr == "UBND":
            # "UBND tỉnh Ninh Thuận" -> "Ủy ban nhân dân tỉnh Ninh Thuận (UBND tỉnh)"
            m2 = re.match(r"UBND (tỉnh|huyện|xã|phường|thị trấn|thành phố|thị xã)((?: [A-ZĐÂÊÔƠƯÁÀẢÃẠ][\w-]*)*)",
                          text[m.start():])
            if m2:
                rep = f"Ủy ban nhân dân {m2.group(1)}{m2.group(2)} (UBND {m2.group(1)})"
                text = text[:m.start()] + rep + text[m.start() + m2.end():]
                continue
        text = text[:m.start()] + f"{full} ({abbr})" + text[m.end():]
    return text


def spell_out_abbreviations(context: dict[str, Any]) -> None:
    """Expand each abbreviation at its first use in the body, in reading order (intro, parts, item 4, sections
    after); the tables that use an abbreviation not spelled out before them get it in their note."""
    seen: set[str] = set()

    def fix(owner: dict[str, Any], key: str) -> None:
        if isinstance(owner.get(key), str):
            owner[key] = _spell_once(owner[key], seen)

    fix(context["report"], "intro")
    item4 = context.get("item4") or {}
    for part in context.get("parts") or []:
        part["paragraphs"] = [_spell_once(p, seen) for p in part.get("paragraphs") or []]
        if not part.get("item4"):
            continue
        fix(item4, "summary")
        fix(item4.get("completeness") or {}, "sentence")
        for pt in item4.get("indicator_points") or []:
            fix(pt, "title")
            pt["sentences"] = [_spell_once(s, seen) for s in pt["sentences"]]
            fix(pt, "missed")
            for chart in context.get("charts") or []:
                if chart.get("point") == pt.get("label"):
                    fix(chart, "caption")
        table = item4.get("indicator_table") or {}
        fix(item4, "indicator_lead")
        cells = " ".join(str(c) for row in table.get("rows") or [] for c in row)
        missing = [f"{a}: {f}" for a, f in ABBREVIATIONS if a not in seen and re.search(rf"(?<!\w){a}(?!\w)", cells)]
        if missing and table:
            table["note"] = ((table.get("note") or "Ghi chú:").rstrip(".") + ("; " if table.get("note") else " ")
                             + "; ".join(missing) + ".")
            seen.update(m.split(":")[0] for m in missing)
        fix(item4, "case_lead")
        tasks = item4.get("tasks") or {}
        fix(tasks, "summary")
        for key in ("difficulties", "proposals"):
            for d in item4.get(key) or []:
                fix(d, "text")
    for sec in context.get("sections_after") or []:
        sec["paragraphs"] = [_spell_once(p, seen) for p in sec.get("paragraphs") or []]


def _outline_parts(outline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Parts of Part I from the outline: configured `text` is printed; the default `paragraphs` of an item
    without text say what the office still has to write (`todo`)."""
    parts = []
    for item in outline:
        part: dict[str, Any] = {"number": str(item.get("number", "")), "heading": item.get("heading", ""),
                                "paragraphs": [], "todo": []}
        text = item.get("text")
        if text:
            part["paragraphs"] = [text] if isinstance(text, str) else list(text)
        elif item.get("item4"):
            part["paragraphs"] = list(item.get("paragraphs") or [])
        elif item.get("to_complete", True):
            part["todo"] = list(item.get("paragraphs") or []) or ["Nội dung cần bổ sung."]
        else:
            part["paragraphs"] = list(item.get("paragraphs") or [])
        if item.get("item4"):
            part["item4"] = True
        part["to_complete"] = bool(part["todo"])
        parts.append(part)
    return parts


def placeholders(context: Mapping[str, Any]) -> list[str]:
    """The parts and sections still to be written by the office ("1. Công tác kiểm soát …", "II. ĐÁNH GIÁ
    CHUNG"): a report with any of them is a draft."""
    left = []
    for owner in [*(context.get("parts") or []), *(context.get("sections_after") or [])]:
        if owner.get("to_complete") or owner.get("todo"):
            left.append(f"{owner.get('number', '')}. {owner.get('heading', '')}".strip(". "))
    return left


def build_context(plan: Plan, registry: Registry, agg: Aggregation, *, report_cfg: Mapping[str, Any],
                  issue_date: date, outline: Sequence[Mapping[str, Any]] | None = None,
                  followup: Mapping[str, Any] | None = None, overdue: Sequence[OverdueItem] | None = None
                  ) -> dict[str, Any]:
    """The full template context for one period's report.

    `followup` (`core.followup.appendix_part` of the period's follow-up table) becomes the second appendix
    ("Phụ lục II"; the indicator appendix is then "Phụ lục I" and the text refers to each by its number);
    `overdue` (`core.followup.overdue_items` of the same table) names the overdue tasks and their hosts in
    the tasks point. Both are built by the caller (app/reporting) from the store."""
    period = agg.period
    window = period.window(plan.reporting.window_rule)
    place = report_cfg.get("place") or plan.province
    office = {k: report_cfg.get(k) for k in ("superior", "issuer", "issuer_short", "doc_symbol", "signer_authority",
                                             "signer_title", "signer_name", "archive")}
    office.update({"place": place, "recipients": list(report_cfg.get("recipients") or []),
                   "kinh_gui": list(report_cfg.get("kinh_gui") or [])})
    summary, completeness = completeness_part(registry, agg)
    parts = _outline_parts(outline or report_cfg.get("outline") or DEFAULT_OUTLINE)
    # Appendices: the indicator results of every unit, then (when given) the plan follow-up table. One
    # appendix is "Phụ lục"; two are numbered, and the text refers to each by its number.
    numbered = followup is not None
    unit_ref, followup_ref = ("Phụ lục I", "Phụ lục II") if numbered else ("Phụ lục", None)
    units = UnitRows(agg.units)   # the per-unit columns as lists, once for the points, charts and appendix
    groups = group_rows(agg.groups)   # the per-group rows by indicator, once for the points, Bảng 1, Mục II-III
    points = indicator_points(plan, registry, agg, unit_ref, units, groups)
    tasks = tasks_part(registry, agg, overdue, followup_ref)
    n = len(points)
    labels: dict[str, str] = {}
    for key in ("tasks", "difficulties", "proposals"):
        if key == "tasks" and not tasks:
            continue
        labels[key] = point_label(n)
        n += 1
    chart_specs = charts(plan, registry, agg, points, units=units)
    for pt in points:
        refs = [f"Biểu đồ {c['number']}" for c in chart_specs if c["point"] == pt["label"]]
        if refs:
            pt["title"] += f" ({', '.join(refs)})"
    issuer_short = office.get("issuer_short") or "UBND"
    context = {
        "office": office,
        "report": {
            "number_line": f"Số:      /{office.get('doc_symbol') or 'BC-UBND'}",
            "date_line": f"{place}, {format_vn_date(issue_date)}",
            "title": "BÁO CÁO",
            "subject": f"Tình hình, kết quả thực hiện công tác cải cách thủ tục hành chính {period.label}",
            "period_label": period.label,
            "window_label": f"từ ngày {format_short_date(window[0])} đến ngày {format_short_date(window[1])}",
            "plan_title": plan.title,
            "intro": (f"{issuer_short} tỉnh {plan.province} báo cáo tình hình, kết quả thực "
                      f"hiện công tác cải cách thủ tục hành chính {period.label} như sau:"),
        },
        "parts": parts,
        "item4": {
            "summary": summary,
            "completeness": completeness,
            "indicator_lead": ("Kết quả thực hiện các chỉ tiêu theo từng cấp tổng hợp tại Bảng 1, kết quả của "
                               f"từng đơn vị tại {unit_ref if numbered else 'Phụ lục kèm theo'}; cụ thể như sau:"),
            "indicator_points": points,
            "indicator_table": indicator_table(plan, registry, agg, groups),
            "case_lead": case_sentence(agg),
            "case_table": case_table(agg),
            "tasks": tasks,
            "labels": labels,
            "difficulties": texts_part(agg, "difficulty"),
            "proposals": texts_part(agg, "proposal"),
        },
        "sections_after": after_sections(plan, registry, agg, labels, report_cfg.get("sections_after"), groups),
        "charts": chart_specs,
        "appendix": appendix(plan, registry, agg, period.label, office, issue_date, units),
    }
    if followup is not None:
        context["appendix"]["number"] = "I"
        context["followup"] = {**followup, "number": "II", "note": context["appendix"]["note"]}
    spell_out_abbreviations(context)
    context["report"]["draft"] = bool(placeholders(context))
    return context
