"""Escalation words: a buyer who names a formal complaint, a refund, a chargeback or legal steps.

Such a message opens a case whatever its rating and sentiment (a sarcastic 5-star review that
threatens a lawyer still needs an answer), and routes it to an agent who speaks the language.
"""

from __future__ import annotations

from .severity import negated

# Words that show a buyer is escalating (formal complaint, refund, chargeback, legal steps).
ESCALATION_TERMS: dict[str, tuple[str, ...]] = {
    "en": ("complaint", "refund", "chargeback", "charge back", "lawyer", "attorney", "sue ",
           "legal action", "consumer protection", "trading standards", "dispute"),
    "de": ("beschwerde", "rückerstattung", "erstattung", "anwalt", "rückbuchung",
           "verbraucherzentrale", "klage"),
    "fr": ("plainte", "réclamation", "remboursement", "avocat", "rétrofacturation", "litige"),
    "es": ("queja", "reclamación", "reembolso", "abogado", "denuncia", "contracargo"),
    "it": ("reclamo", "rimborso", "avvocato", "denuncia", "chargeback"),
    "pt": ("reclamação", "reembolso", "advogado", "estorno", "procon"),
    "ja": ("苦情", "返金", "弁護士", "クレーム", "消費者センター", "返品"),
    "zh": ("投诉", "退款", "律师", "起诉", "12315", "退货"),
    "ko": ("환불", "변호사", "신고"),
    "ru": ("жалоб", "возврат денег", "юрист", "адвокат"),
    "ar": ("شكوى", "استرداد", "محامي"),
    "nl": ("klacht", "terugbetaling", "geld terug", "advocaat", "geschil", "consumentenbond"),
    "pl": ("reklamacj", "skarg", "zwrot pieniędzy", "prawnik", "adwokat", "uokik"),
    "tr": ("şikayet", "para iadesi", "avukat", "tüketici hakem"),
    "sv": ("klagomål", "reklamation", "återbetalning", "pengarna tillbaka", "advokat",
           "konsumentverket"),
    "no": ("klage", "reklamasjon", "pengene tilbake", "advokat", "forbrukerrådet"),
    "da": ("klage", "reklamation", "pengene tilbage", "advokat", "forbrugerrådet"),
}


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
