"""The code-built tables (Bảng 1, the appendices) are put into the rendered document after docxtpl has
filled the template (`report._TableSlot`): clerk-typed text in them must read exactly as typed — markup
characters, tabs, line breaks, spaces at either end — as it did when the tables went through docxtpl."""

from __future__ import annotations

import json
from pathlib import Path

from docx import Document

from cchc_excel.documents.report import default_template, render_report

GOLDEN = Path(__file__).resolve().parent / "golden" / "bao-cao-2025-03.context.json"

TEXTS = ["Sở A & <B> \"C\"", "  lề hai bên  ", "cột\tcó tab", "hai\ndòng", "trống\n\ngiữa", "", "{{ 7*7 }}", "74,19*"]


def _cell_texts(path: Path) -> list[list[str]]:
    doc = Document(str(path))
    return [[c.text for c in row.cells] for table in doc.tables for row in table.rows]


def test_table_cells_read_as_typed(tmp_path: Path) -> None:
    context = json.loads(GOLDEN.read_text("utf-8"))
    group = context["appendix"]["groups"][0]
    width = len(context["appendix"]["columns"])
    rows = [[str(i), text, *(["x"] * (width - 2))] for i, text in enumerate(TEXTS, start=1)]
    group["rows"] = rows
    group["title"] = "I. Nhóm\tcó tab"
    out = render_report(context, tmp_path / "r.docx", template=default_template(), charts_dir=tmp_path / "c")
    cells = _cell_texts(out)
    for row in rows:
        assert row in cells, row
    assert ["I. Nhóm\tcó tab"] * width in cells
    # one table per slot, none left as a placeholder paragraph
    assert "\ue000" not in "".join(p.text for p in Document(str(out)).paragraphs)
