"""Ingest -> score -> store with a stand-in analyzer: keys, idempotence, queue order, rejects."""

from datetime import datetime

import polars as pl
import pytest

from monitor.batch import ingest_batch, public_columns, score_frame, write_atomic
from monitor.cases import CasePolicy
from monitor.ingest import read_reviews
from monitor.schema import QUEUE_SCHEMA, SCORE_COLUMNS
from monitor.store import Store, StoreError
from monitor.trends import negative_share

CSV = """review_id,product_id,date,rating,text,marketplace
a1,P1,2026-03-02,5,lovely,amazon.de
a2,P1,2026-03-03,1,bad and broken,amazon.de
a3,P2,2026-03-10,2,bad fit,amazon.fr
a4,P2,2026-03-11,4,fine,amazon.fr
a5,P2,,4,,amazon.fr
"""


@pytest.fixture
def batch(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text(CSV)
    return read_reviews(path)


def test_score_frame_keeps_input_columns_and_adds_scores(batch, fake_analyzer):
    out = public_columns(score_frame(batch, fake_analyzer, progress=False))
    assert out.columns == ["review_id", "product_id", "date", "rating", "text", "marketplace",
                           *SCORE_COLUMNS]
    assert out.height == 4  # the empty-text row is a reject, not a silent blank
    assert out.filter(pl.col("review_id") == "a2")["severity"].to_list() == [2]


def test_ingest_twice_adds_nothing_the_second_time(batch, fake_analyzer, sqlite_url):
    store = Store(sqlite_url)
    first = ingest_batch(batch, fake_analyzer, store, "test")
    assert (first.result.added, first.result.already_stored, first.rejected) == (4, 0, 1)
    calls = fake_analyzer.calls
    second = ingest_batch(batch, fake_analyzer, store, "test")
    assert (second.result.added, second.result.already_stored) == (0, 4)
    assert fake_analyzer.calls == calls  # nothing re-scored
    assert store.count() == 4


def test_duplicate_rows_inside_one_file_are_stored_once(tmp_path, fake_analyzer, sqlite_url):
    path = tmp_path / "dups.csv"
    path.write_text("product_id,text,date\nP1,bad thing,2026-01-01\nP1,bad thing,2026-01-01\n")
    summary = ingest_batch(read_reviews(path), fake_analyzer, Store(sqlite_url), "test")
    assert summary.result.added == 1 and summary.result.already_stored == 1


def test_response_queue_is_most_severe_then_newest(batch, fake_analyzer, sqlite_url):
    store = Store(sqlite_url)
    ingest_batch(batch, fake_analyzer, store, "test")
    queue = store.response_queue()
    assert queue.schema == pl.Schema(QUEUE_SCHEMA)
    assert queue["case_id"].null_count() == 2  # stored without a case policy
    assert queue["review_id"].to_list() == ["a2", "a3"]
    assert store.response_queue(product=["P2"])["review_id"].to_list() == ["a3"]
    assert store.response_queue(category=["damage"])["review_id"].to_list() == ["a2"]
    assert store.products() == ["P1", "P2"]


def test_filters_with_injection_strings_are_bound_parameters(batch, fake_analyzer, sqlite_url):
    store = Store(sqlite_url)
    ingest_batch(batch, fake_analyzer, store, "test")
    assert store.response_queue(product=["P1' OR '1'='1"]).is_empty()
    assert store.count() == 4


def test_unreachable_database_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open database"):
        Store(f"sqlite:///{blocker}/sub/monitor.db")


def test_weekly_negative_share(batch, fake_analyzer, sqlite_url):
    store = Store(sqlite_url)
    ingest_batch(batch, fake_analyzer, store, "test")
    assert store.newest_date() == datetime(2026, 3, 11)
    assert store.reviews(since=datetime(2026, 3, 10))["review_id"].to_list() == ["a3", "a4"]
    weekly = negative_share(store.reviews(), every="1w")
    p1 = weekly.filter(pl.col("product_id") == "P1")
    assert p1["period"].to_list() == [datetime(2026, 3, 2)]
    assert p1["negative_share"].to_list() == [0.5]
    assert weekly.filter(pl.col("product_id") == "P2")["reviews"].to_list() == [2]
    with pytest.raises(ValueError):
        negative_share(store.reviews(), every="7x")


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_write_atomic_round_trips_each_format(tmp_path, suffix):
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    out = tmp_path / f"out{suffix}"
    write_atomic(frame, out)
    back = {".parquet": pl.read_parquet, ".csv": pl.read_csv, ".jsonl": pl.read_ndjson}[suffix](out)
    assert back.equals(frame)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no stray part files


def test_write_atomic_leaves_no_half_file_on_failure(tmp_path, monkeypatch):
    frame = pl.DataFrame({"a": [1]})
    out = tmp_path / "out.parquet"

    def boom(self, path, *a, **k):
        open(path, "wb").write(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", boom)
    with pytest.raises(OSError):
        write_atomic(frame, out)
    assert list(tmp_path.iterdir()) == []


def test_cli_trends_writes_the_aggregate(batch, fake_analyzer, sqlite_url, tmp_path):
    from conftest import run_cli

    ingest_batch(batch, fake_analyzer, Store(sqlite_url), "test")
    out = tmp_path / "trends.parquet"
    proc = run_cli("trends", "--by", "product", "--freq", "1w", "--out", out, "--db", sqlite_url)
    assert proc.returncode == 0, proc.stderr
    df = pl.read_parquet(out)
    assert df["product_id"].to_list() == ["P1", "P2"]
    assert df["severity_2"].to_list() == [1, 0]
    assert df["needs_response_share"].to_list() == [0.5, 0.5]


def test_input_columns_named_like_score_columns_are_kept_with_a_prefix(tmp_path, fake_analyzer):
    path = tmp_path / "labelled.csv"
    path.write_text("text,sentiment,lang\nbad,negative,German\nlovely,positive,\n")
    out = public_columns(score_frame(read_reviews(path), fake_analyzer, progress=False))
    assert out["input_sentiment"].to_list() == ["negative", "positive"]
    assert out["lang"].to_list() == ["de", "en"]  # given language normalised, else detected
    assert out.columns.count("lang") == 1


class Interrupting:
    """Delegates to the stand-in analyzer, then dies like a killed process after `calls` calls."""

    def __init__(self, inner, calls):
        self.inner, self.left = inner, calls

    def score(self, texts, **kw):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return self.inner.score(texts, **kw)


def big_batch(tmp_path, n=50):
    rows = ["review_id,product_id,text"] + [f"r{i},P{i % 3},{'bad' if i % 4 else 'good'} {i}"
                                            for i in range(n)]
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n")
    return read_reviews(tmp_path / "big.csv")


def test_interrupted_score_resumes_to_the_same_output(tmp_path, fake_analyzer):
    from monitor.batch import score_to_file

    batch = big_batch(tmp_path)
    clean = tmp_path / "clean.parquet"
    score_to_file([batch], fake_analyzer, clean, chunk_rows=8, progress=False)
    out = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        score_to_file([batch], Interrupting(fake_analyzer, 3), out, chunk_rows=8, progress=False)
    assert not out.exists()
    assert len(list((tmp_path / "out.parquet.parts").glob("part-*.parquet"))) == 3
    counting = Interrupting(fake_analyzer, 99)
    rows = score_to_file([batch], counting, out, resume=True, chunk_rows=8, progress=False).rows
    assert rows == 50 and counting.left == 99 - 4  # only the 4 missing chunks were scored
    assert pl.read_parquet(out).equals(pl.read_parquet(clean))
    assert not (tmp_path / "out.parquet.parts").exists()


def test_resume_refuses_parts_of_another_run(tmp_path, fake_analyzer):
    from monitor.batch import score_to_file
    from monitor.ingest import IngestError

    batch = big_batch(tmp_path)
    out = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        score_to_file([batch], Interrupting(fake_analyzer, 1), out, chunk_rows=8, progress=False)
    with pytest.raises(IngestError, match="different run"):
        score_to_file([batch], fake_analyzer, out, resume=True, chunk_rows=16, progress=False)
    # without --resume a fresh run starts over
    assert score_to_file([batch], fake_analyzer, out, chunk_rows=16, progress=False).rows == 50


def test_queue_counts_are_not_capped_by_the_view(tmp_path, fake_analyzer, sqlite_url):
    rows = ["review_id,text"] + [f"q{i},bad and broken" for i in range(30)] + ["q99,bad"]
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n")
    store = Store(sqlite_url)
    ingest_batch(read_reviews(tmp_path / "q.csv"), fake_analyzer, store, "t")
    assert store.response_queue(limit=10).height == 10
    assert store.queue_counts() == {2: 30, None: 1}
    assert store.queue_counts(category=["other"]) == {None: 1}


def test_a_complaint_channel_needs_an_answer_unless_it_is_praise(tmp_path, fake_analyzer,
                                                                 sqlite_url):
    from monitor.ingest import normalize_channel

    assert [normalize_channel(v) for v in ("Ticket", " e-mail ", "WhatsApp", "weird", None)] == \
        ["complaint", "email", "chat", "review", "review"]
    src = tmp_path / "in.csv"
    pl.DataFrame({"id": ["r", "c", "p"], "text": ["so so", "where is my parcel", "lovely"],
                  "channel": ["review", "helpdesk", "email"]}).write_csv(src)
    # the stand-in analyzer calls the first two texts positive; make them neutral
    class Neutral(type(fake_analyzer)):
        def score(self, texts, **kw):
            import dataclasses
            return [s if t == "lovely" else dataclasses.replace(s, sentiment="neutral",
                                                                 needs_response=False)
                    for t, s in zip(texts, super().score(texts, **kw))]

    store = Store(sqlite_url)
    ingest_batch(read_reviews(src), Neutral(), store, "t", progress=False, policy=CasePolicy())
    got = {r["review_id"]: r for r in store.reviews().iter_rows(named=True)}
    assert {k: v["channel"] for k, v in got.items()} == {"r": "review", "c": "complaint",
                                                         "p": "email"}
    assert {k: v["needs_response"] for k, v in got.items()} == {"r": False, "c": True, "p": False}
    assert store.response_queue()["review_id"].to_list() == ["c"]


def test_facts_snapshot_follows_new_and_edited_reviews(tmp_path, fake_analyzer):
    from monitor.ingest import reviews_from_records
    from monitor.schema import FACTS_SCHEMA

    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = Store(url)
    snapshot = tmp_path / "m.db.facts.parquet"

    def ingest(records):
        ingest_batch(reviews_from_records(records, "t"), fake_analyzer, store, "t", progress=False)

    ingest([{"id": f"a{i}", "text": "lovely", "product_id": "P", "date": "2026-03-02"}
            for i in range(5)])
    first = store.facts()
    assert first.schema == pl.Schema(FACTS_SCHEMA) and first.height == 5 and snapshot.exists()
    ingest([{"id": "b1", "text": "bad", "product_id": "Q", "date": "2026-03-09"}])
    ingest([{"id": "a0", "text": "bad now", "product_id": "P", "date": "2026-03-02"}])  # edited
    facts = store.facts()
    assert facts.height == 6 and facts["review_key"].n_unique() == 6
    by_id = dict(zip(store.reviews()["review_key"], store.reviews()["sentiment"]))
    assert dict(zip(facts["review_key"], facts["sentiment"])) == by_id
    assert store.facts(product=["Q"])["product_id"].to_list() == ["Q"]
    assert store.facts(since=datetime(2026, 3, 5)).height == 1
    snapshot.write_bytes(b"not parquet")  # a damaged cache is rebuilt, nothing is lost
    assert store.facts().height == 6
    snapshot.unlink()
    assert store.facts().height == 6 and snapshot.exists()


def test_a_review_another_process_stores_meanwhile_counts_as_already_stored(
        batch, fake_analyzer, any_db_url, monkeypatch):
    # two writers (an API worker and `monitor watch`) score the same review at once: the one
    # that inserts second looked before the other's insert; its insert conflicts, is retried,
    # and counts the review as stored, with one case and no error
    from monitor.batch import store_rows

    store = Store(any_db_url)
    rows = store_rows(score_frame(batch, fake_analyzer), "t")
    assert store.add_scored(rows[:2], "t", CasePolicy()).added == 2
    real = store.existing_keys
    looks = []

    def stale_first_look(keys):
        keys = list(keys)
        looks.append(keys)
        return set() if len(looks) == 1 else real(keys)  # the first look predates the insert

    monkeypatch.setattr(store, "existing_keys", stale_first_look)
    again = store.add_scored(rows, "t", CasePolicy())
    assert len(looks) == 2
    assert (again.added, again.already_stored) == (len(rows) - 2, 2)
    assert set(again.inserted) == {r["review_key"] for r in rows[2:]}
    assert store.cases().height == len({r["review_key"] for r in rows if r["needs_response"]})


def test_a_file_is_stored_chunk_by_chunk_with_progress(tmp_path, fake_analyzer, any_db_url):
    from monitor.batch import ingest_file

    path = tmp_path / "reviews.csv"
    path.write_text(CSV)
    store, seen = Store(any_db_url), []
    summary = ingest_file(path, fake_analyzer, store, "t", policy=CasePolicy(),
                          on_rows=seen.append, chunk_rows=2, name="export.csv")
    assert seen == [2, 2]  # chunks of 2 usable reviews (the one without text is rejected)
    assert (summary.added, summary.rejected, summary.cases_opened) == (4, 1, 2)
    assert summary.line().startswith("export.csv: 4 added")
    again = ingest_file(path, fake_analyzer, store, "t", policy=CasePolicy(), chunk_rows=3)
    assert (again.added, again.already_stored, again.cases_opened) == (0, 4, 0)
