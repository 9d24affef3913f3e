"""Edge: a workspace is a folder with `cchc.yaml` naming the plan, the registry, the store and the office.

    cchc.yaml
    plan.yaml, registry.yaml (+ its CSV)   — or paths elsewhere
    store.sqlite                            — the archive (created on first import)
    archive/                                — every file received, by content hash
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.plan import Plan
from ..core.problems import Refusal, ValidationReport, problem, unknown_key, wording
from ..core.units import Registry, check_against_plan
from .datafiles import DataFileError, load_plan, load_registry, read_yaml

CONFIG_NAME = "cchc.yaml"

DEFAULT_OFFICE: dict[str, Any] = {
    "name": "Trung tâm Phục vụ hành chính công tỉnh",
    "contact": "Bộ phận Kiểm soát thủ tục hành chính",
    "phone": "",
    "email": "",
}
DEFAULT_REPORT: dict[str, Any] = {
    "superior": "",
    "issuer": "ỦY BAN NHÂN DÂN TỈNH",
    "issuer_short": "UBND",
    "doc_symbol": "BC-UBND",
    "place": "",
    "signer_authority": "KT. CHỦ TỊCH",
    "signer_title": "PHÓ CHỦ TỊCH",
    "signer_name": "",
    "recipients": ["Văn phòng Chính phủ (b/c)", "Thường trực Tỉnh ủy (b/c)", "Chủ tịch, các PCT UBND tỉnh",
                   "Các Sở, ban, ngành tỉnh"],
    "archive": "Lưu: VT, KSTT",
    "kinh_gui": [],
}


CONFIG_KEYS = {"plan", "registry", "store", "secret", "protect_password", "office", "report", "history"}
# Keys of `report` read by the report (narrative, report) beyond the defaults written by `cchc init`.
REPORT_EXTRA_KEYS = {"template", "outline", "sections_after"}


def check_config_keys(cfg: Any, source: str) -> list[Any]:
    """Unknown keys of cchc.yaml: a near miss of a known key ("registy", "signer_nam") is an error — the
    value would otherwise be dropped without a word; anything else is a warning."""
    found = []
    sections = [(cfg, CONFIG_KEYS, "")]
    for name, allowed in (("office", set(DEFAULT_OFFICE)), ("report", set(DEFAULT_REPORT) | REPORT_EXTRA_KEYS)):
        if isinstance(cfg.get(name), dict):
            sections.append((cfg[name], allowed, f"{name}."))
    for node, allowed, prefix in sections:
        line_of = getattr(node, "line_of", None)
        for key in node:
            if key not in allowed:
                line = line_of(key) if line_of else None
                found.append(unknown_key(str(key), allowed, file=source,
                                         cell=f"dòng {line} ({prefix}{key})" if line else f"{prefix}{key}"))
    return found


@dataclass
class Workspace:
    root: Path
    plan: Plan
    registry: Registry
    store_url: str
    secret: str
    office: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    protect_password: str | None = None
    plan_path: Path | None = None
    registry_path: Path | None = None
    history: Any = None          # core.succession.History: older registries and the maps to today's (docs/history.md)

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"


def _store_url(root: Path, value: str | None) -> str:
    value = value or "store.sqlite"
    if "://" in value:
        return value
    path = Path(value)
    if not path.is_absolute():
        path = root / path
    return f"sqlite:///{path.resolve().as_posix()}"


def open_workspace(root: Path) -> tuple[Workspace | None, ValidationReport]:
    """Load a workspace's config, plan and registry; every problem of all three at once."""
    root = Path(root)
    cfg_path = root / CONFIG_NAME
    report = ValidationReport()
    if not cfg_path.exists():
        report.add(problem("file-missing", file=str(cfg_path)))
        return None, report
    try:
        cfg = read_yaml(cfg_path) or {}
    except DataFileError as exc:
        report.add(problem("file-syntax", file=str(cfg_path), cell=f"dòng {exc.line or '?'}", detail=str(exc)))
        return None, report
    if not isinstance(cfg, dict):
        report.add(problem("field-invalid", file=str(cfg_path), cell="cchc.yaml", name="cchc.yaml", value=cfg,
                           detail=wording("config-needs")))
        return None, report
    report.extend(check_config_keys(cfg, str(cfg_path)))
    plan_path = root / str(cfg.get("plan") or "plan.yaml")
    registry_path = root / str(cfg.get("registry") or "registry.yaml")
    plan, plan_report = load_plan(plan_path)
    registry, reg_report = load_registry(registry_path)
    report.extend(plan_report.problems)
    report.extend(reg_report.problems)
    if plan is not None and registry is not None:
        report.extend(check_against_plan(registry, plan.tiers, source=str(registry_path)))
    if not cfg.get("secret"):
        report.add(problem("field-missing", file=str(cfg_path), cell="secret", name="secret"))
    history = None
    if registry is not None and cfg.get("history"):
        from .history import load_history

        history, found = load_history(root, registry, cfg["history"], source=str(cfg_path))
        report.extend(found.problems)
    if plan is None or registry is None or not report.ok:
        return None, report
    office = {**DEFAULT_OFFICE, **(cfg.get("office") or {})}
    rep = {**DEFAULT_REPORT, **(cfg.get("report") or {})}
    return Workspace(root=root, plan=plan, registry=registry, store_url=_store_url(root, cfg.get("store")),
                     secret=str(cfg["secret"]), office=office, report=rep,
                     protect_password=(str(cfg["protect_password"]) if cfg.get("protect_password") else None),
                     plan_path=plan_path, registry_path=registry_path, history=history), report


def init_workspace(root: Path, *, plan: Path, registry: Path, office: dict[str, Any] | None = None,
                   report: dict[str, Any] | None = None) -> Path:
    """Create a workspace folder: copy the plan and registry (with its CSV) and write cchc.yaml with a
    fresh signing key. Refuses to overwrite an existing config."""
    root = Path(root)
    for given in (plan, registry):
        if not Path(given).is_file():
            raise Refusal(problem("path-missing", file=str(given)), exit_code=2)
    if root.exists() and not root.is_dir():
        raise Refusal(problem("out-not-folder", file=str(root)), exit_code=2)
    root.mkdir(parents=True, exist_ok=True)
    cfg_path = root / CONFIG_NAME
    if cfg_path.exists():
        raise FileExistsError(f"Đã có tệp cấu hình {cfg_path}; không ghi đè.")
    shutil.copy2(plan, root / "plan.yaml")
    plan_data = read_yaml(plan) or {}
    province = str(plan_data.get("province") or "").strip()
    derived_report: dict[str, Any] = {}
    derived_office: dict[str, Any] = {}
    if province:
        # Sensible defaults from the plan; the officer edits cchc.yaml for the real letterhead and signer.
        derived_report = {"issuer": f"ỦY BAN NHÂN DÂN TỈNH {province.upper()}", "place": province}
        derived_office = {"name": f"Văn phòng UBND tỉnh {province}"}
    reg_data = read_yaml(registry) if Path(registry).suffix.lower() != ".csv" else None
    if reg_data is not None and reg_data.get("units_csv"):
        csv_src = Path(registry).parent / str(reg_data["units_csv"])
        shutil.copy2(csv_src, root / csv_src.name)
    shutil.copy2(registry, root / ("registry" + Path(registry).suffix.lower()))
    config = {
        "plan": "plan.yaml",
        "registry": "registry" + Path(registry).suffix.lower(),
        "store": "store.sqlite",
        "secret": secrets.token_hex(16),
        "protect_password": "",
        "office": {**DEFAULT_OFFICE, **derived_office, **(office or {})},
        "report": {**DEFAULT_REPORT, **derived_report, **(report or {})},
    }
    header = ("# Cấu hình không gian làm việc cchc_excel. 'secret' là khóa ký biểu mẫu: giữ kín, không đổi giữa\n"
              "# các kỳ (đổi khóa thì biểu mẫu đã phát ra sẽ không còn xác thực được).\n")
    cfg_path.write_text(header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg_path
