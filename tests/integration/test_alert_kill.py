"""A sender killed in the middle of a delivery loses nothing: a restart delivers every alert (the
one the dead sender held once its claim lapses), and the receiver, deduplicating on the
idempotency key, processes each exactly once."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from werkzeug import Response

from monitor.batch import ingest_batch
from monitor.cases import CasePolicy
from monitor.ingest import read_reviews
from monitor.store import Store

pytestmark = pytest.mark.slow


def test_kill_mid_delivery_then_restart(tmp_path, fake_analyzer, httpserver):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    rows = ["review_id,product_id,text,rating"] + [f"r{i},P{i},bad and broken {i},1" for i in range(5)]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(db), "t",
                 policy=CasePolicy(alert_channels=("webhook",)))

    seen: list[str] = []
    first_request = threading.Event()

    def handler(request):
        seen.append(request.headers["X-Monitor-Idempotency-Key"])
        if len(seen) == 1:
            first_request.set()
            time.sleep(5)  # the sender is killed while waiting for this answer
        return Response("ok", 200)

    httpserver.expect_request("/hook").respond_with_handler(handler)
    env = {**os.environ, "MONITOR_WEBHOOK_URL": httpserver.url_for("/hook"),
           "MONITOR_ALERT_TIMEOUT_S": "8"}  # outlasts the handler's sleep; claims held 21 s
    cmd = [sys.executable, "-m", "monitor.cli", "alerts", "send", "--db", db]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    assert first_request.wait(60), "sender never reached the receiver"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    status = Store(db).alerts()
    assert set(status["status"]) == {"pending"}  # nothing was marked delivered without an answer
    killed_at = time.monotonic()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert "4 delivered" in again.stderr, again.stderr  # not the one the dead sender holds
    time.sleep(max(0.0, killed_at + 22 - time.monotonic()))  # its claim (2 x 8 + 5 s) lapses
    last = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert "1 delivered" in last.stderr, last.stderr
    assert set(Store(db).alerts()["status"]) == {"delivered"}
    # the interrupted alert was sent twice; the receiver drops the repeat by its key
    assert len(seen) == 6 and len(set(seen)) == 5
