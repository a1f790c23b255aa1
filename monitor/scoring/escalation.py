"""Escalation words: a buyer who names a formal complaint, a refund, a chargeback or legal steps.

Such a message opens a case whatever its rating and sentiment (a sarcastic 5-star review that
threatens a lawyer still needs an answer), and routes it to an agent who speaks the language.
"""

from __future__ import annotations

from .. import languages
from .severity import negated

# Words that show a buyer is escalating (formal complaint, refund, chargeback, legal steps).
ESCALATION_TERMS: dict[str, tuple[str, ...]] = {
    code: tuple(words) for code, words in languages.table("escalation_words").items()}


def escalation_terms(text: str) -> list[str]:
    """The escalation words in `text`, any language, each once: case-insensitive, a word start
    in Latin and Cyrillic script (stems such as "жалоб" match their endings), and not negated
    ("no complaints", "keine Beschwerde", "没有投诉" are praise, not a threat)."""
    low = f" {(text or '').lower()} "
    found = []
    for terms in ESCALATION_TERMS.values():
        for term in terms:
            start = low.find(term)
            while start != -1:
                end = start + len(term)
                word_start = not (term[0].isalpha() and low[start - 1].isalnum()
                                  and not _joined_script(term[0]))
                if word_start and not negated(low, start, end):
                    found.append(term.strip())
                    break
                start = low.find(term, start + 1)
    return list(dict.fromkeys(found))


def _joined_script(char: str) -> bool:
    # scripts whose words need no space before them: CJK, Hangul, and Arabic (الشكوى = the
    # complaint, an article joined to the word)
    return ("\u3040" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af"
            or "\u0600" <= char <= "\u06ff")
