"""Complaint phrase lists per category and language, and the negation and review words checked
around a match: the rule half of severity. All of them come from the language files
(`monitor/languages/<code>.json`), so a new language file brings its words along.

Each phrase is a regular expression. Latin, Cyrillic and Arabic patterns are wrapped in word
boundaries; Japanese, Chinese and Korean patterns match as substrings (no spaces between words).
Patterns were written from general knowledge of how buyers phrase these complaints, not copied
from any review corpus. Patterns that themselves contain a negation ("not genuine", 不是正品)
are marked so the negation check does not cancel them.
"""

from __future__ import annotations

from .. import languages
from ..schema import SEVERE_CATEGORIES

# category -> language -> patterns, from the language files (monitor/languages/<code>.json).
# An English "fake" or "imitation" followed by a material ("fake leather", "imitation cuir")
# describes the item: its pattern carries a lookahead that leaves those out.
PHRASES: dict[str, dict[str, list[str]]] = languages.complaint_phrases(SEVERE_CATEGORIES)

# Languages written without spaces between words: their patterns and words match as substrings.
CJK_LANGS = {"ja", "zh", "ko"}


def _words(key: str, *, cjk: bool) -> list[str]:
    """The `key` words of every language file (CJK ones or the others), each once."""
    return list(dict.fromkeys(w for code, found in languages.words(key).items()
                              if (code in CJK_LANGS) == cjk for w in found))


# Words that cancel a match when they stand just before it in the same clause ("not fake").
NEGATION_WORDS = {w.lower() for w in _words("negations", cjk=False)}
# Negations written after the phrase in Latin script (Turkish: "sahte değil", "hasar yok").
NEGATION_AFTER_WORDS = {w.lower() for w in _words("negations_after", cjk=False)}
# CJK negations written right before (zh: 不是, 以为是) or right after (ja: ではない) the phrase;
# 「偽物かと思ったら…」 counts too: the buyer feared it and was proved wrong.
CJK_NEGATION_BEFORE = tuple(_words("negations", cjk=True))
CJK_NEGATION_AFTER = tuple(_words("negations_after", cjk=True))
# A counterfeit word that is about the reviews, not the item ("fake reviews", "レビューは偽物").
REVIEW_WORDS = {w.lower() for w in _words("review_words", cjk=False)}
CJK_REVIEW_WORDS = tuple(_words("review_words", cjk=True))
CJK_LINKS = "とのはがでもいう的是说都里中"  # particles between the word and the review word
