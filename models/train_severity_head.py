"""Train the severity head: a logistic classifier over the e5 embedding of negative reviews,
labelled by the phrase rules (silver labels), used for negative reviews that hold no phrase.

    .venv/bin/python models/train_severity_head.py            # ~4 min on 2 cores, then cached

Data: 1,200 random 1-2 star reviews per language from the shared train split (seed 7), none of
them in the hand-labelled test or dev sets (the counterfeit dev set included). Label: the first category whose phrase the rules find
(counterfeit > damage > delay), else "other". The head learns which regions of the embedding
space such complaints live in, and so also names the ones written without a listed phrase.
Class weights are balanced; C and the probability bars were chosen on the hand-labelled dev set
(`severity_labels_dev.csv`) only. Writes monitor/model_files/severity_head.npz (4 x 384 weights, 6 KB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "models"))

from monitor.scoring.severity import RANKED, SeverityHead, find_phrases  # noqa: E402
from review_sets import SHARED, labelled_ids  # noqa: E402

CACHE = ROOT / "var" / "sev"


def silver_label(text: str) -> str:
    matches = find_phrases(text or "")
    return next((m.category.value for cat in RANKED for m in matches if m.category == cat), "other")


def training_set(per_lang: int) -> pl.DataFrame:
    train = pl.read_csv(SHARED / "marc_train.csv").filter(
        (pl.col("stars") <= 2) & ~pl.col("id").is_in(labelled_ids()))
    train = train.filter(pl.int_range(pl.len()).shuffle(seed=7).over("lang") < per_lang)
    return train.with_columns(pl.col("text").map_elements(silver_label, return_dtype=pl.String)
                              .alias("silver"))


def embeddings(train: pl.DataFrame) -> np.ndarray:
    """Base e5 embeddings, cached under var/sev/ (with the ids they belong to)."""
    meta, emb = CACHE / "meta.parquet", CACHE / "emb.npy"
    if meta.exists() and emb.exists() and pl.read_parquet(meta)["id"].equals(train["id"]):
        return np.load(emb)
    from monitor.scoring.encoder import TextEncoder
    from monitor.settings import Settings

    settings = Settings.from_env()
    x = TextEncoder.from_cache(settings.cache_dir, max_length=settings.max_length).embed(
        train["text"].to_list())
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(emb, x)
    train.select("id", "lang", "silver").write_parquet(meta)
    return x


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-lang", type=int, default=1200)
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--min-damage", type=float, default=0.5)
    ap.add_argument("--min-delay", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=ROOT / "monitor" / "model_files" / "severity_head.npz")
    args = ap.parse_args()
    train = training_set(args.per_lang)
    x = embeddings(train)
    y = train["silver"].to_numpy()
    clf = LogisticRegression(C=args.C, max_iter=3000, class_weight="balanced").fit(x, y)
    head = SeverityHead(clf.coef_, clf.intercept_, tuple(str(c) for c in clf.classes_),
                        {"damage": args.min_damage, "delay": args.min_delay})
    counts = dict(zip(*np.unique(y, return_counts=True)))
    head.save(args.out, meta={"C": args.C, "per_lang": args.per_lang, "seed": 7,
                              "silver_counts": {str(k): int(v) for k, v in counts.items()}})
    print(f"wrote {args.out}: {len(y)} reviews, silver labels {counts}")


if __name__ == "__main__":
    main()
