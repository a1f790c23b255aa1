"""Typed records and the polars schema of a scored frame, written down once for every stage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import polars as pl
from .errors import InputError


class Category(str, Enum):
    """Complaint category; the order of definition is the order of precedence."""

    COUNTERFEIT = "counterfeit"
    DAMAGE = "damage"
    DELAY = "delay"
    OTHER = "other"
    NONE = "none"


# Complaint level (1 = worst) and the first-response target that goes with it.
SEVERITY_LEVEL: dict[Category, int | None] = {
    Category.COUNTERFEIT: 1,
    Category.DAMAGE: 2,
    Category.DELAY: 3,
    Category.OTHER: None,
    Category.NONE: None,
}
# The category lists every stage uses, derived from the two definitions above.
ALL_CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
COMPLAINT_CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category if c is not Category.NONE)
SEVERE_CATEGORIES: tuple[str, ...] = tuple(c.value for c, level in SEVERITY_LEVEL.items()
                                           if level is not None)


# Below this confidence the sentiment call is a coin toss (the confidence is calibrated: ECE
# 0.018 on the MARC dev split), so the review goes to a person before any automatic reply.
# models/EVAL.md gives the share of reviews below each cut and the accuracy on either side.
HUMAN_REVIEW_BELOW = 0.5


def human_review_below() -> float:
    """The confidence cut for the human-review queue: MONITOR_HUMAN_REVIEW_BELOW or 0.5."""
    import os

    raw = os.environ.get("MONITOR_HUMAN_REVIEW_BELOW", "")
    try:
        value = float(raw) if raw else HUMAN_REVIEW_BELOW
    except ValueError:
        value = -1.0  # refused below, with the same message as an out-of-range number
    if not 0 <= value <= 1:
        raise InputError(f"MONITOR_HUMAN_REVIEW_BELOW={raw!r} is not a number between 0 and 1")
    return value


@dataclass(frozen=True)
class ReviewScore:
    """Everything the analyzer says about one review."""

    sentiment: str  # negative | neutral | positive
    p_negative: float
    p_neutral: float
    p_positive: float
    stars_pred: float  # expected star value, 1-5
    confidence: float  # probability of `sentiment`
    category: str  # one of Category
    severity: int | None  # 1 counterfeit, 2 damage, 3 delay, else None
    evidence: str  # text span supporting the category, "" if none
    needs_response: bool
    lang: str
    aspects: tuple[str, ...] = ()  # complaint aspects (monitor.aspects.ASPECTS), none for praise

    def as_dict(self) -> dict:
        return {name: (list(v) if isinstance(v := getattr(self, name), tuple) else v)
                for name in SCORE_COLUMNS}


# Columns added to the input by `monitor score`, with their polars types.
SCORE_SCHEMA: dict[str, pl.DataType] = {
    "lang": pl.String(),
    "sentiment": pl.String(),
    "p_negative": pl.Float64(),
    "p_neutral": pl.Float64(),
    "p_positive": pl.Float64(),
    "stars_pred": pl.Float64(),
    "confidence": pl.Float64(),
    "category": pl.String(),
    "severity": pl.Int8(),
    "evidence": pl.String(),
    "needs_response": pl.Boolean(),
    "aspects": pl.List(pl.String()),  # `;`-joined in CSV
}
SCORE_COLUMNS = list(SCORE_SCHEMA)

# Customer tiers (`monitor customers`), most valuable first: the queue's order within a level.
TIER_RANK: dict[str, int] = {"vip": 0, "growth": 1, "regular": 2, "dormant": 3}

# Where a text came from: a public review, or a message sent to the seller (complaint form or
# helpdesk ticket, chat, email). A message is someone waiting for an answer.
CHANNELS = ("review", "complaint", "chat", "email")

# The frame the store hands to trends and the dashboard.
STORED_REVIEW_SCHEMA: dict[str, pl.DataType] = {
    "review_key": pl.String(),
    "review_id": pl.String(),
    "product_id": pl.String(),
    "marketplace": pl.String(),
    "channel": pl.String(),
    "date": pl.Datetime("us"),
    "rating": pl.Float64(),
    "title": pl.String(),
    "text": pl.String(),
    **SCORE_SCHEMA,
}


# What trends, KPIs and charts read: one row per stored review, without its text, so a million
# of them fit in a few tens of MB (`Store.facts`).
FACTS_SCHEMA: dict[str, pl.DataType] = {
    "review_key": pl.String(), "product_id": pl.String(), "marketplace": pl.String(),
    "channel": pl.String(), "date": pl.Datetime("us"), "rating": pl.Float64(),
    "lang": pl.String(), "sentiment": pl.String(), "stars_pred": pl.Float64(),
    "confidence": pl.Float64(), "category": pl.String(), "severity": pl.Int8(),
    "needs_response": pl.Boolean(), "aspects": pl.String(),  # `;`-joined, "" for none
    "scored_at": pl.Datetime("us"),
}


# The response queue: stored reviews plus their case.
QUEUE_SCHEMA: dict[str, pl.DataType] = {
    **STORED_REVIEW_SCHEMA,
    "case_id": pl.Int64(),
    "case_state": pl.String(),
    "due_at": pl.Datetime("us"),
    "case_version": pl.Int64(),
    "assignee": pl.String(),
    "co_owner": pl.String(),
    "escalation": pl.String(),
    "evidence_checklist": pl.String(),
    "tier": pl.String(),
    "customer_id": pl.String(),
    "order_id": pl.String(),
}


# A case as the store lists it (`Store.cases`): its deadline, owners and the review it is about.
CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(), "review_key": pl.String(), "state": pl.String(),
    "category": pl.String(), "severity": pl.Int64(), "product_id": pl.String(),
    "lang": pl.String(), "opened_at": pl.Datetime("us"), "due_at": pl.Datetime("us"),
    "first_response_at": pl.Datetime("us"), "assignee": pl.String(), "co_owner": pl.String(),
    "escalation": pl.String(), "evidence_checklist": pl.String(), "version": pl.Int64(),
    "review_id": pl.String(), "marketplace": pl.String(), "tier": pl.String(),
}


def needs_response(sentiment: str, severity: int | None, rating: float | None,
                   channel: str = "review", escalating: bool = False) -> bool:
    """A review needs a reply when it is negative, names a severe problem, rates 2 stars or
    less, or uses escalation words (refund, chargeback, lawyer: whatever its rating); a message
    sent to the seller (complaint, chat, email) needs one unless it is praise."""
    if sentiment == "negative" or severity is not None or (rating is not None and rating <= 2):
        return True
    if escalating:
        return True
    return channel != "review" and sentiment != "positive"
