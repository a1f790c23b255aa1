"""Alembic environment: migrations run from `Store` on open, or by hand with `alembic upgrade head`
(alembic.ini at the project root; the database URL comes from MONITOR_DB_URL)."""

from alembic import context
from sqlalchemy import create_engine

from monitor.settings import Settings
from monitor.store import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # called from Store: reuse its connection and transaction
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or Settings.from_env().db_url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=Settings.from_env().db_url, target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
