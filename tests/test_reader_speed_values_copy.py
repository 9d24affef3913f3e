"""calamine is handed only what holds values (`Inspection.values_copy`), the guide sheet is not parsed unless
a defined name points into it, and the defined names of one workbook part are resolved once: the reader
reads the same values, and the same Submission, as from the whole file."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from cchc_excel.core import layout as L
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry
from cchc_excel.workbook import readback as R
from cchc_excel.workbook import safety as S


def _rezip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


@pytest.fixture
def form(filled_form: Callable[..., Path]) -> bytes:
    return filled_form().read_bytes()


def test_the_values_copy_reads_the_same_values_as_the_file(form: bytes) -> None:
    insp = S.inspect(Path("f.xlsx"), form)
    copy = insp.values_copy()
    assert copy is not None
    with zipfile.ZipFile(io.BytesIO(form)) as a, zipfile.ZipFile(io.BytesIO(copy)) as b:
        assert b.testzip() is None   # every CRC right
        kept = [n for n in a.namelist() if not n.startswith(("docProps/", "xl/theme/"))]
        assert b.namelist() == kept
        assert b"definedName" not in b.read("xl/workbook.xml")
        for name in kept:
            if name != "xl/workbook.xml":
                assert a.read(name) == b.read(name)
    assert R._read_sheets(copy, S.Limits()) == R._read_sheets(form, S.Limits())


@pytest.mark.parametrize("markup", [b"<!-- <definedNames> -->", b"<?pi x?>", b"<![CDATA[x]]>"])
def test_a_workbook_part_with_other_markup_keeps_its_names(markup: bytes) -> None:
    xml = (b'<?xml version="1.0"?><workbook><sheets/>' + b"<definedNames><definedName name=\"A\">'s'!$A$1"
           b"</definedName></definedNames>" + markup + b"</workbook>")
    assert S._without_names(xml, zlib.crc32(xml)) == (xml, zlib.crc32(xml))


def test_a_plain_workbook_part_loses_its_names_alone() -> None:
    xml = (b'<?xml version="1.0"?><workbook><sheets><sheet name="s"/></sheets><definedNames><definedName '
           b"name=\"A\">'s'!$A$1</definedName></definedNames><calcPr/></workbook>")
    cut, crc = S._without_names(xml, zlib.crc32(xml))
    assert cut == b'<?xml version="1.0"?><workbook><sheets><sheet name="s"/></sheets><calcPr/></workbook>'
    assert crc == zlib.crc32(cut)
    twice = xml.replace(b"<calcPr/>", b"<definedNames></definedNames>")
    assert S._without_names(twice, 1) == (twice, 1)


def test_the_guide_sheet_is_not_parsed_and_nothing_else_changes(form: bytes, nt_ctx: R.ReadContext) -> None:
    raw = R.read_raw(Path("f.xlsx"), form, S.Limits())
    whole = R._read_sheets(form, S.Limits())
    assert raw.sheets[L.SHEET_GUIDE] == [] and whole[L.SHEET_GUIDE]
    assert {k: v for k, v in raw.sheets.items() if k != L.SHEET_GUIDE} == {
        k: v for k, v in whole.items() if k != L.SHEET_GUIDE}
    assert list(raw.sheets) == list(whole)   # every sheet still counted (Limits.max_sheets)
    sub = R.read_workbook(Path("f.xlsx"), nt_ctx, data=form)
    assert sub.accepted and sub.report.problems == []


def test_the_guide_sheet_is_read_when_a_name_points_into_it(form: bytes) -> None:
    name = b"<definedName name=\"GUIDE_TITLE\">'" + L.SHEET_GUIDE.encode() + b"'!$A$1</definedName>"
    named = _rezip(form, lambda part, body: body.replace(b"<definedNames>", b"<definedNames>" + name, 1)
                   if part == "xl/workbook.xml" else body)
    raw = R.read_raw(Path("f.xlsx"), named, S.Limits())
    assert raw.sheets[L.SHEET_GUIDE] == R._read_sheets(form, S.Limits())[L.SHEET_GUIDE] != []
    assert raw.names.get("GUIDE_TITLE") == (L.SHEET_GUIDE, 0, 0, 0, 0)


def test_no_layout_cell_lies_on_the_guide_sheet(nt_plan: Plan, nt_registry: Registry, march: Period) -> None:
    for unit in nt_registry.units:
        lay = L.build_layout(nt_plan, unit, nt_registry.tier(unit.tier), march)
        assert all(s.sheet != L.SHEET_GUIDE for s in lay.slots)
        assert all(f.sheet != L.SHEET_GUIDE for f in lay.fixed)


def test_the_names_of_one_workbook_part_are_resolved_once_and_read_only(form: bytes) -> None:
    first = R.read_raw(Path("a.xlsx"), form, S.Limits())
    again = R.read_raw(Path("b.xlsx"), form, S.Limits())
    assert first.names is again.names
    with pytest.raises(TypeError):
        first.names["X"] = ("s", 0, 0, 0, 0)  # type: ignore[index]
    insp = S.inspect(Path("a.xlsx"), form)
    assert dict(first.names) == {k: S.parse_ref(v) for k, v in insp.defined_names.items() if S.parse_ref(v)}


def test_a_part_listed_as_a_remembered_one_but_with_other_bytes_is_inflated_and_checked(form: bytes) -> None:
    """The guard looks a remembered part up by its directory entry (name, method, sizes, CRC) and then compares
    the bytes: a part whose entry is the same but whose compressed bytes were altered is not taken from memory."""
    for _ in range(3):
        assert not S.inspect(Path("f.xlsx"), form).fatal
    with zipfile.ZipFile(io.BytesIO(form)) as z:
        info = z.getinfo("xl/styles.xml")
    data = bytearray(form)
    n_name, n_extra = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    middle = info.header_offset + 30 + n_name + n_extra + info.compress_size // 2
    data[middle] ^= 0xFF   # the directory and the local header left as they were
    insp = S.inspect(Path("f.xlsx"), bytes(data))
    assert [p.code for p in insp.problems] == ["file-unreadable"]
    assert not S.inspect(Path("f.xlsx"), form).fatal   # the remembered part is still right


def test_a_sheet_kept_where_the_values_copy_leaves_parts_out_is_still_read(form: bytes) -> None:
    """An odd file whose sheet lives under docProps/: the trimmed copy cannot read it, the whole one can."""
    moved = _rezip(form, lambda part, body: re.sub(rb'Target="[^"]*worksheets/sheet2.xml"', b'Target="/docProps/sheet2.xml"',
                                                   body) if part == "xl/_rels/workbook.xml.rels" else body)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(moved)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            name = "docProps/sheet2.xml" if info.filename == "xl/worksheets/sheet2.xml" else info.filename
            dst.writestr(name, src.read(info.filename))
    odd = out.getvalue()
    with pytest.raises(Exception):   # noqa: B017 (calamine's own error types)
        R._read_sheets(S.inspect(Path("f.xlsx"), odd).values_copy() or b"", S.Limits())
    raw = R.read_raw(Path("f.xlsx"), odd, S.Limits())
    assert not raw.inspection.problems
    whole = R._read_sheets(form, S.Limits())
    assert {k: v for k, v in raw.sheets.items() if k != L.SHEET_GUIDE} == {
        k: v for k, v in whole.items() if k != L.SHEET_GUIDE}


def test_one_workbook_part_is_one_shared_entry(form: bytes) -> None:
    """The sheets, the names, their resolution, the guide sheet's question and the part cut of its names all
    hang on one `WorkbookPart` per workbook part, shared by the files carrying it."""
    first, again = S.inspect(Path("a.xlsx"), form), S.inspect(Path("b.xlsx"), form)
    part = first.workbook
    assert part is not None and again.workbook is part
    assert S._WORKBOOKS_SEEN[first.parts["xl/workbook.xml"]] is part
    assert list(part.sheets) == first.sheets and dict(part.names) == first.defined_names
    first.defined_names["X"] = "'s'!$A$1"   # the inspection's copy, not the shared part
    assert "X" not in part.names
    assert R.read_raw(Path("a.xlsx"), form, S.Limits()).names is part.resolved_names
    assert not part.names_point_into(L.SHEET_GUIDE) and part.names_point_into(S.parse_ref(next(iter(part.names.values())))[0])
    assert first.values_copy() == again.values_copy()
    assert part.without_names(first.crcs["xl/workbook.xml"]) is part.without_names(0)   # cut once


def test_a_file_without_a_trimmed_copy_is_parsed_once_when_it_fails(form: bytes, monkeypatch: pytest.MonkeyPatch
                                                                     ) -> None:
    """No values copy (a part not held inflated): calamine reads the file itself, and when that fails it is not
    read again (the stored copy would be missing too); with a values copy the stored one is still tried."""
    calls: list[bytes] = []

    def failing(data: bytes, limits: S.Limits, skip: object = ()) -> dict[str, list[list[object]]]:
        calls.append(data)
        raise ValueError("broken")

    monkeypatch.setattr(R, "_read_sheets", failing)
    monkeypatch.setattr(S.Inspection, "values_copy", lambda self: None)
    monkeypatch.setattr(S.Inspection, "stored_copy", lambda self: None)
    raw = R.read_raw(Path("f.xlsx"), form, S.Limits())
    assert calls == [form]
    assert [p.code for p in raw.inspection.problems] == ["file-unreadable"]
    assert "ValueError: broken" in raw.inspection.problems[0].message
    monkeypatch.undo()
    monkeypatch.setattr(R, "_read_sheets", failing)
    calls.clear()
    raw = R.read_raw(Path("f.xlsx"), form, S.Limits())
    insp = S.inspect(Path("f.xlsx"), form)
    assert calls == [insp.values_copy(), insp.stored_copy()]
    assert [p.code for p in raw.inspection.problems] == ["file-unreadable"]
