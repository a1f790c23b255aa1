"""Evaluate the star model `monitor score` ships, through the product's own analyzer, on CPU.

    .venv/bin/python models/eval_shipped.py            # ~3 min on 2 cores; writes eval_tuned.json

The figures in models/EVAL.md section 1 come from this run: the same file, loaded the way
`create_analyzer` loads it (fp16 weights in fp32 on CPU), on the whole shared dev split.
"""

from __future__ import annotations

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

SHARED = ROOT.parent / "shared" / "data" / "reviews"


def main() -> None:
    dev = pl.read_csv(SHARED / "marc_dev.csv").sort("id")
    analyzer = create_analyzer()
    t0 = time.time()
    _, probs = analyzer._embed_and_stars(dev["text"].to_list())
    stars, langs = dev["stars"].to_numpy(), dev["lang"].to_numpy()
    report = {"model": str(TUNED_TOP_FILE.relative_to(ROOT)), "device": "cpu (fp32)",
              "temperature": analyzer.tuned.temperature, "seconds": round(time.time() - t0),
              "all": sentiment_metrics(stars, probs), "languages": {}}
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        report["languages"][lang] = sentiment_metrics(stars[m], probs[m])
    (ROOT / "models" / "eval_tuned.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["all"], indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
