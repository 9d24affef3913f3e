"""archive/frames: the frames read column by column (the aggregation's, and `Store.*_frame`'s) are the
frames the plain row-by-row read of the same join gives (`_rows_frame`), on SQLite and PostgreSQL: same rows,
columns and dtypes (a blank column stays None, an integer column with a NULL becomes float), so the
aggregation built on them is unchanged."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Table, select

from cchc_excel.app.reporting import aggregate_period, periods_needed
from cchc_excel.archive import frames as F
from cchc_excel.archive.importing import import_files
from cchc_excel.archive.store import Store, cases, submissions, tasks, texts, values
from cchc_excel.archive.workspace import Workspace
from cchc_excel.core.period import Period
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form

ON_TIME = datetime(2025, 3, 14, 9, 0)
TAN = "22789"   # Xã Phước Tân: same tier and indicators as Phước Hòa


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order (PostgreSQL gives a join's rows in no particular order)."""
    if frame.empty:
        return frame
    keys = [c for c in frame.columns if frame[c].notna().all()]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _rows_frame(store: Store, table: Table, period_codes: list[str]) -> pd.DataFrame:
    """The reference: the same join read the plain way, a dict per row through SQLAlchemy's result."""
    q = (select(submissions.c.unit_code, submissions.c.period_code, submissions.c.file_name, table)
         .join(submissions, submissions.c.id == table.c.submission_id)
         .where(submissions.c.is_current.is_(True), submissions.c.period_code.in_(period_codes)))
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])


def _old_frames(store: Store, period: Period) -> dict[str, pd.DataFrame]:
    codes, months = periods_needed(period), [m.code for m in period.months()]
    return {"values": _rows_frame(store, values, codes),
            "cases": _rows_frame(store, cases, [period.previous().code, *months]),
            "tasks": _rows_frame(store, tasks, months), "texts": _rows_frame(store, texts, months),
            "subs": store.submissions_frame(months)[list(F.SUBMISSION_COLUMNS)]}


def _new_frames(store: Store, period: Period) -> dict[str, pd.DataFrame]:
    months = [m.code for m in period.months()]
    return F.aggregation_frames(store, value_months=periods_needed(period),
                                case_months=[period.previous().code, *months], months=months)


@pytest.fixture
def imported(any_workspace: Workspace, tmp_path: Path) -> Workspace:
    """Two units, one of them sending a corrected second version, and a rejected file of a third."""
    ws = any_workspace
    first = ws_form(ws, PHUOC_HOA, tmp_path / "a", good_values_phuoc_hoa() | {"CT_1_TU": 30})
    again = ws_form(ws, PHUOC_HOA, tmp_path / "b", good_values_phuoc_hoa() | {"CT_1_TU": 31})
    other = ws_form(ws, TAN, tmp_path / "c", good_values_phuoc_hoa() | {"CT_1_TU": 12,
                                                                        "TT_NGUOI_LAP": "Cán bộ Phước Tân"})
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(b"not a workbook")
    for path in (first, again, other, broken):
        list(import_files(ws, [path], period=MARCH, received_at=ON_TIME))
    return ws


def test_frames_equal_the_store_frames_row_for_row_with_their_dtypes(imported: Workspace) -> None:
    with Store(imported.store_url, imported.archive_dir) as store:
        old, new = _old_frames(store, MARCH), _new_frames(store, MARCH)
    assert set(new) == set(old)
    assert len(new["values"]) and len(new["cases"]) and len(new["subs"]) == 3   # the broken file has no period
    for name in old:
        assert list(new[name].columns) == list(old[name].columns), name
        assert dict(new[name].dtypes) == dict(old[name].dtypes), name
        pd.testing.assert_frame_equal(_sorted(new[name]), _sorted(old[name]), check_exact=True, obj=name)


def test_a_period_without_rows_gives_empty_frames_with_the_columns(imported: Workspace) -> None:
    june = Period.parse("2024-06")   # nothing stored in it nor in the months it compares with
    with Store(imported.store_url, imported.archive_dir) as store:
        old, new = _old_frames(store, june), _new_frames(store, june)
    for name in old:
        assert new[name].empty and list(new[name].columns) == list(old[name].columns), name


def test_aggregation_on_the_new_frames_is_the_one_on_the_store_frames(imported: Workspace) -> None:
    """`aggregate_period` (new frames) against `aggregate` fed with the row-by-row frames."""
    from cchc_excel.core.aggregate import aggregate

    new = aggregate_period(imported, MARCH)
    with Store(imported.store_url, imported.archive_dir) as store:
        old = aggregate(imported.plan, imported.registry, MARCH, **_old_frames(store, MARCH))
    for name, frame in old.tables().items():
        pd.testing.assert_frame_equal(_sorted(new.tables()[name]), _sorted(frame), check_exact=True, obj=name)


def test_column_kinds_follow_pandas_inference(imported: Workspace) -> None:
    """A column of NULLs only is object None; integers with a NULL are float with NaN; booleans and datetimes
    pass through the dialect's result processors (SQLite stores them as integers and text)."""
    q = select(submissions.c.id, submissions.c.is_current, submissions.c.received_at, submissions.c.unit_code,
               submissions.c.fingerprint).order_by(submissions.c.id)
    with Store(imported.store_url, imported.archive_dir) as store, store.engine.connect() as conn:
        frame = F.read_frame(conn, q)
        expected = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert frame["is_current"].dtype == bool and str(frame["received_at"].dtype).startswith("datetime64")
    assert frame["unit_code"].isna().any()   # the unreadable file has no unit


def test_lean_history_keeps_the_rows_and_their_order_and_blanks_only_the_detail_of_older_months(
        imported: Workspace) -> None:
    """`lean_history`: the same rows in the same order; rows outside the period's months keep only
    HISTORY_COLUMNS (and their unit and period); the period's own rows are untouched."""
    april = Period.parse("2025-04")   # March is history for April
    months = [m.code for m in april.months()]
    with Store(imported.store_url, imported.archive_dir) as store:
        full = F.aggregation_frames(store, value_months=periods_needed(april), case_months=months, months=months)
        lean = F.aggregation_frames(store, value_months=periods_needed(april), case_months=months, months=months,
                                    lean_history=True)
    a, b = full["values"], lean["values"]
    assert len(a) and list(a.columns) == list(b.columns) and (a["period_code"] == "2025-03").all()
    kept = [*F.HISTORY_COLUMNS, "unit_code", "period_code"]
    pd.testing.assert_frame_equal(b[kept], a[kept], check_exact=True)
    assert all(b[c].isna().all() for c in b.columns if c not in kept)


def test_long_holds_the_period_months_only(imported: Workspace) -> None:
    agg = aggregate_period(imported, Period.parse("2025-04"))
    assert agg.long.empty and "submission_id" not in agg.long
    march = aggregate_period(imported, MARCH)
    assert set(march.long["period_code"]) == {"2025-03"} and "submission_id" not in march.long
    assert march.restated_periods == []
