"""`monitor score` killed mid-run, then resumed: exactly one row per input row, same values."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_kill_then_resume_matches_a_clean_run(tmp_path):
    src = pl.read_csv(ROOT / "data" / "sample_reviews.csv", infer_schema=False).head(400)
    src.write_csv(tmp_path / "in.csv")
    base = [sys.executable, "-m", "monitor.cli", "score", str(tmp_path / "in.csv"), "-q",
            "--chunk-rows", "50"]
    out = tmp_path / "out.parquet"
    proc = subprocess.Popen(base + ["--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    parts = tmp_path / "out.parquet.parts"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(parts.glob("part-*.parquet"))) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = len(list(parts.glob("part-*.parquet")))
    assert 2 <= done_before < 8 and not out.exists()

    resumed = subprocess.run(base + ["--out", str(out), "--resume"], capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    clean = tmp_path / "clean.parquet"
    subprocess.run(base + ["--out", str(clean)], check=True, capture_output=True, timeout=600)
    a, b = pl.read_parquet(out), pl.read_parquet(clean)
    assert a.height == 400 and a["review_id"].to_list() == src["review_id"].to_list()
    assert a.select(pl.exclude(pl.Float64)).equals(b.select(pl.exclude(pl.Float64)))
    for col in ("p_negative", "p_neutral", "p_positive", "stars_pred", "confidence"):
        assert (a[col] - b[col]).abs().max() < 1e-4
