"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright; the recipe in
shared/docs/browser-tests.md): `cchc serve` on a free port over the sample workspace with February
imported; March's files are uploaded through the page, the glance and the chase list change, a returned
unit's problems open, the report is built and its download opens with python-docx. Screenshots of every page
at 1366x768 go to $CCHC_SCREENSHOTS when set (docs/img/ was made that way), else to the test's folder."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ninh-thuan-2025"
MARCH = SAMPLE / "nop" / "2025-03"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from cchc_excel.archive.importing import import_files
    from cchc_excel.archive.workspace import open_workspace

    root = tmp_path_factory.mktemp("browser") / "ws"
    root.mkdir()
    for name in ("cchc.yaml", "plan.yaml", "registry.yaml", "ninh-thuan-2025.csv"):
        shutil.copy2(SAMPLE / name, root / name)
    ws, report = open_workspace(root)
    assert ws is not None, report.flatten("code", "message")
    list(import_files(ws, [SAMPLE / "nop" / "2025-02"]))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cchc_excel", "serve", "-w", str(root), "--port", str(port),
                             "--no-browser", "--no-pdf"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            raise RuntimeError(proc.stdout.read().decode() if proc.stdout else "serve ended")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.send_signal(signal.SIGINT)        # Ctrl-C: uvicorn closes the connections, the command says so
    assert proc.wait(10) == 0
    assert "Đã dừng trang web." in proc.stdout.read().decode()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        yield b
        b.close()


def test_a_month_through_the_page(browser: object, served: str, tmp_path: Path) -> None:
    import docx
    from playwright.sync_api import expect

    shots = Path(os.environ.get("CCHC_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(accept_downloads=True, locale="vi-VN",  # type: ignore[attr-defined]
                                  viewport={"width": 1366, "height": 768})
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"web-{name}.png"), full_page=False)

    # before: nobody has reported for March
    page.goto(served + "/?ky=2025-03")
    expect(page.locator("h1")).to_have_text("Tình hình nộp báo cáo tháng 3 năm 2025")
    expect(page.locator("tr.total td").nth(4)).to_have_text("90")
    page.goto(served + "/don-doc?ky=2025-03")
    expect(page.locator("table.chase tbody tr")).to_have_count(90)

    # receive March's files (and the register of arrival times) in one batch
    page.goto(served + "/nhan-tep?ky=2025-03")
    files = sorted(MARCH.glob("*.xlsx")) + [MARCH / "so-nhan.csv"]
    page.set_input_files("#files", [str(f) for f in files])
    expect(page.locator("#chosen")).to_have_text(f"Đã chọn {len(files)} tệp.")
    shot("nhan-tep")
    page.get_by_role("button", name="Nhận và kiểm tra").click()
    page.wait_for_url("**/viec/*")
    expect(page.locator("#job-state")).to_have_text("Xong.", timeout=90_000)
    expect(page.locator("#results tbody tr")).to_have_count(89)
    expect(page.locator("#results tbody tr.rejected")).to_have_count(5)   # samples/README.md: 84 + 5
    shot("ket-qua-nhan")

    # the glance and the chase list change
    page.goto(served + "/?ky=2025-03")
    cells = page.locator("tr.total td")
    expected, on_time, late, returned, missing = (int(cells.nth(i).inner_text()) for i in range(5))
    assert (expected, missing) == (90, 3) and on_time + late + returned == 87 and returned >= 3
    shot("tong-quan")
    page.goto(served + "/don-doc?ky=2025-03")
    expect(page.locator("table.chase tbody tr")).to_have_count(returned + missing)
    shot("don-doc")

    # a returned unit's problems, by sheet and cell
    page.locator("#dv-22786 a").first.click()
    expect(page.locator("h1")).to_have_text("UBND xã Phước Hòa")
    expect(page.locator("#problems")).to_contain_text("Chỉ tiêu 13")
    shot("don-vi")

    # the report, built in the background, previewed and downloaded
    page.goto(served + "/bao-cao?ky=2025-03")
    page.get_by_role("button", name="Lập báo cáo tháng 3 năm 2025").click()
    expect(page.locator("#job-state")).to_have_text("Xong.", timeout=90_000)
    page.get_by_role("link", name="Xem kết quả").click()
    expect(page.locator("#muc-4")).to_contain_text("4. Tình hình, kết quả triển khai nhiệm vụ")
    shot("bao-cao")
    with page.expect_download() as info:
        page.locator("a[data-kind=docx]").click()
    assert info.value.suggested_filename == "bao-cao-cchc-2025-03.docx"
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    text = "\n".join(p.text for p in docx.Document(str(saved)).paragraphs)
    assert "tháng 3 năm 2025" in text

    for path, name in (("/ke-hoach", "ke-hoach"), ("/danh-muc", "danh-muc"), ("/bieu-mau?ky=2025-03", "bieu-mau")):
        page.goto(served + path)
        shot(name)
    page.set_viewport_size({"width": 390, "height": 844})     # a phone
    page.goto(served + "/don-doc?ky=2025-03")
    shot("dien-thoai")
    context.close()
