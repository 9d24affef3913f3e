"""Hostile and broken input: nothing crashes, nothing is lost, nobody sneaks a number in.

Every file here is built by the test itself (no binaries in the repository). Most cases import one bad
file in a batch with a good one (`batch`) and assert three things: the bad file's exact problem code,
that the good file after it was still accepted, and that the bad file's bytes are in the archive.
docs/limits.md lists the limits these tests exercise.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils.cell import range_boundaries
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from cchc_excel.archive.importing import import_files, store_for
from cchc_excel.archive.store import ImportOutcome, files
from cchc_excel.archive.workspace import Workspace, init_workspace, open_workspace
from cchc_excel.core import aggregate
from cchc_excel.core import layout as L
from cchc_excel.workbook import intake, readback
from cchc_excel.workbook.safety import Limits, inspect, run_isolated
from tests.conftest import MARCH, NT_PLAN, NT_REGISTRY, PHUOC_HOA, good_values_phuoc_hoa, ws_form

ON_TIME = datetime(2025, 3, 14, 9, 0)
TAN = "22789"                      # Xã Phước Tân, same tier as Phước Hòa
GOOD_NAME = "2025-03_22786_xa-phuoc-hoa.xlsx"
BAD_NAME = "2025-03_22789_xa-phuoc-tan.xlsx"
SHEET1 = "xl/worksheets/sheet1.xml"
SST = "xl/sharedStrings.xml"


# --- fixtures: one workspace key for the module, a fresh store per test ---------------------------------

@pytest.fixture(scope="module")
def base_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("hostile") / "ws"
    init_workspace(root, plan=NT_PLAN, registry=NT_REGISTRY)
    ws, report = open_workspace(root)
    assert ws is not None, report.flatten("code", "file")
    return ws


@pytest.fixture(scope="module")
def good_bytes(base_ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Phước Hòa's complete, clean March 2025 form, signed with the module workspace's key."""
    return ws_form(base_ws, PHUOC_HOA, tmp_path_factory.mktemp("good"), good_values_phuoc_hoa()).read_bytes()


@pytest.fixture(scope="module")
def tan_blank(base_ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return ws_form(base_ws, TAN, tmp_path_factory.mktemp("tan")).read_bytes()


@pytest.fixture
def ws(base_ws: Workspace, tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    for f in base_ws.root.iterdir():      # config, plan and registry: the CLI opens the folder itself
        if f.is_file() and not f.name.startswith("store"):
            shutil.copy2(f, root / f.name)
    return dataclasses.replace(base_ws, root=root, store_url=f"sqlite:///{root / 'store.sqlite'}")


def run(ws: Workspace, paths: list[Path], limits: Limits | None = None) -> list[ImportOutcome]:
    return [o for _, o in import_files(ws, paths, period=MARCH, received_at=ON_TIME, limits=limits)]


def archived(ws: Workspace, data: bytes) -> bytes:
    """The bytes the archive keeps for a file with this content (by its hash)."""
    sha = hashlib.sha256(data).hexdigest()
    with store_for(ws) as store, store.engine.connect() as conn:
        path = conn.execute(select(files.c.archived_path).where(files.c.sha256 == sha)).scalar_one()
        assert path.startswith(f"{sha[:2]}/{sha}")
        return store.file_bytes(path)


def batch(ws: Workspace, tmp_path: Path, good: bytes, bad: bytes, *, name: str = BAD_NAME,
          limits: Limits | None = None) -> ImportOutcome:
    """Import the bad file first, then the good one; the good one must still be accepted and the bad
    one's bytes archived. Returns the bad file's outcome."""
    folder = tmp_path / "nhan"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(bad)
    (folder / GOOD_NAME).write_bytes(good)
    bad_out, good_out = run(ws, [folder / name, folder / GOOD_NAME], limits)
    assert (good_out.status, good_out.errors, good_out.unit_code) == ("accepted", 0, PHUOC_HOA)
    assert bad_out.status == "rejected" or bad_out.errors == 0
    assert archived(ws, bad) == bad
    return bad_out


def codes(outcome: ImportOutcome) -> list[tuple[str, str]]:
    return [(p["code"], p["severity"]) for p in outcome.problems]


# --- building files ------------------------------------------------------------------------------------

def rezip(data: bytes, change: dict[str, bytes | Callable[[bytes], bytes] | None]) -> bytes:
    """A copy of a zip with parts replaced (bytes), edited (function), removed (None) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            edit = change.get(info.filename, body)
            if edit is None:
                continue
            dst.writestr(info.filename, edit(body) if callable(edit) else edit)
        for name, body in change.items():
            if name not in src.namelist() and body is not None:
                dst.writestr(name, body if isinstance(body, bytes) else body(NEW_PARTS[name]))
    return out.getvalue()


# Parts an edit may target that the file does not have yet (openpyxl writes inline strings, no sst).
NEW_PARTS = {SST: b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
                  b'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>hello</t></si></sst>'}


def after_prolog(insert: bytes) -> Callable[[bytes], bytes]:
    """Put `insert` between the XML declaration and the root element."""
    def edit(body: bytes) -> bytes:
        end = body.index(b"?>") + 2 if body.startswith(b"<?xml") else 0
        return body[:end] + insert + body[end:]
    return edit


def tiny_workbook(sheets: int = 1, cells: dict[str, Any] | None = None) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    for i in range(sheets):
        ws = wb.add_worksheet(f"S{i + 1}")
        for ref, value in (cells or {"A1": "hello", "A2": 5}).items():
            ws.write(ref, value)
    wb.close()
    return buf.getvalue()


def fake_encrypted_xlsx() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE2 container (not a zip) whose directory
    holds an "EncryptedPackage" stream. A minimal stand-in: the header and one directory entry."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    entry = bytearray(128)
    name = "EncryptedPackage".encode("utf-16-le") + b"\x00\x00"
    entry[:len(name)] = name
    struct.pack_into("<H", entry, 64, len(name))
    return bytes(header) + bytes(entry) * 4 + b"\x00" * 4096


def zip_with_zero_part(size: int, name: str = SHEET1) -> bytes:
    """A workbook-shaped zip whose `name` part is `size` zero bytes, deflated while streaming (a few
    hundred KB for 200 MB; nothing large is ever held in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b"<workbook/>")
        with z.open(name, "w", force_zip64=False) as fh:
            chunk = bytes(1024 * 1024)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
    return out.getvalue()


def forge_sizes(data: bytes, name: str, size: int, crc: int) -> bytes:
    """Lie in both the local header and the central directory: declared size `size` with a CRC that
    matches the first `size` bytes, so Python's zipfile reads a small, valid-looking part."""
    buf = bytearray(data)
    raw = name.encode()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        off = z.getinfo(name).header_offset
    struct.pack_into("<I", buf, off + 14, crc)
    struct.pack_into("<I", buf, off + 22, size)
    pos = 0
    while (pos := buf.find(b"PK\x01\x02", pos + 1)) >= 0:
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46:pos + 46 + n]) == raw:
            struct.pack_into("<I", buf, pos + 16, crc)
            struct.pack_into("<I", buf, pos + 24, size)
    return bytes(buf)


def fill_bytes(data: bytes, values: dict[str, Any], *, text: bool = False) -> bytes:
    """Type values at defined names (as `conftest.fill`); with text=True strings beginning with "="
    stay text (a clerk typing '=... in Excel), never a formula."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for name, value in values.items():
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        col, row, _, _ = range_boundaries(ref.replace("$", ""))
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            cell = wb[sheet].cell(row=row + i, column=col)
            cell.value = item
            if text and isinstance(item, str):
                cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# === Broken files =======================================================================================

def test_truncated_zip_is_one_unreadable_error(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    out = batch(ws, tmp_path, good_bytes, good_bytes[: len(good_bytes) // 2])
    assert codes(out) == [("file-unreadable", "error")]


def test_corrupted_part_is_one_unreadable_error(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as z:
        info = z.getinfo(SHEET1)
    bad = bytearray(good_bytes)
    start = info.header_offset + 30 + len(SHEET1) + 40
    bad[start:start + 32] = bytes(b ^ 0x5A for b in bad[start:start + 32])
    out = batch(ws, tmp_path, good_bytes, bytes(bad))
    assert codes(out) == [("file-unreadable", "error")]


def test_word_document_renamed_xlsx_is_not_a_workbook(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    from docx import Document

    buf = io.BytesIO()
    Document().save(buf)
    out = batch(ws, tmp_path, good_bytes, buf.getvalue())
    assert codes(out) == [("file-not-workbook", "error")]
    assert "tài liệu Word" in out.problems[0]["message"]


def test_pdf_renamed_xlsx_is_not_a_workbook(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    out = batch(ws, tmp_path, good_bytes, b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n")
    assert codes(out) == [("file-not-workbook", "error")]
    assert "PDF" in out.problems[0]["message"]


def test_empty_file_is_one_error(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    assert codes(batch(ws, tmp_path, good_bytes, b"")) == [("file-empty", "error")]


def test_password_protected_workbook_asks_to_remove_the_password(
        ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    assert codes(batch(ws, tmp_path, good_bytes, fake_encrypted_xlsx())) == [("file-encrypted", "error")]


def test_bogus_sheet_dimension_costs_nothing_and_loses_nothing(
        ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    """<dimension ref="A1:XFD1048576"/> is only a claim: parsers size by the cells present. The form is
    read as it is, every value intact."""
    edit = {f"xl/worksheets/sheet{i}.xml": (lambda b: L_DIM.sub(b'<dimension ref="A1:XFD1048576"/>', b))
            for i in range(1, 8)}
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as z:
        edit = {k: v for k, v in edit.items() if k in z.namelist()}
    bad = rezip(good_bytes, edit)
    sub = readback.read_workbook(Path(BAD_NAME), _ctx(ws), data=bad)
    assert sub.report.flatten("code") == [("filename-unit-mismatch",)]
    assert (sub.indicators["3"].numerator, sub.indicators["3"].denominator) == (90, 120)


L_DIM = __import__("re").compile(rb"<dimension ref=\"[^\"]*\"/>")


def _ctx(ws: Workspace) -> readback.ReadContext:
    return readback.ReadContext(ws.plan, ws.registry, ws.secret, MARCH)


def test_values_at_opposite_corners_of_the_sheet_are_refused_before_parsing(
        ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    """Two cells, A1 and XFD50000: calamine would allocate the whole rectangle (~20 GB) and abort
    the process. The scan sees the extent first."""
    far = lambda b: b.replace(b"</sheetData>", b'<row r="50000"><c r="XFD50000"><v>1</v></c></row></sheetData>')  # noqa: E731
    out = batch(ws, tmp_path, good_bytes, rezip(good_bytes, {SHEET1: far}))
    assert codes(out) == [("file-too-large", "error")]
    assert "50000 dòng x 16384 cột" in out.problems[0]["message"]


def test_bloated_styles_are_refused(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    xf = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    bloat = lambda b: b.replace(b"</cellXfs>", xf * 400_000 + b"</cellXfs>")  # noqa: E731
    out = batch(ws, tmp_path, good_bytes, rezip(good_bytes, {"xl/styles.xml": bloat}))
    assert codes(out) == [("file-too-large", "error")]
    assert "xl/styles.xml" in out.problems[0]["message"]


def test_workbook_that_is_not_our_form(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    out = batch(ws, tmp_path, good_bytes, tiny_workbook())
    assert codes(out) == [("not-our-form", "error")]


# === Malicious files ====================================================================================

def test_zip_bomb_declaring_its_size_is_stopped_by_the_directory(
        ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    bomb = zip_with_zero_part(200 * 1024 * 1024)
    assert len(bomb) < 400_000
    started = time.perf_counter()
    assert inspect(Path("bomb.xlsx"), bomb).problems[0].code == "file-too-large"
    assert time.perf_counter() - started < 0.05
    out = batch(ws, tmp_path, good_bytes, bomb)
    assert codes(out) == [("file-too-large", "error")]


def test_zip_bomb_with_forged_size_and_crc_is_stopped_while_inflating(
        ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    """The directory says 10 KB (and the CRC matches 10 KB of zeros): Python's zipfile believes it and
    reads 10 KB; calamine's zip reader would inflate all 64 MB. Our own inflater stops at 10 KB + 1 MB."""
    small = 10_000
    bomb = forge_sizes(zip_with_zero_part(64 * 1024 * 1024), SHEET1, small, zlib.crc32(bytes(small)))
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        assert z.read(SHEET1) == bytes(small)          # the stdlib is fooled
    out = batch(ws, tmp_path, good_bytes, bomb)
    assert codes(out) == [("file-too-large", "error")]
    assert "vượt kích thước khai báo" in out.problems[0]["message"]


LAUGHS = (b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')
XXE = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("part", [SHEET1, SST, "xl/workbook.xml", "[Content_Types].xml"])
@pytest.mark.parametrize("payload", [LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_declarations_in_any_part_are_refused(
        ws: Workspace, tmp_path: Path, good_bytes: bytes, part: str, payload: bytes) -> None:
    out = batch(ws, tmp_path, good_bytes, rezip(good_bytes, {part: after_prolog(payload)}))
    assert codes(out) == [("file-hostile-xml", "error")]
    assert part in out.problems[0]["message"]


@pytest.mark.parametrize("how", ["padding-comment", "padding-whitespace", "utf16-bom", "utf16-declared",
                                 "renamed-part", "inside-body"])
def test_entity_scan_cannot_be_bypassed(good_bytes: bytes, how: str) -> None:
    """The whole of every XML part is scanned, whatever pads the prolog; a part in another encoding is
    refused; a part that is XML by content is scanned whatever its name."""
    if how == "padding-comment":
        bad = rezip(good_bytes, {SST: after_prolog(b"<!--" + b"x" * 200_000 + b"-->" + XXE)})
    elif how == "padding-whitespace":
        bad = rezip(good_bytes, {SST: after_prolog(b" \n" * 300_000 + XXE)})
    elif how == "utf16-bom":
        bad = rezip(good_bytes, {SST: lambda b: b"\xff\xfe" + after_prolog(XXE)(b).decode().replace(
            "UTF-8", "UTF-16").encode("utf-16-le")})
    elif how == "utf16-declared":
        bad = rezip(good_bytes, {SST: lambda b: b.replace(b'encoding="UTF-8"', b'encoding="UTF-16"')})
    elif how == "renamed-part":
        bad = rezip(good_bytes, {"xl/worksheets/data.bin": b"  " + XXE + b"<worksheet/>"})
    else:
        bad = rezip(good_bytes, {SST: lambda b: b.replace(b"</sst>", XXE + b"</sst>")})
    found = inspect(Path("x.xlsx"), bad)
    assert [p.code for p in found.problems] == ["file-hostile-xml"]


def test_calamine_never_expands_or_resolves_entities(tmp_path: Path) -> None:
    """What the reader's parser does on its own (quick-xml): declarations are skipped, a reference to a
    declared entity is an error, never an expansion, and an external entity is never fetched."""
    secret = tmp_path / "secret.txt"
    secret.write_text("BI-MAT-KHONG-DUOC-LO")

    def sheet(dtd: bytes, text: bytes) -> Callable[[bytes], bytes]:
        return lambda b: after_prolog(dtd)(b).replace(
            b"</sheetData>", b'<row r="9"><c r="A9" t="inlineStr"><is><t>' + text + b"</t></is></c></row></sheetData>")

    base = tiny_workbook()
    internal = rezip(base, {SHEET1: sheet(b'<!DOCTYPE w [<!ENTITY e "MO-RONG">]>', b"x&e;y")})
    external = rezip(base, {SHEET1: sheet(b'<!DOCTYPE w [<!ENTITY e SYSTEM "' + secret.as_uri().encode()
                                          + b'">]>', b"x&e;y")})
    laughs = rezip(base, {SST: lambda b: after_prolog(LAUGHS)(b).replace(b"hello", b"&d;")})
    declared_only = rezip(base, {SHEET1: after_prolog(LAUGHS)})
    for data in (internal, external):
        with pytest.raises(Exception, match="unrecognized entity"):
            CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("S1").to_python()
    with pytest.raises(Exception):  # noqa: B017 - calamine's error type; the point is: no expansion
        CalamineWorkbook.from_filelike(io.BytesIO(laughs)).get_sheet_by_name("S1").to_python()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(declared_only)).get_sheet_by_name("S1").to_python()
    assert rows == [["hello"], [5.0]]
    # openpyxl (not used on received files) goes through defusedxml for sheets and shared strings.
    for data in (internal, external, laughs):
        with pytest.raises(ValueError) as info:
            openpyxl.load_workbook(io.BytesIO(data))
        assert type(info.value.__cause__).__name__ in ("EntitiesForbidden", "DTDForbidden")
    # Our gate refuses all four before either parser runs.
    for data in (internal, external, laughs, declared_only):
        assert [p.code for p in inspect(Path("x.xlsx"), data).problems] == ["file-hostile-xml"]


def test_absurd_shared_string_count_is_refused_before_calamine_aborts(tmp_path: Path) -> None:
    """sst count="2000000000" makes calamine reserve 48 GB and abort the whole process (a Rust
    allocation failure). Shown in a worker process; the scan refuses the 5 KB file beforehand."""
    bad = rezip(tiny_workbook(), {SST: lambda b: b.replace(b'count="1" uniqueCount="1"',
                                                           b'count="2000000000" uniqueCount="2000000000"')})
    status, _ = run_isolated(readback._read_sheets, (bad, Limits()), timeout_s=20, memory_bytes=512 * 1024 * 1024)
    assert status == "memory"
    assert [p.code for p in inspect(Path("x.xlsx"), bad).problems] == ["file-hostile-xml"]


def test_absurd_number_of_rows_is_refused(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    deep = lambda b: b.replace(b"</sheetData>", b'<row r="500000"><c r="A500000"><v>1</v></c></row></sheetData>')  # noqa: E731
    out = batch(ws, tmp_path, good_bytes, rezip(good_bytes, {SHEET1: deep}))
    assert codes(out) == [("file-too-large", "error")]
    assert "dòng 500000" in out.problems[0]["message"]


def test_absurd_number_of_sheets_is_refused(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    out = batch(ws, tmp_path, good_bytes, tiny_workbook(sheets=80))
    assert codes(out) == [("file-too-large", "error")]
    assert "80 trang tính" in out.problems[0]["message"]


def test_very_long_text_is_cut_with_a_warning(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    bad = fill_bytes(good_bytes, {"KK_KIEN_NGHI": "Đề nghị " * 20_000})
    out = batch(ws, tmp_path, good_bytes, bad, name="2025-03_22786_dai.xlsx")
    assert codes(out) == [("text-too-long", "warning")]
    with store_for(ws) as store:
        texts = store.texts_frame([MARCH.code])
    assert texts["text"].str.len().max() <= Limits().max_text_chars


def test_external_links_are_reported_not_followed(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    link = (b'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><externalBook/></externalLink>')
    bad = rezip(good_bytes, {"xl/externalLinks/externalLink1.xml": link})
    out = batch(ws, tmp_path, good_bytes, bad, name="2025-03_22786_lien-ket.xlsx")
    assert codes(out) == [("file-external-links", "warning")]


def test_macros_are_reported_never_run_and_archived(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Sub Auto_Open(): Shell \"calc\": End Sub" + bytes(600)
    bad = rezip(good_bytes, {"xl/vbaProject.bin": vba})
    out = batch(ws, tmp_path, good_bytes, bad, name="2025-03_22786_macro.xlsm")
    assert codes(out) == [("file-macros", "warning")]
    with zipfile.ZipFile(io.BytesIO(archived(ws, bad))) as z:
        assert z.read("xl/vbaProject.bin") == vba


def test_parse_past_the_deadline_is_killed_and_reported(
        ws: Workspace, tmp_path: Path, good_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(data: bytes, limits: Limits) -> dict[str, Any]:
        time.sleep(30)
        return {}

    monkeypatch.setattr(readback, "_read_sheets", slow)
    limits = Limits(isolate_over_bytes=0, parse_timeout_s=0.5)
    started = time.perf_counter()
    sub = readback.read_workbook(Path(BAD_NAME), readback.ReadContext(ws.plan, ws.registry, ws.secret, MARCH,
                                                                       limits), data=good_bytes)
    assert time.perf_counter() - started < 5
    assert sub.report.flatten("code") == [("file-too-slow",)]


def test_parse_past_the_memory_ceiling_is_reported(ws: Workspace, good_bytes: bytes,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def greedy(data: bytes, limits: Limits) -> dict[str, Any]:
        return {"x": [[bytearray(3 * 1024 * 1024 * 1024)]]}

    monkeypatch.setattr(readback, "_read_sheets", greedy)
    limits = Limits(isolate_over_bytes=0, parse_memory_bytes=256 * 1024 * 1024)
    sub = readback.read_workbook(Path(BAD_NAME), readback.ReadContext(ws.plan, ws.registry, ws.secret, MARCH,
                                                                       limits), data=good_bytes)
    assert sub.report.flatten("code") == [("file-too-large",)]


def test_large_file_is_read_in_the_worker_with_the_same_result(ws: Workspace, good_bytes: bytes) -> None:
    ctx = _ctx(ws)
    isolated = readback.ReadContext(ws.plan, ws.registry, ws.secret, MARCH, Limits(isolate_over_bytes=0))
    a = readback.read_workbook(Path(GOOD_NAME), ctx, data=good_bytes)
    b = readback.read_workbook(Path(GOOD_NAME), isolated, data=good_bytes)
    assert (a.report.codes(), a.indicators, a.cases) == (b.report.codes(), b.indicators, b.cases) == ([], b.indicators,
                                                                                                     b.cases)


# === Tampering ==========================================================================================

def _edit_meta(data: bytes, **changes: str) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for row in wb[L.SHEET_META].iter_rows(min_col=1, max_col=2):
        if row[0].value in changes:
            row[1].value = changes[row[0].value]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _unit_row(ws: Workspace, key: str) -> Any:
    with store_for(ws) as store:
        values = store.values_frame([MARCH.code])
    rows = aggregate.per_unit(ws.plan, ws.registry, values, MARCH)
    return rows[(rows["unit_code"] == PHUOC_HOA) & (rows["indicator"] == key)].iloc[0]


def test_lowered_target_in_unprotected_sheet_is_reported_and_plan_target_used(
        ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    (tmp_path / GOOD_NAME).write_bytes(fill_bytes(good_bytes, {"CT_2_TU": 22, "CT_2_CHITIEU": 20}))
    [out] = run(ws, [tmp_path / GOOD_NAME])
    assert (out.status, codes(out)) == ("accepted", [("locked-cell-changed", "warning")])
    row = _unit_row(ws, "2")
    assert (row["target"], row["value"], row["status"]) == (25, 22, aggregate.NOT_MET)


def test_result_cell_edited_to_dat_is_ignored(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    """Rate 22% against a target of 25: the clerk overwrites the formulas with 99 and "Đạt"."""
    wb = openpyxl.load_workbook(io.BytesIO(fill_bytes(good_bytes, {"CT_2_TU": 22})))
    sheet, ref = next(iter(wb.defined_names["CT_2_TU"].destinations))
    _, row, _, _ = range_boundaries(ref.replace("$", ""))
    wb[sheet].cell(row=row, column=L.IND_COL_RATE + 1).value = 99
    wb[sheet].cell(row=row, column=L.IND_COL_RESULT + 1).value = aggregate.MET
    wb.save(tmp_path / GOOD_NAME)
    [out] = run(ws, [tmp_path / GOOD_NAME])
    assert out.status == "accepted"
    row_ = _unit_row(ws, "2")
    assert (row_["value"], row_["status"]) == (22, aggregate.NOT_MET)


@pytest.mark.parametrize("field,value", [("META_UNIT", TAN), ("META_PERIOD", "2025-02")])
def test_unit_or_period_changed_in_meta_breaks_the_signature(
        ws: Workspace, tmp_path: Path, good_bytes: bytes, field: str, value: str) -> None:
    out = batch(ws, tmp_path, good_bytes, _edit_meta(good_bytes, **{field: value}))
    assert codes(out) == [("bad-signature", "error")]


def test_copy_of_another_units_figures_is_refused(
        ws: Workspace, tmp_path: Path, good_bytes: bytes, tan_blank: bytes) -> None:
    copied = fill_bytes(tan_blank, good_values_phuoc_hoa() | {"TT_NGUOI_LAP": "Trần Văn Tân"})
    (tmp_path / GOOD_NAME).write_bytes(good_bytes)
    (tmp_path / BAD_NAME).write_bytes(copied)
    hoa, tan = run(ws, [tmp_path / GOOD_NAME, tmp_path / BAD_NAME])
    assert (hoa.status, tan.status) == ("accepted", "rejected")
    assert [(p["code"], p["value"]) for p in tan.problems] == [("duplicate-of-other-unit", PHUOC_HOA)]
    assert archived(ws, copied) == copied


# === Injection ==========================================================================================

# Free text reaches the outputs as list items (leading "-", "+", "*" are taken as bullets and dropped),
# file names as they were received.
TEXTS = ["=HYPERLINK(\"http://x\",\"bam\")", "@cmd", "& < > {{ 7*7 }} {% if 1 %}x{% endif %}"]
ACCEPTED_NAME = "+SUM(1,2).xlsx"
REJECTED_NAME = "-cmd.xlsx"


@pytest.fixture
def injected(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> Workspace:
    """Phước Hòa's accepted report whose free texts are the payloads, and a rejected file whose bad
    value begins with "="; both file names begin with a formula character."""
    texts = {"KK_KHO_KHAN": "\n".join(TEXTS), "KK_KIEN_NGHI": TEXTS[0]}
    (tmp_path / ACCEPTED_NAME).write_bytes(fill_bytes(good_bytes, texts, text=True))
    (tmp_path / REJECTED_NAME).write_bytes(fill_bytes(good_bytes, {"CT_1_TU": "=1+1"}, text=True))
    outs = run(ws, [tmp_path / ACCEPTED_NAME, tmp_path / REJECTED_NAME])
    assert [o.status for o in outs] == ["accepted", "rejected"]
    assert ("not-a-number", "error") in codes(outs[1])
    return ws


def _xlsx_strings(path: Path) -> list[Any]:
    wb = openpyxl.load_workbook(path)
    cells = [c for sh in wb.worksheets for row in sh.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    return [c.value for c in cells if c.data_type == "s"]


def test_clerk_text_stays_text_in_the_excel_summary(injected: Workspace, tmp_path: Path) -> None:
    from cchc_excel.app.reporting import aggregate_period
    from cchc_excel.documents.summary import write_summary

    agg = aggregate_period(injected, MARCH)
    strings = _xlsx_strings(write_summary(agg, injected.plan, injected.registry, tmp_path / "tong-hop.xlsx"))
    from cchc_excel.core.aggregate import tidy_clerk_text

    # The report tidies clerk texts ("&" -> "và"), but never evaluates or drops what they hold.
    for payload in [*[tidy_clerk_text(t) for t in TEXTS], ACCEPTED_NAME]:
        assert payload in strings, payload


def test_clerk_text_stays_text_in_the_error_report(injected: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    from cchc_excel.documents.errorbook import write_error_report

    outs = run(injected, [tmp_path / REJECTED_NAME])      # re-import: the stored outcome
    strings = _xlsx_strings(write_error_report(outs, tmp_path / "loi.xlsx", injected.registry))
    assert REJECTED_NAME in strings and "=1+1" in strings


def test_clerk_text_is_literal_in_the_word_report(injected: Workspace, tmp_path: Path) -> None:
    from docx import Document

    from cchc_excel.app.reporting import write_reports

    files_ = write_reports(injected, MARCH, tmp_path / "bao-cao", pdf=False)
    doc = Document(str(files_.docx))
    text = "\n".join([p.text for p in doc.paragraphs] +
                     [c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert "Và < > {{ 7*7 }} {% if 1 %}x{% endif %}" in text, "template syntax typed by a clerk stays literal"


def test_clerk_text_cannot_start_a_formula_in_csv(injected: Workspace, tmp_path: Path) -> None:
    import csv

    from typer.testing import CliRunner

    from cchc_excel.app.cli import app

    result = CliRunner().invoke(app, ["aggregate", "--workspace", str(injected.root), "--period", "2025-03",
                                      "--csv", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    cells = [v for f in (tmp_path / "csv").glob("*.csv")
             for row in csv.reader(f.read_text(encoding="utf-8-sig").splitlines()) for v in row]
    assert [v for v in cells if v[:1] in ("=", "+", "@")] == []
    assert [v for v in cells if v[:1] == "-" and not _is_number(v)] == []
    for payload in [*TEXTS[:2], ACCEPTED_NAME]:
        assert "'" + payload in cells


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_unit_codes_and_names_cannot_escape_the_output_folder(tmp_path: Path) -> None:
    from cchc_excel.core.plan import parse_plan
    from cchc_excel.core.units import parse_registry
    from tests.conftest import SMALL_PLAN

    plan, _ = parse_plan(SMALL_PLAN, source="small")
    registry, report = parse_registry({
        "id": "doc", "province": "Thử nghiệm",
        "tiers": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "xa", "name": "Cấp xã"}],
        "units": [{"code": "../../x", "name": "..\\..\\evil", "tier": "tinh"},
                  {"code": "CON", "name": "NUL", "tier": "xa"},
                  {"code": "COM1", "name": "/etc/passwd", "tier": "xa"}]}, source="doc")
    assert plan is not None
    if registry is None:          # refusing such codes outright is as good
        assert not report.ok
        return
    out = tmp_path / "out"
    made = [g.path for g in intake.generate(plan, registry, MARCH, registry.units, out, secret="k")]
    reserved = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
    assert len(made) == 3
    for path in made:
        assert path.resolve().parent == out.resolve()
        assert "/" not in path.name and "\\" not in path.name and ".." not in path.stem
        assert path.stem.split(".")[0].upper() not in reserved
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in made)


def test_received_file_name_never_becomes_an_archive_path(ws: Workspace, tmp_path: Path, good_bytes: bytes) -> None:
    name = "..\\..\\CON.xlsx"
    (tmp_path / name).write_bytes(good_bytes)
    [out] = run(ws, [tmp_path / name])
    assert out.file_name == name
    sha = hashlib.sha256(good_bytes).hexdigest()
    with store_for(ws) as store, store.engine.connect() as conn:
        assert conn.execute(select(files.c.archived_path)).scalars().all() == [f"{sha[:2]}/{sha}.xlsx"]
    assert sorted(p.relative_to(ws.archive_dir).as_posix() for p in ws.archive_dir.rglob("*") if p.is_file()) == [
        f"{sha[:2]}/{sha}.xlsx"]


# === Nothing lost =======================================================================================

def test_same_folder_imported_twice_in_another_order_counts_each_file_once(
        ws: Workspace, tmp_path: Path, good_bytes: bytes, tan_blank: bytes) -> None:
    folder = tmp_path / "nhan"
    folder.mkdir()
    tan_values = good_values_phuoc_hoa() | {"CT_1_TU": 41, "TT_NGUOI_LAP": "Trần Văn Tân"}
    (folder / GOOD_NAME).write_bytes(good_bytes)
    (folder / BAD_NAME).write_bytes(fill_bytes(tan_blank, tan_values))
    (folder / "hong.xlsx").write_bytes(good_bytes[:1000])
    first = run(ws, [folder])
    second = run(ws, sorted(folder.iterdir(), reverse=True))
    assert sorted((o.file_name, o.status, o.duplicate) for o in first) == [
        (GOOD_NAME, "accepted", False), (BAD_NAME, "accepted", False), ("hong.xlsx", "rejected", False)]
    assert sorted((o.file_name, o.status, o.duplicate) for o in second) == [
        (GOOD_NAME, "accepted", True), (BAD_NAME, "accepted", True), ("hong.xlsx", "rejected", True)]
    with store_for(ws) as store:
        subs = store.submissions_frame()
        values = store.values_frame([MARCH.code])
    assert len(subs) == 3
    assert sorted(subs[subs["is_current"]]["unit_code"]) == [PHUOC_HOA, TAN]
    assert values.groupby("unit_code")["indicator"].count().to_dict() == {PHUOC_HOA: 11, TAN: 11}
    agg_first = aggregate.per_unit(ws.plan, ws.registry, values, MARCH)
    mine = agg_first[(agg_first["indicator"] == "1") & agg_first["unit_code"].isin([PHUOC_HOA, TAN])]
    assert sorted(mine["value"]) == [80.0, 82.0]

