"""Word report: the default template (NĐ 30 layout), rendering the sample context, escaping of clerk
text, template checks and the LibreOffice PDF round trip."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree

from cchc_excel import bundled
from cchc_excel.core.problems import MESSAGES, Problem
from cchc_excel.documents.report import check_template, default_template, render_report, to_pdf

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = bundled.template_file("report", "sample-context.json")
TOOL = ROOT / "tools" / "build_report_template.py"
ITEM4 = "4. Tình hình, kết quả triển khai nhiệm vụ cải cách thủ tục hành chính"
TNR = "Times New Roman"


def load_sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text("utf-8"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped template, the file the officer edits and the renderer uses."""
    copy_path = tmp_path_factory.mktemp("tpl") / "bao-cao-thang.docx"
    shutil.copy(default_template(), copy_path)
    return copy_path


def paragraph_of(found: Problem) -> int:
    """The paragraph index a template problem names ("Đoạn 12")."""
    match = re.fullmatch(r"Đoạn (\d+)", found.cell or "")
    assert match, found
    return int(match.group(1))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Path:
    out = tmp_path_factory.mktemp("render") / "bao-cao.docx"
    return render_report(load_sample(), out, template=template)


def body_text(doc: Any) -> str:
    return "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p")))


def paragraph_texts(doc: Any) -> list[str]:
    """Paragraph texts with the headings' non-breaking spaces read as spaces."""
    return [p.text.replace("\u00a0", " ") for p in doc.paragraphs]


def table_texts(doc: Any) -> list[str]:
    return [cell.text for t in doc.tables for row in t.rows for cell in row.cells]


# --------------------------------------------------------------------------------------------
# template
# --------------------------------------------------------------------------------------------

def test_shipped_template_exists_and_checks_clean() -> None:
    assert default_template().is_file(), "templates/report/bao-cao-thang.docx is missing"
    assert check_template(default_template(), load_sample()) == []


@pytest.mark.skipif(not TOOL.is_file(), reason="the developer tool is not part of an installed package")
def test_developer_tool_builds_a_template_that_checks_clean(tmp_path: Path) -> None:
    import runpy

    built = runpy.run_path(str(TOOL))["build_default_template"](tmp_path / "mau.docx")
    assert check_template(built, load_sample()) == []
    assert body_text(Document(str(built))) == body_text(Document(str(default_template()))), \
        "the shipped template and tools/build_report_template.py differ: carry the change over to the other"


def test_case_table_headers_are_the_layout_labels() -> None:
    from cchc_excel.core.layout import CASE_COLUMNS

    doc = Document(str(default_template()))
    case = next(t for t in doc.tables if any("{%tr for row in item4.case_table.rows %}" in c.text for c in t._cells))
    headers = {c.text for row in case.rows[:2] for c in row.cells}
    assert {c.label for c in CASE_COLUMNS} <= headers
    assert {c.group for c in CASE_COLUMNS if c.group} <= headers


def test_template_uses_tr_loop_and_p_loops(template: Path) -> None:
    text = body_text(Document(str(template)))
    assert "{%tr for row in item4.case_table.rows %}" in text
    assert "{%p for part in parts %}" in text
    assert "{{p rendered.appendix_table }}" in text


# --------------------------------------------------------------------------------------------
# rendered layout
# --------------------------------------------------------------------------------------------

def test_page_setup_a4_margins(rendered: Path) -> None:
    doc = Document(str(rendered))
    main = doc.sections[0]
    assert abs(main.page_width - Mm(210)) <= Mm(1) and abs(main.page_height - Mm(297)) <= Mm(1)
    assert main.orientation == WD_ORIENT.PORTRAIT
    for value, mm in ((main.top_margin, 20), (main.bottom_margin, 20), (main.left_margin, 30), (main.right_margin, 15)):
        assert abs(value - Mm(mm)) <= Mm(0.5)
    assert len(doc.sections) == 3          # the report, Phụ lục I, Phụ lục II
    for appendix in doc.sections[1:]:
        assert appendix.orientation == WD_ORIENT.LANDSCAPE
        assert abs(appendix.page_width - Mm(297)) <= Mm(1)
        assert appendix._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"


def test_times_new_roman_in_styles_and_defaults(rendered: Path) -> None:
    doc = Document(str(rendered))
    styles = doc.styles.element
    default_fonts = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    normal_fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    for rfonts in (default_fonts, normal_fonts):
        for attr in ("ascii", "hAnsi", "cs", "eastAsia"):
            assert rfonts.get(qn(f"w:{attr}")) == TNR
        assert rfonts.get(qn("w:asciiTheme")) is None
    normal = doc.styles["Normal"]
    assert normal.font.size.pt == 14
    pf = normal.paragraph_format
    assert pf.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert abs(pf.first_line_indent.cm - 1.27) < 0.01
    assert pf.space_after.pt >= 6
    assert 1.0 <= (pf.line_spacing or 1.0) <= 1.15


def test_header_block(rendered: Path) -> None:
    doc = Document(str(rendered))
    header = doc.tables[0]
    texts = [p.text for cell in header._cells for p in cell.paragraphs]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts
    assert "Độc lập - Tự do - Hạnh phúc" in texts
    assert "Số:      /BC-UBND" in texts
    assert "Ninh Thuận, ngày 20 tháng 3 năm 2025" in texts
    issuer = next(p for cell in header._cells for p in cell.paragraphs if p.text == "ỦY BAN NHÂN DÂN TỈNH NINH THUẬN")
    assert all(r.bold for r in issuer.runs if r.text)
    assert header.cell(0, 0).paragraphs[0].text == "ỦY BAN NHÂN DÂN TỈNH NINH THUẬN"  # empty superior: no line
    # borderless
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert all(b.get(qn("w:val")) in ("nil", "none") for b in borders)


def test_body_outline_and_numbers(rendered: Path) -> None:
    doc = Document(str(rendered))
    paras = paragraph_texts(doc)
    assert "BÁO CÁO" in paras
    assert "I. TÌNH HÌNH, KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH THỦ TỤC HÀNH CHÍNH" in paras
    assert ITEM4 in paras
    assert any(p.startswith("a) Tỷ lệ hồ sơ trực tuyến") for p in paras)
    assert any("cấp tỉnh đạt 78,45% (chỉ tiêu tối thiểu 75%)" in p for p in paras)
    assert any("Sở Tư pháp: 27,74%" in p for p in paras)
    assert any(p.startswith("d) Tình hình thực hiện nhiệm vụ") for p in paras)  # letters continue after c)
    assert "II. ĐÁNH GIÁ CHUNG" in paras
    cells = table_texts(doc)
    for number in ("12.846", "28.533", "78,45%", "17/21", "27,74%", "48,30%", "Quý I/2025"):
        assert number in cells, number
    assert "Phụ lục I" in paras and "Phụ lục II" in paras
    assert not any("{{" in t or "{%" in t for t in paras + cells)


def test_to_complete_paragraphs_are_marked(rendered: Path) -> None:
    doc = Document(str(rendered))
    marked = [p for p in doc.paragraphs if p.text.startswith("[Nội dung cần bổ sung")]
    assert len(marked) >= 4
    for p in marked:
        assert all(r.italic and r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in p.runs if r.text)
    assert not any(p.text.startswith("[Nội dung cần bổ sung: Trong tháng, Chủ tịch") for p in doc.paragraphs)


def test_tables_bordered_header_repeated_numbers_right(rendered: Path) -> None:
    doc = Document(str(rendered))
    appendix = table_with_header(doc, load_sample()["appendix"]["columns"])
    assert appendix.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert appendix._tbl.tblPr.find(qn("w:tblBorders")).find(qn("w:top")).get(qn("w:val")) == "single"
    assert all(r.bold for r in appendix.rows[0].cells[1].paragraphs[0].runs)
    row = next(r for r in appendix.rows if r.cells[1].text == "Sở Tư pháp")
    assert row.cells[3].text == "27,74%"
    assert row.cells[3].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert row.cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    case = next(t for t in doc.tables if any(c.text == "Tổng cộng" for c in t._cells))
    assert len(case.columns) == 13 and case.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_page_number_field_in_header_from_page_two(rendered: Path) -> None:
    doc = Document(str(rendered))
    section = doc.sections[0]
    assert section.different_first_page_header_footer
    header_xml = etree.tostring(section.header._element, encoding="unicode")
    assert "PAGE" in header_xml and "fldChar" in header_xml
    first_xml = etree.tostring(section.first_page_header._element, encoding="unicode")
    assert "PAGE" not in first_xml


def test_signature_band(rendered: Path) -> None:
    doc = Document(str(rendered))
    sign = next(t for t in doc.tables if "Nơi nhận:" in t.cell(0, 0).text)
    left = [p.text for p in sign.cell(0, 0).paragraphs]
    assert left[0] == "Nơi nhận:" and left[1] == "- Văn phòng Chính phủ (b/c);" and left[-1] == "- Lưu: VT, TTPVHCC."
    right = [p.text for p in sign.cell(0, 1).paragraphs if p.text]
    assert right == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Long Biên"]


def test_charts_inserted_with_captions(rendered: Path) -> None:
    doc = Document(str(rendered))
    assert len(doc.inline_shapes) == 2
    assert abs(doc.inline_shapes[0].width - Mm(160)) <= Mm(1)
    paras = paragraph_texts(doc)
    assert any(p.startswith("Biểu đồ 1. Tỷ lệ hồ sơ trực tuyến") for p in paras)
    assert any(p.startswith("Biểu đồ 2.") for p in paras)


def test_charts_dir_keeps_chart_workbooks(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    render_report(ctx, tmp_path / "r.docx", template=template, charts_dir=tmp_path / "charts")
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["bieu-do-1.xlsx", "bieu-do-2.xlsx"]


def test_a_years_totals_never_break_inside_a_figure_in_table_2(tmp_path: Path, template: Path) -> None:
    """A province's year: "1.234.567" does not fit the form's 12 mm columns at 11 pt; the figures shrink
    (not below 7,5 pt) instead of wrapping as "1.234.56" over "7", and the header keeps its size."""
    from cchc_excel.documents.report import _figure_width_mm

    ctx = load_sample()
    big = ["1", "Cấp tỉnh", "1.234.567", "1.034.567", "190.000", "10.000", "1.200.000", "700.000", "499.000",
           "1.000", "34.567", "30.000", "4.567"]
    ctx["item4"]["case_table"]["rows"] = [big]
    doc = Document(str(render_report(ctx, tmp_path / "r.docx", template=template)))
    case = next(t for t in doc.tables if len(t.columns) == 13 and "Số hồ sơ nhận giải quyết" in t.rows[0].cells[2].text)
    row = case.rows[3]
    sizes = {run.font.size.pt for cell in row.cells for par in cell.paragraphs for run in par.runs if run.font.size}
    assert len(sizes) == 1 and 7.5 <= min(sizes) < 11, sizes
    for j, cell in enumerate(row.cells[2:], start=2):
        assert _figure_width_mm(cell.text, min(sizes)) + 1.25 <= case.columns[j].width.mm, (j, cell.text)
    head_sizes = {run.font.size.pt for par in case.rows[0].cells[2].paragraphs for run in par.runs if run.font.size}
    assert head_sizes in ({11.0}, set()), head_sizes


# --------------------------------------------------------------------------------------------
# escaping
# --------------------------------------------------------------------------------------------

def test_clerk_text_is_literal(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    ctx["office"]["issuer"] = "Sở A & B <test>"
    ctx["item4"]["difficulties"][0]["text"] = "{{ 7*7 }}"
    ctx["item4"]["difficulties"][0]["units"] = "{% if %} x"
    ctx["parts"][1]["paragraphs"] = ['Báo cáo "{%p endfor %}" & <b>đậm</b>\x07\x0c']
    ctx["appendix"]["groups"][0]["rows"][0][1] = "Sở Tư pháp & <Hộ tịch> {{ x }}"
    out = render_report(ctx, tmp_path / "escaped.docx", template=template)

    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                etree.fromstring(z.read(name))  # every part is still well-formed XML
    doc = Document(str(out))
    texts = paragraph_texts(doc) + [p.text for c in doc.tables[0]._cells for p in c.paragraphs]
    assert "Sở A & B <test>" in texts
    assert "- {{ 7*7 }} (đơn vị phản ánh: {% if %} x);" in texts
    assert 'Báo cáo "{%p endfor %}" & <b>đậm</b>' in texts
    assert "Sở Tư pháp & <Hộ tịch> {{ x }}" in table_texts(doc)
    assert not any("49" in t for t in texts if "đơn vị phản ánh" in t)


# --------------------------------------------------------------------------------------------
# check_template
# --------------------------------------------------------------------------------------------

def test_check_template_names_broken_paragraph(tmp_path: Path, template: Path) -> None:
    broken = tmp_path / "broken.docx"
    doc = Document(str(template))
    target = next(p for c in doc.tables[0]._cells for p in c.paragraphs if p.text == "{{ office.issuer }}")
    target.runs[0].text = "{{ office.issuer "
    doc.save(str(broken))

    issues = check_template(broken)
    assert [i.code for i in issues] == ["template-tag-unclosed"]
    hit = issues[0]
    assert hit.value == "{{ office.issuer " and hit.file == str(broken)
    assert hit.message.startswith(f"{hit.cell} của mẫu (“{{{{ office.issuer”)")
    all_paras = list(Document(str(broken)).element.body.iter(qn("w:p")))
    assert "".join(t.text for t in all_paras[paragraph_of(hit)].iter(qn("w:t"))) == "{{ office.issuer "
    with pytest.raises(Exception):  # noqa: B017 - docxtpl/jinja raise their own syntax error
        render_report(load_sample(), tmp_path / "x.docx", template=broken)


def test_check_template_finds_unclosed_loop(tmp_path: Path, template: Path) -> None:
    broken = tmp_path / "open-loop.docx"
    doc = Document(str(template))
    opening = next(i for i, p in enumerate(doc.paragraphs) if p.text == "{%p for part in parts %}")
    endfor = next(p for p in doc.paragraphs[opening:] if p.text == "{%p endfor %}")
    endfor.runs[0].text = "Đã xóa nhầm"
    doc.save(str(broken))
    issues = check_template(broken)
    assert [(i.code, i.name) for i in issues] == [("template-block-unclosed", "for")]
    assert issues[0].value.startswith("{%p for ")


def test_check_template_reports_missing_variables(template: Path) -> None:
    ctx = load_sample()
    del ctx["appendix"]
    del ctx["report"]["subject"]
    issues = check_template(template, ctx)
    assert {i.code for i in issues} == {"template-field-missing"}
    names = {i.name for i in issues}
    assert "appendix" in names
    assert "report.subject" in names
    assert check_template(template, load_sample()) == []
    subject = next(i for i in issues if i.name == "report.subject")
    assert subject.message == MESSAGES["template-field-missing"][1].format(file=template, name="report.subject")


def test_check_template_data_of_the_wrong_shape(template: Path) -> None:
    ctx = load_sample()
    ctx["parts"] = 7  # a number where the template loops over a list
    assert [i.code for i in check_template(template, ctx)] == ["template-data-shape"]


def test_check_template_file_that_is_not_a_docx(tmp_path: Path) -> None:
    text = tmp_path / "not-a-docx.docx"
    text.write_text("xin chào", "utf-8")
    workbook = tmp_path / "bang-tinh.docx"
    with zipfile.ZipFile(workbook, "w") as z:
        z.writestr("[Content_Types].xml", '<Types><Override ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/></Types>')
    for path in (text, workbook):
        issues = check_template(path)
        assert [(i.code, i.file) for i in issues] == [("template-not-docx", str(path))]
        assert "Package" not in issues[0].message and "not found" not in issues[0].message


def test_check_template_damaged_docx(tmp_path: Path, template: Path) -> None:
    cut = tmp_path / "cut.docx"
    cut.write_bytes(template.read_bytes()[:5000])  # a copy that stopped half-way
    broken_xml = tmp_path / "broken-xml.docx"
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(broken_xml, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    for path in (cut, broken_xml):
        assert [i.code for i in check_template(path)] == ["template-damaged"], path
    assert [i.code for i in check_template(tmp_path / "khong-co.docx")] == ["path-missing"]


@pytest.mark.parametrize(("typed", "code", "name"), [
    ("{{ office.issuer office.place }}", "template-tag-invalid", None),
    ("{%p fro x in office.recipients %}", "template-tag-unknown", "fro"),
    ("{%p endif %}", "template-block-unmatched", "endif"),
])
def test_check_template_classifies_broken_tags(tmp_path: Path, template: Path, typed: str, code: str,
                                               name: str | None) -> None:
    doc = Document(str(template))
    target = next(p for c in doc.tables[0]._cells for p in c.paragraphs if p.text == "{{ office.issuer }}")
    target.runs[0].text = typed
    doc.save(str(tmp_path / "mau.docx"))
    issues = check_template(tmp_path / "mau.docx")
    assert [(i.code, i.name) for i in issues] == [(code, name)]
    assert issues[0].value == typed and "Đoạn " in issues[0].cell
    assert not re.search(r"[Ee]xpected|[Uu]nexpected|[Ee]ncountered", issues[0].message)


def test_without_appendix_stays_portrait(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    ctx["appendix"] = None
    ctx.pop("followup")
    doc = Document(str(render_report(ctx, tmp_path / "no-appendix.docx", template=template)))
    assert len(doc.sections) == 1
    assert doc.sections[0].orientation == WD_ORIENT.PORTRAIT
    assert abs(doc.sections[0].page_width - Mm(210)) <= Mm(1)
    assert "Phụ lục" not in paragraph_texts(doc)


def test_follow_up_appendix_is_phu_luc_ii_on_its_own_landscape_pages(rendered: Path) -> None:
    """Issue 18: the plan follow-up table is the report's second appendix — landscape, numbered from 1, header
    row repeated, the subtitle with its blanks, group rows across the table, a cell's lines kept apart."""
    ctx = load_sample()
    doc = Document(str(rendered))
    paras = paragraph_texts(doc)
    at = paras.index("Phụ lục II")
    assert paras[at + 1] == ctx["followup"]["title"]
    assert paras[at + 2] == "(Kèm theo Báo cáo số      /BC-UBND ngày      tháng 3 năm 2025 của UBND tỉnh Ninh Thuận)"
    assert paras.index("Phụ lục I") < at
    table = table_with_header(doc, ctx["followup"]["columns"])
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    landscape = 297 - 30 - 15
    assert landscape - 1 <= table_width_mm(table) <= landscape + 0.5
    widths = [int(g.get(qn("w:w"))) for g in table._tbl.tblGrid.iterfind(qn("w:gridCol"))]
    assert widths[5] > widths[2] > widths[0]            # the seed's shares: Ghi chú wide, STT narrow
    assert [r.cells[0].text for r in table.rows[1:]][:2] == ["A. Chỉ tiêu", "1"]
    task = next(r for r in table.rows if r.cells[0].text == "II.3.a")
    assert len(task.cells[3]._tc.findall(".//" + qn("w:br"))) == 1      # "- Văn phòng UBND tỉnh" / "- Các cơ quan …"
    assert "Văn phòng UBND tỉnh" in task.cells[3].text
    body = doc.element.body
    last = body.find(qn("w:sectPr"))
    assert last.find(qn("w:pgSz")).get(qn("w:orient")) == "landscape"


@pytest.mark.parametrize(("keep", "sections", "titles"), [
    ("appendix", 2, ["Phụ lục I"]), ("followup", 2, ["Phụ lục II"]), (None, 1, []),
])
def test_either_appendix_may_be_left_out(tmp_path: Path, template: Path, keep: str | None, sections: int,
                                         titles: list[str]) -> None:
    ctx = load_sample()
    for key in ("appendix", "followup"):
        if key != keep:
            ctx[key] = None
    doc = Document(str(render_report(ctx, tmp_path / "r.docx", template=template)))
    assert len(doc.sections) == sections
    assert doc.sections[0].orientation == WD_ORIENT.PORTRAIT
    assert [s.orientation for s in doc.sections[1:]] == [WD_ORIENT.LANDSCAPE] * (sections - 1)
    assert [p for p in paragraph_texts(doc) if p.startswith("Phụ lục")] == titles


def test_kinh_gui_and_superior(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    ctx["office"]["superior"] = "UBND TỈNH NINH THUẬN"
    ctx["office"]["kinh_gui"] = ["Văn phòng Chính phủ", "Bộ Nội vụ"]
    doc = Document(str(render_report(ctx, tmp_path / "kg.docx", template=template)))
    header = [p.text for c in doc.tables[0]._cells for p in c.paragraphs]
    assert header.index("UBND TỈNH NINH THUẬN") < header.index("ỦY BAN NHÂN DÂN TỈNH NINH THUẬN")
    paras = paragraph_texts(doc)
    assert "Kính gửi:" in paras and "- Văn phòng Chính phủ;" in paras and "- Bộ Nội vụ." in paras


# --------------------------------------------------------------------------------------------
# LibreOffice
# --------------------------------------------------------------------------------------------

def _fallback_pdf(docx: Path, out_dir: Path) -> Path:
    """soffice --convert-to pdf with a private profile (used only if cchc_excel.documents.office is unavailable)."""
    profile = Path(tempfile.mkdtemp(prefix="lo_report_"))
    try:
        with open(profile / "log", "wb") as log:
            subprocess.run(
                [shutil.which("soffice") or "soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                 "--convert-to", "pdf", "--outdir", str(out_dir), str(docx)],
                stdout=log, stderr=subprocess.STDOUT, timeout=180, check=False,
                env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
            )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return out_dir / f"{docx.stem}.pdf"


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="needs LibreOffice (soffice) and poppler-utils")
def test_pdf_round_trip(tmp_path: Path, rendered: Path) -> None:
    pdf = to_pdf(rendered, tmp_path) or _fallback_pdf(rendered, tmp_path)
    assert pdf.is_file()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= 2
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "BÁO CÁO" in flat
    assert "Sở Tư pháp: 27,74%" in flat
    assert "Phụ lục" in flat
    assert ITEM4 in flat
    assert "{{" not in flat and "{%" not in flat


def test_render_does_not_mutate_context(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    before = copy.deepcopy(ctx)
    render_report(ctx, tmp_path / "r.docx", template=template)
    assert ctx == before


# --------------------------------------------------------------------------------------------
# drafts, letters, fonts (issue 12)
# --------------------------------------------------------------------------------------------

def header_texts(doc: Any) -> list[str]:
    out = []
    for section in doc.sections:
        for part in (section.header, section.first_page_header):
            out.append("".join(t.text or "" for t in part._element.iter(qn("w:t"))))
    return out


def completed(ctx: dict[str, Any]) -> dict[str, Any]:
    for owner in [*ctx["parts"], *ctx["sections_after"]]:
        owner["to_complete"] = False
        owner.pop("todo", None)
    return ctx


def test_draft_mark_on_every_page_while_placeholders_remain(tmp_path: Path, template: Path) -> None:
    from cchc_excel.documents.report import placeholders_left

    ctx = load_sample()
    assert placeholders_left(ctx)
    doc = Document(str(render_report(ctx, tmp_path / "draft.docx", template=template)))
    heads = header_texts(doc)
    assert heads and all("DỰ THẢO" in h for h in heads), heads
    done = completed(load_sample())
    doc = Document(str(render_report(done, tmp_path / "final.docx", template=template)))
    assert not any("DỰ THẢO" in h for h in header_texts(doc))


def test_final_report_refuses_while_a_placeholder_is_left(tmp_path: Path, template: Path) -> None:
    from cchc_excel.documents.report import PlaceholdersLeft

    with pytest.raises(PlaceholdersLeft) as info:
        render_report(load_sample(), tmp_path / "x.docx", template=template, final=True)
    assert "II. ĐÁNH GIÁ CHUNG" in str(info.value) and "1. Công tác kiểm soát" in str(info.value)
    assert not (tmp_path / "x.docx").exists()
    assert render_report(completed(load_sample()), tmp_path / "y.docx", template=template, final=True).is_file()


def test_todo_items_are_marked_and_paragraphs_are_not(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    ctx["sections_after"][0] = {"number": "II", "heading": "ĐÁNH GIÁ CHUNG", "to_complete": True,
                                "paragraphs": ["Trong kỳ, 23/37 lượt chỉ tiêu đạt."], "todo": ["Ưu điểm."]}
    paras = paragraph_texts(Document(str(render_report(ctx, tmp_path / "t.docx", template=template))))
    assert "Trong kỳ, 23/37 lượt chỉ tiêu đạt." in paras
    assert "[Nội dung cần bổ sung: Ưu điểm.]" in paras


def test_twenty_points_are_lettered_without_gap_or_repeat(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    base = ctx["item4"]["indicator_points"][0]
    ctx["item4"]["indicator_points"] = [{**base, "label": "", "title": f"Chỉ tiêu số {i}"} for i in range(17)]
    ctx["item4"].pop("labels", None)
    paras = paragraph_texts(Document(str(render_report(ctx, tmp_path / "p.docx", template=template))))
    fixed = [p.split(")")[0] for p in paras if p.split(" ")[0].endswith(")") and not p.startswith("(")
             and any(p.startswith(f"{x}) ") for x in "abcdđeghiklmnopqrstuvxy")]
    assert fixed[-3:] == ["s", "t", "u"], fixed
    assert len(set(fixed[-3:])) == 3 and "q" not in fixed[-3:]


def test_value_with_asterisk_keeps_digits_aligned(tmp_path: Path, template: Path) -> None:
    ctx = load_sample()
    ctx.pop("followup")
    ctx["appendix"] = {"title": "PHỤ LỤC", "note": "(Kèm theo)", "columns": ["STT", "Đơn vị", "CT 1"],
                       "groups": [{"title": "I. Sở", "rows": [["1", "Sở A", "74,19*"], ["2", "Sở B", "80,36"]]}]}
    doc = Document(str(render_report(ctx, tmp_path / "a.docx", template=template)))
    table = doc.tables[-1]
    marked, plain = table.rows[2].cells[2].paragraphs[0], table.rows[3].cells[2].paragraphs[0]
    assert marked.alignment == plain.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert (marked.paragraph_format.right_indent or 0) == 0
    assert plain.paragraph_format.right_indent and plain.paragraph_format.right_indent.pt > 2


def test_headings_do_not_break_inside_a_word(rendered: Path) -> None:
    doc = Document(str(rendered))
    heading = next(p.text for p in doc.paragraphs if p.text.startswith("I. TÌNH"))
    assert "THỦ\u00a0TỤC" in heading and "HÀNH\u00a0CHÍNH" in heading
    subject = next(p.text for p in doc.paragraphs if p.text.startswith("Tình\u00a0hình"))
    assert "tháng\u00a03\u00a0năm\u00a02025" in subject


# --------------------------------------------------------------------------------------------
# page set-up belongs to the template (issue 16)
# --------------------------------------------------------------------------------------------

def margins_mm(section: Any) -> tuple[float, ...]:
    return tuple(round(v / 36000, 1) for v in (section.left_margin, section.right_margin, section.top_margin))


def table_width_mm(table: Any) -> float:
    return sum(int(g.get(qn("w:w"))) for g in table._tbl.tblGrid.iterfind(qn("w:gridCol"))) * 25.4 / 1440


def table_with_header(doc: Any, columns: list[str]) -> Any:
    return next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == columns)


def officer_margins(template: Path, out: Path) -> Path:
    """The template after the officer set 35 mm left, 20 mm right and 25 mm top margins on every section."""
    doc = Document(str(template))
    for section in doc.sections:
        section.left_margin, section.right_margin, section.top_margin = Mm(35), Mm(20), Mm(25)
    doc.save(str(out))
    return out


def test_rendered_report_keeps_the_page_setup_of_the_template(tmp_path: Path, template: Path) -> None:
    edited = officer_margins(template, tmp_path / "mau-le-rong.docx")
    ctx = load_sample()
    doc = Document(str(render_report(ctx, tmp_path / "r.docx", template=edited)))
    for section in doc.sections:
        assert margins_mm(section) == (35, 20, 25)
    portrait, landscape = 210 - 35 - 20, 297 - 35 - 20
    bang1 = table_with_header(doc, ctx["item4"]["indicator_table"]["columns"])
    appendix = table_with_header(doc, ctx["appendix"]["columns"])
    assert portrait - 1 <= table_width_mm(bang1) <= portrait + 0.5
    assert landscape - 1 <= table_width_mm(appendix) <= landscape + 0.5


def test_without_appendix_the_last_section_takes_the_first_sections_setup(tmp_path: Path, template: Path) -> None:
    edited = officer_margins(template, tmp_path / "mau-le-rong.docx")
    ctx = load_sample()
    ctx["appendix"] = None
    ctx.pop("followup")
    doc = Document(str(render_report(ctx, tmp_path / "r.docx", template=edited)))
    assert len(doc.sections) == 1
    only = doc.sections[0]
    assert only.orientation == WD_ORIENT.PORTRAIT and only.page_width == Document(str(edited)).sections[0].page_width
    assert margins_mm(only) == (35, 20, 25)
    assert only._sectPr.find(qn("w:pgNumType")) is None  # the appendix's own numbering went with it
    header = "".join(t.text or "" for t in only.header._element.iter(qn("w:t")))
    assert "DỰ THẢO" in header  # the portrait section's header, not the landscape one


def test_code_built_tables_use_the_templates_table_font(tmp_path: Path, template: Path) -> None:
    doc = Document(str(template))
    doc.styles["Table Text"].font.size = Pt(10)
    doc.save(str(tmp_path / "mau-10.docx"))
    ctx = load_sample()
    out = Document(str(render_report(ctx, tmp_path / "r.docx", template=tmp_path / "mau-10.docx")))
    bang1 = table_with_header(out, ctx["item4"]["indicator_table"]["columns"])
    sizes = {r.font.size.pt for c in bang1._cells for p in c.paragraphs for r in p.runs if r.text}
    assert sizes and max(sizes) <= 10
