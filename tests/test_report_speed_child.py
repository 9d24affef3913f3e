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
from cchc_excel.documents.background import Background, Later


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


def with_later(a: int, *, later) -> tuple[int, object]:  # noqa: ANN001 - a callable, in the child or here
    return a, later()


@pytest.mark.parametrize("parallel", [True, False])
def test_a_later_argument_reaches_the_job_once_given(parallel: bool):
    job = Background(with_later, parallel=parallel)
    try:
        job.start(1, later=Later)
        with pytest.raises(RuntimeError):
            job.result()          # before give(): would wait for ever
        job.give({"table": [1, 2]})
        assert job.result() == (1, {"table": [1, 2]})
    finally:
        job.close()


def test_a_child_whose_later_value_never_comes_ends_when_closed():
    job = Background(with_later)
    child = job._process
    job.start(1, later=Later)
    job.close()                   # the caller stopped (a refusal) before it had the value
    assert child.exitcode == 0 and job._process is None


def test_the_summary_takes_the_followup_given_later(workspace, tmp_path, monkeypatch):  # noqa: ANN001
    """The report's summary (child) with its follow-up sheet, the table sent after the job started: the same
    workbook as written in one process with the table at hand."""
    import zipfile
    from datetime import datetime

    from cchc_excel.app.reporting import build_followup_for
    from cchc_excel.archive.importing import import_files
    from cchc_excel.documents.summary import write_summary
    from tests.conftest import PHUOC_HOA, good_values_phuoc_hoa, ws_form

    period = Period.parse("2025-03")
    inbox = tmp_path / "nhan"
    inbox.mkdir()
    for n, unit in enumerate((PHUOC_HOA, "22783")):
        ws_form(workspace, unit, inbox, {**good_values_phuoc_hoa(), "CT_1_TU": 30 + n})
    got = [o for _, o in import_files(workspace, [inbox], period=period, received_at=datetime(2025, 3, 10))]
    assert all(o.status == "accepted" for o in got), [o.problems for o in got]
    agg = aggregate_period(workspace, period)
    table = build_followup_for(workspace, period, progress=False, agg=agg).table
    here = write_summary(agg, workspace.plan, workspace.registry, tmp_path / "here.xlsx", followup=table)
    job = Background(write_summary)
    try:
        job.start(summary_aggregation(agg), workspace.plan, workspace.registry, tmp_path / "there.xlsx",
                  followup=Later)
        job.give(table)
        there = job.result()
    finally:
        job.close()
    a, b = zipfile.ZipFile(here), zipfile.ZipFile(there)
    assert a.namelist() == b.namelist()
    assert any("Theo dõi" in a.read(n).decode() for n in a.namelist() if n.endswith("workbook.xml"))
    for name in a.namelist():
        if name != "docProps/core.xml":
            assert a.read(name) == b.read(name), name
