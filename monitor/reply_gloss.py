"""What a draft to a buyer says, in the seller team's language.

Reply and follow-up drafts are put together from template parts that are parallel across
languages (`monitor/languages/<code>.json`): the same category (or follow-up kind) and part say
the same in every language. So each part of a draft has a known translation, the same part in
the team's language (`monitor.i18n.UI_LANGUAGES`), and an agent who cannot read the buyer's
language still knows what the draft says.

An agent may edit the draft. A part counts as still there while its text is (spaces aside), and
only those parts are translated; words that are no template part (the agent's own) are flagged,
not guessed at. A follow-up's "what we changed" is the agent's own sentence: it is shown as
written. Drafts from the seller's own templates (`MONITOR_REPLY_TEMPLATES`) have no known parts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .replies import (change_sentence, draft_follow_up, follow_up_parts, joined, reply_for,
                      reply_parts)

CUSTOM = dict[str, dict[str, str]]
# What the team calls each part (the dashboard shows these through its catalog).
PART_NAMES: dict[str, str] = {
    "acknowledge": "the acknowledgement", "fix": "the fix or next step",
    "invite": "the invitation to a private channel", "opening": "the opening",
    "change": "what we changed", "closing": "the closing with our contact"}


@dataclass(frozen=True)
class GlossPart:
    name: str  # acknowledge, fix, invite (replies); opening, change, closing (follow-ups)
    text: str  # as drafted, in the buyer's language
    translation: str | None  # the same part in the team's language; None: the agent's own words
    present: bool  # its text is still in the (edited) draft


@dataclass(frozen=True)
class DraftGloss:
    """A draft's known parts, which of them the edited draft still holds, and their
    translation into the team's language."""

    lang: str  # the team's language
    draft_lang: str  # the language the draft was written in (pt-BR / pt-PT for Portuguese)
    parts: tuple[GlossPart, ...]  # empty when the seller's own template wrote the draft
    own_words: bool  # the edited draft holds text that is no template part

    @property
    def same_language(self) -> bool:
        """The draft is already in the team's language: nothing to translate."""
        return self.draft_lang.split("-")[0] == self.lang

    @property
    def text(self) -> str:
        """The parts still in the draft, in the team's language (the agent's own sentences as
        written)."""
        return joined([(p.translation if p.translation is not None else p.text).strip()
                       for p in self.parts if p.present], self.lang)

    @property
    def missing(self) -> list[str]:
        """The names of the template parts the edited draft no longer holds."""
        return [p.name for p in self.parts if not p.present]


def _flat(text: str) -> str:
    return " ".join(text.split())


def gloss(draft: str, parts: Mapping[str, str], translations: Mapping[str, str | None], *,
          lang: str, draft_lang: str) -> DraftGloss:
    """`draft` (as the agent has it now) against the `parts` it was made of and their
    `translations` into `lang` (None for a part without one)."""
    flat = _flat(draft)
    found, rest = [], flat
    for name, text in parts.items():
        piece = _flat(text)
        present = bool(piece) and piece in flat
        if present:
            rest = rest.replace(piece, " ", 1)
        found.append(GlossPart(name, text, translations.get(name), present))
    return DraftGloss(lang=lang, draft_lang=draft_lang, parts=tuple(found),
                      own_words=bool(re.search(r"\w", rest)))


def gloss_reply(draft: str, review: Mapping[str, Any], lang: str, *, contact: str,
                custom: CUSTOM | None = None) -> DraftGloss:
    """What the (edited) public reply `draft` for `review` (a queue row: category, lang, text,
    evidence, marketplace) says in the team's language `lang`."""
    made = reply_for(dict(review), contact=contact, custom=custom)
    if not made.from_template:
        return gloss(draft, {}, {}, lang=lang, draft_lang=made.lang or "")
    parts = reply_parts(made.category, made.lang, contact=contact, variant=made.variant)
    translations = reply_parts(made.category, lang, contact=contact, variant=made.variant)
    return gloss(draft, parts, translations, lang=lang, draft_lang=made.lang)


def gloss_follow_up(draft: str, task: Mapping[str, Any], lang: str, *, contact: str, change: str,
                    custom: CUSTOM | None = None) -> DraftGloss:
    """What the (edited) follow-up `draft` for `task` (a `Store.follow_ups` row: kind, lang,
    marketplace), written with `change`, says in the team's language `lang`."""
    made = draft_follow_up(task["kind"], task.get("lang"), contact=contact, change=change,
                           custom=custom, marketplace=task.get("marketplace"))
    if not made.from_template:
        return gloss(draft, {}, {}, lang=lang, draft_lang=made.lang)
    written = change_sentence(change, made.lang)
    parts = follow_up_parts(made.kind, made.lang, contact=contact, change=written)
    translations: dict[str, str | None] = dict(
        follow_up_parts(made.kind, lang, contact=contact, change=written), change=None)
    return gloss(draft, parts, translations, lang=lang, draft_lang=made.lang)
