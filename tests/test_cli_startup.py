"""Start-up stays light: the libraries a command needs for its work are imported by that command, not by
every `cchc` run (issue 17: the fixed cost of a command under 0.3 s). Not timed: the test looks at which
modules are loaded, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Libraries that only some commands need (their import costs 40 ms to 1 s each).
HEAVY = ["alembic", "argon2", "docx", "docxtpl", "holidays", "jinja2", "lxml", "matplotlib", "numpy", "openpyxl",
         "pandas", "psycopg", "python_calamine", "rich", "sqlalchemy", "starlette", "xlsxwriter", "yaml"]

PROBE = """
import io, json, sys, contextlib
heavy = set(json.loads(sys.argv[2]))
sys.argv = ["cchc", *json.loads(sys.argv[1])]
code = None
from cchc_excel.app.cli import main
out = io.StringIO()
try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules} & heavy)}))
"""


def loaded_by(*args: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args)), json.dumps(HEAVY)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["generate", "--help"], ["report", "--help"], ["db", "--help"],
                                  ["user", "add", "--help"], ["lenh-khong-co"]])
def test_help_and_usage_errors_load_no_heavy_library(args: list[str]) -> None:
    got = loaded_by(*args)
    assert got["loaded"] == [], got


def test_checking_a_registry_loads_only_yaml_and_rich() -> None:
    got = loaded_by("units", "check", str(ROOT / "templates" / "registries" / "ninh-thuan-2025.yaml"))
    assert got["code"] == 0
    assert got["loaded"] == ["rich", "yaml"]


def test_checking_a_plan_loads_no_data_or_document_library() -> None:
    got = loaded_by("plan", "check", str(ROOT / "templates" / "plans" / "ninh-thuan-2025.yaml"), "--json")
    assert got["code"] == 0
    assert got["loaded"] == ["holidays", "yaml"]   # due dates skip public holidays
