"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from monitor.store import Base, Store


def test_migrated_schema_matches_the_models(any_db_url):
    store = Store(any_db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


def test_a_database_created_before_migrations_is_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)  # how the first builds created their tables
    engine.dispose()
    store = Store(url)
    assert "alembic_version" in inspect(store.engine).get_table_names()
    assert store.count() == 0
