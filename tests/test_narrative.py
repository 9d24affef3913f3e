"""The report's content (narrative.build_context) on small hand-made cases: units without cases counted
apart, units named one way and listed by tier, point letters, the appendix subtitle, clerk texts, drafts."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from cchc_excel.core.aggregate import NO_CASES, tidy_clerk_text
from cchc_excel.core.layout import STATUSES
from cchc_excel.core.narrative import POINT_LETTERS, build_context, nb, placeholders, point_label
from tests.test_aggregate import PLAN, run, subs, values

CFG = {"issuer_short": "UBND", "doc_symbol": "BC-UBND"}
MARCH_5 = date(2025, 3, 5)


def context(agg, plan, reg, cfg=CFG):
    return build_context(plan, reg, agg, report_cfg=cfg, issue_date=MARCH_5)


def test_unit_without_cases_is_named_apart_in_sentence_table_and_appendix():
    agg, plan, reg = run(values([("S1", "2025-03", "3", 0, 0), ("S2", "2025-03", "3", 90, 100)]))
    ctx = context(agg, plan, reg)
    point = ctx["item4"]["indicator_points"][0]
    assert "1/1 đơn vị có phát sinh đạt chỉ tiêu của mình; 01 đơn vị không phát sinh (Sở Tư pháp)" in \
        point["sentences"][0]
    assert "Sở Tư pháp" not in point["missed"]
    table = ctx["item4"]["indicator_table"]
    assert table["columns"][-1] == "Không phát sinh"
    assert table["rows"][0][-2:] == ["1/1", "01"]
    row = next(r for r in ctx["appendix"]["groups"][0]["rows"] if r[1] == "Sở Tư pháp")
    assert row[2] == "KPS"
    assert "KPS không phát sinh" in ctx["appendix"]["legend"]


def test_point_letters_follow_the_vietnamese_sequence_over_20_points():
    indicators = [{"id": str(i), "name": f"Tỷ lệ thứ {i}", "kind": "rate", "numerator": "Tử", "denominator": "Mẫu",
                   "targets": {"tinh": {"min": 50}, "huyen": {"min": 50}, "xa": {"min": 50}}} for i in range(1, 18)]
    plan = {**PLAN, "indicators": indicators, "adjustments": []}
    rows = [("S1", "2025-03", str(i), 40, 100) for i in range(1, 18)]
    agg, plan_obj, reg = run(values(rows), plan=plan)
    ctx = context(agg, plan_obj, reg)
    labels = [p["label"] for p in ctx["item4"]["indicator_points"]]
    labels += [ctx["item4"]["labels"][k] for k in ("tasks", "difficulties", "proposals")]
    assert len(labels) == 20
    assert labels == [f"{x})" for x in POINT_LETTERS[:20]]
    assert labels[4] == "đ)" and len(set(labels)) == 20
    assert labels[-3:] == ["s)", "t)", "u)"]
    assert point_label(22) == "y)" and point_label(23) != "a)"


def test_appendix_subtitle_keeps_the_blanks_of_the_form():
    agg, plan, reg = run(values([("S1", "2025-03", "3", 1, 2)]))
    ctx = context(agg, plan, reg)
    assert ctx["appendix"]["note"] == "(Kèm theo Báo cáo số      /BC-UBND ngày      tháng 3 năm 2025 của UBND tỉnh Thử)"


def test_adjusted_target_is_marked_and_explained_in_the_appendix():
    agg, plan, reg = run(values([("X1", "2025-03", "2", 20, 100), ("X2", "2025-03", "2", 40, 100)]))
    ctx = context(agg, plan, reg)
    rows = {r[1]: r for g in ctx["appendix"]["groups"] for r in g["rows"]}
    col = ctx["appendix"]["columns"].index("CT 2")
    assert rows["UBND xã Phước Hòa"][col] == "20,00*†"
    assert rows["UBND xã Phước Bình"][col] == "40,00"
    assert "† chỉ tiêu riêng" in ctx["appendix"]["legend"] and "tối thiểu 25%" in ctx["appendix"]["legend"]
    missed = ctx["item4"]["indicator_points"][1]["missed"]
    assert "UBND xã Phước Hòa: 20,00% (chỉ tiêu riêng tối thiểu 25%)" in missed


def test_missed_units_are_grouped_by_tier_and_named_one_way():
    agg, plan, reg = run(values([("S1", "2025-03", "3", 10, 100), ("H1", "2025-03", "3", 10, 100),
                                 ("X1", "2025-03", "3", 10, 100)]))
    missed = context(agg, plan, reg)["item4"]["indicator_points"][0]["missed"]
    assert missed == ("Các đơn vị chưa đạt: Cấp tỉnh (01 đơn vị): Sở Tư pháp: 10,00%; UBND cấp huyện "
                      "(01 đơn vị): UBND huyện Bác Ái: 10,00%; UBND cấp xã (01 đơn vị): UBND xã Phước Hòa: 10,00%.")


def test_clerk_texts_saying_nothing_are_dropped_and_the_rest_tidied():
    for nothing in ("Không có", "Không", "-", "Chưa có", "không", "Không có khó khăn, vướng mắc.", " ", "Ko"):
        assert tidy_clerk_text(nothing) is None, nothing
    assert tidy_clerk_text("- máy quét cũ & hỏng ,, chưa thay ;") == "Máy quét cũ và hỏng, chưa thay"
    texts = pd.DataFrame([{"unit_code": u, "period_code": "2025-03", "kind": "difficulty", "text": t}
                          for u, t in (("S1", "Không có"), ("S2", "-"), ("H1", "Mạng chậm & hay mất"),
                                       ("X1", "mạng chậm và hay mất."))])
    agg, plan, reg = run(values([]), texts=texts)
    ctx = context(agg, plan, reg)
    assert ctx["item4"]["difficulties"] == [{"text": "Mạng chậm và hay mất",
                                             "units": "UBND huyện Bác Ái; UBND xã Phước Hòa"}]


def test_late_and_returned_units_are_named_and_small_counts_have_two_digits():
    # Due Saturday 15/03/2025 moves to Monday 17/03: 18/03 is late.
    s = subs([("S1", "2025-03", "accepted", datetime(2025, 3, 10)), ("S2", "2025-03", "accepted", datetime(2025, 3, 18)),
              ("H1", "2025-03", "rejected", datetime(2025, 3, 12))])
    agg, plan, reg = run(values([("S1", "2025-03", "3", 1, 2)]), submissions=s)
    sentence = context(agg, plan, reg)["item4"]["completeness"]["sentence"]
    assert "01 đơn vị gửi muộn (Sở Y tế)" in sentence
    assert "01 đơn vị có báo cáo phải trả lại để hoàn thiện (UBND huyện Bác Ái)" in sentence
    assert "02 đơn vị chưa gửi báo cáo (UBND xã Phước Hòa, UBND xã Phước Bình)" in sentence
    assert nb(3) == "03" and nb(12) == "12" and nb(1234) == "1.234"


def test_no_overdue_task_is_said_in_words():
    tasks = pd.DataFrame([{"unit_code": u, "period_code": "2025-03", "task": "T1", "status": STATUSES[0],
                           "done_date": None} for u in ("S1", "S2")])
    agg, plan, reg = run(values([]), tasks=tasks)
    summary = context(agg, plan, reg)["item4"]["tasks"]["summary"]
    assert summary == ("Tổng số 02 lượt nhiệm vụ được giao cho các đơn vị: 02 đã hoàn thành; "
                       "không có nhiệm vụ quá hạn.")


def test_computed_findings_are_not_placeholders_and_config_text_completes_the_report():
    agg, plan, reg = run(values([("S1", "2025-03", "3", 90, 100)]))
    ctx = context(agg, plan, reg)
    general = ctx["sections_after"][0]
    assert general["paragraphs"][0].startswith("Trong kỳ, 1/1 lượt chỉ tiêu")
    assert general["todo"] and general["to_complete"]
    assert not any("Tổng hợp" in t for s in ctx["sections_after"] for t in s["todo"])
    assert ctx["report"]["draft"] and placeholders(ctx)
    outline = [{"number": "1", "heading": "Kiểm soát", "text": "Đã làm."},
               {"number": "4", "heading": "Tình hình", "item4": True}]
    done = build_context(plan, reg, agg, report_cfg={**CFG, "outline": outline,
                                                     "sections_after": {"II": "Ưu điểm.", "IV": "Không."}},
                         issue_date=MARCH_5)
    assert placeholders(done) == [] and not done["report"]["draft"]


def test_abbreviations_are_spelled_out_at_first_use():
    agg, plan, reg = run(values([("S1", "2025-03", "3", 90, 100)]))
    ctx = context(agg, plan, reg)
    assert ctx["report"]["intro"].startswith("Ủy ban nhân dân tỉnh Thử (UBND tỉnh) báo cáo")


def test_no_cases_status_is_the_contract_value():
    assert NO_CASES == "Không phát sinh"


def test_overdue_tasks_from_the_follow_up_table_name_their_hosts_and_the_appendices_are_numbered():
    from cchc_excel.core.followup import OverdueItem

    tasks = pd.DataFrame([{"unit_code": "S1", "period_code": "2025-03", "task": "T1", "status": STATUSES[1],
                           "done_date": None}])
    agg, plan, reg = run(values([("S1", "2025-03", "3", 1, 2)]), tasks=tasks)
    overdue = [OverdueItem(kind="task", key="T1", number="II.3.a", text="Kết nối kho dữ liệu", deadline="Quý I/2025",
                           hosts=("Sở Tư pháp", "Sở Nội vụ")),
               OverdueItem(kind="task", key="T2", number="II.4", text="Số hóa hồ sơ", deadline="Tháng 2/2025",
                           hosts=("Sở Tư pháp",))]
    followup = {"title": "NHIỆM VỤ, CHỈ TIÊU …", "data_note": "Số liệu …", "columns": ["STT"], "widths": [1.0],
                "groups": []}
    ctx = build_context(plan, reg, agg, report_cfg=CFG, issue_date=MARCH_5, followup=followup, overdue=overdue)
    tasks_part = ctx["item4"]["tasks"]
    assert "02 nhiệm vụ quá hạn chưa hoàn thành (danh sách dưới đây, chi tiết tại Phụ lục II)" in tasks_part["summary"]
    # hosts behind on the same items together, the most items first, in the plan's numbering
    assert tasks_part["summary"].endswith("Cơ quan, đơn vị chủ trì chưa hoàn thành: Sở Tư pháp (nhiệm vụ II.3.a, "
                                          "II.4); Sở Nội vụ (nhiệm vụ II.3.a).")
    assert tasks_part["overdue"][0] == {"number": "II.3.a", "text": "Kết nối kho dữ liệu",
                                        "host": "Sở Tư pháp, Sở Nội vụ", "deadline": "Quý I/2025"}
    assert (ctx["appendix"]["number"], ctx["followup"]["number"]) == ("I", "II")
    assert ctx["followup"]["note"] == ctx["appendix"]["note"]          # the same "(Kèm theo Báo cáo số …)"
    assert "tại Phụ lục I;" in ctx["item4"]["indicator_lead"]

    plain = context(agg, plan, reg)                                        # no follow-up: one appendix
    assert "number" not in plain["appendix"] and "followup" not in plain
    assert "Phụ lục kèm theo" in plain["item4"]["indicator_lead"]
    none_late = build_context(plan, reg, agg, report_cfg=CFG, issue_date=MARCH_5, followup=followup, overdue=[])
    assert none_late["item4"]["tasks"]["summary"].endswith(
        "không có nhiệm vụ quá hạn (tình hình từng nhiệm vụ tại Phụ lục II).")
    assert none_late["item4"]["tasks"]["overdue"] == []
