"""Longer periods across the change of units, hand-computed (review of issue 13): a merged successor's months
come from its predecessors, an abolished tier's pooled figure for the months it existed (and no row after),
and a stock indicator (`aggregate_over_months: latest`) over a quarter takes each unit's latest month."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cchc_excel.core import aggregate as A
from cchc_excel.core.period import Period
from cchc_excel.core.plan import parse_plan
from cchc_excel.core.succession import history_registry, map_frames
from cchc_excel.core.units import parse_registry

from .test_succession import JULY, ok, values, world  # noqa: F401  (the fixture of the small world)

YEAR = Period.parse("2025")


def sub(unit: str, period: str, received: str, status: str = "accepted") -> dict[str, Any]:
    return {"id": 0, "file_name": f"{period}_{unit}.xlsx", "unit_code": unit, "period_code": period, "status": status,
            "is_current": status == "accepted", "version": 1, "received_at": pd.Timestamp(received)}


def subs() -> pd.DataFrame:
    """June by the old units: X1 on time, X2 late (20/6, due 16/6), B never; A, H1, X3 on time. July: every new
    unit on time."""
    june = [sub("A", "2025-06", "2025-06-05"), sub("H1", "2025-06", "2025-06-05"),
            sub("X1", "2025-06", "2025-06-05"), sub("X2", "2025-06", "2025-06-20"),
            sub("X3", "2025-06", "2025-06-05")]
    july = [sub(u, "2025-07", "2025-07-07") for u in ("A2", "B", "N1", "N2", "N3")]
    return pd.DataFrame(june + july)


def case_rows(period: str, units: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame([{"unit_code": u, "period_code": period, "field": "Hộ tịch", "online": n, "direct": 0,
                          "carried": 0, "before": 0, "on_time": n, "late": 0, "pending_in": 0, "pending_late": 0}
                         for u, n in units.items()])


def year_agg(world: dict[str, Any], period: Period) -> A.Aggregation:  # noqa: F811
    plan, history = world["plan"], world["history"]
    cases = pd.concat([case_rows("2025-06", {"A": 4, "H1": 10, "X1": 1, "X2": 2, "X3": 5}),
                       case_rows("2025-07", {"A2": 6, "B": 3, "N1": 4, "N2": 3, "N3": 2})], ignore_index=True)
    frames = map_frames(plan, history, values=values(), cases=cases, tasks=pd.DataFrame(), texts=pd.DataFrame(),
                        subs=subs())
    return A.aggregate(plan, history_registry(history), period, **frames)


def test_a_merged_successor_has_the_months_its_predecessors_sent(world: dict[str, Any]) -> None:  # noqa: F811
    st = year_agg(world, YEAR).unit_status.set_index("unit_code")
    # The year's months with data: June (old units) and July (new units).
    assert set(st["months_expected"]) == {2}
    # N1 = X1 + X2: June is there (both sent), late because X2's file came on 20/6; July on time.
    assert (st.loc["N1", "months_accepted"], st.loc["N1", "months_late"], st.loc["N1", "months_on_time"]) == (2, 1, 1)
    assert st.loc["N1", "status"] == "Muộn"
    # Both successors of the split X3 have June; the renamed A2 has A's June.
    for code in ("N2", "N3", "A2"):
        assert (st.loc[code, "months_accepted"], st.loc[code, "months_missing"]) == (2, 0), code
    # B (same unit) sent nothing in June: named as missing month 6.
    assert (st.loc["B", "months_missing"], st.loc["B", "missing_months"], st.loc["B", "status"]) == (1, "6", A.PARTIAL)
    # The abolished district is not expected of anyone: no "0/0" completeness row for its tier.
    assert "huyen" not in set(year_agg(world, YEAR).completeness["tier"])


def test_the_abolished_tier_is_shown_for_the_months_it_existed(world: dict[str, Any]) -> None:  # noqa: F811
    agg = year_agg(world, YEAR)
    g = agg.groups[agg.groups["indicator"] == "3"].set_index(["level", "group_code"])
    # H1 reported June only: 50/100.
    assert g.loc[("tier", "huyen"), "value"] == pytest.approx(50.0)
    assert g.loc[("tier", "huyen"), "units_expected"] == 1
    # The year's province figure pools everything: (160 + 155) / (290 + 210).
    assert g.loc[("province", "*"), "value"] == pytest.approx(63.0)
    assert agg.registry is not None and agg.registry.tier_codes == ("tinh", "huyen", "xa")
    # Bảng 2 of the year: the district's June cases in their own row.
    cases = agg.cases.set_index("tier")
    assert cases.loc["huyen", "units"] == 1 and cases.loc["huyen", "online"] == 10
    assert cases.loc["*", "online"] == 4 + 10 + 1 + 2 + 5 + 6 + 3 + 4 + 3 + 2


def test_a_tier_the_plan_sets_no_target_for_shows_no_units_met(world: dict[str, Any]) -> None:  # noqa: F811
    """The abolished district under the new plan has a figure but no target: Bảng 1 says "-", not "0/1"."""
    from cchc_excel.core.narrative import indicator_table

    from .test_succession import PLAN

    by_tier = {**PLAN, "indicators": [{**PLAN["indicators"][0], "target": None,
                                       "targets": {"tinh": {"min": 75}, "xa": {"min": 75}}}, PLAN["indicators"][1]]}
    del by_tier["indicators"][0]["target"]
    plan = ok(parse_plan(by_tier, source="p"))
    agg = year_agg({**world, "plan": plan}, YEAR)
    table = indicator_table(plan, agg.registry, agg)
    huyen = next(r for r in table["rows"] if r[2] == agg.registry.tier("huyen").name)
    met_col = table["columns"].index("Số đơn vị đạt")
    assert huyen[4] == "50,00%" and huyen[met_col] == "-", huyen


def test_no_row_for_a_tier_without_units_in_the_period(world: dict[str, Any]) -> None:  # noqa: F811
    agg = year_agg(world, JULY)
    assert agg.registry is not None and agg.registry.tier_codes == ("tinh", "xa")
    assert list(agg.cases["tier"]) == ["tinh", "xa", "*"]           # no "Cấp huyện" row of zeros
    assert list(agg.completeness["tier"]) == ["tinh", "xa", "*"]
    assert "huyen" not in set(agg.groups["group_code"])


def test_case_summary_leaves_out_a_tier_without_units() -> None:
    reg = ok(parse_registry({"id": "r", "province": "P",
                             "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "huyen", "name": "Cấp huyện"}],
                             "units": [{"code": "A", "name": "Sở A", "tier": "tinh"}]}, source="r"))
    out = A.case_summary(reg, case_rows("2025-12", {"A": 7}), Period.parse("2025-12"))
    assert list(out["tier_name"]) == ["Cấp tỉnh", "Tổng cộng"]
    assert list(out["online"]) == [7, 7]


STOCK_PLAN = {"id": "s", "title": "Kế hoạch", "province": "P", "year": 2025, "tiers": ["tinh"],
              "indicators": [{"id": "1", "name": "Tỷ lệ DVCTT toàn trình", "kind": "rate", "numerator": "Số TTHC",
                              "denominator": "Tổng số TTHC", "aggregate_over_months": "latest",
                              "target": {"min": 80}},
                             {"id": "3", "name": "Tỷ lệ hồ sơ trực tuyến", "kind": "rate", "numerator": "Trực tuyến",
                              "denominator": "Tổng số hồ sơ", "target": {"min": 50}}]}
STOCK_REG = {"id": "r", "province": "P", "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}],
             "units": [{"code": "A", "name": "Sở A", "tier": "tinh"}, {"code": "B", "name": "Sở B", "tier": "tinh"}]}


def rate(unit: str, period: str, indicator: str, n: int, d: int) -> dict[str, Any]:
    return {"unit_code": unit, "period_code": period, "indicator": indicator, "numerator": n, "denominator": d,
            "value": n / d * 100, "weight": None, "answer": None, "file_name": "f.xlsx", "sheet": "s", "cell": "E5"}


def test_a_stock_indicator_over_a_quarter_takes_the_last_month() -> None:
    plan = ok(parse_plan(STOCK_PLAN, source="s"))
    assert [i.over_months for i in plan.indicators] == ["latest", "sum"]
    reg = ok(parse_registry(STOCK_REG, source="r"))
    # A: TTHC offered online 10/20, 12/20, 15/20 (stock); cases online 5/10, 6/10, 9/10 (flow).
    # B: 4/10, 5/10 and no March.
    rows = [rate("A", "2025-01", "1", 10, 20), rate("A", "2025-02", "1", 12, 20), rate("A", "2025-03", "1", 15, 20),
            rate("A", "2025-01", "3", 5, 10), rate("A", "2025-02", "3", 6, 10), rate("A", "2025-03", "3", 9, 10),
            rate("B", "2025-01", "1", 4, 10), rate("B", "2025-02", "1", 5, 10)]
    v = pd.DataFrame(rows)
    q1 = Period.parse("2025-Q1")
    pooled = A.pool_months(plan, v, q1.months(), q1).set_index(["unit_code", "indicator"])
    assert (pooled.loc[("A", "1"), "numerator"], pooled.loc[("A", "1"), "denominator"]) == (15, 20)   # not 37/60
    assert (pooled.loc[("B", "1"), "numerator"], pooled.loc[("B", "1"), "denominator"]) == (5, 10)    # its February
    assert (pooled.loc[("A", "3"), "numerator"], pooled.loc[("A", "3"), "denominator"]) == (20, 30)   # summed
    assert pooled.loc[("A", "1"), "months"] == 3
    s = pd.DataFrame([sub(u, m, f"{m}-05") for u in ("A", "B") for m in ("2025-01", "2025-02", "2025-03")])
    empty = pd.DataFrame()
    agg = A.aggregate(plan, reg, q1, values=v, subs=s, cases=empty, tasks=empty, texts=empty)
    g = agg.groups.set_index(["level", "group_code", "indicator"])
    assert g.loc[("province", "*", "1"), "numerator"] == 20 and g.loc[("province", "*", "1"), "denominator"] == 30
    assert g.loc[("province", "*", "1"), "value"] == pytest.approx(20 / 30 * 100)
    # Year to date at March: the same latest months (A March, B February), not the sum of three months.
    ytd = A.ytd_per_unit(plan, reg, v, Period.parse("2025-03")).set_index(["unit_code", "indicator"])
    assert ytd.loc[("A", "1"), "value"] == pytest.approx(75.0)
    assert ytd.loc[("A", "3"), "value"] == pytest.approx(20 / 30 * 100)
    march = A.aggregate(plan, reg, Period.parse("2025-03"), values=v, subs=s, cases=empty, tasks=empty, texts=empty)
    gm = march.groups.set_index(["level", "group_code", "indicator"])
    assert gm.loc[("province", "*", "1"), "value_ytd"] == pytest.approx(20 / 30 * 100)


def test_aggregate_over_months_accepts_only_sum_or_latest() -> None:
    bad = {**STOCK_PLAN, "indicators": [{**STOCK_PLAN["indicators"][0], "aggregate_over_months": "average"}]}
    plan, report = parse_plan(bad, source="s")
    assert not report.ok
    assert "aggregate_over_months" in " ".join(p.message for p in report.problems)
