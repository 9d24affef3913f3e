"""Tests for cchc_excel.core.units: the registries of reporting units (three tiers in 2025, two from 7/2025),
their validation, and finding a unit however its name was typed."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest

from cchc_excel.archive.datafiles import load_registry
from cchc_excel.core.units import Registry, check_against_plan, parse_registry
from cchc_excel.core.vntext import to_legacy

ROOT = Path(__file__).resolve().parent.parent
REGISTRIES = ROOT / "templates" / "registries"


@pytest.fixture(scope="module")
def nt() -> Registry:
    reg, report = load_registry(REGISTRIES / "ninh-thuan-2025.yaml")
    assert reg is not None, report.flatten("code", "file", "cell")
    return reg


@pytest.fixture(scope="module")
def kh() -> Registry:
    reg, report = load_registry(REGISTRIES / "khanh-hoa-2026-mau.yaml")
    assert reg is not None, report.flatten("code", "file", "cell")
    return reg


def _registry(units: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "t", "province": "Thử",
        "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "huyen", "name": "Cấp huyện"},
                  {"code": "xa", "name": "Cấp xã", "parent": "huyen"}],
        "units": units,
    }


# --- Ninh Thuận, three tiers --------------------------------------------------------------------------------


def test_ninh_thuan_registry_counts_units_per_tier(nt: Registry):
    counts = {t: len(nt.in_tier(t)) for t in nt.tier_codes}
    assert counts == {"tinh": 21, "huyen": 7, "xa": 62}


def test_ninh_thuan_flags_28_mountain_communes_and_bac_ai_district(nt: Registry):
    flagged_communes = [u for u in nt.in_tier("xa") if "mien_nui_dtts" in u.flags]
    assert len(flagged_communes) == 28
    flagged_others = [u.name for u in nt.units if u.tier != "xa" and u.flags]
    assert flagged_others == ["Huyện Bác Ái"]


def test_commune_reports_under_its_district(nt: Registry):
    commune = nt.get("22786")
    assert commune is not None and commune.name == "Xã Phước Hòa"
    district = nt.district_of(commune)
    assert district is not None and district.code == "584" and district.name == "Huyện Bác Ái"
    assert commune in nt.children("584")
    assert nt.district_of(nt.get("STP")) is None, "a department has no district"


def test_registry_reads_its_csv_with_sources(nt: Registry):
    office = nt.get("VPUBND")
    assert office is not None and office.tier == "tinh" and office.source == "nd24+kh2025"
    assert nt.tier("xa").parent == "huyen"
    assert nt.tier("tinh").group_label == "Sở, ban, ngành"


# --- Khánh Hòa sample, two tiers ------------------------------------------------------------------------------


def test_two_tier_registry_has_no_district_level(kh: Registry):
    assert kh.tier_codes == ("tinh", "xa")
    for unit in kh.units:
        assert kh.district_of(unit) is None, f"{unit.name} should not have a district"
    assert {u.code for u in kh.units if "mien_nui_dtts" in u.flags} == {"X03", "X04", "X05"}


def test_plan_using_district_tier_is_flagged_against_two_tier_registry(kh: Registry):
    problems = check_against_plan(kh, ["tinh", "huyen", "xa"], source="plan.yaml")
    assert [(p.code, p.value) for p in problems] == [("plan-registry-tier", "huyen")]


# --- names typed every which way ---------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [
    pytest.param(lambda s: to_legacy(s, "TCVN3"), id="TCVN3"),
    pytest.param(lambda s: to_legacy(s, "VNI"), id="VNI"),
    pytest.param(lambda s: unicodedata.normalize("NFD", s), id="NFD"),
    pytest.param(lambda s: "  " + s.upper() + " ", id="upper-spaced"),
])
@pytest.mark.parametrize(("name", "code"), [
    ("Xã Phước Hòa", "22786"), ("Huyện Bác Ái", "584"), ("Sở Thông tin và Truyền thông", "STTTT"),
])
def test_find_by_name_matches_however_the_name_was_typed(nt: Registry, encode, name, code):
    typed = encode(name)
    assert typed != name or name.isascii(), "the encoding should change the text"
    unit = nt.find_by_name(typed)
    assert unit is not None, f"{typed!r} did not find {name}"
    assert unit.code == code


def test_find_by_name_does_not_match_a_different_unit(nt: Registry):
    assert nt.find_by_name("Xa Phuoc Hoa") is None, "diacritics are part of the name"
    assert nt.find_by_name("Xã Phước Hòa Tây") is None


# --- validation ---------------------------------------------------------------------------------------------


def test_bad_registry_reports_unknown_parent_unknown_tier_and_duplicate_code():
    data = _registry([
        {"code": "STP", "name": "Sở Tư pháp", "tier": "tinh"},
        {"code": "H1", "name": "Huyện Một", "tier": "huyen"},
        {"code": "X1", "name": "Xã Một", "tier": "xa", "parent": "H9"},
        {"code": "X2", "name": "Xã Hai", "tier": "xaa", "parent": "H1"},
        {"code": "STP", "name": "Sở Tư pháp (trùng)", "tier": "tinh"},
    ])
    reg, report = parse_registry(data, source="dm.yaml")
    assert reg is None, "a registry with errors must not be returned"
    found = {(p.code, p.cell, p.value) for p in report.problems}
    assert found == {
        ("unknown-parent", "units[2]", "H9"),
        ("unknown-tier", "units[3]", "xaa"),
        ("duplicate-id", "units[4]", "STP"),
    }, found
    duplicate = next(p for p in report.problems if p.code == "duplicate-id")
    assert "units[0]" in duplicate.message, "the message names the first occurrence"


def test_commune_whose_parent_is_not_a_district_is_reported():
    data = _registry([
        {"code": "STP", "name": "Sở Tư pháp", "tier": "tinh"},
        {"code": "H1", "name": "Huyện Một", "tier": "huyen"},
        {"code": "X1", "name": "Xã Một", "tier": "xa", "parent": "STP"},
    ])
    reg, report = parse_registry(data)
    assert reg is None and report.codes() == ["parent-wrong-tier"]


def test_tier_without_units_is_only_a_warning():
    data = _registry([{"code": "STP", "name": "Sở Tư pháp", "tier": "tinh"},
                      {"code": "X1", "name": "Xã Một", "tier": "xa"}])
    reg, report = parse_registry(data)
    assert reg is not None, report.flatten("code", "cell")
    assert [(p.code, p.severity, p.value) for p in report.problems] == [("tier-without-units", "warning", "huyen")]


def test_flags_may_be_written_as_text_in_a_csv_cell():
    data = _registry([{"code": "STP", "name": "Sở Tư pháp", "tier": "tinh"},
                      {"code": "H1", "name": "Huyện Một", "tier": "huyen"},
                      {"code": "X1", "name": "Xã Một", "tier": "xa", "parent": "H1",
                       "flags": "mien_nui_dtts; bien_dao"}])
    reg, report = parse_registry(data)
    assert reg is not None, report.flatten("code", "cell")
    assert reg.get("X1").flags == frozenset({"mien_nui_dtts", "bien_dao"})


def test_registry_csv_line_is_named_in_problems(tmp_path: Path):
    (tmp_path / "dm.csv").write_text("code,name,tier,parent_code,flags,source\n"
                                     "STP,Sở Tư pháp,tinh,,,\nH1,Huyện Một,huyen,,,\nX1,Xã Một,xa,H9,,\n",
                                     encoding="utf-8")
    (tmp_path / "dm.yaml").write_text("id: dm\ntiers:\n  - {code: tinh}\n  - {code: huyen}\n"
                                      "  - {code: xa, parent: huyen}\nunits_csv: dm.csv\n", encoding="utf-8")
    reg, report = load_registry(tmp_path / "dm.yaml")
    assert reg is None
    (problem,) = report.problems
    assert problem.code == "unknown-parent" and problem.file.endswith("dm.csv")
    assert "dòng CSV 4" in (problem.cell or ""), problem.cell


def test_example_in_registry_format_doc_loads(tmp_path: Path):
    text = (ROOT / "docs" / "registry-format.md").read_text(encoding="utf-8")
    yaml_block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    csv_block = text.split("```text\n", 1)[1].split("```", 1)[0]
    (tmp_path / "vi-du.yaml").write_text(yaml_block, encoding="utf-8")
    (tmp_path / "vi-du.csv").write_text(csv_block, encoding="utf-8")
    reg, report = load_registry(tmp_path / "vi-du.yaml")
    assert reg is not None and report.problems == [], report.flatten("code", "cell")
    assert reg.district_of(reg.get("22786")).name == "Huyện Bác Ái"
