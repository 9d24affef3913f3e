"""Edge: look at a received file before any parser touches it, and bound the parser when it runs.

Files arrive by e-mail and USB from hundreds of offices. Before calamine opens one, `inspect` checks
what it is from its bytes and the sizes its zip directory declares (a zip bomb is stopped in
microseconds, docs/measurements.md); then it inflates every part itself, once, in bounded chunks, so a
forged declared size or CRC cannot make a parser inflate more than we allowed. While inflating it scans
every XML part in full (not just its head, so no padding hides anything): markup declarations
(`<!DOCTYPE`, `<!ENTITY`, ...) anywhere, encodings other than UTF-8, `count` attributes that would make a
parser pre-allocate more than the file could hold, and the rectangle of cells a worksheet spans (calamine
allocates it densely: one value at XFD1048576 asks for 512 GB and aborts the process). Macros and
external links are reported, never run or followed. Our own XML parsing goes through defusedxml.
A part identical byte for byte to one already inflated and scanned (forms of one shape share most of
theirs) takes that part's verdict. When every part is held inflated here, the reader hands calamine them
stored (`Inspection.stored_copy`): it reads exactly the bytes that were checked, without inflating them again
(`Inspection.values_copy`: only what it reads values from).

`run_isolated` runs a parse in a forked worker process with a deadline and an address-space limit; the
reader uses it for large files and for formats whose insides we cannot scan (.xls, .ods). Every limit is in
`Limits`; docs/limits.md says what happens past each one.
"""

from __future__ import annotations

import faulthandler
import functools
import io
import multiprocessing
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from defusedxml import ElementTree as SafeET

from ..core.problems import Problem, problem, wording

try:
    import resource
except ImportError:  # Windows: no address-space limit for the worker; the deadline still applies
    resource = None  # type: ignore[assignment]

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # OLE2: .xls, or an encrypted (password) .xlsx
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-file limits; configurable, documented in docs/limits.md."""

    max_file_bytes: int = 20 * MB             # the received file itself
    max_inflated_bytes: int = 100 * MB        # all parts, inflated (declared and actual)
    max_part_bytes: int = 50 * MB             # one part, inflated
    max_ratio: float = 200.0                  # inflated / compressed, per part of more than 1 MB
    max_parts: int = 2000
    max_sheets: int = 60
    max_sheet_rows: int = 100_000             # highest row holding a value, per sheet
    max_sheet_cells: int = 2_000_000          # rows x columns of the rectangle a sheet's values span
    max_rows_read: int = 5000                 # rows read per sheet (our forms have < 200)
    max_text_chars: int = 4000                # a free-text answer longer than this is cut (with a warning)
    parse_timeout_s: float = 30.0             # wall time of the parsing worker
    parse_memory_bytes: int = 2048 * MB       # address space the parsing worker may add to its parent's
    isolate_over_bytes: int = 4 * MB          # inflated size from which parsing runs in the worker


@dataclass
class Inspection:
    kind: str                          # xlsx | xlsm | xls | ods | encrypted | unknown
    problems: list[Problem] = field(default_factory=list)
    has_macros: bool = False
    external_links: bool = False
    sheets: list[str] = field(default_factory=list)           # in workbook order
    defined_names: dict[str, str] = field(default_factory=dict)  # name -> reference text
    inflated_bytes: int = 0            # actual inflated size of all parts (zip files)
    # The parts of at most 1 MB, as inflated and scanned here (zip files): the reader takes styles, sheets
    # and the workbook part from here instead of inflating them again.
    parts: dict[str, bytes] = field(default_factory=dict, repr=False)
    crcs: dict[str, int] = field(default_factory=dict, repr=False)   # each part's CRC-32, in the file's order
    # What the workbook part says, shared by every file carrying the part byte for byte (`WorkbookPart`).
    workbook: WorkbookPart | None = field(default=None, repr=False, compare=False)

    @property
    def fatal(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def stored_copy(self) -> bytes | None:
        """The same parts, in the same order, as a zip that stores them uncompressed; None unless every part
        is held in `parts`. A parser handed this copy reads exactly the bytes checked here without inflating
        them a second time (measured: calamine's own inflating was an eighth of the reader's instructions)."""
        if not self.crcs or len(self.parts) != len(self.crcs):
            return None
        return _stored_zip([(name, self.parts[name], crc) for name, crc in self.crcs.items()])

    def values_copy(self) -> bytes | None:
        """`stored_copy` trimmed to what a reader of cell values reads (calamine): without the parts it never
        opens (document properties, theme) and with the workbook part without its defined names (read here,
        `defined_names`; calamine parses all ~200 of a form when it opens it and the reader never asks it
        for one). Every byte handed over was checked here. None unless every part is held in `parts`.
        (Cutting each worksheet after its cells, to spare calamine its second pass over the XML for merged
        cells, was measured too: the CRC of the cut parts cost as much as it saved.)"""
        if not self.crcs or len(self.parts) != len(self.crcs):
            return None
        entries = []
        for name, crc in self.crcs.items():
            if name.startswith(_NOT_READ_FOR_VALUES):
                continue
            body = self.parts[name]
            if name == "xl/workbook.xml":
                body, crc = self.workbook.without_names(crc) if self.workbook else _without_names(body, crc)
            entries.append((name, body, crc))
        return _stored_zip(entries)


class _Refused(Exception):
    """A part breaks a rule: (problem code, Vietnamese detail)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


# ------------------------------------------------------------------------------------------------
# Inflating a part ourselves: bounded, and checked against what the directory declares.

_IN_CHUNK = 64 * 1024
_OUT_CHUNK = 1 * MB


def _compressed(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The part's compressed bytes, from its local header; refused when the header or the bytes are missing."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise _Refused("file-encrypted", name)
    off = info.header_offset
    if data[off:off + 4] != ZIP_MAGIC:
        raise _Refused("file-unreadable", wording("zip-part-broken", part=name))
    n_name, n_extra = struct.unpack("<HH", data[off + 26:off + 30])
    start = off + 30 + n_name + n_extra
    comp = memoryview(data)[start:start + info.compress_size]
    if len(comp) < info.compress_size:
        raise _Refused("file-unreadable", wording("zip-part-truncated", part=name))
    return comp


def _inflate_whole(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """A small part (at most one chunk, `_OUT_CHUNK`) inflated in one call, with `_inflate`'s checks: never
    more than the declared size is produced (zlib's max_length), a stream that ends short of it, is broken
    or fails its CRC is refused. One C call instead of a generator round per part (16 parts a form)."""
    name = info.filename
    comp = _compressed(data, info)
    declared = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != declared:
            raise _Refused("file-unreadable", wording("zip-part-broken", part=name))
        out = bytes(comp)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        d = zlib.decompressobj(-15)
        try:
            out = d.decompress(comp, declared + 1)   # max_length 0 would mean unbounded: declared + 1 >= 1
        except zlib.error as exc:
            raise _Refused("file-unreadable", wording("zip-part-error", part=name, error=exc)) from None
        if len(out) > declared:
            raise _Refused("file-too-large", wording("part-inflates-beyond", part=name, size=declared))
        if not d.eof or len(out) != declared:
            raise _Refused("file-unreadable", wording("zip-part-incomplete", part=name))
    else:
        raise _Refused("file-unreadable", wording("zip-part-method", part=name, method=info.compress_type))
    if zlib.crc32(out) != info.CRC:
        raise _Refused("file-unreadable", wording("zip-part-crc", part=name))
    return out


def _inflate(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Yield the part's bytes in chunks of at most 1 MB. Never yields more than the declared size: a
    stream that goes on past it, ends short of it, or fails its CRC is refused."""
    name = info.filename
    comp = _compressed(data, info)
    declared = info.file_size
    total = 0
    crc = 0
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != declared:
            raise _Refused("file-unreadable", wording("zip-part-broken", part=name))
        for i in range(0, declared, _OUT_CHUNK):
            chunk = bytes(comp[i:i + _OUT_CHUNK])
            crc = zlib.crc32(chunk, crc)
            yield chunk
        total = declared
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        d = zlib.decompressobj(-15)
        try:
            for i in range(0, len(comp), _IN_CHUNK):
                pending = bytes(comp[i:i + _IN_CHUNK])
                while pending:
                    out = d.decompress(pending, _OUT_CHUNK)
                    pending = d.unconsumed_tail
                    total += len(out)
                    if total > declared:
                        raise _Refused("file-too-large", wording("part-inflates-beyond", part=name, size=declared))
                    crc = zlib.crc32(out, crc)
                    if out:
                        yield out
                    if d.eof:
                        break
                if d.eof:
                    break
        except zlib.error as exc:
            raise _Refused("file-unreadable", wording("zip-part-error", part=name, error=exc)) from None
        if not d.eof or total != declared:
            raise _Refused("file-unreadable", wording("zip-part-incomplete", part=name))
    else:
        raise _Refused("file-unreadable", wording("zip-part-method", part=name, method=info.compress_type))
    if crc != info.CRC:
        raise _Refused("file-unreadable", wording("zip-part-crc", part=name))


_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_UTF8_NAME = 0x800           # general purpose flag bit 11: the name is UTF-8
_DOS_1980_01_01 = 0x21       # the earliest date a zip entry can carry; the time is 00:00


def _stored_zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    """A zip archive holding (name, bytes, CRC-32) entries uncompressed, in order (no zip64: a part held
    inflated is at most 1 MB and the file's parts at most `Limits.max_parts`)."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, body, crc in entries:
        raw = name.encode("utf-8")
        size = len(body)
        out += (_LOCAL.pack(ZIP_MAGIC, 20, _UTF8_NAME, zipfile.ZIP_STORED, 0, _DOS_1980_01_01, crc, size, size,
                            len(raw), 0), raw, body)
        central += (_CENTRAL.pack(b"PK\x01\x02", 20, 20, _UTF8_NAME, zipfile.ZIP_STORED, 0, _DOS_1980_01_01, crc,
                                  size, size, len(raw), 0, 0, 0, 0, 0, offset), raw)
        offset += _LOCAL.size + len(raw) + size
    directory = b"".join(central)
    return b"".join([*out, directory, _END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory),
                                                offset, 0)])


# ------------------------------------------------------------------------------------------------
# Trimming the stored copy to what a reader of values reads (`Inspection.values_copy`). A cut is made only
# where it cannot change what the XML means: in a part without comments, CDATA sections or processing
# instructions (past the XML declaration), the literal tags below can only be the element's own tags (text
# and attribute values cannot hold "<"). Anything else is handed over whole, as before.

_NOT_READ_FOR_VALUES = ("docProps/", "xl/theme/")
_NAMES_OPEN, _NAMES_CLOSE = b"<definedNames>", b"</definedNames>"


def _plain_markup(xml: bytes) -> bool:
    """No comment, CDATA section or processing instruction (the XML declaration aside)."""
    return b"<!" not in xml and xml.find(b"<?", 1) < 0


def _without_names(xml: bytes, crc: int) -> tuple[bytes, int]:
    """The workbook part without its `definedNames` element, and its CRC-32 (`crc`, the part's own, when it
    is left whole). Remembered per workbook part by `WorkbookPart.without_names`."""
    start, end = xml.find(_NAMES_OPEN), xml.find(_NAMES_CLOSE)
    if (0 <= start < end and xml.count(_NAMES_OPEN) == 1 and xml.count(_NAMES_CLOSE) == 1
            and _plain_markup(xml)):
        cut = xml[:start] + xml[end + len(_NAMES_CLOSE):]
        return cut, zlib.crc32(cut)
    return xml, crc


# ------------------------------------------------------------------------------------------------
# Scanning a part's bytes as they are inflated.

_XML_NAMES = (".xml", ".rels", ".vml")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# Any markup declaration (DOCTYPE, ENTITY, ELEMENT, ATTLIST, NOTATION); comments "<!--" and CDATA
# "<![CDATA[" do not match. In a part that is not XML only the two dangerous keywords count.
_DECL_XML = re.compile(rb"<![A-Za-z]")
_DECL_OTHER = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# A cell with its reference (whatever the attribute order) and whether it is empty ("/>"); a cell without one.
_CELL_REF = re.compile(rb"""<c\s[^>]*?\br\s*=\s*["']([A-Za-z]{1,3})([0-9]{1,9})["'][^>]*?(/?)>""")
_CELL_NO_REF = re.compile(rb"""<c(?:\s(?![^>]*\br\s*=)[^>]*[^/>])?>""")
_TAGS = re.compile(rb"<(c|row)[\s>/]")   # every cell and row start tag, in one pass
_COUNT = re.compile(rb"""\s(?:count|uniqueCount)\s*=\s*["']([0-9]{1,20})["']""")
# The same search led by its literal part (a pattern starting with \s is tried at every space: measured,
# it was half the scan); the name before "ount" is checked on each hit, so the matches are _COUNT's.
_COUNT_TAIL = re.compile(rb"""ount\s*=\s*["']([0-9]{1,20})["']""")
_SPACE = frozenset(b" \t\r\n\f\v")
_TAIL = 4096


def _looks_xml(name: str, head: bytes) -> bool:
    if name.lower().endswith(_XML_NAMES):
        return True
    h = head
    for bom in _BOMS:
        if h.startswith(bom):
            return True
    return h.lstrip(b" \t\r\n\x00").startswith(b"<")


def _encoding_problem(head: bytes) -> str | None:
    """Excel writes UTF-8 only; calamine reads a UTF-16 sheet as empty. Anything else is refused."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or b"\x00" in head[:4]:
        return "UTF-16/UTF-32"
    h = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if h.startswith(b"<?xml"):
        end = h.find(b"?>")
        m = _ENCODING.search(h[: end if end > 0 else 200])
        if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
            return m.group(1).decode("ascii", "replace")
    return None


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


@dataclass
class _PartScan:
    name: str
    xml: bool
    max_row: int = 0
    max_col: int = 0
    rows: int = 0
    cells_without_ref: int = 0
    max_count: int = 0

    @property
    def extent(self) -> tuple[int, int]:
        """(rows, columns) of the rectangle holding the part's valued cells; conservative when a
        cell has no r="A1" reference (Excel always writes one)."""
        rows = max(self.max_row, self.rows if self.cells_without_ref else 0)
        return rows, max(self.max_col, self.cells_without_ref)


def _scan(name: str, chunks: Iterator[bytes]) -> _PartScan:
    """Read the whole part once; raise _Refused at the first thing that breaks a rule."""
    scan: _PartScan | None = None
    carry = b""
    for chunk in chunks:
        if scan is None:
            scan = _PartScan(name, _looks_xml(name, chunk[:64]))
            if scan.xml:
                enc = _encoding_problem(chunk[:256])
                if enc:
                    raise _Refused("file-hostile-xml", wording("part-encoding", part=name, encoding=enc))
        buf = carry + chunk
        decl = _DECL_XML if scan.xml else _DECL_OTHER
        if decl.search(buf):
            raise _Refused("file-hostile-xml", wording("part-doctype", part=name))
        if scan.xml:
            # Only complete tags are looked at; the unfinished last one is carried to the next chunk.
            cut = buf.rfind(b"<")
            unfinished = cut >= 0 and buf.find(b">", cut) < 0 and len(buf) - cut <= _TAIL
            body = buf[:cut] if unfinished else buf
            # Empty (formatted-only) cells "<c r=.. s=../>" are skipped: no parser keeps them.
            refs = _CELL_REF.findall(body)
            valued = [(c, r) for c, r, empty in refs if not empty]
            if valued:
                scan.max_col = max(scan.max_col, max(_col_number(c) for c in {c for c, _ in valued}))
                scan.max_row = max(scan.max_row, max(int(r) for r in {r for _, r in valued}))
            # The slow look for cells without a reference only when some "<c" tag was not matched above
            # (Excel, LibreOffice and our writer always write r="A1"): measured, it was half the scan.
            tags = _TAGS.findall(body)
            n_rows = tags.count(b"row")
            if len(refs) != len(tags) - n_rows:
                scan.cells_without_ref += len(_CELL_NO_REF.findall(body))
            scan.rows += n_rows
            for m in _COUNT_TAIL.finditer(body):
                at = m.start()
                if (body[at - 1:at] == b"c" and at >= 2 and body[at - 2] in _SPACE) or (
                        body[at - 7:at] == b"uniqueC" and at >= 8 and body[at - 8] in _SPACE):
                    scan.max_count = max(scan.max_count, int(m.group(1)))
            carry = buf[cut:] if unfinished else buf[-16:] if cut < 0 or len(buf) - cut > _TAIL else b""
        else:
            carry = buf[-16:]
    return scan or _PartScan(name, False)


# The same scan over a small part held whole, done with searches that find nothing in an ordinary part (C
# speed, no match objects): measured, the per-cell matches of `_scan` were most of the guard's time. Where
# one of them finds something, the part is scanned by `_scan` as before, so nothing it refuses gets through.
# A cell start tag not written as Excel, LibreOffice and our writer write it (`<c r="A1"`, a plain reference
# first) or past column ZZ or row 999: with none, the part's cells lie within 999 x 702.
_ODD_OR_FAR_CELL = re.compile(rb"""<c(?:[\t\n\r\f\v>/]| (?!r="[A-Za-z]{1,2}[0-9]{1,3}"))""")
_NEAR_ROWS, _NEAR_COLS = 999, 702
_BIG_COUNTS: dict[int, re.Pattern[bytes]] = {}


def _big_count(digits: int) -> re.Pattern[bytes]:
    """`_COUNT_TAIL` for numbers of at least `digits` digits (a shorter one cannot exceed the file's size)."""
    pattern = _BIG_COUNTS.get(digits)
    if pattern is None:
        pattern = _BIG_COUNTS[digits] = re.compile(
            rb"""ount\s*=\s*["']([0-9]{%d,20})["']""" % max(1, min(digits, 20)))
    return pattern


def _scan_whole(name: str, buf: bytes, total: int, limits: Limits) -> _PartScan:
    """`_scan` of a part held whole (one chunk), with the same verdicts: `_PartScan.max_count` holds every
    count that could exceed `total`, and the cells' extent is counted whenever it could break a limit."""
    scan = _PartScan(name, _looks_xml(name, buf[:64]))
    if not scan.xml:
        if b"<!" in buf and _DECL_OTHER.search(buf):
            raise _Refused("file-hostile-xml", wording("part-doctype", part=name))
        return scan
    enc = _encoding_problem(buf[:256])
    if enc:
        raise _Refused("file-hostile-xml", wording("part-encoding", part=name, encoding=enc))
    if b"!" in buf and _DECL_XML.search(buf):   # "!" is rare in XML; "<" is everywhere
        raise _Refused("file-hostile-xml", wording("part-doctype", part=name))
    near = _NEAR_ROWS <= limits.max_sheet_rows and _NEAR_ROWS * _NEAR_COLS <= limits.max_sheet_cells
    if not near or _ODD_OR_FAR_CELL.search(buf):
        return _scan(name, iter([buf]))
    for m in _big_count(len(str(total))).finditer(buf):
        at = m.start()
        if (buf[at - 1:at] == b"c" and at >= 2 and buf[at - 2] in _SPACE) or (
                buf[at - 7:at] == b"uniqueC" and at >= 8 and buf[at - 8] in _SPACE):
            scan.max_count = max(scan.max_count, int(m.group(1)))
    return scan


# ------------------------------------------------------------------------------------------------


# Parts met before, byte for byte: forms of one shape share most of their parts (theme, styles, workbook,
# relations, the guide sheet...: 10 of 16, a third of the inflated bytes). A part whose compressed bytes,
# method, declared size and CRC equal one already inflated and scanned inflates to the same bytes, so its
# verdict is the same: it is taken from here instead of inflated and scanned again. A part is looked up by
# what the directory says of it (name, method, sizes, CRC) and the limits the scan depends on; a hit counts
# only when its compressed bytes are the same too, compared (not hashed into the key: measured, hashing every
# part's bytes was a visible share of the guard, for the filled sheets, met once, to no use). Only parts seen
# twice are kept (`_SIGHTED` holds the hashes of the keys seen once), at most `_SEEN_MAX` of at most
# `_SEEN_PART_MAX` bytes, the least recently used dropped first.
_SEEN: dict[tuple[Any, ...], tuple[bytes, bytes, _PartScan]] = {}   # key -> (compressed, inflated, scan)
_SIGHTED: set[int] = set()
_SEEN_MAX, _SIGHTED_MAX, _SEEN_PART_MAX = 64, 4096, 64 * 1024


def _small_part(data: bytes, info: zipfile.ZipInfo, total: int, limits: Limits) -> tuple[bytes, _PartScan]:
    """A part of at most `_OUT_CHUNK` bytes inflated (`_inflate_whole`) and scanned (`_scan_whole`), or what
    the same part gave when met before. Raises _Refused as they do (a refused part is never remembered)."""
    # `_scan_whole` depends on the total only through its number of digits, on the limits only through two.
    key = (info.filename, info.compress_type, info.compress_size, info.file_size, info.CRC, len(str(total)),
           limits.max_sheet_rows, limits.max_sheet_cells)
    comp = _compressed(data, info)
    known = _SEEN.get(key)
    if known is not None and known[0] == bytes(comp):   # memcmp (a memoryview compares byte by byte)
        del _SEEN[key]
        _SEEN[key] = known   # the most recently used last: the least recently used goes first
        return known[1], known[2]
    whole = _inflate_whole(data, info)
    scan = _scan_whole(info.filename, whole, total, limits)
    if info.file_size <= _SEEN_PART_MAX:
        sighted = hash(key)
        if sighted in _SIGHTED:
            _SEEN.pop(key, None)   # the same key with other bytes: the latest is kept
            if len(_SEEN) >= _SEEN_MAX:
                del _SEEN[next(iter(_SEEN))]
            _SEEN[key] = (bytes(comp), whole, scan)
        else:
            if len(_SIGHTED) >= _SIGHTED_MAX:
                _SIGHTED.clear()
            _SIGHTED.add(sighted)
    return whole, scan


def inspect(path: Path, data: bytes | None = None, *, limits: Limits | None = None) -> Inspection:
    """Classify a file and list what makes it unsafe or unusable, without handing it to any parser."""
    limits = limits or Limits()
    name = str(path)
    if data is None:
        data = Path(path).read_bytes()
    if len(data) == 0:
        return Inspection("unknown", [problem("file-empty", file=name)])
    if len(data) > limits.max_file_bytes:
        return Inspection("unknown", [problem("file-too-large", file=name,
                                              detail=wording("file-size", size=len(data), limit=limits.max_file_bytes))])
    if data.startswith(CFB_MAGIC):
        if ENCRYPTED_MARK in data[:2_000_000]:
            return Inspection("encrypted", [problem("file-encrypted", file=name)])
        return Inspection("xls")
    if not data.startswith(ZIP_MAGIC):
        head = data[:8]
        what = wording("pdf" if head.startswith(b"%PDF") else "not-excel")
        return Inspection("unknown", [problem("file-not-workbook", file=name, detail=what)])
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return Inspection("unknown", [problem("file-unreadable", file=name,
                                              detail=wording("zip-incomplete", error=exc))])
    with zf:
        return _inspect_zip(name, data, zf, infos, limits)


def _inspect_zip(name: str, data: bytes, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                 limits: Limits) -> Inspection:
    def refuse(code: str, detail: str, kind: str = "unknown") -> Inspection:
        if code == "file-encrypted":
            return Inspection("encrypted", [problem("file-encrypted", file=name)])
        return Inspection(kind, [problem(code, file=name, detail=detail)])

    names = [i.filename for i in infos]
    # 1. What the directory declares (microseconds).
    if len(infos) > limits.max_parts:
        return refuse("file-too-large", wording("part-count", count=len(infos)))
    if len(set(names)) != len(names):
        return refuse("file-hostile-xml", wording("duplicate-part"))
    total = sum(i.file_size for i in infos)
    if total > limits.max_inflated_bytes:
        return refuse("file-too-large", wording("inflated-size", size=total // MB, limit=limits.max_inflated_bytes // MB))
    for i in infos:
        if i.file_size > limits.max_part_bytes or (
                i.file_size > MB and i.file_size > limits.max_ratio * max(i.compress_size, 1)):
            return refuse("file-too-large", wording("part-size", part=i.filename, size=i.file_size))
    # 2. What the parts really hold: inflated once, by us, within the declared sizes.
    scans: dict[str, _PartScan] = {}
    out_parts: dict[str, bytes] = {}   # small parts, kept inflated for the reader (styles, sheets, names)
    try:
        for i in infos:
            if i.file_size <= _OUT_CHUNK:
                whole, scan = _small_part(data, i, total, limits)
                out_parts[i.filename] = whole
                scans[i.filename] = scan
            else:
                scans[i.filename] = scan = _scan(i.filename, _inflate(data, i))
            if scan.max_count > total:
                raise _Refused("file-hostile-xml", wording("part-elements", part=i.filename, count=scan.max_count))
            rows, cols = scan.extent
            if rows > limits.max_sheet_rows:
                raise _Refused("file-too-large", wording("part-rows", part=i.filename, rows=rows))
            if rows * cols > limits.max_sheet_cells:
                raise _Refused("file-too-large", wording("part-extent", part=i.filename, rows=rows, cols=cols))
    except _Refused as exc:
        return refuse(exc.code, exc.detail)
    # 3. What it is.
    if "mimetype" in scans:
        mimetype = zf.read("mimetype")[:100]
        if b"spreadsheet" in mimetype:
            return Inspection("ods", inflated_bytes=total)
        return refuse("file-not-workbook", wording("opendocument"))
    if "xl/workbook.xml" not in scans:
        return refuse("file-not-workbook", wording("word-document" if "word/document.xml" in scans
                              else "no-workbook-part"))
    out = Inspection("xlsx", inflated_bytes=total, parts=out_parts, crcs={i.filename: i.CRC for i in infos})
    out.has_macros = any(n.lower().endswith("vbaproject.bin") for n in names)
    out.external_links = any(n.startswith("xl/externalLinks/") for n in names)
    if out.has_macros:
        out.kind = "xlsm"
        out.problems.append(problem("file-macros", file=name))
    if out.external_links:
        out.problems.append(problem("file-external-links", file=name))
    try:
        out.workbook = _workbook_part(out_parts.get("xl/workbook.xml") or zf.read("xl/workbook.xml"))
        # Copies: a caller may change its inspection's lists without touching the shared part.
        out.sheets, out.defined_names = list(out.workbook.sheets), dict(out.workbook.names)
    except SafeET.ParseError as exc:
        out.problems.append(problem("file-unreadable", file=name, detail=wording("xml-broken", error=exc)))
        return out
    except Exception as exc:  # defusedxml's DTDForbidden / EntitiesForbidden (the scan already refuses them)
        out.problems.append(problem("file-hostile-xml", file=name, detail=type(exc).__name__))
        return out
    if len(out.sheets) > limits.max_sheets:
        out.problems.append(problem("file-too-large", file=name, detail=wording("sheet-count", count=len(out.sheets))))
    return out


# ------------------------------------------------------------------------------------------------
# Running a parser with a deadline and a memory ceiling.


def _vm_bytes() -> int:
    if resource is None:
        return 0
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], memory_bytes: int) -> None:
    faulthandler.disable()   # a parser that aborts is reported by the parent, not dumped on the console
    try:
        if memory_bytes and resource is not None:
            ceiling = _vm_bytes() + memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        result = ("ok", fn(*args))
    except MemoryError:
        result = ("memory", "MemoryError")
    except BaseException as exc:  # reported to the parent, which turns it into a problem
        result = ("error", f"{type(exc).__name__}: {exc}"[:300])
    try:
        conn.send(result)
    finally:
        conn.close()


def run_isolated(fn: Callable[..., Any], args: tuple[Any, ...], *, timeout_s: float,
                 memory_bytes: int) -> tuple[str, Any]:
    """Run `fn(*args)` in a forked worker process. Returns ("ok", result), ("error", text) when it
    raised, ("timeout", None) when it ran past `timeout_s` (it is killed), or ("memory", detail) when it
    ran out of the `memory_bytes` it may add, or died (a Rust allocation failure aborts)."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, memory_bytes), daemon=True)
    proc.start()
    send.close()
    try:
        if not recv.poll(timeout_s):
            proc.kill()
            return "timeout", None
        try:
            return recv.recv()
        except (EOFError, OSError):
            proc.join(5)
            return "memory", wording("reader-died", code=proc.exitcode)
    finally:
        recv.close()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


Position = tuple[str, int, int, int, int]   # `parse_ref`: (sheet, row0, col0, last_row0, last_col0)


@dataclass(eq=False)
class WorkbookPart:
    """What one `xl/workbook.xml` says, worked out once per process for its bytes and shared, read-only, by
    every file carrying it (forms of one shape carry it byte for byte; its ~200 names took a millisecond
    to parse, a few hundred microseconds to resolve or scan). The derived facts are worked out when first
    asked for: a caller that never needs one never pays for it."""

    xml: bytes = field(repr=False)
    sheets: tuple[str, ...]               # in workbook order
    names: Mapping[str, str]              # workbook-scoped defined name -> reference text (read-only)
    _resolved: Mapping[str, Position] | None = field(default=None, repr=False)
    _into_sheet: dict[str, bool] = field(default_factory=dict, repr=False)
    _cut: tuple[bytes, int] | None = field(default=None, repr=False)

    @property
    def resolved_names(self) -> Mapping[str, Position]:
        """The names that are plain ranges, resolved (`parse_ref`), as a read-only mapping: a dict lookup per
        slot for the reader instead of a Python call."""
        if self._resolved is None:
            resolved = {name: parse_ref(ref) if ref else None for name, ref in self.names.items()}
            self._resolved = MappingProxyType({name: pos for name, pos in resolved.items() if pos is not None})
        return self._resolved

    def names_point_into(self, sheet: str) -> bool:
        """Whether some defined name's reference text mentions `sheet` (the reader parses the guide sheet only
        then). The sheet is an argument: this layer knows no sheet of the layout."""
        known = self._into_sheet.get(sheet)
        if known is None:
            known = self._into_sheet[sheet] = any(sheet in ref for ref in self.names.values())
        return known

    def without_names(self, crc: int) -> tuple[bytes, int]:
        """The part without its `definedNames` element and its CRC-32 (`_without_names`; `crc`: the part's)."""
        if self._cut is None:
            self._cut = _without_names(self.xml, crc)
        return self._cut


# One entry per workbook part met, by its bytes; cleared when full (a run meets a handful of shapes).
_WORKBOOKS_SEEN: dict[bytes, WorkbookPart] = {}


def _workbook_part(xml: bytes) -> WorkbookPart:
    """The `WorkbookPart` of these bytes, parsed with defusedxml the first time they are met in the process."""
    known = _WORKBOOKS_SEEN.get(xml)
    if known is None:
        sheets, names = _parse_workbook_xml(xml)
        known = WorkbookPart(xml, tuple(sheets), MappingProxyType(names))
        if len(_WORKBOOKS_SEEN) >= 32:
            _WORKBOOKS_SEEN.clear()
        _WORKBOOKS_SEEN[xml] = known
    return known


def _parse_workbook_xml(xml: bytes) -> tuple[list[str], dict[str, str]]:
    root = SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    sheets = [s.get("name", "") for s in root.iter(f"{_NS}sheet")]
    names: dict[str, str] = {}
    for dn in root.iter(f"{_NS}definedName"):
        name = dn.get("name", "")
        if dn.get("localSheetId") is not None or name.startswith("_xlnm."):
            continue  # print areas and sheet-scoped names are not ours
        names[name] = (dn.text or "").strip()
    return sheets, names


_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


@functools.lru_cache(maxsize=8192)
def parse_ref(ref: str) -> tuple[str, int, int, int, int] | None:
    """"'Chỉ tiêu'!$E$12" -> (sheet, row0, col0, last_row0, last_col0); None when it is not a plain range
    (e.g. "#REF!" after the clerk deleted the cells). Remembered: forms of one shape carry the same names."""
    m = _REF.match(ref.lstrip("="))
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") if m.group(1) else m.group(2)
    c1, r1 = _col_index(m.group(3)), int(m.group(4)) - 1
    c2 = _col_index(m.group(5)) if m.group(5) else c1
    r2 = int(m.group(6)) - 1 if m.group(6) else r1
    return sheet, r1, c1, r2, c2


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1
