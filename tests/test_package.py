"""The package installs and runs anywhere: every subpackage and bundled file ships, runtime dependencies are
exactly what the package imports, text files are read and written as UTF-8.

The full round trip (build the wheel, install it in a fresh virtual environment, run `cchc demo`, `cchc init`
with bundled names and `cchc report` from a folder outside the checkout) takes over a minute and runs in
.ci/run; here, the configuration it depends on, and (slow) the wheel's contents.
"""

from __future__ import annotations

import ast
import configparser
import glob
import importlib.metadata
import json
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import cchc_excel
from cchc_excel import bundled

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(cchc_excel.__file__).resolve().parent
SETUP = configparser.ConfigParser()
SETUP.read(ROOT / "setup.cfg", encoding="utf-8")
# Top-level import name -> distribution, where they differ or the environment may not say.
DISTRIBUTION_OF = {"yaml": "pyyaml", "docx": "python-docx", "python_calamine": "python-calamine", "lxml": "lxml",
                   "docxtpl": "docxtpl", "jinja2": "jinja2", "xlsxwriter": "xlsxwriter", "pandas": "pandas",
                   "matplotlib": "matplotlib", "typer": "typer", "rich": "rich", "sqlalchemy": "sqlalchemy",
                   "defusedxml": "defusedxml", "openpyxl": "openpyxl", "alembic": "alembic",
                   "psycopg": "psycopg", "psycopg2": "psycopg2-binary"}


def _lines(section: str, key: str) -> list[str]:
    return [line.strip() for line in SETUP.get(section, key, fallback="").splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _requirements(lines: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in lines}


def _package_dirs() -> dict[str, Path]:
    """Each listed package and the folder it is built from (package_dir, else its dotted path)."""
    mapping = dict(line.replace(" ", "").split("=", 1) for line in _lines("options", "package_dir"))
    out = {}
    for name in _lines("options", "packages"):
        prefix = max((k for k in mapping if name == k or name.startswith(k + ".")), key=len, default=None)
        rel = (mapping[prefix] + name[len(prefix):].replace(".", "/")) if prefix else name.replace(".", "/")
        out[name] = ROOT / rel
    return out


def _data_files(kind: str) -> set[str]:
    """The files of templates/ or samples/ that must ship: all but Python files and caches (paths relative
    to the folder). Tracked files when this is a git checkout, else what is on disk."""
    folder = ROOT / kind
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", kind], cwd=ROOT, capture_output=True, check=True,
                                text=True, encoding="utf-8").stdout.split("\0")
        files = {Path(p).relative_to(kind).as_posix() for p in listed if p}
    except (OSError, subprocess.CalledProcessError):
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    if not files:  # not tracked yet (or no git): what is on disk
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    return {f for f in files if not f.endswith((".py", ".pyc")) and "__pycache__" not in f}


def _globbed(package: str, folder: Path) -> set[str]:
    """What setuptools takes as package data: each glob of [options.package_data], relative to the folder."""
    patterns = [p.strip() for line in _lines("options.package_data", package) for p in line.split(",") if p.strip()]
    return {Path(f).as_posix() for pattern in patterns
            for f in glob.glob(pattern, root_dir=folder, recursive=True) if (folder / f).is_file()}


# ------------------------------------------------------------------------------------------------
# what ships


def test_every_subpackage_is_listed_in_setup_cfg() -> None:
    """`packages` is a list (the data packages live outside cchc_excel/): a new subpackage must join it."""
    listed = _package_dirs()
    found = {"cchc_excel." + ".".join(p.parent.relative_to(PACKAGE).parts) if p.parent != PACKAGE else "cchc_excel"
             for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts}
    missing = sorted(found - set(listed))
    assert not missing, f"packages missing from setup.cfg [options] packages (the wheel would lack them): {missing}"
    absent = sorted(name for name, folder in listed.items() if not (folder / "__init__.py").is_file())
    assert not absent, f"setup.cfg lists packages that have no folder with __init__.py: {absent}"
    assert listed["cchc_excel.templates"] == ROOT / "templates"
    assert listed["cchc_excel.samples"] == ROOT / "samples"


@pytest.mark.parametrize("kind", ["templates", "samples"])
def test_package_data_globs_take_every_bundled_file(kind: str) -> None:
    wanted = _data_files(kind)
    assert wanted, f"{kind}/ holds no files?"
    taken = _globbed(f"cchc_excel.{kind}", ROOT / kind)
    missing = sorted(wanted - taken)
    assert not missing, f"not matched by setup.cfg [options.package_data] cchc_excel.{kind}: {missing}"


def test_bundled_files_resolve_through_importlib_resources() -> None:
    """In the editable install (and a wheel) the data packages are importable; bundled.py reads them."""
    try:
        templates = resources.files("cchc_excel.templates")
        samples = resources.files("cchc_excel.samples")
    except ModuleNotFoundError:
        pytest.fail("cchc_excel.templates is not importable: reinstall (python3 -m pip install -e '.[test]')")
    assert templates.joinpath("plans", "ninh-thuan-2025.yaml").is_file()
    assert templates.joinpath("registries", "ninh-thuan-2025.csv").is_file()
    assert templates.joinpath("report", "bao-cao-thang.docx").is_file()
    assert samples.joinpath("ninh-thuan-2025", "cchc.yaml").is_file()
    assert bundled.template_file("report", "bao-cao-thang.docx").is_file()
    assert (bundled.samples_dir() / "ninh-thuan-2025" / "cchc.yaml").is_file()


def test_bundled_names() -> None:
    assert "ninh-thuan-2025" in bundled.names("plan")
    assert "ninh-thuan-2025" in bundled.names("registry")
    assert bundled.find("plan", "ninh-thuan-2025") == bundled.find("plan", "ninh-thuan-2025.yaml")
    assert bundled.find("registry", "ninh-thuan-2025").is_file()  # type: ignore[union-attr]
    assert bundled.find("plan", "khong-co") is None


def test_init_takes_bundled_names_and_lists_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cchc_excel.app.cli import app

    monkeypatch.chdir(tmp_path)  # no templates/ folder here: the names resolve to the bundled files
    runner = CliRunner()
    result = runner.invoke(app, ["init", "ws", "--plan", "ninh-thuan-2025", "--registry", "ninh-thuan-2025.yaml"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ws" / "plan.yaml").read_bytes() == bundled.find("plan", "ninh-thuan-2025").read_bytes()  # type: ignore[union-attr]
    assert (tmp_path / "ws" / "ninh-thuan-2025.csv").is_file()  # the registry's units CSV came along
    result = runner.invoke(app, ["init", "ws2", "--plan", "khong-co", "--registry", "ninh-thuan-2025", "--json"])
    assert result.exit_code == 2
    (found,) = json.loads(result.output)["problems"]
    assert found["code"] == "unknown-bundled-plan" and all(n in found["message"] for n in bundled.names("plan"))
    assert not (tmp_path / "ws2").exists()
    result = runner.invoke(app, ["init", "ws3", "--plan", "ninh-thuan-2025", "--registry", "khong-co", "--json"])
    (found,) = json.loads(result.output)["problems"]
    assert (result.exit_code, found["code"]) == (2, "unknown-bundled-registry")
    assert all(n in found["message"] for n in bundled.names("registry"))
    help_text = " ".join(runner.invoke(app, ["init", "--help"], terminal_width=200, env={"COLUMNS": "200"}).output.split())
    assert all(n in help_text for n in bundled.names("plan") + bundled.names("registry"))


@pytest.mark.slow
def test_wheel_holds_the_package_templates_and_samples(tmp_path: Path) -> None:
    """`python -m build --wheel` (what .ci/run installs in a fresh venv): every module, plan, registry,
    template and sample file is inside, and the console script points at the CLI."""
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = tmp_path.glob("cchc_excel-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode("utf-8") for n in names if n.endswith(".dist-info/entry_points.txt"))
    for kind in ("templates", "samples"):
        missing = sorted(f for f in _data_files(kind) if f"cchc_excel/{kind}/{f}" not in names)
        assert not missing, f"missing from the wheel: {missing[:10]}"
        assert f"cchc_excel/{kind}/__init__.py" in names
    inside = sorted(p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    missing = [m for m in inside if m not in names]
    assert not missing, f"modules or data of cchc_excel/ missing from the wheel (setup.cfg packages, package_data): {missing}"
    assert "cchc = cchc_excel.app.cli:main" in entry_points
    assert not [n for n in names if "__pycache__" in n or n.endswith((".sqlite", ".pyc"))]


# ------------------------------------------------------------------------------------------------
# dependencies


def _imports(folder: Path) -> dict[str, set[str]]:
    """Top-level names of absolute imports in every module under `folder` -> the modules importing them."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module.split(".")[0]]
            for name in names:
                found.setdefault(name, set()).add(path.relative_to(folder.parent).as_posix())
    return found


def _distribution(name: str) -> str:
    if name in DISTRIBUTION_OF:
        return canonicalize_name(DISTRIBUTION_OF[name])
    dists = importlib.metadata.packages_distributions().get(name)
    assert dists, f"'{name}' is imported by the package but no installed distribution provides it"
    return canonicalize_name(dists[0])


def test_runtime_dependencies_are_exactly_what_the_package_imports() -> None:
    imported = {name: where for name, where in _imports(PACKAGE).items()
                if name not in sys.stdlib_module_names and name not in ("cchc_excel", "__future__")}
    needed = {_distribution(name): where for name, where in imported.items()}
    runtime = _requirements(_lines("options", "install_requires"))
    optional = set().union(*(_requirements(_lines("options.extras_require", extra))
                             for extra in SETUP.options("options.extras_require") if extra != "test"))
    undeclared = {d: sorted(w) for d, w in needed.items() if d not in runtime | optional}
    assert not undeclared, f"imported but not in install_requires: {undeclared}"
    unused = sorted(runtime - set(needed))
    assert not unused, f"in install_requires but never imported by cchc_excel/: {unused}"
    assert "openpyxl" not in needed, f"openpyxl is a test dependency, imported by {sorted(needed['openpyxl'])}"
    test_extra = _requirements(_lines("options.extras_require", "test"))
    assert {"openpyxl", "import-linter", "build", "pytest"} <= test_extra


# ------------------------------------------------------------------------------------------------
# UTF-8


# Calls that open text without an explicit encoding in others' modules, left to their owners (path, line text).
KNOWN_WITHOUT_ENCODING: set[tuple[str, str]] = {
    ("cchc_excel/workbook/safety.py", 'with open("/proc/self/statm") as fh:'),
}


def _without_encoding(call: ast.Call) -> bool:
    """open()/Path.open()/read_text()/write_text() in text mode with no encoding."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if any(k.arg == "encoding" for k in call.keywords):
        return False
    if name == "read_text" and isinstance(func, ast.Attribute):
        return not call.args                      # Path.read_text(encoding, errors)
    if name == "write_text" and isinstance(func, ast.Attribute):
        return len(call.args) < 2                 # Path.write_text(data, encoding)
    if name != "open":
        return False
    is_path_open = isinstance(func, ast.Attribute)
    mode_at, encoding_at = (0, 2) if is_path_open else (1, 3)
    mode = next((k.value for k in call.keywords if k.arg == "mode"),
                call.args[mode_at] if len(call.args) > mode_at else None)
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "b" in mode.value:
        return False
    if mode is not None and not isinstance(mode, ast.Constant):
        return False                              # a mode computed at run time: not judged here
    if is_path_open and isinstance(func.value, ast.Name) and func.value.id in ("os", "zipfile", "tarfile", "gzip"):
        return False
    return len(call.args) <= encoding_at


def test_text_files_are_opened_with_an_explicit_encoding() -> None:
    """Windows' default encoding is not UTF-8: every text open, read_text and write_text names its encoding."""
    found: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and _without_encoding(node):
                found.add((path.relative_to(PACKAGE.parent).as_posix(), lines[node.lineno - 1].strip()))
    new = sorted(found - KNOWN_WITHOUT_ENCODING)
    assert not new, f"text opened without encoding='utf-8': {new}"
