"""Transparent public replies in the buyer's language, and the three-part checklist.

A good public reply (1) acknowledges the specific problem, (2) states the fix or next step, and
(3) invites the buyer to a private channel, while never offering an incentive to change the
review and never exposing personal data. `draft_reply` writes one from templates per language
and category; `check_reply` tells which parts a (possibly hand-edited) reply contains and what it
must not contain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import languages
from .reply_variants import (DEFECT_TEMPLATES, PT_BR_FOLLOW_UPS, PT_BR_INVITATION,
                             PT_BR_TEMPLATES, damage_variant, portuguese_variant)
from .errors import InputError
from .schema import COMPLAINT_CATEGORIES

DEFAULT_LANG = "en"
CATEGORIES = COMPLAINT_CATEGORIES  # a reply template per complaint category

# language -> category -> (acknowledge, next step), the invitation and the follow-ups: from the
# language files (monitor/languages/<code>.json).
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = languages.reply_templates()
INVITATIONS: dict[str, str] = languages.table("invitation")

# Follow-ups after a resolved case (`cases.FOLLOW_UPS`), in the buyer's language: what changed
# because of the complaint (7 days), and an invitation to try the product again (30 days). Both
# only inform and invite: nothing is offered for changing the review.
CHANGE_PLACEHOLDER = "[what we changed]"
FOLLOW_UP_TEMPLATES: dict[str, dict[str, str]] = languages.table("follow_ups")

# Markers that show each part in a reply, any language (lower-cased substring match), from the
# language files' `reply_part_markers`.
_MARKERS = languages.word_groups("reply_part_markers")
PART_MARKERS: dict[str, tuple[str, ...]] = {
    part: tuple(dict.fromkeys(m.lower() for m in _MARKERS.get(part, ())))
    for part in ("acknowledge", "fix", "invite")}
# What a public reply must never contain.
INCENTIVE = re.compile(
    r"(change|update|remove|delete|edit|revise)\s+(your|the)\s+(review|rating|feedback)|"
    r"in exchange for (?:an? |your )?(?:positive |good |better |honest |5[- ]star )?"
    r"(?:review|rating|feedback)|gift card|free (product|item)s? if|bewertung (ändern|löschen)|"
    r"(modifier|supprimer) (votre|l')\s?avis|(cambiar|eliminar) (su|la) (reseña|valoración)|"
    r"(modificare|rimuovere) la recensione|(alterar|remover) (a sua|sua) avaliação|"
    r"レビュー.{0,6}(削除|変更|修正)|(修改|删除|追加).{0,4}评价|好评返现|"
    r"(리뷰|후기|평점).{0,6}(삭제|수정|변경)|(измените|удалите|исправьте|поменяйте|обновите)\s+"
    r"(ваш\s+|свой\s+)?(отзыв|оценку)|в обмен на (?:ваш |хороший |положительный )?(?:отзыв|оценку)|(تعديل|حذف|تغيير)\s+(التقييم|المراجعة|تقييمك|مراجعتك)|"
    r"(review|recensie|beoordeling)\w*\s+(aan\s?passen|verwijderen|wijzigen)|"
    r"(aanpassen|verwijderen|wijzigen) van (uw|je) (review|recensie|beoordeling)|"
    r"(zmieni|usun|popraw)\w*\s+(opini|recenzj|ocen)|"
    r"(yorum|değerlendirme|puan)\w*\s+(sil|değiştir|güncelle)|"
    r"(ändra|ta bort|radera|uppdatera)\s+(din\s+|er\s+)?(recension|omdöme|betyg)|"
    r"(endre|ændre|slette|fjerne|oppdatere|opdatere)\s+(din\s+|den\s+)?"
    r"(anmeldelse|vurdering|omtale|bedømmelse)",
    re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<!\w)\+?\d[\d ()./-]{7,}\d(?!\w)")
ORDER_ID = re.compile(r"\b(?:\d{3}-\d{7}-\d{7}|O-\d{6,}|order\s*#?\s*\d{5,})\b", re.IGNORECASE)


def redact_personal_data(text: str) -> str:
    """Buyer text with e-mail addresses, phone numbers and order ids replaced by placeholders,
    for channels (chat, e-mail) where the whole team reads along."""
    text = EMAIL.sub("[e-mail]", text)
    text = ORDER_ID.sub("[order id]", text)
    return PHONE.sub("[phone]", text)


@dataclass(frozen=True)
class ReplyCheck:
    """Which of the three parts a reply holds, and what it must not hold."""

    acknowledge: bool
    fix: bool
    invite: bool
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.acknowledge and self.fix and self.invite and not self.problems


@dataclass(frozen=True)
class ReplyDraft:
    text: str
    lang: str  # the language the template was written in (falls back to English); pt-BR/pt-PT
    category: str
    variant: str = ""  # "defect" when a damage complaint is about a product that failed in use
    from_template: bool = True  # False when the seller's own template wrote it


def load_templates(path: str | Path | None) -> dict[str, dict[str, str]]:
    """The seller's own templates (JSON), over the built-in ones.

    Format: {"<lang>": {"<category>": "<full reply with {contact}>", ...}, ...}, categories as in
    CATEGORIES. A reply given here replaces the built-in one for that language and category; the
    checklist still applies to it. The keys "improvement_report" and "try_again" replace the
    follow-up messages the same way ("{change}" stands for what was changed).
    """
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"MONITOR_REPLY_TEMPLATES {path}: cannot read it as JSON "
                         f"({type(exc).__name__})") from None
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and all(isinstance(t, str) for t in v.values())
            for v in data.values()):
        raise InputError(f"MONITOR_REPLY_TEMPLATES {path}: expected "
                         '{"lang": {"category": "reply text"}}')
    return data


def seller_templates() -> dict[str, dict[str, str]]:
    """The templates of the file `MONITOR_REPLY_TEMPLATES` names ({} when unset)."""
    import os

    return load_templates(os.environ.get("MONITOR_REPLY_TEMPLATES"))


def draft_reply(category: str, lang: str | None, *, contact: str,
                custom: dict[str, dict[str, str]] | None = None, text: str | None = None,
                evidence: str | None = None, marketplace: str | None = None) -> ReplyDraft:
    """A public reply for a complaint of `category`, in the buyer's language when we have it;
    the seller's own template (`custom`, see `load_templates`) wins over the built-in one.
    The review's `text` and `evidence` tell a product that failed in use (a "defect" reply)
    from one that arrived damaged, and `marketplace` (or the text) Brazilian from European
    Portuguese (`reply_variants`)."""
    cat = category if category in CATEGORIES else "other"
    variant = "defect" if cat == "damage" and damage_variant(text, evidence) == "defect" else ""
    code = lang if lang in TEMPLATES else DEFAULT_LANG
    dialect = portuguese_variant(marketplace, text) if code == "pt" else code
    own_sets = [(custom or {}).get(k, {}) for k in dict.fromkeys((dialect, lang or ""))]
    own = next((t[k] for t in own_sets for k in (variant, cat) if k and t.get(k)), None)
    if own:
        return ReplyDraft(text=own.replace("{contact}", contact), lang=lang, category=cat,
                          variant=variant, from_template=False)
    parts = reply_parts(cat, dialect, contact=contact, variant=variant)
    return ReplyDraft(text=joined(parts.values(), dialect), lang=dialect, category=cat,
                      variant=variant)


def reply_parts(category: str, lang: str, *, contact: str, variant: str = "") -> dict[str, str]:
    """The built-in reply's three parts (acknowledge, fix, invite) for `category` in `lang` (a
    language of TEMPLATES, or pt-BR / pt-PT), with the contact filled in. The parts are
    parallel across languages: the same category and part in two languages say the same."""
    code = lang.split("-")[0]
    if variant:
        ack, fix = DEFECT_TEMPLATES[lang if lang in DEFECT_TEMPLATES else code]
    elif lang == "pt-BR":
        ack, fix = PT_BR_TEMPLATES[category]
    else:
        ack, fix = TEMPLATES[code][category]
    invite = PT_BR_INVITATION if lang == "pt-BR" else INVITATIONS[code]
    return {"acknowledge": ack, "fix": fix, "invite": invite.format(contact=contact)}


def joined(parts, lang: str) -> str:
    """Sentences of one message: Japanese and Chinese run on without spaces."""
    return ("" if lang.split("-")[0] in ("ja", "zh") else " ").join(parts)


def reply_for(review: dict, *, contact: str,
              custom: dict[str, dict[str, str]] | None = None) -> ReplyDraft:
    """The public reply draft for a stored review (a row with category, lang, text, evidence,
    marketplace)."""
    return draft_reply(review.get("category") or "other", review.get("lang"), contact=contact,
                       custom=custom, text=review.get("text"), evidence=review.get("evidence"),
                       marketplace=review.get("marketplace"))


def with_reply_drafts(queue, *, contact: str, custom: dict[str, dict[str, str]] | None = None):
    """The response queue (a polars frame with category and lang; text, evidence and
    marketplace when it has them) plus a `reply_draft` column: the public reply for each review
    in its buyer's language, for teams that work in a spreadsheet."""
    import polars as pl

    cols = [c for c in ("category", "lang", "text", "evidence", "marketplace")
            if c in queue.columns]
    drafts = [reply_for(r, contact=contact, custom=custom).text
              for r in queue.select(cols).iter_rows(named=True)]
    return queue.with_columns(pl.Series("reply_draft", drafts, dtype=pl.String))


def check_reply(text: str, *, contact: str | None = None) -> ReplyCheck:
    """Checklist for a (possibly edited) reply: the three parts, and no incentive or personal data."""
    low = text.lower()
    parts = {part: any(m in low for m in markers) for part, markers in PART_MARKERS.items()}
    return ReplyCheck(parts["acknowledge"], parts["fix"], parts["invite"],
                      _forbidden(text, contact))


# What `_forbidden` reports (the dashboard shows these through its catalog).
PROBLEMS: dict[str, str] = {
    "incentive": "offers something for changing or removing the review",
    "email": "shows an e-mail address other than the support contact",
    "phone": "shows a phone number",
    "order": "shows an order number",
}


def _forbidden(text: str, contact: str | None) -> list[str]:
    """What a message to a buyer must never hold: an incentive about the review, personal data."""
    scan = text.replace(contact, " ") if contact else text  # the support contact is allowed
    found = {"incentive": INCENTIVE.search(scan), "email": EMAIL.search(scan),
             "phone": PHONE.search(EMAIL.sub("", scan)), "order": ORDER_ID.search(scan)}
    return [PROBLEMS[k] for k, hit in found.items() if hit]


@dataclass(frozen=True)
class FollowUpDraft:
    text: str
    lang: str  # the language the template was written in (falls back to English)
    kind: str  # improvement_report or try_again
    from_template: bool = True  # False when the seller's own template wrote it


@dataclass(frozen=True)
class FollowUpCheck:
    """A follow-up must say what changed and how to reach us, and hold nothing forbidden."""

    says_what_changed: bool
    invite: bool
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.says_what_changed and self.invite and not self.problems


def draft_follow_up(kind: str, lang: str | None, *, contact: str, change: str = "",
                    custom: dict[str, dict[str, str]] | None = None,
                    marketplace: str | None = None) -> FollowUpDraft:
    """The improvement report or try-again invitation for a resolved case, in the buyer's
    language when we have it; `change` is what the seller changed (the agent writes it, in the
    buyer's language), a visible placeholder until then. The seller's own template (`custom`,
    see `load_templates`) wins over the built-in one."""
    if kind not in ("improvement_report", "try_again"):
        raise InputError(f"unknown follow-up kind {kind!r}: improvement_report or try_again")
    own = (custom or {}).get(lang or "", {}).get(kind)
    code = lang if own or lang in FOLLOW_UP_TEMPLATES else DEFAULT_LANG
    brazil = code == "pt" and not own and portuguese_variant(marketplace) == "pt-BR"
    change = change_sentence(change, code)
    if own:  # replace, not format: a seller's template may hold other braces
        return FollowUpDraft(text=own.replace("{change}", change).replace("{contact}", contact),
                             lang=code, kind=kind, from_template=False)
    dialect = ("pt-BR" if brazil else "pt-PT") if code == "pt" else code
    parts = follow_up_parts(kind, dialect, contact=contact, change=change)
    return FollowUpDraft(text="".join(parts.values()), lang=dialect, kind=kind)


def change_sentence(change: str, lang: str) -> str:
    """What the seller changed as one sentence of a follow-up (the placeholder until written)."""
    change = " ".join(change.split()) or CHANGE_PLACEHOLDER
    if change[-1] not in ".!?。！？":
        change += "。" if lang.split("-")[0] in ("ja", "zh") else "."
    return change


def follow_up_parts(kind: str, lang: str, *, contact: str, change: str) -> dict[str, str]:
    """The built-in follow-up's three parts: the opening up to what changed, the `change` itself
    (the agent's words, not a template's), and the closing with the contact filled in. The
    templates are parallel across languages, like the reply parts."""
    template = (PT_BR_FOLLOW_UPS[kind] if lang == "pt-BR"
                else FOLLOW_UP_TEMPLATES[lang.split("-")[0]][kind])
    opening, _, closing = template.partition("{change}")
    return {"opening": opening.replace("{contact}", contact), "change": change,
            "closing": closing.replace("{contact}", contact)}


def follow_up_message(task: dict, *, contact: str,
                      custom: dict[str, dict[str, str]] | None = None) -> str:
    """The message draft for one follow-up task (a row of `Store.follow_ups`), starting from
    its case's resolution note."""
    return draft_follow_up(task["kind"], task["lang"], contact=contact,
                           change=task.get("resolution_note") or "", custom=custom,
                           marketplace=task.get("marketplace")).text


def check_follow_up(text: str, *, contact: str | None = None) -> FollowUpCheck:
    """Checklist for a (possibly edited) follow-up message."""
    invite = any(m in text.lower() for m in PART_MARKERS["invite"])
    return FollowUpCheck(says_what_changed=bool(text.strip()) and CHANGE_PLACEHOLDER not in text,
                         invite=invite, problems=_forbidden(text, contact))
