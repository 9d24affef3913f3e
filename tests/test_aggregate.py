"""Aggregation rules on small hand-computed cases (frames shaped as the store returns them)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import pandas as pd
import pytest

from cchc_excel.core.aggregate import MET, NO_CASES, NOT_MET, NOT_REPORTED, aggregate, robust_z
from cchc_excel.core.narrative import build_context, count_with_rate, unit_label
from cchc_excel.core.period import Period
from cchc_excel.core.plan import parse_plan
from cchc_excel.core.units import parse_registry

PLAN = {
    "id": "p", "title": "Kế hoạch thử", "province": "Thử", "year": 2025, "tiers": ["tinh", "huyen", "xa"],
    "indicators": [
        {"id": "3", "name": "Tỷ lệ hồ sơ trực tuyến", "kind": "rate", "numerator": "Trực tuyến",
         "denominator": "Tổng số", "targets": {"tinh": {"min": 75}, "huyen": {"min": 60}, "xa": {"min": 50}}},
        {"id": "2", "name": "Tỷ lệ thanh toán trực tuyến", "kind": "rate", "numerator": "TT", "denominator": "Tổng",
         "targets": {"tinh": {"id": "2.1", "min": 60}, "huyen": {"id": "2.2", "min": 45}, "xa": {"id": "2.3", "min": 35}}},
        {"id": "15", "name": "Mức độ hài lòng", "kind": "percent", "weight": "Số lượt đánh giá", "target": {"min": 90}},
        {"id": "16", "name": "Điểm tự chấm", "kind": "percent", "target": {"min": 80}},
    ],
    "adjustments": [{"id": "dtts", "flag": "mien_nui_dtts", "indicators": ["2"], "delta": -10}],
    "tasks": [{"id": "T1", "text": "Nhiệm vụ quý I", "deadline": "Quý I/2025", "assigned_to": ["tinh"]}],
}
REGISTRY = {
    "id": "r", "province": "Thử",
    "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "huyen", "name": "Cấp huyện"},
              {"code": "xa", "name": "Cấp xã", "parent": "huyen"}],
    "units": [
        {"code": "S1", "name": "Sở Tư pháp", "tier": "tinh"},
        {"code": "S2", "name": "Sở Y tế", "tier": "tinh"},
        {"code": "H1", "name": "Huyện Bác Ái", "tier": "huyen", "flags": ["mien_nui_dtts"]},
        {"code": "X1", "name": "Xã Phước Hòa", "tier": "xa", "parent": "H1", "flags": ["mien_nui_dtts"]},
        {"code": "X2", "name": "Xã Phước Bình", "tier": "xa", "parent": "H1"},
    ],
}
TWO_TIER = {
    "id": "r2", "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "xa", "name": "Cấp xã"}],
    "units": [{"code": "S1", "name": "Sở Tư pháp", "tier": "tinh"}, {"code": "X1", "name": "Xã A", "tier": "xa"},
              {"code": "X2", "name": "Xã B", "tier": "xa"}],
}


def load(plan=PLAN, registry=REGISTRY):
    plan_obj, rep = parse_plan(plan)
    assert plan_obj is not None, rep.flatten("code", "cell", "message")
    tiers = registry["tiers"]
    plan_tiers = [t["code"] for t in tiers]
    if plan_obj.tiers != tuple(plan_tiers):
        plan_obj, rep = parse_plan({**plan, "tiers": plan_tiers})
        assert plan_obj is not None, rep.flatten("code", "cell", "message")
    reg, rep = parse_registry(registry)
    assert reg is not None, rep.flatten("code", "cell", "message")
    return plan_obj, reg


def values(rows):
    """rows: (unit, period, indicator, numerator, denominator, value=None, weight=None)"""
    out = []
    for r in rows:
        unit, period, ind, num, den = r[:5]
        value = r[5] if len(r) > 5 else (num / den * 100 if den else None)
        weight = r[6] if len(r) > 6 else None
        out.append({"unit_code": unit, "period_code": period, "indicator": ind, "numerator": num,
                    "denominator": den, "value": value, "weight": weight, "answer": None,
                    "file_name": f"{period}_{unit}.xlsx", "sheet": "Chỉ tiêu", "cell": "E6"})
    return pd.DataFrame(out)


def subs(rows):
    return pd.DataFrame([{"id": i, "file_name": f"{u}.xlsx", "unit_code": u, "period_code": p, "status": s,
                          "is_current": s == "accepted", "version": 1, "received_at": when,
                          "imported_at": when, "errors": 0, "warnings": 0, "problems_json": "[]", "info_json": "{}"}
                         for i, (u, p, s, when) in enumerate(rows)])


EMPTY_CASES = pd.DataFrame(columns=["unit_code", "period_code", "field", "online", "direct", "carried", "before",
                                    "on_time", "late", "pending_in", "pending_late"])
EMPTY_TASKS = pd.DataFrame(columns=["unit_code", "period_code", "task", "status", "done_date"])
EMPTY_TEXTS = pd.DataFrame(columns=["unit_code", "period_code", "kind", "text"])


def run(vals, submissions=None, plan=PLAN, registry=REGISTRY, period="2025-03", texts=EMPTY_TEXTS, tasks=EMPTY_TASKS):
    plan_obj, reg = load(plan, registry)
    return aggregate(plan_obj, reg, Period.parse(period), values=vals,
                     subs=submissions if submissions is not None else subs([]), cases=EMPTY_CASES, tasks=tasks,
                     texts=texts, today=date(2025, 4, 20)), plan_obj, reg


def group(agg, level, code, ind):
    g = agg.groups
    row = g[(g["level"] == level) & (g["group_code"] == code) & (g["indicator"] == ind)]
    assert len(row) == 1, f"expected one {level}/{code}/{ind} row, got {len(row)}"
    return row.iloc[0]


def test_pooled_rate_sums_numerators_not_percentages():
    agg, *_ = run(values([("S1", "2025-03", "3", 1, 10), ("S2", "2025-03", "3", 90, 90)]))
    row = group(agg, "tier", "tinh", "3")
    assert row["value"] == pytest.approx(91.0), "pooled rate must be (1+90)/(10+90) = 91%, not the mean 55%"
    assert row["units_met"] == 1 and row["units_reported"] == 2
    assert row["share_met"] == pytest.approx(50.0)


def test_weighted_percent_uses_the_count_and_mean_rule_is_plain_mean():
    vals = values([("S1", "2025-03", "15", None, None, 90.0, 10), ("S2", "2025-03", "15", None, None, 80.0, 30),
                   ("S1", "2025-03", "16", None, None, 70.0), ("S2", "2025-03", "16", None, None, 90.0)])
    agg, *_ = run(vals)
    assert group(agg, "tier", "tinh", "15")["value"] == pytest.approx(82.5)
    assert group(agg, "tier", "tinh", "16")["value"] == pytest.approx(80.0)


def test_mountain_commune_target_is_ten_points_lower_and_judged_against_it():
    agg, *_ = run(values([("X1", "2025-03", "2", 30, 100), ("X2", "2025-03", "2", 30, 100)]))
    u = agg.units[agg.units["indicator"] == "2"].set_index("unit_code")
    assert u.loc["X1", "target"] == 25 and u.loc["X1", "status"] == MET, "flagged commune: 35 - 10 = 25, 30% meets it"
    assert u.loc["X2", "target"] == 35 and u.loc["X2", "status"] == NOT_MET
    assert u.loc["H1", "target"] == 35 and u.loc["H1", "status"] == NOT_REPORTED
    assert u.loc["X1", "printed_id"] == "2.3"


def test_year_to_date_recomputes_the_rate_from_summed_counts():
    vals = values([("S1", "2025-01", "3", 10, 100), ("S1", "2025-02", "3", 50, 100), ("S1", "2025-03", "3", 0, 0),
                   ("S1", "2024-03", "3", 40, 100)])
    agg, *_ = run(vals)
    row = group(agg, "tier", "tinh", "3")
    assert row["value_ytd"] == pytest.approx(30.0), "YTD = (10+50+0)/(100+100+0)"
    assert row["value_prev"] == pytest.approx(50.0)
    assert row["value_last_year"] == pytest.approx(40.0)
    assert pd.isna(row["value"]), "a zero denominator gives no rate, never a division"
    ytd = agg.units_ytd.set_index(["unit_code", "indicator"])
    assert ytd.loc[("S1", "3"), "value"] == pytest.approx(30.0)


def test_change_against_previous_month_is_in_percentage_points():
    agg, *_ = run(values([("S1", "2025-02", "3", 70, 100), ("S1", "2025-03", "3", 78, 100)]))
    assert group(agg, "tier", "tinh", "3")["change_prev"] == pytest.approx(8.0)


def test_district_level_pools_its_communes():
    agg, *_ = run(values([("X1", "2025-03", "3", 10, 20), ("X2", "2025-03", "3", 30, 40)]))
    row = group(agg, "district", "H1", "3")
    assert row["value"] == pytest.approx(40 / 60 * 100)
    assert row["group_name"] == "Huyện Bác Ái"


def test_two_tier_registry_has_no_district_level():
    plan = {**PLAN, "tiers": ["tinh", "xa"],
            "indicators": [{**PLAN["indicators"][0], "targets": {"tinh": {"min": 75}, "xa": {"min": 50}}}],
            "adjustments": []}
    agg, *_ = run(values([("X1", "2025-03", "3", 10, 20), ("X2", "2025-03", "3", 30, 40)]), plan=plan,
                  registry=TWO_TIER)
    assert set(agg.groups["level"]) == {"tier", "province"}
    assert group(agg, "tier", "xa", "3")["value"] == pytest.approx(40 / 60 * 100)


def test_completeness_counts_on_time_late_rejected_and_missing_by_tier():
    # Due Saturday 15/03/2025 moves to Monday 17/03; Tuesday 18/03 is one working day late.
    s = subs([("S1", "2025-03", "accepted", datetime(2025, 3, 17)), ("S2", "2025-03", "accepted", datetime(2025, 3, 18)),
              ("H1", "2025-03", "rejected", datetime(2025, 3, 12))])
    agg, *_ = run(values([("S1", "2025-03", "3", 1, 2)]), submissions=s)
    c = agg.completeness.set_index("tier")
    assert (c.loc["tinh", "on_time"], c.loc["tinh", "late"]) == (1, 1)
    assert agg.unit_status.set_index("unit_code").loc["S2", "days_late"] == 1
    assert c.loc["huyen", "rejected"] == 1
    assert c.loc["xa", "missing"] == 2
    assert c.loc["*", "expected"] == 5


def test_adding_a_unit_with_zero_denominator_changes_nothing():
    base = [("S1", "2025-03", "3", 30, 40)]
    a, *_ = run(values(base))
    b, *_ = run(values([*base, ("S2", "2025-03", "3", 0, 0)]))
    assert group(a, "tier", "tinh", "3")["value"] == group(b, "tier", "tinh", "3")["value"]


def test_overdue_task_is_listed_with_its_unit():
    tasks = pd.DataFrame([{"unit_code": "S1", "period_code": "2025-03", "task": "T1", "status": "Đang thực hiện",
                           "done_date": None}])
    agg, *_ = run(values([]), tasks=tasks, period="2025-04")
    t = agg.tasks.set_index("unit_code")
    assert not t.loc["S1", "overdue"] or t.loc["S1", "status"] == NOT_REPORTED
    agg, *_ = run(values([]), tasks=tasks.assign(period_code="2025-04"), period="2025-04")
    assert bool(agg.tasks.set_index("unit_code").loc["S1", "overdue"]), "Quý I/2025 task not done in April is overdue"


def test_jump_far_from_own_history_is_flagged_but_kept():
    hist = [("S1", f"2024-{m:02d}", "3", 70 + (m % 3), 100) for m in range(4, 13)]
    agg, *_ = run(values([*hist, ("S1", "2025-03", "3", 10, 100)]))
    flags = agg.flags
    assert list(flags["kind"]) == ["jump"] and flags.iloc[0]["unit_code"] == "S1"
    assert group(agg, "tier", "tinh", "3")["value"] == pytest.approx(10.0)
    assert robust_z([1, 1, 1], 1) is None


def test_difficulties_typed_differently_are_merged_and_attributed():
    nfd = unicodedata.normalize("NFD", "Hệ thống hay lỗi đồng bộ")
    texts = pd.DataFrame([{"unit_code": "S1", "period_code": "2025-03", "kind": "difficulty",
                           "text": "Hệ thống hay lỗi đồng bộ"},
                          {"unit_code": "S2", "period_code": "2025-03", "kind": "difficulty", "text": nfd + "."}])
    agg, *_ = run(values([]), texts=texts)
    assert len(agg.texts) == 1
    assert agg.texts.iloc[0]["units"] == "Sở Tư pháp; Sở Y tế"


def test_seed_002_count_and_rate_render_vietnamese_style():
    assert count_with_rate(719569, 1023738) == "719.569 hồ sơ (70,29%)"
    assert count_with_rate(304169, 1023738) == "304.169 hồ sơ (29,71%)"


def test_report_sentence_names_tier_target_change_and_missed_units():
    # (2774 + 95) / (10000 + 100) = 28,41%; last month 152/200 = 76%.
    vals = values([("S1", "2025-02", "3", 76, 100), ("S2", "2025-02", "3", 76, 100),
                   ("S1", "2025-03", "3", 2774, 10000), ("S2", "2025-03", "3", 95, 100)])
    agg, plan, reg = run(vals)
    ctx = build_context(plan, reg, agg, report_cfg={"issuer_short": "UBND", "doc_symbol": "BC-UBND"},
                        issue_date=date(2025, 3, 5))
    point = ctx["item4"]["indicator_points"][0]
    assert point["sentences"][0].startswith("cấp tỉnh đạt 28,41% (chỉ tiêu tối thiểu 75%), giảm 47,59 điểm phần "
                                            "trăm so với tháng trước"), point["sentences"][0]
    assert "Sở Tư pháp: 27,74%" in point["missed"]
    assert ctx["report"]["date_line"].endswith("ngày 05 tháng 3 năm 2025")
    assert unit_label(reg, reg.get("H1")) == "UBND huyện Bác Ái"


def test_unit_with_no_cases_is_not_counted_among_units_that_missed():
    s = subs([(u, "2025-03", "accepted", datetime(2025, 3, 10)) for u in ("S1", "S2")])
    vals = values([("S1", "2025-03", "3", 0, 0), ("S2", "2025-03", "3", 80, 100),
                   ("S1", "2025-03", "15", None, None, 95.0, 0), ("S2", "2025-03", "15", None, None, 80.0, 20),
                   ("S1", "2025-03", "16", None, None, None), ("S2", "2025-03", "16", None, None, 85.0)])
    agg, *_ = run(vals, submissions=s)
    u = agg.units.set_index(["unit_code", "indicator"])
    assert u.loc[("S1", "3"), "status"] == NO_CASES, "0/0 is 'không phát sinh', not 'chưa đạt'"
    assert u.loc[("S1", "15"), "status"] == NO_CASES, "no ratings (weight 0) is 'không phát sinh'"
    assert u.loc[("S1", "16"), "status"] == NO_CASES, "a blank score in a file that was sent"
    row = group(agg, "tier", "tinh", "3")
    assert (row["units_reported"], row["units_no_cases"], row["units_met"]) == (1, 1, 1)
    assert row["share_met"] == pytest.approx(100.0)
    assert group(agg, "tier", "tinh", "15")["value"] == pytest.approx(80.0), "a unit without ratings weighs nothing"
    assert group(agg, "province", "*", "3")["units_no_cases"] == 1
    assert u.loc[("H1", "3"), "status"] == NOT_REPORTED, "a unit that sent nothing is not reported"


def test_unit_names_are_one_way_everywhere():
    from cchc_excel.core.aggregate import tier_heading

    _, _, reg = run(values([]))
    assert unit_label(reg, reg.get("X1")) == "UBND xã Phước Hòa"
    assert unit_label(reg, reg.get("S1")) == "Sở Tư pháp"
    assert [tier_heading(reg, t) for t in reg.tiers] == ["Cấp tỉnh", "UBND cấp huyện", "UBND cấp xã"]
