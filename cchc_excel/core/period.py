"""Reporting periods (month, quarter, half, year), their data windows and due dates, and task deadlines.

Pure core: standard library only, no I/O. Labels and error messages are Vietnamese.

Data window rule "nd09" follows Nghị định 09/2019/NĐ-CP, Điều 12: figures of a period run from the 15th of
the month before the period to the 14th of its last month (month: 15/02-14/03 for March; quarter I:
15/12-14/03; 6 months: 15/12-14/06 and 15/06-14/12; 9 months: 15/12-14/09; year: 15/12-14/12).

Working days skip Saturdays, Sundays and Vietnamese public holidays (Tết and the others, from the
`holidays` package: a table in memory, no I/O). A due date that falls on a day off moves to the next
working day (Bộ luật Dân sự 2015, Điều 148 khoản 5).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from .vntext import format_short_date, parse_date, parse_roman, roman

__all__ = ["Deadline", "NotAMonth", "Period", "due_warning", "is_working_day", "next_working_day", "parse_deadline",
           "public_holidays", "working_days_between"]

KINDS = ("month", "quarter", "half", "nine", "year")
_MONTHS_PER = {"month": 1, "quarter": 3, "half": 6, "nine": 9, "year": 12}
_INDEX_MAX = {"month": 12, "quarter": 4, "half": 2, "nine": 1, "year": 1}
_NINE = re.compile(r"(\d{4})-?9(?:T|THÁNG)|9(?:T|THÁNG)[-/.]?(?:NĂM)?(\d{4})")


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + delta
    return total // 12, total % 12 + 1


class NotAMonth(ValueError):
    """A period other than a month where only months are handled; `label` says which ("quý I năm 2025")."""

    def __init__(self, text: str, label: str) -> None:
        super().__init__(f"{text} ({label})")
        self.text = text
        self.label = label


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period. Field order makes `sorted()` group by year; compare `.code` for time order
    across kinds."""

    year: int
    kind: str  # "month" | "quarter" | "half" | "nine" (9 tháng đầu năm) | "year"
    index: int  # month 1-12, quarter 1-4, half 1-2, nine 1, year 1

    def __post_init__(self) -> None:
        if self.kind not in _MONTHS_PER:
            raise ValueError(f"Loại kỳ báo cáo không hợp lệ: {self.kind!r} (month, quarter, half, nine, year).")
        if not 1 <= self.index <= _INDEX_MAX[self.kind]:
            raise ValueError(f"Số thứ tự kỳ {self.index} không hợp lệ cho loại kỳ {self.kind}.")
        if not 1900 <= self.year <= 9999:
            raise ValueError(f"Năm {self.year} không hợp lệ.")

    # --- constructors --------------------------------------------------------------------------

    @classmethod
    def for_month(cls, year: int, month: int) -> Period:
        return cls(year, "month", month)

    @classmethod
    def for_quarter(cls, year: int, quarter: int) -> Period:
        return cls(year, "quarter", quarter)

    @classmethod
    def for_half(cls, year: int, half: int) -> Period:
        return cls(year, "half", half)

    @classmethod
    def for_nine_months(cls, year: int) -> Period:
        return cls(year, "nine", 1)

    @classmethod
    def for_year(cls, year: int) -> Period:
        return cls(year, "year", 1)

    @property
    def is_month(self) -> bool:
        return self.kind == "month"

    @classmethod
    @lru_cache(maxsize=256)   # noqa: B019 - a Period is immutable; every form of a month has one code
    def parse(cls, text: str) -> Period:
        """Read "2025-03", "2025-3", "03/2025", "2025-Q1", "Q1/2025", "2025-H1", "H1/2025", nine months
        ("2025-9T", "9T/2025", "9 tháng 2025") or "2025"."""
        s = "".join(unicodedata.normalize("NFKC", str(text)).split()).upper()
        if m := _NINE.fullmatch(s):
            return cls.for_nine_months(int(m.group(1) or m.group(2)))
        patterns = (
            (r"(\d{4})[-/.](\d{1,2})", lambda y, i: cls.for_month(y, i)),
            (r"(\d{1,2})[-/.](\d{4})", lambda i, y: cls.for_month(y, i)),
            (r"(\d{4})-?Q(\d)", lambda y, i: cls.for_quarter(y, i)),
            (r"Q(\d)[-/.]?(\d{4})", lambda i, y: cls.for_quarter(y, i)),
            (r"(\d{4})-?H(\d)", lambda y, i: cls.for_half(y, i)),
            (r"H(\d)[-/.]?(\d{4})", lambda i, y: cls.for_half(y, i)),
        )
        try:
            if re.fullmatch(r"\d{4}", s):
                return cls.for_year(int(s))
            for pattern, build in patterns:
                m = re.fullmatch(pattern, s)
                if m:
                    return build(int(m.group(1)), int(m.group(2)))
        except ValueError:
            pass  # out-of-range parts get the same message as any other nonsense
        raise ValueError(
            f"Không hiểu kỳ báo cáo {text!r}. Hãy ghi dạng 2025-03 hoặc 03/2025 (tháng), 2025-Q1 (quý), "
            "2025-H1 (6 tháng), 2025-9T (9 tháng) hoặc 2025 (năm)."
        )

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """Like `parse`, for commands that work month by month: a quarter, half, nine months ("2025-9T",
        "9T/2025", "9 tháng 2025") or year raises `NotAMonth` (its `label` names what was asked for); text
        that is no period at all raises ValueError as `parse` does."""
        period = cls.parse(text)
        if period.kind != "month":
            raise NotAMonth(str(text), period.label)
        return period

    # --- names ---------------------------------------------------------------------------------

    @property
    def code(self) -> str:
        """Sortable code used in file names: "2025-03", "2025-Q1", "2025-H1", "2025"."""
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.index}"
        if self.kind == "half":
            return f"{self.year}-H{self.index}"
        if self.kind == "nine":
            return f"{self.year}-9T"
        return str(self.year)

    @property
    def label(self) -> str:
        """"tháng 3 năm 2025", "quý I năm 2025", "6 tháng đầu năm 2025", "9 tháng đầu năm 2025", "năm 2025"."""
        if self.kind == "month":
            return f"tháng {self.index} năm {self.year}"
        if self.kind == "quarter":
            return f"quý {roman(self.index)} năm {self.year}"
        if self.kind == "half":
            return f"6 tháng {'đầu' if self.index == 1 else 'cuối'} năm {self.year}"
        if self.kind == "nine":
            return f"9 tháng đầu năm {self.year}"
        return f"năm {self.year}"

    @property
    def previous_label(self) -> str:
        """How a sentence names the previous period of the same kind: "tháng trước", "quý trước",
        "6 tháng cuối năm 2024"; a year or nine months: the same period of the year before."""
        if self.kind == "month":
            return "tháng trước"
        if self.kind == "quarter":
            return "quý trước"
        return self.previous().label

    @property
    def title_label(self) -> str:
        """`label` with a capital first letter: "Tháng 3 năm 2025"."""
        text = self.label
        return text[:1].upper() + text[1:]

    def __str__(self) -> str:
        return self.code

    # --- months --------------------------------------------------------------------------------

    def months(self) -> list[Period]:
        """The month periods this period covers, in order."""
        size = _MONTHS_PER[self.kind]
        first = (self.index - 1) * size + 1
        return [Period(self.year, "month", m) for m in range(first, first + size)]

    @property
    def first_month(self) -> Period:
        return self.months()[0]

    @property
    def last_month(self) -> Period:
        return self.months()[-1]

    def previous(self) -> Period:
        """The period of the same kind just before: January -> December of the year before."""
        if self.index > 1:
            return Period(self.year, self.kind, self.index - 1)
        return Period(self.year - 1, self.kind, _INDEX_MAX[self.kind])

    def same_period_last_year(self) -> Period:
        return Period(self.year - 1, self.kind, self.index)

    def year_to_date(self) -> list[Period]:
        """Months from January to this period's last month."""
        return [Period(self.year, "month", m) for m in range(1, self.last_month.index + 1)]

    # --- dates ---------------------------------------------------------------------------------

    def window(self, rule: str = "nd09") -> tuple[date, date]:
        """(first, last) day of the data window; rule "nd09" (15th to 14th, see module doc) or "calendar"."""
        first, last = self.first_month.index, self.last_month.index
        if rule == "calendar":
            return date(self.year, first, 1), _last_day(self.year, last)
        if rule == "nd09":
            y, m = _add_months(self.year, first, -1)
            return date(y, m, 15), date(self.year, last, 14)
        raise ValueError(f"Quy tắc chốt số liệu không hợp lệ: {rule!r} (nd09 hoặc calendar).")

    def due_date(self, due_day: int = 15, *, month_offset: int = 0, roll: bool = True) -> date:
        """Day `due_day` of the period's last month (plus `month_offset` months), clamped to month end; with
        `roll` (the default) a weekend or public holiday moves it to the next working day (Tết 2025: a due
        date of 30/01/2025 becomes Monday 03/02/2025)."""
        if not 1 <= due_day <= 31:
            raise ValueError(f"Ngày hạn nộp {due_day} không hợp lệ (1-31).")
        y, m = _add_months(self.year, self.last_month.index, month_offset)
        day = date(y, m, min(due_day, calendar.monthrange(y, m)[1]))
        return next_working_day(day) if roll else day


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[date]:
    """Vietnam's public holidays of `year` (Tết, Giỗ Tổ, 30/4, 1/5, Quốc khánh, Tết Dương lịch and the days
    off the government moves), from the `holidays` package."""
    # Imported here: `holidays` loads importlib.metadata and its calendars (~40 ms), a cost every command
    # would pay at start-up while only due dates and working days need it.
    import holidays

    return frozenset(holidays.Vietnam(years=year).keys())


def is_working_day(d: date) -> bool:
    """Monday to Friday and not a public holiday."""
    return d.weekday() < 5 and d not in public_holidays(d.year)


def next_working_day(d: date) -> date:
    """`d` itself when it is a working day, else the first working day after it."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def working_days_between(a: date, b: date) -> int:
    """Working days d with a < d <= b (negative when b is before a): weekends and Vietnamese public
    holidays do not count."""
    if b < a:
        return -working_days_between(b, a)
    return sum(is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def due_warning(period: Period, due: date, rule: str = "nd09") -> bool:
    """True when `due` leaves less than one working day after the data window closes
    (khoản 5 Điều 8 Nghị định 09/2019/NĐ-CP)."""
    return working_days_between(period.window(rule)[1], due) < 1


# --------------------------------------------------------------------------------------------
# Task deadlines
# --------------------------------------------------------------------------------------------

DEADLINE_KINDS = ("date", "month", "quarter", "half", "year", "ongoing")


@dataclass(frozen=True)
class Deadline:
    """A task deadline as written in a plan. `due` is the last day allowed (None for ongoing work)."""

    kind: str  # "date" | "month" | "quarter" | "half" | "year" | "ongoing"
    text: str
    due: date | None

    @property
    def label(self) -> str:
        """"30/09/2025", "tháng 12/2025", "Quý III/2025", "6 tháng đầu năm 2025", "năm 2025",
        "Thường xuyên" (other recurring texts such as "Quý I hằng năm" are shown as written)."""
        d = self.due
        if self.kind == "ongoing" or d is None:
            if not self.text or _fold(self.text) == "thường xuyên":
                return "Thường xuyên"
            return self.text[:1].upper() + self.text[1:]
        if self.kind == "date":
            return format_short_date(d)
        if self.kind == "month":
            return f"tháng {d.month}/{d.year}"
        if self.kind == "quarter":
            return f"Quý {roman((d.month - 1) // 3 + 1)}/{d.year}"
        if self.kind == "half":
            return f"6 tháng {'đầu' if d.month <= 6 else 'cuối'} năm {d.year}"
        return f"năm {d.year}"

    def is_overdue(self, on: date) -> bool:
        """True when `on` is after the last allowed day; ongoing work is never overdue."""
        return self.due is not None and on > self.due


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", unicodedata.normalize("NFKC", text)).casefold().split())


_ONGOING = re.compile(r"thường xuyên|(?:hằng|hàng) (?:năm|tháng|quý|tuần|ngày)|định kỳ|liên tục")
# Leading words that do not change the deadline ("Hoàn thành trong Quý III", "chậm nhất ngày ...").
# "trước ngày X" is read as X itself: plans use it loosely for "by X", and a false overdue alarm is worse.
_FILLER = re.compile(r"^(?:hoàn thành|thực hiện|xong|trước|chậm nhất(?: là)?|muộn nhất|trong|vào|đến|hạn)\s*[:,]?\s*")
_YEAR = r"(\d{4})"
_OF_YEAR = r"(?:\s*(?:/|-|năm)\s*" + _YEAR + r")?"
_QUARTER_NUM = r"(iv|i{1,3}|[1-4])"


def parse_deadline(text: object, *, default_year: int | None = None) -> Deadline | None:
    """Read a deadline as planners write it; None when it does not parse.

    Dates ("30/9/2025", "2025-09-30", "ngày 31/3/2025", "trước ngày 15/11/2024", date objects), months
    ("12/2025", "2025-12", "tháng 12 năm 2025"), quarters ("Quý III/2025", "Q3/2025", "2025-Q3",
    "Hoàn thành trong Quý III năm 2025"), halves ("6 tháng đầu năm 2025"), years ("năm 2025", "2025")
    and recurring work ("thường xuyên", "hằng năm", "Quý I hàng năm" -> kind "ongoing").
    A month, quarter or half without a year uses `default_year` (None without one).
    """
    if isinstance(text, datetime):
        text = text.date()
    if isinstance(text, date):
        return Deadline("date", format_short_date(text), text)
    if not isinstance(text, str):
        return None
    original = " ".join(unicodedata.normalize("NFC", text).split())
    s = _fold(text).rstrip(".;")
    if not s:
        return None
    if _ONGOING.search(s):
        return Deadline("ongoing", original, None)
    previous = None
    while previous != s:
        previous, s = s, _FILLER.sub("", s)
    try:
        return _parse_deadline_core(s, original, default_year)
    except ValueError:
        return None  # e.g. month 13 or 31/02


def _parse_deadline_core(s: str, original: str, default_year: int | None) -> Deadline | None:
    def year_or_default(group: str | None) -> int | None:
        return int(group) if group else default_year

    # Full dates first: "ngày 31/3/2025", "2025-09-30", "ngày 31 tháng 3 năm 2025".
    d = parse_date(re.sub(r"^ngày\s*", "", s)) if re.search(r"\d", s) else None
    if d is None and s.startswith("ngày"):
        d = parse_date(s)
    if d is not None:
        return Deadline("date", original, d)
    if m := re.fullmatch(r"(?:tháng\s*)?(\d{1,2})\s*(?:/|-|năm)\s*" + _YEAR, s):
        return _month_deadline(int(m.group(2)), int(m.group(1)), original)
    if m := re.fullmatch(_YEAR + r"-(\d{1,2})", s):
        return _month_deadline(int(m.group(1)), int(m.group(2)), original)
    if m := re.fullmatch(r"tháng\s*(\d{1,2})", s):
        year = default_year
        return _month_deadline(year, int(m.group(1)), original) if year else None
    if m := re.fullmatch(r"(?:quý\s*|q)" + _QUARTER_NUM + _OF_YEAR, s):
        year = year_or_default(m.group(2))
        return _quarter_deadline(year, m.group(1), original) if year else None
    if m := re.fullmatch(_YEAR + r"\s*-\s*q([1-4])", s):
        return _quarter_deadline(int(m.group(1)), m.group(2), original)
    if m := re.fullmatch(r"(?:6|sáu) tháng (đầu|cuối) năm" + r"(?:\s*" + _YEAR + r")?", s):
        year = year_or_default(m.group(2))
        if not year:
            return None
        end = date(year, 6, 30) if m.group(1) == "đầu" else date(year, 12, 31)
        return Deadline("half", original, end)
    if m := re.fullmatch(_YEAR + r"\s*-\s*h([12])", s):
        end = date(int(m.group(1)), 6, 30) if m.group(2) == "1" else date(int(m.group(1)), 12, 31)
        return Deadline("half", original, end)
    if m := re.fullmatch(r"(?:năm\s*)?" + _YEAR, s):
        return Deadline("year", original, date(int(m.group(1)), 12, 31))
    return None


def _month_deadline(year: int, month: int, original: str) -> Deadline:
    return Deadline("month", original, _last_day(year, month))


def _quarter_deadline(year: int, numeral: str, original: str) -> Deadline | None:
    quarter = int(numeral) if numeral.isdigit() else parse_roman(numeral)
    if quarter is None or not 1 <= quarter <= 4:
        return None
    return Deadline("quarter", original, _last_day(year, quarter * 3))
