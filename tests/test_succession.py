"""History across a change of units: the succession map, its checker, and older periods restated on today's
units (hand-computed: a merge of two communes, a split 60/40, a renamed agency, the abolished district tier)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cchc_excel.archive.datafiles import load_registry
from cchc_excel.archive.history import check_succession_files, load_succession
from cchc_excel.core import aggregate as A
from cchc_excel.core.period import Period
from cchc_excel.core.plan import parse_plan
from cchc_excel.core.succession import (
    History,
    check_succession,
    history_registry,
    map_cases,
    map_frames,
    map_values,
    parse_succession,
)
from cchc_excel.core.units import parse_registry

from .conftest import NT_REGISTRY, TEMPLATES

KH_2025 = TEMPLATES / "registries" / "khanh-hoa-2025.yaml"
NT_TO_KH = TEMPLATES / "registries" / "ninh-thuan-2025-to-khanh-hoa-2025.yaml"

OLD = {"id": "cu", "province": "Cũ", "valid_to": "2025-06-30",
       "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "huyen", "name": "Cấp huyện"},
                 {"code": "xa", "name": "Cấp xã", "parent": "huyen"}],
       "units": [{"code": "A", "name": "Sở A", "tier": "tinh"}, {"code": "B", "name": "Sở B", "tier": "tinh"},
                 {"code": "H1", "name": "Huyện Một", "tier": "huyen"},
                 {"code": "X1", "name": "Xã Một", "tier": "xa", "parent": "H1"},
                 {"code": "X2", "name": "Xã Hai", "tier": "xa", "parent": "H1"},
                 {"code": "X3", "name": "Xã Ba", "tier": "xa", "parent": "H1"}]}
NEW = {"id": "moi", "province": "Mới", "valid_from": "2025-07-01",
       "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "xa", "name": "Cấp xã"}],
       "units": [{"code": "A2", "name": "Sở A mới", "tier": "tinh"}, {"code": "B", "name": "Sở B", "tier": "tinh"},
                 {"code": "N1", "name": "Xã Một Hai", "tier": "xa"}, {"code": "N2", "name": "Xã Ba Bắc", "tier": "xa"},
                 {"code": "N3", "name": "Xã Ba Nam", "tier": "xa"}]}
MAP: dict[str, Any] = {
    "id": "cu-to-moi", "from": "cu", "to": "moi", "effective": "2025-07-01", "abolished_tiers": ["huyen"],
    "units": [{"old": "A", "new": "A2", "kind": "renamed"}, {"old": "B", "new": "B"},
              {"old": "X1", "new": "N1"}, {"old": "X2", "new": "N1", "kind": "merged"},
              {"old": "X3", "new": {"N2": 0.6, "N3": 0.4}}]}
PLAN = {"id": "p", "title": "Kế hoạch", "province": "Mới", "year": 2025, "tiers": ["tinh", "xa"],
        "indicators": [{"id": "3", "name": "Tỷ lệ hồ sơ trực tuyến", "kind": "rate", "numerator": "Trực tuyến",
                        "denominator": "Tổng số", "target": {"min": 75}},
                       {"id": "16", "name": "Niêm yết công khai", "kind": "yesno"}]}
JUNE, JULY = Period.parse("2025-06"), Period.parse("2025-07")


def ok(result: tuple[Any, Any]) -> Any:
    value, report = result
    assert value is not None, report.flatten("code", "cell", "message")
    return value


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    old = ok(parse_registry(OLD, source="cu"))
    new = ok(parse_registry(NEW, source="moi"))
    smap = ok(parse_succession(MAP, source="map"))
    plan = ok(parse_plan(PLAN, source="p"))
    return {"old": old, "new": new, "map": smap, "plan": plan, "history": History(current=new, older=((old, smap),))}


def rate_rows(period: str, figures: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    return [{"unit_code": u, "period_code": period, "indicator": "3", "numerator": n, "denominator": d,
             "value": n / d * 100, "weight": None, "answer": None, "file_name": f"{u}.xlsx", "sheet": "Chỉ tiêu",
             "cell": "E5"} for u, (n, d) in figures.items()]


# June by the old units (the district H1 reports too), July by the new ones.
JUNE_FIG = {"A": (30, 40), "B": (10, 20), "H1": (50, 100), "X1": (8, 10), "X2": (12, 20), "X3": (50, 100)}
JULY_FIG = {"A2": (35, 40), "B": (15, 20), "N1": (25, 30), "N2": (50, 80), "N3": (30, 40)}


def values() -> pd.DataFrame:
    return pd.DataFrame(rate_rows("2025-06", JUNE_FIG) + rate_rows("2025-07", JULY_FIG))


def test_kind_follows_from_the_rows_when_not_written(world: dict[str, Any]) -> None:
    smap = world["map"]
    assert {e.old: e.kind for e in smap.entries} == {"A": "renamed", "B": "same", "X1": "merged", "X2": "merged",
                                                      "X3": "split"}
    assert smap.predecessors("N1") == ["X1", "X2"]
    assert smap.sentence() == "Số liệu các kỳ trước 01/7/2025 đã được quy đổi theo đơn vị hành chính mới."


def test_merge_adds_numerators_and_denominators_and_recomputes_the_rate(world: dict[str, Any]) -> None:
    mapped = map_values(world["plan"], values(), world["map"]).set_index(["unit_code", "period_code"])
    n1 = mapped.loc[("N1", "2025-06")]
    assert (n1["numerator"], n1["denominator"]) == (20, 30)          # 8 + 12, 10 + 20
    assert n1["value"] == pytest.approx(66.6667, abs=1e-3)             # 20/30, not the mean of 80% and 60%
    assert n1["unit_code_then"] == "X1,X2"
    assert pd.isna(n1["cell"])                                          # from two files: no single source cell


def test_split_shares_the_counts_and_keeps_the_rate(world: dict[str, Any]) -> None:
    mapped = map_values(world["plan"], values(), world["map"]).set_index(["unit_code", "period_code"])
    assert (mapped.loc[("N2", "2025-06"), "numerator"], mapped.loc[("N2", "2025-06"), "denominator"]) == (30, 60)
    assert (mapped.loc[("N3", "2025-06"), "numerator"], mapped.loc[("N3", "2025-06"), "denominator"]) == (20, 40)
    assert mapped.loc[("N3", "2025-06"), "value"] == pytest.approx(50.0)


def test_later_periods_and_abolished_units_are_left_as_they_are(world: dict[str, Any]) -> None:
    mapped = map_values(world["plan"], values(), world["map"])
    july = mapped[mapped["period_code"] == "2025-07"]
    assert sorted(july["unit_code"]) == ["A2", "B", "N1", "N2", "N3"]
    assert july["numerator"].sum() == 155
    june = mapped[mapped["period_code"] == "2025-06"].set_index("unit_code")
    assert sorted(june.index) == ["A2", "B", "H1", "N1", "N2", "N3"]   # H1 keeps its code, A became A2
    assert june["numerator"].sum() == 160 and june["denominator"].sum() == 290   # nothing lost, nothing added


def test_year_across_the_change_pools_old_and_new_months(world: dict[str, Any]) -> None:
    """Year to date at July: January–June by the old units (mapped), July by the new; the abolished district
    tier's pooled figure exists for June only; month-on-month compares July with June mapped."""
    plan, history = world["plan"], world["history"]
    mapped = map_frames(plan, history, values=values())["values"]
    registry = history_registry(history)
    assert registry.tier_codes == ("tinh", "huyen", "xa") and registry.get("H1") is not None
    agg = A.aggregate(plan, registry, JULY, values=mapped, subs=pd.DataFrame(), cases=pd.DataFrame(),
                      tasks=pd.DataFrame(), texts=pd.DataFrame())
    g = agg.groups[agg.groups["indicator"] == "3"].set_index(["level", "group_code"])
    # Province, year to date: (160 + 155) / (290 + 210) — the district's June cases are cases of the year.
    assert g.loc[("province", "*"), "value_ytd"] == pytest.approx(63.0)
    # Communes: June mapped 70/130, July 105/150; year to date 175/280.
    assert g.loc[("tier", "xa"), "value"] == pytest.approx(70.0)
    assert g.loc[("tier", "xa"), "value_prev"] == pytest.approx(70 / 130 * 100)
    assert g.loc[("tier", "xa"), "value_ytd"] == pytest.approx(62.5)
    # The district tier is not invented for July: no row, no unit expected to report.
    assert ("tier", "huyen") not in g.index
    assert "H1" not in set(agg.units["unit_code"]) and "H1" not in set(agg.unit_status["unit_code"])
    # ... and its pooled figure for the months it existed: June, 50/100.
    ytd = A._ytd_groups(plan, registry, mapped, JULY, has_districts=False).set_index(["level", "group_code"])
    assert ytd.loc[("tier", "huyen"), "value_ytd"] == pytest.approx(50.0)
    assert history.sentence(["2025-06", "2025-07"]) is not None
    assert history.sentence(["2025-07"]) is None


def test_cases_of_merged_communes_are_added_and_a_split_rounded_by_share(world: dict[str, Any]) -> None:
    def row(u: str, field: str, online: int, pending: int) -> dict[str, Any]:
        return {"unit_code": u, "period_code": "2025-06", "field": field, "online": online, "direct": 0,
                "carried": 0, "before": 0, "on_time": online - pending, "late": 0, "pending_in": pending,
                "pending_late": 0}
    cases = pd.DataFrame([row("X1", "Hộ tịch", 5, 1), row("X2", "Hộ tịch", 7, 2), row("X3", "Đất đai", 10, 5)])
    out = map_cases(cases, world["map"]).set_index(["unit_code", "field"])
    assert out.loc[("N1", "Hộ tịch"), "online"] == 12 and out.loc[("N1", "Hộ tịch"), "pending_in"] == 3
    assert out.loc[("N2", "Đất đai"), "online"] == 6 and out.loc[("N3", "Đất đai"), "online"] == 4


def test_merged_yes_no_answer_is_yes_only_when_every_predecessor_said_yes(world: dict[str, Any]) -> None:
    rows = [{"unit_code": u, "period_code": "2025-05", "indicator": "16", "numerator": None, "denominator": None,
             "value": None, "weight": None, "answer": a, "file_name": None, "sheet": None, "cell": None}
            for u, a in (("X1", "Có"), ("X2", "Không"), ("A", "Có"))]
    out = map_values(world["plan"], pd.DataFrame(rows), world["map"]).set_index("unit_code")
    assert out.loc["N1", "answer"] == "Không" and out.loc["A2", "answer"] == "Có"


def codes(found: list[Any]) -> list[tuple[str, Any]]:
    return sorted((p.code, p.value) for p in found)


def test_checker_names_unmapped_and_unknown_codes(world: dict[str, Any]) -> None:
    broken = {**MAP, "units": [*MAP["units"][:3], {"old": "X3", "new": "N9"}, {"old": "Z9", "new": "B"}]}
    smap = ok(parse_succession(broken, source="map"))
    found = check_succession(smap, world["old"], world["new"], source="map")
    assert codes(found) == [("succession-unknown-new", "N9"), ("succession-unknown-old", "Z9"),
                            ("succession-unmapped", "X2")]
    assert check_succession(world["map"], world["old"], world["new"], source="map") == []


def test_checker_refuses_abolishing_a_tier_the_new_registry_still_has(world: dict[str, Any]) -> None:
    smap = ok(parse_succession({**MAP, "abolished_tiers": ["huyen", "xa"]}, source="map"))
    found = check_succession(smap, world["old"], world["new"], source="map")
    assert ("succession-tier-kept", "xa") in codes(found), codes(found)


def test_shares_must_be_given_for_all_successors_and_sum_to_one() -> None:
    bad = {**MAP, "units": [{"old": "X3", "new": {"N2": 0.6, "N3": 0.3}}, {"old": "X1", "new": {"N1": 0.5, "N2": None}},
                            {"old": "X2", "new": "N1", "kind": "split"}]}
    smap, report = parse_succession(bad, source="map")
    assert smap is None
    assert [(p.code, p.value) for p in report.problems] == [
        ("succession-share", "X3"), ("succession-share", "X1"), ("succession-kind", "X2")]


def test_registry_validity_is_checked_and_known() -> None:
    from datetime import date

    reg, report = parse_registry({**NEW, "valid_to": "2025-06-30"}, source="moi")
    assert reg is None and [p.code for p in report.problems] == ["registry-validity"]
    reg = ok(parse_registry(NEW, source="moi"))
    assert reg.in_force(date(2025, 7, 1)) and not reg.in_force(date(2025, 6, 30))


def test_shipped_khanh_hoa_registry_has_two_tiers_and_every_commune() -> None:
    reg = ok(load_registry(KH_2025))
    assert reg.tier_codes == ("tinh", "xa") and reg.valid_from == "2025-07-01"
    communes = reg.in_tier("xa")
    assert len(communes) == 65 and all(u.code.isdigit() and len(u.code) == 5 for u in communes)
    assert reg.get("22759").name == "Phường Phan Rang" and reg.find_by_name("Xã Bác Ái Tây") is not None
    assert "mien_nui_dtts" in reg.find_by_name("Xã Bác Ái").flags


def test_shipped_succession_map_accounts_for_every_ninh_thuan_unit() -> None:
    smap, report = check_succession_files(NT_TO_KH, NT_REGISTRY, KH_2025)
    assert smap is not None and report.problems == [], report.flatten("code", "value", "message")
    assert smap.abolished_tiers == ("huyen",)
    # Phường Phước Mỹ and Phường Bảo An became Phường Bảo An (GSO 22741); Phường Đông Hải was split.
    assert smap.get("22741").successors[0].code == smap.get("22744").successors[0].code == "22741"
    assert smap.get("22744").kind == "merged" and smap.get("22768").kind == "split"
    assert ok(load_succession(NT_TO_KH)).effective == "2025-07-01"
