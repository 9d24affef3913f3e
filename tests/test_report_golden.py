"""Golden file: the report rendered from the shipped template for a small fixed context
(`tests/golden/bao-cao-2025-03.context.json`) is compared part by part with the reviewed copy
`tests/golden/bao-cao-2025-03.docx`.

Both files are unzipped; the volatile parts (`docProps/core.xml`) and attributes (`w:rsid*`) are dropped and
timestamps normalised. Then come, in order: the list of parts, the text of every paragraph, the section
properties, document.xml as a list of blocks (paragraphs and table, row, cell properties), styles.xml as a
list of styles, then every other XML part as a list of its child elements, so a failure names the first
part and element that differ; so are the charts (native chart parts, word/charts/chartN.xml). Pictures are
compared by pixel size only, other binary parts (the charts' embedded workbooks) by size.

The golden copy changes only on purpose: `pytest tests/test_report_golden.py --update-goldens` rewrites it;
look at the diff and at a rendered page (`soffice --headless --convert-to pdf`) before committing it.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
from docx.oxml.ns import qn
from lxml import etree

from cchc_excel.documents.report import default_template, render_report

GOLDEN = Path(__file__).resolve().parent / "golden"
CONTEXT = GOLDEN / "bao-cao-2025-03.context.json"
EXPECTED = GOLDEN / "bao-cao-2025-03.docx"

VOLATILE_PARTS = frozenset({"docProps/core.xml"})
# Blocks of document.xml compared one by one: paragraphs, and the properties of tables, rows, cells, sections.
BLOCKS = frozenset(qn(tag) for tag in ("w:p", "w:tblPr", "w:tblGrid", "w:trPr", "w:tcPr", "w:sectPr"))
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")
_SHOWN = 600


def _tree(data: bytes) -> etree._Element:
    """An XML part without revision-session ids (w:rsid* attributes, the w:rsids list of settings.xml)."""
    root = etree.fromstring(data)
    for element in list(root.iter(qn("w:rsids"))):
        element.getparent().remove(element)
    for element in root.iter():
        for attr in [a for a in element.attrib if etree.QName(a).localname.startswith("rsid")]:
            del element.attrib[attr]
    return root


def _text(element: etree._Element) -> str:
    """An element as canonical XML (attribute order fixed), timestamps replaced by a marker."""
    return _TIMESTAMP.sub("<date>", etree.tostring(element, method="c14n").decode("utf-8"))


def _blocks(element: etree._Element):
    for child in element:
        if child.tag in BLOCKS:
            yield child
        else:
            yield from _blocks(child)


def _png_size(data: bytes) -> str:
    width, height = struct.unpack(">II", data[16:24])
    return f"PNG {width}x{height}"


def docx_parts(path: Path) -> dict[str, list[str]]:
    """The comparable contents of a .docx, in the order they are compared (see the module docstring)."""
    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if n not in VOLATILE_PARTS)
        parts: dict[str, list[str]] = {"[parts]": names}
        document = _tree(z.read("word/document.xml"))
        parts["word/document.xml: paragraph texts"] = [
            "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in document.iter(qn("w:p"))]
        parts["word/document.xml: sectPr"] = [_text(s) for s in document.iter(qn("w:sectPr"))]
        parts["word/document.xml"] = [_text(b) for b in _blocks(document.find(qn("w:body")))]
        for name in names:
            data = z.read(name)
            if name == "word/document.xml":
                continue
            if name.endswith(".png"):
                parts[name] = [_png_size(data)]
            elif name.endswith((".xml", ".rels")):
                root = _tree(data)
                parts[name] = [root.tag, *(_text(child) for child in root)]
            else:
                parts[name] = [f"{len(data)} bytes"]
    return parts


def first_difference(expected: dict[str, list[str]], got: dict[str, list[str]]) -> str | None:
    """"part: element i" with both versions, for the first element that differs; None when all agree."""
    for key in [*expected, *(k for k in got if k not in expected)]:
        want, have = expected.get(key), got.get(key)
        if want == have:
            continue
        if want is None or have is None:
            return f"{key}: only in the {'rendered report' if want is None else 'golden copy'}"
        for i in range(max(len(want), len(have))):
            a = want[i] if i < len(want) else "<nothing>"
            b = have[i] if i < len(have) else "<nothing>"
            if a != b:
                return (f"{key}: element {i} of {len(want)} (rendered: {len(have)}) differs\n"
                        f"  golden:   {a[:_SHOWN]}\n  rendered: {b[:_SHOWN]}")
    return None


def render_golden_context(out_dir: Path) -> Path:
    context = json.loads(CONTEXT.read_text("utf-8"))
    return render_report(context, out_dir / EXPECTED.name, template=default_template(),
                         charts_dir=out_dir / "bieu-do")


def test_rendered_report_matches_the_golden_copy_part_by_part(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    out = render_golden_context(tmp_path)
    if request.config.getoption("--update-goldens", default=False):
        shutil.copyfile(out, EXPECTED)
    assert EXPECTED.is_file(), "no golden copy yet: run pytest tests/test_report_golden.py --update-goldens"
    difference = first_difference(docx_parts(EXPECTED), docx_parts(out))
    assert difference is None, difference + "\n(if the change is intended: pytest --update-goldens, review, commit)"


def test_golden_comparison_ignores_volatile_parts_and_names_the_first_difference(tmp_path: Path) -> None:
    out = render_golden_context(tmp_path)
    changed = tmp_path / "changed.docx"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", b"2031-01-01T00:00:00Z", data)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:p>", b'<w:p w:rsidR="00AB12CD">', 1)
            dst.writestr(item, data)
    assert first_difference(docx_parts(out), docx_parts(changed)) is None
    text = Path(tmp_path / "text.docx")
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(text, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace("BÁO CÁO".encode(), "BÁO  CÁO".encode(), 1)
            dst.writestr(item, data)
    difference = first_difference(docx_parts(out), docx_parts(text))
    assert difference and difference.startswith("word/document.xml: paragraph texts: element ")
