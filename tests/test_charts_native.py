"""The report's charts are native Word charts (documents/charts.py): a chart part per chart, related from the
document, with its workbook embedded; what the chart shows (order, red bars under the target, Vietnamese value
labels, the target in the legend) is read back from the chart XML, and LibreOffice draws it into the PDF."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.shared import Mm
from lxml import etree

from cchc_excel import bundled
from cchc_excel.core.vntext import format_percent
from cchc_excel.documents import office
from cchc_excel.documents.charts import chart_data, chart_part_xml, chart_workbook
from cchc_excel.documents.report import render_report, to_pdf
from tests.lo import needs_poppler

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
RT_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
CHART_CT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"


def sample() -> dict[str, Any]:
    return json.loads(bundled.template_file("report", "sample-context.json").read_text("utf-8"))


def series(xml: bytes) -> list[dict[str, Any]]:
    """Each series of a chart part: name, categories, values (None for a blank cell), fill colour, labels."""
    root = etree.fromstring(xml)
    out = []
    for ser in root.iter(f"{C}ser"):
        def cache(tag: str, ser: Any = ser) -> list[str | None]:
            node = ser.find(tag)
            if node is None:
                return []
            count = int(node.find(f".//{C}ptCount").get("val"))
            got: list[str | None] = [None] * count
            for pt in node.iter(f"{C}pt"):
                got[int(pt.get("idx"))] = pt.findtext(f"{C}v")
            return got
        fill = ser.find(f"{C}spPr/{A}solidFill/{A}srgbClr")
        labels: dict[int, str | None] = {}
        for d in ser.iter(f"{C}dLbl"):
            idx = int(d.find(f"{C}idx").get("val"))
            labels[idx] = None if d.find(f"{C}delete") is not None else "".join(t.text or "" for t in d.iter(f"{A}t"))
        out.append({"name": ser.find(f"{C}tx").findtext(f".//{C}v"), "categories": cache(f"{C}cat"),
                    "values": cache(f"{C}val"), "fill": fill.get("val") if fill is not None else None,
                    "labels": labels})
    return out


def test_bar_target_shows_units_in_order_under_target_in_red_with_vietnamese_labels() -> None:
    spec = sample()["charts"][0]
    data = chart_data(spec)
    xml = chart_part_xml(chart_workbook(data), "rId1")
    met, below, target = series(xml)
    assert met["name"] == "Đạt chỉ tiêu" and below["name"] == "Chưa đạt chỉ tiêu" and target["name"] == "Chỉ tiêu 75%"
    assert met["categories"] == spec["labels"] and below["categories"] == spec["labels"]
    assert (met["fill"], below["fill"]) == ("1F5F99", "C0392B")
    for i, v in enumerate(spec["values"]):
        mine, other = (below, met) if v < spec["target"] else (met, below)
        assert float(mine["values"][i]) == v and other["values"][i] is None
        # the value as the report writes it, fixed text (never the reader's locale): "27,74%"
        assert mine["labels"][i] == format_percent(v) and other["labels"][i] is None
    assert below["labels"][0] == "27,74%"
    root = etree.fromstring(xml)
    # the first unit at the top: the category axis reversed; the target never draws a bar
    assert root.find(f".//{C}catAx/{C}scaling/{C}orientation").get("val") == "maxMin"
    assert target["values"] == [None] * len(spec["values"])
    assert root.find(f".//{C}legend") is not None
    # the part points at its embedded workbook
    assert root.find(f"{C}externalData").get(f"{R}id") == "rId1"
    # in the schema's order, which Word enforces: ... chart, spPr, txPr, externalData, printSettings
    order = ["lang", "chart", "spPr", "txPr", "externalData", "printSettings"]
    tags = [etree.QName(child).localname for child in root]
    assert tags == sorted(tags, key=order.index)


def test_bar_and_line_kinds_and_bad_specs() -> None:
    bar = series(chart_part_xml(chart_workbook(chart_data(
        {"kind": "bar", "labels": ["A", "B"], "values": [1234.5, 7], "unit": " hồ sơ", "decimals": 1})), "rId1"))
    assert [s["labels"] for s in bar] == [{0: "1.234,5 hồ sơ", 1: "7,0 hồ sơ"}]
    line = series(chart_part_xml(chart_workbook(chart_data(
        {"kind": "line", "labels": ["T1", "T2", "T3"], "values": [70, 80.5, 90], "target": 75, "unit": "%"})), "rId1"))
    assert [s["name"] for s in line] == ["Giá trị", "Chỉ tiêu 75%"]
    assert line[0]["labels"] == {0: "70,00%", 1: "80,50%", 2: "90,00%"}
    assert [float(v) for v in line[1]["values"]] == [75.0] * 3
    with pytest.raises(ValueError, match="số nhãn"):
        chart_data({"labels": ["A"], "values": [1, 2]})
    with pytest.raises(ValueError, match="Không hỗ trợ loại biểu đồ 'pie'"):
        chart_data({"kind": "pie", "labels": [], "values": []})


def test_report_holds_chart_parts_with_their_workbooks(tmp_path: Path) -> None:
    out = render_report(sample(), tmp_path / "r.docx", charts_dir=tmp_path / "bieu-do")
    doc = Document(str(out))
    assert len(doc.inline_shapes) == 2
    assert all(abs(s.width - Mm(160)) <= Mm(1) for s in doc.inline_shapes)
    charts = [rel.target_part for rel in doc.part.rels.values() if rel.reltype == RT_CHART]
    assert sorted(str(p.partname) for p in charts) == ["/word/charts/chart1.xml", "/word/charts/chart2.xml"]
    assert all(p.content_type == CHART_CT for p in charts)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert not [n for n in names if n.startswith("word/media/")]
        for k in (1, 2):
            embedded = z.read(f"word/embeddings/Microsoft_Excel_Worksheet{k}.xlsx")
            with zipfile.ZipFile(io.BytesIO(embedded)) as book:
                assert "xl/charts/chart1.xml" in book.namelist()
        body = z.read("word/document.xml").decode("utf-8")
    assert body.count('uri="http://schemas.openxmlformats.org/drawingml/2006/chart"') == 2
    # charts_dir keeps each chart's workbook (its figures and the chart), to open in Excel
    assert sorted(p.name for p in (tmp_path / "bieu-do").iterdir()) == ["bieu-do-1.xlsx", "bieu-do-2.xlsx"]


def test_rendering_charts_never_imports_matplotlib(tmp_path: Path) -> None:
    code = ("import json, sys; from pathlib import Path; from cchc_excel import bundled; "
            "from cchc_excel.documents.report import render_report; "
            "ctx = json.loads(bundled.template_file('report', 'sample-context.json').read_text('utf-8')); "
            f"render_report(ctx, Path({str(tmp_path / 'r.docx')!r})); "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.libreoffice
@pytest.mark.skipif(not office.available(), reason="needs LibreOffice (soffice)")
@needs_poppler
@pytest.mark.slow
def test_libreoffice_draws_the_charts_with_vietnamese_labels(tmp_path: Path) -> None:
    pdf = to_pdf(render_report(sample(), tmp_path / "r.docx"), tmp_path)
    assert pdf is not None and pdf.is_file()
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    # the charts' own text: legend, value labels with decimal commas, axis ticks, unit names
    for seen in ("Chỉ tiêu 75%", "Chưa đạt chỉ tiêu", "Đạt chỉ tiêu", "27,74%", "97,50%", "48,30%", "100%",
                 "Sở Thông tin và Truyền thông", "UBND huyện Bác Ái"):
        assert seen in flat, seen
    assert "27.74" not in flat and "97.5%" not in flat


def test_a_value_label_rounds_half_up_as_the_report_text_does() -> None:
    """70.285 is "70,29%" in the report's sentences and tables (half up on the decimal value); the chart's
    label says the same, not the float's own "70,28"."""
    data = chart_data({"kind": "bar_target", "labels": ["A", "B"], "values": [70.285, 2.675], "target": 75,
                       "unit": "%"})
    assert [data.text(v) for v in data.values] == ["70,29%", "2,68%"]
    assert data.target_name == "Chỉ tiêu 75%"
