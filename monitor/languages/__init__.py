"""Per-language data, one file per language: `monitor/languages/<code>.json`.

Each file may hold: `time_zone` (the buyer's likely zone), `replies` (per complaint category:
acknowledgement and next step), `defect_reply`, `invitation` (the private channel), `follow_ups`
(improvement report, try-again), `escalation_words` and `complaint_phrases` (regular expressions
per category, matched case-insensitively at word boundaries; CJK without them). A regional
variant (`pt-BR.json`) names the language it varies (`variant_of`) and holds what differs.

Adding a language = adding its file; every table below is built from the files present.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def registry() -> dict[str, dict]:
    """Every language file, by code, in code order."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(FOLDER.glob("*.json"))}


def languages() -> dict[str, dict]:
    """The languages themselves (regional variants left out)."""
    return {code: data for code, data in registry().items() if "variant_of" not in data}


def variants() -> dict[str, dict]:
    return {code: data for code, data in registry().items() if "variant_of" in data}


def table(key: str) -> dict[str, object]:
    """language -> its `key` entry, for the languages that have one."""
    return {code: data[key] for code, data in languages().items() if key in data}


def reply_templates() -> dict[str, dict[str, tuple[str, str]]]:
    return {code: {cat: tuple(parts) for cat, parts in replies.items()}
            for code, replies in table("replies").items()}


def complaint_phrases(categories: tuple[str, ...]) -> dict[str, dict[str, list[str]]]:
    """category -> language -> patterns."""
    return {cat: {code: data["complaint_phrases"][cat] for code, data in languages().items()
                  if cat in data.get("complaint_phrases", {})} for cat in categories}
