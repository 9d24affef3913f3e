"""Every command, given bad input, ends with a Vietnamese message and its exit code, never a traceback; with
--json the error is the usual JSON shape (valid JSON, ok false). Run as a user would, through the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cchc_excel.app.cli import app, emit, parse_date_option
from cchc_excel.archive import importing
from cchc_excel.archive.datafiles import load_plan, load_registry
from cchc_excel.archive.workspace import open_workspace
from cchc_excel.core.plan import parse_plan, resolve_target
from cchc_excel.core.problems import MESSAGES
from tests.conftest import NT_PLAN, NT_REGISTRY, PHUOC_HOA, good_values_phuoc_hoa, ws_form

runner = CliRunner()


def invoke(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    # Exceptions the guard let through would surface here (CliRunner catches them).
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, text


def invoke_json(*args: object) -> tuple[int, dict]:
    result = runner.invoke(app, [str(a) for a in args] + ["--json"])
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    payload = json.loads(result.stdout)  # valid JSON, nothing else on stdout
    assert set(payload) == {"ok", "result", "problems"}
    return result.exit_code, payload


def codes(payload: dict) -> list[str]:
    return [p["code"] for p in payload["problems"]]


@pytest.fixture
def ws_dir(workspace) -> Path:  # noqa: ANN001 - conftest fixture
    return workspace.root


@pytest.fixture
def ws_with_march(workspace, tmp_path: Path) -> Path:  # noqa: ANN001
    inbox = tmp_path / "nhan"
    inbox.mkdir()
    ws_form(workspace, PHUOC_HOA, inbox, good_values_phuoc_hoa())
    code, _ = invoke("import", "-w", workspace.root, inbox, "--received-at", "10/03/2025", "-q")
    assert code == 0
    return workspace.root


# ------------------------------------------------------------------------------------------------
# the family of bad inputs, command by command


def bad_inputs(ws: Path, tmp: Path) -> list[tuple[str, list[object], int, str | None]]:
    """(case, argv, exit code, problem code expected in the JSON)."""
    a_file = tmp / "mot-tep.txt"
    a_file.write_text("x", encoding="utf-8")
    missing = tmp / "khong-co"
    return [
        ("report: quarter without data", ["report", "-w", ws, "-p", "2026-Q1", "-o", tmp / "bcq", "--no-pdf"], 1,
         "period-no-data"),
        ("report: nonsense period", ["report", "-w", ws, "-p", "thang-ba", "-o", tmp / "bc"], 2, "usage"),
        ("report: month without data", ["report", "-w", ws, "-p", "2025-05", "-o", tmp / "bc5", "--no-pdf"], 1,
         "period-no-data"),
        ("report: out is a file", ["report", "-w", ws, "-p", "2025-03", "-o", a_file, "--no-pdf"], 2,
         "out-not-folder"),
        ("report: missing template", ["report", "-w", ws, "-p", "2025-03", "-o", tmp / "bc", "--no-pdf",
                                      "--template", "khong-co.docx"], 1, "template-missing"),
        ("report: broken template", ["report", "-w", ws, "-p", "2025-03", "-o", tmp / "bc", "--no-pdf",
                                     "--template", a_file], 1, "template-broken"),
        ("report: bad date", ["report", "-w", ws, "-p", "2025-03", "-o", tmp / "bc", "--date", "32/03/2025"], 2,
         "usage"),
        ("report: missing workspace", ["report", "-w", missing, "-p", "2025-03", "-o", tmp / "bc"], 1,
         "file-missing"),
        ("generate: out is a file", ["generate", "-w", ws, "-p", "2025-03", "-o", a_file], 2, "out-not-folder"),
        ("generate: quarter", ["generate", "-w", ws, "-p", "2025-Q1", "-o", tmp / "bm"], 2, "period-not-month"),
        ("import: missing folder", ["import", "-w", ws, missing], 2, "usage"),
        ("import: bad received-at", ["import", "-w", ws, tmp, "--received-at", "hôm qua"], 2, "usage"),
        ("import: year filter", ["import", "-w", ws, tmp, "-p", "2025"], 2, "period-not-month"),
        ("aggregate: csv is a file", ["aggregate", "-w", ws, "-p", "2025-03", "--csv", a_file], 2,
         "out-not-folder"),
        ("init: missing plan", ["init", tmp / "moi", "--plan", missing, "--registry", NT_REGISTRY], 2,
         "path-missing"),
        ("init: folder is a file", ["init", a_file, "--plan", NT_PLAN, "--registry", NT_REGISTRY], 2,
         "out-not-folder"),
        ("plan check: missing file", ["plan", "check", missing], 1, "file-syntax"),
        ("units check: missing file", ["units", "check", missing], 1, "file-syntax"),
        ("plan targets: missing", ["plan", "targets", missing, NT_REGISTRY], 1, "file-syntax"),
        ("check-template: not a docx", ["check-template", a_file], 1, None),
        ("check-template: quarter", ["check-template", a_file, "-w", ws, "-p", "2025-Q1"], 2, "period-not-month"),
        ("demo: out is a file", ["demo", "-o", a_file], 2, "out-not-folder"),
        ("unknown option", ["status", "-w", ws, "-p", "2025-03", "--bogus"], 2, "usage"),
    ]


def test_every_command_with_bad_input_exits_with_its_code_and_no_traceback(ws_with_march: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    failures = []
    for case, argv, expected, _code in bad_inputs(ws_with_march, tmp_path):
        code, text = invoke(*argv)
        if code != expected or not text.strip():
            failures.append((case, code, text[-300:]))
    assert not failures, failures


def test_every_command_with_bad_input_and_json_prints_json_with_ok_false(ws_with_march: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    failures = []
    for case, argv, expected, problem_code in bad_inputs(ws_with_march, tmp_path):
        code, payload = invoke_json(*argv)
        if code != expected or payload["ok"] is not False or (problem_code and problem_code not in codes(payload)):
            failures.append((case, code, codes(payload)))
    assert not failures, failures


def test_messages_are_vietnamese_and_say_what_to_do(ws_with_march: Path, tmp_path: Path):
    code, text = invoke("generate", "-w", ws_with_march, "-p", "2025-Q1", "-o", tmp_path / "bm")
    assert code == 2 and "quý I năm 2025" in text and "theo từng tháng" in text
    code, text = invoke("status", "-w", ws_with_march, "-p", "2025-03", "--bogus")
    assert code == 2 and "Lỗi: Không có tùy chọn --bogus" in text and "Cách dùng:" in text
    assert "Usage" not in text and "Error" not in text


def test_help_of_every_command_is_vietnamese():
    for argv in (["--help"], ["init", "--help"], ["generate", "--help"], ["import", "--help"], ["status", "--help"],
                 ["aggregate", "--help"], ["report", "--help"], ["check-template", "--help"], ["demo", "--help"],
                 ["plan", "--help"], ["plan", "check", "--help"], ["plan", "targets", "--help"],
                 ["units", "check", "--help"]):
        code, text = invoke(*argv)
        assert code == 0, argv
        for english in ("Usage:", "Options", "Show this message", "[required]", "Commands"):
            assert english not in text, (argv, english)
        assert "Cách dùng:" in text and "Tùy chọn" in text


# ------------------------------------------------------------------------------------------------
# periods and months without data


def test_report_for_a_month_without_data_says_so_and_writes_nothing(ws_with_march: Path, tmp_path: Path):
    out = tmp_path / "bc"
    code, payload = invoke_json("report", "-w", ws_with_march, "-p", "2025-04", "-o", out, "--no-pdf")
    assert code == 1 and codes(payload) == ["period-no-data"]
    assert not out.exists()


@pytest.mark.parametrize("period", ["2025-Q1", "2025-H1", "2025-9T", "2025"])
def test_status_and_aggregate_build_longer_periods_from_their_months(ws_with_march: Path, period: str):
    for argv in (["status"], ["aggregate"]):
        code, payload = invoke_json(*argv, "-w", ws_with_march, "-p", period)
        assert code == 0 and payload["ok"], (argv, payload["problems"])
    code, payload = invoke_json("status", "-w", ws_with_march, "-p", period)
    assert {u["months_expected"] for u in payload["result"]["units"]} == {1}, "only March holds data"


def test_report_for_a_month_with_data_still_works(ws_with_march: Path, tmp_path: Path):
    code, payload = invoke_json("report", "-w", ws_with_march, "-p", "03/2025", "-o", tmp_path / "bc", "--no-pdf",
                                "--date", "15/03/2025")
    assert code == 0 and payload["ok"], payload["problems"]
    assert Path(payload["result"]["docx"]).exists()


def test_report_whose_summary_cannot_be_created_is_a_message_naming_the_file(ws_with_march: Path, tmp_path: Path):
    # xlsxwriter wraps the OSError in its own FileCreateError: it must still reach the office as a message.
    out = tmp_path / "bc"
    (out / "tong-hop-2025-03.xlsx").mkdir(parents=True)
    code, payload = invoke_json("report", "-w", ws_with_march, "-p", "2025-03", "-o", out, "--no-pdf")
    assert code == 1 and codes(payload) == ["os-error"], payload
    assert "tong-hop-2025-03.xlsx" in payload["problems"][0]["file"], payload["problems"][0]
    code, text = invoke("report", "-w", ws_with_march, "-p", "2025-03", "-o", out, "--no-pdf")
    assert code == 1 and "tong-hop-2025-03.xlsx" in text.replace("\n", ""), text   # Rich wraps long paths
    assert "đây là thư mục" in text, text


def test_relative_template_is_read_from_the_current_folder(ws_with_march: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    from cchc_excel.documents.report import default_template

    here = tmp_path / "dang-dung"
    here.mkdir()
    shutil.copy(default_template(), here / "mau.docx")
    monkeypatch.chdir(here)
    code, payload = invoke_json("report", "-w", ws_with_march, "-p", "2025-03", "-o", tmp_path / "bc", "--no-pdf",
                                "--template", "mau.docx")
    assert code == 0, payload["problems"]


# ------------------------------------------------------------------------------------------------
# dates


@pytest.mark.parametrize(("text", "expected"), [("15/03/2025", date(2025, 3, 15)), ("2025-03-15", date(2025, 3, 15)),
                                                ("5/3/2025", date(2025, 3, 5))])
def test_date_option_accepts_vietnamese_and_iso_dates(text: str, expected: date):
    assert parse_date_option(text, "Ngày ký") == expected


def test_received_at_accepts_vietnamese_date_and_time():
    assert parse_date_option("15/03/2025 09:30", "x", with_time=True) == datetime(2025, 3, 15, 9, 30)
    assert parse_date_option("15/03/2025", "x", with_time=True) == datetime(2025, 3, 15)
    assert parse_date_option("2025-03-15T09:30", "x", with_time=True) == datetime(2025, 3, 15, 9, 30)


def test_import_with_vietnamese_received_at_records_that_day(workspace, tmp_path: Path):  # noqa: ANN001
    inbox = tmp_path / "nhan"
    inbox.mkdir()
    ws_form(workspace, PHUOC_HOA, inbox, good_values_phuoc_hoa())
    code, payload = invoke_json("import", "-w", workspace.root, inbox, "--received-at", "20/03/2025")
    assert code == 0
    assert any(p["code"] == "late-submission" and "20/03/2025" in p["message"]
               for p in payload["result"][0]["problems"])


# ------------------------------------------------------------------------------------------------
# JSON never carries NaN


def test_emit_writes_valid_json_without_nan(capsys: pytest.CaptureFixture[str]):
    emit(True, {"rate": float("nan"), "rows": [float("inf"), 1.5], "day": date(2025, 3, 5)})
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out)["result"] == {"rate": None, "rows": [None, 1.5], "day": "2025-03-05"}


def test_aggregate_json_is_strict_json(ws_with_march: Path):
    result = runner.invoke(app, ["aggregate", "-w", str(ws_with_march), "-p", "2025-03", "--json"])
    assert result.exit_code == 0
    json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


# ------------------------------------------------------------------------------------------------
# the store


def _set_store(ws: Path, url: str) -> None:
    cfg = ws / "cchc.yaml"
    text = cfg.read_text(encoding="utf-8").replace("store: store.sqlite", f"store: '{url}'")
    cfg.write_text(text, encoding="utf-8")


def test_read_only_store_is_a_message_and_nothing_is_half_stored(ws_with_march: Path, tmp_path: Path):
    # Root ignores file permissions, so "read-only" is SQLite's own read-only mode.
    db = (ws_with_march / "store.sqlite").resolve().as_posix()
    _set_store(ws_with_march, f"sqlite:///file:{db}?mode=ro&uri=true")
    ws, _ = open_workspace(ws_with_march)
    assert ws is not None
    inbox = tmp_path / "nhan2"
    inbox.mkdir()
    ws_form(ws, "22789", inbox, good_values_phuoc_hoa())
    code, payload = invoke_json("import", "-w", ws_with_march, inbox)
    assert (code, codes(payload)) == (1, ["store-read-only"])
    # reading still works
    code, _ = invoke_json("status", "-w", ws_with_march, "-p", "2025-03")
    assert code == 0


def test_unreachable_store_is_a_message(ws_dir: Path, tmp_path: Path):
    blocker = tmp_path / "la-tep"
    blocker.write_text("x", encoding="utf-8")
    _set_store(ws_dir, f"sqlite:///{(blocker / 'store.sqlite').as_posix()}")
    code, payload = invoke_json("status", "-w", ws_dir, "-p", "2025-03")
    assert (code, codes(payload)) == (1, ["store-unreachable"])
    code, text = invoke("status", "-w", ws_dir, "-p", "2025-03")
    assert code == 1 and "Không mở được kho lưu trữ" in text


def test_missing_database_driver_names_the_package_to_install(ws_dir: Path):
    import importlib.util

    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed here: no missing driver to report")
    _set_store(ws_dir, "postgresql://cchc:mat-khau@localhost/cchc")
    code, payload = invoke_json("status", "-w", ws_dir, "-p", "2025-03")
    assert (code, codes(payload)) == (1, ["store-driver-missing"])
    message = payload["problems"][0]["message"]
    assert "pip install" in message and "mat-khau" not in message


# ------------------------------------------------------------------------------------------------
# registries and cchc.yaml


def _registry_copy(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "dm"
    folder.mkdir()
    reg = folder / NT_REGISTRY.name
    shutil.copy(NT_REGISTRY, reg)
    csv_path = folder / "ninh-thuan-2025.csv"
    shutil.copy(NT_REGISTRY.parent / "ninh-thuan-2025.csv", csv_path)
    return reg, csv_path


def test_csv_with_an_unclosed_quote_is_an_error_at_its_line(tmp_path: Path):
    reg, csv_path = _registry_copy(tmp_path)
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[2].startswith("SNV,Sở Nội vụ")
    lines[2] = lines[2].replace("SNV,Sở Nội vụ", 'SNV,"Sở Nội vụ')
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    registry, report = load_registry(reg)
    assert registry is None
    assert report.flatten("code", "file", "cell") == [("csv-unclosed-quote", str(csv_path), "dòng 3")]
    code, payload = invoke_json("units", "check", reg)
    assert code == 1 and codes(payload) == ["csv-unclosed-quote"]


def test_csv_rows_keep_their_line_when_a_cell_is_legitimately_quoted(tmp_path: Path):
    reg, csv_path = _registry_copy(tmp_path)
    registry, report = load_registry(reg)
    assert registry is not None and report.ok
    # "Sở Văn hóa, Thể thao và Du lịch" is quoted in the file: still one unit per line
    assert len(registry.units) == 90


def test_flag_typo_in_registry_csv_is_an_error_not_a_lost_adjustment(tmp_path: Path):
    reg, csv_path = _registry_copy(tmp_path)
    text = csv_path.read_text(encoding="utf-8")
    csv_path.write_text(text.replace("parent_code,flags,", "parent_code,flag,", 1), encoding="utf-8")
    registry, report = load_registry(reg)
    assert registry is None
    assert report.flatten("code", "name") == [("unknown-field-typo", "flag")]
    assert "có phải 'flags'" in report.problems[0].message


def test_flag_typo_in_inline_registry_unit_is_an_error(tmp_path: Path):
    reg = tmp_path / "dm.yaml"
    reg.write_text("id: x\ntiers:\n  - {code: xa, name: Cấp xã}\nunits:\n"
                   "  - {code: X1, name: Xã A, tier: xa, flag: [mien_nui_dtts]}\n", encoding="utf-8")
    registry, report = load_registry(reg)
    assert registry is None and report.flatten("code", "cell") == [("unknown-field-typo", "dòng 5 (units[0])")]


def test_extra_registry_column_is_only_a_warning(tmp_path: Path):
    reg, csv_path = _registry_copy(tmp_path)
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    csv_path.write_text("\n".join([rows[0] + ",ghi_chu"] + [r + "," for r in rows[1:]]) + "\n", encoding="utf-8")
    registry, report = load_registry(reg)
    assert registry is not None and report.flatten("code", "severity") == [("unknown-field", "warning")]


def test_typo_in_workspace_config_is_an_error(ws_dir: Path):
    cfg = ws_dir / "cchc.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("registry:", "registy:"), encoding="utf-8")
    ws, report = open_workspace(ws_dir)
    assert ws is None
    assert ("unknown-field-typo", "registy") in report.flatten("code", "name")
    code, payload = invoke_json("status", "-w", ws_dir, "-p", "2025-03")
    assert code == 1 and "unknown-field-typo" in codes(payload)


def test_typo_in_workspace_report_section_is_an_error(ws_dir: Path):
    cfg = ws_dir / "cchc.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("  signer_name:", "  signer_nam:"), encoding="utf-8")
    ws, report = open_workspace(ws_dir)
    assert ws is None and ("unknown-field-typo", "signer_nam") in report.flatten("code", "name")


# ------------------------------------------------------------------------------------------------
# import: unreadable folders, Ctrl-C


def test_unreadable_subfolder_is_reported_not_skipped(workspace, tmp_path: Path,  # noqa: ANN001
                                                      monkeypatch: pytest.MonkeyPatch):
    inbox = tmp_path / "nhan"
    locked = inbox / "khoa"
    locked.mkdir(parents=True)
    ws_form(workspace, PHUOC_HOA, inbox, good_values_phuoc_hoa())
    real_iterdir = Path.iterdir

    def iterdir(self: Path):  # noqa: ANN202
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    code, payload = invoke_json("import", "-w", workspace.root, inbox)
    assert code == 1
    problems = [p for o in payload["result"] for p in o["problems"]]
    assert [p["code"] for p in problems if p["severity"] == "error"] == ["folder-unreadable"]
    assert str(locked) in problems[0]["message"] or str(locked) == problems[0]["file"]


def test_ctrl_c_during_import_says_what_was_stored_and_exits_130(workspace, tmp_path: Path,  # noqa: ANN001
                                                                 monkeypatch: pytest.MonkeyPatch):
    inbox = tmp_path / "nhan"
    inbox.mkdir()
    ws_form(workspace, PHUOC_HOA, inbox, good_values_phuoc_hoa())
    ws_form(workspace, "22789", inbox, good_values_phuoc_hoa() | {"CT_1_TU": 41})
    real = importing.import_files

    def interrupted(*args: object, **kwargs: object):  # noqa: ANN202
        files = real(*args, **kwargs)
        yield next(files)
        files.close()
        raise KeyboardInterrupt  # Ctrl-C before the second file was read

    monkeypatch.setattr(importing, "import_files", interrupted)
    code, payload = invoke_json("import", "-w", workspace.root, inbox)
    assert (code, codes(payload)) == (130, ["import-interrupted"])
    assert "1 tệp đã được kiểm tra và lưu, 1 tệp chưa nhập" in payload["problems"][0]["message"]
    monkeypatch.setattr(importing, "import_files", real)
    code, payload = invoke_json("import", "-w", workspace.root, inbox)
    assert code == 0
    assert sorted(o["duplicate"] for o in payload["result"]) == [False, True]


# ------------------------------------------------------------------------------------------------
# the bundled plans


def test_ninh_thuan_plan_has_task_ii_3_a_due_in_quarter_three():
    plan, report = load_plan(NT_PLAN)
    assert plan is not None
    task = next(t for t in plan.tasks if t.id == "II.3.a")
    assert "09/2019/NĐ-CP" in task.text and task.deadline.due == date(2025, 9, 30)


def test_bundled_plans_and_registries_name_bac_ai_correctly():
    root = NT_PLAN.parent.parent
    for path in [*root.glob("plans/*.yaml"), *root.glob("registries/*")]:
        text = path.read_text(encoding="utf-8")
        assert "Bắc Ái" not in text.replace('"Bắc Ái" (lỗi chính tả)', ""), path


def test_bundled_plans_state_the_adjustment_mode():
    for path in NT_PLAN.parent.glob("*.yaml"):
        plan, report = load_plan(path)
        assert plan is not None, path
        assert "adjustment-mode-missing" not in report.codes(), path
        assert [p.code for p in report.problems] in ([], ["due-before-cutoff"]), (path, report.codes())


def test_adjustment_mode_percent_of_target_takes_a_share_of_the_target():
    base = {"id": "p", "year": 2025, "tiers": ["xa"],
            "indicators": [{"id": "2", "name": "A", "kind": "rate", "numerator": "a", "denominator": "b",
                            "target": {"min": 35}}]}
    points, _ = parse_plan({**base, "adjustments": [{"id": "a", "flag": "f", "indicators": ["2"], "delta": -10,
                                                     "mode": "points"}]})
    share, _ = parse_plan({**base, "adjustments": [{"id": "a", "flag": "f", "indicators": ["2"], "delta": -10,
                                                    "mode": "percent_of_target"}]})
    assert points is not None and share is not None
    assert resolve_target(points, points.indicators[0], unit_code="X", tier="xa", flags={"f"}).value == 25
    assert resolve_target(share, share.indicators[0], unit_code="X", tier="xa", flags={"f"}).value == 31.5


def test_adjustment_without_mode_is_points_with_a_warning_and_a_bad_mode_is_an_error():
    base = {"id": "p", "year": 2025, "tiers": ["xa"],
            "indicators": [{"id": "2", "name": "A", "kind": "percent", "target": {"min": 35}}]}
    plan, report = parse_plan({**base, "adjustments": [{"id": "a", "flag": "f", "indicators": ["2"], "delta": -10}]})
    assert plan is not None and report.codes() == ["adjustment-mode-missing"]
    assert plan.adjustments[0].mode == "points"
    plan, report = parse_plan({**base, "adjustments": [{"id": "a", "flag": "f", "indicators": ["2"], "delta": -10,
                                                        "mode": "phan-tram"}]})
    assert plan is None and report.codes() == ["field-invalid"]


def test_plan_key_typo_is_an_error_with_a_suggestion():
    plan, report = parse_plan({"id": "p", "year": 2025, "tiers": ["xa"],
                               "indicators": [{"id": "1", "name": "A", "kind": "percent", "targt": {"min": 1}}]})
    assert plan is None and report.flatten("code", "name") == [("unknown-field-typo", "targt")]


def test_new_problem_codes_have_messages():
    for code in ("period-not-month", "period-no-data", "store-read-only", "store-driver-missing",
                 "csv-unclosed-quote", "unknown-field-typo", "folder-unreadable", "import-interrupted"):
        assert code in MESSAGES
