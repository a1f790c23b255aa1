"""The star head: embeddings -> probabilities over 1-5 stars -> 3-class sentiment.

One 5-way softmax carries everything: sentiment probabilities are sums of star probabilities
(1-2 negative, 3 neutral, 4-5 positive, as in every evaluation here), `stars_pred` is the
expected star value, and confidence is the probability of the chosen sentiment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

STAR_LABELS = ["1", "2", "3", "4", "5"]
SENTIMENTS = ("negative", "neutral", "positive")
# columns of the star-probability matrix that make up each sentiment
SENTIMENT_STARS = {"negative": (0, 1), "neutral": (2,), "positive": (3, 4)}


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sentiment_probabilities(star_probs: np.ndarray) -> np.ndarray:
    """(n, 5) star probabilities -> (n, 3) negative/neutral/positive probabilities."""
    return np.stack([star_probs[:, list(cols)].sum(axis=1) for cols in SENTIMENT_STARS.values()],
                    axis=1)


DECISION_FILE = Path(__file__).resolve().parent.parent / "model_files" / "sentiment_decision.json"


def load_decision_thresholds(path: Path = DECISION_FILE) -> dict[str, dict[str, float]]:
    """Per-language decision bars, {"ar": {"negative": 0.3, "neutral": 0.25}, ...}: chosen on
    real reviews from markets the training data lacks (models/tune_thresholds.py); a language
    not listed keeps the plain argmax."""
    import json

    if not path.exists():
        return {}
    return {lang: {k: float(v) for k, v in bars.items()}
            for lang, bars in json.loads(path.read_text(encoding="utf-8"))["languages"].items()}


def decide_sentiment(probs: np.ndarray, bars: dict[str, float] | None) -> int:
    """The sentiment index for one row of negative/neutral/positive probabilities: negative
    once its probability reaches the language's bar, else neutral once its bar is reached, else
    the likelier of the two others; without bars, the most probable."""
    if not bars:
        return int(probs.argmax())
    if probs[0] >= bars.get("negative", 1.01):
        return 0
    if probs[1] >= bars.get("neutral", 1.01):
        return 1
    if "negative" in bars:  # below its bar, negative is out: the likelier of the other two
        return 1 if probs[1] > probs[2] else 2
    return int(probs.argmax())


def stars_to_sentiment(stars: np.ndarray) -> np.ndarray:
    """Map 1-5 star ratings to class indices 0 negative, 1 neutral, 2 positive."""
    stars = np.asarray(stars)
    return np.where(stars <= 2, 0, np.where(stars == 3, 1, 2))


@dataclass
class SentimentHead:
    """A linear softmax layer over sentence embeddings, with a calibration temperature."""

    weight: np.ndarray  # (5, dim)
    bias: np.ndarray  # (5,)
    temperature: float = 1.0
    meta: dict = field(default_factory=dict)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight.T + self.bias

    def star_probabilities(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x) / self.temperature)

    def fit_temperature(self, x: np.ndarray, y: np.ndarray) -> float:
        """Temperature that minimises negative log-likelihood on held-out data (grid search)."""
        z = self.logits(x)
        best_t, best_nll = 1.0, np.inf
        for t in np.linspace(0.5, 3.0, 51):
            p = softmax(z / t)[np.arange(len(y)), y]
            nll = -np.log(np.clip(p, 1e-12, None)).mean()
            if nll < best_nll:
                best_t, best_nll = float(t), nll
        return best_t

    def save(self, path: Path) -> None:
        np.savez(path, weight=self.weight, bias=self.bias, temperature=np.array(self.temperature))

    @classmethod
    def load(cls, path: Path) -> "SentimentHead":
        with np.load(path) as f:
            return cls(weight=f["weight"].astype(np.float32), bias=f["bias"].astype(np.float32),
                       temperature=float(f["temperature"]))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (confidence > lo) & (confidence <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - confidence[m].mean())
    return float(ece)


def sentiment_metrics(true_stars: np.ndarray, star_probs: np.ndarray) -> dict:
    """The evaluation figures reported in models/EVAL.md for one set of reviews."""
    from sklearn.metrics import f1_score

    true_stars = np.asarray(true_stars)
    pred_stars = star_probs.argmax(axis=1) + 1
    expected = star_probs @ np.arange(1, 6)
    sent_p = sentiment_probabilities(star_probs)
    sent_pred = sent_p.argmax(axis=1)
    sent_true = stars_to_sentiment(true_stars)
    conf = sent_p.max(axis=1)
    return {
        "n": int(len(true_stars)),
        "macro_f1_3class": round(float(f1_score(sent_true, sent_pred, average="macro")), 4),
        "star_exact": round(float((pred_stars == true_stars).mean()), 4),
        "star_off_by_one": round(float((abs(pred_stars - true_stars) <= 1).mean()), 4),
        "star_mae": round(float(abs(pred_stars - true_stars).mean()), 4),
        "expected_star_mae": round(float(abs(expected - true_stars).mean()), 4),
        "ece_3class": round(expected_calibration_error(conf, sent_pred == sent_true), 4),
    }
