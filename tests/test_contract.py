"""The contract between writer, fast path, reader, aggregation and documents: each fact is defined once
(layout.CASE_COLUMNS, layout.META, the met rule in plan) and every other place derives from it."""

from __future__ import annotations

import ast
import dataclasses
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xlsxwriter

from cchc_excel.core import aggregate, narrative, plan
from cchc_excel.core import layout as L
from cchc_excel.core.plan import MET, NOT_MET, Plan
from cchc_excel.core.units import Registry
from cchc_excel.workbook import readback, writer
from tests.conftest import MARCH
from tests.lo import fill_in_libreoffice, needs_libreoffice

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cchc_excel"

# --- the met rule: Python, pandas and the form's Excel formula agree -------------------------------------

# (result, target, comparison, verdict). 74,995 shows as 75,00 and meets 75; 74,994 shows as 74,99.
BOUNDARY = [
    (74.995, 75.0, "min", MET), (74.994, 75.0, "min", NOT_MET), (75.0, 75.0, "min", MET),
    (74.99, 75.0, "min", NOT_MET), (80.0, 75.0, "min", MET), (0.0, 0.0, "min", MET),
    (100.0, 100.0, "exact", MET), (99.995, 100.0, "exact", MET), (99.994, 100.0, "exact", NOT_MET),
    (98.0, 98.0, "exact", MET), (5.0, 5.0, "max", MET), (5.004, 5.0, "max", MET), (5.005, 5.0, "max", NOT_MET),
    (4.2, 5.0, "max", MET), (61.7, 75.0, "min", NOT_MET), (27.74194, 27.74, "min", MET),
]


def excel_round(value: float, digits: int) -> float:
    """Excel's ROUND: half away from zero on the decimal number the cell shows (15 significant digits)."""
    exact = Decimal(repr(value))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def evaluate(formula: str, cells: dict[str, Any]) -> Any:
    """A tiny evaluator for the form's verdict formulas: IF, ROUND, comparisons, strings, cell references."""
    expr = formula.lstrip("=")
    strings: list[str] = []
    expr = re.sub(r'"([^"]*)"', lambda m: f"__s{strings.append(m.group(1)) or len(strings) - 1}__", expr)
    expr = re.sub(r"\$?([A-Z]{1,3})\$?(\d+)", lambda m: f"__c['{m.group(1)}{m.group(2)}']", expr)
    expr = expr.replace("<>", "!=").replace("IF(", "_if(").replace("ROUND(", "_round(")
    expr = re.sub(r"(?<![<>!=])=(?!=)", "==", expr)
    expr = re.sub(r"__s(\d+)__", lambda m: repr(strings[int(m.group(1))]), expr)
    tree = _LazyIf().visit(ast.parse(expr, mode="eval"))  # IF evaluates only the branch it takes
    env = {"__c": {k: ("" if v is None else v) for k, v in cells.items()}, "_round": excel_round}
    return eval(compile(ast.fix_missing_locations(tree), "<formula>", "eval"), {"__builtins__": {}}, env)


class _LazyIf(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_if":
            cond, yes, no = node.args
            return ast.IfExp(test=cond, body=yes, orelse=no)
        return node


def test_evaluator_reads_the_formula_as_excel_would() -> None:
    assert evaluate('=IF(A1="","",IF(ROUND(A1,2)>=B1,"x","y"))', {"A1": 74.995, "B1": 75}) == "x"
    assert evaluate('=IF(A1="","",IF(ROUND(A1,2)>=B1,"x","y"))', {"A1": None, "B1": 75}) == ""
    assert excel_round(74.995, 2) == 75.0 and excel_round(74.994, 2) == 74.99


@pytest.mark.parametrize(("result", "target", "comparison", "verdict"), BOUNDARY)
def test_met_rule_agrees_in_python_pandas_and_the_form_formula(result: float, target: float, comparison: str,
                                                                verdict: str) -> None:
    python = MET if plan.met(result, target, comparison) else NOT_MET
    frame = aggregate._met_series(pd.Series([result]), pd.Series([target]), pd.Series([comparison]))
    formula = writer.met_formula("F6", "I6", comparison)
    excel = evaluate(formula, {"F6": result, "I6": target})
    assert (python, frame.iloc[0], excel) == (verdict, verdict, verdict), formula


def test_the_form_writes_the_verdict_formula_from_the_rule(small_plan: Plan, small_registry: Registry,
                                                           tmp_path: Path) -> None:
    import openpyxl

    unit = small_registry.units[0]
    lay = L.build_layout(small_plan, unit, small_registry.tier(unit.tier), MARCH)
    path = writer.write_workbook(lay, small_plan, tmp_path / "f.xlsx", secret="k")
    ws = openpyxl.load_workbook(path)[L.SHEET_IND]
    checked = 0
    for block in lay.indicators:
        if block.target is None or block.item.indicator.kind not in ("rate", "percent"):
            continue
        rate, target = L.a1(block.first_row, L.IND_COL_RATE), L.a1(block.first_row, L.IND_COL_TVALUE)
        written = ws.cell(row=block.first_row + 1, column=L.IND_COL_RESULT + 1).value
        assert written == writer.met_formula(rate, target, block.target.comparison)
        checked += 1
    assert checked


@needs_libreoffice
def test_libreoffice_computes_the_same_verdicts(tmp_path: Path) -> None:
    src = tmp_path / "met.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("met")
    for i, (result, target, comparison, _) in enumerate(BOUNDARY):
        ws.write_number(i, 0, result)
        ws.write_number(i, 1, target)
        ws.write_formula(i, 2, writer.met_formula(f"A{i + 1}", f"B{i + 1}", comparison), None, "")
    wb.close()
    result = fill_in_libreoffice(src, tmp_path / "met-out.xlsx", cells=[],
                                 read=[{"sheet": "met", "cell": f"C{i + 1}"} for i in range(len(BOUNDARY))])
    assert [r["string"] for r in result["read"]] == [v for *_, v in BOUNDARY]


def test_met_labels_are_defined_once() -> None:
    assert L.MET is plan.MET and aggregate.MET is plan.MET and L.NOT_MET is plan.NOT_MET
    for path in PACKAGE.rglob("*.py"):
        if path.name != "plan.py":
            text = path.read_text(encoding="utf-8")
            assert not re.search(r'^[ \t]*(MET|NOT_MET)\b[^=\n]*=[ \t]*"', text, re.M), f"{path} defines MET again"


# --- the case table: CASE_COLUMNS is the one definition ---------------------------------------------------


def test_case_inputs_and_totals_come_from_the_columns() -> None:
    assert L.CASE_INPUT_KEYS == tuple(c.key for c in L.CASE_COLUMNS if c.name and c.key != "field")
    assert L.CASE_TOTAL_KEYS == tuple(c.key for c in L.CASE_COLUMNS if c.formula_of) == plan.CASE_TOTALS
    assert readback.CASE_KEYS == L.CASE_INPUT_KEYS
    assert [c.number for c in L.CASE_COLUMNS] == list(range(2, 14)), "the official form's columns 2-13"
    assert {k for c in L.CASE_COLUMNS for k in c.formula_of} == set(L.CASE_INPUT_KEYS)


def test_case_row_totals_are_the_layout_formulas() -> None:
    row = readback.CaseRow(field="Hộ tịch", row=10, **{k: i + 1 for i, k in enumerate(L.CASE_INPUT_KEYS)})
    for total, parts in L.case_totals_of().items():
        assert getattr(row, total) == sum(getattr(row, k) for k in parts)


def test_case_labels_are_spelled_only_in_the_layout() -> None:
    # The multi-word labels and the groups ("Đúng hạn" alone also names an on-time submission elsewhere).
    labels = {c.label for c in L.CASE_COLUMNS if len(c.label.split()) > 2} | {c.group for c in L.CASE_COLUMNS}
    words = ["bưu chính", *sorted(labels - {""})]
    for path in PACKAGE.rglob("*.py"):
        if path.name == "layout.py":
            continue
        text = path.read_text(encoding="utf-8")
        found = [w for w in words if w in text]
        assert not found, f"{path.relative_to(ROOT)} spells case-table labels by hand: {found}"


def test_documents_take_the_case_columns_in_form_order(small_plan: Plan, small_registry: Registry) -> None:
    empty = pd.DataFrame(columns=["unit_code", "period_code", *L.CASE_INPUT_KEYS])
    cases = aggregate.case_summary(small_registry, empty, MARCH)
    assert set(L.CASE_COUNT_KEYS) <= set(cases.columns)
    agg = dataclasses.make_dataclass("Agg", [("cases", pd.DataFrame)])(cases)
    rows = narrative.case_table(agg)["rows"]  # type: ignore[arg-type]
    assert {len(r) for r in rows} == {2 + len(L.CASE_COUNT_KEYS)}


# --- the layout places every cell; the writer and the reader take positions from it ----------------------


def test_metadata_sheet_is_described_once() -> None:
    assert L.META.keys == L.META_KEYS
    assert [L.META.position(k) for k in L.META.keys] == [(i, L.META.value_col) for i in range(len(L.META.keys))]
    assert L.META.list_ref(0) is None and L.META.list_ref(3) == "'_meta'!$D$2:$D$4"


def test_every_layout_field_but_the_unit_is_in_the_shape(small_plan: Plan, small_registry: Registry) -> None:
    a, b = (L.build_layout(small_plan, u, small_registry.tier(u.tier), MARCH) for u in small_registry.units[:2])
    names = {name for name, _ in a.shape()}
    # Pre-filled values (carried-over cases) are written per unit by the reference writer, never a shape.
    assert names == {f.name for f in dataclasses.fields(a)} - set(L.Layout.IDENTITY) - set(L.Layout.PREFILLED)
    renamed = dataclasses.replace(a, unit=dataclasses.replace(a.unit, name="Khác", code="X9"))
    assert renamed.shape() == a.shape(), "the unit's name and code are patched, not part of the shape"
    assert dataclasses.replace(a, case_fields=("Hộ tịch",)).shape() != a.shape()
    assert dataclasses.replace(a, version=a.version + 1).shape() != a.shape()
    hash(a.shape())
    assert b is not None


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            out.add(("." * node.level) + node.module)
    return out


def test_generation_arrows_go_one_way() -> None:
    """intake -> fastgen -> writer: the fast path builds on the writer, the writer knows neither."""
    workbook = PACKAGE / "workbook"
    assert ".fastgen" in _imports(workbook / "intake.py")
    assert not {".intake"} & _imports(workbook / "fastgen.py")
    assert not {".intake", ".fastgen"} & _imports(workbook / "writer.py")
