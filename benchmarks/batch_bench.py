"""Batch scoring at scale: rows/s, peak memory, and the time to resume after a kill at 50%.

    .venv/bin/python benchmarks/batch_bench.py --rows 1000000 [--stand-in] [--threads N]

Writes an N-row CSV (texts of the bundled sample, cycled, with unique ids), then runs
`monitor score` on it three ways, each in its own process:
1. a clean run: wall time, reviews/s, peak memory (VmHWM of the scoring process);
2. the same run killed (SIGKILL) once half of its chunks are committed;
3. `--resume` of (2): time to finish, and a check that the output has exactly N rows.
`--stand-in` swaps the model for the test suite's keyword analyzer, which measures everything
but the model (reading, chunking, writing, assembling, memory) at sizes the CPU model would need
hours for. Prints JSON; compare figures within one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
STAND_IN = textwrap.dedent(f"""
    import sys
    sys.path.insert(0, {str(ROOT / "tests")!r})
    from conftest import KeywordAnalyzer
    import monitor.cli as cli
    cli._load_analyzer = lambda device=None: KeywordAnalyzer()
    sys.argv = ["monitor"] + sys.argv[1:]
    cli.main()
""")


def make_input(rows: int, path: Path) -> None:
    sample = pl.read_csv(ROOT / "data" / "sample_reviews.csv")
    reps = -(-rows // sample.height)
    frame = pl.concat([sample] * reps).head(rows).with_columns(
        pl.format("bench-{}", pl.int_range(pl.len())).alias("review_id"))
    frame.write_csv(path)


def command(stand_in: bool, *args: str) -> list[str]:
    head = [sys.executable, "-c", STAND_IN] if stand_in else [sys.executable, "-m",
                                                              "monitor.cli"]
    return head + ["score", *args]


def run_watched(cmd: list[str], *, kill_when=None) -> tuple[float, int, bool]:
    """Run `cmd`; returns (seconds, peak kB of its memory, killed). `kill_when()` true -> SIGKILL."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, killed = 0, False
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)
    reader.start()
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                peak = max(peak, next(int(x.split()[1]) for x in f if x.startswith("VmHWM")))
        except (OSError, StopIteration):
            pass
        if kill_when is not None and kill_when():
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.2)
    proc.wait()
    reader.join(timeout=10)
    if proc.returncode != 0 and not killed:
        raise SystemExit(f"monitor score failed: {''.join(stderr)[-2000:]}")
    return time.monotonic() - t0, peak, killed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk-rows", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--stand-in", action="store_true", help="keyword analyzer instead of the model")
    args = ap.parse_args(argv)
    extra = ["--quiet", "--chunk-rows", str(args.chunk_rows)]
    if args.threads:
        extra += ["--threads", str(args.threads)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "reviews.csv"
        make_input(args.rows, src)
        clean_s, clean_peak, _ = run_watched(command(args.stand_in, str(src), "--out",
                                                     str(tmp / "clean.parquet"), *extra))
        out = tmp / "resumed.parquet"
        parts = tmp / "resumed.parquet.parts"
        chunks = -(-args.rows // args.chunk_rows)
        half = lambda: parts.exists() and len(list(parts.glob("part-*"))) >= chunks // 2  # noqa
        killed_s, _, killed = run_watched(command(args.stand_in, str(src), "--out", str(out),
                                                  *extra), kill_when=half)
        done_before = len(list(parts.glob("part-*"))) if parts.exists() else 0
        resume_s, _, _ = run_watched(command(args.stand_in, str(src), "--out", str(out),
                                             "--resume", *extra))
        rows_out = pl.scan_parquet(out).select(pl.len()).collect().item()
        same = pl.read_parquet(out).equals(pl.read_parquet(tmp / "clean.parquet"))
        print(json.dumps({
            "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
            "machine": platform.machine(), "rows": args.rows, "input_mb":
            round(src.stat().st_size / 2**20, 1), "analyzer": "stand-in (no model)"
            if args.stand_in else "model", "threads": args.threads or "all",
            "clean_run_s": round(clean_s, 1), "reviews_per_s": round(args.rows / clean_s, 1),
            "peak_memory_mb": round(clean_peak / 1024, 1),
            "killed_at_chunk": f"{done_before}/{chunks}" if killed else "finished before kill",
            "resume_s": round(resume_s, 1), "resume_vs_clean": round(resume_s / clean_s, 2),
            "rows_out_after_resume": rows_out, "resumed_equals_clean": same,
        }, indent=2))


if __name__ == "__main__":
    main()
