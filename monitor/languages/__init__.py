"""Per-language data, one file per language: `monitor/languages/<code>.json`.

Each file may hold: `time_zone` (the buyer's likely zone), `replies` (per complaint category:
acknowledgement and next step), `defect_reply`, `invitation` (the private channel), `follow_ups`
(improvement report, try-again), `escalation_words` and `complaint_phrases` (regular expressions
per category, matched case-insensitively at word boundaries; CJK without them), `negations` (words
that cancel a complaint phrase standing right after them: "not fake", 没有), `negations_after`
(the same, written after the phrase: "sahte değil", 偽物ではない), `review_words` (a counterfeit
word next to one of these is about the reviews: "fake reviews") and `reply_part_markers` (per part
of a reply, acknowledge / fix / invite: lower-case fragments that show the part is there). A
regional variant (`pt-BR.json`) names the language it varies (`variant_of`) and holds what differs;
its words are added to its language's.

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


def words(key: str) -> dict[str, list[str]]:
    """language -> its `key` word list, a regional variant's words added to its language's."""
    out: dict[str, list[str]] = {}
    for code, data in registry().items():
        if key in data:
            out.setdefault(data.get("variant_of", code), []).extend(data[key])
    return out


def word_groups(key: str) -> dict[str, tuple[str, ...]]:
    """group -> the words every file lists under it in `key` (`reply_part_markers`: part ->
    markers), in language order, each once."""
    out: dict[str, list[str]] = {}
    for data in registry().values():
        for group, group_words in data.get(key, {}).items():
            out.setdefault(group, []).extend(group_words)
    return {group: tuple(dict.fromkeys(group_words)) for group, group_words in out.items()}
