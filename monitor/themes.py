"""Improvement themes: group a product's negative reviews by meaning, for an improvement report.

Reviews are clustered on their e5 embeddings (k-means, k chosen by silhouette among a few sizes),
so the same complaint written in German, Japanese or English lands in the same theme. Each theme
is labelled by its most central reviews (their evidence span when they have one), which works in
any language without a word list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

THEME_SCHEMA = {"theme": pl.Int32, "label": pl.String, "reviews": pl.UInt32,
                "first_half": pl.UInt32, "second_half": pl.UInt32, "top_category": pl.String,
                "examples": pl.List(pl.String)}


@dataclass(frozen=True)
class ThemeReport:
    product: str
    start: datetime | None
    end: datetime | None
    negatives: int
    themes: pl.DataFrame  # THEME_SCHEMA

    def markdown(self) -> str:
        """A shareable improvement report (Markdown; review text quoted as plain text)."""
        period = (f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}" if self.start and self.end
                  else "all dates")
        lines = [f"# Improvement report: {self.product}", "",
                 f"{self.negatives} negative reviews, {period}, grouped into "
                 f"{self.themes.height} themes by meaning (any language).", "",
                 "| # | theme | reviews | first half → second half | main category |",
                 "|---|---|---|---|---|"]
        for t in self.themes.iter_rows(named=True):
            label = _md_cell(t["label"])
            lines.append(f"| {t['theme']} | {label} | {t['reviews']} | {t['first_half']} → "
                         f"{t['second_half']} | {t['top_category']} |")
        for t in self.themes.iter_rows(named=True):
            lines += ["", f"## Theme {t['theme']}: {_md_cell(t['label'])}", "",
                      "What buyers wrote:"]
            lines += [f"> {_md_cell(e)}" for e in t["examples"]]
            lines += ["", "What we changed: _(fill in before sharing)_"]
        return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    # review text must not become Markdown or HTML in the report
    out = (text or "").replace("\n", " ").replace("|", "\\|")
    for ch in "<>[]`*_#":
        out = out.replace(ch, f"&#{ord(ch)};")
    return out[:160]


def cluster(embeddings: np.ndarray, *, max_k: int = 6, seed: int = 13) -> np.ndarray:
    """Cluster labels for unit-vector embeddings; k picked by silhouette (1 for tiny sets)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(embeddings)
    if n < 6:
        return np.zeros(n, dtype=int)
    best_labels, best_score = np.zeros(n, dtype=int), -1.0
    for k in range(2, min(max_k, n // 3) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(embeddings)
        score = silhouette_score(embeddings, labels, metric="cosine")
        if score > best_score:
            best_labels, best_score = labels, score
    return best_labels


def themes(reviews: pl.DataFrame, embeddings: np.ndarray, *, examples: int = 3) -> pl.DataFrame:
    """Themes of `reviews` (columns text, evidence, category, date) given their embeddings."""
    if reviews.is_empty():
        return pl.DataFrame(schema=THEME_SCHEMA)
    labels = cluster(embeddings)
    dates = reviews["date"].to_list()
    dated = [d for d in dates if d is not None]
    middle = min(dated) + (max(dated) - min(dated)) / 2 if dated else None
    rows = []
    for lab in np.unique(labels):
        idx = np.where(labels == lab)[0]
        centre = embeddings[idx].mean(axis=0)
        ranked = idx[np.argsort(-(embeddings[idx] @ centre))]
        texts = [reviews["evidence"][int(i)] or reviews["text"][int(i)] for i in ranked]
        cats = reviews["category"].gather(idx.tolist()).value_counts(sort=True)
        first = sum(1 for i in idx if middle and dates[i] is not None and dates[i] <= middle)
        second = sum(1 for i in idx if middle and dates[i] is not None and dates[i] > middle)
        rows.append({"label": texts[0][:120], "reviews": len(idx), "first_half": first,
                     "second_half": second, "top_category": cats["category"][0],
                     "examples": [t[:300] for t in texts[:examples]]})
    rows.sort(key=lambda r: -r["reviews"])
    for n, r in enumerate(rows, 1):
        r["theme"] = n
    return pl.DataFrame(rows).select(list(THEME_SCHEMA)).cast(THEME_SCHEMA)


def improvement_report(reviews: pl.DataFrame, embed, product: str) -> ThemeReport:
    """Themes of one product's negative reviews (`reviews` = store frame for that product)."""
    neg = reviews.filter(pl.col("sentiment") == "negative").sort("date", nulls_last=True)
    emb = embed(neg["text"].to_list()) if neg.height else np.zeros((0, 384))
    dates = [d for d in neg["date"].to_list() if d is not None]
    return ThemeReport(product, min(dates) if dates else None, max(dates) if dates else None,
                       neg.height, themes(neg, emb))
