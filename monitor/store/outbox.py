"""The alert outbox: alerts are written with their case and delivered by monitor.alerts; spikes
and late follow-ups queue theirs here, each once."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session
from ..trends import detect_spikes
from .tables import AlertRow, CaseRow, FollowUpRow

if TYPE_CHECKING:
    from ..cases import CasePolicy


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


class Outbox:
    """Queue, claim and record alerts."""

    def queue_spike_alerts(self, policy: "CasePolicy", *, now: datetime | None = None,
                           recent_days: int = 2) -> int:
        """Queue one alert per channel for each complaint spike of the last `recent_days` days
        (older history never alerts); a spike already queued is not queued again."""
        from datetime import timedelta

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
