"""Complaint aspects from the scorer to every screen: the output files, the store, trends, the
API, the report and the dashboard. Each test fails if an aspect is lost on its way."""

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from monitor.alerts import AlertSettings
from monitor.api import create_app
from monitor.aspects import ASPECTS, category_of, join, split
from monitor.batch import ingest_batch, score_to_file
from monitor.cases import CasePolicy
from monitor.ingest import read_reviews
from monitor.scoring.judgement import AspectHead, judge
from monitor.store import Store
from monitor.themes import aspect_summary
from monitor.trends import aspect_counts, period_trends

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CSV = ("review_id,product_id,date,rating,text\n"
       "s1,P1,2026-03-02,2,bad: runs small\n"
       "s2,P1,2026-03-03,1,bad and broken and late\n"
       "s3,P1,2026-03-10,5,lovely\n"
       "s4,P2,2026-03-11,1,bad\n")


def test_category_is_the_most_severe_aspect_and_the_list_round_trips():
    assert category_of(["size_fit", "delay", "damage"]) == "damage"
    assert category_of(["counterfeit", "damage"]) == "counterfeit"
    assert category_of(["defect", "service"]) == "other"
    assert category_of([]) == "none"
    assert join(["delay", "damage", "delay"]) == "damage;delay"  # taxonomy order, once each
    assert split("damage;delay") == ["damage", "delay"] and split("") == [] and split(None) == []
    with pytest.raises(ValueError, match="unknown aspect"):
        join(["smell"])


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_score_output_carries_aspects_in_each_format(tmp_path, fake_analyzer, fmt):
    (tmp_path / "in.csv").write_text(CSV)
    out = tmp_path / f"out.{fmt}"
    score_to_file([tmp_path / "in.csv"], fake_analyzer, out, progress=False)
    if fmt == "parquet":
        got = pl.read_parquet(out)["aspects"].to_list()
        assert got == [["size_fit"], ["damage", "delay"], [], ["other"]]
    elif fmt == "csv":
        got = pl.read_csv(out, infer_schema=False)["aspects"].fill_null("").to_list()
        assert got == ["size_fit", "damage;delay", "", "other"]
    else:
        got = [json.loads(line)["aspects"] for line in out.read_text().splitlines()]
        assert got == [["size_fit"], ["damage", "delay"], [], ["other"]]


@pytest.fixture
def store(tmp_path, fake_analyzer, sqlite_url, monkeypatch):
    (tmp_path / "r.csv").write_text(CSV)
    store = Store(sqlite_url)
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, store, "t", policy=CasePolicy())
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    return store


def test_the_store_trends_and_report_keep_every_aspect(store):
    reviews = store.reviews()
    by_id = dict(zip(reviews["review_id"], reviews["aspects"].to_list()))
    assert by_id == {"s1": ["size_fit"], "s2": ["damage", "delay"], "s3": [], "s4": ["other"]}
    facts = store.facts()
    assert dict(zip(facts["review_key"], facts["aspects"])) == dict(
        zip(reviews["review_key"], ["size_fit", "damage;delay", "", "other"]))
    weekly = period_trends(facts, by="product", every="1w")
    p1 = weekly.filter(pl.col("product_id") == "P1")
    assert p1["aspect_size_fit"].sum() == 1 and p1["aspect_damage"].sum() == 1
    assert p1["aspect_delay"].sum() == 1 and p1["aspect_other"].sum() == 0
    assert {f"aspect_{a}" for a in ASPECTS} <= set(weekly.columns)
    counts = aspect_counts(reviews, by="product_id")
    assert counts.filter(pl.col("product_id") == "P2").rows() == [("P2", "other", 1)]
    summary = aspect_summary(reviews.filter(pl.col("product_id") == "P1"))
    assert sorted(summary["aspect"]) == ["damage", "delay", "size_fit"]
    assert summary.filter(pl.col("aspect") == "size_fit")["examples"][0].to_list() == [
        "bad: runs small"]


def test_the_api_answers_with_aspects(store, fake_analyzer):
    app = create_app(store, lambda: fake_analyzer, api_keys={"k": "write"}, model_version="t",
                     policy=CasePolicy(), alert_settings=AlertSettings())
    auth = {"Authorization": "Bearer k"}
    with TestClient(app) as client:
        posted = client.post("/v1/reviews", headers=auth, json={"id": "n1",
                                                               "text": "bad, too small"})
        assert posted.json()["reviews"][0]["aspects"] == ["size_fit"]
        assert client.get("/v1/reviews/s2", headers=auth).json()["aspects"] == ["damage",
                                                                                "delay"]
        trends = client.get("/v1/trends?by=product&freq=1w", headers=auth).json()["trends"]
        assert sum(t["aspect_size_fit"] for t in trends if t["product_id"] == "P1") == 1


def test_the_dashboard_filters_the_queue_by_aspect_and_shows_them_per_product(store):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert "size / fit" in list(table["aspects"])
    at.sidebar.multiselect[2].select("size_fit").run()  # Product, Category, Complaint aspect
    assert list(at.dataframe[0].value["aspects"]) == ["size / fit"]
    page = AppTest.from_file(str(Path(APP).parent / "views" / "product.py"),
                             default_timeout=60).run()
    assert not page.exception
    assert "What buyers complain about" in [s.value for s in page.subheader]


# --- the decision rules over the learned head --------------------------------------------------

def head(bars: dict[str, float]) -> AspectHead:
    n = len(ASPECTS)
    return AspectHead(ASPECTS, np.zeros(1), np.ones(1), np.zeros((n, 1)), np.zeros(n),
                      np.array([bars.get(a, 0.5) for a in ASPECTS]))


def probs(**given) -> np.ndarray:
    return np.array([[given.get(a, 0.0) for a in ASPECTS]])


def test_the_head_decides_and_phrases_only_back_it_up():
    h = head({})
    neg, pos = np.array([0.9]), np.array([0.05])
    # the head alone: size_fit, no level
    [j] = judge(["It is tight everywhere."], probs(size_fit=0.8), h, neg, pos)
    assert j.aspects == ("size_fit",) and (j.category, j.severity) == ("other", None)
    # a damage phrase the head does not support adds nothing
    [j] = judge(["The screen was cracked."], probs(defect=0.7, damage=0.1), h, neg, pos)
    assert j.aspects == ("defect",) and j.category == "other"
    # ...and one it leans towards (half its bar) counts, with the phrase as evidence
    [j] = judge(["The screen was cracked."], probs(damage=0.3), h, neg, pos)
    assert (j.aspects, j.category, j.severity) == (("damage",), "damage", 2)
    assert "cracked" in j.evidence
    # "broke" with the head saying defect stays a defect
    [j] = judge(["It broke."], probs(damage=0.3, defect=0.8), h, neg, pos)
    assert j.aspects == ("defect",) and j.category == "other"
    # a counterfeit claim is the level-1 safety net: it counts whatever the head says
    [j] = judge(["This is a fake, not the real brand."], probs(), h, neg, pos)
    assert (j.category, j.severity) == ("counterfeit", 1) and "fake" in j.evidence
    # a negative review that names nothing is still a complaint
    [j] = judge(["Meh."], probs(), h, neg, pos)
    assert j.aspects == ("other",)
    # a happy 5-star buyer keeps the aspect for trends but opens nothing
    [j] = judge(["Love it, runs a bit small."], probs(size_fit=0.9), h, np.array([0.02]),
                np.array([0.95]), ratings=[5])
    assert j.aspects == ("size_fit",) and (j.category, j.severity) == ("none", None)


def test_the_shipped_aspect_head_knows_every_aspect():
    from monitor.scoring.analyzer import ASPECT_HEAD_FILE

    loaded = AspectHead.load(ASPECT_HEAD_FILE)
    assert loaded.aspects == ASPECTS
    assert loaded.weight.shape == (len(ASPECTS), 768) and loaded.threshold.shape == (len(ASPECTS),)
