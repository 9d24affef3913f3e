"""Codes of the other layers that their own tests exercise without naming them: each triggered here and
asserted by code (tests/test_problems.py requires every registered code to be asserted by some test)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from cchc_excel.app import cli
from cchc_excel.archive.importing import import_files
from cchc_excel.archive.workspace import Workspace
from cchc_excel.core.plan import parse_plan
from cchc_excel.core.problems import problem
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form

runner = CliRunner()


def _json(*args: object) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(cli.app, [str(a) for a in args] + ["--json"])
    return result.exit_code, json.loads(result.output)


def _codes(payload: dict[str, Any]) -> list[str]:
    return [p["code"] for p in payload["problems"]]


def test_target_without_a_comparison_is_a_missing_field() -> None:
    data = {"id": "t", "year": 2025, "tiers": ["xa"],
            "indicators": [{"id": "1", "name": "X", "kind": "percent", "target": {"id": "1.1"}}]}
    plan, report = parse_plan(data)
    assert plan is None and report.codes() == ["field-missing"]


def test_month_on_month_jump_is_a_warning(workspace: Workspace, tmp_path: Path) -> None:
    values = good_values_phuoc_hoa()
    feb = ws_form(workspace, PHUOC_HOA, tmp_path / "feb", values, period=MARCH.previous())
    mar = ws_form(workspace, PHUOC_HOA, tmp_path / "mar", values | {"CT_1_TU": 5})  # 80% -> 10%
    list(import_files(workspace, [feb], period=MARCH.previous(), received_at=datetime(2025, 2, 10)))
    [(_, outcome)] = list(import_files(workspace, [mar], period=MARCH, received_at=datetime(2025, 3, 10)))
    # Only indicator 1 jumped, and a jump warns without refusing the file. (March repeats February's case table,
    # so its "Từ kỳ trước" differs from February's pending: carried-mismatch warnings, not this test's subject.)
    jumps = [(p["name"], p["severity"]) for p in outcome.problems if p["code"] == "big-jump"]
    assert jumps == [("1", "warning")]
    assert outcome.status == "accepted"
    assert {p["code"] for p in outcome.problems} <= {"big-jump", "carried-mismatch"}


def test_generate_for_an_unknown_unit_names_it(workspace: Workspace, tmp_path: Path) -> None:
    code, payload = _json("generate", "-w", workspace.root, "-p", "2025-03", "-o", tmp_path / "out", "-u", "KHONG-CO")
    assert (code, _codes(payload)) == (2, ["unknown-unit"])


def test_date_option_that_is_not_a_date_is_refused_with_the_registry_message() -> None:
    with pytest.raises(typer.BadParameter) as caught:
        cli.parse_date_option("ngày mai", "Ngày ký (--date)")
    assert caught.value.message == problem("bad-date-option", name="Ngày ký (--date)", value="ngày mai",
                                           detail="").message


@pytest.mark.parametrize(("raised", "code", "exit_code"), [
    (KeyboardInterrupt(), "interrupted", 130),
    (PermissionError(13, "Permission denied", "/x/ws"), "os-error", 1),
    (OperationalError("SELECT 1", {}, Exception("database is locked")), "database-error", 1),
])
def test_interruption_and_environment_errors_end_in_their_problem(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, raised: BaseException, code: str,
        exit_code: int) -> None:
    def fail(*_: Any, **__: Any) -> Any:
        raise raised

    monkeypatch.setattr(cli, "open_ws", fail)
    got, payload = _json("status", "-w", workspace.root, "-p", "2025-03")
    assert (got, _codes(payload)) == (exit_code, [code])


def test_final_report_with_sections_left_is_refused(workspace: Workspace, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from cchc_excel.app import reporting
    from cchc_excel.documents.report import PlaceholdersLeft

    def left(*_: Any, **__: Any) -> Any:
        raise PlaceholdersLeft(["Mục I"])

    monkeypatch.setattr(reporting, "write_reports", left)
    got, payload = _json("report", "-w", workspace.root, "-p", "2025-03", "-o", tmp_path / "bc", "--final")
    assert (got, _codes(payload)) == (1, ["report-not-final"])


def test_jump_is_measured_from_the_latest_current_month(workspace: Workspace, tmp_path: Path) -> None:
    """January 80%, February sent at 80% then again at 10% (the current one), March 10%: no jump, since the
    latest current value (February's second file) is March's; an older month or a replaced file would make one."""
    values = good_values_phuoc_hoa()
    feb, jan = MARCH.previous(), MARCH.previous().previous()
    low = values | {"CT_1_TU": 5}
    for n, (period, vals, day) in enumerate([(jan, values, 10), (feb, values, 10), (feb, low, 12)]):
        path = ws_form(workspace, PHUOC_HOA, tmp_path / f"f{n}", vals, period=period)
        list(import_files(workspace, [path], period=period, received_at=datetime(2025, 3 if period == feb else 2, day)))
    mar = ws_form(workspace, PHUOC_HOA, tmp_path / "mar", low)
    [(_, outcome)] = list(import_files(workspace, [mar], period=MARCH, received_at=datetime(2025, 3, 10)))
    assert outcome.status == "accepted"
    assert [p["name"] for p in outcome.problems if p["code"] == "big-jump"] == []
