"""The facts every chart reads: one row per review without its text, kept as a Parquet snapshot
beside the database and refreshed with what was scored since."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Sequence

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..schema import FACTS_SCHEMA
from ..files import write_atomic, write_text_atomic
from ..settings import Settings
from .tables import ReviewRow, ScoreRow


class Facts:
    """Trends and charts read these instead of the reviews table."""

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
