"""The summary's second process (documents.background, app.reporting) takes its job before it has every argument
(`Later`, then `give`): the value reaches the job, a caller that stops before giving it ends the child at once,
and the summary written there with its follow-up sheet is the one written in one process. A job returns the
process it ran in: a child that died would have been replaced by this process without the value showing it."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from cchc_excel.app.reporting import aggregate_period, summary_aggregation
from cchc_excel.core.period import Period
from cchc_excel.documents import background
from cchc_excel.documents.background import Background, Later


@pytest.fixture(autouse=True)
def _spare_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "spare_cpu", lambda: True)


def pid() -> int:
    return os.getpid()


def test_children_started_from_two_threads_leave_the_main_module_in_place():
    mine = sys.modules["__main__"]
    jobs: list[Background] = []
    threads = [threading.Thread(target=lambda: jobs.append(Background(pid))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(jobs) == 2 and sys.modules["__main__"] is mine
        for job in jobs:
            job.start()
            assert job.result() != os.getpid()
    finally:
        for job in jobs:
            job.close()


def with_later(a: int, *, later) -> tuple[int, object, int]:  # noqa: ANN001 - a callable, in the child or here
    return a, later(), os.getpid()


def slow_before_later(*, later) -> object:  # noqa: ANN001
    time.sleep(60)   # the other sheets: far longer than the bound on close() below
    return later()


def summary_with_pid(*args, **kwargs) -> tuple[object, int]:  # noqa: ANN002, ANN003 - write_summary's
    from cchc_excel.documents.summary import write_summary

    return write_summary(*args, **kwargs), os.getpid()


@pytest.mark.parametrize("parallel", [True, False])
def test_a_later_argument_reaches_the_job_once_given(parallel: bool):
    job = Background(with_later, parallel=parallel)
    try:
        job.start(1, later=Later)
        with pytest.raises(RuntimeError):
            job.result()          # before give(): would wait for ever
        job.give({"table": [1, 2]})
        a, value, where = job.result()
        assert (a, value) == (1, {"table": [1, 2]})
        assert (where != os.getpid()) == parallel   # the child's value, not this process's fallback
    finally:
        job.close()


def test_a_child_whose_later_value_never_comes_ends_when_closed():
    """The caller stopped (a refusal, Ctrl-C) before it had the value: the child is ended at once, not left to
    finish the rest of its job first (here a minute), and close() does not wait for it."""
    job = Background(slow_before_later)
    child = job._process
    job.start(later=Later)
    closing = threading.Thread(target=job.close, daemon=True)
    began = time.monotonic()
    closing.start()
    closing.join(timeout=20)
    assert not closing.is_alive(), "close() still waits for the child"
    assert not child.is_alive() and job._process is None
    assert time.monotonic() - began < 20


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
    job = Background(summary_with_pid)
    try:
        job.start(summary_aggregation(agg), workspace.plan, workspace.registry, tmp_path / "there.xlsx",
                  followup=Later)
        job.give(table)
        there, where = job.result()
    finally:
        job.close()
    assert where != os.getpid()   # written by the child
    a, b = zipfile.ZipFile(here), zipfile.ZipFile(there)
    assert a.namelist() == b.namelist()
    assert any("Theo dõi" in a.read(n).decode() for n in a.namelist() if n.endswith("workbook.xml"))
    for name in a.namelist():
        if name != "docProps/core.xml":
            assert a.read(name) == b.read(name), name
