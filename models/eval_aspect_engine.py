"""The shipped analyzer's complaint calls on the hand-labelled test split (models/aspect_labels.csv,
split == test), for both engines: `aspects` (one pass, the default) and `v1` (phrases + a second
pass), with the buyer's star rating given as marketplaces give it.

    python models/eval_aspect_engine.py        # -> models/eval_aspect_engine.json
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import polars as pl

from review_sets import ROOT, SHARED

sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from monitor.aspects import ASPECTS, category_of, split  # noqa: E402

SEVERITY_CLASSES = ["counterfeit", "damage", "delay", "other"]


def metrics(engine: str, gold_sets: list[set[str]], scores) -> dict:
    """Severity (and, for the aspects engine, per-aspect) figures of `scores` against the labels."""
    from sklearn.metrics import f1_score

    gold_cat = [category_of(g) for g in gold_sets]
    pred_cat = [s.category for s in scores]
    complaints = [i for i, g in enumerate(gold_cat) if g != "none"]
    out = {"reviews": len(scores),
           "severity_macro_f1_complaints": round(float(f1_score(
               [gold_cat[i] for i in complaints], [pred_cat[i] for i in complaints],
               labels=SEVERITY_CLASSES, average="macro", zero_division=0)), 3),
           "severity_per_class": {}}
    for cls in SEVERITY_CLASSES[:3]:
        g = np.array([c == cls for c in gold_cat])
        p = np.array([c == cls for c in pred_cat])
        tp = float((g & p).sum())
        out["severity_per_class"][cls] = {
            "precision": round(tp / max(p.sum(), 1), 3), "recall": round(tp / max(g.sum(), 1), 3),
            "support": int(g.sum())}
    if engine == "aspects":
        per = {}
        for a in ASPECTS:
            g = np.array([a in s for s in gold_sets])
            p = np.array([a in s.aspects for s in scores])
            tp = float((g & p).sum())
            prec, rec = tp / max(p.sum(), 1), tp / max(g.sum(), 1)
            per[a] = {"precision": round(prec, 3), "recall": round(rec, 3),
                      "f1": round(2 * prec * rec / max(prec + rec, 1e-9), 3),
                      "support": int(g.sum())}
        out["per_aspect"] = per
        out["aspect_macro_f1"] = round(float(np.mean([v["f1"] for v in per.values()])), 3)
        praise = [i for i, g in enumerate(gold_sets) if not g]
        out["praise_with_an_aspect"] = round(float(np.mean(
            [bool(scores[i].aspects) for i in praise])), 3) if praise else None
    return out


def measure(engine: str, frame: pl.DataFrame) -> dict:
    """Score the test split with `engine`; figures on all of it and on each labelling round."""
    os.environ["MONITOR_JUDGEMENT"] = engine
    from monitor.scoring import create_analyzer

    analyzer = create_analyzer(device="cpu")
    started = time.perf_counter()
    scores = analyzer.score(frame["text"].to_list(), ratings=frame["stars"].to_list(),
                            langs=frame["lang"].to_list())
    seconds = time.perf_counter() - started
    gold_sets = [set(split(c)) for c in frame["aspects"].to_list()]
    out = {"engine": analyzer.judgement, "precision": analyzer.encoder.precision,
           "seconds": round(seconds, 1), **metrics(engine, gold_sets, scores)}
    rounds = frame["round"].to_list()
    out["per_round"] = {
        str(r): metrics(engine, [g for g, x in zip(gold_sets, rounds) if x == r],
                        [s for s, x in zip(scores, rounds) if x == r])
        for r in sorted(set(rounds))}
    return out


def main() -> None:
    labels = pl.read_csv(ROOT / "models" / "aspect_labels.csv",
                         schema_overrides={"aspects": pl.String}).with_columns(
        pl.col("aspects").fill_null(""))
    texts = pl.read_csv(SHARED / "marc_train.csv").select("id", "text")
    test = labels.filter(pl.col("split") == "test").join(texts, on="id").with_columns(
        pl.col("stars").cast(pl.Float64))
    report = {engine: measure(engine, test) for engine in ("aspects", "v1")}
    print(json.dumps(report, indent=1))
    (ROOT / "models" / "eval_aspect_engine.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
