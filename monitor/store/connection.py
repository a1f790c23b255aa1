"""Opening a store: the engine, SQLite's settings, migrations, and the one-line errors a user
can act on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..errors import MonitorError
from ..settings import env_number, redact_url
from .tables import ReviewRow


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


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (the dashboard) never block the writer
    # another writer (an agent, a second ingest) holds the lock for milliseconds; wait for it
    wait_ms = int(env_number("MONITOR_DB_BUSY_TIMEOUT_S", 10, low=0, high=86400,
                             meaning="seconds a write waits for another writer") * 1000)
    cur.execute(f"PRAGMA busy_timeout={wait_ms}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Connection:
    """The database behind a store: opened, migrated, counted."""

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

    def _migrate(self) -> None:
        """Bring the schema to the newest migration (monitor/migrations); a database made before
        migrations existed is recognised as the baseline first."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import inspect

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            tables = inspect(conn).get_table_names()
            if "reviews" in tables and "alembic_version" not in tables:
                command.stamp(cfg, "0001")
            command.upgrade(cfg, "head")

    def is_empty(self) -> bool:
        """No review stored yet (cheaper than counting a million)."""
        with Session(self.engine) as s:
            return s.scalar(select(ReviewRow.review_key).limit(1)) is None

    def count(self) -> int:
        with Session(self.engine) as s:
            return s.scalar(select(func.count()).select_from(ReviewRow)) or 0
