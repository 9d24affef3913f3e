"""The Excel summary written in a second process (documents.background): the same file as in one process, and
an error in the child reaches the caller as the same exception (a refusal with its problems and exit code)."""

from __future__ import annotations

import errno
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from cchc_excel.core.problems import Problem, Refusal, problem
from cchc_excel.documents import background
from cchc_excel.documents.background import Background


@pytest.fixture(autouse=True)
def _spare_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child process whatever the CPUs and the load (the job runs there, in parallel or not)."""
    monkeypatch.setattr(background, "spare_cpu", lambda: True)


def refuse(code: str, exit_code: int) -> None:
    raise Refusal(problem(code, value="2025-03"), Problem("usage", "error", "thứ hai"), exit_code=exit_code)


def deny(path: str) -> None:
    raise PermissionError(errno.EACCES, "Permission denied", path)


def add(a: int, b: int = 0) -> int:
    return a + b


def test_a_refusal_in_the_child_is_the_same_refusal_here():
    job = Background(refuse)
    try:
        job.start("period-no-data", 2)
        with pytest.raises(Refusal) as caught:
            job.result()
    finally:
        job.close()
    here = pytest.raises(Refusal, refuse, "period-no-data", 2).value
    assert caught.value.exit_code == 2
    assert caught.value.problems == here.problems and str(caught.value) == str(here)


def test_an_os_error_in_the_child_keeps_its_kind_number_and_file(tmp_path: Path):
    job = Background(deny)
    try:
        job.start(str(tmp_path / "tong-hop.xlsx"))
        with pytest.raises(PermissionError) as caught:
            job.result()
    finally:
        job.close()
    assert (caught.value.errno, caught.value.filename) == (errno.EACCES, str(tmp_path / "tong-hop.xlsx"))


def test_the_value_comes_back_in_either_mode():
    for parallel in (True, False):
        job = Background(add, parallel=parallel)
        try:
            assert (job._process is not None) == parallel
            job.start(2, b=3)
            assert job.result() == 5
        finally:
            job.close()


def test_a_child_that_dies_starting_leaves_the_job_to_this_process(monkeypatch: pytest.MonkeyPatch):
    job = Background(add)
    try:
        job._process.kill()   # the child started by the constructor
        job._process.join()
        job.start(2, b=3)
        assert job.result() == 5
    finally:
        job.close()


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:   # docProps/core.xml holds the time the file was written
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_the_summary_from_the_child_is_the_summary_written_here(workspace, tmp_path, monkeypatch):  # noqa: ANN001
    from cchc_excel.app import reporting
    from cchc_excel.archive.importing import import_files
    from cchc_excel.core.period import Period
    from tests.conftest import PHUOC_HOA, good_values_phuoc_hoa, ws_form

    inbox = tmp_path / "nhan"
    inbox.mkdir()
    for n, unit in enumerate((PHUOC_HOA, "22783")):
        ws_form(workspace, unit, inbox, {**good_values_phuoc_hoa(), "CT_1_TU": 30 + n})
    got = [o for _, o in import_files(workspace, [inbox], period=Period(2025, "month", 3),
                                      received_at=datetime(2025, 3, 10))]
    assert all(o.status == "accepted" for o in got), [o.problems for o in got]
    march = Period(2025, "month", 3)
    agg = reporting.aggregate_period(workspace, march)
    files = {}
    for name, units in (("one", 10**9), ("two", 0)):
        monkeypatch.setattr(reporting, "PARALLEL_SUMMARY_UNITS", units)
        files[name] = reporting.write_reports(workspace, march, tmp_path / name, pdf=False, agg=agg,
                                              issue_date=date(2025, 3, 20))
    assert files["two"].xlsx == tmp_path / "two" / "tong-hop-2025-03.xlsx"
    assert _parts(files["one"].xlsx) == _parts(files["two"].xlsx)


def test_the_child_ends_as_soon_as_it_has_answered():
    job = Background(add)
    child = job._process
    try:
        job.start(2, b=3)
        assert job.result() == 5
    finally:
        job.close()
    assert child.exitcode == 0, f"the child ended with {child.exitcode}"


def test_a_child_given_no_job_ends_when_closed():
    job = Background(add)
    child = job._process
    job.close()
    assert child.exitcode == 0 and job._process is None


def test_a_final_report_refused_after_the_summary_started_leaves_nothing(workspace, tmp_path, monkeypatch):  # noqa: ANN001
    """The summary's child starts before the report's checks; refused (parts left to write), nothing is in the
    output folder and no temporary summary is left behind."""
    import tempfile

    from cchc_excel.app import reporting
    from cchc_excel.archive.importing import import_files
    from cchc_excel.core.period import Period
    from cchc_excel.documents.report import PlaceholdersLeft
    from tests.conftest import PHUOC_HOA, good_values_phuoc_hoa, ws_form

    inbox = tmp_path / "nhan"
    inbox.mkdir()
    ws_form(workspace, PHUOC_HOA, inbox, good_values_phuoc_hoa())
    march = Period(2025, "month", 3)
    assert all(o.status == "accepted" for _, o in import_files(workspace, [inbox], period=march,
                                                               received_at=datetime(2025, 3, 10)))
    monkeypatch.setattr(reporting, "PARALLEL_SUMMARY_UNITS", 0)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with pytest.raises(PlaceholdersLeft):
        reporting.write_reports(workspace, march, tmp_path / "out", pdf=False, final=True,
                                issue_date=date(2025, 3, 20))
    assert not (tmp_path / "out").exists(), sorted((tmp_path / "out").rglob("*"))
    assert list(temp.iterdir()) == [], "a temporary summary was left behind"


class Odd(Exception):
    """An exception whose constructor takes more than its message: pickled, it cannot be rebuilt from its args."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(f"{message} ({where})")
        self.where = where


def odd(where: str) -> None:
    raise Odd("hỏng", where)


def test_an_exception_that_cannot_be_rebuilt_comes_back_as_its_kind_and_text():
    job = Background(odd)
    try:
        job.start("dòng 3")
        with pytest.raises(RuntimeError) as caught:
            job.result()
    finally:
        job.close()
    assert str(caught.value) == "Odd: hỏng (dòng 3)"


def test_a_refusal_survives_pickling_with_its_problems_and_exit_code():
    import pickle

    here = pytest.raises(Refusal, refuse, "period-no-data", 2).value
    back = pickle.loads(pickle.dumps(here))
    assert type(back) is Refusal and back.problems == here.problems and back.exit_code == 2
    assert str(back) == str(here)
