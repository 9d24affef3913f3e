"""The summary workbook on paper: every sheet A4, one page wide, header rows repeated, page numbers; a sheet
with nothing to show says so; units named as in the report; "Không phát sinh" apart from "Chưa đạt"."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import openpyxl
import pytest

from cchc_excel.app.reporting import aggregate_period
from cchc_excel.archive.store import ImportOutcome
from cchc_excel.archive.workspace import Workspace
from cchc_excel.core import aggregate
from cchc_excel.core.aggregate import Aggregation
from cchc_excel.core.plan import Indicator
from cchc_excel.documents.summary import CHART_TITLE_MAX, chart_title, write_summary
from tests.conftest import MARCH
from tests.test_errorbook import assert_prints_on_a4, cycle  # noqa: F401  (module fixture)

NO_CASES = getattr(aggregate, "NO_CASES", "Không phát sinh")


@pytest.fixture(scope="module")
def agg(cycle: tuple[Workspace, list[ImportOutcome]]) -> Aggregation:  # noqa: F811
    return aggregate_period(cycle[0], MARCH)


@pytest.fixture(scope="module")
def summary(cycle: tuple[Workspace, list[ImportOutcome]], agg: Aggregation,  # noqa: F811
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = cycle[0]
    return write_summary(agg, ws.plan, ws.registry, tmp_path_factory.mktemp("th") / "tong-hop.xlsx")


def test_every_summary_sheet_prints_on_a4_fit_to_width_with_titles_and_page_numbers(summary: Path) -> None:
    wb = openpyxl.load_workbook(summary)
    assert len(wb.worksheets) >= 7
    for sheet in wb.worksheets:
        assert_prints_on_a4(sheet)
        assert sheet.page_setup.orientation in ("landscape", "portrait")


def test_long_text_in_the_summary_wraps(summary: Path) -> None:
    sheet = openpyxl.load_workbook(summary)["Tổng hợp"]
    cell = next(c for row in sheet.iter_rows(min_row=4, max_col=4, min_col=4) for c in row if c.value)
    assert cell.alignment.wrap_text


def test_a_sheet_with_nothing_to_show_says_so(cycle: tuple[Workspace, list[ImportOutcome]],  # noqa: F811
                                              agg: Aggregation, tmp_path: Path) -> None:
    ws = cycle[0]
    empty = dataclasses.replace(agg, flags=agg.flags.iloc[0:0], texts=agg.texts.iloc[0:0])
    wb = openpyxl.load_workbook(write_summary(empty, ws.plan, ws.registry, tmp_path / "tong-hop.xlsx"))

    def body(name: str) -> list[str]:
        return [str(v) for row in wb[name].iter_rows(min_row=4, values_only=True) for v in row if v is not None]

    assert body("Cảnh báo số liệu") == ["Không có cảnh báo."]
    assert body("Khó khăn, kiến nghị") == ["Không có khó khăn, kiến nghị nào."]


def test_units_are_named_as_in_the_report(summary: Path) -> None:
    wb = openpyxl.load_workbook(summary)
    names = {row[1] for row in wb["Đơn vị"].iter_rows(min_row=4, values_only=True)}
    assert "UBND xã Phước Hòa" in names and "Sở Tư pháp" in names
    assert "Xã Phước Hòa" not in names
    sent = {row[0] for row in wb["Nộp báo cáo"].iter_rows(min_row=4, values_only=True)}
    assert "UBND xã Phước Tân" in sent


def test_units_without_cases_are_counted_apart_from_units_that_missed(
        cycle: tuple[Workspace, list[ImportOutcome]], agg: Aggregation, tmp_path: Path) -> None:  # noqa: F811
    ws = cycle[0]
    groups = agg.groups.copy()
    if "units_no_cases" not in groups.columns:      # before aggregate counts them itself
        groups["units_no_cases"] = 0
    groups.loc[groups.index[0], "units_no_cases"] = 2
    units = agg.units.copy()
    units.loc[units.index[0], "status"] = NO_CASES
    wb = openpyxl.load_workbook(write_summary(dataclasses.replace(agg, groups=groups, units=units), ws.plan,
                                              ws.registry, tmp_path / "tong-hop.xlsx"))
    sheet = wb["Tổng hợp"]
    header = [c.value for c in sheet[3]]
    col = header.index(f"Đơn vị {NO_CASES.lower()}")
    assert header[-1] == "Đánh giá" and header.index("Đơn vị đạt") < col
    assert sheet.cell(row=4, column=col + 1).value == 2
    legend = " ".join(str(c.value) for c in sheet[2] if c.value)
    assert NO_CASES in legend and "Chưa đạt" in legend
    statuses = [row[10] for row in wb["Đơn vị"].iter_rows(min_row=4, values_only=True)]
    assert NO_CASES in statuses


def test_chart_titles_are_short_and_whole() -> None:
    long = Indicator(key="9", id="9", code="9", kind="rate",
                     name="Tỷ lệ hồ sơ giải quyết thủ tục hành chính được cập nhật, đồng bộ trạng thái lên Cổng "
                          "Dịch vụ công quốc gia theo quy định")
    title = chart_title(long)
    assert len(title) <= CHART_TITLE_MAX and title.startswith("Chỉ tiêu 9: Tỷ lệ hồ sơ")
    assert title.endswith("…") and title[:-1].split()[-1] in long.name.split()
    short = dataclasses.replace(long, short="Tỷ lệ đồng bộ lên Cổng DVCQG")
    assert chart_title(short) == "Chỉ tiêu 9: Tỷ lệ đồng bộ lên Cổng DVCQG"


def test_warnings_sheet_names_each_kind_of_flag(cycle: tuple[Workspace, list[ImportOutcome]],  # noqa: F811
                                                 agg: Aggregation, tmp_path: Path) -> None:
    import pandas as pd

    ws = cycle[0]
    rows = [{"unit_code": "STP", "indicator": None, "kind": kind, "value": value, "reference": ref,
             "detail": "", "file_name": "f.xlsx", "cell": "F10"}
            for kind, value, ref in (("jump", 10.0, 80.0), ("case-mismatch", 12.0, 15.0),
                                     ("carried-mismatch", 5.0, 15.0))]
    flagged = dataclasses.replace(agg, flags=pd.DataFrame(rows, columns=agg.flags.columns))
    wb = openpyxl.load_workbook(write_summary(flagged, ws.plan, ws.registry, tmp_path / "tong-hop.xlsx"))
    kinds = [row[2] for row in wb["Cảnh báo số liệu"].iter_rows(min_row=4, values_only=True) if row[2]]
    assert kinds == ["Biến động lớn", "Lệch bảng giải quyết", "Lệch số từ kỳ trước"]


def _units_header(path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(path)["Đơn vị"]
    return next([str(c) for c in row if c] for row in sheet.iter_rows(values_only=True) if "Mã đơn vị" in row)


def test_units_sheet_shows_the_district_column_only_where_units_have_one(
        cycle: tuple[Workspace, list[ImportOutcome]], agg: Aggregation, tmp_path: Path) -> None:  # noqa: F811
    ws = cycle[0]
    units = agg.units.assign(district_name="Huyện Ninh Hải")
    with_district = write_summary(dataclasses.replace(agg, units=units), ws.plan, ws.registry, tmp_path / "a.xlsx")
    header = _units_header(with_district)
    assert "Huyện" in header and header.index("Đánh giá") == 10
    two_tier = write_summary(dataclasses.replace(agg, units=units.assign(district_name=None)), ws.plan, ws.registry,
                             tmp_path / "b.xlsx")
    header = _units_header(two_tier)
    assert "Huyện" not in header, "an empty district column is printed for a two-tier province"
    sheet = openpyxl.load_workbook(two_tier)["Đơn vị"]
    status_col = header.index("Đánh giá") + 1
    statuses = {sheet.cell(row=r, column=status_col).value for r in range(1, sheet.max_row + 1)}
    assert statuses & {aggregate.MET, aggregate.NOT_MET}, "the status column moved with the header"
