"""Files shipped with the package: the plans, registries and report template under `templates/`, and the
sample workspace under `samples/`.

In a source checkout they are the repository's own folders; in an installed wheel they are package data
(`cchc_excel.templates`, `cchc_excel.samples`, mapped onto those folders in setup.cfg). Either way they
are found through `importlib.resources`, so nothing depends on where the package was installed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Traversable

_REPO = Path(__file__).resolve().parent.parent


def _root(kind: str) -> Traversable:
    try:
        return resources.files(f"cchc_excel.{kind}")
    except ModuleNotFoundError:  # a source checkout used without installing it
        return _REPO / kind


def template_file(*parts: str) -> Path:
    """A file under templates/, e.g. template_file("report", "bao-cao-thang.docx")."""
    return Path(str(_root("templates").joinpath(*parts)))


def samples_dir() -> Path:
    """The folder holding the bundled sample workspace(s)."""
    return Path(str(_root("samples")))


# The bundled plans and registries by name (the file name without .yaml), as `cchc init --plan NAME` takes them.
KINDS = {"plan": "plans", "registry": "registries"}


def names(kind: str) -> list[str]:
    """The bundled names of one kind ("plan" or "registry"), sorted: e.g. ["hai-duong-2024", …]."""
    folder = _root("templates").joinpath(KINDS[kind])
    if not folder.is_dir():
        return []
    return sorted(f.name[: -len(".yaml")] for f in folder.iterdir() if f.is_file() and f.name.endswith(".yaml"))


def find(kind: str, name: str) -> Path | None:
    """The bundled plan or registry called `name` (with or without .yaml), else None."""
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    if stem not in names(kind):
        return None
    return template_file(KINDS[kind], f"{stem}.yaml")
