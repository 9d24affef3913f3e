"""Edge: look at a received file before any parser touches it.

Files arrive by e-mail and USB from hundreds of offices. Before openpyxl or calamine opens one, we check
what it is from its bytes, the sizes its zip directory declares (a zip bomb is stopped in microseconds,
docs/measurements.md), DTDs and entity declarations in any XML part (Office never writes them; an
"billion laughs" or XXE part is refused outright), macros and external links. Our own XML parsing goes
through defusedxml.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree as SafeET

from .problems import Problem, problem

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # OLE2: .xls, or an encrypted (password) .xlsx
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


@dataclass(frozen=True)
class Limits:
    """Per-file limits; configurable, documented in docs/limits.md."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_inflated_bytes: int = 100 * 1024 * 1024
    max_part_bytes: int = 50 * 1024 * 1024
    max_ratio: float = 200.0          # inflated / compressed, per part of more than 1 MB
    max_parts: int = 2000
    max_sheets: int = 60
    max_rows_read: int = 5000         # rows read per sheet (our forms have < 200)
    max_text_chars: int = 4000        # a free-text answer longer than this is cut (with a warning)
    parse_timeout_s: float = 30.0


@dataclass
class Inspection:
    kind: str                          # xlsx | xlsm | xls | ods | unknown
    problems: list[Problem] = field(default_factory=list)
    has_macros: bool = False
    external_links: bool = False
    sheets: list[str] = field(default_factory=list)           # in workbook order
    defined_names: dict[str, str] = field(default_factory=dict)  # name -> reference text

    @property
    def fatal(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def _scan_xml_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Return a reason if the part carries a DTD or entity declaration, reading at most the declared size."""
    with zf.open(info) as fh:
        # A DTD can only come before the root element, so the head of the part is enough; read the
        # whole prolog though (comments and whitespace may pad it) up to 64 KB.
        head = fh.read(65536)
    if _DTD.search(head):
        return f"phần {info.filename} có khai báo DOCTYPE/ENTITY"
    return None


def inspect(path: Path, data: bytes | None = None, *, limits: Limits | None = None) -> Inspection:
    """Classify a file and list what makes it unsafe or unusable, without parsing any sheet."""
    limits = limits or Limits()
    name = str(path)
    if data is None:
        data = Path(path).read_bytes()
    if len(data) == 0:
        return Inspection("unknown", [problem("file-empty", file=name)])
    if len(data) > limits.max_file_bytes:
        return Inspection("unknown", [problem("file-too-large", file=name,
                                              detail=f"{len(data)} byte > {limits.max_file_bytes}")])
    if data.startswith(CFB_MAGIC):
        if ENCRYPTED_MARK in data[:2_000_000]:
            return Inspection("encrypted", [problem("file-encrypted", file=name)])
        return Inspection("xls")
    if not data.startswith(ZIP_MAGIC):
        head = data[:8]
        what = "tệp PDF" if head.startswith(b"%PDF") else "không phải tệp Excel"
        return Inspection("unknown", [problem("file-not-workbook", file=name, detail=what)])
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return Inspection("unknown", [problem("file-unreadable", file=name,
                                              detail=f"tệp nén bị hỏng hoặc không đầy đủ ({exc})")])
    with zf:
        names = {i.filename for i in infos}
        if len(infos) > limits.max_parts:
            return Inspection("unknown", [problem("file-too-large", file=name, detail=f"{len(infos)} phần")])
        total = sum(i.file_size for i in infos)
        if total > limits.max_inflated_bytes:
            return Inspection("unknown", [problem("file-too-large", file=name,
                                                  detail=f"giải nén {total // (1024 * 1024)} MB")])
        for i in infos:
            if i.file_size > limits.max_part_bytes or (
                    i.file_size > 1_000_000 and i.file_size > limits.max_ratio * max(i.compress_size, 1)):
                return Inspection("unknown", [problem("file-too-large", file=name,
                                                      detail=f"phần {i.filename}: {i.file_size} byte")])
        if "mimetype" in names:
            mimetype = zf.read("mimetype")[:100]
            if b"spreadsheet" in mimetype:
                return Inspection("ods")
            return Inspection("unknown", [problem("file-not-workbook", file=name, detail="tài liệu OpenDocument")])
        if "xl/workbook.xml" not in names:
            what = "tài liệu Word" if "word/document.xml" in names else "không có xl/workbook.xml"
            return Inspection("unknown", [problem("file-not-workbook", file=name, detail=what)])
        out = Inspection("xlsx")
        try:
            for i in infos:
                if i.filename.endswith((".xml", ".rels", ".vml")):
                    reason = _scan_xml_part(zf, i, limits)
                    if reason:
                        out.problems.append(problem("file-hostile-xml", file=name, detail=reason))
                        return out
            out.has_macros = any(n.lower().endswith("vbaproject.bin") for n in names)
            out.external_links = any(n.startswith("xl/externalLinks/") for n in names)
            if out.has_macros:
                out.kind = "xlsm"
                out.problems.append(problem("file-macros", file=name))
            if out.external_links:
                out.problems.append(problem("file-external-links", file=name))
            out.sheets, out.defined_names = _workbook_xml(zf.read("xl/workbook.xml"))
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            out.problems.append(problem("file-unreadable", file=name, detail=f"tệp nén bị hỏng ({exc})"))
            return out
        except SafeET.ParseError as exc:
            out.problems.append(problem("file-unreadable", file=name, detail=f"XML hỏng ({exc})"))
            return out
        except Exception as exc:  # defusedxml's DTDForbidden / EntitiesForbidden and friends
            out.problems.append(problem("file-hostile-xml", file=name, detail=type(exc).__name__))
            return out
        if len(out.sheets) > limits.max_sheets:
            out.problems.append(problem("file-too-large", file=name, detail=f"{len(out.sheets)} trang tính"))
        return out


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _workbook_xml(xml: bytes) -> tuple[list[str], dict[str, str]]:
    """Sheet names and workbook-scoped defined names, parsed with defusedxml."""
    root = SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    sheets = [s.get("name", "") for s in root.iter(f"{_NS}sheet")]
    names: dict[str, str] = {}
    for dn in root.iter(f"{_NS}definedName"):
        name = dn.get("name", "")
        if dn.get("localSheetId") is not None or name.startswith("_xlnm."):
            continue  # print areas and sheet-scoped names are not ours
        names[name] = (dn.text or "").strip()
    return sheets, names


_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def parse_ref(ref: str) -> tuple[str, int, int, int, int] | None:
    """"'Chỉ tiêu'!$E$12" -> (sheet, row0, col0, last_row0, last_col0); None when it is not a plain range
    (e.g. "#REF!" after the clerk deleted the cells)."""
    m = _REF.match(ref.lstrip("="))
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") if m.group(1) else m.group(2)
    c1, r1 = _col_index(m.group(3)), int(m.group(4)) - 1
    c2 = _col_index(m.group(5)) if m.group(5) else c1
    r2 = int(m.group(6)) - 1 if m.group(6) else r1
    return sheet, r1, c1, r2, c2


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1
