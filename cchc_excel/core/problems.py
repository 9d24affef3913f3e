"""Validation findings: one `Problem` record per finding, collected in a `ValidationReport`.

Every message text lives in `MESSAGES` (code -> severity, Vietnamese template); no other module
writes message text. Checks yield problems; they never raise for bad input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

# code: (severity, Vietnamese template). Templates use str.format with the problem's fields
# (file, sheet, cell, name, value) and any extra keyword given to `problem()`.
MESSAGES: dict[str, tuple[Severity, str]] = {
    # --- data files (plan, registry, workspace) -------------------------------------------
    "file-missing": ("error", "Không tìm thấy tệp {file}."),
    "file-syntax": ("error", "Tệp {file} sai cú pháp ở {cell}: {detail}"),
    "field-missing": ("error", "{cell}: thiếu mục bắt buộc '{name}'."),
    "field-invalid": ("error", "{cell}: giá trị '{value}' của mục '{name}' không hợp lệ ({detail})."),
    "unknown-field": ("warning", "{cell}: mục '{name}' không được dùng (có thể gõ sai tên)."),
    "duplicate-id": ("error", "{cell}: mã '{value}' bị trùng (đã có ở {detail})."),
    "unknown-tier": ("error", "{cell}: cấp '{value}' không có trong danh sách cấp ({detail})."),
    "unknown-unit": ("error", "{cell}: không có đơn vị mã '{value}' trong danh mục."),
    "unknown-bundled-plan": ("error", "Không có tệp {file} và cũng không có kế hoạch kèm theo tên này. Các kế hoạch "
                                      "kèm theo: {detail}."),
    "unknown-bundled-registry": ("error", "Không có tệp {file} và cũng không có danh mục đơn vị kèm theo tên này. "
                                          "Các danh mục kèm theo: {detail}."),
    "unknown-kind": ("error", "{cell}: loại chỉ tiêu '{value}' không hợp lệ (rate, percent, yesno, task)."),
    "unknown-comparison": ("error", "{cell}: phép so sánh '{value}' không hợp lệ (toi_thieu, bang, toi_da)."),
    "target-out-of-range": ("error", "{cell}: chỉ tiêu {value} nằm ngoài khoảng 0–100."),
    "missing-label": ("error", "{cell}: chỉ tiêu tỷ lệ '{name}' thiếu nhãn {detail}."),
    "bad-deadline": ("error", "{cell}: không hiểu thời hạn '{value}' (ví dụ hợp lệ: 30/9/2025, tháng 12/2025, "
                              "Quý III/2025, thường xuyên)."),
    "unknown-indicator": ("error", "{cell}: không có chỉ tiêu mã '{value}' trong kế hoạch."),
    "unknown-parent": ("error", "{cell}: đơn vị cấp trên '{value}' không có trong danh mục."),
    "parent-wrong-tier": ("error", "{cell}: đơn vị cấp trên '{value}' không thuộc cấp {detail}."),
    "tier-without-units": ("warning", "Cấp '{value}' không có đơn vị nào."),
    "due-before-cutoff": ("warning", "Hạn nộp ({detail}) sớm hơn một ngày làm việc sau ngày chốt số liệu "
                                     "(khoản 5 Điều 8 Nghị định 09/2019/NĐ-CP)."),
    "plan-registry-tier": ("error", "Kế hoạch dùng cấp '{value}' nhưng danh mục đơn vị không có cấp này."),
    # --- history across a change of units: the succession map (issue 13) ---------------------
    "succession-share": ("error", "{cell}: đơn vị cũ '{value}' tách cho nhiều đơn vị — {detail}."),
    "succession-kind": ("error", "{cell}: đơn vị cũ '{value}': {detail}."),
    "succession-unknown-old": ("error", "Bảng kế thừa {file}: đơn vị cũ mã '{value}' không có trong danh mục "
                                        "{detail}."),
    "succession-unknown-new": ("error", "Bảng kế thừa {file}: đơn vị mới mã '{value}' (kế thừa '{name}') không có "
                                        "trong danh mục {detail}."),
    "succession-unmapped": ("error", "Bảng kế thừa {file}: chưa ghi đơn vị '{value}' ({name}) trở thành đơn vị "
                                     "nào (hoặc bị giải thể)."),
    "succession-tier-kept": ("error", "Bảng kế thừa {file}: cấp '{value}' ghi là đã bỏ nhưng danh mục mới vẫn còn "
                                      "cấp này."),
    "registry-validity": ("error", "{cell}: hiệu lực của danh mục không hợp lệ ({detail})."),
    # --- file level (import) --------------------------------------------------------------
    "file-unreadable": ("error", "Tệp {file} không mở được: {detail}"),
    "file-empty": ("error", "Tệp {file} rỗng (0 byte)."),
    "file-not-workbook": ("error", "Tệp {file} không phải là bảng tính Excel ({detail})."),
    "file-encrypted": ("error", "Tệp {file} có đặt mật khẩu mở tệp; hãy gỡ mật khẩu rồi gửi lại."),
    "file-too-large": ("error", "Tệp {file} quá lớn khi giải nén ({detail}); tệp bị từ chối để bảo vệ hệ thống."),
    "file-hostile-xml": ("error", "Tệp {file} chứa cấu trúc XML nguy hiểm ({detail}); tệp bị từ chối."),
    "file-too-slow": ("error", "Tệp {file} đọc quá thời gian cho phép ({detail})."),
    "file-macros": ("warning", "Tệp {file} có chứa macro (VBA); macro không được chạy và đã bị bỏ qua."),
    "file-external-links": ("warning", "Tệp {file} có liên kết tới tệp khác; liên kết bị bỏ qua."),
    "file-converted-format": ("warning", "Tệp {file} được lưu dạng {detail}; đã đọc được nhưng nên lưu lại "
                                         "dạng .xlsx."),
    "not-our-form": ("error", "Tệp {file} không phải biểu mẫu của hệ thống (thiếu trang thông tin ẩn hoặc "
                              "tên vùng nhập liệu)."),
    "bad-signature": ("error", "Tệp {file}: chữ ký của biểu mẫu không khớp — thông tin đơn vị/kỳ báo cáo "
                               "trong tệp đã bị sửa hoặc tệp được sao chép từ biểu mẫu khác."),
    "old-format-version": ("error", "Tệp {file} dùng mẫu phiên bản {value}, cũ hơn phiên bản hiện hành "
                                    "{detail}; đề nghị dùng biểu mẫu mới."),
    "wrong-plan": ("error", "Tệp {file} thuộc kế hoạch '{value}', không phải kế hoạch '{detail}'."),
    "wrong-period": ("error", "Tệp {file} là báo cáo kỳ {value}, không phải kỳ {detail}."),
    "unit-not-in-registry": ("error", "Tệp {file}: đơn vị mã '{value}' không có trong danh mục đơn vị."),
    "filename-unit-mismatch": ("warning", "Tên tệp {file} ghi đơn vị '{detail}' nhưng biểu mẫu là của đơn vị "
                                          "'{value}'; đã nhập theo biểu mẫu."),
    "duplicate-of-other-unit": ("error", "Tệp {file} có số liệu trùng hoàn toàn với bản nộp của đơn vị "
                                         "'{value}' — có thể là bản sao chép."),
    "form-empty": ("error", "Tệp {file} chưa nhập số liệu nào."),
    "late-submission": ("warning", "Tệp {file} nộp ngày {value}, sau hạn {detail}."),
    # --- cell level -----------------------------------------------------------------------
    "not-a-number": ("error", "Ô {cell}, trang '{sheet}' ({name}): '{value}' không phải là số."),
    "not-whole": ("error", "Ô {cell}, trang '{sheet}' ({name}): số hồ sơ '{value}' phải là số nguyên."),
    "negative": ("error", "Ô {cell}, trang '{sheet}' ({name}): '{value}' là số âm."),
    "ambiguous-number": ("error", "Ô {cell}, trang '{sheet}' ({name}): không rõ '{value}' là số nào ({detail})."),
    "number-from-text": ("warning", "Ô {cell}, trang '{sheet}' ({name}): đã đọc '{value}' thành {detail}."),
    "numerator-exceeds-denominator": ("error", "Ô {cell}, trang '{sheet}' ({name}): tử số {value} lớn hơn "
                                               "mẫu số {detail}."),
    "percent-out-of-range": ("error", "Ô {cell}, trang '{sheet}' ({name}): tỷ lệ '{value}' phải từ 0 đến 100."),
    "percent-from-format": ("warning", "Ô {cell}, trang '{sheet}' ({name}): ô được gõ kèm dấu % nên lưu dạng phần "
                                       "trăm; đã đọc {value} thành {detail}. Lần sau chỉ gõ số, ví dụ {detail}."),
    "percent-in-count-cell": ("error", "Ô {cell}, trang '{sheet}' ({name}): đã gõ tỷ lệ '{value}' vào ô số hồ sơ; "
                                       "ô này chỉ nhận số nguyên, không có dấu %."),
    "date-in-number-cell": ("error", "Ô {cell}, trang '{sheet}' ({name}): đã gõ một ngày ({value}) vào ô chỉ nhận "
                                     "số; hãy gõ lại con số."),
    "decimal-point": ("warning", "Ô {cell}, trang '{sheet}' ({name}): '{value}' dùng dấu chấm làm dấu thập phân; "
                                 "đã đọc thành {detail}. Số thập phân ghi bằng dấu phẩy: {detail}."),
    "required-missing": ("error", "Ô {cell}, trang '{sheet}' ({name}): chưa nhập {label}."),
    "indicator-input-missing": ("error", "Ô {cell}, trang '{sheet}' ({name}): chưa nhập '{label}' của chỉ tiêu "
                                         "{indicator}."),
    "task-status-missing": ("error", "Ô {cell}, trang '{sheet}' ({name}): chưa nhập tình trạng nhiệm vụ {task}."),
    "case-field-missing": ("error", "Ô {cell}, trang '{sheet}' ({name}): chưa nhập tên lĩnh vực."),
    "not-a-date": ("error", "Ô {cell}, trang '{sheet}' ({name}): '{value}' không phải là ngày (dd/mm/yyyy)."),
    "not-in-list": ("error", "Ô {cell}, trang '{sheet}' ({name}): '{value}' không thuộc danh sách ({detail})."),
    "carried-mismatch": ("warning", "Ô {cell}: từ kỳ trước {value} khác số đang giải quyết cuối {detail} "
                                    "({expected}), lĩnh vực '{field}'."),
    "case-balance": ("warning", "Ô {cell}, trang '{sheet}' (lĩnh vực '{field}'): đã giải quyết + đang giải "
                                "quyết ({value}) khác số hồ sơ nhận ({detail})."),
    "case-denominator-mismatch": ("error", "Ô {cell}, trang '{sheet}' ({name}): mẫu số {value} khác tổng cột "
                                           "{column} ({group}) ở trang 'Giải quyết TTHC' ({detail})."),
    "locked-cell-changed": ("warning", "Ô {cell}, trang '{sheet}': ô khóa đã bị sửa ('{value}', mẫu ghi "
                                       "'{detail}'); hệ thống dùng giá trị theo kế hoạch."),
    "text-too-long": ("warning", "Ô {cell}, trang '{sheet}' ({name}): nội dung dài {value} ký tự, đã cắt còn "
                                 "{detail} ký tự."),
    "legacy-encoding": ("warning", "Ô {cell}, trang '{sheet}' ({name}): văn bản gõ bằng bảng mã {detail}, đã "
                                   "chuyển sang Unicode."),
    "big-jump": ("warning", "Ô {cell}, trang '{sheet}' ({name}): giá trị {value} chênh lệch lớn so với các "
                            "tháng trước ({detail})."),
    "status-date-missing": ("warning", "Ô {cell}, trang '{sheet}' ({name}): nhiệm vụ đã hoàn thành nhưng chưa "
                                       "ghi ngày hoàn thành."),
    # --- data files: typos, CSV, adjustments (issue 12) -----------------------------------------
    "unknown-field-typo": ("error", "{cell}: không có mục '{name}' — có phải '{detail}'? Sửa tên mục (gõ sai "
                                    "thì thông tin bị bỏ qua lặng lẽ)."),
    "csv-unclosed-quote": ("error", "{cell}: dấu nháy kép (\") mở ở đây nhưng không đóng, nên {value} dòng sau bị "
                                    "gộp vào một ô. Thêm dấu nháy đóng (hoặc bỏ dấu nháy) rồi lưu lại."),
    "adjustment-mode-missing": ("warning", "{cell}: điều chỉnh '{value}' chưa ghi 'mode'; đang hiểu {delta} là "
                                           "điểm phần trăm (mode: points). Ghi rõ mode: points hoặc "
                                           "mode: percent_of_target."),
    # --- command line and environment (issue 12) ---------------------------------------------
    "period-not-month": ("error", "Kỳ {value} ({detail}): lệnh này làm việc theo từng tháng (ví dụ "
                                  "--period 2025-03). Báo cáo quý, 6 tháng, 9 tháng, năm được tổng hợp từ số liệu "
                                  "các tháng bằng cchc status, cchc aggregate, cchc report."),
    "period-no-data": ("error", "Kỳ {value} chưa có biểu mẫu nào được chấp nhận, nên chưa lập báo cáo. Nhập tệp "
                                "của đơn vị trước (cchc import), xem tình hình bằng cchc status."),
    "path-missing": ("error", "Không tìm thấy {file}."),
    "template-missing": ("error", "Không tìm thấy mẫu Word {file}. Kiểm tra lại đường dẫn --template (đường dẫn "
                                  "tương đối tính từ thư mục đang đứng)."),
    "template-broken": ("error", "Mẫu Word {file} có {value} lỗi nên chưa lập báo cáo: {detail}. Xem chi tiết bằng "
                                 "cchc check-template, sửa mẫu rồi chạy lại."),
    # --- the Word template, as cchc check-template finds it -----------------------------------------
    "template-not-docx": ("error", "Tệp mẫu {file} không phải là tệp Word .docx (có thể là tệp .doc cũ, .docm, "
                                   ".dotx, PDF hoặc tệp đã đổi đuôi). Mở tệp bằng Word, chọn Lưu thành > Tài liệu "
                                   "Word (*.docx) rồi kiểm tra lại."),
    "template-damaged": ("error", "Tệp mẫu {file} bị hỏng, không đọc được nội dung (tệp chưa lưu xong hoặc bị cắt "
                                  "cụt khi sao chép). Lấy lại bản đã lưu trước đó hoặc mẫu mặc định rồi sửa lại."),
    "template-tag-unclosed": ("error", "{cell} của mẫu (“{shown}”): thẻ mở '{{{{' hoặc '{{%' chưa được đóng bằng "
                                       "'}}}}' hoặc '%}}'. Gõ lại cả thẻ trong một lần."),
    "template-tag-invalid": ("error", "{cell} của mẫu (“{shown}”): nội dung trong thẻ viết sai (tên trường có dấu "
                                      "cách, thiếu hoặc thừa dấu chấm, ngoặc). Sửa lại đúng tên trường trong "
                                      "docs/report-template.md."),
    "template-tag-unknown": ("error", "{cell} của mẫu (“{shown}”): không có lệnh '{name}' (chỉ dùng for, if, else, "
                                      "endfor, endif…); có thể gõ sai."),
    "template-block-unclosed": ("error", "{cell} của mẫu (“{shown}”): khối '{name}' mở ở đây không có thẻ đóng "
                                         "'end{name}' tương ứng; có thể thẻ đóng của khối này hoặc của một khối "
                                         "bên trong đã bị xóa."),
    "template-block-unmatched": ("error", "{cell} của mẫu (“{shown}”): thẻ '{name}' không có thẻ mở tương ứng trước "
                                          "nó; xóa thẻ này hoặc khôi phục thẻ mở."),
    "template-field-missing": ("error", "Mẫu {file} dùng trường '{name}' nhưng dữ liệu báo cáo không có trường này "
                                        "(xem danh sách trường trong docs/report-template.md)."),
    "template-data-shape": ("error", "Không điền thử được dữ liệu vào mẫu {file}: có trường dữ liệu sai kiểu (ví dụ "
                                     "một con số ở chỗ mẫu lặp qua một danh sách)."),
    "out-not-folder": ("error", "{file} là một tệp, không phải thư mục. Chọn một thư mục cho --out."),
    "bad-date-option": ("error", "{name} không hợp lệ: '{value}'. Ghi ngày dạng 15/03/2025 hoặc 2025-03-15"
                                 "{detail}."),
    "store-unreachable": ("error", "Không mở được kho lưu trữ {file}: {detail}. Kiểm tra mục 'store' trong "
                                   "cchc.yaml, đường dẫn và quyền ghi."),
    "store-read-only": ("error", "Kho lưu trữ {file} chỉ cho đọc, không ghi được. Chưa lưu thêm gì; kiểm tra quyền "
                                 "ghi (hoặc bỏ '?mode=ro' trong mục 'store' của cchc.yaml) rồi chạy lại."),
    "store-driver-missing": ("error", "Chưa cài thư viện kết nối '{value}' cho kho lưu trữ {file}. Cài bằng lệnh: "
                                      "python -m pip install {detail}"),
    "store-schema-old": ("error", "Kho lưu trữ {file} do phiên bản cũ hơn của chương trình tạo ra (lược đồ {value}, "
                                  "phiên bản này cần {detail}). Sao lưu (cchc backup) rồi nâng cấp kho bằng lệnh: "
                                  "cchc db upgrade --workspace <thư mục làm việc>."),
    "store-schema-new": ("error", "Kho lưu trữ {file} do phiên bản mới hơn của chương trình tạo ra (lược đồ {value}; "
                                  "phiên bản này chỉ biết đến {detail}). Cài phiên bản cchc_excel mới nhất rồi chạy "
                                  "lại; không dùng phiên bản cũ với kho này."),
    "store-busy": ("error", "Chưa ghi được tệp {file} vào kho lưu trữ vì nhiều lần nhập cùng lúc tranh nhau ({detail}). "
                            "Chưa lưu gì của tệp này; chạy lại đúng lệnh nhập — tệp đã lưu không bị nhập trùng."),
    "store-integrity": ("error", "Kho lưu trữ {file} bị hỏng: {detail}. Khôi phục từ bản sao lưu gần nhất "
                                 "(cchc restore) rồi nhập lại các tệp nhận sau thời điểm sao lưu."),
    "archived-file-missing": ("error", "Thiếu tệp lưu trữ {file} (tệp '{name}' nhận ngày {value}). Khôi phục thư mục "
                                       "archive/ từ bản sao lưu, hoặc nhập lại tệp gốc."),
    "archived-file-changed": ("error", "Tệp lưu trữ {file} đã bị sửa (mã băm không khớp, tệp '{name}'). Khôi phục "
                                       "tệp từ bản sao lưu, hoặc nhập lại tệp gốc."),
    "submission-without-file": ("error", "Bản nộp số {value} ({name}) không có tệp gốc trong kho. Khôi phục kho từ bản "
                                         "sao lưu gần nhất."),
    "backup-invalid": ("error", "{file} không phải bản sao lưu cchc_excel dùng được: {detail}."),
    "restore-target-not-empty": ("error", "{file} đã có dữ liệu; chỉ khôi phục vào thư mục trống (hoặc kho "
                                          "lưu trữ trống). Chọn thư mục khác."),
    "folder-unreadable": ("error", "Không đọc được thư mục {file} ({detail}); các tệp trong đó chưa được nhập. "
                                   "Kiểm tra quyền truy cập thư mục rồi chạy lại lệnh."),
    "import-interrupted": ("error", "Đã dừng giữa chừng (Ctrl-C): {value} tệp đã được kiểm tra và lưu, {detail} tệp "
                                    "chưa nhập. Chạy lại đúng lệnh này để nhập nốt — tệp đã lưu được nhận ra, không "
                                    "nhập trùng."),
    "interrupted": ("error", "Đã dừng theo yêu cầu (Ctrl-C); chưa xong việc. Chạy lại lệnh khi cần."),
    "report-not-final": ("error", "Báo cáo còn {value} mục chờ văn phòng viết nên chưa xuất bản chính thức "
                                  "(--final): {detail}. Điền các mục này (report.outline, report.sections_after "
                                  "trong cchc.yaml) rồi chạy lại, hoặc bỏ --final để xuất bản dự thảo."),
    "os-error": ("error", "Không đọc/ghi được {file}: {detail}. Kiểm tra đường dẫn, quyền ghi và dung lượng đĩa."),
    "database-error": ("error", "Lỗi kho lưu trữ: {detail}. Chưa lưu thêm gì; kiểm tra kho (mục 'store' trong "
                                "cchc.yaml) rồi chạy lại."),
    # --- the office's web page (cchc serve, cchc user; issue 14) ------------------------------
    "web-needs-accounts": ("error", "Trang web nghe trên địa chỉ {value}, máy khác trong mạng cũng vào được, nên "
                                    "phải có tài khoản trước: tạo bằng lệnh 'cchc user add TÊN --role office'. "
                                    "Chưa khởi động."),
    "web-port-busy": ("error", "Không mở được cổng {value} trên {file}: {detail}. Chọn cổng khác (--port) hoặc "
                               "để --port 0 cho máy tự chọn."),
    "upload-too-large": ("error", "{file}: tệp lớn hơn {detail} nên không nhận; kiểm tra lại tệp (biểu mẫu "
                                  "thường dưới 1 MB)."),
    "upload-too-many": ("error", "Một lần chỉ nhận tối đa {detail} tệp, lần này có {value} tệp. Chia thành nhiều "
                                 "lần gửi."),
    "upload-zip-unsafe": ("error", "Tệp nén {file} không mở ra an toàn được ({detail}); các tệp trong đó chưa "
                                   "được nhập."),
    "upload-empty": ("error", "Chưa chọn tệp nào để gửi."),
    "user-exists": ("error", "Đã có tài khoản '{value}'."),
    "user-unknown": ("error", "Không có tài khoản '{value}'."),
    "user-bad-name": ("error", "Tên tài khoản '{value}' không hợp lệ: chỉ dùng chữ không dấu, số, dấu chấm, "
                               "gạch ngang, gạch dưới (2–40 ký tự)."),
    "user-bad-role": ("error", "Vai trò '{value}' không hợp lệ: dùng office (nhập tệp, lập báo cáo) hoặc viewer "
                               "(chỉ xem)."),
    "password-weak": ("error", "Mật khẩu cần ít nhất {detail} ký tự."),
    "password-mismatch": ("error", "Hai lần nhập mật khẩu không giống nhau."),
    "login-failed": ("error", "Sai tên tài khoản hoặc mật khẩu."),
    "login-throttled": ("error", "Đăng nhập sai quá nhiều lần; thử lại sau {detail} phút."),
}

# What a clerk should do about each finding: the "Cách sửa" column of the error workbook sent back to the
# units. One short Vietnamese sentence per code that a clerk's file can produce; `fix_for` falls back to a
# sentence by severity. Keep beside MESSAGES: a new file- or cell-level code gets its line here too.
FIXES: dict[str, str] = {
    # --- file level ---
    "file-syntax": "Sửa tệp tại vị trí được nêu (thường là thụt lề hoặc dấu hai chấm) rồi chạy lại.",
    "file-unreadable": "Mở lại tệp trên máy, lưu lại (Tệp > Lưu thành, chọn .xlsx) rồi gửi lại.",
    "file-empty": "Tệp gửi bị rỗng: gửi lại đúng tệp biểu mẫu đã nhập số liệu.",
    "file-not-workbook": "Gửi lại tệp Excel (.xlsx) của biểu mẫu, không gửi tệp PDF, ảnh hay tệp Word.",
    "file-encrypted": "Gỡ mật khẩu mở tệp (Tệp > Thông tin > Bảo vệ sổ làm việc), lưu lại rồi gửi lại.",
    "file-too-large": "Gửi lại đúng biểu mẫu được cấp, không chèn thêm ảnh hay trang tính lớn.",
    "file-hostile-xml": "Tải lại biểu mẫu được cấp, nhập lại số liệu rồi gửi lại.",
    "file-too-slow": "Gửi lại đúng biểu mẫu được cấp, không chèn thêm dữ liệu ngoài biểu mẫu.",
    "file-macros": "Không cần gửi lại. Lần sau lưu dạng .xlsx (không có macro).",
    "file-external-links": "Không cần gửi lại. Lần sau dán số bằng Dán giá trị (Paste Values), không dán công thức.",
    "file-converted-format": "Không cần gửi lại. Lần sau lưu dạng .xlsx (Excel Workbook).",
    "not-our-form": "Nhập số liệu vào biểu mẫu do Văn phòng cấp cho đơn vị và kỳ này, không dùng mẫu khác.",
    "bad-signature": "Dùng đúng biểu mẫu cấp cho đơn vị mình và kỳ này; không sao chép tệp của đơn vị khác.",
    "old-format-version": "Tải biểu mẫu mới của kỳ này, nhập lại số liệu rồi gửi lại.",
    "wrong-plan": "Tải biểu mẫu của kế hoạch năm nay, nhập lại số liệu rồi gửi lại.",
    "wrong-period": "Gửi biểu mẫu của đúng kỳ báo cáo này (xem tên tệp và trang 'Thông tin').",
    "unit-not-in-registry": "Liên hệ Văn phòng để được cấp đúng biểu mẫu của đơn vị.",
    "filename-unit-mismatch": "Không cần gửi lại. Lần sau giữ nguyên tên tệp được cấp.",
    "duplicate-of-other-unit": "Kiểm tra lại: nhập số liệu của chính đơn vị mình vào biểu mẫu của đơn vị, "
                               "rồi gửi lại.",
    "form-empty": "Nhập số liệu vào các ô màu vàng của biểu mẫu, lưu lại rồi gửi lại.",
    "late-submission": "Không cần gửi lại. Các kỳ sau đề nghị gửi đúng hạn.",
    # --- cell level ---
    "not-a-number": "Xóa nội dung ô và gõ lại một con số (chỉ chữ số, không có chữ hay ký hiệu).",
    "not-whole": "Số hồ sơ là số nguyên: gõ lại số không có phần thập phân.",
    "negative": "Gõ lại số không âm (từ 0 trở lên).",
    "ambiguous-number": "Gõ lại số không có dấu chấm, dấu cách ngăn cách hàng nghìn (ví dụ 1234).",
    "number-from-text": "Không cần sửa nếu số đúng. Nếu sai, gõ lại con số vào ô.",
    "numerator-exceeds-denominator": "Kiểm tra lại hai số: tử số (dòng trên) không được lớn hơn mẫu số "
                                     "(dòng dưới).",
    "percent-out-of-range": "Gõ tỷ lệ là số từ 0 đến 100, không kèm dấu % (ví dụ 95,5).",
    "percent-from-format": "Không cần sửa nếu số đúng. Lần sau chỉ gõ số, không kèm dấu %.",
    "percent-in-count-cell": "Gõ số hồ sơ (số nguyên), không gõ tỷ lệ hay dấu %.",
    "date-in-number-cell": "Xóa ô và gõ lại con số; nếu ô tự đổi thành ngày, gõ dấu ' trước con số.",
    "decimal-point": "Không cần sửa nếu số đúng. Lần sau ghi số thập phân bằng dấu phẩy (ví dụ 95,5).",
    "required-missing": "Nhập nội dung còn thiếu vào ô này.",
    "indicator-input-missing": "Nhập số liệu còn thiếu của chỉ tiêu vào ô này (không có thì ghi 0).",
    "task-status-missing": "Chọn tình trạng thực hiện nhiệm vụ trong danh sách thả xuống của ô.",
    "case-field-missing": "Chọn hoặc gõ tên lĩnh vực của dòng này.",
    "not-a-date": "Gõ ngày theo dạng ngày/tháng/năm, ví dụ 14/03/2025.",
    "not-in-list": "Chọn một giá trị trong danh sách thả xuống của ô.",
    "carried-mismatch": "Không bắt buộc sửa. Kiểm tra lại cột 6 (số hồ sơ từ kỳ trước): thường bằng số hồ sơ đang giải "
                        "quyết cuối kỳ trước của cùng lĩnh vực; nếu kỳ trước báo sai thì ghi rõ ở 'Ghi chú'.",
    "case-balance": "Không bắt buộc sửa. Kiểm tra lại: số đã giải quyết cộng số đang giải quyết thường bằng "
                    "số hồ sơ nhận của lĩnh vực.",
    "case-denominator-mismatch": "Sửa mẫu số cho bằng tổng tương ứng ở trang 'Giải quyết TTHC', hoặc sửa "
                                 "bảng đó nếu bảng sai.",
    "locked-cell-changed": "Không cần gửi lại; không sửa các ô khóa (chỉ tiêu giao, tên chỉ tiêu).",
    "text-too-long": "Không cần gửi lại. Lần sau viết ngắn gọn hơn.",
    "legacy-encoding": "Không cần gửi lại. Lần sau gõ bằng bảng mã Unicode (Unikey: chọn Unicode).",
    "big-jump": "Không bắt buộc sửa. Kiểm tra lại số; nếu đúng, ghi lý do vào cột Ghi chú.",
    "status-date-missing": "Ghi ngày hoàn thành nhiệm vụ vào ô này.",
}

# Findings whose register message means little to a clerk, said again for the error workbook. The
# templates use the problem's own fields (value, cell, sheet) and {shown}, the number as it was read.
CLERK_MESSAGES: dict[str, str] = {
    "number-from-text": "Ô lưu số dưới dạng chữ ('{value}'); hệ thống đã đọc là {shown}.",
}


# Short user-facing words that are not whole messages but still Vietnamese text shown to people (a value
# the program fills in, a reason given as a problem's detail). Kept here beside the messages, with named
# fields, so no other module writes Vietnamese wording.
WORDS: dict[str, str] = {
    # details of command-line problems (app.cli)
    "time-example": " (giờ nếu cần: 15/03/2025 09:30)",
    "none-listed": "(không có)",
    # details of data-file, store and history problems (plan, units, succession, workspace, store, backup)
    "dangling-rows": '{count} dòng tham chiếu tới dòng không tồn tại ({table})',
    "previous-value": 'kỳ trước {value}',
    "config-needs": 'cần các mục plan, registry, store, secret',
    "store-kind-unsupported": "không hỗ trợ loại cơ sở dữ liệu '{kind}'",
    "registry-needs": 'tệp danh mục phải có tiers và units',
    "unit-needs": 'cần code, name, tier',
    "validity-not-a-date": "{key}: '{value}' không phải ngày (ví dụ 2025-07-01)",
    "validity-reversed": 'ngày kết thúc {end} trước ngày bắt đầu {start}',
    "is-not-a-number": "không phải số",
    "target-shape": 'cần dạng {{min: 60}}',
    "entry-needs": 'cần một mục có {keys}',
    "group-undeclared": 'nhóm chưa khai báo ở mục groups',
    "numerator-label": 'tử số (numerator)',
    "denominator-label": 'mẫu số (denominator)',
    "targets-shape": 'cần dạng {{tinh: {{min: 60}}, huyen: ...}}',
    "combine-rules": 'pooled (chỉ tiêu tỷ lệ), weighted (cần weight), mean',
    "one-of": '{choices}',
    "plan-needs": 'tệp kế hoạch phải là một bảng (mapping) có id, year, tiers, indicators',
    "year-needed": 'cần số năm',
    "window-rules": 'nd09 hoặc calendar',
    "due-day-months": 'ngày {day}; các tháng {months}',
    "succession-needs": 'cần from, to, effective, units',
    "share-range": "tỷ lệ '{share}' của '{code}' phải lớn hơn 0 và không quá 1",
    "shares-all-or-none": 'ghi tỷ lệ cho mọi đơn vị kế thừa, hoặc bỏ hết',
    "shares-sum": 'tổng các tỷ lệ là {total:g}, phải bằng 1',
    "kind-disagrees": "ghi '{declared}' nhưng theo các dòng của bảng là '{inferred}'",
    "unnamed-case-field": "(dòng {row})",
    # details of file-level problems (workbook.safety, workbook.readback)
    "format-not-supported": "định dạng không hỗ trợ",
    "read-timeout": "quá {seconds:g} giây",
    "read-memory": "vượt giới hạn bộ nhớ khi đọc: {reason}",
    "reader-died": "tiến trình đọc dừng đột ngột (mã {code})",
    "sheet-count": "{count} trang tính",
    "file-size": "{size} byte > {limit}",
    "pdf": "tệp PDF",
    "not-excel": "không phải tệp Excel",
    "opendocument": "tài liệu OpenDocument",
    "word-document": "tài liệu Word",
    "no-workbook-part": "không có xl/workbook.xml",
    "zip-incomplete": "tệp nén bị hỏng hoặc không đầy đủ ({error})",
    "zip-part-broken": "tệp nén bị hỏng (phần {part})",
    "zip-part-truncated": "tệp nén bị cắt cụt (phần {part})",
    "zip-part-error": "tệp nén bị hỏng (phần {part}: {error})",
    "zip-part-incomplete": "tệp nén bị hỏng hoặc không đầy đủ (phần {part})",
    "zip-part-crc": "tệp nén bị hỏng (phần {part}: sai CRC)",
    "zip-part-method": "phần {part} dùng kiểu nén không hỗ trợ ({method})",
    "part-inflates-beyond": "phần {part} giải nén vượt kích thước khai báo ({size} byte)",
    "part-encoding": "phần {part} mã hóa {encoding}, không phải UTF-8",
    "part-doctype": "phần {part} có khai báo DOCTYPE/ENTITY",
    "part-count": "{count} phần",
    "duplicate-part": "hai phần trùng tên trong tệp nén",
    "inflated-size": "giải nén {size} MB > {limit} MB",
    "part-size": "phần {part}: {size} byte",
    "part-elements": "phần {part} khai báo {count} phần tử",
    "part-rows": "phần {part} có dữ liệu tới dòng {rows}",
    "part-extent": "phần {part} trải trên {rows} dòng x {cols} cột",
    "xml-broken": "XML hỏng ({error})",
    # details of the summary's data-quality warnings (core.aggregate.quality_flags)
    "jump-detail": "Lệch chuẩn hóa z = {z} so với trung vị các tháng trước",
    "jump-flat-detail": "Các tháng trước không đổi; tháng này lệch từ 5 điểm",
    "case-mismatch-detail": "Mẫu số khác “{total}” của bảng giải quyết TTHC",
}


def wording(key: str, **fields: Any) -> str:
    """A registered piece of wording (WORDS) with its fields filled in."""
    return WORDS[key].format_map(_Blank(fields))


def fix_for(code: str, severity: str = "error") -> str:
    """The "Cách sửa" of a finding: its line in FIXES, else a sentence by severity."""
    if code in FIXES:
        return FIXES[code]
    if severity == "error":
        return "Sửa theo nội dung nêu bên trái rồi gửi lại tệp."
    return "Không bắt buộc sửa; đề nghị kiểm tra lại."


@dataclass(frozen=True)
class Problem:
    """One finding: a stable code, its severity, a Vietnamese message and where it was found."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    name: str | None = None
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        # A shallow copy of the fields (in their order), not dataclasses.asdict (a deep copy of each: ~8x slower,
        # and an import with history can store tens of thousands of findings); `value` is the only non-str field.
        data = dict(self.__dict__)
        if data["value"] is not None and not isinstance(data["value"], (int, float, str, bool)):
            data["value"] = str(data["value"])
        return data


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def problem(code: str, *, file: str | None = None, sheet: str | None = None, cell: str | None = None,
            name: str | None = None, value: Any = None, severity: Severity | None = None,
            **extra: Any) -> Problem:
    """Build a Problem whose message comes from the registry."""
    default_severity, template = MESSAGES[code]
    fields = _Blank(file=file or "", sheet=sheet or "", cell=cell or "", name=name or "",
                    value="" if value is None else value, **extra)
    return Problem(code=code, severity=severity or default_severity, message=template.format_map(fields),
                   file=file, sheet=sheet, cell=cell, name=name, value=value)


@dataclass
class ValidationReport:
    """All problems found in one piece of work, reported at once."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.severity != "error" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def add(self, item: Problem) -> None:
        self.problems.append(item)

    def extend(self, items: Iterable[Problem]) -> None:
        self.problems.extend(items)

    def flatten(self, *fields: str) -> list[tuple[Any, ...]]:
        return [tuple(getattr(p, f) for f in fields) for p in self.problems]

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def to_list(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.problems]


class Refusal(Exception):
    """A command cannot go on for a reason the user can act on (no data for the period, a store that will not
    open, a template that does not exist). Raised by edges, shown by the command line as its problems, never as
    a traceback. `exit_code`: 1 for input and environment, 2 for bad usage, 130 for an interruption."""

    def __init__(self, *problems: Problem, exit_code: int = 1) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole (a second process sends it back): the default rebuilds an exception from its args,
        # which here are one message, not the problems.
        return (_restore_refusal, (type(self), self.args, dict(self.__dict__)))


def _restore_refusal(cls: type[Refusal], args: tuple[Any, ...], state: dict[str, Any]) -> Refusal:
    refusal = cls.__new__(cls)
    Exception.__init__(refusal, *args)
    refusal.__dict__.update(state)
    return refusal


def unknown_key(key: str, allowed: Iterable[str], **where: Any) -> Problem:
    """An unknown key: an error when it is a near miss of a known one ("flag" for "flags"), whose value would
    otherwise vanish without a word; a warning for anything else (an extra column the program does not use)."""
    import difflib

    known = sorted(allowed)
    folded = {k.casefold(): k for k in known}
    near = folded.get(str(key).casefold().strip()) or next(
        iter(difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)), None)
    if near is not None:
        return problem("unknown-field-typo", name=str(key), detail=near, **where)
    return problem("unknown-field", name=str(key), **where)


def markdown() -> str:
    """docs/problems.md, generated from the registry (python -m cchc_excel.core.problems > docs/problems.md)."""
    lines = ["# Mã lỗi và cảnh báo / Problem codes", "",
             "Sinh tự động từ `cchc_excel/core/problems.py` (`python -m cchc_excel.core.problems > docs/problems.md`).",
             "Lỗi (error) làm tệp bị trả lại; cảnh báo (warning) vẫn nhận tệp.", "",
             "| Mã | Mức độ | Thông báo (mẫu) |", "|---|---|---|"]
    for code, (severity, template) in MESSAGES.items():
        sev = "lỗi" if severity == "error" else "cảnh báo"
        lines.append(f"| `{code}` | {sev} | {template.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
