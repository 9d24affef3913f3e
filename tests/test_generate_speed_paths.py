"""The shortcuts of fast generation keep its guarantees: where a file may go (`target_path` resolves only a name
that could leave the folder), which template a unit gets (found by the identities of its layout's values) and
the zip records built once per template."""

from __future__ import annotations

import dataclasses
import io
import os
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cchc_excel.core import layout as L
from cchc_excel.core.plan import Plan
from cchc_excel.core.units import Registry
from cchc_excel.workbook import fastgen, writer
from tests.conftest import MARCH, PHUOC_HOA, SECRET

GENERATED = datetime(2025, 3, 1, 7, 30, tzinfo=timezone.utc)


def test_plain_name_goes_into_the_folder(tmp_path: Path, nt_registry: Registry) -> None:
    unit = nt_registry.get("STP")
    assert unit is not None
    target = writer.target_path(tmp_path, MARCH, unit)
    assert target == tmp_path / writer.workbook_filename(MARCH, unit)
    relative = writer.target_path(Path(os.path.relpath(tmp_path)), MARCH, unit)
    assert relative.resolve().parent == tmp_path.resolve()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_link_at_the_target_is_resolved(tmp_path: Path, nt_registry: Registry) -> None:
    unit = nt_registry.get("STP")
    assert unit is not None
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    link = out / writer.workbook_filename(MARCH, unit)
    link.symlink_to(elsewhere / "x.xlsx")
    with pytest.raises(ValueError, match="không an toàn"):
        writer.target_path(out, MARCH, unit)
    with pytest.raises(ValueError, match="không an toàn"):
        writer.target_paths(out, MARCH, [unit])
    link.unlink()
    link.symlink_to(out / "inside.xlsx")   # a link that stays in the folder is allowed, as before
    assert writer.target_path(out, MARCH, unit) == link
    assert writer.target_paths(out, MARCH, [unit]) == [link]


def test_target_paths_are_target_path(tmp_path: Path, nt_registry: Registry) -> None:
    units = list(nt_registry.units)
    assert writer.target_paths(tmp_path, MARCH, units) == [writer.target_path(tmp_path, MARCH, u) for u in units]


def test_name_with_a_separator_is_resolved(tmp_path: Path, nt_registry: Registry,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    unit = nt_registry.get("STP")
    assert unit is not None
    monkeypatch.setattr(writer, "workbook_filename", lambda period, u: "../x.xlsx")
    with pytest.raises(ValueError, match="không an toàn"):
        writer.target_path(tmp_path, MARCH, unit)
    monkeypatch.setattr(writer, "workbook_filename", lambda period, u: "sub/../x.xlsx")
    assert writer.target_path(tmp_path, MARCH, unit) == tmp_path / "sub/../x.xlsx"


def test_template_found_again_for_a_rebuilt_layout_of_the_same_shape(
        nt_plan: Plan, nt_registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real = fastgen.build_template

    def counting(lay: L.Layout, *args: object, **kwargs: object) -> fastgen.Template:
        built.append(lay.unit.code)
        return real(lay, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastgen, "build_template", counting)
    communes = [u for u in nt_registry.in_tier("xa") if not u.flags][:3]
    tier = nt_registry.tier("xa")
    w = fastgen._Writer(nt_plan, SECRET, None, None, GENERATED)
    first = w.template(L.build_layout(nt_plan, communes[0], tier, MARCH))
    assert w.template(L.build_layout(nt_plan, communes[1], tier, MARCH)) is first
    # A layout of the same shape made of other objects (as after build_layout's cache is emptied): the same
    # template, found by the shape's value, not rebuilt.
    lay = L.build_layout(nt_plan, communes[2], tier, MARCH)
    copy = dataclasses.replace(lay, indicators=tuple(list(lay.indicators)), tasks=tuple(list(lay.tasks)))
    assert copy.indicators is not lay.indicators and copy.shape() == lay.shape()
    assert w.template(copy) is first
    phuoc_hoa = nt_registry.get(PHUOC_HOA)
    assert phuoc_hoa is not None
    other = w.template(L.build_layout(nt_plan, phuoc_hoa, tier, MARCH))   # adjusted target: another shape
    assert other is not first
    assert built == [communes[0].code, PHUOC_HOA]


def test_rendered_zip_is_sound_and_carries_the_template_parts(nt_plan: Plan, nt_registry: Registry) -> None:
    unit = nt_registry.get("STP")
    assert unit is not None
    lay = L.build_layout(nt_plan, unit, nt_registry.tier(unit.tier), MARCH)
    template = fastgen.build_template(lay, nt_plan, secret=SECRET)
    data = fastgen.render_unit(template, lay, secret=SECRET, generated=GENERATED)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None                       # every CRC and size right
        names = [i.filename for i in zf.infolist()]
        assert names == [p.name.decode() for p in template.parts]
        for part in template.parts:
            body = zf.read(part.name.decode())
            if part.pieces is None:
                assert part.static is not None and len(body) == part.static[1]
            else:
                assert fastgen.NAME_TOKEN.encode() not in body and fastgen.CODE_TOKEN.encode() not in body
        assert unit.name.encode() in zf.read("xl/sharedStrings.xml")


@pytest.mark.parametrize("pieces", [
    (b"<a>", b"T", b"</a>"),
    (b"", b"T", b"", b"T", b""),                      # empty literals around and between the tokens
    (b"x" * 70_000, b"T", b"y" * 3),                  # a literal longer than a stored block
])
@pytest.mark.parametrize("value", [b"", "Xã Phước Hòa".encode(), b"z" * 70_000])
def test_segments_and_stored_values_make_one_deflate_stream(pieces: tuple[bytes, ...], value: bytes) -> None:
    last = len(pieces) - 1
    stream = b"".join(fastgen._stored(value) if i % 2 else fastgen._segment(p, i == last)
                      for i, p in enumerate(pieces))
    plain = b"".join(value if i % 2 else p for i, p in enumerate(pieces))
    d = zlib.decompressobj(-15)
    assert d.decompress(stream) == plain and d.eof and not d.unused_data
