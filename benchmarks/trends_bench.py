"""Trends over millions of scored reviews, once loaded (the #5 speed target: 10M rows in <= 1 s
on this machine's 2 cores).

    .venv/bin/python benchmarks/trends_bench.py [--rows 10000000] [--products 2000]

Builds a synthetic scored frame with the stored-review schema (products, 180 days, 10 languages,
sentiment, stars, categories and levels drawn at realistic rates), then times each trends
function the CLI and dashboard call, best of 3, and reports how memory grows with rows (the
frame's own size and the process peak). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import datetime

import numpy as np
import polars as pl

from monitor.trends import detect_spikes, period_kpis, period_trends


def synthetic(rows: int, products: int, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    sentiment = rng.choice(np.array(["negative", "neutral", "positive"]), rows, p=[.2, .1, .7])
    category = rng.choice(np.array(["none", "other", "delay", "damage", "counterfeit"]), rows,
                          p=[.8, .1, .05, .04, .01])
    level = np.select([category == "counterfeit", category == "damage", category == "delay"],
                      [1, 2, 3], 0)
    start = np.datetime64(datetime(2026, 5, 1), "us")
    seconds = rng.integers(0, 180 * 86400, rows)
    return pl.DataFrame({
        "product_id": pl.Series(rng.integers(0, products, rows)).cast(pl.String),
        "marketplace": rng.choice(np.array(["amazon.de", "amazon.com", "aliexpress", "shop"]), rows),
        "lang": rng.choice(np.array(["en", "de", "fr", "es", "it", "pt", "ja", "zh", "ar", "ru"]),
                           rows),
        "date": start + seconds.astype("timedelta64[s]"),
        "rating": rng.integers(1, 6, rows).astype(np.float64),
        "sentiment": sentiment, "stars_pred": rng.uniform(1, 5, rows),
        "category": category,
        "severity": level.astype(np.int8),
        "needs_response": sentiment == "negative",
    }).with_columns(  # the store's types: text columns as String, no level as null
        pl.when(pl.col("severity") > 0).then(pl.col("severity")).alias("severity"))


def best_of(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmHWM")) / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--products", type=int, default=2000)
    args = ap.parse_args(argv)
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
               "machine": platform.machine(), "polars_threads": pl.thread_pool_size(),
               "rows": args.rows, "products": args.products, "sizes": []}
    for rows in sorted({args.rows // 10, args.rows}):
        frame = synthetic(rows, args.products)
        timings = {
            "weekly_by_product_s": best_of(lambda: period_trends(frame, by="product", every="1w")),
            "daily_by_category_s": best_of(lambda: period_trends(frame, by="category",
                                                                 every="1d")),
            "monthly_by_lang_s": best_of(lambda: period_trends(frame, by="lang", every="1mo")),
            "spikes_s": best_of(lambda: detect_spikes(frame)),
            "kpis_s": best_of(lambda: period_kpis(frame)),
        }
        results["sizes"].append({
            "rows": rows, "frame_mb": round(frame.estimated_size("mb"), 1),
            "process_peak_mb": round(peak_mb(), 1),
            **{k: round(v, 3) for k, v in timings.items()},
            "weekly_target_met": timings["weekly_by_product_s"] <= 1.0,
        })
        del frame
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
