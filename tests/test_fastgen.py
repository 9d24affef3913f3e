"""Shape-template generation (`fastgen`) writes the same workbooks as the reference writer."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest

from cchc_excel.core import layout as L
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry, Unit, parse_registry
from cchc_excel.workbook import fastgen, intake
from cchc_excel.workbook.readback import ReadContext, read_workbook
from tests.conftest import MARCH, PHUOC_HOA, SECRET, fill
from tests.lo import HAVE_POPPLER, needs_libreoffice, pdf_text, to_pdf

GENERATED = datetime(2025, 3, 1, 7, 30, tzinfo=timezone.utc)
ODD_CODE = "BQL-KCN"
ODD_NAME = 'Ban Quản lý các khu công nghiệp & "KCN" <Phước Nam>'
# A Sở, the Sở with its own extra indicators, a Bác Ái commune with an adjusted target, a commune,
# a district, and a unit whose name needs XML escaping.
CODES = ("STP", "STTTT", PHUOC_HOA, "22789", "584", ODD_CODE)


@pytest.fixture(scope="module")
def registry(nt_registry: Registry) -> Registry:
    """The Ninh Thuận registry plus one unit with '&', '"' and '<' in its name."""
    units: list[dict[str, Any]] = [
        {"code": u.code, "name": u.name, "tier": u.tier, "parent": u.parent, "flags": sorted(u.flags)}
        for u in nt_registry.units]
    units.append({"code": ODD_CODE, "name": ODD_NAME, "tier": "tinh"})
    data = {"id": nt_registry.id, "province": nt_registry.province, "units": units,
            "tiers": [{"code": t.code, "name": t.name, "parent": t.parent, "group_label": t.group_label}
                      for t in nt_registry.tiers]}
    reg, report = parse_registry(data, source="test")
    assert reg is not None, report.flatten("code", "cell")
    return reg


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, nt_plan: Plan, registry: Registry
          ) -> dict[str, tuple[Path, Path]]:
    """unit code -> (fast file, reference file), both with the same generation time."""
    out = tmp_path_factory.mktemp("fastgen")
    units = [registry.get(c) for c in CODES]
    assert all(units)
    fast = {g.unit.code: g.path for g in fastgen.generate_fast(
        nt_plan, registry, MARCH, units, out / "fast", secret=SECRET, generated=GENERATED)}
    ref = {}
    for unit in units:
        assert unit is not None
        lay = L.build_layout(nt_plan, unit, registry.tier(unit.tier), MARCH)
        ref[unit.code] = intake.write_workbook(lay, nt_plan, out / "ref" / intake.workbook_filename(MARCH, unit),
                                               secret=SECRET, generated=GENERATED)
    return {c: (fast[c], ref[c]) for c in CODES}


def _layout(plan: Plan, registry: Registry, code: str) -> L.Layout:
    unit = registry.get(code)
    assert unit is not None
    return L.build_layout(plan, unit, registry.tier(unit.tier), MARCH)


def _values(lay: L.Layout) -> dict[str, Any]:
    """A complete, consistent report for any layout: one case row (received 100, resolved 80)."""
    totals = {"received": 100, "resolved": 80, "pending": 20}
    out: dict[str, Any] = {"TT_NGUOI_LAP": "Trần Văn An", "TT_DIEN_THOAI": "0259 3822 111",
                           "TT_NGAY_LAP": date(2025, 3, 14),
                           "GQ_LINH_VUC": ["Hộ tịch"], "GQ_TRUC_TUYEN": [60], "GQ_TRUC_TIEP": [30],
                           "GQ_KY_TRUOC": [10], "GQ_TRUOC_HAN": [20], "GQ_DUNG_HAN": [60], "GQ_QUA_HAN": [0],
                           "GQ_DANG_TRONG_HAN": [20], "GQ_DANG_QUA_HAN": [0],
                           "KK_KHO_KHAN": "Thiếu máy quét", "KK_KIEN_NGHI": "Cấp thêm máy quét"}
    for block in lay.indicators:
        ind = block.item.indicator
        for slot in block.slots:
            if slot.role == "denominator":
                out[slot.name] = totals.get(ind.denominator_equals or "", 50)
            elif slot.role == "numerator":
                out[slot.name] = 40
            elif slot.kind == "percent":
                out[slot.name] = 95.5
            elif slot.role == "weight":
                out[slot.name] = 12
            elif slot.kind == "yesno":
                out[slot.name] = "Có"
            elif slot.kind == "status":
                out[slot.name] = "Đang thực hiện"
    for trow in lay.tasks:
        out[trow.status.name] = "Đang thực hiện"
    return out


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def _names(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path)
    return {name: dn.attr_text for name, dn in wb.defined_names.items()}


@pytest.mark.parametrize("code", CODES)
def test_fast_file_has_the_reference_cells_names_and_title(files: dict[str, tuple[Path, Path]], code: str) -> None:
    fast, ref = files[code]
    assert fast.name == ref.name
    assert _cells(fast) == _cells(ref)
    assert _names(fast) == _names(ref)
    assert openpyxl.load_workbook(fast).properties.title == openpyxl.load_workbook(ref).properties.title


# The only volatile content: when the file was made (docProps/core.xml). The reference writer stamps the
# time it runs; the fast path patches in its own `generated` time. Everything else must be equal.
VOLATILE = {("docProps/core.xml", "{http://purl.org/dc/terms/}created"),
            ("docProps/core.xml", "{http://purl.org/dc/terms/}modified")}


def _elements(part: str, data: bytes) -> list[tuple[Any, ...]]:
    """A zip part as its list of XML elements (tag, attributes, text, tail), volatile texts blanked."""
    root = ElementTree.fromstring(data)
    return [(e.tag, sorted(e.attrib.items()), None if (part, e.tag) in VOLATILE else (e.text or "").strip(),
             (e.tail or "").strip()) for e in root.iter()]


def _parts(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        return {n: _elements(n, zf.read(n)) if n.endswith((".xml", ".rels")) else zf.read(n)
                for n in zf.namelist()}


@pytest.mark.parametrize("code", CODES)
def test_fast_and_reference_files_are_equal_part_by_part(files: dict[str, tuple[Path, Path]], code: str) -> None:
    fast, ref = (_parts(p) for p in files[code])
    assert list(fast) == list(ref), "the same parts in the same order"
    for name in ref:
        assert fast[name] == ref[name], f"part {name} differs"


def test_escaped_name_reads_back_exactly(files: dict[str, tuple[Path, Path]]) -> None:
    fast, _ = files[ODD_CODE]
    wb = openpyxl.load_workbook(fast)
    assert wb[L.SHEET_INFO]["C3"].value == ODD_NAME
    assert wb[L.SHEET_CASES]["A3"].value == f"- Đơn vị báo cáo: {ODD_NAME}"
    assert wb.properties.title.endswith(ODD_NAME)


@pytest.mark.parametrize("code", CODES)
def test_filled_fast_and_reference_files_import_alike_and_clean(
        tmp_path: Path, files: dict[str, tuple[Path, Path]], nt_plan: Plan, registry: Registry, code: str) -> None:
    fast, ref = files[code]
    values = _values(_layout(nt_plan, registry, code))
    ctx = ReadContext(nt_plan, registry, SECRET, MARCH)
    subs = []
    for kind, src in (("fast", fast), ("ref", ref)):
        (tmp_path / kind).mkdir()
        subs.append(read_workbook(fill(src, values, tmp_path / kind / src.name), ctx))
    a, b = subs
    assert a.report.to_list() == [], a.report.to_list()
    assert b.report.to_list() == []
    assert (a.unit_code, a.period_code, a.generated) == (code, "2025-03", "2025-03-01T07:30:00Z")
    assert a.indicators == b.indicators and a.cases == b.cases and a.tasks == b.tasks and a.info == b.info


def test_each_unit_is_signed_for_itself(files: dict[str, tuple[Path, Path]], nt_plan: Plan,
                                        registry: Registry) -> None:
    signatures = set()
    for code, (fast, _) in files.items():
        meta = openpyxl.load_workbook(fast)[L.SHEET_META]
        got = {meta.cell(row=r + 1, column=1).value: meta.cell(row=r + 1, column=2).value
               for r in range(len(L.META_KEYS))}
        lay = _layout(nt_plan, registry, code)
        assert got["META_UNIT"] == code
        assert L.verify(SECRET, lay.signed_fields, got["META_GENERATED"], got["META_SIGNATURE"])
        signatures.add(got["META_SIGNATURE"])
    assert len(signatures) == len(files)


def test_units_of_one_shape_share_a_template(nt_plan: Plan, registry: Registry) -> None:
    communes = [u for u in registry.in_tier("xa") if not u.flags][:3]
    keys = {fastgen.shape_key(L.build_layout(nt_plan, u, registry.tier("xa"), MARCH)) for u in communes}
    assert len(keys) == 1
    keys.add(fastgen.shape_key(_layout(nt_plan, registry, PHUOC_HOA)))  # adjusted target: another shape
    keys.add(fastgen.shape_key(_layout(nt_plan, registry, "STTTT")))    # extra indicators: another shape
    assert len(keys) == 3


def test_unpatchable_name_falls_back_to_the_reference_writer(tmp_path: Path, nt_plan: Plan,
                                                            registry: Registry) -> None:
    stp = registry.get("STP")
    assert stp is not None
    odd = Unit(code="STP", name="Sở Tư pháp _x0041_\x01", tier="tinh")
    assert fastgen.patchable(stp) and not fastgen.patchable(odd)
    [g] = fastgen.generate_fast(nt_plan, registry, MARCH, [odd], tmp_path, secret=SECRET, generated=GENERATED)
    ref = intake.write_workbook(_layout(nt_plan, registry, "STP").__class__(
        **{**_layout(nt_plan, registry, "STP").__dict__, "unit": odd}), nt_plan, tmp_path / "ref.xlsx",
        secret=SECRET, generated=GENERATED)
    assert _cells(g.path) == _cells(ref)


def test_process_pool_writes_the_same_files_in_order(tmp_path: Path, nt_plan: Plan, registry: Registry,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    units = list(registry.units)[:40]
    monkeypatch.setattr(fastgen, "POOL_MIN_UNITS", 0)
    one = list(fastgen.generate_fast(nt_plan, registry, MARCH, units, tmp_path / "one", secret=SECRET,
                                     generated=GENERATED))
    two = list(fastgen.generate_fast(nt_plan, registry, MARCH, units, tmp_path / "two", secret=SECRET,
                                     generated=GENERATED, workers=2, chunk=8))
    assert [g.unit.code for g in two] == [u.code for u in units]
    for a, b in zip(one, two, strict=True):
        with zipfile.ZipFile(a.path) as za, zipfile.ZipFile(b.path) as zb:
            assert all(za.read(n) == zb.read(n) for n in za.namelist() if n != "docProps/core.xml")


def test_intake_generate_uses_the_fast_path(tmp_path: Path, nt_plan: Plan, registry: Registry) -> None:
    units = [registry.get(c) for c in ("STP", PHUOC_HOA)]
    written = list(intake.generate(nt_plan, registry, MARCH, units, tmp_path, secret=SECRET))
    assert [g.path.name for g in written] == [intake.workbook_filename(MARCH, u) for u in units if u]
    assert _cells(written[1].path)[L.SHEET_INFO][2][2] == "Xã Phước Hòa"


@needs_libreoffice
def test_fast_file_opens_in_libreoffice(tmp_path: Path, files: dict[str, tuple[Path, Path]]) -> None:
    fast, _ = files[ODD_CODE]
    pdf = to_pdf(fast, tmp_path)
    assert pdf.stat().st_size > 1000
    if HAVE_POPPLER:
        assert "Phước Nam" in pdf_text(pdf)


def test_fast_file_prints_like_the_reference_on_a4(files: dict[str, tuple[Path, Path]]) -> None:
    from tests.test_intake import print_setup

    for fast, ref in files.values():
        setup = print_setup(openpyxl.load_workbook(fast))
        assert setup == print_setup(openpyxl.load_workbook(ref))
        assert set(setup.values()) == {(9, True, 1, 0, True)}
