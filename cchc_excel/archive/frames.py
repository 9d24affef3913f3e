"""Edge: the store's rows as pandas frames for the aggregation (`app.reporting.aggregate_period`).

The same rows, columns and dtypes as `Store.values_frame` & co. (the same SQL, so the same row order), built
column by column from the cursor's tuples in chunks instead of a dict per row: a year of history at national
scale is half a million value rows, and a dict per row cost ~1.7 KB each at the peak. Repeated strings (unit,
period and indicator codes, sheet and cell names, answers) are interned per column, so a column holds one
pointer per row to a shared string. SQLAlchemy Core only: the same path on SQLite and PostgreSQL.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Boolean, DateTime, Float, Integer, Select, Table, func, select
from sqlalchemy.engine import Connection

from .store import Store, cases, submissions, tasks, texts, values

CHUNK = 20_000   # rows converted at a time: the driver's tuples never all live at once

# The submissions' columns the aggregation reads (unit status, completeness, the months with data, the
# succession's restatement): not the problems and info JSON, which are large and read elsewhere.
SUBMISSION_COLUMNS = ("id", "file_name", "unit_code", "period_code", "status", "is_current", "version",
                      "received_at")


def _kind(column: Any) -> str:
    t = column.type
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, DateTime):
        return "datetime"
    if isinstance(t, Float):
        return "float"
    if isinstance(t, Integer):
        return "int"
    return "str"


def _array(values: Any, dtype: str) -> Any:
    """A numpy array made by pandas (numpy is pandas' dependency, not one the package declares)."""
    return pd.Series(values, dtype=dtype).to_numpy()


_STR = pd.array([], dtype="str").dtype   # what pandas makes of strings ("str")


def _strings(arr: Any) -> Any:
    """An object array of strings and None (which it may change: the caller's own) as `pd.array(arr,
    dtype="str")` makes it, but around the same array instead of a copy: half a million rows' columns were
    copied twice at the end of a read (the copy, then a second for the missing values)."""
    if getattr(_STR, "storage", None) == "python":
        arr[pd.isna(arr)] = _STR.na_value
        try:
            return pd.arrays.StringArray(arr, dtype=_STR)
        except (TypeError, ValueError):   # a value that is not a string: converted as pandas converts it
            pass
    return pd.array(arr, dtype="str")


def _join(parts: list[Any]) -> Any:
    """The chunks' arrays as one array of their dtype."""
    if len(parts) == 1:
        return parts[0]
    out = pd.concat([pd.Series(p, dtype=p.dtype, copy=False) for p in parts], ignore_index=True).to_numpy()
    if not out.flags.writeable:   # pandas hands out its new array read-only; it is ours alone (`_strings`)
        try:
            out.flags.writeable = True
        except ValueError:
            out = out.copy()
    return out


# What an array of each kind starts filled with, as a one-element array of its dtype.
_FILL = {"float": _array([None], "float64"), "int": _array([0], "int64"), "str": _array([None], "object")}


def _filled(first: Any, n: int) -> Any:
    """An array of `n` rows of `first`'s dtype, each its first element (a new array, ours to fill)."""
    return first[:1].repeat(n)


def _nones(n: int) -> Any:
    """`n` rows of None, as pandas types a column of None only (object)."""
    return _filled(_FILL["str"], n)


def _frame(data: dict[str, Any], names: Sequence[str]) -> pd.DataFrame:
    """`pd.DataFrame(data, columns=names, copy=False)`, its columns of None only handed over as object Series:
    given as arrays, pandas tries each as floats, integers, complex... (what else it could hold), five arrays
    of its rows at once (+20 MB a column for a year of history, at the read's peak). Any other object array
    (strings) is left to pandas' own inference, as `pd.DataFrame(rows)` would type it. Its columns are the
    arrays given (copy=False: a copy of half a million history rows doubled the peak)."""
    columns = {n: pd.Series(a, dtype=object, copy=False)
               if pd.api.types.is_object_dtype(a) and pd.isna(a).all() else a
               for n, a in data.items()}
    return pd.DataFrame(columns, columns=names, copy=False)


class _Column:
    """One column filled chunk by chunk, finished with the dtype pandas infers for the same Python values
    (`pd.DataFrame(rows)`): floats with None -> float64 with NaN; integers -> int64, with None -> float64;
    strings -> str (NaN for None); a column of None only -> object None.

    Figures and strings go straight into one array of the rows counted beforehand (`capacity`), not into
    chunks joined at the end: the chunks and the joined copy both lived at the peak, and the chunks' memory
    freed in the middle of the heap stayed with the process (~40 MB for a year of history)."""

    def __init__(self, kind: str, capacity: int = 0) -> None:
        self.kind = kind
        self.parts: list[Any] = []   # bool and datetime columns (small tables): chunks joined at the end
        self.nulls = 0
        self.rows = 0
        self.memo: dict[Any, Any] = {}
        self.buf: Any = None
        if kind in ("float", "int", "str"):
            self.buf = _filled(_FILL[kind], capacity)

    def _room(self, n: int) -> None:
        """Room for `n` more rows (more than counted when another import committed in between)."""
        if self.rows + n > len(self.buf):
            grown = _filled(self.buf[:1] if len(self.buf) else _FILL[self.kind], max(self.rows + n, 2 * len(self.buf)))
            grown[:self.rows] = self.buf[:self.rows]
            self.buf = grown

    def add(self, col: Sequence[Any]) -> None:
        n = len(col)
        if self.buf is not None:
            self._room(n)
        at = slice(self.rows, self.rows + n)
        self.rows += n
        if self.kind in ("float", "int"):
            try:
                arr = _array(col, "int64" if self.kind == "int" else "float64")   # None -> NaN
            except (TypeError, ValueError):   # an integer column with None
                arr = _array(col, "float64")
            if arr.dtype.kind == "f":
                self.nulls += int(pd.isna(arr).sum())
                if self.buf.dtype.kind != "f":   # an integer column with None: float64, as pandas makes it
                    self.buf = self.buf.astype("float64")
            self.buf[at] = arr
        elif self.kind == "str":
            # Interned: each distinct string once per column (factorize hashes in C); -1 (None) takes the
            # appended None.
            codes, uniques = pd.factorize(_array(col, "object"))
            self.buf[at] = _array([*(self.memo.setdefault(u, u) for u in uniques), None], "object").take(codes)
            self.nulls += int((codes < 0).sum())
        elif self.kind == "bool":
            self.parts.append(_array(col, "bool"))
        else:   # datetimes
            self.parts.append(_array(list(col), "object"))
            self.nulls += sum(1 for v in col if v is None)

    def add_nulls(self, n: int) -> None:
        """`n` rows of None (a column the statement does not select): as `add([None] * n)`, without the list."""
        if self.buf is None:
            self.add([None] * n)
            return
        self._room(n)
        if self.kind == "int" and self.buf.dtype.kind != "f":
            self.buf = self.buf.astype("float64")
        self.buf[self.rows:self.rows + n] = None   # NaN in a float array
        self.rows += n
        self.nulls += n

    def finish(self) -> Any:
        if self.rows and self.nulls == self.rows:
            return _nones(self.rows)
        if self.buf is not None:
            # the rows counted were all read (else a copy: a view would keep the rest of the array)
            buf = self.buf if self.rows == len(self.buf) else self.buf[:self.rows].copy()
            self.buf = None
            return _strings(buf) if self.kind == "str" else buf
        if self.kind == "datetime":
            return pd.Series(_join(self.parts))
        return _join(self.parts)


def read_frame(conn: Connection, query: Select, *, parts: Sequence[Select] | None = None) -> pd.DataFrame:
    """The query's rows as a DataFrame with the columns and dtypes `pd.DataFrame(result.mappings().all())`
    gives, built column by column from chunks of the driver's tuples.

    The statement runs through SQLAlchemy (compiled for the dialect, parameters bound); its rows are read
    from the DBAPI cursor in chunks, each value passed through the column type's result processor where
    the dialect has one (SQLite's datetimes and booleans), as SQLAlchemy's rows would: a Row object per
    row was most of the cost at half a million rows.

    `parts`: the statements run instead of `query`, one after the other, each selecting some of `query`'s
    columns by name (the others are None for its rows, as a NULL would be): fewer values fetched where only
    those columns are needed. `query` then only names the columns and their types."""
    names = [str(c.name) for c in query.selected_columns]   # plain str: a pickled frame needs no SQLAlchemy
    statements = (query,) if parts is None else parts
    # The rows counted first (an index scan), so that each column is one array filled in place.
    counted = sum(conn.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
                  for q in statements)
    builders = [_Column(_kind(c), counted) for c in query.selected_columns]
    with _collector_paused():
        for q in statements:
            _read_into(conn, q, dict(zip(names, builders, strict=True)))
    if not builders or not builders[0].rows:
        return pd.DataFrame([], columns=names)
    data = {}
    for n, b in zip(names, builders, strict=True):
        data[n] = b.finish()
        b.parts.clear()   # each column's chunks (bool, datetime) go as soon as it is joined
    return _frame(data, names)   # the columns just built are the frame's own


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while rows are fetched: the driver's tuples (a year of history: half a
    million) started a collection every few hundred, and the older generations' passes walked every object
    alive again (1 s of a 2.5 s read at 12 months, N=4,000). Tuples, numbers and strings make no cycles:
    nothing is left uncollected; reference counting frees them as before."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """The objects alive now left out of the garbage collector's full passes until the block ends (`gc.freeze`);
    young objects are still collected as usual, and the frozen ones go back to the collector afterwards.

    For a stage that allocates many objects while a large heap stays alive (the import's results with the
    plan and registry, the report with the aggregation's frames): each full pass walked every object of the
    heap again, for no garbage (0.9 s of an import of 4,000 files, 0.3-0.7 s of a 4,000-unit report). Nothing
    is done when objects are frozen already: unfreezing at the end would hand back the caller's own too."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _read_into(conn: Connection, query: Select, builders: dict[str, _Column]) -> None:
    """The query's rows added to the builders of its columns; the builders of columns it does not select
    get None for each row."""
    selected = [c.name for c in query.selected_columns]
    missing = [b for n, b in builders.items() if n not in set(selected)]
    dialect = conn.dialect
    result = conn.execute(query)   # the default (unbuffered) strategy: no row is fetched ahead of us
    try:
        cursor = result.cursor
        # As SQLAlchemy picks them: by the column's type and the driver's type code of the result column.
        processors = [c.type.dialect_impl(dialect).result_processor(dialect, d[1])
                      for c, d in zip(query.selected_columns, cursor.description, strict=True)]
        mine = [builders[n] for n in selected]
        while chunk := cursor.fetchmany(CHUNK):
            for builder, proc, col in zip(mine, processors, zip(*chunk, strict=True), strict=True):
                builder.add(col if proc is None else [proc(v) for v in col])
            for builder in missing:
                builder.add_nulls(len(chunk))
    finally:
        result.close()


OWNER_COLUMNS = ("unit_code", "period_code", "file_name")

# A value row's columns that older months need (`core.aggregate`: the previous period, the same period last
# year, the year to date, the unit's history for the jump check): figures, and answers for yes/no and tasks.
HISTORY_COLUMNS = ("submission_id", "indicator", "numerator", "denominator", "value", "weight", "answer")


def current_frame(conn: Connection, table: Table, period_codes: Iterable[str], *,
                  detail: tuple[Sequence[str], Sequence[str]] | None = None) -> pd.DataFrame:
    """The current submissions' rows of a child table with their unit, period and file, as `Store._current`
    returns them (same columns, dtypes and row order: the same join, so the same plan).

    The join selects only the child's columns; each submission's unit, period and file name are read once
    (a submission's are never changed) and spread over its rows by id, instead of three strings decoded per
    row. Read after the rows, by period and of every version, they include every submission the rows name
    even if an import made another version current in between (PostgreSQL reads each statement afresh).

    `detail` = (months, columns): rows outside those months carry only those columns, the others NULL
    (None / NaN): the history behind a period's comparisons is summed, never shown, and a string fetched
    per row is most of the cost of reading it. The older months are read by a statement of their own,
    before the months shown (the detail months must be the latest), so the rows come in the same order
    (float sums in the same order) as one statement gives them without `detail`."""
    codes = list(period_codes)

    def current(columns: Sequence[Any], among: list[str]) -> Select:
        return (select(*columns).join(submissions, submissions.c.id == table.c.submission_id)
                .where(submissions.c.is_current.is_(True), submissions.c.period_code.in_(among)))

    query = current(list(table.columns), codes)
    parts = None
    own: list[str] = []
    older: list[str] = []
    if detail is not None:
        months, kept = set(detail[0]), set(detail[1])
        own, older = [c for c in codes if c in months], [c for c in codes if c not in months]
        if older and own and max(older) > min(own):
            # The older months are read first, as one statement gives them on SQLite (by period, through the
            # period index): a month after the period's own would come out of that order.
            raise ValueError("detail: the older months must come before the months shown")
        if older:
            # Two statements, the older months with only the kept columns, then the months themselves, with a
            # third of the values to fetch for the history.
            parts = [current([c for c in table.columns if c.name in kept], older),
                     *([current(list(table.columns), own)] if own else [])]
    rows = read_frame(conn, query, parts=parts)
    names = [*OWNER_COLUMNS, *rows.columns]
    if rows.empty:
        return pd.DataFrame([], columns=names)
    # The file too is a detail: when it is not kept, the older months' submissions are read without it.
    lean_file = detail is not None and "file_name" not in detail[1]
    owners_q = select(submissions.c.id, *(submissions.c[n] for n in OWNER_COLUMNS))
    owner_parts = None
    if lean_file:
        owner_parts = [*([owners_q.where(submissions.c.period_code.in_(own))] if own else []),
                       *([select(submissions.c.id, submissions.c.unit_code, submissions.c.period_code)
                          .where(submissions.c.period_code.in_(older))] if older else [])]
    owners = read_frame(conn, owners_q.where(submissions.c.period_code.in_(codes)), parts=owner_parts)
    ids = owners["id"].to_numpy()
    order = ids.argsort(kind="stable")
    wanted = rows["submission_id"].to_numpy()
    pos = order[ids.searchsorted(wanted, sorter=order).clip(max=len(ids) - 1)]
    if not (ids[pos] == wanted).all():   # cannot happen: a row's submission is never deleted
        raise RuntimeError("a value row without its submission")
    data = {}
    for n in OWNER_COLUMNS:
        column = owners[n].array
        if column.dtype == _STR:
            # Spread by the string array's own take: no object copy of every row checked string by string again.
            taken = column.take(pos)
            whole = taken.isna().all()
        else:   # None only
            taken, whole = owners[n].to_numpy(dtype=object, na_value=None).take(pos), True
        if lean_file and n == "file_name" and older:
            # rows of older months (their file not read): a string column with NaN, as the other detail columns.
            # When no row is of an older month, every row's file was read (never NULL): a string column
            # without NaN, `taken` either way.
            data[n] = taken if column.dtype == _STR else _strings(taken)
        else:   # typed as pandas types the same values row by row (None only: object None)
            data[n] = _nones(len(pos)) if whole else taken
    # The arrays, not the Series: a Series given to the constructor is copied (half a million history rows'
    # figures, once more at the peak).
    data.update({c: rows[c].array for c in rows.columns})
    del rows
    return _frame(data, names)


def aggregation_frames(store: Store, *, value_months: Sequence[str], case_months: Sequence[str],
                       months: Sequence[str], lean_history: bool = False) -> dict[str, pd.DataFrame]:
    """What `core.aggregate.aggregate` reads, in one connection: the current values of `value_months`, the
    case tables of `case_months`, task status and texts of `months`, and every submission (all versions) of
    `months` with the columns the unit status needs.

    With `lean_history`, value rows outside `months` carry only `HISTORY_COLUMNS` (the figures and answers
    the comparisons, the year to date and the jump check read); their file, sheet, cell, note and done date
    are NULL."""
    subs_q = (select(*(submissions.c[n] for n in SUBMISSION_COLUMNS))
              .where(submissions.c.period_code.in_(list(months))).order_by(submissions.c.id))
    with store.engine.connect() as conn:
        detail = (months, HISTORY_COLUMNS) if lean_history else None
        return {"values": current_frame(conn, values, value_months, detail=detail),
                "cases": current_frame(conn, cases, case_months),
                "tasks": current_frame(conn, tasks, months),
                "texts": current_frame(conn, texts, months),
                "subs": read_frame(conn, subs_q)}
