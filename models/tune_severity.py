"""Choose the embedding cut-offs of severity (damage, delay) on the hand-labelled **dev** set
(`severity_labels_dev.csv`), never on the test set (`severity_labels.csv`).

    .venv/bin/python models/tune_severity.py

Sweeps the two cut-offs and the margin over generic complaints, keeps the settings whose damage
and delay precision on dev stay within 0.05 of today's (a level-2/3 case must rarely be a false
alarm), and prints them by dev macro-F1. Counterfeit is
left to phrases (see EVAL.md). Texts come from the shared MARC train split by id.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import f1_score, precision_score

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data" / "reviews"
CLASSES = ["counterfeit", "damage", "delay", "other"]


def main() -> None:
    from monitor.schema import Category
    from monitor.scoring import create_analyzer

    dev = (pl.read_csv(HERE / "severity_labels_dev.csv").filter(pl.col("label") != "none")
           .join(pl.read_csv(SHARED / "marc_train.csv").select("id", "stars", "text"), on="id"))
    test_ids = set(pl.read_csv(HERE / "severity_labels.csv")["id"])
    assert not test_ids & set(dev["id"]), "dev and test sets overlap"
    analyzer = create_analyzer(device="cpu")
    texts, y = dev["text"].to_list(), dev["label"].to_list()
    ratings = dev["stars"].cast(pl.Float64).to_list()
    rows = []
    grid = [(None, None, None)] + list(itertools.product(
        np.arange(0.840, 0.9201, 0.01), np.arange(0.850, 0.9001, 0.01), (0.0, 0.01, 0.02, 0.03)))
    for damage, delay, margin in grid:
        if damage is None:  # today's settings first: the baseline to compare with
            damage = analyzer.severity.min_similarity[Category.DAMAGE]
            delay = analyzer.severity.min_similarity[Category.DELAY]
            margin = analyzer.severity.min_margin
        analyzer.severity.min_similarity[Category.DAMAGE] = float(damage)
        analyzer.severity.min_similarity[Category.DELAY] = float(delay)
        analyzer.severity.min_margin = float(margin)
        p = [s.category if s.category != "none" else "other"
             for s in analyzer.score(texts, ratings=ratings, langs=dev["lang"].to_list())]
        present = [c for c in CLASSES if c in y]
        prec = precision_score(y, p, labels=["damage", "delay"], average=None, zero_division=1)
        rows.append({"damage": round(float(damage), 3), "delay": round(float(delay), 3),
                     "margin": round(float(margin), 3),
                     "macro_f1": round(f1_score(y, p, labels=present, average="macro"), 3),
                     "damage_precision": round(float(prec[0]), 3),
                     "delay_precision": round(float(prec[1]), 3),
                     "damage_recall": round(sum(a == b == "damage" for a, b in zip(y, p))
                                            / y.count("damage"), 3),
                     "delay_recall": round(sum(a == b == "delay" for a, b in zip(y, p))
                                           / y.count("delay"), 3)})
    base = rows[0]
    ok = [r for r in rows if r["damage_precision"] >= base["damage_precision"] - 0.05
          and r["delay_precision"] >= base["delay_precision"] - 0.05]
    # ties: the stricter setting
    ok.sort(key=lambda r: (-r["macro_f1"], -r["damage"], -r["delay"], -r["margin"]))
    (HERE / "tune_severity.json").write_text(json.dumps({"baseline": base, "kept": ok[:20],
                                                          "all": rows}, indent=1))
    print("baseline", base)
    for r in ok[:10]:
        print(r)


if __name__ == "__main__":
    main()
