"""The same store on a real PostgreSQL server (started by `.ci/run`; set MONITOR_TEST_PG_URL)."""

import os
import uuid

import pytest
from sqlalchemy import text

from monitor.batch import ingest_batch
from monitor.ingest import read_reviews
from monitor.store import Store

PG_URL = os.environ.get("MONITOR_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="MONITOR_TEST_PG_URL not set (.ci/run sets it)")


@pytest.fixture
def pg_store():
    from sqlalchemy import create_engine

    schema = f"t_{uuid.uuid4().hex[:8]}"  # each test gets its own schema, dropped afterwards
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        yield Store(url)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_ingest_queue_and_idempotence_on_postgres(tmp_path, fake_analyzer, pg_store):
    (tmp_path / "r.csv").write_text(
        "review_id,product_id,date,rating,text\n"
        "a1,P1,2026-03-02,5,lovely\n"
        "a2,P1,2026-03-03,1,bad and broken\n"
        "a3,P2,2026-03-10,2,bad fit\n")
    batch = read_reviews(tmp_path / "r.csv")
    first = ingest_batch(batch, fake_analyzer, pg_store, "test")
    second = ingest_batch(batch, fake_analyzer, pg_store, "test")
    assert (first.result.added, second.result.added, second.result.already_stored) == (3, 0, 3)
    assert pg_store.response_queue()["review_id"].to_list() == ["a2", "a3"]
    assert pg_store.response_queue(product=["x'); DROP TABLE reviews; --"]).is_empty()
    assert pg_store.count() == 3
