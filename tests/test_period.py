"""Tests for cchc_excel.core.period: reporting periods, Nghị định 09 data windows, due dates and task deadlines."""

from __future__ import annotations

import functools
import unicodedata
from datetime import date, datetime

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_excel.core.period import (
    Deadline,
    Period,
    due_warning,
    is_working_day,
    parse_deadline,
    working_days_between,
)

MARCH = Period(2025, "month", 3)
Q1 = Period(2025, "quarter", 1)
H1 = Period(2025, "half", 1)
H2 = Period(2025, "half", 2)
YEAR = Period(2025, "year", 1)


# --- parsing and names ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "period"), [
    ("2025-03", MARCH), ("2025-3", MARCH), ("03/2025", MARCH), ("3/2025", MARCH), (" 2025-03 ", MARCH),
    ("2025-Q1", Q1), ("2025-q1", Q1), ("Q1/2025", Q1), ("2025-H1", H1), ("H2/2025", H2), ("2025", YEAR),
])
def test_period_parse_accepts_cli_forms(text: str, period: Period):
    assert Period.parse(text) == period, f"{text!r} should parse as {period.code}"


@pytest.mark.parametrize("text", ["", "abc", "2025-13", "2025-00", "Q5/2025", "2025-H3", "25-03", "2025-03-01"])
def test_period_parse_rejects_nonsense_with_vietnamese_message(text: str):
    with pytest.raises(ValueError, match="Không hiểu kỳ báo cáo"):
        Period.parse(text)


@pytest.mark.parametrize("text", ["2025-9T", "9T/2025", "9 tháng 2025", "9 tháng năm 2025"])
def test_nine_months_parse_and_cover_january_to_september(text: str):
    nine = Period.parse(text)
    assert (nine.code, nine.label) == ("2025-9T", "9 tháng đầu năm 2025")
    assert [m.index for m in nine.months()] == list(range(1, 10))
    assert nine.window() == (date(2024, 12, 15), date(2025, 9, 14))
    assert Period.parse(nine.code) == nine


def test_previous_label_names_the_previous_period_of_the_same_kind():
    assert [Period.parse(t).previous_label for t in ("2025-03", "2025-Q1", "2025-H1", "2025-9T", "2025")] == [
        "tháng trước", "quý trước", "6 tháng cuối năm 2024", "9 tháng đầu năm 2024", "năm 2024"]


def test_period_constructor_validates_kind_and_index():
    with pytest.raises(ValueError):
        Period(2025, "week", 1)
    with pytest.raises(ValueError):
        Period(2025, "quarter", 5)


@pytest.mark.parametrize(("period", "code"), [(MARCH, "2025-03"), (Q1, "2025-Q1"), (H1, "2025-H1"), (YEAR, "2025")])
def test_period_code_round_trips_through_parse(period: Period, code: str):
    assert period.code == code
    assert Period.parse(code) == period


def test_month_codes_sort_in_time_order():
    codes = [Period(2025, "month", m).code for m in (11, 2, 10, 1)]
    assert sorted(codes) == ["2025-01", "2025-02", "2025-10", "2025-11"]


@pytest.mark.parametrize(("period", "label"), [
    (MARCH, "tháng 3 năm 2025"), (Q1, "quý I năm 2025"), (Period(2025, "quarter", 4), "quý IV năm 2025"),
    (H1, "6 tháng đầu năm 2025"), (H2, "6 tháng cuối năm 2025"), (YEAR, "năm 2025"),
])
def test_period_labels_are_vietnamese(period: Period, label: str):
    assert period.label == label


def test_title_label_capitalises_first_letter_only():
    assert MARCH.title_label == "Tháng 3 năm 2025"
    assert Q1.title_label == "Quý I năm 2025"


# --- months and neighbours ------------------------------------------------------------------------


def test_quarter_covers_its_three_months():
    assert [p.code for p in Period(2025, "quarter", 3).months()] == ["2025-07", "2025-08", "2025-09"]
    assert H2.first_month.code == "2025-07" and H2.last_month.code == "2025-12"
    assert YEAR.months()[0].code == "2025-01" and len(YEAR.months()) == 12


def test_january_previous_is_december_of_the_year_before():
    assert Period(2025, "month", 1).previous() == Period(2024, "month", 12)
    assert Q1.previous() == Period(2024, "quarter", 4)
    assert H1.previous() == Period(2024, "half", 2)
    assert YEAR.previous() == Period(2024, "year", 1)


def test_same_period_last_year_keeps_kind_and_index():
    assert Q1.same_period_last_year() == Period(2024, "quarter", 1)


def test_year_to_date_runs_from_january_to_last_month():
    assert [p.index for p in Period(2025, "quarter", 2).year_to_date()] == [1, 2, 3, 4, 5, 6]
    assert [p.code for p in MARCH.year_to_date()] == ["2025-01", "2025-02", "2025-03"]


@given(st.integers(1901, 9998), st.integers(1, 12))
def test_previous_month_is_contiguous(year: int, month: int):
    p = Period(year, "month", month)
    before = p.previous()
    assert before.window("calendar")[1].toordinal() + 1 == p.window("calendar")[0].toordinal(), \
        f"{before.code} should end the day before {p.code} starts"


# --- windows and due dates ------------------------------------------------------------------------


def test_march_window_runs_from_15_february_to_14_march():
    assert MARCH.window() == (date(2025, 2, 15), date(2025, 3, 14))


def test_january_window_starts_in_december_of_previous_year():
    assert Period(2025, "month", 1).window() == (date(2024, 12, 15), date(2025, 1, 14))


@pytest.mark.parametrize(("period", "window"), [
    (Q1, (date(2024, 12, 15), date(2025, 3, 14))),
    (Period(2025, "quarter", 3), (date(2025, 6, 15), date(2025, 9, 14))),
    (H1, (date(2024, 12, 15), date(2025, 6, 14))),
    (H2, (date(2025, 6, 15), date(2025, 12, 14))),
    (YEAR, (date(2024, 12, 15), date(2025, 12, 14))),
])
def test_nd09_windows_run_from_the_15th_to_the_14th(period: Period, window: tuple[date, date]):
    assert period.window("nd09") == window


def test_calendar_window_is_first_to_last_day():
    assert Period(2024, "month", 2).window("calendar") == (date(2024, 2, 1), date(2024, 2, 29))
    assert Q1.window("calendar") == (date(2025, 1, 1), date(2025, 3, 31))


def test_unknown_window_rule_is_refused():
    with pytest.raises(ValueError, match="Quy tắc"):
        MARCH.window("fiscal")


@given(st.integers(1901, 9998), st.integers(1, 12))
def test_consecutive_nd09_month_windows_tile_without_gaps(year: int, month: int):
    p = Period(year, "month", month)
    assert p.previous().window()[1].toordinal() + 1 == p.window()[0].toordinal()


def test_due_date_defaults_to_15th_of_last_month_moved_off_a_day_off():
    assert MARCH.due_date(roll=False) == date(2025, 3, 15)
    assert MARCH.due_date() == date(2025, 3, 17), "Saturday 15/03/2025 moves to Monday"
    assert Q1.due_date() == date(2025, 3, 17)
    assert Period(2025, "month", 4).due_date() == date(2025, 4, 15), "a working day stays"


def test_due_date_falling_in_tet_2025_moves_to_the_first_working_day_after():
    # Tết Ất Tỵ: days off 27/01-02/02/2025 (with the weekend); 30/01 is the second day of Tết.
    assert Period(2025, "month", 1).due_date(30) == date(2025, 2, 3)
    assert Period(2025, "month", 1).due_date(30, roll=False) == date(2025, 1, 30)
    assert Period(2024, "month", 12).due_date(28, month_offset=1) == date(2025, 2, 3)


def test_working_days_skip_tet_and_other_public_holidays():
    assert working_days_between(date(2025, 1, 24), date(2025, 2, 3)) == 1, "only Monday 03/02 after Tết"
    assert not is_working_day(date(2025, 1, 29)) and not is_working_day(date(2025, 4, 30))
    assert not is_working_day(date(2025, 9, 2)) and is_working_day(date(2025, 9, 3))
    # April 2025: 22 weekdays, less Giỗ Tổ (07/04) and 30/04.
    assert working_days_between(date(2025, 3, 31), date(2025, 4, 30)) == 20


def test_due_date_offset_and_month_end_clamp():
    assert MARCH.due_date(20, month_offset=1, roll=False) == date(2025, 4, 20)
    assert MARCH.due_date(20, month_offset=1) == date(2025, 4, 21), "Sunday 20/04/2025 moves to Monday"
    assert Period(2024, "month", 1).due_date(31, month_offset=1) == date(2024, 2, 29), "clamped to month end"
    assert Period(2025, "month", 12).due_date(5, month_offset=1) == date(2026, 1, 5)


def test_working_days_skip_weekends():
    friday, saturday, monday = date(2025, 3, 14), date(2025, 3, 15), date(2025, 3, 17)
    assert working_days_between(friday, saturday) == 0
    assert working_days_between(friday, monday) == 1
    assert working_days_between(date(2025, 3, 1), date(2025, 3, 31)) == 21
    assert working_days_between(monday, friday) == -working_days_between(friday, monday)


@functools.cache
def _vn_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Vietnam(years=year))


# No deadline: the day-by-day reference is slow on a loaded machine; the property is what matters.
@settings(deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 400))
def test_working_days_match_a_day_by_day_count(start: date, span: int):
    end = date.fromordinal(start.toordinal() + span)
    days = [date.fromordinal(start.toordinal() + i) for i in range(1, span + 1)]
    expected = sum(1 for d in days if d.weekday() < 5 and d not in _vn_holidays(d.year))
    assert working_days_between(start, end) == expected


def test_due_warning_when_due_date_leaves_no_working_day_after_cutoff():
    # March 2025 window ends Friday 14/3; due Saturday 15/3 (as the plan states it) leaves no working day.
    assert due_warning(MARCH, MARCH.due_date(roll=False), "nd09") is True
    # August 2025 by calendar months ends Sunday 31/8; due 02/09 leaves none: 01 and 02/09 are Quốc khánh.
    august = Period(2025, "month", 8)
    assert due_warning(august, august.due_date(2, month_offset=1, roll=False), "calendar") is True
    # April 2025 window ends Monday 14/4; due Tuesday 15/4 leaves one working day.
    april = Period(2025, "month", 4)
    assert due_warning(april, april.due_date(), "nd09") is False


# --- deadlines --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "due"), [
    (date(2025, 9, 30), "date", date(2025, 9, 30)),
    (datetime(2025, 9, 30, 17, 0), "date", date(2025, 9, 30)),
    ("30/9/2025", "date", date(2025, 9, 30)),
    ("30/09/2025", "date", date(2025, 9, 30)),
    ("2025-09-30", "date", date(2025, 9, 30)),
    ("ngày 31/3/2025", "date", date(2025, 3, 31)),
    ("trước ngày 15/11/2024", "date", date(2024, 11, 15)),
    ("chậm nhất ngày 15/11/2024", "date", date(2024, 11, 15)),
    ("2025-12", "month", date(2025, 12, 31)),
    ("12/2025", "month", date(2025, 12, 31)),
    ("tháng 12/2025", "month", date(2025, 12, 31)),
    ("Tháng 12 năm 2025", "month", date(2025, 12, 31)),
    ("trong tháng 12 năm 2025", "month", date(2025, 12, 31)),
    ("tháng 2/2024", "month", date(2024, 2, 29)),
    ("Quý III/2025", "quarter", date(2025, 9, 30)),
    ("Quý 3/2025", "quarter", date(2025, 9, 30)),
    ("quý III năm 2025", "quarter", date(2025, 9, 30)),
    ("Q3/2025", "quarter", date(2025, 9, 30)),
    ("2025-Q3", "quarter", date(2025, 9, 30)),
    ("trong Quý III năm 2025", "quarter", date(2025, 9, 30)),
    ("Hoàn thành trong Quý III năm 2025", "quarter", date(2025, 9, 30)),
    ("QUÝ IV/2025", "quarter", date(2025, 12, 31)),
    ("6 tháng đầu năm 2025", "half", date(2025, 6, 30)),
    ("6 tháng cuối năm 2025", "half", date(2025, 12, 31)),
    ("năm 2025", "year", date(2025, 12, 31)),
    ("2025", "year", date(2025, 12, 31)),
    ("trong năm 2024", "year", date(2024, 12, 31)),
])
def test_parse_deadline_reads_planner_wording(text, kind: str, due: date):
    deadline = parse_deadline(text)
    assert deadline is not None, f"{text!r} should parse"
    assert (deadline.kind, deadline.due) == (kind, due), f"{text!r} gave {deadline}"


@pytest.mark.parametrize("text", ["thường xuyên", "Thường xuyên", "THƯỜNG XUYÊN", "hằng năm", "hàng năm",
                                  "hằng tháng", "hàng tháng", "Quý I hàng năm"])
def test_recurring_wording_is_ongoing_and_never_overdue(text: str):
    deadline = parse_deadline(text)
    assert deadline is not None and deadline.kind == "ongoing" and deadline.due is None, f"{text!r} gave {deadline}"
    assert not deadline.is_overdue(date(2099, 1, 1))


def test_ongoing_keeps_its_text():
    deadline = parse_deadline("Quý I  hàng năm")
    assert deadline is not None and deadline.text == "Quý I hàng năm"
    assert deadline.label == "Quý I hàng năm"
    assert parse_deadline("thường xuyên").label == "Thường xuyên"  # type: ignore[union-attr]


def test_parse_deadline_tolerates_nfd_and_extra_spaces():
    text = unicodedata.normalize("NFD", "  Hoàn thành   trong Quý III   năm 2025 ")
    deadline = parse_deadline(text)
    assert deadline is not None and deadline.due == date(2025, 9, 30)


def test_month_or_quarter_without_year_uses_default_year():
    assert parse_deadline("Quý II") is None, "no year and no default -> does not parse"
    assert parse_deadline("Quý II", default_year=2025).due == date(2025, 6, 30)  # type: ignore[union-attr]
    assert parse_deadline("tháng 5", default_year=2025).due == date(2025, 5, 31)  # type: ignore[union-attr]
    assert parse_deadline("6 tháng đầu năm", default_year=2025).due == date(2025, 6, 30)  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["blah", "", "31/02/2025", "tháng 13/2025", "Quý V/2025", None, 5, "sớm"])
def test_parse_deadline_returns_none_for_unreadable_text(text):
    assert parse_deadline(text) is None, f"{text!r} should not parse"


@pytest.mark.parametrize(("text", "label"), [
    ("30/9/2025", "30/09/2025"), ("Tháng 12 năm 2025", "tháng 12/2025"), ("Q3/2025", "Quý III/2025"),
    ("6 tháng đầu năm 2025", "6 tháng đầu năm 2025"), ("6 tháng cuối năm 2025", "6 tháng cuối năm 2025"),
    ("2025", "năm 2025"), ("thường xuyên", "Thường xuyên"),
])
def test_deadline_labels_are_canonical_vietnamese(text: str, label: str):
    assert parse_deadline(text).label == label  # type: ignore[union-attr]


def test_deadline_is_overdue_only_after_last_allowed_day():
    deadline = Deadline("quarter", "Quý III/2025", date(2025, 9, 30))
    assert not deadline.is_overdue(date(2025, 9, 30)), "the due day itself is still on time"
    assert deadline.is_overdue(date(2025, 10, 1))
