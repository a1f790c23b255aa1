"""The review store: SQLAlchemy 2 models, embedded SQLite by default, any SQLAlchemy URL by choice.

Raw reviews and their scores live in separate tables so a later model can re-score without
touching what the buyer wrote. Every write is one transaction: a failed ingest leaves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import polars as pl
from sqlalchemy import (Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, case, create_engine, event, func, insert, select)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from .cases import WAITING_STATES
from .aspects import join as aspects_join
from .schema import (CASE_SCHEMA, FACTS_SCHEMA, QUEUE_SCHEMA, SCORE_COLUMNS,
                     STORED_REVIEW_SCHEMA, TIER_RANK)
from .scoring.escalation import escalation_terms
from .settings import env_number, redact_url
from .errors import InputError, MonitorError

if TYPE_CHECKING:
    from .cases import CasePolicy

OPEN_STATES = WAITING_STATES  # cases still waiting for a first response


class StoreError(MonitorError):
    """The database cannot be reached or written; the message says which and what to check."""


def write_failure(url: str, exc: OperationalError) -> StoreError:
    """A failed write as one line that says nothing was stored and what to do about it."""
    reason = str(exc.orig).splitlines()[0]
    hint = "fix that, then rerun (what is stored already is skipped)"
    if "locked" in reason:
        hint = ("another program is writing to it; wait for it to finish (or raise "
                "MONITOR_DB_BUSY_TIMEOUT_S), then rerun")
    elif "full" in reason or "I/O" in reason:
        hint = "free disk space, then rerun (what is stored already is skipped)"
    return StoreError(f"cannot write to {redact_url(url)}: {reason}; nothing was stored; {hint}")


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


def _stored(field: str, value):
    """A score as its column holds it: aspects `;`-joined, the rest as they are."""
    if field == "aspects":
        return aspects_join(value or ())
    return value


@dataclass(frozen=True)
class AddResult:
    added: int
    already_stored: int
    cases_opened: int = 0
    alerts_queued: int = 0
    updated: int = 0  # stored reviews the buyer edited (new text or rating), re-scored
    # review key -> its new case's id (None: no case), for each review this call inserted
    inserted: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (the dashboard) never block the writer
    # another writer (an agent, a second ingest) holds the lock for milliseconds; wait for it
    wait_ms = int(env_number("MONITOR_DB_BUSY_TIMEOUT_S", 10, low=0, high=86400,
                             meaning="seconds a write waits for another writer") * 1000)
    cur.execute(f"PRAGMA busy_timeout={wait_ms}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _add_alert_once(s: Session, key: str, case_id: int | None, channel: str, body: dict,
                    now: datetime) -> bool:
    """Put an alert in the outbox unless one with its idempotency key is there already."""
    import json

    if s.scalar(select(AlertRow.id).where(AlertRow.idempotency_key == key)):
        return False
    s.add(AlertRow(idempotency_key=key, case_id=case_id, channel=channel,
                   payload=json.dumps(body, ensure_ascii=False), status="pending", attempts=0,
                   next_attempt_at=now, last_error="", created_at=now))
    return True


def _aspect_list(cell: pl.Expr) -> pl.Expr:
    """The stored `;`-joined aspects as a list column ("" -> [])."""
    return (pl.when(cell.fill_null("") == "").then(pl.lit([], dtype=pl.List(pl.String)))
            .otherwise(cell.str.split(";")).alias("aspects"))


def _with_case(query):
    """A review query plus its case, customer tier and ids: the columns of QUEUE_SCHEMA."""
    return (query.add_columns(CaseRow.id, CaseRow.state, CaseRow.due_at, CaseRow.version,
                              CaseRow.assignee, CaseRow.co_owner, CaseRow.escalation,
                              CaseRow.evidence_checklist, CustomerRow.tier,
                              ReviewRow.customer_id, ReviewRow.order_id)
            .outerjoin(CaseRow, CaseRow.review_key == ReviewRow.review_key)
            .outerjoin(CustomerRow, CustomerRow.customer_id == ReviewRow.customer_id))


class Store:
    """Reviews and scores behind one object; the dashboard and CLI never write SQL themselves."""

    def __init__(self, url: str, *, create: bool = True):
        """Open the database at `url`, creating and migrating it as needed; with
        `create=False` (read-only commands) a SQLite file that does not exist is an error
        instead of a new empty database at a mistyped path."""
        self.url = url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])  # no ?mode=ro
            if not create and not path.is_file():
                raise StoreError(f"no database at {path}: ingest reviews first (`monitor ingest "
                                 "FILE`), or point --db / MONITOR_DB_URL at the one you use")
            folder = path.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot open database {redact_url(url)}: cannot create folder "
                                 f"{folder} ({exc.strerror})") from None
        try:
            self.engine = create_engine(url)
        except Exception as exc:
            raise StoreError(f"bad database URL {redact_url(url)}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self._migrate()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open database {redact_url(url)}: "
                             f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}") from None

    def stored_content(self, keys: Iterable[str]) -> dict[str, tuple[str, float | None]]:
        """(text, rating) of the stored reviews among `keys`, to tell unchanged from edited."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, tuple[str, float | None]] = {}
        with Session(self.engine) as s:
            for i in range(0, len(keys), 500):
                rows = s.execute(select(ReviewRow.review_key, ReviewRow.text, ReviewRow.rating)
                                 .where(ReviewRow.review_key.in_(keys[i:i + 500])))
                found.update({k: (t, r) for k, t, r in rows})
        return found

    def update_edited(self, rows: Sequence[dict], model_version: str) -> int:
        """Store new text/rating and scores of edited reviews; a rating change is the case's
        outcome ("buyer edited the review: 1★ → 4★")."""
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with Session(self.engine) as s, s.begin():
            for r in rows:
                review = s.get(ReviewRow, r["review_key"])
                before = review.rating
                review.text, review.rating, review.title = r["text"], r["rating"], r.get("title")
                score = s.get(ScoreRow, r["review_key"])
                for f in SCORE_FIELDS:
                    setattr(score, f, _stored(f, r[f]))
                score.model_version, score.scored_at = model_version, now
                case = s.scalar(select(CaseRow).where(CaseRow.review_key == r["review_key"]))
                if case is None:
                    continue
                note = "buyer edited the review"
                if before is not None and r["rating"] is not None and r["rating"] != before:
                    case.outcome_rating = r["rating"]
                    case.outcome_improved = r["rating"] > before
                    case.outcome_review_key = r["review_key"]
                    note += f": {before:g}★ → {r['rating']:g}★"
                s.add(CaseEventRow(case_id=case.id, at=now, actor="monitor", from_state=case.state,
                                   to_state=case.state, note=note))
        return len(rows)

    def _migrate(self) -> None:
        """Bring the schema to the newest migration (monitor/migrations); a database made before
        migrations existed is recognised as the baseline first."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import inspect

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            tables = inspect(conn).get_table_names()
            if "reviews" in tables and "alembic_version" not in tables:
                command.stamp(cfg, "0001")
            command.upgrade(cfg, "head")

    def existing_keys(self, keys: Iterable[str]) -> set[str]:
        keys = list(dict.fromkeys(keys))
        found: set[str] = set()
        with Session(self.engine) as s:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                found.update(s.scalars(select(ReviewRow.review_key)
                                       .where(ReviewRow.review_key.in_(chunk))))
        return found

    def add_scored(self, rows: Sequence[dict], model_version: str,
                   policy: "CasePolicy | None" = None) -> AddResult:
        """Insert scored reviews (dicts with review_key, REVIEW_FIELDS, SCORE_FIELDS); skip known keys.

        With a `policy`, every new review that needs a response opens a case with its deadline,
        and severe ones queue their alerts, all in the same transaction as the review.
        """
        for attempt in range(3):
            try:
                return self._add_scored_once(rows, model_version, policy)
            except IntegrityError:
                # another process (an API worker, `monitor watch`) stored one of these reviews
                # between our look and our insert: nothing was written; look again and retry,
                # and what it stored counts as already stored
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _add_scored_once(self, rows: Sequence[dict], model_version: str,
                         policy: "CasePolicy | None") -> AddResult:
        import json

        now = datetime.now(timezone.utc).replace(tzinfo=None)
        known = self.existing_keys(r["review_key"] for r in rows)
        fresh: dict[str, dict] = {}
        for r in rows:
            if r["review_key"] not in known and r["review_key"] not in fresh:
                fresh[r["review_key"]] = r
        cases = alerts = 0
        case_of: dict[str, int] = {}
        # escalation words need an answer whatever the analyzer said (a custom or older one)
        terms_of = {key: escalation_terms(r.get("text") or "") for key, r in fresh.items()}
        for key, terms in terms_of.items():
            if terms and not fresh[key]["needs_response"]:
                fresh[key] = {**fresh[key], "needs_response": True}
        try:
            with Session(self.engine) as s, s.begin():
                if fresh:  # bulk inserts (one executemany each), not an ORM object per row
                    s.execute(insert(ReviewRow), [
                        {"review_key": key, "ingested_at": now,
                         **{f: r.get(f) for f in REVIEW_FIELDS},
                         "channel": r.get("channel") or "review"} for key, r in fresh.items()])
                    s.execute(insert(ScoreRow), [
                        {"review_key": key, "model_version": model_version, "scored_at": now,
                         **{f: _stored(f, r.get(f)) for f in SCORE_FIELDS}}
                        for key, r in fresh.items()])
                self._record_outcomes(s, fresh.values(), now)
                if policy is not None:
                    # each agent's open cases, for routing: a scan of the open cases, so only
                    # when there are agents to route to and a new case to route
                    routing = policy.agents and any(r["needs_response"] for r in fresh.values())
                    load = dict(s.execute(select(CaseRow.assignee, func.count())
                                          .where(CaseRow.state.in_(OPEN_STATES),
                                                 CaseRow.assignee.is_not(None))
                                          .group_by(CaseRow.assignee)).all()) if routing else {}
                    opened = []  # (review, escalation terms, the case's columns)
                    for key, r in fresh.items():
                        if not r["needs_response"]:
                            continue
                        terms = terms_of[key]
                        assignee, co_owner = policy.owners(r["severity"], r["lang"], bool(terms),
                                                           load)
                        if assignee:
                            load[assignee] = load.get(assignee, 0) + 1
                        opened.append((r, terms, {
                            "review_key": key, "state": "new", "category": r["category"],
                            "severity": r["severity"], "product_id": r.get("product_id"),
                            "lang": r["lang"], "opened_at": now, "assignee": assignee,
                            "co_owner": co_owner, "evidence_checklist": "",
                            "escalation": ", ".join(dict.fromkeys(terms))[:300],
                            "due_at": policy.due_at(r["severity"], now), "version": 1}))
                    # one INSERT ... RETURNING for all the new cases (a flush per case held the
                    # write lock longer and cost the API a few % of its throughput)
                    case_ids = s.scalars(insert(CaseRow).returning(CaseRow.id,
                                                                   sort_by_parameter_order=True),
                                         [values for _, _, values in opened]).all() \
                        if opened else []
                    events, outbox = [], []
                    for case_id, (r, terms, values) in zip(case_ids, opened):
                        note = "opened on ingest"
                        if terms:
                            routed = values["assignee"] or f"nobody (no agent speaks {r['lang']})"
                            note += f"; escalation words: {values['escalation']}; routed to {routed}"
                        events.append({"case_id": case_id, "at": now, "actor": "monitor",
                                       "from_state": None, "to_state": "new", "note": note})
                        for channel in policy.alerts_for(r["severity"], r["sentiment"]):
                            body = policy.payload(case_id, {**r, "_opened_at": now})
                            outbox.append({"idempotency_key": f"case-{case_id}-{channel}",
                                           "case_id": case_id, "channel": channel,
                                           "payload": json.dumps(body, ensure_ascii=False),
                                           "status": "pending", "attempts": 0,
                                           "next_attempt_at": now, "last_error": "",
                                           "created_at": now})
                    if events:
                        s.execute(insert(CaseEventRow), events)
                    if outbox:
                        s.execute(insert(AlertRow), outbox)
                    cases, alerts = len(case_ids), len(outbox)
                    case_of = {r["review_key"]: case_id
                               for case_id, (r, _, _) in zip(case_ids, opened)}
        except OperationalError as exc:
            raise write_failure(self.url, exc) from None
        return AddResult(added=len(fresh), already_stored=len(rows) - len(fresh),
                         cases_opened=cases, alerts_queued=alerts,
                         inserted={key: case_of.get(key) for key in fresh})

    @staticmethod
    def _record_outcomes(s: Session, reviews, now: datetime) -> None:
        """A buyer's new rated review of a product closes the loop on their earlier case."""
        for r in reviews:
            if not (r.get("customer_id") and r.get("product_id") and r.get("rating") is not None):
                continue
            earlier = s.execute(
                select(CaseRow, ReviewRow.rating, ReviewRow.date)
                .join(ReviewRow, ReviewRow.review_key == CaseRow.review_key)
                .where(ReviewRow.customer_id == r["customer_id"],
                       ReviewRow.product_id == r["product_id"],
                       ReviewRow.review_key != r["review_key"],
                       CaseRow.outcome_review_key.is_(None))
                .order_by(CaseRow.opened_at.desc()).limit(1)).first()
            if earlier is None or earlier[1] is None:
                continue
            case, before, before_date = earlier
            if r.get("date") and before_date and r["date"] < before_date:
                continue  # an older review arriving late is not an outcome
            case.outcome_rating = r["rating"]
            case.outcome_improved = r["rating"] > before
            case.outcome_review_key = r["review_key"]
            s.add(CaseEventRow(case_id=case.id, at=now, actor="monitor", from_state=case.state,
                               to_state=case.state,
                               note=f"buyer reviewed again: {before:g}★ → {r['rating']:g}★"))

    def outcome_rates(self) -> pl.DataFrame:
        """Resolution KPI: share of cases with an outcome whose rating went up, by category and
        marketplace."""
        q = (select(CaseRow.category, ReviewRow.marketplace, CaseRow.outcome_improved)
             .join(ReviewRow, ReviewRow.review_key == CaseRow.review_key)
             .where(CaseRow.outcome_improved.is_not(None)))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        frame = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
            "category": pl.String, "marketplace": pl.String, "improved": pl.Boolean})
        return (frame.group_by("category", "marketplace")
                .agg(pl.len().alias("cases_with_outcome"),
                     pl.col("improved").mean().alias("improved_share"))
                .sort("category", "marketplace"))

    def is_empty(self) -> bool:
        """No review stored yet (cheaper than counting a million)."""
        with Session(self.engine) as s:
            return s.scalar(select(ReviewRow.review_key).limit(1)) is None

    def count(self) -> int:
        with Session(self.engine) as s:
            return s.scalar(select(func.count()).select_from(ReviewRow)) or 0

    def _query(self, *, needs_response: bool | None = None, product: Sequence[str] | None = None,
               category: Sequence[str] | None = None, since: datetime | None = None):
        cols = [ReviewRow.review_key, ReviewRow.review_id, ReviewRow.product_id,
                ReviewRow.marketplace, ReviewRow.channel, ReviewRow.date, ReviewRow.rating,
                ReviewRow.title, ReviewRow.text] + [getattr(ScoreRow, f) for f in SCORE_FIELDS]
        q = select(*cols).join(ScoreRow, ScoreRow.review_key == ReviewRow.review_key)
        if needs_response is not None:
            q = q.where(ScoreRow.needs_response.is_(needs_response))
        if product:
            q = q.where(ReviewRow.product_id.in_(list(product)))
        if category:
            q = q.where(ScoreRow.category.in_(list(category)))
        if since is not None:
            q = q.where(ReviewRow.date >= since)
        return q

    def _frame(self, query, schema: dict = STORED_REVIEW_SCHEMA) -> pl.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pl.DataFrame([tuple(r) for r in rows], orient="row",
                             schema={**schema, "aspects": pl.String})
        return frame.with_columns(_aspect_list(pl.col("aspects")))

    def reviews(self, *, product: Sequence[str] | None = None, category: Sequence[str] | None = None,
                since: datetime | None = None) -> pl.DataFrame:
        """Scored reviews as a polars frame with `STORED_REVIEW_SCHEMA`."""
        return self._frame(self._query(product=product, category=category, since=since))

    def response_queue(self, *, product: Sequence[str] | None = None,
                       category: Sequence[str] | None = None, limit: int = 500,
                       open_only: bool = True,
                       states: Sequence[str] | None = None) -> pl.DataFrame:
        """Reviews needing a response with their case (id, state, deadline): most severe first
        (level 1 on top), then newest. Reviews stored without a case have null case columns.
        With `open_only`, cases already replied to, resolved or closed are left out; `states`
        instead lists the case states to show (reviews without a case are then left out)."""
        q = _with_case(self._query(needs_response=True, product=product, category=category))
        if states is not None:
            q = q.where(CaseRow.state.in_(list(states)))
        elif open_only:
            q = q.where(CaseRow.state.is_(None) | CaseRow.state.in_(OPEN_STATES))
        # most severe first; within a level, more valuable customers first; then newest
        tier_rank = case(TIER_RANK, value=CustomerRow.tier, else_=TIER_RANK["regular"])
        q = q.order_by(tier_rank, ReviewRow.date.desc())
        # one level at a time, most severe first, until the view is full: a million-review store
        # then sorts a level's few thousand rows, not every review that needs a response
        parts, left = [], limit
        for level in (1, 2, 3, None):
            where = ScoreRow.severity.is_(None) if level is None else ScoreRow.severity == level
            part = self._frame(q.where(where).limit(left), QUEUE_SCHEMA)
            parts.append(part)
            left -= part.height
            if left <= 0:
                break
        return pl.concat(parts)

    def queue_counts(self, *, product: Sequence[str] | None = None,
                     category: Sequence[str] | None = None, open_only: bool = True
                     ) -> dict[int | None, int]:
        """How many reviews need a response, per severity level (None = no level), however many
        the queue view shows."""
        q = (select(ScoreRow.severity, func.count()).select_from(ScoreRow)
             .outerjoin(CaseRow, CaseRow.review_key == ScoreRow.review_key)
             .where(ScoreRow.needs_response.is_(True)))
        if open_only:
            q = q.where(CaseRow.state.is_(None) | CaseRow.state.in_(OPEN_STATES))
        if product:  # the reviews table only when it is needed: a million-row join costs
            q = (q.join(ReviewRow, ReviewRow.review_key == ScoreRow.review_key)
                 .where(ReviewRow.product_id.in_(list(product))))
        if category:
            q = q.where(ScoreRow.category.in_(list(category)))
        with self.engine.connect() as conn:
            return dict(conn.execute(q.group_by(ScoreRow.severity)).all())

    def lookup(self, *, keys: Sequence[str] | None = None,
               review_id: str | None = None) -> pl.DataFrame:
        """Stored reviews with their scores and case, by review key or by the given review id."""
        q = _with_case(self._query())
        if keys is not None:
            q = q.where(ReviewRow.review_key.in_(list(keys)))
        if review_id is not None:
            q = q.where(ReviewRow.review_id == review_id)
        return self._frame(q, QUEUE_SCHEMA)

    def transition_case(self, case_id: int, to_state: str, *, actor: str,
                        expected_version: int | None, note: str = "",
                        now: datetime | None = None) -> int:
        """Move a case to `to_state` if nobody changed it since `expected_version` (None: the
        version it has now, for callers that hold none, such as the CLI); returns the new
        version. Every move is recorded in the audit trail: from- and to-state, who, when, note.
        Raises KeyError (no such case), TransitionError, ConcurrentEditError."""
        from sqlalchemy import update

        from .cases import (FIRST_RESPONSE_STATES, ConcurrentEditError, check_transition,
                            plan_follow_ups)

        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        with Session(self.engine) as s, s.begin():
            case = s.get(CaseRow, case_id)
            if case is None:
                raise KeyError(f"no case {case_id}")
            # read before the UPDATE: the ORM refreshes `case` from it, and the history must
            # record where the case came from, not where it went
            from_state, current_version = case.state, case.version
            if expected_version is None:
                expected_version = current_version
            elif expected_version != current_version:
                raise ConcurrentEditError(
                    f"case {case_id} was changed by someone else (now version {current_version}, "
                    f"{from_state}); reload it and try again")
            check_transition(from_state, to_state)
            values = {"state": to_state, "version": expected_version + 1}
            if to_state in FIRST_RESPONSE_STATES and case.first_response_at is None:
                values["first_response_at"] = now
            # compare-and-set on the version: the UPDATE matches nothing if someone was faster
            done = s.execute(update(CaseRow).where(CaseRow.id == case_id,
                                                   CaseRow.version == expected_version)
                             .values(**values))
            if done.rowcount != 1:
                raise ConcurrentEditError(
                    f"case {case_id} was changed by someone else meanwhile; reload it and try "
                    "again")
            s.add(CaseEventRow(case_id=case_id, at=now, actor=actor, from_state=from_state,
                               to_state=to_state, note=note))
            if to_state == "resolved":
                review = s.get(ReviewRow, case.review_key)
                planned = set(s.scalars(select(FollowUpRow.kind)
                                        .where(FollowUpRow.case_id == case_id)))
                for kind, due, contact in plan_follow_ups(now, review.marketplace, case.lang):
                    if kind not in planned:  # a case resolved twice keeps its first plan
                        s.add(FollowUpRow(case_id=case_id, kind=kind, due_at=due,
                                          contact_at=contact, note=""))
        return expected_version + 1

    def escalate_overdue(self, policy: "CasePolicy", now: datetime | None = None) -> int:
        """Escalate open cases whose first-response deadline has passed, recording why, and queue
        an overdue alert for level-1/2 ones; each case is escalated once. Returns how many."""
        import json

        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        count = 0
        with Session(self.engine) as s, s.begin():
            overdue = s.scalars(select(CaseRow).where(CaseRow.state.in_(("new", "acknowledged")),
                                                      CaseRow.due_at < now)).all()
            for case in overdue:
                s.add(CaseEventRow(case_id=case.id, at=now, actor="monitor",
                                   from_state=case.state, to_state="escalated",
                                   note=f"first-response deadline {case.due_at:%Y-%m-%d %H:%M} UTC "
                                        "passed"))
                case.state, case.version = "escalated", case.version + 1
                count += 1
                review = s.get(ReviewRow, case.review_key)
                score = s.get(ScoreRow, case.review_key)
                for channel in policy.alerts_for(case.severity, score.sentiment):
                    body = policy.payload(case.id, {
                        "review_key": case.review_key, "review_id": review.review_id,
                        "product_id": case.product_id, "marketplace": review.marketplace,
                        "category": case.category, "severity": case.severity, "lang": case.lang,
                        "evidence": score.evidence, "_opened_at": case.opened_at})
                    body["event"] = "case.overdue"
                    s.add(AlertRow(idempotency_key=f"case-{case.id}-overdue-{channel}",
                                   case_id=case.id, channel=channel,
                                   payload=json.dumps(body, ensure_ascii=False), status="pending",
                                   attempts=0, next_attempt_at=now, last_error="", created_at=now))
        return count

    def queue_spike_alerts(self, policy: "CasePolicy", *, now: datetime | None = None,
                           recent_days: int = 2) -> int:
        """Queue one alert per channel for each complaint spike of the last `recent_days` days
        (older history never alerts); a spike already queued is not queued again."""
        from datetime import timedelta

        from .trends import detect_spikes

        if not policy.alert_channels:
            return 0
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        window = self.facts(since=now - timedelta(days=recent_days + 8))
        spikes = (detect_spikes(window, k=policy.spike_k, min_count=policy.spike_min_count)
                  .filter(pl.col("day") >= now - timedelta(days=recent_days)))
        queued = 0
        with Session(self.engine) as s, s.begin():
            for sp in spikes.iter_rows(named=True):
                body = {"event": "spike", "product_id": sp["product_id"],
                        "category": sp["category"], "day": f"{sp['day']:%Y-%m-%d}",
                        "count": sp["count"], "trailing_mean": sp["trailing_mean"],
                        "last_7d": sp["last_7d"], "rule": sp["rule"],
                        "link": f"{policy.dashboard_url.rstrip('/')}/product"}
                for channel in policy.alert_channels:
                    key = (f"spike-{sp['product_id']}-{sp['category']}-{sp['day']:%Y%m%d}-"
                           f"{channel}")[:100]
                    queued += _add_alert_once(s, key, None, channel, body, now)
        return queued

    def queue_follow_up_alerts(self, policy: "CasePolicy", *, now: datetime | None = None,
                               recent_days: int = 2) -> int:
        """Queue one alert per channel for each follow-up whose due date passed in the last
        `recent_days` days without it being sent (older history never alerts); once each."""
        from datetime import timedelta

        if not policy.alert_channels:
            return 0
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        queued = 0
        with Session(self.engine) as s, s.begin():
            late = s.execute(select(FollowUpRow, CaseRow)
                             .join(CaseRow, CaseRow.id == FollowUpRow.case_id)
                             .where(FollowUpRow.done_at.is_(None), FollowUpRow.due_at < now,
                                    FollowUpRow.due_at >= now - timedelta(days=recent_days)))
            for follow_up, case in late:
                body = {"event": "follow_up.overdue", "follow_up_id": follow_up.id,
                        "case_id": case.id, "kind": follow_up.kind,
                        "due_at": f"{follow_up.due_at:%Y-%m-%d %H:%M} UTC",
                        "product_id": case.product_id, "category": case.category,
                        "language": case.lang, "link": policy.dashboard_url.rstrip("/")}
                for channel in policy.alert_channels:
                    key = f"follow-up-{follow_up.id}-overdue-{channel}"
                    queued += _add_alert_once(s, key, case.id, channel, body, now)
        return queued

    def follow_ups(self, now: datetime | None = None) -> pl.DataFrame:
        """Follow-up tasks with their status (done, overdue, due = contact time reached, planned)
        and the case's resolution note, which their messages start from."""
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        cols = [FollowUpRow.id, FollowUpRow.case_id, FollowUpRow.kind, FollowUpRow.due_at,
                FollowUpRow.contact_at, FollowUpRow.done_at, FollowUpRow.done_by,
                CaseRow.product_id, CaseRow.lang, CaseRow.category, ReviewRow.marketplace]
        q = (select(*cols).join(CaseRow, CaseRow.id == FollowUpRow.case_id)
             .join(ReviewRow, ReviewRow.review_key == CaseRow.review_key)
             .order_by(FollowUpRow.due_at))
        # what was done about the complaint: the note of each case's latest move to resolved
        notes = (select(CaseEventRow.case_id, CaseEventRow.note)
                 .where(CaseEventRow.to_state == "resolved", CaseEventRow.note != "")
                 .order_by(CaseEventRow.id))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            resolution = {case_id: note.strip() for case_id, note in conn.execute(notes)}
        frame = pl.DataFrame([(*r, resolution.get(r[1], "")) for r in rows], orient="row", schema={
            "id": pl.Int64, "case_id": pl.Int64, "kind": pl.String, "due_at": pl.Datetime("us"),
            "contact_at": pl.Datetime("us"), "done_at": pl.Datetime("us"), "done_by": pl.String,
            "product_id": pl.String, "lang": pl.String, "category": pl.String,
            "marketplace": pl.String, "resolution_note": pl.String})
        return frame.with_columns(
            pl.when(pl.col("done_at").is_not_null()).then(pl.lit("done"))
            .when(pl.col("due_at") < now).then(pl.lit("overdue"))
            .when(pl.col("contact_at") <= now).then(pl.lit("due"))
            .otherwise(pl.lit("planned")).alias("status"))

    def complete_follow_up(self, follow_up_id: int, *, actor: str, note: str = "",
                           now: datetime | None = None) -> None:
        """Mark a follow-up done (once; a second call changes nothing)."""
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        with Session(self.engine) as s, s.begin():
            row = s.get(FollowUpRow, follow_up_id)
            if row is None:
                raise KeyError(f"no follow-up {follow_up_id}")
            if row.done_at is None:
                row.done_at, row.done_by, row.note = now, actor, note

    def record_evidence(self, case_id: int, items: Sequence[str], *, actor: str,
                        expected_version: int, now: datetime | None = None) -> int:
        """Save which counterfeit-evidence items are gathered (version-checked, audited)."""
        from sqlalchemy import update

        from .cases import COUNTERFEIT_EVIDENCE, ConcurrentEditError

        unknown = [i for i in items if i not in COUNTERFEIT_EVIDENCE]
        if unknown:
            raise InputError(f"unknown evidence item(s): {', '.join(unknown)}")
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        value = ",".join(i for i in COUNTERFEIT_EVIDENCE if i in items)
        with Session(self.engine) as s, s.begin():
            case = s.get(CaseRow, case_id)
            done = s.execute(update(CaseRow).where(CaseRow.id == case_id,
                                                   CaseRow.version == expected_version)
                             .values(evidence_checklist=value, version=expected_version + 1))
            if done.rowcount != 1:
                raise ConcurrentEditError(f"case {case_id} was changed by someone else; reload it "
                                          "and try again")
            s.add(CaseEventRow(case_id=case_id, at=now, actor=actor, from_state=case.state,
                               to_state=case.state, note=f"evidence: {value or 'none'}"))
        return expected_version + 1

    def case_events(self, case_id: int) -> pl.DataFrame:
        """The audit trail of one case, oldest first."""
        cols = [CaseEventRow.at, CaseEventRow.actor, CaseEventRow.from_state,
                CaseEventRow.to_state, CaseEventRow.note]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*cols).where(CaseEventRow.case_id == case_id)
                                .order_by(CaseEventRow.id)).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
            "at": pl.Datetime("us"), "actor": pl.String, "from_state": pl.String,
            "to_state": pl.String, "note": pl.String})

    def due_alerts(self, now: datetime, limit: int = 100) -> list[AlertRow]:
        """Pending alerts whose next attempt is due, oldest first (detached copies)."""
        with Session(self.engine, expire_on_commit=False) as s:
            rows = s.scalars(select(AlertRow).where(AlertRow.status == "pending",
                                                    AlertRow.next_attempt_at <= now)
                             .order_by(AlertRow.id).limit(limit)).all()
            s.expunge_all()
            return list(rows)

    def claim_alert(self, alert_id: int, now: datetime, hold_until: datetime) -> bool:
        """Take a pending alert due at `now` for one delivery attempt: True for exactly one of
        several senders (`monitor serve`, `monitor serve-alerts`) trying at once. The claim moves
        its next attempt to `hold_until`, so a sender that dies mid-attempt delays the alert
        until then, never loses it."""
        from sqlalchemy import update

        with Session(self.engine) as s, s.begin():
            done = s.execute(update(AlertRow)
                             .where(AlertRow.id == alert_id, AlertRow.status == "pending",
                                    AlertRow.next_attempt_at <= now)
                             .values(next_attempt_at=hold_until))
            return done.rowcount == 1

    def record_delivery(self, alert_id: int, *, delivered: bool, now: datetime, error: str = "",
                        retry_at: datetime | None = None, give_up: bool = False) -> None:
        """Record one delivery attempt: delivered, retry later, or dead after too many tries."""
        with Session(self.engine) as s, s.begin():
            row = s.get(AlertRow, alert_id)
            row.attempts += 1
            if delivered:
                row.status, row.delivered_at, row.last_error = "delivered", now, ""
            else:
                row.last_error = error[:500]
                if give_up:
                    row.status = "dead"
                else:
                    row.next_attempt_at = retry_at or now

    def alerts(self) -> pl.DataFrame:
        """The outbox as a frame, newest first (for the dashboard's alerts log)."""
        cols = [AlertRow.id, AlertRow.case_id, AlertRow.channel, AlertRow.status, AlertRow.attempts,
                AlertRow.created_at, AlertRow.delivered_at, AlertRow.next_attempt_at,
                AlertRow.last_error]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*cols).order_by(AlertRow.id.desc())).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
            "id": pl.Int64, "case_id": pl.Int64, "channel": pl.String, "status": pl.String,
            "attempts": pl.Int64, "created_at": pl.Datetime("us"), "delivered_at": pl.Datetime("us"),
            "next_attempt_at": pl.Datetime("us"), "last_error": pl.String})

    def cases(self, *, since: datetime | None = None, case_id: int | None = None,
              states: Sequence[str] | None = None, severity: int | None = None,
              product: str | None = None, assignee: str | None = None) -> pl.DataFrame:
        """Cases with their deadlines and the review's id and buyer tier, most urgent first;
        with `since`, only those opened since then; the other arguments filter by equality
        (`assignee` also matches a co-owner)."""
        cols = [CaseRow.id, CaseRow.review_key, CaseRow.state, CaseRow.category, CaseRow.severity,
                CaseRow.product_id, CaseRow.lang, CaseRow.opened_at, CaseRow.due_at,
                CaseRow.first_response_at, CaseRow.assignee, CaseRow.co_owner, CaseRow.escalation,
                CaseRow.evidence_checklist, CaseRow.version, ReviewRow.review_id,
                ReviewRow.marketplace, CustomerRow.tier]
        q = (select(*cols).join(ReviewRow, ReviewRow.review_key == CaseRow.review_key)
             .outerjoin(CustomerRow, CustomerRow.customer_id == ReviewRow.customer_id)
             .order_by(CaseRow.due_at, CaseRow.id))
        if since is not None:
            q = q.where(CaseRow.opened_at >= since)
        if case_id is not None:
            q = q.where(CaseRow.id == case_id)
        if states is not None:
            q = q.where(CaseRow.state.in_(list(states)))
        if severity is not None:
            q = q.where(CaseRow.severity == severity)
        if product is not None:
            q = q.where(CaseRow.product_id == product)
        if assignee is not None:
            q = q.where((CaseRow.assignee == assignee)
                        | CaseRow.co_owner.contains(assignee, autoescape=True))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema=CASE_SCHEMA)

    def save_customer_tiers(self, tiers: pl.DataFrame) -> int:
        """Insert or replace the tiers of the customers in `tiers` (one transaction)."""
        from sqlalchemy import delete

        now = datetime.now(timezone.utc).replace(tzinfo=None)
        rows = tiers.to_dicts()
        with Session(self.engine) as s, s.begin():
            ids = [r["customer_id"] for r in rows]
            for i in range(0, len(ids), 500):
                s.execute(delete(CustomerRow).where(CustomerRow.customer_id.in_(ids[i:i + 500])))
            s.add_all(CustomerRow(customer_id=r["customer_id"], tier=r["tier"], orders=r["orders"],
                                  spend_12m=r["spend_12m"] or 0.0, last_order=r["last_order"],
                                  updated_at=now) for r in rows)
        return len(rows)

    # Rows scored this long before a snapshot was taken are read again on refresh: an edit in
    # flight then, or a little clock skew between machines. A missed insert shows in the count.
    FACTS_OVERLAP = timedelta(minutes=2)

    def facts(self, *, since: datetime | None = None,
              product: Sequence[str] | None = None) -> pl.DataFrame:
        """Every stored review without its text (`FACTS_SCHEMA`), for trends and charts.

        Reading a million joined rows out of SQL takes seconds, so the frame is kept as a
        Parquet snapshot beside the database (or in the cache folder for a server database) and
        refreshed with only the rows scored since it was taken; a snapshot that does not add up
        to the store's count is rebuilt. The snapshot is a cache: deleting it loses nothing."""
        import json

        path = self._facts_path()
        meta_path = path.with_suffix(".json") if path is not None else None
        total = self.count()
        taken = datetime.now(timezone.utc).replace(tzinfo=None)
        snapshot = None
        try:
            as_of = datetime.fromisoformat(json.loads(meta_path.read_text())["as_of"])
            snapshot = pl.read_parquet(path)
            if snapshot.schema != pl.Schema(FACTS_SCHEMA):
                snapshot = None  # written by an older version: rebuilt below
        except Exception:  # no snapshot yet, or a damaged one: rebuilt below
            snapshot = None
        changed = snapshot is None
        if snapshot is not None:
            new = self._read_facts(ScoreRow.scored_at > as_of - self.FACTS_OVERLAP)
            new = new.join(snapshot.select("review_key", "scored_at"),
                           on=["review_key", "scored_at"], how="anti")
            if new.height:
                changed = True
                snapshot = pl.concat([snapshot.join(new.select("review_key"), on="review_key",
                                                    how="anti"), new])
        if snapshot is None or snapshot.height != total:
            snapshot, changed = self._read_facts(), True
        if path is not None and changed:
            try:
                from .batch import write_atomic, write_text_atomic

                write_atomic(snapshot, path)
                write_text_atomic(json.dumps({"as_of": taken.isoformat()}), meta_path)
            except OSError:  # a read-only folder only costs speed
                pass
        if since is not None:
            snapshot = snapshot.filter(pl.col("date") >= since)
        if product:
            snapshot = snapshot.filter(pl.col("product_id").is_in(list(product)))
        return snapshot

    def _facts_path(self) -> Path | None:
        if self.url.startswith("sqlite:///") and ":memory:" not in self.url:
            db = Path(self.url.removeprefix("sqlite:///").split("?")[0])
            return db.with_name(db.name + ".facts.parquet")
        if self.url.startswith("sqlite"):
            return None
        import hashlib

        from .settings import Settings

        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        return Settings.from_env().cache_dir / "facts" / f"{digest}.parquet"

    def _read_facts(self, where=None) -> pl.DataFrame:
        cols = [ReviewRow.review_key, ReviewRow.product_id, ReviewRow.marketplace,
                ReviewRow.channel, ReviewRow.date, ReviewRow.rating, ScoreRow.lang,
                ScoreRow.sentiment, ScoreRow.stars_pred, ScoreRow.confidence, ScoreRow.category,
                ScoreRow.severity, ScoreRow.needs_response, ScoreRow.aspects,
                ScoreRow.scored_at]
        q = select(*cols).join(ScoreRow, ScoreRow.review_key == ReviewRow.review_key)
        if where is not None:
            q = q.where(where)
        parts = []
        with self.engine.connect() as conn:
            result = conn.execute(q)
            while rows := result.fetchmany(100_000):
                parts.append(pl.DataFrame([tuple(r) for r in rows], schema=FACTS_SCHEMA,
                                          orient="row"))
        return pl.concat(parts) if parts else pl.DataFrame(schema=FACTS_SCHEMA)

    def newest_date(self) -> datetime | None:
        with Session(self.engine) as s:
            return s.scalar(select(func.max(ReviewRow.date)))

    def products(self) -> list[str]:
        with Session(self.engine) as s:
            return [p for p in s.scalars(select(ReviewRow.product_id).distinct()
                                         .order_by(ReviewRow.product_id)) if p is not None]
