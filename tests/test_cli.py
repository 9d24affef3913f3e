"""The command line, run as a user (and a script) would: exit codes and the --json shape."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import openpyxl
from typer.testing import CliRunner

from cchc_excel.app.cli import app
from cchc_excel.core.problems import FIXES
from tests.conftest import NT_PLAN, NT_REGISTRY, PHUOC_HOA, good_values_phuoc_hoa, ws_form

runner = CliRunner()


def run(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [str(a) for a in args])
    try:
        payload = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON (exit {result.exit_code}):\n{result.stdout}\n{result.stderr}") from exc
    assert set(payload) == {"ok", "result", "problems"}, payload.keys()
    return result.exit_code, payload


def test_plan_check_json_lists_indicators_and_exits_zero():
    code, out = run("plan", "check", NT_PLAN, "--json")
    assert code == 0 and out["ok"]
    ids = [i["id"] for i in out["result"]["indicators"]]
    assert ids == [str(n) for n in range(1, 16)]
    two = next(i for i in out["result"]["indicators"] if i["id"] == "2")
    assert [(t["id"], t["comparison"], t["value"]) for t in two["targets"]] == [
        ("2.1", "min", 60.0), ("2.2", "min", 45.0), ("2.3", "min", 35.0)]


def test_plan_check_reports_every_problem_with_line_and_exits_one(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('id: x\nyear: 2025\ntiers: [tinh]\nindicators:\n  - id: "1"\n    name: A\n    kind: rate\n'
                   '    numerator: a\n    target: {min: 120}\n  - id: "1"\n    name: B\n    kind: percent\n'
                   '    applies_to: [xaa]\n', encoding="utf-8")
    code, out = run("plan", "check", bad, "--json")
    assert code == 1 and not out["ok"]
    codes = sorted(p["code"] for p in out["problems"])
    assert codes == ["duplicate-id", "missing-label", "target-out-of-range", "unknown-tier"], codes
    assert all(p["cell"].startswith("dòng ") for p in out["problems"]), [p["cell"] for p in out["problems"]]


def test_plan_targets_gives_bac_ai_commune_25_for_indicator_2():
    code, out = run("plan", "targets", NT_PLAN, NT_REGISTRY, "--json")
    assert code == 0
    row = next(r for r in out["result"] if r["unit"] == PHUOC_HOA and r["indicator"] == "2")
    assert (row["printed_id"], row["target"], row["adjusted_by"]) == ("2.3", 25.0, ["dtts-mien-nui"])


def test_units_check_counts_units_per_tier():
    code, out = run("units", "check", NT_REGISTRY, "--json")
    assert code == 0
    assert {t["code"]: t["units"] for t in out["result"]["tiers"]} == {"tinh": 21, "huyen": 7, "xa": 62}
    assert out["result"]["flags"] == {"mien_nui_dtts": 29}


def test_bad_period_is_a_usage_error(tmp_path: Path):
    result = runner.invoke(app, ["status", "--workspace", str(tmp_path), "--period", "tháng ba"])
    assert result.exit_code == 2, result.stdout


def test_generate_import_status_aggregate_report_cycle(workspace, tmp_path: Path):
    ws = workspace.root
    code, out = run("generate", "-w", ws, "-p", "2025-03", "-u", "STP", "-u", PHUOC_HOA, "--out", tmp_path / "bm",
                    "--json")
    assert code == 0 and [r["unit"] for r in out["result"]] == ["STP", PHUOC_HOA]
    assert Path(out["result"][1]["file"]).name == "2025-03_22786_xa-phuoc-hoa.xlsx"

    inbox = tmp_path / "nhan"
    inbox.mkdir()
    good = ws_form(workspace, PHUOC_HOA, inbox, good_values_phuoc_hoa())
    bad_values = good_values_phuoc_hoa() | {"CT_3_TU": 500, "KK_KHO_KHAN": "=HYPERLINK(\"x\")"}
    ws_form(workspace, "22789", inbox, bad_values)
    (inbox / "so-nhan.csv").write_text(f"file,received_at\n{good.name},2025-03-12T09:00\n", encoding="utf-8")
    code, out = run("import", "-w", ws, inbox, "--json", "--errors-xlsx", tmp_path / "loi.xlsx")
    assert code == 1, "a rejected file makes the exit status 1"
    by_unit = {r["unit"]: r for r in out["result"]}
    assert by_unit[PHUOC_HOA]["status"] == "accepted" and by_unit[PHUOC_HOA]["errors"] == 0
    assert by_unit["22789"]["status"] == "rejected"
    rejected = [(p["code"], p["sheet"], p["cell"]) for p in by_unit["22789"]["problems"] if p["severity"] == "error"]
    assert ("numerator-exceeds-denominator", "Chỉ tiêu", "E10") in rejected, rejected

    errors = openpyxl.load_workbook(tmp_path / "loi.xlsx").active
    rows = [[c.value for c in r] for r in errors.iter_rows()]
    # The clerk's copy: sheet and cell as seen, what is wrong and how to fix it, never an English code.
    assert any(r[1] == "Chỉ tiêu" and r[2] == "E10" and r[7] == FIXES["numerator-exceeds-denominator"]
               for r in rows), rows
    assert not any("numerator-exceeds-denominator" in str(v) for r in rows for v in r)

    code, out = run("import", "-w", ws, inbox, "--json")
    assert all(r["duplicate"] for r in out["result"]), "importing the same files again changes nothing"

    code, out = run("status", "-w", ws, "-p", "2025-03", "--json")
    status = {u["unit"]: u["status"] for u in out["result"]["units"]}
    assert status[PHUOC_HOA] == "Đúng hạn" and status["22789"] == "Bị trả lại" and status["STP"] == "Chưa nộp"

    code, out = run("aggregate", "-w", ws, "-p", "2025-03", "--json")
    unit_rows = [r for r in out["result"]["units"] if r["unit_code"] == PHUOC_HOA and r["indicator"] == "3"]
    assert unit_rows[0]["value"] == 75.0 and unit_rows[0]["status"] == "Đạt"
    assert unit_rows[0]["cell"] == "E10" and unit_rows[0]["file_name"] == good.name

    code, out = run("report", "-w", ws, "-p", "2025-03", "--out", tmp_path / "bc", "--no-pdf", "--json")
    assert code == 0
    text = "\n".join(p.text for p in docx.Document(out["result"]["docx"]).paragraphs)
    assert "4. Tình hình, kết quả triển khai nhiệm vụ cải cách thủ tục hành chính" in text
    assert "cấp xã đạt 75,00% (chỉ tiêu tối thiểu 75%)" in text
    summary = openpyxl.load_workbook(out["result"]["xlsx"])
    assert "Tổng hợp" in summary.sheetnames and "Đơn vị" in summary.sheetnames


def test_check_template_passes_on_the_default_template():
    result = runner.invoke(app, ["check-template", "templates/report/bao-cao-thang.docx", "--json"])
    assert result.exit_code == 0, result.stdout
