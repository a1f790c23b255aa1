"""Case work as agents do it: list, show and move cases.

One implementation for the three surfaces that act on cases: `monitor cases` (CLI),
`/v1/cases` (API) and the dashboard's queue. The workflow itself (states and allowed moves)
is `cases.TRANSITIONS`; the store enforces it and records every move.

Times leave this module as ISO 8601 with their offset (`+00:00`; with `tz`, that zone's, as
`monitor cases show` prints them for the team): the store keeps UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any, Sequence

import polars as pl

from .cases import CASE_STATES, WAITING_STATES, ConcurrentEditError, TransitionError, time_left
from .export import iso, with_utc_offsets
from .store import Store
from .errors import InputError, MonitorError

# What `monitor cases list` and its exports show, in this order.
CASE_LIST_COLUMNS = ("case_id", "review_id", "state", "severity", "category", "product_id",
                     "lang", "assignee", "co_owner", "tier", "opened_at", "due_at", "time_left",
                     "first_response_at", "escalation")
EVENT_FIELDS = ("from_state", "to_state", "actor", "at", "note")


class CaseNotFoundError(MonitorError, KeyError):
    """No case has this id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "no such case"


__all__ = ["CASE_LIST_COLUMNS", "CaseNotFoundError", "ConcurrentEditError", "TransitionError",
           "case_detail", "iso", "list_cases", "move_case", "utc_now", "with_utc_offsets"]


def utc_now() -> datetime:
    """Now in UTC, naive, as the store keeps times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def list_cases(store: Store, *, state: str | Sequence[str] | None = None,
               severity: int | None = None, product: str | None = None,
               assignee: str | None = None, now: datetime | None = None) -> pl.DataFrame:
    """Cases most urgent first, with `time_left` ("45 min left", "overdue 3 h"; empty once the
    first response is out), in CASE_LIST_COLUMNS order."""
    states = [state] if isinstance(state, str) else state
    unknown = [s for s in states or () if s not in CASE_STATES]
    if unknown:
        raise InputError(f"unknown case state '{unknown[0]}'; use one of {', '.join(CASE_STATES)}")
    if severity is not None and severity not in (1, 2, 3):
        raise InputError(f"unknown severity {severity}; use 1 (counterfeit), 2 (damage) or "
                         "3 (delay)")
    now = now or utc_now()
    frame = store.cases(states=states, severity=severity, product=product, assignee=assignee)
    waiting = pl.col("first_response_at").is_null() & pl.col("state").is_in(list(WAITING_STATES))
    return frame.with_columns(
        pl.when(waiting).then(pl.col("due_at").map_elements(lambda d: time_left(d, now),
                                                            return_dtype=pl.String))
        .otherwise(pl.lit("")).alias("time_left")).select(CASE_LIST_COLUMNS)


def case_detail(store: Store, case_id: int, *, now: datetime | None = None,
                tz: tzinfo | None = None) -> dict[str, Any]:
    """One case as a JSON-ready dict (times with offset: UTC, or in zone `tz`, as `monitor cases
    show` prints them for the team), with `version` for a later move and `events`: its
    history, oldest first, each with from_state, to_state, actor, at and note."""
    frame = store.cases(case_id=case_id)
    if frame.is_empty():
        raise CaseNotFoundError(f"no case {case_id}")
    row = frame.row(0, named=True)
    waiting = row["first_response_at"] is None and row["state"] in WAITING_STATES
    row["time_left"] = time_left(row["due_at"], now or utc_now()) if waiting else ""
    events = store.case_events(case_id)
    row["events"] = [{k: (iso(e[k], tz) if k == "at" else e[k]) for k in EVENT_FIELDS}
                     for e in events.iter_rows(named=True)]
    return {k: iso(v, tz) if isinstance(v, datetime) else v for k, v in row.items()}


def move_case(store: Store, case_id: int, to_state: str, *, actor: str, note: str = "",
              expected_version: int | None = None, tz: tzinfo | None = None) -> dict[str, Any]:
    """Move a case along the workflow and return it as `case_detail` does (times in `tz`).

    Raises CaseNotFoundError, TransitionError (a move the workflow refuses) and
    ConcurrentEditError (`expected_version` is not the case's version: someone was faster).
    """
    if not actor.strip():
        raise InputError("say who moves the case (--actor NAME): the history records it")
    try:
        store.transition_case(case_id, to_state, actor=actor.strip(), note=note,
                              expected_version=expected_version)
    except KeyError:
        raise CaseNotFoundError(f"no case {case_id}") from None
    return case_detail(store, case_id, tz=tz)
