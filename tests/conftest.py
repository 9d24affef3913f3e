"""Shared fixtures: a small plan as a dict, the Ninh Thuận plan and registry from templates/, a workspace,
and `fill()`, which types values into a generated workbook at its defined names the way a clerk's Excel
stores them (numbers as numbers, dates as dates, whatever else as text)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

from cchc_excel.archive.datafiles import load_plan, load_registry
from cchc_excel.archive.workspace import Workspace, init_workspace, open_workspace
from cchc_excel.core import layout as L
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan, parse_plan
from cchc_excel.core.units import Registry, Unit, parse_registry
from cchc_excel.workbook import intake
from cchc_excel.workbook.readback import ReadContext

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
NT_PLAN = TEMPLATES / "plans" / "ninh-thuan-2025.yaml"
NT_REGISTRY = TEMPLATES / "registries" / "ninh-thuan-2025.yaml"
KH_REGISTRY = TEMPLATES / "registries" / "khanh-hoa-2026-mau.yaml"

SECRET = "khoa-ky-thu-nghiem"
MARCH = Period.parse("2025-03")
PHUOC_HOA = "22786"   # Xã Phước Hòa, huyện Bác Ái: mountain commune (target of indicator 2 lowered by 10)

# A small plan with one indicator of each kind, ids and names mirroring the Ninh Thuận plan where they
# overlap (CT_3_TU, CT_15_GT), and one task assigned to the province tier only.
SMALL_PLAN: dict[str, Any] = {
    "id": "thu-nghiem-2025",
    "title": "Kế hoạch thử nghiệm",
    "province": "Thử nghiệm",
    "year": 2025,
    "tiers": ["tinh", "xa"],
    "reporting": {"window_rule": "nd09", "due_day": 15},
    "case_fields": ["Hộ tịch", "Chứng thực", "Đất đai"],
    "indicators": [
        {"id": "3", "name": "Tỷ lệ hồ sơ trực tuyến", "kind": "rate", "numerator": "Số hồ sơ trực tuyến",
         "denominator": "Tổng số hồ sơ", "denominator_equals": "received", "target": {"min": 75}},
        {"id": "15", "name": "Mức độ hài lòng", "kind": "percent", "weight": "Số lượt đánh giá",
         "target": {"min": 90}},
        {"id": "16", "name": "Niêm yết công khai TTHC", "kind": "yesno"},
        {"id": "17", "name": "Ban hành quy chế một cửa", "kind": "task", "applies_to": ["tinh"]},
    ],
    "tasks": [
        {"id": "II.1", "text": "Rà soát quy trình nội bộ", "assigned_to": ["tinh"], "deadline": "30/9/2025"},
    ],
}
SMALL_REGISTRY: dict[str, Any] = {
    "id": "thu-nghiem",
    "province": "Thử nghiệm",
    "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "xa", "name": "Cấp xã"}],
    "units": [
        {"code": "STP", "name": "Sở Tư pháp", "tier": "tinh"},
        {"code": "X01", "name": "Xã Một", "tier": "xa"},
    ],
}


@pytest.fixture(scope="session")
def small_plan() -> Plan:
    plan, report = parse_plan(SMALL_PLAN, source="small")
    assert plan is not None, report.flatten("code", "cell")
    return plan


@pytest.fixture(scope="session")
def small_registry() -> Registry:
    reg, report = parse_registry(SMALL_REGISTRY, source="small")
    assert reg is not None, report.flatten("code", "cell")
    return reg


@pytest.fixture(scope="session")
def nt_plan() -> Plan:
    plan, report = load_plan(NT_PLAN)
    assert plan is not None, report.flatten("code", "cell")
    return plan


@pytest.fixture(scope="session")
def nt_registry() -> Registry:
    reg, report = load_registry(NT_REGISTRY)
    assert reg is not None, report.flatten("code", "cell")
    return reg


@pytest.fixture(scope="session")
def kh_registry() -> Registry:
    reg, report = load_registry(KH_REGISTRY)
    assert reg is not None, report.flatten("code", "cell")
    return reg


@pytest.fixture(scope="session")
def march() -> Period:
    return MARCH


@pytest.fixture
def nt_ctx(nt_plan: Plan, nt_registry: Registry) -> ReadContext:
    return ReadContext(nt_plan, nt_registry, SECRET, MARCH)


def write_form(plan: Plan, registry: Registry, unit_code: str, out_dir: Path, *, period: Period = MARCH,
               secret: str = SECRET) -> Path:
    """The blank intake workbook of one unit, named as `generate` names it."""
    unit = registry.get(unit_code)
    assert unit is not None, unit_code
    lay = L.build_layout(plan, unit, registry.tier(unit.tier), period)
    return intake.write_workbook(lay, plan, Path(out_dir) / intake.workbook_filename(period, unit), secret=secret)


@pytest.fixture(scope="session")
def _blank_forms(tmp_path_factory: pytest.TempPathFactory, nt_plan: Plan, nt_registry: Registry) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("blank")
    return {code: write_form(nt_plan, nt_registry, code, out) for code in (PHUOC_HOA, "STP", "22789")}


@pytest.fixture
def blank_form(tmp_path: Path, _blank_forms: dict[str, Path]) -> Callable[[str], Path]:
    """A fresh copy of a unit's blank Ninh Thuận form for March 2025 (written once per session)."""

    def make(unit_code: str = PHUOC_HOA) -> Path:
        src = _blank_forms[unit_code]
        dst = tmp_path / "blank" / src.name
        dst.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, dst)
        return dst

    return make


def fill(path: Path, values: Mapping[str, Any], out: Path | None = None) -> Path:
    """Write `values` (defined name -> value; a list fills a column block from its first cell) with openpyxl
    at the cells the workbook's own defined names point to, and save to `out` (default: over `path`)."""
    wb = openpyxl.load_workbook(path)
    for name, value in values.items():
        dests = list(wb.defined_names[name].destinations)
        assert len(dests) == 1, (name, dests)
        sheet, ref = dests[0]
        min_col, min_row, _, max_row = range_boundaries(ref.replace("$", ""))
        items = value if isinstance(value, list) else [value]
        assert len(items) <= max_row - min_row + 1, name
        for i, item in enumerate(items):
            wb[sheet].cell(row=min_row + i, column=min_col).value = item
    out = Path(out or path)
    wb.save(out)
    return out


def good_values_phuoc_hoa() -> dict[str, Any]:
    """A complete, consistent March 2025 report of Xã Phước Hòa (22786): no error, no warning.

    Case table: received 120 (online 90), resolved 100, pending 20 -> indicator 3 denominator 120,
    indicators 4 and 10 (denominator = resolved) 100."""
    return {
        "TT_NGUOI_LAP": "Nguyễn Thị Hoa", "TT_CHUC_VU": "Công chức Văn phòng - Thống kê",
        "TT_DIEN_THOAI": "0259 3888 123", "TT_EMAIL": "phuochoa@ninhthuan.gov.vn",
        "TT_NGAY_LAP": date(2025, 3, 14),
        "CT_1_TU": 40, "CT_1_MAU": 50,
        "CT_2_TU": 30, "CT_2_MAU": 100,
        "CT_3_TU": 90, "CT_3_MAU": 120,
        "CT_4_TU": 85, "CT_4_MAU": 100,
        "CT_7_TU": 96, "CT_7_MAU": 100,
        "CT_10_TU": 100, "CT_10_MAU": 100,
        "CT_11_TU": 60, "CT_11_MAU": 120,
        "CT_12_TU": 96, "CT_12_MAU": 120,
        "CT_13_TU": 70, "CT_13_MAU": 90,
        "CT_14_TU": 3, "CT_14_MAU": 3,
        "CT_15_GT": 95.5, "CT_15_SL": 80,
        "GQ_LINH_VUC": ["Hộ tịch", "Chứng thực"],
        "GQ_TRUC_TUYEN": [60, 30], "GQ_TRUC_TIEP": [10, 15], "GQ_KY_TRUOC": [5, 0],
        "GQ_TRUOC_HAN": [20, 10], "GQ_DUNG_HAN": [40, 25], "GQ_QUA_HAN": [0, 5],
        "GQ_DANG_TRONG_HAN": [15, 5], "GQ_DANG_QUA_HAN": [0, 0],
        "NV_II_2_A_TT": "Đang thực hiện",
        "NV_II_3_A_TT": "Đang thực hiện",
        "NV_II_2_C_TT": "Đã hoàn thành", "NV_II_2_C_NGAY": date(2025, 3, 10), "NV_II_2_C_VB": "Số 12/BC-UBND",
        "NV_II_3_D_TT": "Chưa thực hiện",
        "KK_KHO_KHAN": "Đường truyền chậm\nThiếu máy quét",
        "KK_KIEN_NGHI": "Cấp thêm máy quét",
    }


@pytest.fixture
def good_values() -> dict[str, Any]:
    return good_values_phuoc_hoa()


@pytest.fixture
def filled_form(blank_form: Callable[[str], Path]) -> Callable[..., Path]:
    """Phước Hòa's form filled with `good_values` updated by the overrides (None clears a cell)."""

    def make(overrides: Mapping[str, Any] | None = None, unit_code: str = PHUOC_HOA) -> Path:
        values = good_values_phuoc_hoa()
        values.update(overrides or {})
        return fill(blank_form(unit_code), values)

    return make


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A workspace on the Ninh Thuận plan and registry, made as an officer would (`init_workspace`)."""
    root = tmp_path / "ws"
    init_workspace(root, plan=NT_PLAN, registry=NT_REGISTRY)
    ws, report = open_workspace(root)
    assert ws is not None, report.flatten("code", "file", "cell")
    return ws


def unit_of(registry: Registry, code: str) -> Unit:
    unit = registry.get(code)
    assert unit is not None, code
    return unit


def ws_form(ws: Workspace, unit_code: str, out_dir: Path, values: Mapping[str, Any] | None = None, *,
            name: str | None = None, period: Period = MARCH) -> Path:
    """A unit's form signed with the workspace's key, filled with `values` (default: none), optionally
    saved under another file name."""
    path = write_form(ws.plan, ws.registry, unit_code, out_dir, period=period, secret=ws.secret)
    if name is not None:
        path = path.rename(path.with_name(name))
    return fill(path, values) if values else path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the golden files under tests/golden/ from the current output; review the diff "
                          "and a rendered page before committing them")


# Store back ends (SQLite, a throwaway PostgreSQL), for the store, concurrency and backup tests.
from tests.store_backends import any_workspace, backend, pg_server, store_url_for  # noqa: E402, F401
