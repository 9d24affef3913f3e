"""Issue 17, the aggregation's reading and its once-only work: the column builder fills one array of the rows
counted (and copes with more or fewer rows than counted, as when another import commits in between); the
lean history refuses months it would put out of order; the indicator codes given to the groupings are the
ones they would compute; `aggregate` fills the restated months itself."""

from __future__ import annotations

import pandas as pd
import pytest

from cchc_excel.archive import frames as F
from cchc_excel.archive.store import Store, values
from cchc_excel.archive.workspace import Workspace
from cchc_excel.core import aggregate as A
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.problems import wording
from cchc_excel.core.units import Registry
from cchc_excel.core.vntext import format_number

# "s": the two "ax" built at run time, two objects (literals, or 1-character strings, would be one object
# already), so that the interning check below can fail.
COLUMNS = {"n": ("int", [[1, 2], [None, 4], [5]]), "k": ("int", [[1, 2], [3, 4], [5]]),
           "x": ("float", [[None, None], [None, None], [None]]),
           "s": ("str", [["".join(["a", "x"]), None], ["".join(["a", "x"]), "b"], ["c"]]),
           "t": ("str", [[None, None], [None, None], [None]]), "f": ("float", [[1.5, None], [2.0, 3.0], [4.25]])}


@pytest.mark.parametrize("capacity", [None, 0, 1, 5, 9])   # not counted; fewer rows than read, exactly, more
def test_columns_are_built_as_pandas_builds_rows_whatever_the_count(capacity: int | None) -> None:
    """The column builder alone, chunk by chunk, against pandas' inference on the same Python values."""
    built = {}
    for name, (kind, chunks) in COLUMNS.items():
        col = F._Column(kind) if capacity is None else F._Column(kind, capacity)
        for chunk in chunks:
            col.add(chunk)
        built[name] = col.finish()
    frame = pd.DataFrame(built)
    rows = pd.DataFrame({name: [v for chunk in chunks for v in chunk] for name, (_, chunks) in COLUMNS.items()})
    pd.testing.assert_frame_equal(frame, rows, check_exact=True)
    s_chunks = COLUMNS["s"][1]
    assert s_chunks[0][0] is not s_chunks[1][0]   # two objects given ...
    assert frame["s"].array[0] is frame["s"].array[2]   # ... one string object per distinct value kept


@pytest.mark.parametrize("kind", ["int", "float", "str", "bool"])
def test_rows_a_statement_does_not_select_are_none(kind: str) -> None:
    """`add_nulls` (a column the history's statement leaves out) is `add([None] * n)`."""
    first = {"int": [7, 8], "float": [1.5, 2.5], "str": ["a", "b"], "bool": [True, False]}[kind]
    a, b = F._Column(kind, 5), F._Column(kind, 5)
    a.add(first)
    a.add_nulls(3)
    b.add(first)
    b.add([None] * 3)
    pd.testing.assert_series_equal(pd.Series(a.finish()), pd.Series(b.finish()), check_exact=True)


def test_lean_history_refuses_an_older_month_after_the_months_shown(workspace: Workspace) -> None:
    with Store(workspace.store_url, workspace.archive_dir) as store, store.engine.connect() as conn:
        with pytest.raises(ValueError):
            F.current_frame(conn, values, ["2025-03", "2025-04"], detail=(["2025-03"], F.HISTORY_COLUMNS))
        assert F.current_frame(conn, values, ["2025-02", "2025-03"], detail=(["2025-03"], F.HISTORY_COLUMNS)).empty


def _history(n_units: int = 60, months: int = 12) -> pd.DataFrame:
    rows = []
    for m in range(1, months + 1):
        for u in range(n_units):
            for ind in ("1", "2", "3"):
                rows.append({"unit_code": f"U{u:03d}", "period_code": f"2025-{m:02d}", "indicator": ind,
                             "numerator": float((u * m) % 17), "denominator": float(20 + u % 5),
                             "value": (u * 7 + m * 3) % 100 / 1.7, "weight": float(1 + u % 3), "answer": None,
                             "file_name": None, "sheet": None, "cell": None})
    return pd.DataFrame(rows)


def test_given_codes_are_the_codes_each_grouping_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Factorized once by the caller or by each grouping: the same sums, the same jump flags."""
    monkeypatch.setattr(A, "BATCH_ROWS", 500)
    v = _history()
    codes = A._factorize(v["indicator"])
    rules = {"1": "pooled", "2": "weighted", "3": "mean"}
    where = v["period_code"].ge("2025-03").to_numpy()
    pd.testing.assert_frame_equal(A.combine_groups(rules, v, ["unit_code"], where=where, codes=codes),
                                  A.combine_groups(rules, v, ["unit_code"], where=where), check_exact=True)
    before = v["period_code"].lt("2025-12").to_numpy()
    pd.testing.assert_frame_equal(A._history_spread(v, before, codes), A._history_spread(v, before),
                                  check_exact=True)


def test_restated_periods_are_the_months_with_a_former_unit() -> None:
    v = pd.DataFrame({"period_code": ["2025-05", "2025-06", "2025-07", "2025-05"],
                      "unit_code_then": ["A", None, None, "B"]})
    assert A.restated_periods(v) == ["2025-05"]
    assert A.restated_periods(v.drop(columns=["unit_code_then"])) == []


def test_units_frame_is_kept_for_the_last_registry_and_handed_out_as_a_copy(small_registry: Registry) -> None:
    first = A.units_frame(small_registry)
    first.loc[0, "unit_name"] = "changed"
    again = A.units_frame(small_registry)
    assert again.loc[0, "unit_name"] != "changed"
    pd.testing.assert_frame_equal(again, A._units_frame(small_registry), check_exact=True)


def test_jump_flags_name_the_robust_z_of_each_value(small_plan: Plan) -> None:
    """The jump check, vectorised: a flat history (MAD 0) flags any value 5 points away as z=∞, either way;
    a spread history flags by `robust_z`; a value within the spread is not flagged."""
    march = Period.parse("2025-03")
    rows = []
    for unit, past, now in (("FLATUP", [50, 50, 50], 70), ("FLATDOWN", [50, 50, 50], 30), ("SPREAD", [50, 52, 48, 51], 90),
                            ("CALM", [50, 52, 48, 51], 51), ("SAME", [50, 50, 50], 50)):
        for i, v in enumerate([*past, now]):
            code = march.code if i == len(past) else f"2024-{i + 1:02d}"
            rows.append({"unit_code": unit, "period_code": code, "indicator": "1", "numerator": None,
                         "denominator": None, "value": float(v), "weight": None, "answer": None,
                         "file_name": f"{unit}.xlsx", "sheet": None, "cell": "E9"})
    flags = A.quality_flags(small_plan, pd.DataFrame(rows), pd.DataFrame(), march).set_index("unit_code")
    assert set(flags.index) == {"FLATUP", "FLATDOWN", "SPREAD"}
    assert flags.loc["FLATUP", "detail"] == flags.loc["FLATDOWN", "detail"] == wording("jump-flat-detail")
    z = format_number(A.robust_z([50, 52, 48, 51], 90), 1)
    assert "," in z and flags.loc["SPREAD", "detail"] == f"Lệch chuẩn hóa z = {z} so với trung vị các tháng trước"
    assert flags.loc["SPREAD", "reference"] == 50.5 and flags.loc["SPREAD", "file_name"] == "SPREAD.xlsx"


def test_case_mismatch_flag_names_the_case_table_total_in_vietnamese(small_plan: Plan) -> None:
    march = Period.parse("2025-03")
    values_rows = [{"unit_code": "U1", "period_code": march.code, "indicator": "3", "numerator": 10.0,
                    "denominator": 40.0, "value": 25.0, "weight": None, "answer": None, "file_name": "u1.xlsx",
                    "sheet": None, "cell": "F9"}]
    counts = {k: 0 for k in A.CASE_INPUT_KEYS}
    cases = pd.DataFrame([{"unit_code": "U1", "period_code": march.code, "field": "Hộ tịch", "file_name": "u1.xlsx",
                           "row": 10, **counts, "online": 20, "direct": 10}])   # received 30, not 40
    flags = A.quality_flags(small_plan, pd.DataFrame(values_rows), cases, march)
    [detail] = flags.loc[flags["kind"] == "case-mismatch", "detail"].tolist()
    assert detail == "Mẫu số khác “Số hồ sơ nhận giải quyết” của bảng giải quyết TTHC", detail
