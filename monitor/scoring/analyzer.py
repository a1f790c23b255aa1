"""The review analyzer: one encoder pass per review feeds sentiment, stars and severity."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..langid import detect_language
from ..schema import ReviewScore, needs_response
from ..settings import MODELS_DIR, Settings
from .encoder import TextEncoder
from .sentiment import SENTIMENTS, SentimentHead, sentiment_probabilities
from .severity import SeverityClassifier

SENTIMENT_HEAD_FILE = MODELS_DIR / "sentiment_head.npz"


class ReviewAnalyzer:
    """Scores reviews: sentiment with probabilities, a star estimate, complaint category and evidence."""

    def __init__(self, encoder: TextEncoder, head: SentimentHead, severity: SeverityClassifier):
        self.encoder = encoder
        self.head = head
        self.severity = severity

    def score(self, texts: Sequence[str | None], *, ratings: Sequence[float | None] | None = None,
              langs: Sequence[str | None] | None = None) -> list[ReviewScore]:
        """Score each text; `ratings` (given stars) and `langs` (known languages) are optional."""
        clean = [t if isinstance(t, str) else "" for t in texts]
        if not clean:
            return []
        emb = self.encoder.embed(clean)
        star_p = self.head.star_probabilities(emb)
        sent_p = sentiment_probabilities(star_p)
        expected = star_p @ np.arange(1, 6)
        sev = self.severity.assess(clean, emb, sent_p[:, 0], sent_p[:, 2], ratings)
        out = []
        for i, text in enumerate(clean):
            k = int(sent_p[i].argmax())
            rating = ratings[i] if ratings is not None else None
            lang = (langs[i] if langs is not None else None) or detect_language(text)
            out.append(ReviewScore(
                sentiment=SENTIMENTS[k],
                p_negative=float(sent_p[i, 0]), p_neutral=float(sent_p[i, 1]),
                p_positive=float(sent_p[i, 2]),
                stars_pred=float(expected[i]), confidence=float(sent_p[i, k]),
                category=sev[i].category.value, severity=sev[i].severity,
                evidence=sev[i].evidence,
                needs_response=needs_response(SENTIMENTS[k], sev[i].severity, rating),
                lang=lang,
            ))
        return out


def create_analyzer(settings: Settings | None = None, *, device: str | None = None,
                    head_path: Path | None = None) -> ReviewAnalyzer:
    """Build the analyzer from the packaged multilingual-e5-small and the trained head in models/."""
    settings = settings or Settings.from_env()
    head_path = head_path or SENTIMENT_HEAD_FILE
    if not head_path.exists():
        raise FileNotFoundError(
            f"sentiment head {head_path} is missing: run `python models/train_sentiment.py`")
    encoder = TextEncoder.from_cache(settings.cache_dir, max_length=settings.max_length,
                                     batch_size=settings.batch_size,
                                     device=device or settings.device)
    return ReviewAnalyzer(encoder, SentimentHead.load(head_path), SeverityClassifier(encoder.embed))
