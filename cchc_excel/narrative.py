"""The report's content: turn an `Aggregation` into the context the Word template renders (pure core).

Every number is formatted Vietnamese-style here ("27,74%", "719.569"), so the template only places text.
Sentences follow how a clerk writes them: "cấp tỉnh đạt 78,45% (chỉ tiêu tối thiểu 75%), tăng 2,10 điểm
phần trăm so với tháng trước". Parts of the outline without data are marked `to_complete`, never invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from .aggregate import MET, NOT_MET, NOT_REPORTED, Aggregation
from .layout import STATUSES
from .plan import Indicator, Plan
from .units import Registry, Unit
from .vntext import (
    format_count,
    format_number,
    format_percent,
    format_points,
    format_short_date,
    format_vn_date,
    roman,
)

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

MISSED_LIST_LIMIT = 12  # name at most this many units per sentence; the appendix has them all


def unit_label(registry: Registry, unit: Unit) -> str:
    """How a unit is named in a report: agencies by name, local authorities as "UBND huyện Bác Ái"."""
    top = registry.tiers[0].code if registry.tiers else None
    name = unit.name
    if unit.tier == top or name.upper().startswith(("UBND", "ỦY BAN", "UỶ BAN")):
        return name
    return "UBND " + name[:1].lower() + name[1:]


def count_with_rate(numerator: float, denominator: float, noun: str = "hồ sơ") -> str:
    """"719.569 hồ sơ (70,29%)" — the style of seed 002's notes."""
    rate = numerator / denominator * 100 if denominator else None
    text = f"{format_count(numerator)} {noun}".strip()
    return f"{text} ({format_percent(rate)})" if rate is not None else text


def _pct(value: Any) -> str:
    return "" if value is None or pd.isna(value) else format_percent(float(value))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


PREVIOUS_WORD = {"month": "tháng trước", "quarter": "quý trước", "half": "kỳ trước", "year": "năm trước"}


def _tier_sentence(row: pd.Series, tier_name: str, previous_word: str = "kỳ trước") -> str:
    if row is None or pd.isna(row["value"]):
        return f"{_lower_first(tier_name)}: chưa có số liệu"
    text = f"{_lower_first(tier_name)} đạt {_pct(row['value'])}"
    if row.get("target_label"):
        text += f" (chỉ tiêu {_lower_first(str(row['target_label']))})"
    if not pd.isna(row.get("value_prev")):
        text += f", {format_points(float(row['value']) - float(row['value_prev']))} so với {previous_word}"
    if row.get("status") == NOT_MET:
        text += ", chưa đạt chỉ tiêu"
    if row.get("units_reported"):
        text += f"; {int(row['units_met'])}/{int(row['units_reported'])} đơn vị đạt chỉ tiêu của mình"
    return text


def _missed_text(registry: Registry, rows: pd.DataFrame) -> str:
    missed = rows[rows["status"] == NOT_MET].sort_values("value", kind="stable")
    if missed.empty:
        return ""
    parts = []
    for r in missed.head(MISSED_LIST_LIMIT).itertuples(index=False):
        unit = registry.get(r.unit_code)
        parts.append(f"{unit_label(registry, unit) if unit else r.unit_code}: {_pct(r.value)}")
    more = len(missed) - MISSED_LIST_LIMIT
    tail = f" và {more} đơn vị khác (chi tiết tại Phụ lục)" if more > 0 else ""
    return "Các đơn vị chưa đạt: " + "; ".join(parts) + tail + "."


def indicator_points(plan: Plan, registry: Registry, agg: Aggregation) -> list[dict[str, Any]]:
    points = []
    groups = agg.groups
    letters = "abcdeghiklmnopqrstuvxy"
    n = 0
    for ind in plan.indicators:
        if ind.kind not in ("rate", "percent"):
            continue
        g = groups[(groups["indicator"] == ind.key) & (groups["level"] == "tier")] if not groups.empty else groups
        if g.empty:
            continue
        sentences = []
        for tier in registry.tiers:
            row = g[g["group_code"] == tier.code]
            if row.empty or int(row.iloc[0]["units_expected"]) == 0:
                continue
            sentences.append(_tier_sentence(row.iloc[0], tier.name, PREVIOUS_WORD.get(agg.period.kind, "kỳ trước")))
        if not sentences:
            continue
        units = agg.units[agg.units["indicator"] == ind.key]
        title = ind.name + (f" (chỉ tiêu {ind.id})" if plan.groups else "")
        points.append({"label": f"{letters[n % len(letters)]})", "title": title, "sentences": sentences,
                       "missed": _missed_text(registry, units)})
        n += 1
    return points


def indicator_table(plan: Plan, registry: Registry, agg: Aggregation) -> dict[str, Any]:
    rows = []
    groups = agg.groups
    for ind in plan.indicators:
        g = groups[(groups["indicator"] == ind.key) & (groups["level"] == "tier")] if not groups.empty else groups
        first = True
        for tier in registry.tiers:
            row = g[g["group_code"] == tier.code]
            if row.empty or int(row.iloc[0]["units_expected"]) == 0:
                continue
            r = row.iloc[0]
            target = ind.target_for_tier(tier.code)
            printed = target.printed_id if target and target.printed_id else ind.id
            reported = int(r["units_reported"])
            rows.append([printed if first or (target and target.printed_id) else "",
                         (ind.short or ind.name) if first else "", tier.name, r["target_label"] or "",
                         _pct(r["value"]), _pct(r.get("value_prev")), _pct(r.get("value_ytd")),
                         f"{int(r['units_met'])}/{reported}" if reported else "0/0"])
            first = False
    return {"caption": "Bảng 1. Kết quả thực hiện các chỉ tiêu theo cấp",
            "columns": ["STT", "Chỉ tiêu", "Cấp", "Chỉ tiêu giao", "Kết quả kỳ này", "Kỳ trước", "Lũy kế năm",
                        "Số đơn vị đạt"],
            "rows": rows}


def case_table(agg: Aggregation) -> dict[str, Any]:
    rows = []
    for i, r in enumerate(agg.cases.itertuples(index=False), start=1):
        label = r.tier_name
        rows.append(["" if r.tier == "*" else str(i), label,
                     *[format_count(getattr(r, k)) for k in ("received", "online", "direct", "carried", "resolved",
                                                              "before", "on_time", "late", "pending", "pending_in",
                                                              "pending_late")]])
    return {"caption": "Bảng 2. Tình hình, kết quả giải quyết thủ tục hành chính (theo mẫu Thông tư "
                       "01/2020/TT-VPCP)", "rows": rows}


def tasks_part(registry: Registry, agg: Aggregation) -> dict[str, Any]:
    t = agg.tasks
    if t.empty:
        return {"summary": "Kế hoạch không giao nhiệm vụ có thời hạn cho các đơn vị trong kỳ.", "overdue": []}
    counts = {s: int((t["status"] == s).sum()) for s in (*STATUSES, NOT_REPORTED)}
    overdue = t[t["overdue"]]
    summary = (f"Tổng số {len(t)} lượt nhiệm vụ được giao cho các đơn vị: {counts[STATUSES[0]]} đã hoàn thành, "
               f"{counts[STATUSES[1]]} đang thực hiện, {counts[STATUSES[2]]} chưa thực hiện"
               + (f", {counts[NOT_REPORTED]} chưa báo cáo" if counts[NOT_REPORTED] else "")
               + f"; {len(overdue)} lượt nhiệm vụ quá hạn.")
    items = []
    for (_task, text, deadline), g in overdue.groupby(["task", "text", "deadline"], sort=False):
        names = [unit_label(registry, registry.get(c)) for c in g["unit_code"] if registry.get(c)]
        shown = "; ".join(names[:MISSED_LIST_LIMIT]) + (f" và {len(names) - MISSED_LIST_LIMIT} đơn vị khác"
                                                        if len(names) > MISSED_LIST_LIMIT else "")
        items.append({"text": text, "host": shown, "deadline": deadline})
    return {"summary": summary, "overdue": items}


def texts_part(agg: Aggregation, kind: str) -> list[dict[str, str]]:
    t = agg.texts[agg.texts["kind"] == kind] if not agg.texts.empty else agg.texts
    return [{"text": r.text, "units": r.units} for r in t.itertuples(index=False)]


def completeness_part(registry: Registry, agg: Aggregation) -> tuple[str, dict[str, str]]:
    c = agg.completeness
    total = c[c["tier"] == "*"].iloc[0]
    submitted = int(total["on_time"] + total["late"])
    per_tier = []
    for r in c[c["tier"] != "*"].itertuples(index=False):
        if r.expected:
            per_tier.append(f"{r.on_time + r.late}/{r.expected} đơn vị {_lower_first(r.tier_name)}")
    summary = (f"Trong kỳ báo cáo, {submitted}/{int(total['expected'])} cơ quan, đơn vị, địa phương đã gửi báo cáo "
               f"hợp lệ ({', '.join(per_tier)}).")
    missing = agg.unit_status[agg.unit_status["status"] == "Chưa nộp"]
    names = [unit_label(registry, registry.get(c)) for c in missing["unit_code"] if registry.get(c)]
    shown = "; ".join(names[:MISSED_LIST_LIMIT])
    if len(names) > MISSED_LIST_LIMIT:
        shown += f" và {len(names) - MISSED_LIST_LIMIT} đơn vị khác (danh sách tại bảng tổng hợp Excel)"
    return summary, {"expected": str(int(total["expected"])), "on_time": str(int(total["on_time"])),
                     "late": str(int(total["late"])), "rejected": str(int(total["rejected"])),
                     "missing": str(int(total["missing"])), "missing_units": shown}


def charts(plan: Plan, registry: Registry, agg: Aggregation, limit: int = 2) -> list[dict[str, Any]]:
    """Rate by agency of the first tier against the target line, for the first rate indicators."""
    out = []
    top = registry.tiers[0]
    for ind in plan.indicators:
        if ind.kind != "rate" or len(out) >= limit:
            continue
        u = agg.units[(agg.units["indicator"] == ind.key) & (agg.units["tier"] == top.code)
                      & agg.units["value"].notna()]
        if len(u) < 2:
            continue
        u = u.sort_values("value", kind="stable")
        target = ind.target_for_tier(top.code)
        n = len(out) + 1
        caption = f"Biểu đồ {n}. {ind.name} của các đơn vị {_lower_first(top.name)}"
        if target:
            caption += f" so với chỉ tiêu ({_lower_first(target.label)})"
        out.append({"kind": "bar_target", "title": ind.name, "caption": caption,
                    "labels": [registry.get(c).name if registry.get(c) else c for c in u["unit_code"]],
                    "values": [round(float(v), 2) for v in u["value"]],
                    "target": target.value if target else None, "unit": "%"})
    return out


def appendix(plan: Plan, registry: Registry, agg: Aggregation, period_label: str, office: Mapping[str, Any]
             ) -> dict[str, Any]:
    # Indicators given to whole tiers; those of one or two named agencies are in Bảng 1 already.
    inds = [i for i in plan.indicators if i.kind in ("rate", "percent") and any(a in plan.tiers for a in i.applies_to)]
    columns = ["STT", "Đơn vị", *[f"CT {_printed(i)}" for i in inds]]
    values = {(r.unit_code, r.indicator): r for r in agg.units.itertuples(index=False)}
    groups = []
    for gi, tier in enumerate(registry.tiers, start=1):
        rows = []
        for n, unit in enumerate(registry.in_tier(tier.code), start=1):
            cells = []
            for ind in inds:
                r = values.get((unit.code, ind.key))
                if r is None:
                    cells.append("-")
                elif r.status == NOT_REPORTED or pd.isna(r.value):
                    cells.append("x" if r.status == NOT_REPORTED else "")
                else:
                    cells.append(format_number(float(r.value)) + ("*" if r.status == NOT_MET else ""))
            rows.append([str(n), unit.name, *cells])
        if rows:
            groups.append({"title": f"{roman(gi)}. {tier.group_label or tier.name}", "rows": rows})
    return {"title": f"KẾT QUẢ THỰC HIỆN CHỈ TIÊU CỦA TỪNG ĐƠN VỊ {period_label.upper()}",
            "note": f"(Kèm theo Báo cáo số      /{office.get('doc_symbol', 'BC-UBND')} ngày      "
                    f"của {office.get('issuer_short', 'UBND')} {plan.province})",
            "legend": "Ghi chú: đơn vị tính %; * chưa đạt chỉ tiêu của đơn vị; x chưa báo cáo; - chỉ tiêu không giao "
                      "cho đơn vị. "
                      + "; ".join(f"CT {_printed(i)}: {i.short or i.name}" for i in inds) + ".",
            "columns": columns, "groups": groups}


def _printed(ind: Indicator) -> str:
    return f"{ind.group} {ind.id}" if ind.group else ind.id


def after_sections(plan: Plan, registry: Registry, agg: Aggregation) -> list[dict[str, Any]]:
    g = agg.groups
    tier_rows = g[(g["level"] == "tier") & g["status"].notna()] if not g.empty else g
    met = int((tier_rows["status"] == MET).sum()) if not tier_rows.empty else 0
    assessed = len(tier_rows)
    general = [f"Trong kỳ, {met}/{assessed} lượt chỉ tiêu theo cấp đạt chỉ tiêu giao (tính theo tỷ lệ gộp của "
               "từng cấp)."] if assessed else []
    proposals = texts_part(agg, "proposal")
    return [
        {"number": "II", "heading": "ĐÁNH GIÁ CHUNG",
         "paragraphs": general + ["Ưu điểm; tồn tại, hạn chế và nguyên nhân (cơ quan tổng hợp bổ sung)."],
         "to_complete": True},
        {"number": "III", "heading": "NHIỆM VỤ TRỌNG TÂM KỲ TỚI",
         "paragraphs": ["Tiếp tục triển khai các chỉ tiêu, nhiệm vụ tại " + (plan.title or "Kế hoạch") + "; tập "
                        "trung các chỉ tiêu chưa đạt nêu tại mục 4 Phần I; đôn đốc các đơn vị chưa gửi báo cáo."],
         "to_complete": False},
        {"number": "IV", "heading": "ĐỀ XUẤT, KIẾN NGHỊ",
         "paragraphs": ([f"Tổng hợp {len(proposals)} đề xuất, kiến nghị của các đơn vị tại mục 4 Phần I."]
                        if proposals else []) + ["Đề xuất, kiến nghị của cơ quan tổng hợp (nếu có)."],
         "to_complete": True},
    ]


def build_context(plan: Plan, registry: Registry, agg: Aggregation, *, report_cfg: Mapping[str, Any],
                  issue_date: date, outline: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The full template context for one period's report."""
    period = agg.period
    window = period.window(plan.reporting.window_rule)
    place = report_cfg.get("place") or plan.province
    office = {k: report_cfg.get(k) for k in ("superior", "issuer", "issuer_short", "doc_symbol", "signer_authority",
                                             "signer_title", "signer_name", "archive")}
    office.update({"place": place, "recipients": list(report_cfg.get("recipients") or []),
                   "kinh_gui": list(report_cfg.get("kinh_gui") or [])})
    summary, completeness = completeness_part(registry, agg)
    parts = []
    for item in outline or report_cfg.get("outline") or DEFAULT_OUTLINE:
        part = {"number": str(item.get("number", "")), "heading": item.get("heading", ""),
                "paragraphs": list(item.get("paragraphs") or []),
                "to_complete": bool(item.get("to_complete", not item.get("item4") and not item.get("text")))}
        if item.get("text"):
            part["paragraphs"] = [item["text"]] if isinstance(item["text"], str) else list(item["text"])
        if item.get("item4"):
            part["item4"] = True
            part["to_complete"] = False
        parts.append(part)
    return {
        "office": office,
        "report": {
            "number_line": f"Số:      /{office.get('doc_symbol') or 'BC-UBND'}",
            "date_line": f"{place}, {format_vn_date(issue_date)}",
            "title": "BÁO CÁO",
            "subject": f"Tình hình, kết quả thực hiện công tác cải cách thủ tục hành chính {period.label}",
            "period_label": period.label,
            "window_label": f"từ ngày {format_short_date(window[0])} đến ngày {format_short_date(window[1])}",
            "plan_title": plan.title,
            "intro": (f"{office.get('issuer_short') or 'UBND'} tỉnh {plan.province} báo cáo tình hình, kết quả thực "
                      f"hiện công tác cải cách thủ tục hành chính {period.label} như sau:"),
        },
        "parts": parts,
        "item4": {
            "summary": summary,
            "completeness": completeness,
            "indicator_points": indicator_points(plan, registry, agg),
            "indicator_table": indicator_table(plan, registry, agg),
            "case_table": case_table(agg),
            "tasks": tasks_part(registry, agg),
            "difficulties": texts_part(agg, "difficulty"),
            "proposals": texts_part(agg, "proposal"),
        },
        "sections_after": after_sections(plan, registry, agg),
        "charts": charts(plan, registry, agg),
        "appendix": appendix(plan, registry, agg, period.label, office),
    }
