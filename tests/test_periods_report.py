"""Quarter, six months, nine months and year built from the monthly data; cùng kỳ; titles per kind.

Hand-computed on frames shaped as the store returns them (helpers of test_aggregate), and on a small
workspace built by the tests for the commands."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from cchc_excel.core.aggregate import PARTIAL, aggregate
from cchc_excel.core.narrative import build_context
from cchc_excel.core.period import Period
from tests.test_aggregate import EMPTY_CASES, EMPTY_TASKS, EMPTY_TEXTS, load, subs, values


def run(vals, period, submissions=None, texts=EMPTY_TEXTS, tasks=EMPTY_TASKS, cases=EMPTY_CASES):
    plan, reg = load()
    agg = aggregate(plan, reg, Period.parse(period), values=vals,
                    subs=submissions if submissions is not None else subs([]), cases=cases, tasks=tasks,
                    texts=texts, today=date(2025, 4, 20))
    return agg, plan, reg


def context(agg, plan, reg):
    return build_context(plan, reg, agg, report_cfg={"issuer_short": "UBND"}, issue_date=date(2025, 3, 20))


def group(agg, code, ind="3"):
    g = agg.groups
    row = g[(g["level"] == "tier") & (g["group_code"] == code) & (g["indicator"] == ind)]
    assert len(row) == 1
    return row.iloc[0]


def on_time(unit, month):
    return (unit, f"2025-{month:02d}", "accepted", datetime(2025, month, 10))


# Sở Tư pháp (S1) sends January-March; Sở Y tế (S2) misses February.
QUARTER_VALUES = [("S1", "2025-01", "3", 10, 20), ("S1", "2025-02", "3", 30, 40), ("S1", "2025-03", "3", 20, 40),
                  ("S2", "2025-01", "3", 5, 10), ("S2", "2025-03", "3", 15, 30),
                  ("S1", "2025-01", "15", None, None, 80.0, 10), ("S1", "2025-03", "15", None, None, 100.0, 30)]
QUARTER_SUBS = [on_time("S1", 1), on_time("S1", 2), on_time("S1", 3), on_time("S2", 1), on_time("S2", 3)]


def test_quarter_pools_counts_of_its_months_and_a_unit_missing_a_month_covers_the_months_it_sent():
    agg, plan, reg = run(values(QUARTER_VALUES), "2025-Q1", subs(QUARTER_SUBS))
    units = agg.units.set_index(["unit_code", "indicator"])
    assert units.loc[("S1", "3"), "numerator"] == 60 and units.loc[("S1", "3"), "denominator"] == 100
    assert units.loc[("S2", "3"), "value"] == pytest.approx(20 / 40 * 100), "January and March only"
    assert group(agg, "tinh")["value"] == pytest.approx(80 / 140 * 100), "pooled, not the mean of 60% and 50%"
    assert units.loc[("S1", "15"), "value"] == pytest.approx((80 * 10 + 100 * 30) / 40), "weighted by ratings"
    status = agg.unit_status.set_index("unit_code")
    assert status.loc["S1", "status"] == "Đúng hạn" and status.loc["S1", "months_accepted"] == 3
    assert (status.loc["S2", "status"], status.loc["S2", "months_accepted"], status.loc["S2", "missing_months"]) \
        == (PARTIAL, 2, "2")
    assert status.loc["X1", "status"] == "Chưa nộp"
    c = agg.completeness.set_index("tier")
    assert (c.loc["tinh", "on_time"], c.loc["tinh", "partial"]) == (1, 1)
    sentence = context(agg, plan, reg)["item4"]["completeness"]["sentence"]
    assert "Sở Y tế: số liệu 2/3 tháng (thiếu tháng 2)" in sentence


def test_quarter_report_has_its_own_title_window_and_compares_with_the_quarter_before_and_last_year():
    rows = [*QUARTER_VALUES, ("S1", "2024-11", "3", 40, 100), ("S1", "2024-12", "3", 10, 100),
            ("S1", "2024-02", "3", 25, 50)]
    agg, plan, reg = run(values(rows), "2025-Q1", subs(QUARTER_SUBS))
    row = group(agg, "tinh")
    assert row["value_prev"] == pytest.approx(50 / 200 * 100), "quý IV/2024 pooled from its months"
    assert row["value_last_year"] == pytest.approx(50.0), "quý I/2024"
    ctx = context(agg, plan, reg)
    assert ctx["report"]["subject"] == ("Tình hình, kết quả thực hiện công tác cải cách thủ tục hành chính "
                                        "quý I năm 2025")
    assert ctx["report"]["window_label"] == "từ ngày 15/12/2024 đến ngày 14/03/2025"
    tinh = next(p for p in ctx["item4"]["indicator_points"] if p["key"] == "3")["sentences"][0]
    assert "so với quý trước" in tinh and "so với cùng kỳ năm trước" in tinh
    assert "Cùng kỳ" in ctx["item4"]["indicator_table"]["columns"]


def test_quarter_gathers_difficulties_with_their_month_and_tasks_at_their_latest_status():
    plan, _ = load()
    task = plan.tasks[0].key
    texts = pd.DataFrame([{"unit_code": "S1", "period_code": "2025-01", "kind": "difficulty", "text": "Mạng chậm"},
                          {"unit_code": "S1", "period_code": "2025-03", "kind": "difficulty", "text": "mạng chậm."},
                          {"unit_code": "S2", "period_code": "2025-02", "kind": "proposal", "text": "Cấp máy quét"}])
    tasks = pd.DataFrame([{"unit_code": "S1", "period_code": "2025-01", "task": task, "status": "Đang thực hiện",
                           "done_date": None},
                          {"unit_code": "S1", "period_code": "2025-03", "task": task, "status": "Đã hoàn thành",
                           "done_date": "2025-03-05"}])
    agg, *_ = run(values(QUARTER_VALUES), "2025-Q1", subs(QUARTER_SUBS), texts=texts, tasks=tasks)
    t = agg.texts.set_index("kind")
    assert t.loc["difficulty", "units"] == "Sở Tư pháp (tháng 1, 3)"
    assert t.loc["proposal", "units"] == "Sở Y tế (tháng 2)"
    assert agg.tasks.set_index("unit_code").loc["S1", "status"] == "Đã hoàn thành"


def test_quarter_case_table_sums_flows_and_takes_stocks_from_the_first_and_last_month():
    def case(month, online, carried, pending):
        return {"unit_code": "S1", "period_code": f"2025-{month:02d}", "field": "Hộ tịch", "online": online,
                "direct": 1, "carried": carried, "before": 0, "on_time": 2, "late": 0, "pending_in": pending,
                "pending_late": 0}
    cases = pd.DataFrame([case(1, 10, 4, 5), case(2, 20, 5, 6), case(3, 30, 6, 7)])
    agg, *_ = run(values(QUARTER_VALUES), "2025-Q1", subs(QUARTER_SUBS), cases=cases)
    total = agg.cases.set_index("tier").loc["*"]
    assert (total["online"], total["direct"], total["carried"], total["pending_in"]) == (60, 3, 4, 7)


def test_half_and_year_pool_their_months_and_the_year_is_judged_against_the_year_target():
    rows = [("S1", "2025-01", "3", 70, 100), ("S1", "2025-06", "3", 90, 100), ("S1", "2025-11", "3", 80, 100),
            ("S2", "2025-06", "3", 10, 100)]
    months = [on_time("S1", 1), on_time("S1", 6), on_time("S1", 11), on_time("S2", 6)]
    half, plan, reg = run(values(rows), "2025-H1", subs(months))
    assert group(half, "tinh")["value"] == pytest.approx(170 / 300 * 100)
    assert [m.index for m in half.months] == [1, 6]
    assert context(half, plan, reg)["report"]["subject"].endswith("6 tháng đầu năm 2025")
    year, plan, reg = run(values(rows), "2025", subs(months))
    assert group(year, "tinh")["value"] == pytest.approx(250 / 400 * 100)
    ctx = context(year, plan, reg)
    assert ctx["report"]["subject"].endswith("năm 2025")
    general = " ".join(next(s for s in ctx["sections_after"] if s["number"] == "II")["paragraphs"])
    assert "chưa đạt chỉ tiêu năm 2025" in general and "cấp tỉnh 62,50%/tối thiểu 75%" in general
    nine, plan, reg = run(values(rows), "2025-9T", subs(months))
    assert context(nine, plan, reg)["report"]["subject"].endswith("9 tháng đầu năm 2025")


def test_monthly_report_shows_cung_ky_only_when_last_year_has_data():
    march = [("S1", "2025-03", "3", 80, 100)]
    agg, plan, reg = run(values(march), "2025-03", subs([on_time("S1", 3)]))
    ctx = context(agg, plan, reg)
    assert "Cùng kỳ" not in ctx["item4"]["indicator_table"]["columns"]
    assert not any("cùng kỳ" in s for p in ctx["item4"]["indicator_points"] for s in p["sentences"])
    agg, plan, reg = run(values([*march, ("S1", "2024-03", "3", 60, 100)]), "2025-03", subs([on_time("S1", 3)]))
    ctx = context(agg, plan, reg)
    table = ctx["item4"]["indicator_table"]
    assert "Cùng kỳ" in table["columns"]
    col = table["columns"].index("Cùng kỳ")
    assert table["rows"][0][col] == "60,00%"
    tinh = next(p for p in ctx["item4"]["indicator_points"] if p["key"] == "3")["sentences"][0]
    assert "tăng 20,00 điểm phần trăm so với cùng kỳ năm trước" in tinh


def docx_text(path) -> str:  # noqa: ANN001
    import docx

    doc = docx.Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return " ".join(parts).replace("\u00a0", " ")


def test_quarter_report_from_a_workspace_names_the_unit_missing_a_month(workspace, tmp_path):  # noqa: ANN001
    """Two communes of Bác Ái: Phước Hòa sends January and March, Phước Bình all three months."""
    from openpyxl import load_workbook

    from cchc_excel.app.reporting import aggregate_period, write_reports
    from cchc_excel.archive.importing import import_files
    from tests.conftest import PHUOC_HOA, good_values_phuoc_hoa, ws_form

    phuoc_binh = "22783"
    for month, units in ((1, (PHUOC_HOA, phuoc_binh)), (2, (phuoc_binh,)), (3, (PHUOC_HOA, phuoc_binh))):
        inbox = tmp_path / f"nhan-{month}"
        inbox.mkdir()
        for unit in units:
            typed = {**good_values_phuoc_hoa(), "CT_1_TU": 40 - month - (unit == phuoc_binh) * 10}
            ws_form(workspace, unit, inbox, typed, period=Period(2025, "month", month))
        got = [o for _, o in import_files(workspace, [inbox], period=Period(2025, "month", month),
                                          received_at=datetime(2025, month, 10))]
        assert all(o.status == "accepted" for o in got), [o.problems for o in got]
    q1 = Period.parse("2025-Q1")
    agg = aggregate_period(workspace, q1)
    status = agg.unit_status.set_index("unit_code")
    assert (status.loc[PHUOC_HOA, "status"], status.loc[PHUOC_HOA, "missing_months"]) == (PARTIAL, "2")
    assert status.loc[phuoc_binh, "months_accepted"] == 3
    files = write_reports(workspace, q1, tmp_path / "bc", pdf=False, issue_date=date(2025, 3, 20), agg=agg)
    text = docx_text(files.docx)
    assert "quý I năm 2025" in text
    assert "UBND xã Phước Hòa: số liệu 2/3 tháng (thiếu tháng 2)" in text
    assert "15/12/2024 đến ngày 14/03/2025" in text
    sheet = load_workbook(files.xlsx, read_only=True)["Nộp theo tháng"]
    rows = [[c for c in r if c is not None] for r in sheet.iter_rows(values_only=True)]
    assert any("UBND xã Phước Hòa" in r and "Thiếu" in r and "2/3" in r for r in rows), rows[:8]
