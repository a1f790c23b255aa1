"""Score the external development sets (../shared/data/external: markets MARC lacks) with the
shipped analyzer and report what models/EVAL.md shows for them. Evaluation only: nothing here is
trained on these sets (their README forbids it).

    python models/eval_external.py            # -> models/eval_external.json
    MONITOR_JUDGEMENT=v1 python models/eval_external.py --out var/eval_external_v1.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SETS = {  # file: what is measured
    "pt_b2w_reviews01.csv": "3class", "ar_souq_prod.csv": "3class",
    "tr_magaza_yorumlari.csv": "3class", "zh_online_shopping_10_cats.csv": "binary",
    "zh_waimai_10k.csv": "binary", "en_complaints_tweets.csv": "complaints",
}
LABELS = ("negative", "neutral", "positive")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def evaluate(name: str, kind: str, frame: pl.DataFrame, scores) -> dict:
    from sklearn.metrics import f1_score

    pred = np.array([s.sentiment for s in scores])
    needs = np.array([s.needs_response for s in scores])
    out: dict = {"rows": frame.height}
    if kind == "complaints":
        complaint = (frame["label"].fill_null("") == "negative").to_numpy()
        out["needs_response_recall"] = round(float(needs[complaint].mean()), 3)
        out["non_complaints_flagged"] = round(float(needs[~complaint].mean()), 3)
        return out
    gold = frame["label"].to_numpy()
    negative = gold == "negative"
    out["negative_recall"] = round(float((pred[negative] == "negative").mean()), 3)
    if kind == "3class":
        out["macro_f1_3class"] = round(float(f1_score(gold, pred, labels=list(LABELS),
                                                      average="macro")), 3)
        out["neutral_recall"] = round(float((pred[gold == "neutral"] == "neutral").mean()), 3)
    else:  # binary sets: a neutral call counts as not negative
        binary = np.where(pred == "negative", "negative", "positive")
        out["binary_accuracy"] = round(float((binary == gold).mean()), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "eval_external.json")
    args = parser.parse_args()
    from monitor.scoring import create_analyzer

    analyzer = create_analyzer(device="cpu")
    report = {"engine": analyzer.judgement, "precision": analyzer.encoder.precision,
              "quantize": analyzer.quantize, "cpu": cpu_name(), "sets": {}}
    for name, kind in SETS.items():
        frame = pl.read_csv(EXTERNAL / name, schema_overrides={"stars": pl.Float64,
                                                               "label": pl.String})
        started = time.perf_counter()
        scores = analyzer.score(frame["text"].to_list(), langs=frame["lang"].to_list())
        result = evaluate(name, kind, frame, scores)
        result["seconds"] = round(time.perf_counter() - started, 1)
        report["sets"][name] = result
        print(name, result, flush=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
