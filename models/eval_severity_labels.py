"""Severity against the hand-labelled set (`models/severity_labels.csv`, rules in
`models/SEVERITY_LABELS.md`): 4-class macro-F1 over counterfeit / damage / delay / other and
counterfeit recall, overall and per stratum. The texts are read from the shared MARC train split
by id (they are not in this repository); the labelled ids must stay out of any training.

    .venv/bin/python models/eval_severity_labels.py [--shared ../shared/data/reviews]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl
from sklearn.metrics import classification_report, confusion_matrix, f1_score

HERE = Path(__file__).resolve().parent
CLASSES = ["counterfeit", "damage", "delay", "other"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data" / "reviews")
    ap.add_argument("--labels", type=Path, default=HERE / "severity_labels.csv",
                    help="severity_labels_dev.csv or counterfeit_labels_dev.csv for choices; "
                         "the test set only to report")
    ap.add_argument("--report", type=Path, default=HERE / "eval_severity_labels.json")
    args = ap.parse_args(argv)
    labels = pl.read_csv(args.labels)
    if "stratum" not in labels.columns:  # the dev set was drawn at random only
        labels = labels.with_columns(pl.lit("random").alias("stratum"))
    texts = pl.read_csv(args.shared / "marc_train.csv").select("id", "stars", "text")
    data = labels.join(texts, on="id", how="inner")
    assert data.height == labels.height, "some labelled ids are missing from the shared split"
    data = data.filter(pl.col("label") != "none")  # not a complaint: no category to compare

    from monitor.scoring import create_analyzer

    analyzer = create_analyzer(device="cpu")
    scores = analyzer.score(data["text"].to_list(), ratings=data["stars"].cast(pl.Float64).to_list(),
                            langs=data["lang"].to_list())
    # a complaint the analyzer calls "none" (its text read as positive) is a miss of "other"
    data = data.with_columns(pl.Series("predicted", [s.category if s.category != "none" else "other"
                                                     for s in scores]))
    if "not_counterfeit" in data["label"].to_list():  # counterfeit_labels_dev.csv: one question
        report = counterfeit_report(data)
        args.report.write_text(json.dumps(report, indent=2))
        print(json.dumps({k: v for k, v in report.items() if k != "errors"}))
        return
    report = {}
    for name, part in [("all", data), *[(s, data.filter(pl.col("stratum") == s))
                                        for s in ("random", "keyword")]]:
        if part.is_empty():
            report[name] = {"n": 0}
            continue
        y, p = part["label"].to_list(), part["predicted"].to_list()
        present = [c for c in CLASSES if c in y]
        report[name] = {
            "n": part.height, "counts": {c: y.count(c) for c in CLASSES},
            "macro_f1": round(f1_score(y, p, labels=present, average="macro", zero_division=0), 3),
            "per_class": {c: {k: round(v, 3) for k, v in r.items()} for c, r in
                          classification_report(y, p, labels=present, output_dict=True,
                                                zero_division=0).items() if c in present},
            "confusion": {"labels": CLASSES,
                          "matrix": confusion_matrix(y, p, labels=CLASSES).tolist()},
        }
    misses = data.filter(pl.col("label") != pl.col("predicted")).select("id", "label", "predicted")
    report["errors"] = misses.to_dicts()  # ids only: the texts stay in the shared split
    args.report.write_text(json.dumps(report, indent=2))
    for name in ("all", "random", "keyword"):
        r = report[name]
        if not r["n"]:
            continue
        print(name, r["n"], "macro-F1", r["macro_f1"],
              {c: (v["precision"], v["recall"], v["f1-score"]) for c, v in r["per_class"].items()})


def counterfeit_report(data: pl.DataFrame) -> dict:
    """Precision and recall of level 1 on a set labelled counterfeit / not_counterfeit, overall
    and per language (`counterfeit_labels_dev.csv`: authenticity-word hits, mostly not claims)."""
    def figures(part: pl.DataFrame) -> dict:
        truth = part["label"] == "counterfeit"
        called = part["predicted"] == "counterfeit"
        hits = int((truth & called).sum())
        return {"n": part.height, "claims": int(truth.sum()), "called": int(called.sum()),
                "found": hits, "recall": round(hits / max(int(truth.sum()), 1), 3),
                "precision": round(hits / max(int(called.sum()), 1), 3)}

    report = {"all": figures(data), "languages": {
        lang: figures(data.filter(pl.col("lang") == lang)) for lang in sorted(set(data["lang"]))}}
    wrong = data.filter((pl.col("label") == "counterfeit") != (pl.col("predicted") == "counterfeit"))
    report["errors"] = wrong.select("id", "label", "predicted").to_dicts()  # ids only
    return report


if __name__ == "__main__":
    main()
