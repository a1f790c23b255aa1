"""The review store: SQLAlchemy 2 models, embedded SQLite by default, any SQLAlchemy URL by choice.

Raw reviews and their scores live in separate tables so a later model can re-score without
touching what the buyer wrote. Every write is one transaction: a failed ingest leaves nothing.

The parts, each one concern: `tables` (the schema), `connection` (opening and migrating),
`reviews` (scored reviews in and out), `cases` (case opening, moves, follow-ups), `outbox`
(alerts), `facts` (the frame charts read).
"""

from __future__ import annotations

from .cases import Cases
from .connection import Connection, StoreError, write_failure
from .facts import Facts
from .outbox import Outbox
from .reviews import OPEN_STATES, AddResult, Reviews
from .tables import (REVIEW_FIELDS, SCORE_FIELDS, AlertRow, Base, CaseEventRow, CaseRow,
                     CustomerRow, FollowUpRow, ReviewRow, ScoreRow)


class Store(Reviews, Cases, Outbox, Facts, Connection):
    """Reviews and scores behind one object; the dashboard and CLI never write SQL themselves."""


__all__ = ["OPEN_STATES", "REVIEW_FIELDS", "SCORE_FIELDS", "AddResult", "AlertRow", "Base",
           "CaseEventRow", "CaseRow", "CustomerRow", "FollowUpRow", "ReviewRow", "ScoreRow",
           "Store", "StoreError", "write_failure"]
