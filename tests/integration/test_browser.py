"""The dashboard in a real browser: headless Chromium through Playwright, against `streamlit run`."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from monitor.batch import ingest_batch
from monitor.ingest import read_reviews
from monitor.store import Store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REVIEWS = ("review_id,product_id,date,rating,text\n"
           "a1,P1,2026-03-02,1,bad: broken on arrival\n"
           "a2,P2,2026-03-03,1,bad <b>bold</b> [link](http://x.invalid)\n"
           "a3,P2,2026-03-04,5,lovely\n")


@contextlib.contextmanager
def streamlit_on(db_url: str, **env_vars: str):
    """`streamlit run app.py` on a free loopback port over `db_url` (plus `env_vars`), until the
    block ends."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium not installed (`.ci/run` installs it)")
    port = free_port()
    env = {**os.environ, "MONITOR_DB_URL": db_url, **env_vars}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false",
         "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not become healthy within 60 s")
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.fixture
def dashboard(tmp_path, fake_analyzer):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    (tmp_path / "r.csv").write_text(REVIEWS)
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(url), "test")
    with streamlit_on(url) as address:
        yield address


def launch(playwright):
    """Debian's headless Chromium, as CI has it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


def test_dashboard_shows_the_queue_in_a_browser(dashboard, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(dashboard)
            page.get_by_text("Needs response").first.wait_for(timeout=45_000)
            page.get_by_text("Need a response").wait_for(timeout=30_000)
            page.get_by_text("Weekly negative share per product").wait_for(timeout=30_000)
            metric = page.locator('[data-testid="stMetricValue"]').first
            assert metric.inner_text().strip() == "2"
            # review text is never rendered as HTML: no <b> element came from a review
            assert page.locator("b", has_text="bold").count() == 0
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            from PIL import Image

            colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1_000_000)
            assert colours is None or len(colours) > 50  # a rendered page, not a blank one
        finally:
            browser.close()


def test_a_link_to_a_page_opens_with_the_dashboards_own_navigation(dashboard):
    # a bookmark or a shared link to /overview as the first visit: the sidebar lists the four
    # pages by title (Streamlit once listed the page folder's files, helpers included, here)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(dashboard + "overview")
            page.get_by_text("Negative share per week").wait_for(timeout=45_000)
            links = page.locator('[data-testid="stSidebarNav"] a')
            assert [t.strip() for t in links.all_inner_texts()] == [
                "Needs response", "Overview", "Product", "Import reviews"]
        finally:
            browser.close()


def test_every_page_reads_in_chinese_in_a_browser(tmp_path, fake_analyzer):
    # MONITOR_UI_LANG=zh: each page opens under its Chinese title, and no English text of the
    # catalog (a phrase of two words or more, so the buyers' own words cannot match) is shown
    from playwright.sync_api import sync_playwright

    from monitor.i18n import catalog

    url = f"sqlite:///{tmp_path / 'm.db'}"
    (tmp_path / "r.csv").write_text(REVIEWS)
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(url), "test")
    english = sorted({key.split("\x04")[-1] for key in catalog("zh")
                      if len(key.split("\x04")[-1].split()) >= 2 and "{" not in key}, key=len)
    pages = {"": "待回复", "overview": "总览", "product": "产品", "import": "导入评价"}
    with streamlit_on(url, MONITOR_UI_LANG="zh") as address, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for path, title in pages.items():
                page.goto(address + path)
                page.locator("h1", has_text=title).first.wait_for(timeout=45_000)
                page.wait_for_timeout(1500)  # the rest of the page after its title
                links = page.locator('[data-testid="stSidebarNav"] a')
                assert [t.strip() for t in links.all_inner_texts()] == list(pages.values())
                shown = page.locator("body").inner_text()
                left = [phrase for phrase in english if phrase in shown]
                assert left == [], f"/{path} shows English: {left[:5]}"
            # the uploader's own English (Streamlit's) is replaced by the catalog's words
            assert not page.get_by_text("Upload", exact=True).is_visible()
            assert not page.get_by_text("per file").first.is_visible()
            drawn = page.evaluate("""() => [...document.querySelectorAll(
                '[data-testid="stFileUploader"] *')].map(
                e => getComputedStyle(e, '::after').content).filter(c => c && c !== 'none')""")
            assert '"上传"' in drawn and '"每个文件最大 200 MB"' in drawn
        finally:
            browser.close()


def test_an_agent_resolves_a_replied_case_in_the_browser(tmp_path, fake_analyzer):
    """The path that used to dead-end: a case replied to leaves the waiting queue, and the agent
    still finds it on the page and resolves it, which plans its follow-ups."""
    import polars as pl
    from playwright.sync_api import sync_playwright

    from monitor.cases import CasePolicy

    url = f"sqlite:///{tmp_path / 'm.db'}"
    (tmp_path / "r.csv").write_text(REVIEWS)
    store = Store(url)
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, store, "test",
                 policy=CasePolicy())
    case_id = store.cases().filter(pl.col("category") == "damage")["case_id"][0]
    store.transition_case(case_id, "replied", actor="ana", expected_version=1)
    with streamlit_on(url) as address, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(address)
            page.get_by_text("Replied and resolved cases").wait_for(timeout=45_000)
            page.get_by_label("Your name (for the case history)").fill("ana")
            page.keyboard.press("Enter")
            section = page.locator('[data-testid="stSelectbox"]').filter(has_text="Move to").last
            section.click()
            page.get_by_role("option", name="resolved", exact=True).click()
            page.get_by_role("button", name="Apply").last.click()
            for _ in range(100):  # bounded: the page applies the move within seconds
                if store.cases(case_id=case_id)["state"][0] == "resolved":
                    break
                time.sleep(0.2)
            assert store.cases(case_id=case_id)["state"][0] == "resolved"
            event = store.case_events(case_id).row(-1, named=True)
            assert (event["from_state"], event["to_state"], event["actor"]) == \
                ("replied", "resolved", "ana")
            assert store.follow_ups().filter(pl.col("case_id") == case_id).height == 2
        finally:
            browser.close()
