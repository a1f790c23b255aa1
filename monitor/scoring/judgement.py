"""The model's call on a review's complaints: aspects from the learned head, category and level
from the aspects, phrase rules as evidence and as the safety net for level 1.

- The aspect head (`monitor/model_files/aspect_head.npz`, fitted by models/train_aspects.py on hand-labelled
  real reviews) reads features of the same encoder pass that gives the stars: no second pass.
- A counterfeit phrase (not negated, not about fake reviews) adds `counterfeit` when the review
  can be a complaint: a level-1 claim is never missed for want of a probability.
- A damage or delay phrase adds its aspect only when the head leans that way too (at least half
  its bar), and a damage phrase never overrules the head's `defect` (the same words describe a
  product that arrived broken and one that broke after use): phrases add evidence, they never
  decide alone.
- A buyer who rates 4-5 stars and writes positively has no open complaint: the aspects the head
  is sure of are kept (for trends; "runs a size small") but give no category or level.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..aspects import ASPECTS, category_of, ordered
from ..schema import SEVERITY_LEVEL, Category
from .severity import complaint_gate, evidence_span, find_phrases

PHRASE_SUPPORT = 0.5  # a damage/delay phrase counts when the head gives half its bar or more
# a buyer with no open complaint (4-5 stars and positive words) keeps only the aspects the head
# is sure of, never a bare "other": praise carries no aspect (chosen on the labelled dev share)
CONTENT_BUYER_BAR = 0.6


@dataclass(frozen=True)
class AspectHead:
    """One logistic classifier per aspect over standardised features, with its own bar."""

    aspects: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    weight: np.ndarray  # (aspects, features)
    bias: np.ndarray
    threshold: np.ndarray

    @classmethod
    def load(cls, path: Path) -> "AspectHead":
        with np.load(path, allow_pickle=False) as f:
            head = cls(tuple(str(a) for a in f["aspects"]), f["mean"], f["std"], f["weight"],
                       f["bias"], f["threshold"])
        ordered(head.aspects)  # refuses a file with aspects this version does not know
        return head

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.std) @ self.weight.T + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def aspects_of(self, probs: np.ndarray) -> list[list[str]]:
        names = np.array(self.aspects)
        return [ordered(names[row >= self.threshold]) for row in probs]

    def bar(self, aspect: str) -> float:
        return float(self.threshold[self.aspects.index(aspect)])


@dataclass(frozen=True)
class Judgement:
    aspects: tuple[str, ...]
    category: str
    severity: int | None
    evidence: str


def judge(texts: Sequence[str], aspect_probs: np.ndarray, head: AspectHead,
          p_negative: np.ndarray, p_positive: np.ndarray,
          ratings: Sequence[float | None] | None = None,
          positive_gate: float = 0.8) -> list[Judgement]:
    """One judgement per text (see the module's rules)."""
    out = []
    learned = head.aspects_of(aspect_probs)
    for i, text in enumerate(texts):
        text = text or ""
        rating = ratings[i] if ratings is not None else None
        gate = complaint_gate(p_negative[i], p_positive[i], rating, positive_gate)
        complaint_possible = gate.possible
        found = set(learned[i])
        spans: dict[str, str] = {}
        for match in (find_phrases(text) if complaint_possible else []):
            aspect = match.category.value
            supported = aspect == "counterfeit" or (
                aspect in head.aspects and aspect_probs[i, head.aspects.index(aspect)]
                >= PHRASE_SUPPORT * head.bar(aspect)
                # "broke" is damage on arrival or a defect after use: the head tells them apart
                and not (aspect == "damage" and "defect" in learned[i]))
            if supported:
                found.add(aspect)
                spans.setdefault(aspect, evidence_span(text, match.start, match.end))
        if not found and complaint_possible and (gate.negative or gate.low_rating):
            found.add("other")  # a complaint that names no aspect is still a complaint
        if not complaint_possible:
            found = {a for a in found if a != "other" and aspect_probs[
                i, head.aspects.index(a)] >= max(head.bar(a), CONTENT_BUYER_BAR)}
        aspects = tuple(ordered(found))
        category = category_of(aspects) if complaint_possible else Category.NONE.value
        out.append(Judgement(aspects, category, SEVERITY_LEVEL[Category(category)],
                             spans.get(category, "")))
    return out


__all__ = ["ASPECTS", "AspectHead", "Judgement", "judge"]
