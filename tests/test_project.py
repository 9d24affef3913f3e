"""Project-level guarantees: the core imports no edge, the docs cover every command, code and name."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import cchc_excel
from cchc_excel.app.cli import app
from cchc_excel.core import layout as L
from cchc_excel.core.problems import MESSAGES, markdown

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(cchc_excel.__file__).resolve().parent
CORE = PACKAGE / "core"
IO_MODULES = {"os", "subprocess", "shutil", "sqlite3", "sqlalchemy", "openpyxl", "xlsxwriter", "docx", "docxtpl",
              "python_calamine", "zipfile", "typer", "rich", "yaml", "tempfile"}


def test_layers_import_only_the_layers_below_them() -> None:
    """app > documents > archive > workbook > core, checked by import-linter's layers contract (setup.cfg)."""
    result = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                             "lint_imports_command()"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.stem)
def test_core_module_does_no_io(path: Path) -> None:
    """The core is pure: no files, database, documents or terminal (the layers contract covers our modules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level:
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
    bad = imported & IO_MODULES
    assert not bad, f"core module {path.stem} imports I/O modules: {sorted(bad)}"


def test_no_posix_only_modules_in_the_library() -> None:
    """The clerks' and office's machines run Windows: POSIX-only modules only behind a guard (try/if)."""
    posix_only = {"fcntl", "pwd", "grp", "termios", "resource"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level, unguarded
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            bad = set(names) & posix_only
            assert not bad, f"{path.name} imports {sorted(bad)} unguarded at module level"


# Calls and names that exist only on POSIX (or kill without a chance to clean up): allowed only behind a guard
# (`if hasattr(os, ...)`, `if sys.platform ...`, `if os.name ...`, or a try).
POSIX_ONLY = {("os", "fork"), ("os", "forkpty"), ("os", "killpg"), ("os", "getpgid"), ("os", "setsid"),
              ("os", "setpgrp"), ("os", "getuid"), ("os", "geteuid"), ("os", "getgid"), ("os", "chown"),
              ("os", "mkfifo"), ("signal", "SIGKILL"), ("signal", "SIGALRM"), ("signal", "alarm"),
              ("signal", "SIGHUP"), ("signal", "SIGUSR1"), ("signal", "SIGUSR2")}


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try):
            return True
        if isinstance(node, (ast.If, ast.IfExp)):
            test = ast.unparse(node.test)
            if any(word in test for word in ("hasattr(", "sys.platform", "os.name")):
                return True
    return False


def test_no_posix_only_calls_or_paths_on_a_required_path() -> None:
    """os.fork, os.killpg, signal.SIGKILL … only behind a guard; no /tmp path (tempfile knows the folder)."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and (node.value.id, node.attr) in POSIX_ONLY and not _guarded(node, parents)):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value.id}.{node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/tmp" in node.value:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} '/tmp' in a string")
    assert not found, f"POSIX-only on a required path: {found}"


def test_shipped_file_names_are_ascii() -> None:
    """Package data and modules (what the wheel holds) have ASCII names: a zip, a Windows share or an old
    Excel keeps them intact."""
    bad = [str(p.relative_to(ROOT)) for folder in (PACKAGE, ROOT / "templates", ROOT / "samples")
           for p in folder.rglob("*") if "__pycache__" not in p.parts and not p.name.isascii()]
    assert not bad, f"non-ASCII file names in the package: {bad}"


def test_every_problem_code_is_documented() -> None:
    doc = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    assert doc == markdown(), "docs/problems.md is stale: python -m cchc_excel.core.problems > docs/problems.md"
    assert all(f"`{code}`" in doc for code in MESSAGES)


def test_every_cli_command_is_documented() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = [c.name for c in app.registered_commands]
    groups = {g.name: g.typer_instance for g in app.registered_groups}
    for name, sub in groups.items():
        commands += [f"{name} {c.name}" for c in sub.registered_commands]
    assert commands, "no commands registered?"
    missing = [c for c in commands if f"cchc {c}" not in doc]
    assert not missing, f"commands missing from docs/cli.md: {missing}"


def test_every_defined_name_pattern_is_documented() -> None:
    doc = (ROOT / "docs" / "workbook-format.md").read_text(encoding="utf-8")
    for sheet in (L.SHEET_GUIDE, L.SHEET_INFO, L.SHEET_IND, L.SHEET_CASES, L.SHEET_TASKS, L.SHEET_NOTES, L.SHEET_META):
        assert f"`{sheet}`" in doc, f"sheet {sheet} not in docs/workbook-format.md"
    for key in L.META_KEYS:
        assert key in doc
    for col in L._case_table().columns:
        if col.name:
            assert col.name in doc, f"{col.name} not documented"
    for pattern in ("CT_<c>_TU", "CT_<c>_MAU", "CT_<c>_GT", "CT_<c>_SL", "CT_<c>_CO", "CT_<c>_TT", "CT_<c>_NGAY",
                    "CT_<c>_GHICHU", "CT_<c>_CHITIEU", "NV_<t>_TT", "KK_KHO_KHAN", "KK_KIEN_NGHI", "TT_NGUOI_LAP"):
        assert pattern in doc, f"{pattern} not documented"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "python3 -m pip install -q -e '.[test]' && python3 -m ruff check . && python3 -m pytest -q"
    assert command in readme and command in ci
    assert "python3 -m cchc_excel demo" in readme and "python3 -m cchc_excel demo" in ci
