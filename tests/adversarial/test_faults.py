"""Faults a real machine throws at the monitor: the disk fills up while writing, another program
holds the database lock. Each ends in a one-line message and exit 2, nothing half-written or
half-stored, and a rerun finishes the job with no row lost or duplicated.

The CLI runs in a subprocess (real file system, real SQLite) with the stand-in analyzer, so the
fault is the operating system's own: RLIMIT_FSIZE makes every write past the limit fail with
EFBIG, the way a full disk fails it with ENOSPC. The reruns that finish the job meet no fault
and run in this process (`rerun`), with the same stand-in.
"""

import hashlib
import os
import resource
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import monitor.cli as cli
from conftest import KeywordAnalyzer, run_cli as run_here
from monitor.store import Store

TESTS = Path(__file__).resolve().parents[1]
# `monitor` CLI with the keyword analyzer from conftest instead of the model
RUNNER = textwrap.dedent(f"""
    import sys
    sys.path.insert(0, {str(TESTS)!r})
    from conftest import KeywordAnalyzer
    import os, time
    import monitor.cli as cli
    class Slow(KeywordAnalyzer):  # MONITOR_TEST_SLOW_S: seconds per scoring call
        def score(self, texts, **kw):
            time.sleep(float(os.environ.get("MONITOR_TEST_SLOW_S", "0")))
            return super().score(texts, **kw)
    cli._load_analyzer = lambda device=None: Slow()
    import monitor.batch as batch  # MONITOR_TEST_INGEST_CHUNK: rows per ingest transaction
    batch.INGEST_CHUNK_ROWS = int(os.environ.get("MONITOR_TEST_INGEST_CHUNK",
                                                 batch.INGEST_CHUNK_ROWS))
    sys.argv = ["monitor"] + sys.argv[1:]
    cli.main()
""")


def run_cli(*args, file_limit: int | None = None, env: dict | None = None):
    def limit():
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
    return subprocess.run([sys.executable, "-c", RUNNER, *map(str, args)], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit,
                          env={**os.environ, **(env or {})})


def rerun(*args):
    """A run with no fault to inject, in this process, with the stand-in analyzer."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_load_analyzer", lambda device=None: KeywordAnalyzer())
        return run_here(*args)


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.strip() and "%|" not in x]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def reviews_file(path: Path, n: int, prefix: str = "r") -> Path:
    pl.DataFrame({"id": [f"{prefix}{i}" for i in range(n)],
                  "text": [("bad and broken " if i % 3 == 0 else "lovely ")
                           + hashlib.sha256(f"{prefix}{i}".encode()).hexdigest() * 4
                           for i in range(n)]}).write_csv(path)  # incompressible, like real text
    return path


def test_disk_full_while_scoring_keeps_the_old_output_and_resume_finishes(tmp_path):
    out = tmp_path / "out.parquet"
    small = reviews_file(tmp_path / "small.csv", 5, "s")
    assert rerun("score", small, "--out", out, "--quiet").returncode == 0
    before = out.read_bytes()
    big = reviews_file(tmp_path / "big.csv", 6000)
    failed = run_cli("score", big, "--out", out, "--quiet", "--chunk-rows", "500",
                     file_limit=200_000)
    assert "out of disk space" in one_line_error(failed)
    assert out.read_bytes() == before  # the previous result is untouched
    assert not list(tmp_path.glob(".out.parquet.*"))  # no temp file left beside it
    done_parts = len(list((tmp_path / "out.parquet.parts").glob("part-*.parquet")))
    resumed = rerun("score", big, "--out", out, "--quiet", "--chunk-rows", "500", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    result = pl.read_parquet(out)
    assert result.height == 6000 and result["id"].n_unique() == 6000
    # every 500-row chunk was committed before the final write failed: the resume had them
    assert done_parts == 6000 // 500
    assert not (tmp_path / "out.parquet.parts").exists()


def test_disk_full_while_ingesting_stores_nothing_then_a_rerun_stores_everything(tmp_path):
    db = tmp_path / "monitor.db"
    url = f"sqlite:///{db}"
    Store(url)  # create the schema before the disk fills
    src = reviews_file(tmp_path / "in.csv", 3000)
    failed = run_cli("ingest", src, "--db", url, "--quiet",
                     file_limit=db.stat().st_size + 64_000)
    assert "nothing was stored" in one_line_error(failed)
    store = Store(url)
    assert store.count() == 0 and store.cases().height == 0
    again = rerun("ingest", src, "--db", url, "--quiet")
    assert again.returncode == 0, again.stderr
    assert store.count() == 3000
    needing = pl.read_csv(src)["text"].str.contains("bad").sum()  # the stand-in's negatives
    assert store.cases().height == needing  # one case per negative review, none twice


def test_locked_database_waits_briefly_then_fails_clearly(tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    Store(url)
    src = reviews_file(tmp_path / "in.csv", 50)
    holder = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing and not letting go
    try:
        locked = run_cli("ingest", src, "--db", url, "--quiet",
                         env={"MONITOR_DB_BUSY_TIMEOUT_S": "1"})
        message = one_line_error(locked)
        assert "locked" in message and "nothing was stored" in message
    finally:
        holder.execute("ROLLBACK")
    assert Store(url).count() == 0

    # a lock held for a moment only delays the ingest, it does not fail it
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(1.0, lambda: holder.execute("ROLLBACK")).start()
    t0 = time.monotonic()
    ok = run_cli("ingest", src, "--db", url, "--quiet", env={"MONITOR_DB_BUSY_TIMEOUT_S": "20"})
    assert ok.returncode == 0, ok.stderr
    assert Store(url).count() == 50 and time.monotonic() - t0 < 60
    holder.close()


def test_disk_full_on_a_first_csv_output_leaves_no_file(tmp_path):
    src = reviews_file(tmp_path / "in.csv", 2000)
    proc = run_cli("score", src, "--out", tmp_path / "o.csv", "--quiet", file_limit=40_000)
    assert "out of disk space" in one_line_error(proc)
    assert not (tmp_path / "o.csv").exists()
    assert not list(tmp_path.glob(".o.csv.*"))


def test_a_slow_webhook_times_out_is_retried_and_delivered_once(tmp_path, fake_analyzer,
                                                                 httpserver):
    from datetime import datetime, timedelta

    from werkzeug import Response

    from monitor.alerts import AlertSettings, send_pending
    from monitor.batch import ingest_batch
    from monitor.cases import CasePolicy
    from monitor.ingest import read_reviews

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    ingest_batch(read_reviews(reviews_file(tmp_path / "in.csv", 1)), fake_analyzer, store, "t",
                 progress=False, policy=CasePolicy(alert_channels=("webhook",)))
    calls: list[str] = []
    first_answered = threading.Event()

    def handler(request):
        calls.append(request.headers["X-Monitor-Idempotency-Key"])
        if len(calls) == 1:
            time.sleep(1.5)  # three times longer than the sender waits
            first_answered.set()
        return Response("ok", 200)

    httpserver.expect_request("/hook").respond_with_handler(handler)
    settings = AlertSettings(webhook_url=httpserver.url_for("/hook"), timeout_s=0.5, backoff_s=60)
    t0 = datetime(2030, 1, 1)
    assert send_pending(store, settings, now=t0).retrying == 1
    row = store.alerts().row(0, named=True)
    assert row["status"] == "pending" and "timed out" in row["last_error"]
    # the test receiver answers one request at a time: the retry goes after the slow answer
    assert first_answered.wait(timeout=30)
    assert send_pending(store, settings, now=t0 + timedelta(seconds=61)).delivered == 1
    assert send_pending(store, settings, now=t0 + timedelta(hours=1)).delivered == 0
    assert len(calls) == 2 and len(set(calls)) == 1  # the repeat carries the same key


def test_killed_mid_ingest_stores_whole_chunks_and_a_rerun_completes(tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    Store(url)
    src = reviews_file(tmp_path / "in.csv", 2000)
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, "ingest", str(src), "--db", url,
                             "--quiet"], env={**os.environ, "MONITOR_TEST_SLOW_S": "0.05"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)  # the model is scoring: nothing committed yet
    proc.kill()
    proc.wait(timeout=30)
    store = Store(url)
    assert store.count() in (0, 2000)  # one transaction per 5,000-row chunk: never a part of one
    again = rerun("ingest", src, "--db", url, "--quiet")
    assert again.returncode == 0, again.stderr
    needing = pl.read_csv(src)["text"].str.contains("bad").sum()
    assert store.count() == 2000 and store.cases().height == needing


def test_killed_mid_ingest_of_a_big_file_keeps_whole_chunks_and_a_rerun_completes(tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    Store(url)
    src = reviews_file(tmp_path / "in.csv", 3000)
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, "ingest", str(src), "--db", url,
                             "--quiet"], env={**os.environ, "MONITOR_TEST_SLOW_S": "0.5",
                                              "MONITOR_TEST_INGEST_CHUNK": "500"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = Store(url)
    deadline = time.monotonic() + 120
    while store.count() < 500 and time.monotonic() < deadline:  # some chunks are stored
        time.sleep(0.2)
    proc.kill()
    proc.wait(timeout=30)
    stored = store.count()
    assert 500 <= stored < 3000 and stored % 500 == 0  # whole chunks, never half of one
    again = rerun("ingest", src, "--db", url, "--quiet")
    assert again.returncode == 0, again.stderr
    assert f"{stored} already stored" in again.stderr
    needing = pl.read_csv(src)["text"].str.contains("bad").sum()
    assert store.count() == 3000 and store.cases().height == needing
