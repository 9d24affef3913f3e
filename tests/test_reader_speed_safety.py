"""The guard's shortcuts keep its verdicts: a part met before byte for byte takes its verdict from memory
(`safety._small_part`), and calamine reads a stored copy of the parts the guard inflated
(`Inspection.stored_copy`). A hostile part is refused however often its neighbours were seen, a renamed or
altered part is inflated and scanned again, and the stored copy holds the very same parts."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cchc_excel.workbook import safety as S
from cchc_excel.workbook.readback import _read_sheets


def _rezip(data: bytes, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None
           ) -> bytes:
    """The same workbook with parts changed (None drops a part) and `extra` parts added, deflated as Excel does."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = change(info.filename, src.read(info.filename))
            if body is not None:
                dst.writestr(info.filename, body)
        for name, body in (extra or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def _verdict(insp: S.Inspection) -> list[tuple[str, str]]:
    return [(p.code, p.message) for p in insp.problems]


@pytest.fixture
def form(blank_form: Callable[[str], Path]) -> bytes:
    return blank_form("STP").read_bytes()


def test_a_form_read_again_has_the_same_inspection(form: bytes) -> None:
    first = S.inspect(Path("f.xlsx"), form)
    for _ in range(3):   # the shared parts are remembered from the second sight on
        again = S.inspect(Path("f.xlsx"), form)
        assert (again.kind, _verdict(again), again.sheets, again.defined_names, again.inflated_bytes) == (
            first.kind, _verdict(first), first.sheets, first.defined_names, first.inflated_bytes)
        assert again.parts == first.parts and again.crcs == first.crcs


@pytest.mark.parametrize("part", ["xl/styles.xml", "xl/theme/theme1.xml", "xl/worksheets/sheet1.xml",
                                  "docProps/app.xml"])
def test_a_hostile_part_is_refused_after_its_neighbours_were_remembered(form: bytes, part: str) -> None:
    for _ in range(3):
        assert not S.inspect(Path("f.xlsx"), form).fatal
    hostile = _rezip(form, lambda name, body: body.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e "x">]>', 1)
                     if name == part else body)
    for _ in range(3):   # refused every time: a refused part is never remembered
        insp = S.inspect(Path("f.xlsx"), hostile)
        assert [p.code for p in insp.problems] == ["file-hostile-xml"], part
    assert not S.inspect(Path("f.xlsx"), form).fatal


def test_a_remembered_part_under_another_name_is_scanned_as_that_name(form: bytes) -> None:
    """The same bytes as a binary part and as an XML part: in XML any markup declaration is refused, elsewhere
    only DOCTYPE and ENTITY; the verdict follows the name, remembered or not."""
    body = b"binary <!ELEMENT x> data"
    as_binary = _rezip(form, lambda name, b: b, {"xl/media/blob.bin": body})
    as_xml = _rezip(form, lambda name, b: b, {"xl/media/blob.xml": body})
    for _ in range(3):
        assert not S.inspect(Path("f.xlsx"), as_binary).fatal
    for _ in range(2):
        assert [p.code for p in S.inspect(Path("f.xlsx"), as_xml).problems] == ["file-hostile-xml"]
    assert not S.inspect(Path("f.xlsx"), as_binary).fatal


def test_a_forged_crc_is_refused_even_when_the_bytes_were_remembered(form: bytes) -> None:
    for _ in range(3):
        S.inspect(Path("f.xlsx"), form)
    with zipfile.ZipFile(io.BytesIO(form)) as z:
        info = z.getinfo("xl/styles.xml")
    data = bytearray(form)
    crc = info.CRC.to_bytes(4, "little")
    forged = (info.CRC ^ 1).to_bytes(4, "little")
    # The CRC in the local header and in the central directory: both changed, the bytes left as they were.
    data[info.header_offset + 14:info.header_offset + 18] = forged
    at = bytes(data).rfind(crc)
    data[at:at + 4] = forged
    insp = S.inspect(Path("f.xlsx"), bytes(data))
    assert [p.code for p in insp.problems] == ["file-unreadable"]


def test_the_stored_copy_holds_the_same_parts_and_reads_the_same(form: bytes) -> None:
    insp = S.inspect(Path("f.xlsx"), form)
    copy = insp.stored_copy()
    assert copy is not None
    with zipfile.ZipFile(io.BytesIO(form)) as a, zipfile.ZipFile(io.BytesIO(copy)) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in b.infolist())
        assert b.testzip() is None
        for name in a.namelist():
            assert a.read(name) == b.read(name)
    assert _read_sheets(copy, S.Limits()) == _read_sheets(form, S.Limits())
    assert not S.inspect(Path("copy.xlsx"), copy).fatal


def test_no_stored_copy_without_every_part(form: bytes) -> None:
    assert S.Inspection("xls").stored_copy() is None
    insp = S.inspect(Path("f.xlsx"), form)
    insp.parts.pop("xl/styles.xml")
    assert insp.stored_copy() is None
