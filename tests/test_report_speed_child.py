"""The summary's second process starts lean (documents.background, app.reporting): it does not run the caller's
main module, and the aggregation sent to it needs nothing beyond what the summary module imports."""

from __future__ import annotations

import pickle
import sys
from dataclasses import fields

import pandas as pd
import pytest

from cchc_excel.app.reporting import aggregate_period, summary_aggregation
from cchc_excel.core.period import Period
from cchc_excel.documents import background
from cchc_excel.documents.background import Background


@pytest.fixture(autouse=True)
def _spare_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "spare_cpu", lambda: True)


def main_module() -> tuple[str | None, str | None]:
    """In the child: the file and module name of its main module (the caller's, when multiprocessing ran it
    there as `__mp_main__`; none for the bare interpreter that only takes the job)."""
    main = sys.modules["__main__"]
    return getattr(main, "__file__", None), getattr(main.__spec__, "name", None)


def test_the_child_does_not_run_the_callers_main_module():
    mine = sys.modules["__main__"]
    assert main_module() != (None, None)   # here: pytest's, or the script's
    job = Background(main_module)
    try:
        job.start()
        assert job.result() == (None, None)
    finally:
        job.close()
    assert sys.modules["__main__"] is mine   # given back once the child started


def test_children_started_from_two_threads_leave_the_main_module_in_place():
    import threading

    mine = sys.modules["__main__"]
    jobs: list[Background] = []
    threads = [threading.Thread(target=lambda: jobs.append(Background(main_module))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(jobs) == 2 and sys.modules["__main__"] is mine
        for job in jobs:
            job.start()
            assert job.result() == (None, None)
    finally:
        for job in jobs:
            job.close()


def test_the_aggregation_sent_to_the_summary_pickles_plain_column_names(workspace):  # noqa: ANN001
    """The store's column names are SQLAlchemy `quoted_name`s; pickled, they would import SQLAlchemy in the
    child. The long table and the year-to-date units are sent empty, their columns as plain str."""
    agg = aggregate_period(workspace, Period.parse("2025-03"))
    sent = summary_aggregation(agg)
    assert sent.long.empty and sent.units_ytd.empty
    assert list(sent.long.columns) == [str(c) for c in agg.long.columns]
    for f in fields(sent):
        value = getattr(sent, f.name)
        if isinstance(value, pd.DataFrame):
            assert all(type(c) is str for c in value.columns), f.name
    assert b"sqlalchemy" not in pickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL)
