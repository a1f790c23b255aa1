"""Scoring speed of each CPU number format, measured in one run on the same texts: fp32,
bf16 (MONITOR_PRECISION) and the int8 modes (MONITOR_QUANTIZE=stars / int8).

    .venv/bin/python benchmarks/quantize_bench.py [--rows 1000] [--marc 600]

Prints JSON: reviews/s of the full engine per mode on the built-in sample's short reviews and,
when the shared MARC dev split is beside the repository, on --marc random dev reviews. The
accuracy of each mode is `models/eval_shipped.py` (models/EVAL.md). Machines are noisy: the fp32
mode is measured first and again last, compare the ratios. bf16 is fast only on a CPU with bf16
instructions (AVX512-BF16 or AMX; `native_bf16` in the output says).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MARC_DEV = ROOT.parent / "shared" / "data" / "reviews" / "marc_dev.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--marc", type=int, default=600)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import polars as pl

    from monitor.bench import load_texts
    from monitor.scoring import create_analyzer

    sets = {"sample": load_texts(args.rows, None)}
    if MARC_DEV.exists() and args.marc:
        sets["marc"] = pl.read_csv(MARC_DEV).sample(args.marc, seed=5)["text"].to_list()

    def rate(analyzer, texts):
        analyzer.score(texts[:32])  # warm-up
        t0 = time.perf_counter()
        analyzer.score(texts)
        return round(len(texts) / (time.perf_counter() - t0), 1)

    from monitor.scoring.encoder import native_bf16

    out = {"native_bf16": native_bf16()}
    modes = [("fp32", "fp32", "off"), ("bf16", "bf16", "off"), ("stars", "fp32", "stars"),
             ("int8", "fp32", "int8"), ("fp32", "fp32", "off")]
    for mode, precision, quantize in modes:
        os.environ["MONITOR_PRECISION"], os.environ["MONITOR_QUANTIZE"] = precision, quantize
        analyzer = create_analyzer(device="cpu")
        key = mode if mode not in out else f"{mode}_again"
        out[key] = {name: rate(analyzer, texts) for name, texts in sets.items()}
        print(key, out[key], file=sys.stderr, flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
