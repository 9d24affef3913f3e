"""The plan follow-up table (issue 18): the Hải Dương 2024 appendix rebuilt from hand-made unit reports,
Ninh Thuận and Vĩnh Long in their own numbering, task progress month by month, and the Word and Excel files."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from cchc_excel.archive.datafiles import load_plan
from cchc_excel.core import followup as F
from cchc_excel.core.aggregate import VALUE_COLUMNS
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry, parse_registry

from .conftest import TEMPLATES

HD_REGISTRY: dict[str, Any] = {
    "id": "hai-duong-thu-nghiem",
    "province": "Hải Dương",
    "tiers": [{"code": "tinh", "name": "Cấp tỉnh", "group_label": "Sở, ban, ngành"},
              {"code": "huyen", "name": "Cấp huyện"},
              {"code": "xa", "name": "Cấp xã", "parent": "huyen"}],
    "units": [
        {"code": "VPUBND", "name": "Văn phòng UBND tỉnh", "tier": "tinh"},
        {"code": "STTTT", "name": "Sở Thông tin và Truyền thông", "tier": "tinh"},
        {"code": "STP", "name": "Sở Tư pháp", "tier": "tinh"},
        {"code": "SGTVT", "name": "Sở Giao thông vận tải", "tier": "tinh"},
        {"code": "SKHDT", "name": "Sở Kế hoạch và Đầu tư", "tier": "tinh"},
        {"code": "HNS", "name": "Huyện Nam Sách", "tier": "huyen"},
        {"code": "XAN", "name": "Xã An Lâm", "tier": "xa", "parent": "HNS"},
    ],
}
NOV = Period.parse("2024-11")
OCT = Period.parse("2024-10")


@pytest.fixture(scope="module")
def hd_plan() -> Plan:
    plan, report = load_plan(TEMPLATES / "plans" / "hai-duong-2024.yaml")
    assert plan is not None, report.flatten("code", "cell")
    return plan


@pytest.fixture(scope="module")
def hd_registry() -> Registry:
    reg, report = parse_registry(HD_REGISTRY, source="hd")
    assert reg is not None, report.flatten("code", "cell")
    return reg


def value(unit: str, period: Period, indicator: str, num: float | None = None, den: float | None = None,
          val: float | None = None, weight: float | None = None) -> dict[str, Any]:
    if val is None and num is not None and den:
        val = num / den * 100
    return {"unit_code": unit, "period_code": period.code, "indicator": indicator, "numerator": num,
            "denominator": den, "value": val, "weight": weight, "answer": None, "file_name": f"{unit}.xlsx",
            "sheet": "Chỉ tiêu", "cell": "E6"}


def task(unit: str, period: Period, key: str, status: str, done: str | None = None, doc: str | None = None
         ) -> dict[str, Any]:
    return {"unit_code": unit, "period_code": period.code, "file_name": f"{unit}.xlsx", "task": key,
            "status": status, "done_date": done, "document": doc, "note": None}


def hd_reports() -> tuple[pd.DataFrame, pd.DataFrame]:
    """November 2024 as the seed's appendix tells it (and an October for the progress)."""
    rows = [
        # 9: online applications — Sở Tư pháp 27,74%, Sở GTVT 27,76%, the others above 50%.
        value("STP", NOV, "9", 2774, 10000), value("SGTVT", NOV, "9", 2776, 10000),
        value("STTTT", NOV, "9", 80, 100), value("VPUBND", NOV, "9", 60, 100), value("SKHDT", NOV, "9", 70, 100),
        value("HNS", NOV, "9", 0, 0),          # no cases: never listed as missing
        # 11: results synchronised, STTTT only: 719.569 of 1.023.738.
        value("STTTT", NOV, "11", 719569, 1023738),
        # 8: satisfaction (weighted percentage).
        value("STP", NOV, "8", val=95, weight=10), value("HNS", NOV, "8", val=80, weight=30),
    ]
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    tasks = pd.DataFrame([
        task("STTTT", OCT, "1", "Chưa thực hiện"),
        task("STTTT", NOV, "1", "Đang thực hiện", doc="Công văn số 627/UBND-VP ngày 26/02/2024"),
        task("VPUBND", NOV, "1", "Đang thực hiện"),
        task("STP", OCT, "6", "Đang thực hiện"),
        task("STP", NOV, "6", "Đã hoàn thành", done="2024-09-10", doc="Quyết định số 12/QĐ-STP"),
        task("SKHDT", NOV, "6", "Chưa thực hiện"),
    ])
    return values, tasks


@pytest.fixture(scope="module")
def hd_table(hd_plan: Plan, hd_registry: Registry) -> F.FollowupTable:
    values, tasks = hd_reports()
    return F.build_followup(hd_plan, hd_registry, NOV, values=values, tasks=tasks)


def row(table: F.FollowupTable, number: str) -> F.FollowupRow:
    return next(r for r in table.rows if r.number == number and r.kind != "heading")


def test_hai_duong_items_keep_the_directive_numbering_one_to_thirteen(hd_table: F.FollowupTable) -> None:
    numbers = [r.number for r in hd_table.rows]
    assert numbers == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12.1", "12.2", "13"]
    assert all(r.kind != "heading" for r in hd_table.rows)
    assert row(hd_table, "1").kind == "task" and row(hd_table, "2").kind == "indicator"


def test_item_9_names_the_agencies_under_target_with_their_rates(hd_table: F.FollowupTable) -> None:
    note = row(hd_table, "9").note
    assert "Sở Tư pháp: 27,74%" in note
    assert "Sở Giao thông vận tải: 27,76%" in note
    assert note.index("Sở Tư pháp") < note.index("Sở Giao thông vận tải")   # worst first
    assert "Nam Sách" not in note          # no cases is not "chưa đạt"
    assert row(hd_table, "9").status == "Chưa đạt"


def test_item_11_states_synchronised_and_not_synchronised_counts_with_rates(hd_table: F.FollowupTable) -> None:
    r = row(hd_table, "11")
    assert "đã đồng bộ 719.569 hồ sơ (70,29%); chưa đồng bộ 304.169 hồ sơ (29,71%)" in r.note
    assert r.note.startswith("Sở Thông tin và Truyền thông: ")   # one unit's indicator: named, not "Toàn tỉnh"


def test_item_1_not_done_overdue_with_its_host_and_the_document_it_gave(hd_table: F.FollowupTable) -> None:
    r = row(hd_table, "1")
    assert r.status == F.TASK_NOT_DONE and r.overdue
    assert r.notes[0].startswith("Chưa hoàn thành, quá hạn (thời hạn tháng 1/2024): Sở Thông tin và Truyền thông")
    assert "Công văn số 627/UBND-VP ngày 26/02/2024" in r.notes[0]
    assert r.host == "Sở Thông tin và Truyền thông" and r.deadline == "Trong tháng 01/2024"
    assert "Đơn vị phối hợp: Văn phòng UBND tỉnh: đang thực hiện." in r.notes


def test_item_without_any_report_says_so_and_invents_nothing(hd_table: F.FollowupTable) -> None:
    for number in ("4", "2", "13"):
        assert row(hd_table, number).notes == (F.NO_REPORT,)
    # The plan file's own note (the seed's status of 11/2024) is never printed as data.
    assert "Chưa hoàn thành: Sở Kế hoạch và Đầu tư" not in row(hd_table, "2").note


def test_task_of_many_hosts_names_those_not_done_and_counts_the_done(hd_table: F.FollowupTable) -> None:
    r = row(hd_table, "6")
    assert r.overdue and r.notes[0].startswith("Chưa hoàn thành, quá hạn (thời hạn 15/09/2024): ")
    text = r.note
    assert "Sở Kế hoạch và Đầu tư (chưa thực hiện)" in text
    assert "Sở Giao thông vận tải (chưa báo cáo)" in text
    assert "Sở Tư pháp (" not in text       # done
    assert "Đã hoàn thành: 01/" in text


def test_ongoing_deadline_is_never_overdue(hd_plan: Plan, hd_registry: Registry) -> None:
    values, tasks = hd_reports()
    table = F.build_followup(hd_plan, hd_registry, NOV, values=values, tasks=tasks, as_of=date(2030, 1, 1))
    assert not row(table, "9").overdue      # "Thường xuyên trong năm 2024", not met
    assert row(table, "1").overdue


def test_overdue_items_name_the_hosts_for_item_4(hd_table: F.FollowupTable, hd_registry: Registry) -> None:
    items = {i.number: i for i in F.overdue_items(hd_table, hd_registry)}
    assert set(items) == {"1", "6"}
    assert items["1"].hosts == ("Sở Thông tin và Truyền thông",)
    assert "Sở Kế hoạch và Đầu tư" in items["6"].hosts and "Sở Tư pháp" not in items["6"].hosts


def test_done_task_gives_completion_date_and_document(hd_plan: Plan, hd_registry: Registry) -> None:
    values, tasks = hd_reports()
    tasks = pd.concat([tasks, pd.DataFrame([task("STTTT", Period.parse("2024-12"), "4", "Đã hoàn thành",
                                                 done="2024-02-26", doc="Công văn số 627/UBND-VP ngày 26/02/2024")])])
    table = F.build_followup(hd_plan, hd_registry, Period.parse("2024-12"), values=values, tasks=tasks)
    assert row(table, "4").notes[0] == ("Đã hoàn thành ngày 26/02/2024 (Công văn số 627/UBND-VP ngày "
                                        "26/02/2024).")


def test_year_pools_the_months_up_to_the_latest_with_data(hd_plan: Plan, hd_registry: Registry) -> None:
    values, tasks = hd_reports()
    values = pd.concat([values, pd.DataFrame([value("STP", OCT, "9", 7226, 10000)])], ignore_index=True)
    table = F.build_followup(hd_plan, hd_registry, Period.parse("2024"), values=values, tasks=tasks)
    assert table.data_to == NOV
    # Only October and November hold data: the note names them, it does not claim "từ tháng 1".
    assert "lũy kế 02 tháng có số liệu (tháng 10, 11 năm 2024" in table.data_note
    assert "từ tháng 1" not in table.data_note
    # 2774 + 7226 over 20000: 50% meets the target, so Sở Tư pháp is no longer listed.
    assert "Sở Tư pháp" not in row(table, "9").note


def test_year_pools_its_months_as_the_report_does(hd_plan: Plan, hd_registry: Registry) -> None:
    """One rule for a longer period: the follow-up row's province figure is the aggregation's (pool_months)."""
    from cchc_excel.core.aggregate import aggregate

    values, tasks = hd_reports()
    values = pd.concat([values, pd.DataFrame([value("STP", OCT, "9", 7226, 10000),
                                              value("SGTVT", OCT, "9", 100, 1000)])], ignore_index=True)
    year = Period.parse("2024")
    table = F.build_followup(hd_plan, hd_registry, year, values=values, tasks=tasks)
    subs = pd.DataFrame([{"unit_code": u, "period_code": p, "status": "accepted", "is_current": True,
                          "received_at": pd.Timestamp("2024-12-01"), "file_name": "f.xlsx", "id": i, "version": 1}
                         for i, (u, p) in enumerate(sorted(set(zip(values["unit_code"], values["period_code"],
                                                                   strict=True))))])
    agg = aggregate(hd_plan, hd_registry, year, values=values, subs=subs, cases=pd.DataFrame(), tasks=tasks,
                    texts=pd.DataFrame())
    g = agg.groups
    province = g[(g["level"] == "province") & (g["indicator"] == hd_plan.indicator("9").key)].iloc[0]
    assert f"{province['value']:.2f}".replace(".", ",") in row(table, "9").note


def test_units_over_the_limit_are_counted_with_a_pointer_to_the_detail(hd_plan: Plan) -> None:
    units = [{"code": f"X{i:02d}", "name": f"Xã Số {i}", "tier": "xa", "parent": "HNS"} for i in range(30)]
    reg, _ = parse_registry({**HD_REGISTRY, "units": [*HD_REGISTRY["units"][:6], *units]}, source="big")
    assert reg is not None
    values = pd.DataFrame([value(u["code"], NOV, "7", 50, 100) for u in units], columns=VALUE_COLUMNS)
    table = F.build_followup(hd_plan, reg, NOV, values=values, tasks=pd.DataFrame())
    note = row(table, "7").note
    assert f"và 25 đơn vị cấp xã khác (chi tiết tại {F.DETAIL_REF})" in note
    assert "Chưa báo cáo" in note


@pytest.mark.parametrize(("name", "first", "headings"), [
    ("ninh-thuan-2025", ["A", "1", "2"], ["Chỉ tiêu", "Nhiệm vụ"]),
    ("vinh-long-2025", ["A", "1", "2", "3", "4", "5", "9", "10", "B", "1"],
     ["Chỉ tiêu giao tại Nghị quyết số 01/NQ-CP", "Chỉ tiêu giao tại Nghị quyết số 02/NQ-CP",
      "Chỉ tiêu giao tại Thông báo số 56/TB-VPCP", "Nhiệm vụ"]),
])
def test_other_plans_keep_their_own_numbering_and_tables(name: str, first: list[str], headings: list[str],
                                                          nt_registry: Registry) -> None:
    plan, report = load_plan(TEMPLATES / "plans" / f"{name}.yaml")
    assert plan is not None, report.flatten("code", "cell")
    table = F.build_followup(plan, nt_registry, Period.parse("2025-03"), values=pd.DataFrame(),
                             tasks=pd.DataFrame())
    numbers = [r.number for r in table.rows]
    assert numbers[:len(first)] == first
    assert [r.content for r in table.rows if r.kind == "heading"] == headings
    tasks = [r.number for r in table.rows if r.kind == "task"]
    assert tasks == [t.id for t in plan.tasks]
    assert all(r.notes for r in table.rows if r.kind != "heading")


def test_progress_shows_each_hosts_status_per_month_and_what_changed(hd_plan: Plan, hd_registry: Registry) -> None:
    _, tasks = hd_reports()
    frame = F.task_progress(hd_plan, hd_registry, tasks, [OCT, NOV])
    one = frame[(frame["task"] == "1") & (frame["unit_code"] == "STTTT")].iloc[0]
    assert (one["2024-10"], one["2024-11"]) == ("Chưa thực hiện", "Đang thực hiện")
    assert one[F.CHANGE_COLUMN] == "Chưa thực hiện → đang thực hiện"
    stp = frame[(frame["task"] == "6") & (frame["unit_code"] == "STP")].iloc[0]
    assert stp[F.CHANGE_COLUMN] == "Đang thực hiện → đã hoàn thành"
    vp = frame[(frame["task"] == "1") & (frame["unit_code"] == "VPUBND")].iloc[0]
    assert vp["role"] == "Phối hợp" and vp[F.CHANGE_COLUMN] == "Báo cáo mới: đang thực hiện"
    gt = frame[(frame["task"] == "6") & (frame["unit_code"] == "SGTVT")].iloc[0]
    assert gt[F.CHANGE_COLUMN] == "Chưa báo cáo"


def test_count_phrase_reads_noun_and_verb_from_the_plan_labels(hd_plan: Plan) -> None:
    assert F.count_phrase(hd_plan.indicator("11")) == ("hồ sơ", "đồng bộ")
    assert F.count_phrase(hd_plan.indicator("9")) == ("hồ sơ", None)   # no "được": no guessed verb
    assert F.complement_with_rate(719569, 1023738, "đồng bộ") == (
        "đã đồng bộ 719.569 hồ sơ (70,29%); chưa đồng bộ 304.169 hồ sơ (29,71%)")


def test_word_appendix_is_landscape_with_repeated_header_and_the_subtitle_blanks(
        hd_table: F.FollowupTable, tmp_path: Path) -> None:
    from docx import Document

    from cchc_excel.documents.followup_docx import write_followup_docx

    out = write_followup_docx(hd_table, tmp_path / "phu-luc-theo-doi-2024-11.docx", province="Hải Dương")
    doc = Document(str(out))
    section = doc.sections[0]
    assert section.page_width > section.page_height                 # landscape A4
    texts = [p.text for p in doc.paragraphs]
    assert "(Kèm theo Báo cáo số      /BC-UBND ngày      tháng      năm 2024 của UBND tỉnh Hải Dương)" in texts
    grid = doc.tables[0]
    assert [c.text for c in grid.rows[0].cells][:2] == ["STT", "Nội dung/chỉ tiêu"]
    assert grid.rows[0]._tr.trPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    assert [r.cells[0].text for r in grid.rows[1:]] == [r.number for r in hd_table.rows]
    item11 = next(r for r in grid.rows if r.cells[0].text == "11")
    assert "đã đồng bộ 719.569 hồ sơ (70,29%); chưa đồng bộ 304.169 hồ sơ (29,71%)" in item11.cells[5].text
    with zipfile.ZipFile(out) as z:
        assert "PAGE" in z.read("word/header1.xml").decode()


def test_excel_sheets_are_filterable_a4_landscape_with_the_change_column(
        hd_plan: Plan, hd_registry: Registry, hd_table: F.FollowupTable, tmp_path: Path) -> None:
    from cchc_excel.documents.followup import PROGRESS_SHEET, SHEET_NAME, write_followup_xlsx

    _, tasks = hd_reports()
    progress = F.task_progress(hd_plan, hd_registry, tasks, [OCT, NOV])
    out = write_followup_xlsx(hd_table, progress, [OCT, NOV], tmp_path / "theo-doi.xlsx")
    wb = openpyxl.load_workbook(out)
    sheet = wb[SHEET_NAME]
    assert sheet.auto_filter.ref and sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    notes = [c.value for c in sheet["J"] if c.value]
    assert any("Sở Tư pháp: 27,74%" in n for n in notes)
    prog = wb[PROGRESS_SHEET]
    header = [c.value for c in prog[prog.auto_filter.ref.split(":")[0][1:]]]
    assert header[-3:] == ["T10/2024", "T11/2024", F.CHANGE_COLUMN]
    values = [[c.value for c in row] for row in prog.iter_rows()]
    assert any(r[3] == "Sở Thông tin và Truyền thông" and r[-1] == "Chưa thực hiện → đang thực hiện"
               for r in values)


def test_appendix_part_is_the_table_as_the_reports_phu_luc_ii(hd_table: F.FollowupTable, nt_registry: Registry
                                                               ) -> None:
    part = F.appendix_part(hd_table)
    assert part["columns"] == [c for c, _ in F.APPENDIX_COLUMNS] and len(part["widths"]) == 6
    [group] = part["groups"]                         # Hải Dương: one numbering, no group rows
    assert group["title"] == "" and [r[0] for r in group["rows"]] == [r.number for r in hd_table.rows]
    one = next(r for r in group["rows"] if r[0] == "1")
    assert one[3] == F.agencies_lines(row(hd_table, "1").coordinators)
    assert "\n" in one[3] and one[3].startswith("- ")  # one coordinating agency a line
    assert one[5] == row(hd_table, "1").note
    plan, _ = load_plan(TEMPLATES / "plans" / "ninh-thuan-2025.yaml")
    assert plan is not None
    table = F.build_followup(plan, nt_registry, Period.parse("2025-03"), values=pd.DataFrame(), tasks=pd.DataFrame())
    assert [g["title"] for g in F.appendix_part(table)["groups"]] == ["A. Chỉ tiêu", "B. Nhiệm vụ"]
