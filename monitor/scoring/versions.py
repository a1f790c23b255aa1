"""Which trained file scores reviews, and the model version the store records with each score.

Apart from `analyzer` so that finding the version imports no torch: `monitor ingest`, `watch`
and `serve` name it before (or without) loading the model.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..settings import MODEL_FILES_DIR

SENTIMENT_HEAD_FILE = MODEL_FILES_DIR / "sentiment_head.npz"
TUNED_TOP_FILE = MODEL_FILES_DIR / "tuned_top.safetensors"


def model_files() -> list[Path]:
    """The trained files the analyzer would load, for versioning scores."""
    custom = os.environ.get("MONITOR_STAR_MODEL")
    candidates = ([Path(custom)] if custom else []) + [TUNED_TOP_FILE, SENTIMENT_HEAD_FILE]
    return [p for p in candidates if p.exists()][:1]


def model_version() -> str:
    """What the store records as the model that scored a review: the star model file's name
    and the start of its digest."""
    files = model_files()
    if not files:
        return "me5-small+untrained"
    digest = hashlib.sha256(files[0].read_bytes()).hexdigest()[:8]
    return f"me5-small+{files[0].stem}-{digest}"
