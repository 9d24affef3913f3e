"""The report's charts as native Word charts: a DrawingML chart part (c:chartSpace) in the .docx with the
workbook that holds its figures embedded beside it, as Word itself stores a chart (editable in Word: "Edit
Data" opens the workbook; LibreOffice draws it too, and converts it to PDF).

xlsxwriter (already the package's workbook writer) builds both: a small workbook with the figures and the
chart drawn from them; its chart part is the one Word uses (the same c:chartSpace schema), so no chart XML is
written by hand. Nothing is rasterised: no matplotlib to import (~1 s) and no drawing at 200 dpi (~0.7 s a
chart of 60 bars).

What the reader sees is the former picture's: horizontal bars in the given order, those under the target in
red, the others in blue, a legend "Đạt chỉ tiêu / Chưa đạt chỉ tiêu / Chỉ tiêu 75%", each bar's value written
Vietnamese-style ("87,50%", the text fixed in the chart, not a number format that Word or LibreOffice would
print with the reader's locale). The target is named in the legend (a dashed key), not drawn as a line across
the bars: neither a second chart type nor a secondary axis in a horizontal bar chart is drawn alike by Word
and LibreOffice.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.vntext import format_number

__all__ = ["CHART_WIDTH_MM", "ChartData", "NativeChart", "chart_data", "chart_part_xml", "chart_workbook"]

CHART_WIDTH_MM = 160
FONT = "Times New Roman"
TEXT_PT = 9          # axis labels
LABEL_PT = 8         # value labels and legend
MET_COLOR = "#1F5F99"
BELOW_COLOR = "#C0392B"
TARGET_COLOR = "#333333"
SHEET = "Sheet1"
# A fixed creation time: the same figures give the same embedded workbook, byte for byte.
_CREATED = datetime(2000, 1, 1)
_EMU_PER_INCH = 914400
_EMU_PER_MM = 36000
_CHART_CT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_XLSX_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RT_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
_RT_PACKAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"
KINDS = ("bar_target", "bar", "line")


@dataclass(frozen=True)
class ChartData:
    """One chart spec checked and worked out: what the chart shows, before any XML."""

    kind: str
    labels: list[str]
    values: list[float]
    target: float | None
    unit: str
    decimals: int
    height_in: float

    def text(self, value: float) -> str:
        """A value as its label reads: "87,50%"."""
        return f"{format_number(value, self.decimals)}{self.unit}"

    @property
    def target_name(self) -> str:
        """"Chỉ tiêu 75%" (a whole target without decimals)."""
        t = float(self.target or 0)
        return f"Chỉ tiêu {format_number(t, 0 if t.is_integer() else self.decimals)}{self.unit}"

    def below(self, value: float) -> bool:
        return self.target is not None and value < self.target


def chart_data(spec: Mapping[str, Any]) -> ChartData:
    """Check a chart spec (kinds "bar_target", "bar", "line"; as many labels as values) and read it."""
    kind = str(spec.get("kind", "bar_target"))
    labels = [str(x) for x in spec.get("labels") or []]
    values = [float(v) for v in spec.get("values") or []]
    if len(labels) != len(values):
        raise ValueError(f"Biểu đồ '{spec.get('title', '')}': số nhãn ({len(labels)}) khác số giá trị ({len(values)}).")
    if kind not in KINDS:
        raise ValueError(f"Không hỗ trợ loại biểu đồ '{kind}' (bar_target, bar, line).")
    target = spec.get("target")
    # the former pictures' heights: a row of 0.22 in per bar, a line chart 2.8 in
    height = 2.8 if kind == "line" else 1.1 + 0.22 * max(len(values), 1)
    return ChartData(kind, labels, values, float(target) if target is not None else None,
                     str(spec.get("unit", "")), int(spec.get("decimals", 2)), height)


def _step(span: float) -> float:
    """A round tick step giving about six ticks over `span` (1, 2 or 5 times a power of ten)."""
    raw = span / 6
    power = 10.0 ** math.floor(math.log10(raw))
    return next(k * power for k in (1, 2, 5, 10) if k * power >= raw)


def _axis_format(unit: str) -> str:
    """Whole tick values with a dot for thousands, whatever the reader's locale ("1.000%")."""
    u = f'"{unit.replace(chr(34), "")}"' if unit else ""
    return f'[>=1000000]#"."###"."##0{u};[>=1000]#"."##0{u};0{u}'


def _font(size: float) -> dict[str, Any]:
    return {"name": FONT, "size": size}


def _labels(data: ChartData, shown: Sequence[bool]) -> dict[str, Any]:
    """Each shown point's value as fixed text; the others' labels deleted (their cells are blank)."""
    custom = [{"value": data.text(v)} if keep else {"delete": True} for v, keep in zip(data.values, shown, strict=True)]
    return {"value": True, "custom": custom, "font": _font(LABEL_PT)}


def chart_workbook(data: ChartData) -> bytes:
    """An .xlsx holding the chart's figures on Sheet1 and the chart drawn from them (its xl/charts/chart1.xml is
    the Word chart part)."""
    import xlsxwriter

    n = len(data.values)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"created": _CREATED})
    sheet = book.add_worksheet(SHEET)
    categories = [SHEET, 1, 0, n, 0]
    sheet.write_string(0, 0, "Đơn vị" if data.kind != "line" else "Kỳ")
    sheet.write_column(1, 0, data.labels)
    grid = {"visible": True, "line": {"color": "#BBBBBB", "dash_type": "round_dot", "width": 0.5}}
    axis_line = {"color": "#000000", "width": 0.75}
    if data.kind == "line":
        chart = book.add_chart({"type": "line"})
        sheet.write_string(0, 1, "Giá trị")
        sheet.write_column(1, 1, data.values)
        chart.add_series({"name": [SHEET, 0, 1], "categories": categories, "values": [SHEET, 1, 1, n, 1],
                          "line": {"color": MET_COLOR, "width": 1.5},
                          "marker": {"type": "circle", "size": 5, "fill": {"color": MET_COLOR},
                                     "border": {"color": MET_COLOR}},
                          "data_labels": {**_labels(data, [True] * n), "position": "above"}})
        if data.target is not None:
            sheet.write_string(0, 2, data.target_name)
            sheet.write_column(1, 2, [data.target] * n)
            chart.add_series({"name": [SHEET, 0, 2], "categories": categories, "values": [SHEET, 1, 2, n, 2],
                              "line": {"color": BELOW_COLOR, "dash_type": "dash", "width": 1},
                              "marker": {"type": "none"}})
            chart.set_legend({"position": "bottom", "font": _font(LABEL_PT), "delete_series": [0]})
        else:
            chart.set_legend({"none": True})
        chart.set_x_axis({"num_font": _font(TEXT_PT), "line": axis_line})
        chart.set_y_axis({"num_format": _axis_format(data.unit), "num_font": _font(TEXT_PT), "line": {"none": True},
                          "major_gridlines": grid})
    else:
        chart = book.add_chart({"type": "bar"})
        top = max([*data.values, data.target or 0.0, 1.0])
        upper = 100.0 if data.unit == "%" and top <= 100 else top * 1.12
        bar = {"fill": None, "border": {"none": True}, "gap": 61, "overlap": 100}   # bars 0.62 of a row
        split = data.kind == "bar_target" and data.target is not None
        columns = [("Đạt chỉ tiêu", MET_COLOR, [not data.below(v) for v in data.values])]
        if split:
            columns.append(("Chưa đạt chỉ tiêu", BELOW_COLOR, [data.below(v) for v in data.values]))
        else:
            columns = [("Giá trị", MET_COLOR, [True] * n)]
        for col, (name, color, shown) in enumerate(columns, start=1):
            sheet.write_string(0, col, name)
            for row, (value, keep) in enumerate(zip(data.values, shown, strict=True), start=1):
                if keep:
                    sheet.write_number(row, col, value)
            chart.add_series({"name": [SHEET, 0, col], "categories": categories,
                              "values": [SHEET, 1, col, n, col], **bar, "fill": {"color": color},
                              "data_labels": {**_labels(data, shown), "position": "outside_end"}})
        if split:
            # no bars, only the legend's dashed key: "Chỉ tiêu 75%"
            col = len(columns) + 1
            sheet.write_string(0, col, data.target_name)
            chart.add_series({"name": [SHEET, 0, col], "categories": categories, "values": [SHEET, 1, col, n, col],
                              **bar, "fill": {"none": True},
                              "border": {"color": TARGET_COLOR, "dash_type": "square_dot", "width": 1.25}})
            chart.set_legend({"position": "top", "font": _font(LABEL_PT)})
        else:
            chart.set_legend({"none": True})
        # the first label at the top (categories reversed), the value axis kept at the bottom
        chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": _font(TEXT_PT), "line": axis_line,
                          "major_tick_mark": "outside"})
        chart.set_x_axis({"min": 0, "max": upper * 1.08, "major_unit": _step(upper * 1.08),
                          "num_format": _axis_format(data.unit), "num_font": _font(TEXT_PT), "line": axis_line,
                          "major_tick_mark": "outside", "minor_tick_mark": "none", "major_gridlines": grid})
    chart.set_chartarea({"border": {"none": True}})
    chart.set_plotarea({"border": {"none": True}})
    chart.set_size({"width": round(CHART_WIDTH_MM / 25.4 * 96), "height": round(data.height_in * 96)})
    sheet.insert_chart("E2", chart)
    book.close()
    return buffer.getvalue()


def chart_part_xml(workbook: bytes, rid: str) -> bytes:
    """The workbook's chart as Word's chart part, pointing at the embedded workbook (relationship `rid`)."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as z:
        xml = z.read("xl/charts/chart1.xml")
    external = f'<c:externalData r:id="{rid}"><c:autoUpdate val="0"/></c:externalData>'.encode("ascii")
    # the schema's order (Word refuses a part out of it): externalData before printSettings, else last
    at = xml.find(b"<c:printSettings")
    if at < 0:
        at = xml.rindex(b"</c:chartSpace>")
    return xml[:at] + external + xml[at:]


def _inline(rid: str, cx: int, cy: int, shape_id: int, name: str) -> str:
    """The run content placing a chart part inline (as Word writes it)."""
    return (
        '<w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{shape_id}" name="{name}"/><wp:cNvGraphicFramePr/>'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        '<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="{rid}"/>'
        '</a:graphicData></a:graphic></wp:inline></w:drawing>')


class NativeChart:
    """A chart for a docxtpl template, used like docxtpl's InlineImage (`{{ chart.image }}`): when the template
    prints it, the chart part and its workbook are added to the part being rendered and the drawing goes in
    the paragraph's place. The workbook is built at once (a bad spec fails before rendering starts) and, with
    `keep`, also written there (the chart and its figures, to open in Excel)."""

    def __init__(self, tpl: Any, spec: Mapping[str, Any], number: int, keep: Path | None = None) -> None:
        self.tpl, self.number = tpl, number
        self.data = chart_data(spec)
        self.workbook = chart_workbook(self.data)
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_bytes(self.workbook)

    def _insert(self) -> str:
        from docx.opc.part import Part

        part = self.tpl.current_rendering_part
        package = part.package
        embedded = Part(package.next_partname("/word/embeddings/Microsoft_Excel_Worksheet%d.xlsx"), _XLSX_CT,
                        self.workbook, package)
        partname = package.next_partname("/word/charts/chart%d.xml")
        chart = Part(partname, _CHART_CT, chart_part_xml(self.workbook, "rId1"), package)
        chart.rels.add_relationship(_RT_PACKAGE, embedded, "rId1")
        rid = part.relate_to(chart, _RT_CHART)
        cx = CHART_WIDTH_MM * _EMU_PER_MM
        cy = round(self.data.height_in * _EMU_PER_INCH)
        # docxtpl renumbers every docPr of the body after rendering (unique ids, as Word wants)
        drawing = _inline(rid, cx, cy, self.number, f"Biểu đồ {self.number}")
        return f'</w:t></w:r><w:r>{drawing}</w:r><w:r><w:t xml:space="preserve">'

    def __html__(self) -> str:
        return self._insert()

    def __str__(self) -> str:
        return self._insert()
