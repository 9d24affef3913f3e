"""Edge: read the officer-edited data files (YAML plans and registries, CSV unit lists) into plain mappings.

YAML was chosen over a plan workbook because it keeps comments, diffs cleanly between years, holds nested
per-tier targets without hidden columns, and opens in any text editor (Notepad included). Mappings come
back as `Located` dicts that remember the line of each key, so the core can name the place of a problem
without knowing anything about YAML.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import yaml


class Located(dict):
    """A dict that remembers the (1-based) line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) whose mappings are `Located`. Pure Python: the reference, whose
    syntax-error messages are the ones an officer reads."""


# The same loader over libyaml's parser (when PyYAML was built with it): the same constructor and resolver,
# so the same Located dicts and lines, about 5x faster (a 4,000-unit registry: ~1 s in pure Python).
_FastLineLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    class _FastLineLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """CSafeLoader (no arbitrary objects) whose mappings are `Located`."""

# Where libyaml and PyYAML part ways, the text goes to the pure-Python loader so that what was refused is
# still refused (with its message): characters PyYAML's reader refuses, a tab (libyaml takes it for a space
# where PyYAML says "found character '\t' that cannot start any token"), a byte-order mark inside the text,
# "?" where a flow collection ([...] or {...}) might take it for a key indicator, and a comment glued to a
# block scalar's header ("|#", ">-#"). Found by comparing both loaders on mutated plans and registries.
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_GLUED_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _libyaml_reads_alike(text: str) -> bool:
    if "\t" in text or "\ufeff" in text or _NON_PRINTABLE.search(text) or _GLUED_COMMENT.search(text):
        return False
    return "?" not in text or ("[" not in text and "{" not in text)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    out = Located()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key) if not isinstance(key, str) else key
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


for _loader in (_LineLoader, _FastLineLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# YAML 1.1 reads "2.1" as a float and 2025-03-31 as a date; we keep ids as printed, so plain scalars that
# look like numbers stay strings only where the core asks (`as_id`). Dates stay dates.


class DataFileError(Exception):
    """The file cannot be read at all (missing, not YAML). Carries a Vietnamese message and a line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class CsvQuoteError(DataFileError):
    """A CSV cell opens a double quote that never closes, so the rows after it were swallowed into one cell.
    `line` is where the quote opened (as the officer sees it in a text editor), `swallowed` how many lines."""

    def __init__(self, line: int, swallowed: int) -> None:
        super().__init__(f"unclosed quote at line {line}", line)
        self.swallowed = swallowed


def read_text(path: Path) -> str:
    """Read a text data file as UTF-8 (a BOM from Notepad is dropped)."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Old Windows editors save in cp1258 (Vietnamese ANSI); accept it rather than refusing.
        return raw.decode("cp1258", errors="replace")


def read_yaml(path: Path) -> Any:
    """Parse a YAML file into Located dicts and lists; raise DataFileError with the line on bad syntax."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"Không tìm thấy tệp {path}.")
    return parse_yaml(read_text(path), source=str(path))


def parse_yaml(text: str, *, source: str = "<text>") -> Any:
    if _FastLineLoader is not None and _libyaml_reads_alike(text):
        try:
            return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - CSafeLoader subclass
        except yaml.YAMLError:
            pass   # read again below: the pure-Python loader words the error (and its line) as before
    try:
        return yaml.load(io.StringIO(text), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise DataFileError(f"Tệp {source} sai cú pháp YAML ở dòng {line}: {exc.problem}", line) from exc
    except yaml.YAMLError as exc:
        raise DataFileError(f"Tệp {source} sai cú pháp YAML: {exc}") from exc


def read_csv_rows(path: Path) -> list[Located]:
    """Read a CSV (comma or semicolon separated, as Excel saves it) into Located rows (line = CSV line)."""
    text = read_text(path)
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows: list[Located] = []
    start = 2
    for row in reader:
        # A unit row is one line. A cell spanning lines means a quote was left open (Excel never writes a
        # line break into these columns): refuse, naming the line where it opened.
        spanned = reader.line_num - start
        if spanned > 0 and any("\n" in (v or "") or "\r" in (v or "") for v in row.values()
                               if isinstance(v, str)):
            raise CsvQuoteError(start, spanned)
        located = Located({(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None})
        located.line = start
        located.key_lines = {}
        rows.append(located)
        start = reader.line_num + 1
    return rows


# ------------------------------------------------------------------------------------------------
# Loading plans and registries: read here (edge), parse in the core.


def load_plan(path: Path) -> tuple[Any, Any]:
    """Read and parse a plan file. Returns (Plan | None, ValidationReport)."""
    from ..core.plan import parse_plan
    from ..core.problems import ValidationReport, problem

    try:
        data = read_yaml(path)
    except DataFileError as exc:
        return None, ValidationReport([problem("file-syntax", file=str(path), cell=f"dòng {exc.line or '?'}",
                                               detail=str(exc))])
    return parse_plan(data, source=str(path))


def load_registry(path: Path) -> tuple[Any, Any]:
    """Read and parse a registry file (YAML, with its units inline or in the CSV named by `units_csv`;
    a bare CSV is accepted too, with the standard three tiers)."""
    from ..core.problems import ValidationReport, problem
    from ..core.units import parse_registry

    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            data: Any = {"id": path.stem, "tiers": [{"code": "tinh", "name": "Cấp tỉnh"},
                                                    {"code": "huyen", "name": "Cấp huyện"},
                                                    {"code": "xa", "name": "Cấp xã", "parent": "huyen"}]}
            return parse_registry(data, source=str(path), rows=read_csv_rows(path), rows_source=str(path))
        data = read_yaml(path)
        rows = None
        csv_name = data.get("units_csv") if isinstance(data, dict) else None
        csv_path = None
        if csv_name:
            csv_path = path.parent / str(csv_name)
            if not csv_path.exists():
                return None, ValidationReport([problem("file-missing", file=str(csv_path))])
            rows = read_csv_rows(csv_path)
    except CsvQuoteError as exc:
        where = csv_path if path.suffix.lower() != ".csv" and csv_path else path
        return None, ValidationReport([problem("csv-unclosed-quote", file=str(where), cell=f"dòng {exc.line}",
                                               value=exc.swallowed)])
    except DataFileError as exc:
        return None, ValidationReport([problem("file-syntax", file=str(path), cell=f"dòng {exc.line or '?'}",
                                               detail=str(exc))])
    return parse_registry(data, source=str(path), rows=rows, rows_source=str(csv_path) if csv_path else None)
