"""Draw the counterfeit development sample that `counterfeit_labels_dev.csv` labels by hand.

    .venv/bin/python models/sample_counterfeit_dev.py            # prints id, lang, text to label
    .venv/bin/python models/sample_counterfeit_dev.py --ids      # ids only (the committed order)

Negative (1-2 star) train reviews that mention authenticity in their language's everyday words
(genuine, original, fake, copy...), so counterfeit claims are common enough to measure recall
on; none from the two severity sets (`severity_labels.csv` is the test set, run once after a
choice; `severity_labels_dev.csv` chose the head's bars). The keywords are deliberately broad —
most hits are not counterfeit claims ("original packaging", "the original one broke"), which is
what measures precision. Only ids and labels are committed; the texts stay in ../shared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models"))

from review_sets import SHARED, labelled_ids  # noqa: E402

SEED = 41
PER_LANG = {"zh": 40, "ja": 30, "en": 20, "de": 20, "fr": 20, "es": 20}
AUTHENTICITY_WORDS = {
    "zh": r"正品|真品|真货|假|仿|盗版|山寨|原装|正版|行货|水货",
    "ja": r"本物|偽物|正規品|純正|模倣|コピー品|海賊版|類似品|パチ",
    "en": r"(?i)\b(?:genuine|authentic|original|fake|counterfeit|knock|legit|real one)",
    "de": r"(?i)\b(?:echt|original|fälsch|gefälscht|fake|plagiat|nachgemacht)",
    "fr": r"(?i)\b(?:authentique|original|faux|fausse|contrefa|copie)",
    "es": r"(?i)\b(?:original|auténtic|autentic|falso|falsa|falsific|imitaci|copia)",
}


def sample() -> pl.DataFrame:
    """The sample, in a fixed order (language, then draw)."""
    # the set this draws is itself labelled: only the two severity sets are left out
    excluded = labelled_ids(("severity_labels.csv", "severity_labels_dev.csv"))
    train = pl.read_csv(SHARED / "marc_train.csv").filter(
        (pl.col("stars") <= 2) & ~pl.col("id").is_in(excluded))
    parts = []
    for lang, n in PER_LANG.items():
        hits = train.filter((pl.col("lang") == lang)
                            & pl.col("text").str.contains(AUTHENTICITY_WORDS[lang]))
        parts.append(hits.sample(n=min(n, hits.height), seed=SEED))
    return pl.concat(parts)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ids", action="store_true")
    rows = sample()
    if ap.parse_args().ids:
        print("\n".join(rows["id"].to_list()))
    else:
        for row in rows.iter_rows(named=True):
            print(f"{row['id']}\t{row['text']}\n")
