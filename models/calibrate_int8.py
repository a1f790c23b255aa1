"""Measure the star layers' input ranges for int8 smoothing, on held-out train reviews (never dev).

    .venv/bin/python models/calibrate_int8.py               # ~3 min on 2 cores
    .venv/bin/python models/calibrate_int8.py --sweep       # also compares smoothing strengths

The reviews are finetune_full.py's 4 % held-out share of the shared train split (the star model
never trained on them): --calibrate of them set the ranges, --check others (disjoint) measure how
close int8 stays to fp32 — plain int8 against smoothed — for the 12 star layers and for the 12
packaged layers (MONITOR_QUANTIZE=int8; they give severity its embedding). Writes
monitor/model_files/int8_calibration.safetensors and monitor/model_files/int8_calibration_base.safetensors (about 170 KB
each: one float per input channel of each of 72 Linears, no review text) and prints JSON for
models/EVAL.md (models/eval_int8_calibration.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "models"))

from review_sets import held_out_reviews  # noqa: E402


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
    ap.add_argument("--out", type=Path, default=None,
                    help="star layers' ranges (default: where create_analyzer reads them)")
    ap.add_argument("--base-out", type=Path, default=None, help="packaged layers' ranges")
    args = ap.parse_args()
    os.environ.update(MONITOR_PRECISION="fp32", MONITOR_QUANTIZE="off")

    from monitor.scoring import encoder
    from monitor.scoring.analyzer import (BASE_INT8_CALIBRATION_FILE, INT8_CALIBRATION_FILE,
                                          create_analyzer)
    from monitor.scoring.tuned import (load_activation_max, recording_activation_max,
                                       save_activation_max)

    args.out = args.out or INT8_CALIBRATION_FILE
    args.base_out = args.base_out or BASE_INT8_CALIBRATION_FILE
    held = held_out_reviews()
    perm = np.random.default_rng(7).permutation(held.height)
    calib = held[perm[:args.calibrate].tolist()]["text"].to_list()
    check = held[perm[args.calibrate:args.calibrate + args.check].tolist()]
    texts, stars = check["text"].to_list(), check["stars"].to_numpy()
    analyzer = create_analyzer()
    fp32_top, fp32_base = analyzer.tuned, analyzer._base_layers()
    meta = {"reviews": args.calibrate, "source": "held-out 4 % of the shared train split",
            "script": "models/calibrate_int8.py"}

    def run(top, base, texts):
        """Star probabilities and packaged-layer embeddings with these layers, and reviews/s."""
        analyzer.tuned, analyzer._layers = top, base
        t0 = time.perf_counter()
        embed_rows, probs, _ = analyzer._split_pass(texts)
        emb = embed_rows(list(range(len(texts))))
        return probs, emb, len(texts) / (time.perf_counter() - t0)

    with recording_activation_max(fp32_top) as star_max, \
            recording_activation_max(fp32_base) as base_max:
        run(fp32_top, fp32_base, calib)
    save_activation_max(args.out, fp32_top, star_max, meta=meta)
    save_activation_max(args.base_out, fp32_base, base_max, meta=meta)
    star_ranges = load_activation_max(args.out, fp32_top)
    base_ranges = load_activation_max(args.base_out, fp32_base)
    assert star_ranges is not None and base_ranges is not None

    ref, ref_emb, fp32_speed = run(fp32_top, fp32_base, texts)
    report = {"calibration_reviews": args.calibrate, "check_reviews": args.check,
              "fp32": {"exact": round(float((ref.argmax(1) + 1 == stars).mean()), 4),
                       "reviews_per_s": round(fp32_speed, 1)}}

    def record(name, top, base):
        probs, emb, speed = run(top, base, texts)
        cosine = (emb * ref_emb).sum(1)  # both unit vectors
        report[name] = {"stars": agreement(ref, probs, stars),
                        "packaged_embedding_cosine_mean": round(float(cosine.mean()), 5),
                        "packaged_embedding_cosine_min": round(float(cosine.min()), 4),
                        "reviews_per_s_stars_and_embedding": round(speed, 1)}
        print(name, report[name], file=sys.stderr, flush=True)

    record("int8_plain", encoder.quantize_int8(fp32_top), encoder.quantize_int8(fp32_base))
    alphas = [0.5, 0.7, 0.8, encoder.SMOOTHING_ALPHA, 0.9, 1.0] if args.sweep \
        else [encoder.SMOOTHING_ALPHA]
    for alpha in alphas:
        record(f"int8_smoothed_{alpha}",
               encoder.quantize_int8(fp32_top, star_ranges, alpha=alpha),
               encoder.quantize_int8(fp32_base, base_ranges, alpha=alpha))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
