"""Generate the bundled sample workspace `samples/ninh-thuan-2025/` (invented but realistic figures): the
year 2025 of the area that was Ninh Thuận, January–June reported by the Ninh Thuận units (three tiers) and
July–December by the Khánh Hòa units that succeeded them (two tiers, after the reorganisation of 1 July 2025).

Run from the repository root:  python samples/make_samples.py [--all]

What it writes (the folder is deleted and rebuilt every time; never edit its files by hand):
  cchc.yaml, plan.yaml, registry.yaml, ninh-thuan-2025.csv      — the workspace until 30/6/2025
  cchc-tu-2025-07.yaml, plan-khanh-hoa.yaml, registry-khanh-hoa.yaml, khanh-hoa-2025-phan-ninh-thuan.csv,
  ninh-thuan-2025-to-khanh-hoa-2025.yaml                          — what the office switches to on 01/7/2025
  nop/2025-01, 2025-02, 2025-03/   the files "received" (committed; tests and guides read them)
  nop/2025-04 … 2025-12/           only with --all; `cchc demo` makes them in its own copy (`generate_months`)

The blank forms come from the library (`fastgen`: the reference writer once per shape, patched per unit); the
clerk's typing is then written into the cells at the forms' defined names as Excel stores it (numbers as
numbers, dates as date serials, text as text). Everything is seeded and every timestamp is fixed, so a re-run
writes the same bytes, and a month written by the demo equals the one written here: every month is computed
from January on, whether it is written or not. March holds deliberate mistakes (see README.md).
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
import yaml

from cchc_excel.archive.datafiles import load_plan, load_registry
from cchc_excel.archive.history import load_succession
from cchc_excel.archive.importing import RECEIPT_LOG
from cchc_excel.archive.workspace import CONFIG_NAME, init_workspace
from cchc_excel.core import layout as L
from cchc_excel.core.period import Period
from cchc_excel.core.plan import Plan
from cchc_excel.core.succession import SuccessionMap
from cchc_excel.core.units import Registry, Unit
from cchc_excel.core.vntext import match_key, slugify
from cchc_excel.workbook.fastgen import build_template, patchable, render_unit
from cchc_excel.workbook.intake import workbook_filename, write_workbook

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "ninh-thuan-2025"
TEMPLATES = REPO / "templates"
PLAN_SRC = TEMPLATES / "plans" / "ninh-thuan-2025.yaml"
REGISTRY_SRC = TEMPLATES / "registries" / "ninh-thuan-2025.yaml"
KH_PLAN_SRC = TEMPLATES / "plans" / "khanh-hoa-2025-mau.yaml"
KH_REGISTRY_SRC = TEMPLATES / "registries" / "khanh-hoa-2025.yaml"
MAP_SRC = TEMPLATES / "registries" / "ninh-thuan-2025-to-khanh-hoa-2025.yaml"
# The files of the sample workspace for the second half of the year (beside cchc.yaml, plan.yaml, registry.yaml).
CONFIG_AFTER = "cchc-tu-2025-07.yaml"
KH_PLAN = "plan-khanh-hoa.yaml"
KH_REGISTRY = "registry-khanh-hoa.yaml"
KH_ID = "khanh-hoa-2025-phan-ninh-thuan"
MAP = "ninh-thuan-2025-to-khanh-hoa-2025.yaml"

SEED = 2025
# Fixed signing key so the sample is reproducible. A real workspace gets a random key from `cchc init`.
SECRET = "mau-ninh-thuan-2025-khoa-co-dinh-chi-dung-cho-du-lieu-mau"
MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13))
COMMITTED = MONTHS[:3]            # the months kept in the repository; the others are made when needed
CHANGE = "2025-07"                # the first month reported by the Khánh Hòa units
# When the office generated each month's forms (UTC, as written in the forms' hidden metadata): late in the
# month before.
GENERATED = {m: datetime(2025 if i else 2024, i or 12, (26, 22, 24, 25, 23, 24, 25, 25, 22, 24, 24, 24)[i], 1, 30)
             for i, m in enumerate(MONTHS)}
# Volume by month: February's window holds the Tết holiday; July is the first month after the reorganisation.
SEASON = dict(zip(MONTHS, (1.00, 0.82, 1.07, 1.02, 1.05, 1.03, 0.97, 1.04, 1.02, 1.08, 1.06, 1.12), strict=True))

OFFICE = {
    "name": "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
    "contact": "Bộ phận Kiểm soát TTHC",
    "phone": "0259 3 836 636",
    "email": "ttpvhcc@ninhthuan.gov.vn",
}
REPORT = {
    "superior": "",
    "issuer": "ỦY BAN NHÂN DÂN TỈNH NINH THUẬN",
    "issuer_short": "UBND",
    "doc_symbol": "BC-UBND",
    "place": "Ninh Thuận",
    "signer_authority": "KT. CHỦ TỊCH",
    "signer_title": "PHÓ CHỦ TỊCH",
    "signer_name": "Nguyễn Long Biên",
    "recipients": [
        "Văn phòng Chính phủ (Cục Kiểm soát TTHC) (b/c)",
        "Thường trực Tỉnh ủy (b/c)",
        "Thường trực HĐND tỉnh (b/c)",
        "Chủ tịch và các PCT UBND tỉnh",
        "Các Sở, ban, ngành tỉnh",
        "UBND các huyện, thành phố",
        "Cổng TTĐT tỉnh",
        "VPUB: LĐ, KTTH, VXNV, TCD",
    ],
    "archive": "Lưu: VT, TTPVHCC",
    "kinh_gui": [],
}

# From 01/7/2025 the office is that of the new Khánh Hòa (the report's header, signature and recipients change).
OFFICE_AFTER = {
    "name": "Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa",
    "contact": "Bộ phận Kiểm soát TTHC",
    "phone": "0258 3 568 568",
    "email": "ttpvhcc@khanhhoa.gov.vn",
}
REPORT_AFTER = {
    **REPORT,
    "issuer": "ỦY BAN NHÂN DÂN TỈNH KHÁNH HÒA",
    "place": "Khánh Hòa",
    "signer_name": "Trần Minh Đức",
    "recipients": [
        "Văn phòng Chính phủ (Cục Kiểm soát TTHC) (b/c)",
        "Thường trực Tỉnh ủy (b/c)",
        "Thường trực HĐND tỉnh (b/c)",
        "Chủ tịch và các PCT UBND tỉnh",
        "Các Sở, ban, ngành tỉnh",
        "UBND các xã, phường, đặc khu",
        "Cổng TTĐT tỉnh",
        "VPUB: LĐ, KTTH, VXNV, TCD",
    ],
}

# ----------------------------------------------------------------------------------------------------
# Deliberate problems (March). Unit codes are fixed so the README can name the files.
MISSING_MARCH = ("BDT", "22828", "22843")          # no file at all in March
# Files that arrive after the due date (the 15th, moved to the next working day when it is a day off).
LATE = {"2025-01": ("SKHCN", "589", "22813", "22897"),
        "2025-02": ("TTT", "22813", "22891", "22906", "22910"),
        "2025-03": ("SKHCN", "22813", "22852"),
        "2025-04": ("SKHCN", "22897"), "2025-05": ("TTT", "22813"), "2025-06": ("589", "22906"),
        "2025-07": ("SDTTG", "22813", "22897"), "2025-08": ("22813",), "2025-09": ("TTT", "22852"),
        "2025-10": ("22897",), "2025-11": ("SDTTG",), "2025-12": ("22813", "22910")}
MISTAKES = {
    "22786": "numerator-exceeds-denominator",   # indicator 13: numerator and denominator swapped
    "22855": "not-a-number",                    # "abc" typed in a count
    "586": "case-balance",                      # one case row: resolved + pending ≠ received
    "SCT": "case-denominator-mismatch",         # indicator 3 denominator forgets the carried-over cases
    "STNMT": "number-from-text",                # "1.234"-style thousands typed as text
    "22744": "filename-unit-mismatch",          # its form saved under Phường Phước Mỹ's file name
    "SYT": "resubmitted",                       # first file rejected (965 for 96,5), then a _lan2 file
}
MISNAMED_AS = "22741"
IT_UNITS = ("STTTT", "SKHCN")                   # the units hosting indicators 5 and 6 (SKHCN from July)
TEXT_NUMBER_FEB = ("SVHTTDL", "22762")            # February: a count typed as text "45" (warning only)

# Preferred case-table fields per provincial unit (names from the plan's case_fields list).
TINH_FIELDS = {
    "VPUBND": ["Khác", "Nội vụ"], "SNV": ["Nội vụ", "Khác"],
    "STP": ["Lý lịch tư pháp", "Tư pháp", "Hộ tịch", "Chứng thực"],
    "SKHDT": ["Đăng ký kinh doanh", "Đầu tư"], "STC": ["Tài chính", "Khác"], "SCT": ["Công Thương", "Khác"],
    "SNNPTNT": ["Nông nghiệp", "Khác"], "SGTVT": ["Giao thông vận tải", "Khác"],
    "SXD": ["Xây dựng", "Khác"], "STNMT": ["Đất đai", "Tài nguyên và Môi trường"],
    "STTTT": ["Thông tin và Truyền thông", "Khác"],
    "SLDTBXH": ["Lao động - Thương binh và Xã hội", "Khác"], "SVHTTDL": ["Văn hóa", "Khác"],
    "SKHCN": ["Khác", "Đầu tư"], "SGDDT": ["Giáo dục và Đào tạo", "Khác"], "SYT": ["Y tế", "Khác"],
    "TTT": ["Khác", "Nội vụ"], "BDT": ["Khác", "Nội vụ"],
    "BQLKCN": ["Đầu tư", "Xây dựng", "Lao động - Thương binh và Xã hội", "Công Thương"],
    "CAT": ["Giao thông vận tải", "Hộ tịch", "Khác"],
    "BHXH": ["Lao động - Thương binh và Xã hội", "Y tế", "Khác"],
}
HUYEN_FIELDS = ["Đất đai", "Hộ tịch", "Chứng thực", "Đăng ký kinh doanh", "Xây dựng",
                "Lao động - Thương binh và Xã hội", "Tư pháp", "Giáo dục và Đào tạo", "Nông nghiệp"]
XA_FIELDS = ["Hộ tịch", "Chứng thực", "Lao động - Thương binh và Xã hội", "Đất đai", "Tư pháp", "Nông nghiệp"]
# Monthly new cases of the provincial units (low, high).
TINH_VOLUME = {
    "CAT": (3200, 4200), "STP": (2400, 3200), "BHXH": (1600, 2400), "STNMT": (1500, 2200),
    "SGTVT": (1400, 2000), "SLDTBXH": (800, 1300), "SKHDT": (600, 950), "SYT": (450, 800),
    "SXD": (250, 450), "SCT": (250, 500), "SGDDT": (180, 350), "SNNPTNT": (150, 320),
    "SVHTTDL": (120, 250), "SNV": (100, 220), "VPUBND": (120, 260), "STTTT": (80, 180), "STC": (80, 160),
    "BQLKCN": (60, 140), "SKHCN": (30, 80), "TTT": (15, 35), "BDT": (12, 30),
}

DIFFICULTIES = [
    "Hạ tầng mạng tại Bộ phận Một cửa chưa ổn định, đường truyền thường xuyên gián đoạn, ảnh hưởng đến việc "
    "tiếp nhận & số hóa hồ sơ.",
    "Một bộ phận người dân, nhất là người cao tuổi và đồng bào dân tộc thiểu số, chưa có tài khoản định danh "
    "điện tử mức độ 2 nên chưa thể nộp hồ sơ trực tuyến.",
    "Hệ thống thông tin giải quyết TTHC của tỉnh chưa kết nối đầy đủ với các cơ sở dữ liệu chuyên ngành, công "
    "chức phải nhập liệu nhiều lần.",
    "Máy quét, máy tính phục vụ số hóa hồ sơ đã cũ, xuống cấp, không đáp ứng khối lượng hồ sơ phát sinh.",
    "Công chức làm công tác một cửa còn kiêm nhiệm nhiều việc, thường xuyên thay đổi nên việc hướng dẫn người "
    "dân nộp hồ sơ trực tuyến còn hạn chế.",
    "Tỷ lệ thanh toán trực tuyến còn thấp do người dân chưa quen dùng tài khoản ngân hàng, ví điện tử để nộp "
    "phí, lệ phí.",
    "Một số thủ tục lĩnh vực đất đai có thành phần hồ sơ phức tạp, khó thực hiện trực tuyến toàn trình.",
    "Chứng thư số cấp cho công chức còn thiếu, chưa đáp ứng yêu cầu ký số kết quả giải quyết TTHC điện tử.",
    "Cổng Dịch vụ công quốc gia đôi lúc lỗi đồng bộ trạng thái hồ sơ, phải cập nhật thủ công.",
]
PROPOSALS = [
    "Đề nghị Sở Thông tin và Truyền thông hỗ trợ nâng cấp đường truyền Internet cho Bộ phận Một cửa cấp xã.",
    "Đề nghị UBND tỉnh bố trí kinh phí mua sắm máy quét, máy tính phục vụ số hóa hồ sơ, kết quả giải quyết TTHC.",
    "Đề nghị tổ chức tập huấn nghiệp vụ số hóa hồ sơ và sử dụng Hệ thống thông tin giải quyết TTHC cho công "
    "chức một cửa.",
    "Đề nghị Công an tỉnh đẩy mạnh cấp, kích hoạt tài khoản định danh điện tử mức độ 2 cho người dân.",
    "Đề nghị đơn vị cung cấp phần mềm khắc phục lỗi đồng bộ dữ liệu giữa Hệ thống thông tin giải quyết TTHC "
    "của tỉnh và Cổng Dịch vụ công quốc gia.",
    "Đề nghị cấp bổ sung chứng thư số cho công chức làm công tác tiếp nhận và trả kết quả.",
    "Đề nghị có chính sách hỗ trợ đoàn viên thanh niên, nhân viên bưu điện hướng dẫn người dân nộp hồ sơ "
    "trực tuyến.",
    "Đề nghị Văn phòng UBND tỉnh hướng dẫn thống nhất cách thống kê hồ sơ từ kỳ trước chuyển sang.",
    "Đề nghị tiếp tục thực hiện chính sách giảm phí, lệ phí khi nộp hồ sơ trực tuyến theo Quyết định số "
    "02/2023/QĐ-UBND.",
]
# Popular items (shared by several units, so the report's de-duplication shows) weigh more.
DIFF_WEIGHTS = [5, 5, 2, 4, 2, 3, 1, 1, 2]
PROP_WEIGHTS = [4, 5, 3, 3, 2, 1, 1, 2, 1]
BELOW_TARGET_NOTES = {
    "3": "Người dân còn thói quen nộp hồ sơ trực tiếp tại Bộ phận Một cửa.",
    "2": "Phần lớn phí, lệ phí có giá trị nhỏ, người dân chọn nộp tiền mặt.",
    "4": "Thiếu máy quét, số hóa chưa kịp với hồ sơ tiếp nhận trong ngày.",
    "12": "Một số hồ sơ phải bổ sung bản giấy theo quy định chuyên ngành.",
    "15": "Một số hồ sơ trễ hạn do phải lấy ý kiến cơ quan liên quan.",
}

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lưu",
            "Đàng", "Chamaléa", "Pinăng", "Thiết", "Quảng"]
MIDDLES = ["Thị", "Văn", "Ngọc", "Minh", "Thanh", "Hoàng", "Thị Thu", "Văn", "Hữu", "Thị Mỹ", "Đức"]
GIVEN = ["Hương", "Lan", "Hùng", "Dũng", "Trang", "Phương", "Nam", "Tuấn", "Hà", "Linh", "Thảo", "Quang", "Tâm",
         "Vy", "Nhung", "Sơn", "Thủy", "Hiếu", "Khánh", "Loan", "Bình", "Hạnh"]


# ----------------------------------------------------------------------------------------------------
@dataclass
class Profile:
    """A unit's persistent character: its size and habits, so its months are consistent."""

    unit: Unit
    base: int
    fields: list[tuple[str, float, float]]            # (name, weight, online-share offset)
    rates: dict[str, float]
    tthc: int
    tthc_online: int
    docs: int
    feedback: float
    person: str
    title: str
    phone: str
    email: str | None
    blank_zeros: bool
    difficulties: list[str]
    proposals: list[str]
    tasks: dict[str, tuple[int | None, int | None, str]]   # task key -> (start month, done month, document)
    pending: dict[str, int] = field(default_factory=dict)  # end-of-month pending by field (carried over)


def clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def person_name(rng: Any) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"


def make_profile(rng: Any, unit: Unit, plan: Plan, *, domain: str = "ninhthuan.gov.vn", area: str = "0259",
                 first: int = 0) -> Profile:
    """A unit's profile; `first` is the index of its first month (6 for the units from July)."""
    tier, code = unit.tier, unit.code
    mountain = "mien_nui_dtts" in unit.flags
    if tier == "tinh":
        lo, hi = TINH_VOLUME.get(code, (100, 300))
        base = rng.randint(lo, hi)
        names = list(TINH_FIELDS.get(code, ["Khác"]))
        extra = [f for f in ("Khác", "Tư pháp", "Tài chính") if f not in names]
        while len(names) < 2:
            names.append(extra.pop(0))
        share = rng.uniform(0.78, 0.93)
    elif tier == "huyen":
        base = rng.randint(950, 1400) if code == "582" else rng.randint(220, 380) if mountain else rng.randint(350, 800)
        names = ["Đất đai", "Hộ tịch"] + rng.sample(HUYEN_FIELDS[2:], rng.randint(1, 4))
        share = rng.uniform(0.72, 0.9) - (0.04 if mountain else 0)
    else:
        phuong = unit.name.startswith(("Phường", "Thị trấn"))
        base = rng.randint(90, 200) if phuong else rng.randint(22, 75) if mountain else rng.randint(45, 140)
        names = ["Hộ tịch", "Chứng thực"] + rng.sample(XA_FIELDS[2:], rng.randint(0, 3))
        share = rng.uniform(0.64, 0.92) - (0.06 if mountain else 0)
    names = [n for n in names if n in plan.case_fields] or ["Khác", "Tư pháp"]
    weights = [rng.uniform(0.5, 3.0) for _ in names]
    weights[0] *= 2.5  # the unit's main field
    total = sum(weights)
    fields = [(n, w / total, rng.uniform(-0.05, 0.05)) for n, w in zip(names, weights, strict=True)]

    pay_target = {"tinh": 60, "huyen": 45, "xa": 35}[tier] - (10 if mountain else 0)
    rates = {
        "share": share,
        "carried": rng.uniform(0.03, 0.09),
        "resolve": rng.uniform(0.92, 0.98) if tier == "xa" else rng.uniform(0.86, 0.95),
        "late": rng.uniform(0.0, 0.02) + (0.02 if code in ("STNMT", "582") else 0),
        "before": rng.uniform(0.45, 0.8),
        "pending_late": rng.uniform(0.0, 0.1),
        "digit": {"tinh": rng.uniform(0.86, 0.99), "huyen": rng.uniform(0.8, 0.96), "xa": rng.uniform(0.7, 0.94)}[tier],
        "eres": 1.0 if rng.random() < 0.35 else rng.uniform(0.9, 0.995),
        "pay_share": rng.uniform(0.35, 0.65),
        "pay": clamp(pay_target / 100 + rng.uniform(-0.1, 0.18), 0.15, 0.95),
        "reuse": rng.uniform(0.38, 0.75),
        "full": rng.uniform(0.82, 0.99),
        "tt": rng.uniform(0.58, 0.92),
        "docs": {"tinh": rng.uniform(0.97, 1.0), "huyen": rng.uniform(0.94, 1.0), "xa": rng.uniform(0.88, 0.99)}[tier],
        "sync": rng.uniform(0.97, 1.0),
        "sat": rng.uniform(85.0, 98.0),
        "ratings": rng.uniform(0.2, 0.5),
    }
    tthc = {"tinh": rng.randint(25, 140), "huyen": rng.randint(70, 115), "xa": rng.randint(28, 46)}[tier]
    if code in ("BDT", "TTT", "SKHCN"):
        tthc = rng.randint(6, 20)
    tthc_online = round(tthc * rng.uniform(0.72, 0.97))
    docs = {"tinh": rng.randint(300, 1600), "huyen": rng.randint(600, 1500), "xa": rng.randint(80, 350)}[tier]
    feedback = {"tinh": rng.uniform(0, 10), "huyen": rng.uniform(0, 7), "xa": rng.uniform(0, 2.5)}[tier]

    person = person_name(rng)
    slug = slugify(unit.name, max_len=40).replace("-", "")
    if tier == "tinh":
        title = rng.choice(["Chuyên viên Văn phòng", "Phó Chánh Văn phòng", "Chuyên viên"])
        phone = f"{area} 38{rng.randint(10, 99)} {rng.randint(100, 999)}"
        email = f"vp.{code.lower()}@{domain}"
    elif tier == "huyen":
        title = "Chuyên viên Văn phòng HĐND và UBND"
        phone = f"{area} 38{rng.randint(10, 99)} {rng.randint(100, 999)}"
        email = f"vp.{slug}@{domain}"
    else:
        title = rng.choice(["Công chức Văn phòng - Thống kê", "Công chức Tư pháp - Hộ tịch"])
        phone = f"09{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        email = f"ubnd.{slug}@{domain}" if rng.random() < 0.6 else None

    difficulties: list[str] = []
    proposals: list[str] = []
    if rng.random() < 0.2:
        difficulties = pick_distinct(rng, DIFFICULTIES, DIFF_WEIGHTS, rng.randint(1, 2))
        proposals = pick_distinct(rng, PROPOSALS, PROP_WEIGHTS, rng.randint(0, 2))

    tasks: dict[str, tuple[int | None, int | None, str]] = {}
    for ut in _tasks_of(plan, unit):
        start = rng.choice([0, 0, 0, 1, 2, None])
        done = None
        if start is not None and ut.task.id in ("II.1.b", "II.3.b", "II.3.c") and rng.random() < 0.3:
            done = first + rng.choice([1, 2])
        if start is not None:
            start += first
        issuer = code if tier == "tinh" else "UBND"
        kind = rng.choice(["KH", "QĐ", "BC"])
        tasks[ut.task.key] = (start, done, f"{rng.randint(12, 480)}/{kind}-{issuer}")
    return Profile(unit=unit, base=base, fields=fields, rates=rates, tthc=tthc, tthc_online=tthc_online, docs=docs,
                   feedback=feedback, person=person, title=title, phone=phone, email=email,
                   blank_zeros=tier == "xa" and rng.random() < 0.4, difficulties=difficulties,
                   proposals=proposals, tasks=tasks)


def pick_distinct(rng: Any, items: list[str], weights: list[int], k: int) -> list[str]:
    out: list[str] = []
    while len(out) < k:
        item = rng.choices(items, weights=weights)[0]
        if item not in out:
            out.append(item)
    return out


def _tasks_of(plan: Plan, unit: Unit) -> list[Any]:
    from cchc_excel.core.plan import tasks_for

    return list(tasks_for(plan, unit_code=unit.code, tier=unit.tier))


# ----------------------------------------------------------------------------------------------------
@dataclass
class Filled:
    """What a clerk typed: single-cell values by defined name, and the case-table rows."""

    values: dict[str, Any]
    cases: list[dict[str, Any]]
    case_names: dict[str, str]         # case column key -> defined name of its block


def fill(rng: Any, prof: Profile, lay: L.Layout, month_index: int, period: Period, arrival: datetime) -> Filled:
    r = prof.rates
    m = month_index
    season = SEASON[period.code]
    drift = 0.012 * m

    # Case table -----------------------------------------------------------------------------------
    cases: list[dict[str, Any]] = []
    for name, weight, offset in prof.fields:
        new = max(1, round(prof.base * season * (1 + 0.02 * m) * weight * rng.uniform(0.9, 1.1)))
        share = clamp(r["share"] + offset + drift + rng.uniform(-0.01, 0.01), 0.3, 0.98)
        online = round(new * share)
        carried = prof.pending.get(name)
        if carried is None:
            carried = round(new * r["carried"] * rng.uniform(0.7, 1.3))
        received = online + (new - online) + carried
        resolved = min(received, round(received * clamp(r["resolve"] + rng.uniform(-0.02, 0.02), 0.7, 0.99)))
        late = round(resolved * max(0.0, r["late"] - 0.004 * m + rng.uniform(-0.003, 0.003)))
        before = round((resolved - late) * r["before"])
        pending = received - resolved
        pending_late = round(pending * r["pending_late"])
        cases.append({"field": name, "online": online, "direct": new - online, "carried": carried,
                      "before": before, "on_time": resolved - late - before, "late": late,
                      "pending_in": pending - pending_late, "pending_late": pending_late})
        prof.pending[name] = pending
    received = sum(c["online"] + c["direct"] + c["carried"] for c in cases)
    online_total = sum(c["online"] for c in cases)
    new_total = sum(c["online"] + c["direct"] for c in cases)
    resolved = sum(c["before"] + c["on_time"] + c["late"] for c in cases)

    # Indicators -----------------------------------------------------------------------------------
    def part(total: int, rate: float) -> int:
        return min(total, max(0, round(total * clamp(rate, 0.0, 1.0))))

    noise = rng.uniform(-0.01, 0.01)
    tthc_online = min(prof.tthc, prof.tthc_online + m * rng.randint(0, 2))
    pay_den = round(new_total * r["pay_share"])
    feedback = round(prof.feedback * rng.uniform(0.6, 1.4))
    feedback_ok = feedback if feedback < 6 or rng.random() < 0.7 else feedback - 1
    docs = round(prof.docs * season * rng.uniform(0.9, 1.1))
    sync_den = round(prof.base * 8 * season) if prof.unit.code in IT_UNITS else round(received * 1.0)
    pairs: dict[str, tuple[int, int]] = {
        "1": (tthc_online, prof.tthc),
        "2": (part(pay_den, r["pay"] + drift + noise), pay_den),
        "3": (online_total, received),
        "4": (part(resolved, r["digit"] + 0.008 * m + noise), resolved),
        "5": (part(sync_den, r["sync"] + 0.004 * m), sync_den),
        "7": (part(docs, r["docs"] + 0.004 * m), docs),
        "10": (part(resolved, r["eres"] + (0.004 * m if r["eres"] < 1 else 0)), resolved),
        "11": (part(received, r["reuse"] + drift + noise), received),
        "12": (part(online_total, r["full"]), received),
        "13": (part(online_total, r["tt"] + drift + noise), online_total),
        "14": (feedback_ok, feedback),
    }
    percents: dict[str, float] = {
        "6": 100.0 if prof.unit.code in IT_UNITS else min(100.0, round(96.0 + 1.5 * m, 1)),
        "8": 100.0,
        "9": min(100.0, round(80.0 + 5 * m, 1)),
        "15": round(clamp(r["sat"] + 0.3 * m + rng.uniform(-0.8, 0.8), 80, 99.5), 1),
    }
    values: dict[str, Any] = {}
    for block in lay.indicators:
        ind = block.item.indicator
        rate = None
        for slot in block.slots:
            if slot.role == "numerator":
                values[slot.name] = pairs[ind.id][0]
            elif slot.role == "denominator":
                values[slot.name] = pairs[ind.id][1]
            elif slot.role == "value":
                values[slot.name] = percents[ind.id]
            elif slot.role == "weight":
                values[slot.name] = round(resolved * r["ratings"])
        if ind.kind == "rate" and pairs[ind.id][1]:
            rate = pairs[ind.id][0] / pairs[ind.id][1] * 100
        elif ind.kind == "percent":
            rate = percents[ind.id]
        target = block.item.target
        if (rate is not None and target is not None and target.is_met(rate) is False
                and ind.id in BELOW_TARGET_NOTES and rng.random() < 0.5):
            values[block.note.name] = BELOW_TARGET_NOTES[ind.id]

    # Tasks ----------------------------------------------------------------------------------------
    for trow in lay.tasks:
        start, done, doc = prof.tasks.get(trow.item.task.key, (None, None, ""))
        if done is not None and done <= m:
            done_day = date(2025, done + 1, 3 + len(doc) % 3)
            values[trow.status.name] = L.STATUSES[0]
            values[trow.done_date.name] = done_day
            kind = doc.split("/")[1].split("-")[0]
            word = {"KH": "Kế hoạch", "QĐ": "Quyết định", "BC": "Báo cáo"}[kind]
            values[trow.document.name] = f"{word} số {doc} ngày {done_day.strftime('%d/%m/%Y')}"
        elif start is not None and start <= m:
            values[trow.status.name] = L.STATUSES[1]
        else:
            values[trow.status.name] = L.STATUSES[2]

    # Preparer and notes ---------------------------------------------------------------------------
    values["TT_NGUOI_LAP"] = prof.person
    values["TT_CHUC_VU"] = prof.title
    values["TT_DIEN_THOAI"] = prof.phone
    if prof.email:
        values["TT_EMAIL"] = prof.email
    values["TT_NGAY_LAP"] = (arrival - timedelta(days=rng.choice([0, 0, 1, 2]))).date()
    if prof.difficulties:
        diffs = list(prof.difficulties)
        dash = prof.unit.code.isdigit() and int(prof.unit.code) % 2 == 0
        values["KK_KHO_KHAN"] = "\n".join(("- " if dash else "") + d for d in diffs)
        if prof.proposals:
            values["KK_KIEN_NGHI"] = "\n".join(("- " if dash else "") + p for p in prof.proposals)

    case_names = {c.key: c.name for c in lay.case_table.columns if c.name}
    return Filled(values=values, cases=cases, case_names=case_names)


# ----------------------------------------------------------------------------------------------------
# Writing


_DEFINED = re.compile(r'<definedName name="([^"]+)"[^>]*>([^<]*)</definedName>')
_SHEET = re.compile(r'<sheet name="([^"]+)"[^>]*? r:id="(rId\d+)"/>')
_REL = re.compile(r'<Relationship Id="(rId\d+)" Type="[^"]+/worksheet" Target="([^"]+)"/>')
_CELL = re.compile(r'<c r="([A-Z]+\d+)"( s="\d+")?[^>]*?(?:/>|>.*?</c>)')
EXCEL_EPOCH = date(1899, 12, 30)


def _cells_of(parts: dict[str, bytes]) -> dict[str, tuple[str, str, int]]:
    """Defined name -> (sheet part, column letters, row) of its first cell."""
    book = parts["xl/workbook.xml"].decode("utf-8")
    rels = dict(_REL.findall(parts["xl/_rels/workbook.xml.rels"].decode("utf-8")))
    sheets = {name: "xl/" + rels[rid].lstrip("/").removeprefix("xl/") for name, rid in _SHEET.findall(book)}
    out = {}
    for name, ref in _DEFINED.findall(book):
        if name.startswith("_xlnm"):
            continue
        sheet, _, cell = ref.rpartition("!")
        col, row = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", cell.split(":")[0]).groups()
        out[name] = (sheets[sheet.strip("'").replace("''", "'")], col, int(row))
    return out


def _typed(ref: str, style: str, value: Any) -> str:
    """A cell as Excel stores what was typed in it."""
    if isinstance(value, date):
        return f'<c r="{ref}"{style}><v>{(value - EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    text = escape(str(value)).replace("\n", "&#10;")
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def fill_bytes(blank: bytes, filled: Filled, *, author: str, when: datetime) -> bytes:
    """The blank form with the clerk's typing in its input cells (each one is in the sheet as an empty styled
    cell), the author and a fixed modification time; zip entries with fixed times, so re-runs give equal bytes."""
    with zipfile.ZipFile(io.BytesIO(blank)) as zin:
        infos = zin.infolist()
        parts = {i.filename: zin.read(i.filename) for i in infos}
    where = _cells_of(parts)
    edits: dict[str, dict[str, Any]] = {}
    for name, value in filled.values.items():
        sheet, col, row = where[name]
        edits.setdefault(sheet, {})[f"{col}{row}"] = value
    for i, row_values in enumerate(filled.cases):
        for key, name in filled.case_names.items():
            value = row_values[key]
            if value == 0 and row_values.get("_blank_zeros"):
                continue
            sheet, col, row = where[name]
            edits.setdefault(sheet, {})[f"{col}{row + i}"] = value
    for sheet, cells in edits.items():
        left = dict(cells)

        def typed(m: re.Match[str], left: dict[str, Any] = left) -> str:
            ref = m.group(1)
            return _typed(ref, m.group(2) or "", left.pop(ref)) if ref in left else m.group(0)

        xml = _CELL.sub(typed, parts[sheet].decode("utf-8"))
        if left:
            raise RuntimeError(f"{sheet}: no cells {sorted(left)} in the blank form")
        parts[sheet] = xml.encode("utf-8")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    core = re.sub(rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\2",
                  parts["docProps/core.xml"])
    parts["docProps/core.xml"] = re.sub(rb"<cp:lastModifiedBy>[^<]*<", b"<cp:lastModifiedBy>"
                                        + escape(author).encode() + b"<", core)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zi = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zout.writestr(zi, parts[info.filename], compresslevel=6)
    return out.getvalue()


def write_foreign(target: Path, when: datetime) -> None:
    """A workbook that is not one of our forms (a unit attached the wrong file)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"author": "Kế toán", "created": when})
    ws = wb.add_worksheet("Sheet1")
    rows: list[list[Any]] = [["BÁO CÁO TÌNH HÌNH THU, CHI PHÍ, LỆ PHÍ QUÝ I NĂM 2025"], [],
                             ["STT", "Nội dung", "Số tiền (đồng)"]]
    rows += [[i, text, amount] for i, (text, amount) in enumerate(
        [("Thu phí chứng thực", 4_350_000), ("Thu lệ phí hộ tịch", 2_120_000),
         ("Chi hỗ trợ bộ phận Một cửa", 3_000_000)], start=1)]
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    wb.close()
    target.write_bytes(fill_bytes(buf.getvalue(), Filled({}, [], {}), author="Kế toán", when=when))


def arrival_time(rng: Any, period: Period, late: bool, plan: Plan) -> datetime:
    """When a file reached the office: on time before the 15th, or one to three days after the due date (the
    15th moved to the next working day when it is a weekend or a holiday: 15/3/2025 is a Saturday, due 17/3)."""
    year, month = int(period.code[:4]), int(period.code[5:7])
    if late:
        due = period.due_date(plan.reporting.due_day, month_offset=plan.reporting.due_month_offset)
        day = due + timedelta(days=rng.randint(1, 3))
        return datetime(day.year, day.month, day.day, rng.randint(7, 16), rng.randint(0, 59))
    day = rng.choice([6, 7, 8, 9, 10, 10, 11, 12, 13, 13, 14, 14])
    if period.code == "2025-02":
        day = rng.choice([5, 6, 7, 10, 11, 12, 13, 14])   # after the Tết holiday (25/01–02/02/2025)
    return datetime(year, month, day, rng.randint(7, 16), rng.randint(0, 59))


def write_config(path: Path, **changes: Any) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["secret"] = SECRET
    config.update(changes)
    header = (
        "# Cấu hình không gian làm việc mẫu (tạo bởi samples/make_samples.py — đừng sửa tay, hãy chạy lại).\n"
        "# 'secret' là khóa ký biểu mẫu. Ở đây khóa CỐ ĐỊNH để dữ liệu mẫu tạo lại giống hệt; một không gian\n"
        "# làm việc thật nhận khóa ngẫu nhiên từ `cchc init` và phải giữ kín, không đổi giữa các kỳ.\n"
    )
    if "history" in changes:
        header += (
            "# Từ 01/7/2025: văn phòng thay cchc.yaml bằng tệp này (kế hoạch, danh mục Khánh Hòa; danh mục Ninh Thuận\n"
            "# và bảng kế thừa ở mục history). `cchc demo` làm việc đó sau khi nhập tháng 6.\n"
        )
    path.write_text(header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_khanh_hoa_part(root: Path) -> None:
    """The sample's registry after 01/7/2025: the provincial agencies of Khánh Hòa and the communes and wards
    that succeeded those of Ninh Thuận (the sample reports only that part of the province, and a plan expects
    every unit of its registry), and the succession map pointing at it."""
    smap, found = load_succession(MAP_SRC)
    if smap is None:
        raise RuntimeError("; ".join(p.message for p in found.problems))
    successors = {s.code for e in smap.entries for s in e.successors}
    source_csv = KH_REGISTRY_SRC.with_suffix(".csv")
    with source_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    kept = [rows[0]] + [r for r in rows[1:] if r[2] == "tinh" or r[0] in successors]
    csv_name = f"{KH_ID}.csv"
    with (root / csv_name).open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(kept)
    text = KH_REGISTRY_SRC.read_text(encoding="utf-8")
    text = text.replace("id: khanh-hoa-2025\n", f"id: {KH_ID}\n").replace(
        "units_csv: khanh-hoa-2025.csv", f"units_csv: {csv_name}")
    lead = ("# DỮ LIỆU MẪU: phần của danh mục khanh-hoa-2025 thuộc Ninh Thuận cũ — các Sở, ban, ngành của tỉnh và\n"
            f"# {len(kept) - 1 - sum(r[2] == 'tinh' for r in kept[1:])} xã, phường kế thừa xã, phường của Ninh Thuận "
            "(tạo bởi samples/make_samples.py). Tỉnh thật dùng\n# danh mục đầy đủ templates/registries/khanh-hoa-2025.yaml.\n")
    (root / KH_REGISTRY).write_text(lead + text, encoding="utf-8")
    text = MAP_SRC.read_text(encoding="utf-8").replace("to: khanh-hoa-2025\n", f"to: {KH_ID}\n")
    (root / MAP).write_text("# DỮ LIỆU MẪU: bản sao bảng kế thừa của templates/registries/, trỏ tới danh mục mẫu "
                            f"{KH_ID}.\n" + text, encoding="utf-8")


def make_workspace(root: Path) -> None:
    """The sample workspace without the months: both configurations, plans, registries and the map."""
    init_workspace(root, plan=PLAN_SRC, registry=REGISTRY_SRC, office=OFFICE, report=REPORT)
    write_config(root / CONFIG_NAME)
    shutil.copyfile(KH_PLAN_SRC, root / KH_PLAN)
    write_khanh_hoa_part(root)
    after = root / CONFIG_AFTER
    shutil.copyfile(root / CONFIG_NAME, after)
    write_config(after, plan=KH_PLAN, registry=KH_REGISTRY, office=OFFICE_AFTER, report=REPORT_AFTER,
                 history=[{"registry": "registry.yaml", "succession": MAP}])


@dataclass
class World:
    """The two plans and registries of the year and the map between them, as the sample workspace holds them."""

    plan: Plan
    registry: Registry
    kh_plan: Plan
    kh_registry: Registry
    smap: SuccessionMap


def load_world(root: Path) -> World:
    loaded = [load_plan(root / "plan.yaml"), load_registry(root / "registry.yaml"), load_plan(root / KH_PLAN),
              load_registry(root / KH_REGISTRY), load_succession(root / MAP)]
    if any(obj is None for obj, _ in loaded):
        raise RuntimeError("; ".join(p.message for _, rep in loaded for p in rep.problems))
    return World(*(obj for obj, _ in loaded))


def successor_profiles(rng: Any, world: World, old: dict[str, Profile]) -> dict[str, Profile]:
    """The profiles of the units from July: each new unit takes over its predecessors' cases (their June
    pending, added by field the way the succession map restates them, so July's "Từ kỳ trước" matches), their
    volumes and the habits of the largest of them."""
    inherited: dict[str, list[tuple[Profile, float]]] = {}
    for code, prof in old.items():
        e = world.smap.get(code)
        for new, w in (e.weights() if e is not None else ()):
            inherited.setdefault(new, []).append((prof, w))
    out: dict[str, Profile] = {}
    for unit in world.kh_registry.units:
        prof = make_profile(rng, unit, world.kh_plan, domain="khanhhoa.gov.vn", area="0258", first=6)
        parents = inherited.get(unit.code, [])
        if parents:
            main = max(parents, key=lambda pw: pw[0].base * pw[1])[0]
            volume: dict[str, float] = {}
            pending: dict[str, float] = {}
            names: dict[str, str] = {}
            for p, w in parents:
                for name, weight, _ in p.fields:
                    k = match_key(name)
                    names.setdefault(k, name)
                    volume[k] = volume.get(k, 0.0) + p.base * w * weight
                for name, n in p.pending.items():
                    k = match_key(name)
                    names.setdefault(k, name)
                    pending[k] = pending.get(k, 0.0) + n * w
            base = max(1, round(sum(volume.values())))
            keys = sorted(names, key=lambda k: -volume.get(k, 0.0))
            fields = [(names[k], max(volume.get(k, 0.0), 0.5) / max(base, 1), rng.uniform(-0.05, 0.05)) for k in keys]
            total = sum(f[1] for f in fields)
            prof = replace(prof, base=base, fields=[(n, w / total, o) for n, w, o in fields], rates=dict(main.rates),
                           blank_zeros=main.blank_zeros,
                           pending={names[k]: round(n) for k, n in pending.items()})
        out[unit.code] = prof
    return out


def generate_months(root: Path, months: Any = None, *, say: Any = None) -> list[str]:
    """Write the sample's months `months` (default: those not yet under root/nop) into the workspace folder
    `root`. Every month from January is computed (the profiles and the random sequence carry over), only the
    asked ones are written, so a month is the same whichever months are written. Returns the months written."""
    root = Path(root)
    world = load_world(root)
    if months is None:
        months = [m for m in MONTHS if not (root / "nop" / m).is_dir()]
    wanted = set(months)
    rng = random.Random(SEED)
    profiles = {u.code: make_profile(rng, u, world.plan) for u in world.registry.units}
    templates: dict[Any, Any] = {}
    written: list[str] = []
    for mi, month in enumerate(MONTHS):
        after = month >= CHANGE
        if month == CHANGE:
            profiles = successor_profiles(rng, world, profiles)
        plan, registry = (world.kh_plan, world.kh_registry) if after else (world.plan, world.registry)
        office = OFFICE_AFTER if after else OFFICE
        period = Period.parse(month)
        write = month in wanted
        folder = root / "nop" / month
        if write:
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
        receipts: list[tuple[str, datetime]] = []
        for unit in registry.units:
            prof = profiles[unit.code]
            arrival = arrival_time(rng, period, unit.code in LATE.get(month, ()), plan)
            lay = L.build_layout(plan, unit, registry.tier(unit.tier), period)
            filled = fill(rng, prof, lay, mi, period, arrival)
            if not write or (month == "2025-03" and unit.code in MISSING_MARCH):
                continue
            if prof.blank_zeros:
                for row in filled.cases:
                    row["_blank_zeros"] = True
            blank = blank_form(templates, lay, plan, office, GENERATED[month])
            name = workbook_filename(period, unit)
            mistake = MISTAKES.get(unit.code) if month == "2025-03" else None
            if month == "2025-02" and unit.code in TEXT_NUMBER_FEB:
                filled.cases[0]["online"] = str(filled.cases[0]["online"])   # typed as text: warning
            if mistake:
                name = apply_mistake(mistake, unit, filled, registry, period, name, arrival, blank, folder,
                                     receipts, prof)
            (folder / name).write_bytes(fill_bytes(blank, filled, author=prof.person, when=arrival))
            receipts.append((name, arrival))
        if not write:
            continue
        if month == "2025-03":
            foreign_at = datetime(2025, 3, 11, 9, 20)
            write_foreign(folder / "bao-cao-khac.xlsx", foreign_at)
            receipts.append(("bao-cao-khac.xlsx", foreign_at))
        receipts.sort(key=lambda x: (x[1], x[0]))
        with (folder / RECEIPT_LOG).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["file", "received_at"])
            for fname, when in receipts:
                w.writerow([fname, when.strftime("%Y-%m-%dT%H:%M")])
        written.append(month)
        if say:
            files = sorted(folder.glob("*.xlsx"))
            say(f"{month}: {len(files)} tệp, {sum(f.stat().st_size for f in files) // 1024} KB")
    return written


def blank_form(cache: dict[Any, Any], lay: L.Layout, plan: Plan, office: dict[str, Any], when: datetime) -> bytes:
    """The unit's blank form as `cchc generate` makes it (one template per shape, patched for the unit)."""
    if not patchable(lay.unit):
        with tempfile.TemporaryDirectory() as tmp:
            return write_workbook(lay, plan, Path(tmp) / "form.xlsx", secret=SECRET, office=office,
                                  generated=when).read_bytes()
    key = lay.shape()
    if key not in cache:
        cache[key] = build_template(lay, plan, secret=SECRET, office=office)
    return render_unit(cache[key], lay, secret=SECRET, generated=when)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if OUT.exists():
        shutil.rmtree(OUT)
    make_workspace(OUT)
    generate_months(OUT, MONTHS if "--all" in args else COMMITTED, say=print)
    print(f"Đã tạo dữ liệu mẫu tại {OUT.relative_to(REPO)}")
    return 0


def apply_mistake(mistake: str, unit: Unit, filled: Filled, registry: Registry, period: Period, name: str,
                  arrival: datetime, blank: bytes, folder: Path, receipts: list[tuple[str, datetime]],
                  prof: Profile) -> str:
    """Introduce one March mistake into `filled`; return the file name to write it under."""
    v = filled.values
    if mistake == "numerator-exceeds-denominator":
        v["CT_13_TU"], v["CT_13_MAU"] = v["CT_13_MAU"], v["CT_13_TU"]   # swapped
        if v["CT_13_TU"] == v["CT_13_MAU"]:
            v["CT_13_TU"] += 3
    elif mistake == "not-a-number":
        v["CT_7_TU"] = "abc"
    elif mistake == "case-balance":
        filled.cases[1]["pending_in"] += 7          # resolved + pending no longer equals received
    elif mistake == "case-denominator-mismatch":
        v["CT_3_MAU"] -= sum(c["carried"] for c in filled.cases)   # forgot the cases carried over
    elif mistake == "number-from-text":
        key = next(k for k, x in v.items() if k.startswith("CT_") and isinstance(x, int) and x >= 1000)
        v[key] = f"{v[key]:,}".replace(",", ".")    # "1.234" typed as text
    elif mistake == "filename-unit-mismatch":
        other = registry.get(MISNAMED_AS)
        assert other is not None
        return workbook_filename(period, other).replace(".xlsx", " (1).xlsx")
    elif mistake == "resubmitted":
        first = dict(v)
        first["CT_15_GT"] = round(v["CT_15_GT"] * 10)          # 96,5 typed without the comma: 965
        early = arrival - timedelta(days=3)
        first["TT_NGAY_LAP"] = early.date()
        (folder / name).write_bytes(fill_bytes(blank, Filled(first, filled.cases, filled.case_names),
                                               author=prof.person, when=early))
        receipts.append((name, early))
        return name.replace(".xlsx", "_lan2.xlsx")
    return name


if __name__ == "__main__":
    sys.exit(main())
