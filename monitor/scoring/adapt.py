"""Adapt the star model to a seller's own rated reviews (`monitor train --from-ratings`).

The retrained layers stay as shipped; a new 5-star head is fitted on the seller's reviews
(their stars are the labels) and judged on a held-out share of them, before and after, so the
seller sees whether it helps. The layers remain the ones fine-tuned on the research-only corpus
(see models/MODEL_CARD.md): adapting the head does not by itself lift those terms.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sentiment import sentiment_metrics, softmax
from .tuned import TunedTop
from ..errors import InputError


@dataclass
class AdaptReport:
    train_rows: int
    holdout_rows: int
    before: dict
    after: dict

    def lines(self) -> list[str]:
        keys = ("macro_f1_3class", "star_exact", "star_off_by_one", "star_mae", "ece_3class")
        out = [f"trained on {self.train_rows} reviews, measured on {self.holdout_rows} held out",
               f"{'metric':<18}{'before':>8}{'after':>8}"]
        out += [f"{k:<18}{self.before[k]:>8.3f}{self.after[k]:>8.3f}" for k in keys]
        return out


def tuned_features(analyzer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(pooled features of the tuned top, current star probabilities) for each text."""
    import torch

    tuned = analyzer.tuned
    feats = np.zeros((len(texts), tuned.head.in_features), dtype=np.float32)

    def on_tap(idx, hidden, mask):
        feats[idx] = tuned.pooled(hidden, mask).float().cpu().numpy()

    analyzer.encoder.embed(texts, tap_layer=tuned.start, on_tap=on_tap)
    with torch.no_grad():
        logits = tuned.head_logits(torch.from_numpy(feats)).float().numpy()
    return feats, softmax(logits / tuned.temperature)


def adapt_head(analyzer, texts: list[str], stars: list[float], *, holdout: float = 0.2,
               seed: int = 13, out: Path | None = None) -> AdaptReport:
    """Fit a new star head on (texts, stars), report before/after on a held-out share, and
    save the adapted model to `out` when given."""
    import torch
    from sklearn.linear_model import LogisticRegression

    if analyzer.tuned is None:
        raise InputError("adapting needs the tuned star model (monitor/model_files/tuned_top.safetensors)")
    y = np.clip(np.rint(np.asarray(stars, dtype=float)), 1, 5).astype(int)
    if len(y) < 50 or len(set(y)) < 3:
        raise InputError(f"need at least 50 rated reviews covering 3+ star values "
                         f"(got {len(y)} reviews, stars {sorted(set(y.tolist()))})")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_hold = max(10, int(len(y) * holdout))
    hold, train = order[:n_hold], order[n_hold:]
    feats, before_p = tuned_features(analyzer, texts)
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(feats[train], y[train] - 1)
    weight = np.zeros((5, feats.shape[1]), dtype=np.float32)
    bias = np.full(5, -30.0, dtype=np.float32)  # star values never seen stay improbable
    weight[clf.classes_] = clf.coef_
    bias[clf.classes_] = clf.intercept_
    after_p = softmax(feats @ weight.T + bias)
    report = AdaptReport(len(train), len(hold), sentiment_metrics(y[hold], before_p[hold]),
                         sentiment_metrics(y[hold], after_p[hold]))
    if out is not None:
        # from the file, not the running model: that one may hold int8 layers
        adapted = (TunedTop.load(analyzer.tuned_source) if analyzer.tuned_source
                   else copy.deepcopy(analyzer.tuned).float().cpu())
        with torch.no_grad():
            adapted.head.weight.copy_(torch.from_numpy(weight))
            adapted.head.bias.copy_(torch.from_numpy(bias))
        adapted.temperature = 1.0
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        adapted.save(Path(out), meta={"adapted_on_rows": int(len(train))})
    return report
