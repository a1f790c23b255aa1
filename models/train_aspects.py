"""Fit the complaint-aspect head on the hand-labelled reviews (models/aspect_labels.csv) and
measure it on their test split.

The head reads features from the same encoder pass that gives the stars
(`ReviewAnalyzer.aspect_features`), computed once on the CPU; it is one logistic classifier per
aspect with a decision threshold chosen by cross-validation on the train split alone.

    python models/train_aspects.py            # -> monitor/model_files/aspect_head.npz, models/eval_aspects.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from review_sets import ROOT, SHARED

sys.path.insert(0, str(ROOT))  # the monitor package, when run from a plain checkout

from monitor.aspects import ASPECTS, category_of, split  # noqa: E402

LABELS = ROOT / "models" / "aspect_labels.csv"
HEAD_OUT = ROOT / "monitor" / "model_files" / "aspect_head.npz"
REPORT_OUT = ROOT / "models" / "eval_aspects.json"
FEATURE_CACHE = Path(os.environ.get("ASPECT_FEATURE_CACHE", "/tmp/aspect_features.npz"))
C_GRID = (0.03, 0.1, 0.3, 1.0)
SEVERITY_CLASSES = ("counterfeit", "damage", "delay", "other")


def labelled() -> pl.DataFrame:
    labels = pl.read_csv(LABELS, schema_overrides={"aspects": pl.String}).with_columns(
        pl.col("aspects").fill_null(""))
    texts = pl.read_csv(SHARED / "marc_train.csv").select("id", "text")
    return labels.join(texts, on="id", how="left")


def features(frame: pl.DataFrame) -> np.ndarray:
    """Aspect features of every labelled review, cached by id (computing them takes a minute)."""
    ids = frame["id"].to_list()
    if FEATURE_CACHE.exists():
        cached = np.load(FEATURE_CACHE, allow_pickle=False)
        known = {i: k for k, i in enumerate(cached["ids"].tolist())}
        if all(i in known for i in ids):
            return cached["x"][[known[i] for i in ids]]
    os.environ.setdefault("MONITOR_PRECISION", "fp32")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from monitor.scoring import create_analyzer

    analyzer = create_analyzer(device="cpu")
    started = time.perf_counter()
    x = analyzer.aspect_features(frame["text"].to_list())
    print(f"features of {len(ids)} reviews in {time.perf_counter() - started:.0f} s")
    np.savez(FEATURE_CACHE, ids=np.array(ids), x=x)
    return x


def targets(frame: pl.DataFrame) -> np.ndarray:
    y = np.zeros((frame.height, len(ASPECTS)), dtype=np.int8)
    for row, cell in enumerate(frame["aspects"].to_list()):
        for aspect in split(cell):
            y[row, ASPECTS.index(aspect)] = 1
    return y


def fit_one(x, y, c):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x, y)


def out_of_fold(x, y, c, folds=5, seed=0):
    """Cross-validated probabilities on the train split, for choosing C and the threshold."""
    from sklearn.model_selection import StratifiedKFold

    p = np.zeros(len(y))
    for tr, va in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        p[va] = fit_one(x[tr], y[tr], c).predict_proba(x[va])[:, 1]
    return p


def best_threshold(p, y) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    grid = np.linspace(0.2, 0.9, 29)
    scores = [f1_score(y, p >= t, zero_division=0) for t in grid]
    k = int(np.argmax(scores))
    return float(grid[k]), float(scores[k])


def prf(pred, gold) -> dict:
    from sklearn.metrics import f1_score, precision_score, recall_score

    return {"precision": round(float(precision_score(gold, pred, zero_division=0)), 3),
            "recall": round(float(recall_score(gold, pred, zero_division=0)), 3),
            "f1": round(float(f1_score(gold, pred, zero_division=0)), 3),
            "support": int(gold.sum())}


def main() -> None:
    from sklearn.metrics import f1_score

    frame = labelled()
    missing = frame.filter(pl.col("text").is_null()).height
    if missing:
        raise SystemExit(f"{missing} labelled ids are not in marc_train.csv")
    x_all, y_all = features(frame), targets(frame)
    train = (frame["split"] == "train").to_numpy()
    test = ~train
    mean, std = x_all[train].mean(0), x_all[train].std(0) + 1e-6
    z = (x_all - mean) / std
    weights, bias, thresholds, chosen = [], [], [], {}
    for k, aspect in enumerate(ASPECTS):
        y = y_all[train, k]
        tried = {}
        for c in C_GRID:
            p = out_of_fold(z[train], y, c)
            tried[c] = (*best_threshold(p, y), p)
        c = max(tried, key=lambda c: tried[c][1])
        threshold, cv_f1, _ = tried[c]
        model = fit_one(z[train], y, c)
        weights.append(model.coef_[0])
        bias.append(model.intercept_[0])
        thresholds.append(threshold)
        chosen[aspect] = {"C": c, "threshold": round(threshold, 3), "cv_f1": round(cv_f1, 3)}
        print(f"{aspect:17s} C={c:<5} threshold={threshold:.2f} cv F1={cv_f1:.3f} "
              f"(train positives {int(y.sum())})")
    w, b, t = np.array(weights, np.float32), np.array(bias, np.float32), np.array(thresholds)
    prob = 1 / (1 + np.exp(-(z[test] @ w.T + b)))
    pred = prob >= t
    gold = y_all[test].astype(bool)
    per_aspect = {a: prf(pred[:, k], gold[:, k]) for k, a in enumerate(ASPECTS)}
    macro = float(np.mean([per_aspect[a]["f1"] for a in ASPECTS]))
    names = np.array(ASPECTS)
    pred_cat = [category_of(names[row]) for row in pred]
    gold_cat = [category_of(names[row]) for row in gold]
    complaints = [i for i, g in enumerate(gold_cat) if g != "none"]
    sev_f1 = f1_score([gold_cat[i] for i in complaints], [pred_cat[i] for i in complaints],
                      labels=list(SEVERITY_CLASSES), average="macro", zero_division=0)
    sev_f1_all = f1_score(gold_cat, pred_cat, labels=list(SEVERITY_CLASSES) + ["none"],
                          average="macro", zero_division=0)
    test_frame = frame.filter(pl.Series(test))
    by_lang = {}
    for lang in sorted(set(test_frame["lang"])):
        rows = (test_frame["lang"] == lang).to_numpy()
        by_lang[lang] = round(float(np.mean([f1_score(gold[rows, k], pred[rows, k],
                                                      zero_division=0)
                                             for k in range(len(ASPECTS))
                                             if gold[rows, k].any()])), 3)
    report = {
        "labelled": frame.height, "train": int(train.sum()), "test": int(test.sum()),
        "aspect_macro_f1": round(macro, 3), "per_aspect": per_aspect,
        "severity_macro_f1_complaints": round(float(sev_f1), 3),
        "severity_macro_f1_with_none": round(float(sev_f1_all), 3),
        "aspect_macro_f1_by_language": by_lang, "fit": chosen,
        "features": "star layers' pooled output + mean of their input token states (768)",
    }
    print(json.dumps({k: v for k, v in report.items() if k != "fit"}, indent=1))
    np.savez(HEAD_OUT, aspects=np.array(ASPECTS), mean=mean.astype(np.float32),
             std=std.astype(np.float32), weight=w, bias=b, threshold=t.astype(np.float32))
    REPORT_OUT.write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {HEAD_OUT}, {REPORT_OUT}")


if __name__ == "__main__":
    main()
