"""Describe what severity does on real reviews: category mix per language on the MARC dev split.

    .venv/bin/python models/check_severity.py

There are no category labels in MARC, so this is a description, not an accuracy: the share of
negative (1-2 star) reviews put in each category, the share of positive (4-5 star) reviews given
any complaint category, and how many categories came from phrases vs the embedding. Writes
models/eval_severity.json. Uses the dev embeddings cached by train_sentiment.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "models"))

from train_sentiment import SHARED, embed_cached  # noqa: E402

from monitor.scoring.encoder import TextEncoder  # noqa: E402
from monitor.scoring.sentiment import SentimentHead, sentiment_probabilities  # noqa: E402
from monitor.scoring.severity import SeverityClassifier  # noqa: E402
from monitor.settings import Settings  # noqa: E402


def shipped_star_probabilities(dev: pl.DataFrame, x: np.ndarray, settings: Settings) -> np.ndarray:
    """Star probabilities from the model `monitor score` ships: the tuned top when present."""
    tuned_path = ROOT / "monitor" / "model_files" / "tuned_top.safetensors"
    if not tuned_path.exists():
        return SentimentHead.load(ROOT / "monitor" / "model_files" / "sentiment_head.npz").star_probabilities(x)
    import torch
    from finetune_top import lower_states, predict

    from monitor.scoring.tuned import TunedTop

    top = TunedTop.load(tuned_path)
    states = lower_states(dev["text"].to_list(), top.start, settings.max_length, "dev")
    order, z = predict(top, states, list(range(dev.height)))
    probs = np.zeros((dev.height, 5))
    probs[order] = torch.softmax(torch.tensor(z) / top.temperature, -1).numpy()
    return probs


def main() -> None:
    settings = Settings.from_env()
    encoder = TextEncoder.from_cache(settings.cache_dir, max_length=settings.max_length)
    dev = (pl.read_csv(SHARED / "marc_dev.csv")
           .filter(pl.int_range(pl.len()).over("lang") < 2500).sort("id"))
    x = embed_cached(dev["text"].to_list(), "dev", lambda: encoder)
    sent = sentiment_probabilities(shipped_star_probabilities(dev, x, settings))
    from monitor.scoring.analyzer import SEVERITY_HEAD_FILE
    from monitor.scoring.severity import SeverityHead

    head = SeverityHead.load(SEVERITY_HEAD_FILE) if SEVERITY_HEAD_FILE.exists() else None
    results = SeverityClassifier(encoder.embed, head=head).assess(
        dev["text"].to_list(), x, sent[:, 0], sent[:, 2], dev["stars"].cast(pl.Float64).to_list())
    df = dev.with_columns(pl.Series("category", [r.category.value for r in results]),
                          pl.Series("source", [r.source for r in results]))
    cats = ["counterfeit", "damage", "delay", "other"]
    neg = (df.filter(pl.col("stars") <= 2).group_by("lang")
           .agg([(pl.col("category") == c).mean().round(4).alias(c) for c in cats]).sort("lang"))
    pos = (df.filter(pl.col("stars") >= 4).group_by("lang")
           .agg((pl.col("category").is_in(["counterfeit", "damage", "delay"])).mean().round(4)
                .alias("positive_with_severity"),
                (pl.col("category") == "other").mean().round(4).alias("positive_called_other"))
           .sort("lang"))
    report = {"negative_reviews_category_share": neg.to_dicts(),
              "positive_reviews": pos.to_dicts(),
              "source_counts": dict(zip(*df.group_by("source").len().sort("source")
                                        .to_dict(as_series=False).values()))}
    (ROOT / "models" / "eval_severity.json").write_text(json.dumps(report, indent=2) + "\n")
    print(neg)
    print(pos)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
