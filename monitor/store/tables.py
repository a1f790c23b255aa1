"""The tables: reviews and their scores apart (a later model re-scores without touching what
the buyer wrote), cases with their history and follow-ups, customers, and the alert outbox."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import (Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..aspects import join as aspects_join
from ..schema import SCORE_COLUMNS


class Base(DeclarativeBase):
    pass


class ReviewRow(Base):
    __tablename__ = "reviews"

    review_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    review_id: Mapped[str | None] = mapped_column(String(200))
    product_id: Mapped[str | None] = mapped_column(String(200), index=True)
    marketplace: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16), default="review", server_default="review")
    order_id: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    rating: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(500))
    ingested_at: Mapped[datetime] = mapped_column(DateTime)
    # a buyer's later review of the same product is looked up on every ingest (case outcomes)
    __table_args__ = (Index("ix_reviews_customer_product", "customer_id", "product_id"),)


class ScoreRow(Base):
    __tablename__ = "scores"

    review_key: Mapped[str] = mapped_column(ForeignKey("reviews.review_key"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    sentiment: Mapped[str] = mapped_column(String(10), index=True)
    p_negative: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_positive: Mapped[float] = mapped_column(Float)
    stars_pred: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text)
    needs_response: Mapped[bool] = mapped_column(Boolean, index=True)
    # complaint aspects, `;`-joined (monitor.aspects); "" for none
    aspects: Mapped[str] = mapped_column(String(200), default="", server_default="")
    model_version: Mapped[str] = mapped_column(String(40))
    scored_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # facts refresh from here


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    review_key: Mapped[str] = mapped_column(ForeignKey("reviews.review_key"), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[str | None] = mapped_column(String(200), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    co_owner: Mapped[str | None] = mapped_column(String(100))  # level 1: the brand owner too
    # counterfeit evidence gathered so far: comma-separated item names (see cases.py)
    evidence_checklist: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # outcome: the same buyer's next review of the same product, and whether the rating rose
    outcome_rating: Mapped[float | None] = mapped_column(Float)
    outcome_improved: Mapped[bool | None] = mapped_column(Boolean)
    outcome_review_key: Mapped[str | None] = mapped_column(String(32))
    escalation: Mapped[str] = mapped_column(String(300), default="")  # escalation words found
    version: Mapped[int] = mapped_column(Integer, default=1)


class CaseEventRow(Base):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class FollowUpRow(Base):
    """After a case is resolved: the improvement report (7 days) and try-again invitation (30)."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    contact_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")


class CustomerRow(Base):
    """Customer value tiers from the seller's order file (see monitor.customers)."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    tier: Mapped[str] = mapped_column(String(12))
    orders: Mapped[int] = mapped_column(Integer)
    spend_12m: Mapped[float] = mapped_column(Float)
    last_order: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AlertRow(Base):
    """The transactional outbox: written with the case, delivered later, never lost."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)


REVIEW_FIELDS = ("review_id", "product_id", "marketplace", "channel", "order_id", "customer_id",
                 "date", "rating", "title", "text", "source")


SCORE_FIELDS = tuple(SCORE_COLUMNS)


def _stored(column: str, value):
    """A score as its column holds it: aspects `;`-joined, the rest as they are."""
    if column == "aspects":
        return aspects_join(value or ())
    return value


def _aspect_list(cell: pl.Expr) -> pl.Expr:
    """The stored `;`-joined aspects as a list column ("" -> [])."""
    return (pl.when(cell.fill_null("") == "").then(pl.lit([], dtype=pl.List(pl.String)))
            .otherwise(cell.str.split(";")).alias("aspects"))
