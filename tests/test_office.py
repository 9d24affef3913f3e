"""LibreOffice tooling: clerk-like typing in Calc (tests/lo_fill.py) and cchc_excel.documents.office.convert."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from cchc_excel.documents import office
from tests.lo import (
    HAVE_POPPLER,
    fill_in_libreoffice,
    needs_libreoffice,
    pdf_pages,
    pdf_text,
    to_pdf,
)

SHEET = "Chỉ tiêu"
LABEL = "Tỷ lệ hồ sơ giải quyết đúng hạn"
RATE = '=IF(OR(B2="",B3="",B3=0),"",ROUND(B2/B3*100,2))'
VERDICT = '=IF(C2="","",IF(C2>=75,"Đạt","Chưa đạt"))'


def build_form(path: Path) -> Path:
    """A tiny protected intake form: two unlocked inputs, a rate and a verdict formula, a locked label."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    unlocked = wb.add_format({"locked": False, "bg_color": "#FFF2CC"})
    ws.set_column("A:A", 36)
    ws.set_column("B:D", 14)
    ws.write("A1", LABEL)
    ws.write("A2", "Số hồ sơ đúng hạn")
    ws.write("A3", "Tổng số hồ sơ")
    ws.write_blank("B2", None, unlocked)
    ws.write_blank("B3", None, unlocked)
    ws.data_validation("B2:B3", {"validate": "integer", "criteria": ">=", "value": 0})
    ws.write_formula("C2", RATE, None, "")
    ws.write_formula("D2", VERDICT, None, "")
    wb.define_name("CT_3_TU", f"='{SHEET}'!$B$2")
    wb.define_name("CT_3_MAU", f"='{SHEET}'!$B$3")
    wb.define_name("CT_3_TYLE", f"='{SHEET}'!$C$2")
    ws.protect()
    wb.close()
    return path


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_form(tmp_path_factory.mktemp("form") / "bieu_mau.xlsx")


READ = [{"name": "CT_3_TU"}, {"name": "CT_3_MAU"}, {"name": "CT_3_TYLE"}, {"sheet": SHEET, "cell": "D2"}]


@needs_libreoffice
def test_typing_vi_vn_fills_and_recalculates(form: Path, tmp_path: Path) -> None:
    dst = tmp_path / "da_dien.xlsx"
    pdf = tmp_path / "da_dien.pdf"
    t0 = time.monotonic()
    res = fill_in_libreoffice(
        form,
        dst,
        cells=[{"name": "CT_3_TU", "text": "1.234"}, {"sheet": SHEET, "cell": "B3", "text": "2000"}],
        read=READ,
        pdf=pdf,
        protect_check=True,
    )
    wall = time.monotonic() - t0
    print(f"\n[lo_fill] wall {wall:.2f} s, helper {res['seconds']:.2f} s, phases {res['timings']}")

    assert res["locale"] == "vi-VN"
    assert res["ooxml_recalc_mode"] == 0
    assert [f["accepted"] for f in res["filled"]] == [True, True]
    assert res["filled"][0]["address"] == f"{SHEET}!B2"
    assert res["filled"][0]["result"]["type"] == "value"
    tu, mau, tyle, verdict = res["read"]
    assert tu["value"] == 1234 and mau["value"] == 2000
    assert tyle["value"] == pytest.approx(61.7) and tyle["result_type"] == "value" and tyle["error"] == 0
    assert tyle["string"] == "61,7"  # displayed with the vi-VN decimal comma
    assert verdict["string"] == "Chưa đạt" and verdict["result_type"] == "string"
    assert tu["locked"] is False and tyle["locked"] is True and tyle["sheet_protected"] is True

    # Cached values in the saved .xlsx, as any reader (openpyxl, pandas, our importer) sees them.
    wb = openpyxl.load_workbook(dst, data_only=True)
    ws = wb[SHEET]
    assert ws["B2"].value == 1234
    assert ws["B3"].value == 2000
    assert ws["C2"].value == pytest.approx(61.7)
    assert ws["D2"].value == "Chưa đạt"
    assert ws.protection.sheet is True
    assert ws["B2"].protection.locked is False and ws["A1"].protection.locked is True
    wb_f = openpyxl.load_workbook(dst)
    assert wb_f[SHEET]["C2"].value.replace(" ", "") == RATE.replace(" ", "")
    assert {"CT_3_TU", "CT_3_MAU", "CT_3_TYLE"} <= set(wb_f.defined_names.keys())

    assert pdf.is_file() and pdf.stat().st_size > 0
    if HAVE_POPPLER:
        assert "Chưa đạt" in pdf_text(pdf)


@needs_libreoffice
def test_locale_is_pinned_en_us_parses_differently(form: Path, tmp_path: Path) -> None:
    res = fill_in_libreoffice(
        form,
        tmp_path / "en.xlsx",
        cells=[{"name": "CT_3_TU", "text": "1.234"}, {"name": "CT_3_MAU", "text": "1,234"}],
        read=READ[:2],
        locale="en-US",
    )
    assert res["locale"] == "en-US"
    tu, mau = res["read"]
    assert tu["value"] == pytest.approx(1.234) and tu["type"] == "value"
    assert mau["value"] == 1234


@needs_libreoffice
def test_typing_into_locked_cell_is_refused_and_reported(form: Path, tmp_path: Path) -> None:
    res = fill_in_libreoffice(
        form,
        tmp_path / "khoa.xlsx",
        cells=[
            {"sheet": SHEET, "cell": "A1", "text": "sửa nhãn"},
            {"name": "CT_3_TU", "text": "5"},
            {"name": "KHONG_CO", "text": "1"},
        ],
        read=[{"sheet": SHEET, "cell": "A1"}, {"name": "CT_3_TU"}],
        protect_check=True,
    )
    locked, ok, missing = res["filled"]
    assert locked["accepted"] is False and "locked" in locked["error"]
    assert ok["accepted"] is True and ok["error"] is None
    assert missing["accepted"] is False and "KHONG_CO" in missing["error"]
    a1, tu = res["read"]
    assert a1["string"] == LABEL and a1["locked"] is True and a1["sheet_protected"] is True
    assert tu["value"] == 5
    assert openpyxl.load_workbook(tmp_path / "khoa.xlsx")[SHEET]["A1"].value == LABEL


@needs_libreoffice
def test_xlsx_to_pdf(form: Path, tmp_path: Path) -> None:
    t0 = time.monotonic()
    pdf = to_pdf(form, tmp_path / "pdf")
    print(f"\n[convert pdf] {time.monotonic() - t0:.2f} s")
    assert pdf == (tmp_path / "pdf" / "bieu_mau.pdf").resolve()
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if HAVE_POPPLER:
        text = pdf_text(pdf)
        assert LABEL in text or "Chưa đạt" in text
        assert pdf_pages(pdf) >= 1


@needs_libreoffice
def test_xlsx_ods_round_trip(form: Path, tmp_path: Path) -> None:
    filled = tmp_path / "filled.xlsx"
    fill_in_libreoffice(
        form, filled, cells=[{"name": "CT_3_TU", "text": "90"}, {"name": "CT_3_MAU", "text": "100"}]
    )
    t0 = time.monotonic()
    ods = office.convert(filled, tmp_path / "ods", "ods")
    back = office.convert(ods, tmp_path / "back", "xlsx")
    print(f"\n[convert xlsx->ods->xlsx] {time.monotonic() - t0:.2f} s")
    assert ods.suffix == ".ods" and ods.read_bytes()[:2] == b"PK"
    ws = openpyxl.load_workbook(back, data_only=True)[SHEET]
    assert ws["A1"].value == LABEL
    assert ws["B2"].value == 90 and ws["B3"].value == 100
    assert ws["C2"].value == 90 and ws["D2"].value == "Đạt"
    assert ws.protection.sheet is True


def test_convert_without_soffice_raises_vietnamese_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "a.xlsx"
    src.write_bytes(b"PK")
    monkeypatch.setattr(office, "find_soffice", lambda: None)
    with pytest.raises(office.OfficeError, match="Không tìm thấy LibreOffice"):
        office.convert(src, tmp_path)


def test_find_soffice_honours_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "soffice"
    fake.write_text("")
    monkeypatch.setenv("CCHC_SOFFICE", str(fake))
    assert office.find_soffice() == fake


@needs_libreoffice
def test_convert_timeout_kills_soffice(form: Path, tmp_path: Path) -> None:
    with pytest.raises(office.OfficeError, match="quá"):
        office.convert(form, tmp_path, "pdf", timeout=0.3)
    assert not (tmp_path / "bieu_mau.pdf").exists()
