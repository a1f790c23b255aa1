"""Reviews and their scores: stored once per review key (a buyer's edit re-scores it), read back
as frames for the queue, the API and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, Sequence

import polars as pl
from sqlalchemy import case, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..cases import WAITING_STATES
from ..schema import QUEUE_SCHEMA, STORED_REVIEW_SCHEMA, TIER_RANK
from ..scoring.escalation import escalation_terms
from .connection import write_failure
from .tables import (REVIEW_FIELDS, SCORE_FIELDS, CaseEventRow, CaseRow, CustomerRow,
                     ReviewRow, ScoreRow, _aspect_list, _stored)

if TYPE_CHECKING:
    from ..cases import CasePolicy


OPEN_STATES = WAITING_STATES  # cases still waiting for a first response


@dataclass(frozen=True)
class AddResult:
    added: int
    already_stored: int
    cases_opened: int = 0
    alerts_queued: int = 0
    updated: int = 0  # stored reviews the buyer edited (new text or rating), re-scored
    # review key -> its new case's id (None: no case), for each review this call inserted
    inserted: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)


def _with_case(query):
    """A review query plus its case, customer tier and ids: the columns of QUEUE_SCHEMA."""
    return (query.add_columns(CaseRow.id, CaseRow.state, CaseRow.due_at, CaseRow.version,
                              CaseRow.assignee, CaseRow.co_owner, CaseRow.escalation,
                              CaseRow.evidence_checklist, CustomerRow.tier,
                              ReviewRow.customer_id, ReviewRow.order_id)
            .outerjoin(CaseRow, CaseRow.review_key == ReviewRow.review_key)
            .outerjoin(CustomerRow, CustomerRow.customer_id == ReviewRow.customer_id))


class Reviews:
    """Write scored reviews (and open their cases); read them back."""

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
                    case_of, alerts = self._open_cases(s, fresh, terms_of, policy, now)
                    cases = len(case_of)
        except OperationalError as exc:
            raise write_failure(self.url, exc) from None
        return AddResult(added=len(fresh), already_stored=len(rows) - len(fresh),
                         cases_opened=cases, alerts_queued=alerts,
                         inserted={key: case_of.get(key) for key in fresh})

    @staticmethod
    def _record_outcomes(s: Session, reviews, now: datetime) -> None:
        """A buyer's new rated review of a product closes the loop on their earlier case."""
        rated = [r for r in reviews
                 if r.get("customer_id") and r.get("product_id") and r.get("rating") is not None]
        # the (buyer, product) pairs with a case still waiting for its outcome, looked up for
        # 500 buyers at a time: most new reviews have none, and skip the query per review below
        # (this loop only ever closes such cases, so a pair without one never gains one here)
        buyers = sorted({str(r["customer_id"]) for r in rated})
        waiting: set[tuple[str, str]] = set()
        for i in range(0, len(buyers), 500):
            waiting.update(tuple(pair) for pair in s.execute(
                select(ReviewRow.customer_id, ReviewRow.product_id).distinct()
                .join(CaseRow, CaseRow.review_key == ReviewRow.review_key)
                .where(ReviewRow.customer_id.in_(buyers[i:i + 500]),
                       CaseRow.outcome_review_key.is_(None))))
        for r in rated:
            if (str(r["customer_id"]), str(r["product_id"])) not in waiting:
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
