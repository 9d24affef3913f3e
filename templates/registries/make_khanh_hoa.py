"""Developer tool: write the Khánh Hòa 2025 registry and the Ninh Thuận → Khánh Hòa succession map.

    pip install vietnam-provinces              # communes and wards after 1 July 2025, GSO codes
    pip install --no-deps vietnamadminunits    # old wards -> new wards (only its data files are read)
    python templates/registries/make_khanh_hoa.py

Writes, beside this script:
- khanh-hoa-2025.yaml + khanh-hoa-2025.csv: two tiers (tinh, xa), the 65 communes, wards and special zone of
  the new Khánh Hòa with their GSO codes (from `vietnam-provinces`), and the provincial agencies after the
  2025 department mergers (best effort, typed below and labelled so in the file);
- ninh-thuan-2025-to-khanh-hoa-2025.yaml: every unit of ninh-thuan-2025.csv and what became of it. The
  communes' successors come from `vietnamadminunits`' converter data (old ward keys per new ward; the wards
  split between several new ones, the default one first); the districts are abolished with their tier; the
  agencies follow AGENCY_SUCCESSION below (best effort).

Neither library is a dependency of cchc_excel: the files written are plain data, checked by
`cchc units check templates/registries/khanh-hoa-2025.yaml --succession ...`. `vietnamadminunits` is not
imported (its converter needs shapely and geopy); its JSON and SQLite data are read from its folder.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sqlite3
import sys
from pathlib import Path

import vietnam_provinces

HERE = Path(__file__).resolve().parent
PROVINCE_CODE = 56

# Provincial agencies of Khánh Hòa after the department mergers of 1 March 2025 (Nghị định 45/2025/NĐ-CP and the
# province's resolutions). BEST EFFORT: names typed from press reports, not an official list; slugs are ours.
AGENCIES = [
    ("VPUBND", "Văn phòng Ủy ban nhân dân tỉnh"),
    ("SNV", "Sở Nội vụ"),
    ("STP", "Sở Tư pháp"),
    ("STC", "Sở Tài chính"),
    ("SCT", "Sở Công Thương"),
    ("SNNMT", "Sở Nông nghiệp và Môi trường"),
    ("SXD", "Sở Xây dựng"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("SVHTT", "Sở Văn hóa và Thể thao"),
    ("SDL", "Sở Du lịch"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"),
    ("SYT", "Sở Y tế"),
    ("SDTTG", "Sở Dân tộc và Tôn giáo"),
    ("TTT", "Thanh tra tỉnh"),
    ("BQLKKT", "Ban Quản lý Khu kinh tế Vân Phong"),
    ("CAT", "Công an tỉnh"),
    ("BHXH", "Bảo hiểm xã hội tỉnh"),
]
# Ninh Thuận agency (ninh-thuan-2025.csv) -> Khánh Hòa agencies (first = main successor). BEST EFFORT.
AGENCY_SUCCESSION: dict[str, tuple[list[str], str]] = {
    "VPUBND": (["VPUBND"], ""),
    "SNV": (["SNV"], "hợp nhất với Sở Lao động - Thương binh và Xã hội"),
    "STP": (["STP"], ""),
    "SKHDT": (["STC"], "hợp nhất vào Sở Tài chính"),
    "STC": (["STC"], ""),
    "SCT": (["SCT"], ""),
    "SNNPTNT": (["SNNMT"], "hợp nhất với Sở Tài nguyên và Môi trường"),
    "SGTVT": (["SXD"], "hợp nhất vào Sở Xây dựng"),
    "SXD": (["SXD"], ""),
    "STNMT": (["SNNMT"], "hợp nhất vào Sở Nông nghiệp và Môi trường"),
    "STTTT": (["SKHCN"], "hợp nhất vào Sở Khoa học và Công nghệ (báo chí, xuất bản sang Sở Văn hóa và Thể thao)"),
    "SLDTBXH": (["SNV", "SYT", "SGDDT"], "chia: lao động, người có công sang Sở Nội vụ; bảo trợ xã hội, trẻ em "
                                        "sang Sở Y tế; giáo dục nghề nghiệp sang Sở Giáo dục và Đào tạo"),
    "SVHTTDL": (["SVHTT", "SDL"], "chia: văn hóa, thể thao sang Sở Văn hóa và Thể thao; du lịch sang Sở Du lịch"),
    "SKHCN": (["SKHCN"], ""),
    "SGDDT": (["SGDDT"], ""),
    "SYT": (["SYT"], ""),
    "TTT": (["TTT"], ""),
    "BDT": (["SDTTG"], "thành Sở Dân tộc và Tôn giáo"),
    "BQLKCN": (["BQLKKT"], "giả định sáp nhập vào Ban Quản lý Khu kinh tế Vân Phong"),
    "CAT": (["CAT"], ""),
    "BHXH": (["BHXH"], ""),
}


def vau_data() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pip install --no-deps vietnamadminunits")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_old_registry() -> list[dict[str, str]]:
    with open(HERE / "ninh-thuan-2025.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def commune_succession(old_rows: list[dict[str, str]], new_codes: dict[str, str]) -> dict[str, list[str]]:
    """Old commune code -> new codes (default successor first), from vietnamadminunits' converter data."""
    data = vau_data()
    conv = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    db = sqlite3.connect(data / "dataset.db")
    old_key_code = {f"{p}_{d}_{w}": str(c) for p, d, w, c in db.execute(
        "select provinceKey, districtKey, wardKey, wardCode from admin_units_legacy where provinceKey='tinhninhthuan'")}
    # New wards by name: for 7 of the 65 wards the two libraries disagree on the code (e.g. Xã Cà Ná 22909 in
    # vietnamadminunits, 22910 in vietnam-provinces); the codes written are vietnam-provinces'.
    code_of_name = {name: code for code, name in new_codes.items()}
    new_key_code = {}
    for key, name in db.execute("select wardKey, ward from admin_units where provinceKey='tinhkhanhhoa'"):
        if name not in code_of_name:
            sys.exit(f"vietnamadminunits' new ward {name} is not in vietnam-provinces")
        new_key_code[key] = code_of_name[name]
    out: dict[str, list[str]] = {}
    for new_key, old_keys in conv["DICT_PROVINCE_WARD_NO_DIVIDED"]["tinhkhanhhoa"].items():
        for old_key in old_keys:
            if old_key.startswith("tinhninhthuan_"):
                out.setdefault(old_key_code[old_key], []).append(new_key_code[new_key])
    for old_key, news in conv["DICT_PROVINCE_WARD_DIVIDED"].get("tinhkhanhhoa", {}).items():
        if old_key.startswith("tinhninhthuan_"):
            ordered = sorted(news, key=lambda n: not n["isDefaultNewWard"])
            out[old_key_code[old_key]] = [new_key_code[n["newWardKey"]] for n in ordered]
    old_communes = {r["code"] for r in old_rows if r["tier"] == "xa"}
    if set(out) != old_communes:
        sys.exit(f"old communes without successor: {sorted(old_communes - set(out))}")
    return out


def yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def main() -> None:
    provinces = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    kh = next(p for p in provinces if p["code"] == PROVINCE_CODE)
    wards = sorted(kh["wards"], key=lambda w: w["code"])
    new_codes = {str(w["code"]): w["name"] for w in wards}
    old_rows = read_old_registry()
    old_by_code = {r["code"]: r for r in old_rows}
    communes = commune_succession(old_rows, new_codes)

    # A new commune is flagged as mountain / ethnic-minority when any of its former Ninh Thuận communes was.
    flagged = {new for old, news in communes.items() if "mien_nui_dtts" in old_by_code[old]["flags"] for new in news}
    with open(HERE / "khanh-hoa-2025.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "tier", "parent_code", "flags", "source"])
        for code, name in AGENCIES:
            w.writerow([code, name, "tinh", "", "", "sapnhap2025"])
        for ward in wards:
            code = str(ward["code"])
            w.writerow([code, ward["name"], "xa", "", "mien_nui_dtts" if code in flagged else "",
                        "vnprov2025" + ("+qd861nt" if code in flagged else "")])
    n_flag = len(flagged)
    (HERE / "khanh-hoa-2025.yaml").write_text(f"""\
# Danh mục đơn vị báo cáo tỉnh Khánh Hòa từ ngày 01/7/2025 (hai cấp: tỉnh, xã).
# Registry of the reporting units of the new Khánh Hòa (after 1 July 2025; two tiers).
# TẠO TỰ ĐỘNG bởi make_khanh_hoa.py (bên cạnh tệp này); sửa script rồi chạy lại thay vì sửa tay.
#
# Nguồn / sources (cột `source` trong tệp CSV):
#   vnprov2025   {len(wards)} xã, phường, đặc khu với mã chính thức (Tổng cục Thống kê) theo gói vietnam-provinces
#                {vietnam_provinces.__version__} (dữ liệu ngày {vietnam_provinces.__data_version__}), sau Nghị quyết
#                1667/NQ-UBTVQH15 về sắp xếp đơn vị hành chính cấp xã của tỉnh Khánh Hòa năm 2025.
#   qd861nt      cờ mien_nui_dtts: xã mới có ít nhất một xã cũ của Ninh Thuận thuộc vùng DTTS và miền núi
#                (Quyết định 861/QĐ-TTg, xem ninh-thuan-2025.csv) — {n_flag} xã. CHƯA có cờ cho các xã thuộc
#                Khánh Hòa cũ: văn phòng bổ sung khi có danh sách.
#   sapnhap2025  các Sở, ban, ngành sau sáp nhập ngày 01/3/2025: DANH SÁCH TẠM (best effort) theo tin báo chí,
#                chưa đối chiếu quyết định của tỉnh; mã là mã viết tắt do hệ thống đặt, không phải mã chính thức.
id: khanh-hoa-2025
province: Khánh Hòa
valid_from: 2025-07-01
note: Hai cấp chính quyền địa phương từ 01/7/2025; các Sở, ban, ngành là danh sách tạm.
tiers:
  - code: tinh
    name: Cấp tỉnh
    group_label: Sở, ban, ngành
  - code: xa
    name: Cấp xã
    group_label: Xã, phường, đặc khu
units_csv: khanh-hoa-2025.csv
""", encoding="utf-8")

    kinds_new: dict[str, int] = {}
    for news in communes.values():
        for n in news[:1]:
            kinds_new[n] = kinds_new.get(n, 0) + 1
    lines = [
        "# Bảng kế thừa đơn vị: Ninh Thuận (đầu năm 2025) → Khánh Hòa (từ 01/7/2025).",
        "# Succession map from ninh-thuan-2025 to khanh-hoa-2025 (the former Ninh Thuận part).",
        "# TẠO TỰ ĐỘNG bởi make_khanh_hoa.py; hướng dẫn đọc và sửa: docs/history.md.",
        "#",
        "# Mỗi đơn vị cũ một dòng: old = mã cũ, new = mã mới (một mã; hoặc danh sách khi tách mà chưa biết tỷ lệ —",
        "# toàn bộ số liệu tính cho đơn vị đầu tiên; hoặc {mã: tỷ lệ, ...} khi biết tỷ lệ, tổng bằng 1).",
        "# kind: same (giữ nguyên), renamed (đổi tên), merged (nhập cùng đơn vị khác), split (tách), abolished (giải thể).",
        "# Cấp huyện bị bỏ từ 01/7/2025 (abolished_tiers): không cần ghi từng huyện.",
        "# Nguồn: xã, phường theo dữ liệu chuyển đổi của gói vietnamadminunits 1.0.4 (xã cũ → xã mới; xã cũ bị chia",
        "# cho nhiều xã mới ghi xã mặc định trước); Sở, ban, ngành: DANH SÁCH TẠM (best effort), xem khanh-hoa-2025.yaml.",
        "id: ninh-thuan-2025-to-khanh-hoa-2025",
        "from: ninh-thuan-2025",
        "to: khanh-hoa-2025",
        "effective: 2025-07-01",
        "abolished_tiers: [huyen]",
        "units:",
        "  # Sở, ban, ngành",
    ]
    for row in old_rows:
        if row["tier"] != "tinh":
            continue
        news, note = AGENCY_SUCCESSION[row["code"]]
        new = news[0] if len(news) == 1 else "[" + ", ".join(news) + "]"
        extra = f", note: {yaml_str(note)}" if note else ""
        lines.append(f"  - {{old: {row['code']}, new: {new}{extra}}}  # {row['name']}")
    lines.append("  # Xã, phường, thị trấn")
    for row in sorted((r for r in old_rows if r["tier"] == "xa"), key=lambda r: r["code"]):
        news = communes[row["code"]]
        new = f'"{news[0]}"' if len(news) == 1 else "[" + ", ".join(f'"{n}"' for n in news) + "]"
        names = ", ".join(new_codes[n] for n in news)
        lines.append(f'  - {{old: "{row["code"]}", new: {new}}}  # {row["name"]} → {names}')
    (HERE / "ninh-thuan-2025-to-khanh-hoa-2025.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(AGENCIES)} agencies, {len(wards)} communes ({n_flag} flagged); "
          f"{sum(1 for r in old_rows if r['tier'] == 'xa')} old communes mapped")


if __name__ == "__main__":
    main()
