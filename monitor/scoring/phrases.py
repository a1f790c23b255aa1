"""Complaint phrase lists per category and language: the rule half of severity.

Each entry is a regular expression. Latin, Cyrillic and Arabic patterns are wrapped in word
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

# Words that cancel a match when they stand just before it in the same clause ("not fake").
NEGATION_WORDS = {
    "not", "no", "never", "isn't", "wasn't", "aren't", "nothing", "without",
    "nicht", "kein", "keine", "keinen", "keinerlei", "ohne",
    "pas", "ni", "sans", "aucun", "aucune",
    "sin", "nada", "ningún", "ninguna", "non", "senza", "nessun", "nessuna",
    "não", "nao", "nem", "sem", "nenhum", "nenhuma", "не", "без", "لا", "ليس", "غير",
    "niet", "geen", "zonder", "nie", "bez", "żaden", "żadnych", "żadnego", "inte", "ingen",
    "inga", "utan", "ikke", "uten", "uden", "aldri", "intet", "inget",
}
# Negations written after the phrase in Latin script (Turkish: "sahte değil", "hasar yok").
NEGATION_AFTER_WORDS = {"değil", "değildi", "değildir", "değiller", "yok", "yoktu"}
# CJK negations written right before (zh) or right after (ja) the phrase.
CJK_NEGATION_BEFORE = ("不是", "并非", "没有", "并不是", "不", "無", "无", "以为是", "以为")
CJK_NEGATION_AFTER = ("ではない", "じゃない", "ではありません", "ではなかった", "じゃなかった", "なし", "無し",
                      # 「偽物かと思ったら…」: the buyer feared it and was proved wrong
                      "かと思ったら", "かと思いきや", "かと思いましたが", "かと思った", "かと心配")
# A counterfeit word that is about the reviews, not the item ("fake reviews", "レビューは偽物").
REVIEW_WORDS = {
    "review", "reviews", "rating", "ratings", "bewertung", "bewertungen", "rezension",
    "rezensionen", "commentaires", "évaluations", "reseñas", "opiniones", "valoraciones",
    "comentarios", "recensioni", "avaliações", "comentários", "отзывы", "отзыв",
    "recensies", "beoordelingen", "opinie", "recenzje", "oceny", "yorum", "yorumlar",
    "recensioner", "omdömen", "anmeldelse", "anmeldelser", "anmeldelsene", "anmeldelserne",
    "vurderinger",
}
CJK_REVIEW_WORDS = ("レビュー", "評価", "口コミ", "サクラ", "评论", "评价", "好评", "刷单", "刷评")
CJK_LINKS = "とのはがでもいう的是说都里中"  # particles between the word and the review word
