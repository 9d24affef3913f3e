"""Received files from the browser onto disk, bounded, for `import_files` — the same guards as `cchc import`.

No name or path from the request decides where a file goes: every batch gets a fresh folder of our own
(`tempfile.mkdtemp`), and the name a file is saved under is the request's name reduced to its last component
and to a whitelist of characters (letters, digits, space, `._-()`), never starting with a dot; it only labels
the file (the import reports it and checks it against the unit), as the e-mail attachment's name would. A
.zip is opened with the same bounds (members, sizes, ratio) and flattened; nested folders and archives are
not followed.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ...core.problems import Problem, problem
from ...workbook.safety import Limits

MB = 1024 * 1024
MAX_FILES = 300                      # files per batch (a province's month is about 100–250)
MAX_FILE_BYTES = Limits().max_file_bytes   # per file: the import's own limit
MAX_BATCH_BYTES = 300 * MB           # one request
MAX_ZIP_RATIO = 200.0
RECEIPT_LOG = "so-nhan.csv"          # the office's register of arrival times, read by the import


def safe_name(name: str | None, fallback: str) -> str:
    """The last component of a client's file name, reduced to safe characters (Vietnamese letters kept)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(c for c in base if c.isalnum() or c in " ._-()")
    base = base.strip(" .")[:120]
    return base or fallback


@dataclass
class Batch:
    folder: Path
    paths: list[Path] = field(default_factory=list)     # workbooks to import, in order
    refused: list[Problem] = field(default_factory=list)  # files not passed on (too big, unsafe zip)


class BatchWriter:
    """Collects one request's files into a fresh folder of our own."""

    def __init__(self, root: Path | None = None) -> None:
        self.batch = Batch(Path(tempfile.mkdtemp(prefix="cchc-nhan-", dir=root)))
        self.total = 0

    def _target(self, name: str) -> Path:
        target = self.batch.folder / name
        n = 2
        while target.exists():
            stem, suffix = Path(name).stem, Path(name).suffix
            target = self.batch.folder / f"{stem} ({n}){suffix}"
            n += 1
        # a whitelisted single component cannot leave the folder; say so explicitly all the same
        if target.resolve().parent != self.batch.folder.resolve():
            raise ValueError("unsafe name")
        return target

    def add(self, client_name: str | None, data: bytes) -> None:
        name = safe_name(client_name, f"tep-{len(self.batch.paths) + 1}.xlsx")
        if len(data) > MAX_FILE_BYTES:
            self.batch.refused.append(problem("upload-too-large", file=name, detail=f"{MAX_FILE_BYTES // MB} MB"))
            return
        if name.lower().endswith(".zip"):
            self._unzip(name, data)
            return
        self._keep(name, data)

    def _keep(self, name: str, data: bytes) -> None:
        if len(self.batch.paths) >= MAX_FILES:
            self.batch.refused.append(problem("upload-too-many", value=len(self.batch.paths) + 1, detail=MAX_FILES))
            return
        target = self._target(name)
        target.write_bytes(data)
        if name.lower() == RECEIPT_LOG:
            return   # read by the import from the folder, not imported itself
        self.batch.paths.append(target)

    def _unzip(self, name: str, data: bytes) -> None:
        import io

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
                if len(members) > MAX_FILES:
                    raise ValueError(f"{len(members)} tệp, tối đa {MAX_FILES}")
                declared = sum(m.file_size for m in members)
                if declared > MAX_BATCH_BYTES:
                    raise ValueError(f"giải nén {declared // MB} MB, tối đa {MAX_BATCH_BYTES // MB} MB")
                for m in members:
                    if m.flag_bits & 0x1:
                        raise ValueError("tệp nén có mật khẩu")
                    if m.file_size > MAX_FILE_BYTES or (m.compress_size and m.file_size > MB and
                                                        m.file_size / m.compress_size > MAX_ZIP_RATIO):
                        raise ValueError(f"phần {safe_name(m.filename, '?')} quá lớn khi giải nén")
                for m in members:
                    inner = safe_name(m.filename, "")
                    if not inner or inner.startswith(("~$", ".~lock")) or "__MACOSX" in m.filename:
                        continue
                    with zf.open(m) as src:
                        body = src.read(MAX_FILE_BYTES + 1)
                    if len(body) > MAX_FILE_BYTES:   # the declared size lied
                        raise ValueError(f"phần {inner} quá lớn khi giải nén")
                    self._keep(inner, body)
        except (zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
            self.batch.refused.append(problem("upload-zip-unsafe", file=name, detail=str(exc) or type(exc).__name__))
