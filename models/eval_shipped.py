"""Evaluate the star model `monitor score` ships, through the product's own analyzer, on CPU.

    .venv/bin/python models/eval_shipped.py            # ~7 min on 2 cores; writes eval_tuned.json
    MONITOR_QUANTIZE=stars .venv/bin/python models/eval_shipped.py \
        --report models/eval_tuned_int8_stars.json

The figures in models/EVAL.md section 1 come from this run: the same file, loaded the way
`create_analyzer` loads it (fp16 weights in fp32 on CPU), on the whole shared dev split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.scoring.analyzer import TUNED_TOP_FILE, create_analyzer  # noqa: E402
from monitor.scoring.sentiment import sentiment_metrics  # noqa: E402
from monitor.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "reviews"


def confusion_shares(stars: np.ndarray, probs: np.ndarray) -> dict:
    """How often a clearly rated review is read the other way (what a seller would notice)."""
    from monitor.scoring.sentiment import sentiment_probabilities

    pred = sentiment_probabilities(probs).argmax(1)
    high, low = stars >= 4, stars <= 2
    return {"positive_rated_read_negative": round(float((pred[high] == 0).mean()), 4),
            "negative_rated_read_positive": round(float((pred[low] == 2).mean()), 4)}


def human_review_table(stars: np.ndarray, probs: np.ndarray) -> list[dict]:
    """For each confidence cut: the share of reviews below it and how often the sentiment call is
    right below and above it — what routing the unsure ones to a person costs and saves."""
    from monitor.scoring.sentiment import sentiment_probabilities, stars_to_sentiment

    sent = sentiment_probabilities(probs)
    right = sent.argmax(1) == stars_to_sentiment(stars)
    conf = sent.max(1)
    rows = []
    for cut in (0.4, 0.5, 0.6, 0.7):
        low = conf < cut
        rows.append({"below": cut, "share": round(float(low.mean()), 4),
                     "accuracy_below": round(float(right[low].mean()), 4) if low.any() else None,
                     "accuracy_above": round(float(right[~low].mean()), 4)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-lang", type=int, default=0,
                    help="a random N dev reviews per language (seed 13) instead of all")
    ap.add_argument("--report", type=Path, default=ROOT / "models" / "eval_tuned.json")
    args = ap.parse_args()
    dev = pl.read_csv(SHARED / "marc_dev.csv").sort("id")
    if args.per_lang:
        # dev is ordered by star within a language: sample, never take the first N
        dev = dev.filter(pl.int_range(pl.len()).shuffle(seed=13).over("lang") < args.per_lang)
    analyzer = create_analyzer()
    t0 = time.time()
    _, probs = analyzer._embed_and_stars(dev["text"].to_list())
    stars, langs = dev["stars"].to_numpy(), dev["lang"].to_numpy()
    report = {"model": str(TUNED_TOP_FILE.relative_to(ROOT)),
              "device": f"cpu, MONITOR_QUANTIZE={Settings.from_env().quantize}",
              "temperature": analyzer.tuned.temperature, "seconds": round(time.time() - t0),
              "all": sentiment_metrics(stars, probs), "languages": {}}
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        report["languages"][lang] = {**sentiment_metrics(stars[m], probs[m]),
                                     **confusion_shares(stars[m], probs[m])}
    report["all"].update(confusion_shares(stars, probs))
    report["human_review"] = human_review_table(stars, probs)
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["all"], indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
