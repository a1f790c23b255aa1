"""The dashboard's first view on a large store: each page rendered headless (Streamlit AppTest,
the same script run a browser session gets) against an N-review SQLite store, caches cold.

    .venv/bin/python benchmarks/dashboard_bench.py [--reviews 1000000] [--db PATH]

Builds the store once (synthetic reviews written straight into the tables; reused when --db
exists), then times a cold first run of each page and a second, warm run. Target (#5): the first
view of a 1M-review store in <= 2 s. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the pages import `views.common`, as under `streamlit run app.py`


def build(db: Path, reviews: int, products: int = 2000, chunk: int = 50_000) -> None:
    from sqlalchemy import insert

    from monitor.store import CaseRow, ReviewRow, ScoreRow, Store

    store = Store(f"sqlite:///{db}")
    rng = np.random.default_rng(3)
    start = datetime(2026, 5, 1)
    now = datetime(2026, 11, 1)
    langs = ["en", "de", "fr", "es", "it", "pt", "ja", "zh", "ar", "ru"]
    cats = np.array(["none", "other", "delay", "damage", "counterfeit"])
    with store.engine.begin() as conn:
        for lo in range(0, reviews, chunk):
            n = min(chunk, reviews - lo)
            sent = rng.choice(np.array(["negative", "neutral", "positive"]), n, p=[.2, .1, .7])
            cat = rng.choice(cats, n, p=[.8, .1, .05, .04, .01])
            secs = rng.integers(0, 180 * 86400, n)
            rev, sco, cas = [], [], []
            for i in range(n):
                key = f"{lo + i:032x}"
                date = start + timedelta(seconds=int(secs[i]))
                level = {"counterfeit": 1, "damage": 2, "delay": 3}.get(cat[i])
                need = bool(sent[i] == "negative" or level)
                rev.append({"review_key": key, "review_id": f"r{lo + i}",
                            "product_id": f"P{int(rng.integers(products))}",
                            "marketplace": "amazon.de", "channel": "review", "date": date,
                            "rating": float(1 + (lo + i) % 5), "title": None,
                            "text": f"synthetic review {lo + i} " + "words " * 20,
                            "source": "bench", "ingested_at": now})
                sco.append({"review_key": key, "lang": langs[i % 10], "sentiment": sent[i],
                            "p_negative": .2, "p_neutral": .1, "p_positive": .7,
                            "stars_pred": 3.0, "confidence": .8, "category": cat[i],
                            "severity": level, "evidence": "", "needs_response": need,
                            "model_version": "bench", "scored_at": now})
                if need:
                    cas.append({"review_key": key, "state": "new", "category": cat[i],
                                "severity": level, "product_id": rev[-1]["product_id"],
                                "lang": langs[i % 10], "opened_at": date,
                                "due_at": date + timedelta(hours=24), "version": 1,
                                "escalation": "", "evidence_checklist": ""})
            conn.execute(insert(ReviewRow), rev)
            conn.execute(insert(ScoreRow), sco)
            if cas:
                conn.execute(insert(CaseRow), cas)
    store.engine.dispose()  # the last connection closing folds the WAL into the file


def time_page(page: str) -> tuple[float, bool]:
    from streamlit.testing.v1 import AppTest

    t0 = time.perf_counter()
    at = AppTest.from_file(str(ROOT / page), default_timeout=600).run()
    return time.perf_counter() - t0, not at.exception


def browser_first_view(db: Path) -> dict:
    """`streamlit run app.py` on loopback and headless Chromium: seconds from opening the page to
    the queue table showing (the first view), and to the last chart. Needs Debian's chromium."""
    import shutil
    import signal
    import socket
    import subprocess
    import urllib.request

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        return {"skipped": "no /usr/bin/chromium"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}",
         "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, env={**os.environ, "MONITOR_DB_URL": f"sqlite:///{db}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            def visit() -> tuple[float, float]:
                page = browser.new_page()
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector('[data-testid="stDataFrame"]', timeout=300_000)
                first = time.perf_counter() - t0
                page.get_by_text("Weekly negative share per product").wait_for(timeout=300_000)
                page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=300_000)
                full = time.perf_counter() - t0
                page.close()
                return round(first, 2), round(full, 2)

            cold_server = visit()
            time.sleep(65)  # every cached query has expired (TTLs 30-60 s)
            new_session = visit()
            browser.close()
        return {"fresh_server": {"queue_visible_s": cold_server[0],
                                 "page_complete_s": cold_server[1]},
                "running_server_expired_caches": {"queue_visible_s": new_session[0],
                                                  "page_complete_s": new_session[1]},
                "target_met": new_session[0] <= 2.0}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reviews", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=ROOT / "var" / "bench-1m.db")
    args = ap.parse_args(argv)
    if not args.db.exists():
        t0 = time.perf_counter()
        partial = args.db.with_name(args.db.name + ".building")
        partial.unlink(missing_ok=True)
        build(partial, args.reviews)
        partial.rename(args.db)  # a store interrupted while building is never reused
        print(f"built {args.reviews} reviews in {time.perf_counter() - t0:.0f} s", flush=True)
    os.environ["MONITOR_DB_URL"] = f"sqlite:///{args.db}"
    import streamlit as st

    from monitor.store import Store

    store = Store(os.environ["MONITOR_DB_URL"])  # migrations, if the store is older
    args.db.with_name(args.db.name + ".facts.parquet").unlink(missing_ok=True)
    t0 = time.perf_counter()
    store.facts()  # once per store: later sessions and restarts only read what changed
    snapshot_s = time.perf_counter() - t0
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
               "machine": platform.machine(), "reviews": args.reviews,
               "facts_snapshot_first_build_s": round(snapshot_s, 1), "pages": {}}
    for page in ("views/queue.py", "views/overview.py", "views/product.py"):
        st.cache_data.clear()
        st.cache_resource.clear()
        cold, ok = time_page(page)
        warm, _ = time_page(page)
        results["pages"][page] = {"cold_s": round(cold, 2), "warm_s": round(warm, 2),
                                  "rendered": ok, "target_met": ok and cold <= 2.0}
    results["browser_cold_server"] = browser_first_view(args.db)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
