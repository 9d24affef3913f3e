"""The report documents' faster paths (issue 17) give what the plain ones gave: the rendering environment's
compiled-part cache, the code-built tables' shared scratch document, the summary's row writer and deflate
level, and the report's garbage-collector freeze."""

from __future__ import annotations

import gc
import math
import zipfile
from pathlib import Path

import jinja2
import pytest
import xlsxwriter
import xlsxwriter.workbook
from docx import Document
from docx.oxml.ns import qn

from cchc_excel.app.reporting import long_lived_frozen
from cchc_excel.documents import report, xlsxprint
from cchc_excel.documents.xlsxprint import Book

SOURCE = "<w:t>{% for u in units %}{{ u }}{% if not loop.last %}, {% endif %}{% endfor %} &amp; {{ note }}</w:t>"


def test_cached_environment_renders_as_jinja_and_compiles_a_source_once(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"units": ["Sở Tư pháp", "UBND xã <Phước Hòa>"], "note": "A & B"}
    plain = jinja2.Environment(autoescape=True).from_string(SOURCE).render(data)
    first = report._CompiledOnce(autoescape=True, bytecode_cache=jinja2.FileSystemBytecodeCache(str(tmp_path)))
    assert first.from_string(SOURCE).render(data) == plain
    assert len(list(tmp_path.iterdir())) == 1
    again = report._CompiledOnce(autoescape=True, bytecode_cache=jinja2.FileSystemBytecodeCache(str(tmp_path)))

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(again, "compile", no_compile)
    assert again.from_string(SOURCE).render(data) == plain
    # another environment's options make other code: not taken from the cache
    other = report._CompiledOnce(autoescape=False, bytecode_cache=jinja2.FileSystemBytecodeCache(str(tmp_path)))
    assert other.from_string(SOURCE).render(data) == jinja2.Environment().from_string(SOURCE).render(data)


def test_cached_environment_without_a_usable_folder_compiles_as_jinja(tmp_path: Path) -> None:
    env = report._CompiledOnce(autoescape=True,
                               bytecode_cache=jinja2.FileSystemBytecodeCache(str(tmp_path / "missing")))
    data = {"units": ["a"], "note": "<b>"}
    assert env.from_string(SOURCE).render(data) == jinja2.Environment(autoescape=True).from_string(SOURCE).render(data)


def test_tables_built_in_one_scratch_document_are_those_built_each_in_its_own() -> None:
    columns = ["STT", "Đơn vị", "CT 1", "CT 2"]
    groups = [("Cấp tỉnh", [["1", "Sở Tư pháp", "74,19*", "100,00"], ["", "", "33,84*†", "-"]]),
              ("Cấp xã", [["2", "UBND xã Phước Hòa", "KPS", "12,5"]])]
    alone = [report._table_block(columns, groups, 160.0).xml, report._table_block(columns[:3], [("", [["1", "a", "b"]])],
                                                                                  247.0, long_rows=True).xml]
    scratch = Document()
    shared = [report._table_block(columns, groups, 160.0, scratch=scratch).xml,
              report._table_block(columns[:3], [("", [["1", "a", "b"]])], 247.0, long_rows=True, scratch=scratch).xml]
    assert shared == alone
    assert scratch.element.body.find(qn("w:tbl")) is None


def _sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_write_rows_writes_what_write_writes_row_by_row(tmp_path: Path) -> None:
    kinds = ("text", "center", "count", "pct", "text")
    rows = [["Sở Tư pháp", "1", 12, 74.185, "Đạt"], ["Sở Tư pháp", None, float("nan"), None, ""],
            ["=1+1", "2", 3.0, math.inf, "x"], ["short row", "3"], ["UBND xã\nPhước Hòa", 7, None, 50, None]]
    made = {}
    for how in ("write", "write_rows"):
        path = tmp_path / f"{how}.xlsx"
        book = Book(path)
        try:
            sh = book.sheet("A", "TIÊU ĐỀ", [("Đơn vị", 20), ("Mã", 6), ("Số", 8), ("Tỷ lệ", 8), ("Ghi chú", 10)])
            if how == "write":
                for row in rows:
                    sh.write(list(zip(row, kinds, strict=False)))
            else:
                sh.write_rows(iter(rows), kinds)
            assert sh.row == sh.header_row + 1 + len(rows)
        finally:
            book.close()
        made[how] = _sheet_parts(path)
    assert made["write"] == made["write_rows"]


def test_summary_parts_are_deflated_at_its_level_and_other_workbooks_are_left_alone(tmp_path: Path) -> None:
    book = Book(tmp_path / "a.xlsx")
    sh = book.sheet("A", "TIÊU ĐỀ", [("Đơn vị", 20)])
    sh.write_rows((["Sở Tư pháp " * 20] for _ in range(2000)), ("text",))
    book.close()
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    plain = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"))
    plain.add_worksheet().write_string(0, 0, "x")
    plain.close()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        sheet = z.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.compress_type == zipfile.ZIP_DEFLATED
        data = z.read(sheet)
    # the stored stream is what deflate gives at the module's level, not at zlib's default
    import zlib

    def deflated(level: int) -> int:
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        return len(c.compress(data) + c.flush())

    assert sheet.compress_size == deflated(xlsxprint.ZIP_LEVEL)
    assert xlsxprint.ZIP_LEVEL != 6 and deflated(6) != deflated(xlsxprint.ZIP_LEVEL)


def test_long_lived_frozen_freezes_for_the_block_only() -> None:
    before = gc.get_freeze_count()
    with long_lived_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == before == 0
    with pytest.raises(ValueError), long_lived_frozen():
        raise ValueError("x")
    assert gc.get_freeze_count() == 0


def test_cached_environment_compiles_over_a_broken_cache_file(tmp_path: Path) -> None:
    """A cache file cut short or written by something else is not an error: the part is compiled as jinja does."""
    cache = jinja2.FileSystemBytecodeCache(str(tmp_path))
    data = {"units": ["a"], "note": "<b>"}
    plain = jinja2.Environment(autoescape=True).from_string(SOURCE).render(data)
    assert report._CompiledOnce(autoescape=True, bytecode_cache=cache).from_string(SOURCE).render(data) == plain
    [made] = list(tmp_path.iterdir())
    header = made.read_bytes()[:len(jinja2.bccache.bc_magic)]
    broken = header + b"\x80\xff not a pickle"
    made.write_bytes(broken)
    assert report._CompiledOnce(autoescape=True, bytecode_cache=cache).from_string(SOURCE).render(data) == plain
    assert made.read_bytes() != broken, "the broken cache file was left to fail every later report"


def test_cache_key_changes_with_jinja_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = jinja2.FileSystemBytecodeCache(str(tmp_path))
    report._CompiledOnce(autoescape=True, bytecode_cache=cache).from_string(SOURCE)
    monkeypatch.setattr(jinja2, "__version__", "99.0.0")
    report._CompiledOnce(autoescape=True, bytecode_cache=cache).from_string(SOURCE)
    assert len(list(tmp_path.iterdir())) == 2, "code compiled by another jinja release was taken from the cache"


def test_cache_folder_on_windows_is_the_users_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report.os, "name", "nt")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    assert report._cache_folder() == str(tmp_path / "cchc" / "jinja") and (tmp_path / "cchc" / "jinja").is_dir()
    monkeypatch.delenv("LOCALAPPDATA")
    with pytest.raises(RuntimeError):
        report._cache_folder()
    monkeypatch.setattr(report.os, "name", "posix")
    assert report._cache_folder() is None, "POSIX: jinja's own per-user folder (mode 0700, checked by jinja)"


def test_clean_gives_a_subclass_of_str_back_as_plain_text() -> None:
    from markupsafe import Markup

    cleaned = report._clean({"a": Markup("<b>x</b>"), "b": "y\x07"})
    assert type(cleaned["a"]) is str and cleaned["a"] == "<b>x</b>" and cleaned["b"] == "y"
