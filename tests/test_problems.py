"""The problem registry (`core.problems.MESSAGES`) is complete and honest: every code is emitted by the
package, exercised by a test, and written nowhere but in the registry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cchc_excel.core import problems
from cchc_excel.core.problems import CLERK_MESSAGES, FIXES, MESSAGES, WORDS, wording

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cchc_excel"
TESTS = Path(__file__).resolve().parent
REGISTRIES = {"MESSAGES", "FIXES", "CLERK_MESSAGES", "WORDS"}


def _string_constants(path: Path) -> set[str]:
    """Every string literal of a module, except the keys of the registries themselves."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id in REGISTRIES and isinstance(node.value, ast.Dict):
            skip.update(id(k) for k in node.value.keys if k is not None)
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip}


EMITTED = set().union(*(_string_constants(p) for p in PACKAGE.rglob("*.py")))
# What the tests name, outside this file (a code named only here would prove nothing).
TESTED = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)


@pytest.mark.parametrize("code", list(MESSAGES))
def test_every_registered_code_is_emitted_by_the_package(code: str) -> None:
    assert code in EMITTED, f"'{code}' is registered but no module emits it: remove it from MESSAGES"


def test_every_registered_code_is_exercised_by_a_test() -> None:
    untested = [c for c in MESSAGES if not re.search(rf"""["']{re.escape(c)}["']""", TESTED)]
    assert untested == [], f"codes that no test triggers (add a test that asserts each one): {untested}"


def test_fixes_and_clerk_wording_are_for_registered_codes() -> None:
    assert set(FIXES) <= set(MESSAGES) and set(CLERK_MESSAGES) <= set(MESSAGES)


@pytest.mark.parametrize("key", list(WORDS))
def test_every_registered_wording_is_used_by_the_package(key: str) -> None:
    assert key in EMITTED, f"'{key}' is registered in WORDS but no module uses it: remove it"


def test_words_fill_from_named_fields() -> None:
    assert wording("unnamed-case-field", row=12) == WORDS["unnamed-case-field"].format(row=12)


def test_problems_md_lists_every_code() -> None:
    doc = problems.markdown()
    assert all(f"`{code}`" in doc for code in MESSAGES)


def test_problem_to_dict_holds_every_field_as_asdict_would() -> None:
    from dataclasses import asdict, fields

    from cchc_excel.core.problems import Problem, problem

    found = problem("big-jump", file="a.xlsx", sheet="Chỉ tiêu", cell="E12", name="CT1", value="70,5", detail="x")
    assert list(found.to_dict()) == [f.name for f in fields(Problem)], "a field of Problem is missing from to_dict"
    assert found.to_dict() == asdict(found)
    odd = Problem("big-jump", "warning", "m", value=(1, 2))
    assert odd.to_dict()["value"] == "(1, 2)", "a value that is not a plain scalar is kept as its text"
