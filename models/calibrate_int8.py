"""Measure the star layers' input ranges for int8 smoothing, on held-out train reviews (never dev).

    .venv/bin/python models/calibrate_int8.py               # ~3 min on 2 cores
    .venv/bin/python models/calibrate_int8.py --sweep       # also compares smoothing strengths

The reviews are finetune_full.py's 4 % held-out share of the shared train split (the star model
never trained on them): --calibrate of them set the ranges, --check others (disjoint) measure how
close int8 stays to fp32 — plain int8 against smoothed. Writes models/int8_calibration.safetensors
(about 170 KB: one float per input channel of each of the 72 Linears, no review text) and prints
JSON for models/EVAL.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "reviews"
HELD_SHARE, HELD_SEED = 0.04, 13  # as in models/finetune_full.py


def held_out_reviews():
    """finetune_full.py's held-out rows: train less the severity test set, 4 % drawn with seed 13."""
    import polars as pl

    labelled = pl.read_csv(ROOT / "models" / "severity_labels.csv")["id"].to_list()
    train = pl.read_csv(SHARED / "marc_train.csv").filter(~pl.col("id").is_in(labelled))
    perm = np.random.default_rng(HELD_SEED).permutation(train.height)
    return train[sorted(perm[:int(train.height * HELD_SHARE)].tolist())]


def agreement(ref: np.ndarray, probs: np.ndarray, stars: np.ndarray) -> dict:
    expected = np.arange(1, 6)
    return {"same_star": round(float((probs.argmax(1) == ref.argmax(1)).mean()), 4),
            "mean_abs_expected_star_change": round(float(np.abs((probs - ref) @ expected).mean()), 4),
            "max_prob_change": round(float(np.abs(probs - ref).max()), 3),
            "exact": round(float((probs.argmax(1) + 1 == stars).mean()), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--calibrate", type=int, default=512)
    ap.add_argument("--check", type=int, default=800)
    ap.add_argument("--sweep", action="store_true", help="also try smoothing strengths 0.5-1.0")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "int8_calibration.safetensors")
    args = ap.parse_args()
    os.environ.update(MONITOR_PRECISION="fp32", MONITOR_QUANTIZE="off")

    from monitor.scoring import encoder
    from monitor.scoring.analyzer import create_analyzer
    from monitor.scoring.tuned import load_activation_max, save_activation_max

    held = held_out_reviews()
    perm = np.random.default_rng(7).permutation(held.height)
    calib = held[perm[:args.calibrate].tolist()]
    check = held[perm[args.calibrate:args.calibrate + args.check].tolist()]
    analyzer = create_analyzer()
    fp32_top = analyzer.tuned

    def star_probs(top, texts):
        analyzer.tuned = top
        t0 = time.perf_counter()
        _, probs = analyzer._split_pass(texts)
        return probs, len(texts) / (time.perf_counter() - t0)

    with fp32_top.recording_activation_max() as maxima:
        star_probs(fp32_top, calib["text"].to_list())
    save_activation_max(args.out, fp32_top, maxima, meta={
        "reviews": args.calibrate, "source": "held-out 4 % of the shared train split",
        "script": "models/calibrate_int8.py"})
    loaded = load_activation_max(args.out, fp32_top)
    assert loaded is not None and loaded.keys() == maxima.keys()

    texts, stars = check["text"].to_list(), check["stars"].to_numpy()
    ref, fp32_speed = star_probs(fp32_top, texts)
    report = {"calibration_reviews": args.calibrate, "check_reviews": args.check,
              "fp32": {"exact": round(float((ref.argmax(1) + 1 == stars).mean()), 4),
                       "reviews_per_s": round(fp32_speed, 1)}}
    plain, speed = star_probs(encoder.quantize_int8(fp32_top), texts)
    report["int8_plain"] = {**agreement(ref, plain, stars), "reviews_per_s": round(speed, 1)}
    alphas = [0.5, 0.7, 0.8, encoder.SMOOTHING_ALPHA, 0.9, 1.0] if args.sweep \
        else [encoder.SMOOTHING_ALPHA]
    for alpha in alphas:
        top = copy.deepcopy(fp32_top)
        encoder.smooth_linears(top, loaded, alpha=alpha)
        probs, speed = star_probs(encoder.quantize_int8(top), texts)
        report[f"int8_smoothed_{alpha}"] = {**agreement(ref, probs, stars),
                                            "reviews_per_s": round(speed, 1)}
        print(alpha, report[f"int8_smoothed_{alpha}"], file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
