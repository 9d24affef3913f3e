"""The office's web page (`cchc serve`, issue 14) through Starlette's test client: every page, every role,
CSRF, uploads (oversized, too many, hostile, path-like names, a .zip with the register of arrivals), escaped
text, downloads, the journal, and the account commands."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import warnings
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():   # Starlette 1.x would rather have httpx2; httpx works the same here
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from cchc_excel.app import users  # noqa: E402
from cchc_excel.app.cli import app as cli_app  # noqa: E402
from cchc_excel.app.web import app as web_app  # noqa: E402
from cchc_excel.app.web import server, uploads  # noqa: E402
from cchc_excel.archive.importing import import_files, store_for  # noqa: E402
from cchc_excel.archive.workspace import Workspace, open_workspace  # noqa: E402
from cchc_excel.core.problems import Refusal, problem  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ninh-thuan-2025"
MARCH = SAMPLE / "nop" / "2025-03"
PHUOC_HOA = MARCH / "2025-03_22786_xa-phuoc-hoa.xlsx"        # numerator > denominator: returned
TAN_HAI = MARCH / "2025-03_22855_xa-tan-hai.xlsx"             # "abc" in a count: returned
STP = MARCH / "2025-03_STP_so-tu-phap.xlsx"
TODAY = date(2025, 3, 20)
PASSWORD = "mat-khau-du-dai-1"


@pytest.fixture(scope="module")
def base_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample workspace (fixed key, so the sample files are valid) with two of March's files imported."""
    root = tmp_path_factory.mktemp("web") / "ws"
    root.mkdir()
    for name in ("cchc.yaml", "plan.yaml", "registry.yaml", "ninh-thuan-2025.csv"):
        shutil.copy2(SAMPLE / name, root / name)
    # a unit name with markup, to check that every page escapes it (Xã Phước Kháng sends nothing in March)
    csv = root / "ninh-thuan-2025.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("Xã Phước Kháng", "Xã <script>alert(1)</script>"),
                   encoding="utf-8")
    ws, report = open_workspace(root)
    assert ws is not None, report.flatten("code", "message")
    list(import_files(ws, [STP, TAN_HAI], workers=1))
    return root


@pytest.fixture
def ws(base_root: Path, tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(base_root, root)
    opened, report = open_workspace(root)
    assert opened is not None, report.flatten("code", "message")
    return opened


def client_for(ws: Workspace, *, local_only: bool = True) -> TestClient:
    return TestClient(web_app.create_app(ws, local_only=local_only, today=lambda: TODAY, pdf=False),
                      follow_redirects=False)


@pytest.fixture
def client(ws: Workspace) -> TestClient:
    return client_for(ws)


def csrf_of(client: TestClient, path: str = "/nhan-tep") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def wait(client: TestClient) -> None:
    client.app.state.web.jobs.wait()  # type: ignore[attr-defined]


def upload(client: TestClient, files: list[tuple[str, bytes]], **fields: str) -> dict[str, Any]:
    """Post files as the page does (JSON answer), wait for the job and return it."""
    token = csrf_of(client)
    answer = client.post("/nhan-tep", data={"csrf": token, **fields}, headers={"Accept": "application/json"},
                         files=[("files", (name, body, "application/octet-stream")) for name, body in files])
    assert answer.status_code == 200, answer.text[:500]
    wait(client)
    return client.get(f"/viec/{answer.json()['job']}.json").json()  # type: ignore[no-any-return]


PAGES = ["/", "/?ky=2025-03", "/don-doc?ky=2025-03", "/nhan-tep", "/don-vi/22855?ky=2025-03", "/bieu-mau?ky=2025-03",
         "/bao-cao?ky=2025-03", "/ke-hoach", "/danh-muc", "/nhat-ky"]


def test_every_page_opens_for_the_operator_on_this_machine_without_accounts(client: TestClient) -> None:
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert "máy này" in page.text
        assert page.headers["x-frame-options"] == "DENY" and "script-src 'self'" in page.headers[
            "content-security-policy"]


def test_glance_counts_units_by_tier_and_says_days_left(client: TestClient) -> None:
    page = client.get("/?ky=2025-03").text
    assert "Tình hình nộp báo cáo tháng 3 năm 2025" in page
    # due Saturday 15/03, moved to Monday 17/03; today Thursday 20/03: 18, 19, 20 are three working days late
    assert "đã quá hạn 3 ngày làm việc" in page
    row = re.search(r"<th scope=\"row\">Toàn tỉnh</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>"
                    r"<td>(\d+)</td>", page)
    assert row and row.groups() == ("90", "1", "0", "1", "88")
    assert "2025-03_STP_so-tu-phap.xlsx" in page             # latest files


def test_chase_list_has_contact_what_is_wrong_and_a_ready_message(client: TestClient) -> None:
    page = client.get("/don-doc?ky=2025-03").text
    block = page[page.index('id="dv-22855"'):]
    block = block[:block.index("</tr>")]
    assert "Bị trả lại" in block and "muộn 3 ngày làm việc" in block     # 17/03 -> 20/03: 18, 19, 20
    assert "Đề nghị UBND xã Tân Hải gửi báo cáo tháng 3 năm 2025" in block
    assert re.search(r"Ô [A-Z]+\d+, trang &#39;Chỉ tiêu&#39;", block), block
    assert "mailto:" in page or "Chưa gửi tệp" in page
    sheet = client.get("/don-doc.xlsx?ky=2025-03")
    assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="don-doc-2025-03.xlsx"' in sheet.headers["content-disposition"]
    assert sheet.content[:2] == b"PK"


def test_markup_in_a_unit_name_is_shown_as_text_on_every_page(client: TestClient) -> None:
    for path in ("/don-doc?ky=2025-03", "/danh-muc", "/don-vi/22843"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_upload_reports_each_file_with_sheet_and_cell_and_changes_glance_and_journal(client: TestClient,
                                                                                      ws: Workspace) -> None:
    job = upload(client, [(PHUOC_HOA.name, PHUOC_HOA.read_bytes())], received_at="14/03/2025 08:00")
    assert job["state"] == "done" and job["done"] == 1
    item = job["items"][0]
    assert (item["unit_code"], item["status"]) == ("22786", "rejected")
    assert any(p["cell"] and p["sheet"] == "Chỉ tiêu" and "Chỉ tiêu 13" in p["label"] for p in item["problems"])
    page = client.get("/?ky=2025-03").text
    assert re.search(r"Toàn tỉnh</th><td>90</td><td>1</td><td>0</td><td>2</td><td>87</td>", page)
    unit = client.get("/don-vi/22786?ky=2025-03").text
    assert "nhận tệp 2025-03_22786_xa-phuoc-hoa.xlsx (trả lại" in unit          # the journal, who and when
    assert "<td>máy này<br>" in unit                                          # who imported the version
    assert 'id="problems"' in unit
    history = users.journal(store_for(ws).engine, unit_code="22786")
    assert [(h["user"], h["action"]) for h in history] == [("máy này", "upload")]


def test_received_file_downloads_byte_for_byte_by_its_id(client: TestClient) -> None:
    page = client.get("/don-vi/STP").text
    sid = re.search(r'href="/tep/(\d+)"', page)
    assert sid
    got = client.get(f"/tep/{sid.group(1)}")
    assert got.content == STP.read_bytes()
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert got.headers["content-disposition"].startswith('attachment; filename="2025-03_STP_so-tu-phap.xlsx"')
    assert client.get("/tep/99999").status_code == 404
    assert client.get("/tep/..%2F..%2Fcchc.yaml").status_code == 404


def test_zip_with_the_register_of_arrivals_is_imported_like_a_folder(client: TestClient) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(PHUOC_HOA, f"thu-muc/{PHUOC_HOA.name}")
        zf.write(MARCH / "2025-03_22738_phuong-do-vinh.xlsx", "2025-03_22738_phuong-do-vinh.xlsx")
        zf.writestr("so-nhan.csv", "file,received_at\n2025-03_22738_phuong-do-vinh.xlsx,2025-03-12T09:00\n")
    job = upload(client, [("nhan-thang-3.zip", buf.getvalue())])
    got = {i["file"]: i["status"] for i in job["items"]}
    assert got == {PHUOC_HOA.name: "rejected", "2025-03_22738_phuong-do-vinh.xlsx": "accepted"}
    do_vinh = next(i for i in job["items"] if i["unit_code"] == "22738")
    assert not [p for p in do_vinh["problems"] if "sau hạn" in p["what"]]     # on time, from so-nhan.csv


def test_oversized_file_and_request_are_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 1000)
    job = upload(client, [(STP.name, STP.read_bytes())])
    assert job["items"][0]["status"] == "refused" and job["total"] == 0
    assert job["items"][0]["problems"][0]["code"] == "upload-too-large"
    monkeypatch.setattr(web_app, "MAX_BATCH_BYTES", 1000)
    answer = client.post("/nhan-tep", data={"csrf": csrf_of(client)}, headers={"Accept": "application/json"},
                         files=[("files", (STP.name, STP.read_bytes(), "application/octet-stream"))])
    assert answer.status_code == 400
    assert [p["code"] for p in answer.json()["problems"]] == ["upload-too-large"]


def test_too_many_files_in_one_batch_are_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_app, "MAX_FILES", 1)
    answer = client.post("/nhan-tep", data={"csrf": csrf_of(client)}, headers={"Accept": "application/json"},
                         files=[("files", (n, b"x", "application/octet-stream")) for n in ("a.xlsx", "b.xlsx")])
    assert answer.status_code == 400
    assert [p["code"] for p in answer.json()["problems"]] == ["upload-too-many"]
    empty = client.post("/nhan-tep", data={"csrf": csrf_of(client)}, headers={"Accept": "application/json"})
    assert [p["code"] for p in empty.json()["problems"]] == ["upload-empty"]


def test_unsafe_zip_is_refused_whole(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_FILES", 2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(3):
            zf.writestr(f"{i}.xlsx", b"x")
    job = upload(client, [("nhieu.zip", buf.getvalue()), ("hong.zip", b"PK\x03\x04 not a zip")])
    assert [i["status"] for i in job["items"]] == ["refused", "refused"]
    assert [i["problems"][0]["code"] for i in job["items"]] == ["upload-zip-unsafe", "upload-zip-unsafe"]
    assert uploads.BatchWriter().batch.refused == []


def test_hostile_workbook_goes_through_the_import_guards(client: TestClient) -> None:
    xxe = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(STP.read_bytes())) as src, zipfile.ZipFile(xxe, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/workbook.xml":
                body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body
            out.writestr(info, body)
    job = upload(client, [("2025-03_STP_so-tu-phap.xlsx", xxe.getvalue())])
    item = job["items"][0]
    assert item["status"] == "rejected"
    assert any("XML nguy hiểm" in p["what"] for p in item["problems"]), item["problems"]


@pytest.mark.parametrize("name", ["../../cchc.yaml", "..\\..\\evil.xlsx", "C:\\Windows\\x.xlsx", "/etc/passwd",
                                  ".hidden.xlsx", "a\x00b.xlsx", ""])
def test_path_like_names_never_leave_the_batch_folder(name: str, tmp_path: Path) -> None:
    writer = uploads.BatchWriter(tmp_path)
    writer.add(name, b"not a workbook")
    assert len(writer.batch.paths) == 1
    saved = writer.batch.paths[0]
    assert saved.parent == writer.batch.folder and saved.resolve().is_relative_to(tmp_path.resolve())
    assert "/" not in saved.name and "\\" not in saved.name and not saved.name.startswith(".")
    assert sorted(p.name for p in tmp_path.iterdir()) == [writer.batch.folder.name]


def test_path_like_upload_name_is_archived_under_its_last_component(client: TestClient, ws: Workspace) -> None:
    job = upload(client, [("../../../" + STP.name, STP.read_bytes())])
    assert job["items"][0]["file"] == STP.name
    assert not (ws.root.parent.parent / STP.name).exists()


def test_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    files = [("files", (STP.name, STP.read_bytes(), "application/octet-stream"))]
    assert client.post("/nhan-tep", files=files).status_code == 403
    assert client.post("/nhan-tep", data={"csrf": "sai"}, files=files).status_code == 403
    assert client.post("/bao-cao?ky=2025-03", data={}).status_code == 403
    assert client.post("/bieu-mau?ky=2025-03", data={"csrf": ""}).status_code == 403
    assert client.app.state.web.jobs.recent() == []  # type: ignore[attr-defined]


def login(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    return client.post("/dang-nhap", data={"csrf": csrf_of(client, "/dang-nhap"), "name": name, "password": password,
                                           "next": "/danh-muc"})


def test_with_accounts_every_page_needs_a_login_and_roles_are_enforced(ws: Workspace) -> None:
    engine = store_for(ws).engine
    users.add_user(engine, "lan", "office", PASSWORD)
    users.add_user(engine, "xem", "viewer", PASSWORD)
    anonymous = client_for(ws)
    for path in PAGES + ["/tep/1", "/don-doc.xlsx", "/bao-cao/tai/docx", "/bieu-mau/tat-ca.zip"]:
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap"), path
    assert anonymous.get("/viec/x.json", headers={"Accept": "application/json"}).status_code == 401

    viewer = client_for(ws)
    done = login(viewer, "xem")
    assert (done.status_code, done.headers["location"]) == (303, "/danh-muc")
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    for path in PAGES:
        assert viewer.get(path).status_code == 200, path
    assert "Tài khoản chỉ xem không nhận tệp được" in viewer.get("/nhan-tep").text
    token = re.search(r'name="csrf" value="([^"]+)"', viewer.get("/").text).group(1)  # type: ignore[union-attr]
    for path in ("/nhan-tep", "/bao-cao?ky=2025-03", "/bieu-mau?ky=2025-03"):
        assert viewer.post(path, data={"csrf": token}, files=[("files", ("a.xlsx", b"x"))]).status_code == 403, path

    office = client_for(ws)
    login(office, "lan")
    job = upload(office, [(STP.name, STP.read_bytes())])
    assert job["user"] == "lan" and job["state"] == "done"
    users.remove_user(engine, "lan")
    assert office.get("/").status_code == 303                 # a removed account's session ends at once


def test_login_is_rate_limited_and_says_why(ws: Workspace) -> None:
    users.add_user(store_for(ws).engine, "lan", "office", PASSWORD)
    client = client_for(ws)
    for _ in range(5):
        wrong = login(client, "lan", "sai-mat-khau-roi")
        assert wrong.status_code == 401 and problem("login-failed").message in wrong.text
    blocked = login(client, "lan")
    assert blocked.status_code == 429 and problem("login-throttled", detail=5).message in blocked.text
    assert login(client, "ai-do", PASSWORD).status_code == 401
    hashes = [r[0] for r in store_for(ws).engine.connect().execute(users.web_users.select().with_only_columns(
        users.web_users.c.password_hash))]
    assert hashes[0].startswith("$argon2id$") and PASSWORD not in hashes[0]


def test_login_next_target_stays_on_this_site(ws: Workspace) -> None:
    users.add_user(store_for(ws).engine, "lan", "office", PASSWORD)
    client = client_for(ws)
    answer = client.post("/dang-nhap", data={"csrf": csrf_of(client, "/dang-nhap"), "name": "lan",
                                             "password": PASSWORD, "next": "//evil.example/x"})
    assert answer.headers["location"] == "/"


def test_report_is_built_in_the_background_previewed_and_downloaded(client: TestClient, ws: Workspace) -> None:
    import docx

    token = csrf_of(client, "/bao-cao?ky=2025-03")
    started = client.post("/bao-cao?ky=2025-03", data={"csrf": token})
    assert started.status_code == 303 and started.headers["location"].startswith("/viec/")
    wait(client)
    job = client.get(started.headers["location"] + ".json").json()
    assert job["state"] == "done", job["message"]
    page = client.get("/bao-cao?ky=2025-03").text
    assert "Xem trước: 4. Tình hình, kết quả triển khai nhiệm vụ cải cách thủ tục hành chính" in page
    for kind in ("docx", "xlsx", "errors"):
        assert f'href="/bao-cao/tai/{kind}?ky=2025-03"' in page, kind
    got = client.get("/bao-cao/tai/docx?ky=2025-03")
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessing")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(got.content)).paragraphs)
    assert "tháng 3 năm 2025" in text
    assert "Phụ lục I" in text and "Phụ lục II" in text       # the plan follow-up table is in the report
    assert client.get("/bao-cao/tai/..%2Fcchc.yaml?ky=2025-03").status_code == 404
    assert client.get("/bao-cao/tai/pdf?ky=2025-03").status_code == 404       # pdf=False here
    assert [h["action"] for h in users.journal(store_for(ws).engine)] == ["report"]


def test_a_month_without_data_cannot_be_reported_and_says_so(client: TestClient) -> None:
    started = client.post("/bao-cao?ky=2025-05", data={"csrf": csrf_of(client, "/bao-cao?ky=2025-05")})
    wait(client)
    job = client.get(started.headers["location"] + ".json").json()
    assert job["state"] == "failed" and "chưa có biểu mẫu nào được chấp nhận" in job["message"]


def test_forms_are_generated_and_downloaded_one_or_all(client: TestClient) -> None:
    started = client.post("/bieu-mau?ky=2025-04", data={"csrf": csrf_of(client, "/bieu-mau?ky=2025-04")})
    assert started.status_code == 303
    wait(client)
    one = client.get("/bieu-mau/don-vi/STP?ky=2025-04")
    assert one.status_code == 200
    assert 'filename="2025-04_STP_so-tu-phap.xlsx"' in one.headers["content-disposition"]
    everything = client.get("/bieu-mau/tat-ca.zip?ky=2025-04")
    names = zipfile.ZipFile(io.BytesIO(everything.content)).namelist()
    assert len(names) == 90 and "2025-04_STP_so-tu-phap.xlsx" in names
    assert 'filename="bieu-mau-2025-04-20250320.zip"' in everything.headers["content-disposition"]
    assert client.get("/bieu-mau/don-vi/..%2F..%2Fcchc.yaml?ky=2025-04").status_code == 404


def test_bad_period_is_a_message_not_a_crash(client: TestClient) -> None:
    answer = client.get("/?ky=2025-13")
    assert answer.status_code == 400 and "Kỳ báo cáo không hợp lệ" in answer.text


def test_serving_beyond_this_machine_needs_accounts(ws: Workspace) -> None:
    with pytest.raises(Refusal) as refused:
        server.serve(ws, host="0.0.0.0", open_browser=False)
    assert [p.code for p in refused.value.problems] == ["web-needs-accounts"]
    assert server.is_loopback("127.0.0.1") and server.is_loopback("::1") and not server.is_loopback("192.168.1.5")


def test_a_busy_port_is_a_message(ws: Workspace) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        with pytest.raises(Refusal) as refused:
            server.bind("127.0.0.1", taken.getsockname()[1])
        assert [p.code for p in refused.value.problems] == ["web-port-busy"]
    finally:
        taken.close()


def test_user_commands_add_list_remove_with_their_refusals(ws: Workspace) -> None:
    run = CliRunner()
    root = str(ws.root)
    added = run.invoke(cli_app, ["user", "add", "lan", "--role", "office", "-w", root, "--password-stdin", "--json"],
                       input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    prompted = run.invoke(cli_app, ["user", "add", "xem", "--role", "viewer", "-w", root],
                          input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0 and "Đã tạo tài khoản xem" in prompted.output
    listed = json.loads(run.invoke(cli_app, ["user", "list", "-w", root, "--json"]).stdout)
    assert [(u["name"], u["role"]) for u in listed["result"]] == [("lan", "office"), ("xem", "viewer")]

    def codes(*args: str, input: str = PASSWORD + "\n") -> tuple[int, list[str]]:
        done = run.invoke(cli_app, [*args, "-w", root, "--json"], input=input)
        return done.exit_code, [p["code"] for p in json.loads(done.stdout)["problems"]]

    assert codes("user", "add", "lan", "--role", "office", "--password-stdin") == (1, ["user-exists"])
    assert codes("user", "add", "../x", "--role", "office", "--password-stdin") == (2, ["user-bad-name"])
    assert codes("user", "add", "moi", "--role", "admin", "--password-stdin") == (2, ["user-bad-role"])
    assert codes("user", "add", "moi", "--role", "office", "--password-stdin", input="ngan\n") == (2, ["password-weak"])
    assert codes("user", "add", "moi", "--role", "office", input=f"{PASSWORD}\nkhac-{PASSWORD}\n") == (
        2, ["password-mismatch"])
    assert codes("user", "remove", "khong-co") == (1, ["user-unknown"])
    assert run.invoke(cli_app, ["user", "remove", "xem", "-w", root]).exit_code == 0
    actions = [h["action"] for h in users.journal(store_for(ws).engine)]
    assert actions == ["user-remove", "user-add", "user-add"]
