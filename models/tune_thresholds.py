"""Choose per-language sentiment decision bars on the external development sets (markets MARC
lacks), as their README allows: calibration, never training. Two numbers per language: the
probability at which a review is called negative, and then neutral.

For pt, ar and tr (3-class sets): the bars with the best macro-F1 among those that keep the
negative recall at 0.85 or more. For zh (two binary sets): the negative bar with the best mean
accuracy, kept only if the MARC dev zh 3-class macro-F1 does not fall by more than 0.01.

    python models/tune_thresholds.py   # -> monitor/model_files/sentiment_decision.json
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import polars as pl

from review_sets import ROOT, SHARED

sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from monitor.scoring.sentiment import (DECISION_FILE, decide_sentiment,  # noqa: E402
                                       sentiment_probabilities, stars_to_sentiment)

EXTERNAL = ROOT.parent / "shared" / "data" / "external"
THREE_CLASS = {"pt": "pt_b2w_reviews01.csv", "ar": "ar_souq_prod.csv",
               "tr": "tr_magaza_yorumlari.csv"}
BINARY_ZH = ("zh_online_shopping_10_cats.csv", "zh_waimai_10k.csv")
GRID = np.round(np.arange(0.15, 0.66, 0.025), 3)
LABEL = {"negative": 0, "neutral": 1, "positive": 2}


def probabilities(analyzer, texts: list[str]) -> np.ndarray:
    _, star_p, _ = analyzer._pass(texts)
    return sentiment_probabilities(star_p)


def decide_all(p: np.ndarray, bars: dict | None) -> np.ndarray:
    return np.array([decide_sentiment(row, bars) for row in p])


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, labels=[0, 1, 2], average="macro"))


def main() -> None:
    from monitor.scoring import create_analyzer

    analyzer = create_analyzer(device="cpu")
    chosen, report = {}, {}
    for lang, name in THREE_CLASS.items():
        frame = pl.read_csv(EXTERNAL / name, schema_overrides={"stars": pl.Float64})
        p = probabilities(analyzer, frame["text"].to_list())
        gold = np.array([LABEL[x] for x in frame["label"]])
        base = decide_all(p, None)
        best = None
        for neg in GRID:
            for neu in GRID:
                pred = decide_all(p, {"negative": neg, "neutral": neu})
                recall = float((pred[gold == 0] == 0).mean())
                f1 = macro_f1(gold, pred)
                key = (recall >= 0.85, f1)
                if best is None or key > best[0]:
                    best = (key, {"negative": float(neg), "neutral": float(neu)}, recall, f1)
        _, bars, recall, f1 = best
        chosen[lang] = bars
        report[lang] = {"argmax": {"macro_f1": round(macro_f1(gold, base), 3),
                                   "negative_recall": round(float((base[gold == 0] == 0).mean()),
                                                            3)},
                        "bars": bars, "macro_f1": round(f1, 3), "negative_recall": round(recall, 3)}
        print(lang, report[lang], flush=True)

    zh = [pl.read_csv(EXTERNAL / n) for n in BINARY_ZH]
    zh_p = [probabilities(analyzer, f["text"].to_list()) for f in zh]
    zh_gold = [(f["label"] == "negative").to_numpy() for f in zh]

    def zh_accuracy(bars):
        return float(np.mean([((decide_all(p, bars) == 0) == g).mean()
                              for p, g in zip(zh_p, zh_gold)]))

    best_neg = max(GRID, key=lambda t: zh_accuracy({"negative": float(t)}))
    dev = pl.read_csv(SHARED / "marc_dev.csv").filter(pl.col("lang") == "zh")
    dev_p = probabilities(analyzer, dev["text"].to_list())
    dev_gold = stars_to_sentiment(dev["stars"].to_numpy())
    before = macro_f1(dev_gold, decide_all(dev_p, None))
    after = macro_f1(dev_gold, decide_all(dev_p, {"negative": float(best_neg)}))
    report["zh"] = {"argmax_accuracy": round(zh_accuracy(None), 3),
                    "bar": float(best_neg), "accuracy": round(zh_accuracy(
                        {"negative": float(best_neg)}), 3),
                    "marc_dev_zh_macro_f1": {"argmax": round(before, 3), "bar": round(after, 3)}}
    if after >= before - 0.01:
        chosen["zh"] = {"negative": float(best_neg)}
    report["zh"]["kept"] = "zh" in chosen
    print("zh", report["zh"], flush=True)
    DECISION_FILE.write_text(json.dumps({
        "chosen_on": "../shared/data/external development halves (calibration only)",
        "languages": chosen}, indent=1) + "\n")
    (ROOT / "models" / "eval_thresholds.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {DECISION_FILE}")


if __name__ == "__main__":
    main()
