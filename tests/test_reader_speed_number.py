"""The reader's shortcuts give what the long way gives: `readback._number` takes a plain float in range
without the general checks, `vntext.parse_number` a float without a Decimal round trip. A float subclass
goes the long way (the shortcuts test `type(x) is float`), so each value is read both ways and compared."""

from __future__ import annotations

import math

import pytest

from cchc_excel.core.layout import Slot
from cchc_excel.core.vntext import parse_number
from cchc_excel.workbook.readback import _number


class _Float(float):
    """A float the shortcuts do not recognise."""


VALUES = [0.0, -0.0, 1.0, 3.0, 2.5, 99.99, 100.0, 100.0000001, 1e-10, 5e-324, 1e15, 1e308, 12.000000001,
          7.9999999999, -1.0, -2.5, math.nan, math.inf, -math.inf]
SLOT = Slot(name="CT_1_TU", sheet="Chỉ tiêu", row=9, col=4, kind="count", label="Tử số")


@pytest.mark.parametrize("value", VALUES)
def test_parse_number_of_a_float_is_the_long_way(value: float) -> None:
    assert parse_number(value) == parse_number(_Float(value))


@pytest.mark.parametrize("fmt", ["", "percent", "date"])
@pytest.mark.parametrize(("whole", "lo", "hi"), [(True, None, None), (False, 0, 100), (False, None, None),
                                                (True, 0, 100), (False, 5, None)])
@pytest.mark.parametrize("value", VALUES)
def test_number_of_a_float_is_the_long_way(value: float, whole: bool, lo: float | None, hi: float | None,
                                           fmt: str) -> None:
    where = ("Chỉ tiêu", 9, 4)
    fast = _number(value, where, SLOT, "f.xlsx", whole=whole, lo=lo, hi=hi, fmt=fmt)
    slow = _number(_Float(value), where, SLOT, "f.xlsx", whole=whole, lo=lo, hi=hi, fmt=fmt)
    got, want = fast[0], slow[0]
    assert (got is None and want is None) or (type(got) is type(want) and got == want
                                               and math.copysign(1, got) == math.copysign(1, want))
    assert repr([p.to_dict() for p in fast[1]]) == repr([p.to_dict() for p in slow[1]])   # NaN != NaN
