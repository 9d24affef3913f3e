"""Fast generation of intake workbooks: one workbook rendered per *shape*, then patched per unit.

Units whose layouts differ only in the unit's identity (name, code) share a shape: the same tier,
indicator blocks with the same resolved targets, tasks and period. For each shape the reference writer
(`writer.write_workbook`) renders one workbook with placeholder tokens for the unit's name and code and a
placeholder generation time (hence a known signature). Its zip parts are kept in memory, split around the
tokens; per unit only the tokens are replaced by the unit's XML-escaped values, the signature is
computed for the unit, and the parts are written out as a zip. Nothing is compressed per unit: the
unchanged parts were deflated once, when the template was built, and so were the literal pieces of the
changed ones, each apart, with the unit's values laid between them as stored deflate blocks. Measured ~30x faster than
rendering every workbook from scratch (docs/measurements.md; re-measure with benchmarks/cycle.py).

Every string that carries the unit's identity is a shared string (xlsxwriter's default) or the document
title in docProps/core.xml; a token string and its real value are one shared-string entry each, so the
shared-string counts do not change. A unit whose name or code would need more than `&`, `<`, `>`, `"`
escaping (control characters, leading/trailing blanks, `_xHHHH_` sequences) is written by the reference
writer instead.
"""

from __future__ import annotations

import dataclasses
import io
import operator
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..core import layout as L
from ..core.layout import Layout
from ..core.period import Period
from ..core.plan import Plan
from ..core.units import Registry, Unit
from .writer import Generated, target_path, target_paths, workbook_bytes, write_workbook

NAME_TOKEN = "QQZFGUNITNAMEZQQ"
CODE_TOKEN = "QQZFGUNITCODEZQQ"
CREATED_TOKEN = "QQZFGCREATEDZQQ"
# A generation time no real form carries; its text is the token (write_workbook formats it itself).
PLACEHOLDER_GENERATED = datetime(1901, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
GENERATED_TOKEN = PLACEHOLDER_GENERATED.strftime("%Y-%m-%dT%H:%M:%SZ")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
POOL_MIN_UNITS = 400

_PLAIN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|_x[0-9A-Fa-f]{4}_")
_CREATED = re.compile(rb"(<dcterms:(?:created|modified) [^>]*>)([^<]*)(</dcterms:)")


def shape_key(lay: Layout) -> tuple[tuple[str, Any], ...]:
    """The template cache key: the layout without the unit's identity (`Layout.shape`, built from the
    layout's own fields, so a new field makes a new shape without being listed here)."""
    return lay.shape()


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def patchable(unit: Unit) -> bool:
    """Whether the unit's name and code can be patched in as plain escaped text."""
    return all(value == value.strip() and value and not _PLAIN.search(value) for value in (unit.name, unit.code))


# Everything is compressed once per template, none per unit: the best ratio costs ~2 ms a shape.
LEVEL = 9


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, LEVEL, -15)


def _segment(data: bytes, last: bool) -> bytes:
    """`data` as deflate blocks that stand alone (no reference to bytes before them), ending on a byte
    boundary (sync flush) unless `last` (then with the final block): such segments and `_stored` blocks
    can be laid end to end into one valid deflate stream."""
    if not data and not last:
        return b""
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _stored(value: bytes) -> bytes:
    """`value` as non-final stored deflate blocks (header byte 0: not final, stored; then LEN, NLEN)."""
    if len(value) <= 0xFFFF:
        return b"\x00" + struct.pack("<HH", len(value), len(value) ^ 0xFFFF) + value
    out = []
    for i in range(0, len(value), 0xFFFF):
        chunk = value[i:i + 0xFFFF]
        out.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(out)


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, sec = date_time
    return h << 11 | mi << 5 | sec // 2, (y - 1980) << 9 | mo << 5 | d


@dataclass(frozen=True)
class _Part:
    name: bytes
    date_time: tuple[int, int, int, int, int, int]
    pieces: tuple[bytes, ...] | None      # literal, token, literal, ..., literal; None: static part
    static: tuple[int, int, bytes] | None = None   # (crc, size, deflated) of a static part, done once


# Zip records as zipfile writes them (version 2.0, no flags, deflated, no extra field or comment).
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")


def _local_header(part: _Part, crc: int, compressed: int, size: int) -> bytes:
    dos_time, dos_date = _dos_time(part.date_time)
    return _LOCAL.pack(b"PK\x03\x04", 20, 0, zipfile.ZIP_DEFLATED, dos_time, dos_date, crc, compressed, size,
                       len(part.name), 0) + part.name


def _central_header(part: _Part, crc: int, compressed: int, size: int) -> bytes:
    """The central directory record but its last field (the local header's offset, known per file)."""
    dos_time, dos_date = _dos_time(part.date_time)
    return _CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, zipfile.ZIP_DEFLATED, dos_time, dos_date, crc, compressed, size,
                         len(part.name), 0, 0, 0, 0, 0, 0)[:-4]


@dataclass(frozen=True)
class Template:
    """One shape's workbook: zip parts in order; those with tokens split into literal/token pieces, the
    others deflated once and copied as they are into every unit's file."""

    parts: tuple[_Part, ...]
    template_signature: str
    # Per part, what does not change between units. A static part: its local record (header, name, data)
    # and central record (but the offset). A part with tokens: its literal pieces compressed apart, once
    # (None at the tokens): per unit the tokens go in as stored blocks between them, so that nothing is
    # compressed per unit (the same bytes once inflated; a few hundred more compressed). Derived from `parts`.
    _records: tuple[tuple[bytes, bytes] | None, ...] = dataclasses.field(init=False, repr=False, compare=False)
    _segments: tuple[tuple[bytes | None, ...] | None, ...] = dataclasses.field(init=False, repr=False,
                                                                                compare=False)

    def __post_init__(self) -> None:
        records: list[tuple[bytes, bytes] | None] = []
        segments: list[tuple[bytes | None, ...] | None] = []
        for part in self.parts:
            if part.static is None:
                assert part.pieces is not None
                last = len(part.pieces) - 1
                records.append(None)
                segments.append(tuple(None if i % 2 else _segment(p, i == last) for i, p in enumerate(part.pieces)))
                continue
            crc, size, deflated = part.static
            records.append((_local_header(part, crc, len(deflated), size) + deflated,
                            _central_header(part, crc, len(deflated), size)))
            segments.append(None)
        object.__setattr__(self, "_records", tuple(records))
        object.__setattr__(self, "_segments", tuple(segments))

    def render(self, values: dict[bytes, bytes]) -> bytes:
        """The unit's .xlsx: a plain zip of deflated parts, written directly, with zipfile's records."""
        stored = {token: _stored(value) for token, value in values.items()}   # once, though used in two parts
        out: list[bytes] = []
        central: list[bytes] = []
        offset = 0
        for part, record, segments in zip(self.parts, self._records, self._segments, strict=True):
            if record is None:
                assert part.pieces is not None and segments is not None
                data = b"".join([values[p] if i % 2 else p for i, p in enumerate(part.pieces)])
                deflated = b"".join([stored[p] if s is None else s
                                     for p, s in zip(part.pieces, segments, strict=True)])
                crc = zlib.crc32(data)
                local = _local_header(part, crc, len(deflated), len(data))
                out += (local, deflated)
                central += (_central_header(part, crc, len(deflated), len(data)), offset.to_bytes(4, "little"),
                            part.name)
                offset += len(local) + len(deflated)
            else:
                out.append(record[0])
                central += (record[1], offset.to_bytes(4, "little"), part.name)
                offset += len(record[0])
        directory = b"".join(central)
        count = len(self.parts)
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0)
        return b"".join(out) + directory + end


def build_template(lay: Layout, plan: Plan, *, secret: str, office: dict[str, Any] | None = None,
                   protect_password: str | None = None) -> Template:
    """Render the shape of `lay` once with placeholder identity and keep its parts in memory."""
    placeholder = dataclasses.replace(lay.unit, code=CODE_TOKEN, name=NAME_TOKEN)
    tlay = dataclasses.replace(lay, unit=placeholder)
    signature = L.sign(secret, tlay.signed_fields, GENERATED_TOKEN)
    data = workbook_bytes(tlay, plan, secret=secret, office=office, protect_password=protect_password,
                          generated=PLACEHOLDER_GENERATED)
    tokens = [t.encode() for t in (NAME_TOKEN, CODE_TOKEN, GENERATED_TOKEN, CREATED_TOKEN, signature)]
    split = re.compile(b"(" + b"|".join(re.escape(t) for t in tokens) + b")")
    parts = []
    found: dict[bytes, int] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            body = zf.read(info)
            if info.filename == "docProps/core.xml":
                body = _CREATED.sub(lambda m: m.group(1) + CREATED_TOKEN.encode() + m.group(3), body)
            pieces = split.split(body)  # literal, token, literal, ..., literal
            for token in pieces[1::2]:
                found[token] = found.get(token, 0) + 1
            name = info.filename.encode("ascii")  # xlsxwriter's part names are ASCII
            if len(pieces) > 1:
                parts.append(_Part(name, info.date_time, tuple(pieces)))
            else:
                parts.append(_Part(name, info.date_time, None, (zlib.crc32(body), len(body), _deflate(body))))
    missing = {NAME_TOKEN.encode(), CODE_TOKEN.encode(), GENERATED_TOKEN.encode(), signature.encode()} - set(found)
    if missing:  # the writer changed where identity goes: better to fail than to ship wrong forms
        raise RuntimeError(f"shape template lacks tokens {sorted(missing)}")
    return Template(tuple(parts), signature)


def render_unit(template: Template, lay: Layout, *, secret: str, generated: datetime | None = None) -> bytes:
    """The bytes of `lay.unit`'s workbook from its shape's template."""
    generated_at = (generated or datetime.now(timezone.utc)).strftime(TIME_FORMAT)
    signature = L.sign(secret, lay.signed_fields, generated_at)
    values = {NAME_TOKEN.encode(): xml_escape(lay.unit.name).encode(),
              CODE_TOKEN.encode(): xml_escape(lay.unit.code).encode(),
              GENERATED_TOKEN.encode(): generated_at.encode(),
              CREATED_TOKEN.encode(): generated_at.encode(),
              template.template_signature.encode(): signature.encode()}
    return template.render(values)


class _Writer:
    """Templates per shape (built lazily, once per process) and the per-unit write."""

    def __init__(self, plan: Plan, secret: str, office: dict[str, Any] | None, protect_password: str | None,
                 generated: datetime | None = None) -> None:
        self.plan, self.secret, self.office, self.password = plan, secret, office, protect_password
        self.generated = generated
        self.templates: dict[tuple[tuple[str, Any], ...], Template] = {}
        # build_layout shares the values of one shape's fields between units (one object each): a shape met
        # again is found by the identities of those values, kept alive here so that no identity is reused,
        # instead of hashing the whole shape (most of a unit's cost after the deflate and the write).
        self.by_identity: dict[tuple[int, ...], tuple[tuple[Any, ...], Template]] = {}
        self.shape_values: operator.attrgetter[tuple[Any, ...]] | None = None

    def template(self, lay: Layout) -> Template:
        if self.shape_values is None:
            self.shape_values = operator.attrgetter(*(name for name, _ in shape_key(lay)))
        values = self.shape_values(lay)
        identity = tuple(map(id, values))
        known = self.by_identity.get(identity)
        if known is not None:
            return known[1]
        key = shape_key(lay)
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = build_template(lay, self.plan, secret=self.secret, office=self.office,
                                                            protect_password=self.password)
        self.by_identity[identity] = (values, template)
        return template

    def write(self, lay: Layout, target: Path) -> None:
        # Pre-filled values are not part of the shape (Layout.PREFILLED): such a form is rendered in full.
        if not patchable(lay.unit) or lay.carried:
            write_workbook(lay, self.plan, target, secret=self.secret, office=self.office,
                           protect_password=self.password, generated=self.generated)
            return
        _write_file(target, render_unit(self.template(lay), lay, secret=self.secret, generated=self.generated))


def _write_file(target: Path, data: bytes) -> None:
    """`target.write_bytes(data)` without the buffered file object (a tenth of the write's cost here)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


_worker: dict[str, Any] = {}


def _init_worker(plan: Plan, registry: Registry, period: Period, secret: str, office: dict[str, Any] | None,
                 protect_password: str | None, generated: datetime | None,
                 carried: Mapping[str, Sequence[tuple[str, int]]] | None = None) -> None:
    _worker.update(writer=_Writer(plan, secret, office, protect_password, generated), plan=plan,
                   registry=registry, period=period, carried=carried or {})


def _write_chunk(jobs: list[tuple[Unit, str]]) -> int:
    writer: _Writer = _worker["writer"]
    plan, registry, period, carried = _worker["plan"], _worker["registry"], _worker["period"], _worker["carried"]
    for unit, target in jobs:
        writer.write(L.build_layout(plan, unit, registry.tier(unit.tier), period, carried=carried.get(unit.code, ())),
                     Path(target))
    return len(jobs)


def generate_fast(plan: Plan, registry: Registry, period: Period, units: Iterable[Unit], out_dir: Path, *,
                  secret: str, office: dict[str, Any] | None = None, protect_password: str | None = None,
                  workers: int = 1, generated: datetime | None = None, chunk: int = 64,
                  carried: Mapping[str, Sequence[tuple[str, int]]] | None = None) -> Iterator[Generated]:
    """Write one workbook per unit into `out_dir`, yielding each as it is written (same contract as
    `intake.generate`). With `workers` > 1 the units are written by a process pool, in chunks; each
    process builds the templates of the shapes it meets once. `generated` fixes the generation time
    (tests); by default each workbook carries the time it was written. `carried`: per unit code, the cases
    pending at the end of the previous period per field, pre-filled as the carried-over column (`build_layout`)."""
    carried = carried or {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    resolved = out_dir.resolve()
    units = list(units)
    # Below a few hundred units, starting processes (each building its own templates) costs more than it saves.
    if workers <= 1 or len(units) < POOL_MIN_UNITS:
        writer = _Writer(plan, secret, office, protect_password, generated)
        for unit in units:
            lay = L.build_layout(plan, unit, registry.tier(unit.tier), period, carried=carried.get(unit.code, ()))
            target = target_path(out_dir, period, unit, resolved_dir=resolved)
            writer.write(lay, target)
            yield Generated(unit, target)
        return
    jobs = list(zip(units, target_paths(out_dir, period, units), strict=True))
    if not jobs:
        return
    # Chunks in the caller's order, yielded in that order; a process builds a shape's template when first met.
    workers = min(workers, os.cpu_count() or 1, max(1, len(jobs) // chunk))
    chunks = [[(u, str(t)) for u, t in jobs[i:i + chunk]] for i in range(0, len(jobs), chunk)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(plan, registry, period, secret, office, protect_password, generated,
                                       dict(carried))) as pool:
        done = 0
        for _ in pool.map(_write_chunk, chunks):
            for unit, target in jobs[done:done + chunk]:
                yield Generated(unit, target)
            done += chunk
