"""Which shared train reviews each model script may see: one place for the held-out share and the
hand-labelled sets that must stay out of every training or sampling step."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "reviews"
HELD_SHARE, HELD_SEED = 0.04, 13  # as in models/finetune_full.py
# hand-labelled real reviews (ids and labels only): the severity test set, its dev set, and the
# counterfeit dev set
LABELLED_FILES = ("severity_labels.csv", "severity_labels_dev.csv", "counterfeit_labels_dev.csv")


def labelled_ids(files: tuple[str, ...] = LABELLED_FILES) -> list[str]:
    """Ids of the reviews in the hand-labelled `files` (all of them by default)."""
    import polars as pl

    return pl.concat([pl.read_csv(ROOT / "models" / f)["id"] for f in files]).to_list()


def held_out_reviews():
    """finetune_full.py's held-out rows: train less the severity test set, 4 % drawn with seed 13."""
    import polars as pl

    train = pl.read_csv(SHARED / "marc_train.csv").filter(
        ~pl.col("id").is_in(labelled_ids(("severity_labels.csv",))))
    perm = np.random.default_rng(HELD_SEED).permutation(train.height)
    return train[sorted(perm[:int(train.height * HELD_SHARE)].tolist())]
