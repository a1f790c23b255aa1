"""Cases: opened with their review (deadline, owners, alerts, in the same transaction), moved
along the workflow with a true history, escalated when overdue, followed up after resolving."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Sequence

import polars as pl
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..cases import (COUNTERFEIT_EVIDENCE, FIRST_RESPONSE_STATES, WAITING_STATES,
                     ConcurrentEditError, check_transition, plan_follow_ups)
from ..errors import InputError
from ..schema import CASE_SCHEMA
from .tables import AlertRow, CaseEventRow, CaseRow, CustomerRow, FollowUpRow, ReviewRow, ScoreRow

if TYPE_CHECKING:
    from ..cases import CasePolicy


class Cases:
    """Case opening, routing, moves, evidence and follow-ups."""

    def _open_cases(self, s: Session, fresh: dict[str, dict], terms_of: dict[str, list[str]],
                    policy: "CasePolicy", now: datetime) -> tuple[dict[str, int], int]:
        """Open a case for each new review that needs a response, in the caller's transaction:
        its deadline, its owners (`CasePolicy.owners`: language, level, escalation words), its
        first history event and its alerts. Returns (review key -> case id, alerts queued)."""
        # each agent's open cases, for routing: a scan of the open cases, so only
        # when there are agents to route to and a new case to route
        routing = policy.agents and any(r["needs_response"] for r in fresh.values())
        load = dict(s.execute(select(CaseRow.assignee, func.count())
                              .where(CaseRow.state.in_(WAITING_STATES),
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
        return ({r["review_key"]: case_id for case_id, (r, _, _) in zip(case_ids, opened)},
                len(outbox))

    def transition_case(self, case_id: int, to_state: str, *, actor: str,
                        expected_version: int | None, note: str = "",
                        now: datetime | None = None) -> int:
        """Move a case to `to_state` if nobody changed it since `expected_version` (None: the
        version it has now, for callers that hold none, such as the CLI); returns the new
        version. Every move is recorded in the audit trail: from- and to-state, who, when, note.
        Raises KeyError (no such case), TransitionError, ConcurrentEditError."""
        from sqlalchemy import update

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
