"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import monitor.store
from monitor.store import Base, Store

MIGRATIONS = str(Path(monitor.__file__).parent / "migrations")


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrated_schema_matches_the_models(any_db_url):
    store = Store(any_db_url)
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()


def test_a_database_from_before_migrations_is_adopted_and_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as conn:  # the baseline tables, as the first builds made them
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO reviews (review_key, text, ingested_at) "
                          "VALUES ('k', 'kept', '2026-01-01')"))
    engine.dispose()
    store = Store(url)
    assert store.count() == 1  # data kept
    assert "co_owner" in {c["name"] for c in inspect(store.engine).get_columns("cases")}
