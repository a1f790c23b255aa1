from datetime import datetime, timedelta

import polars as pl

from monitor.trends import SPIKE_SCHEMA, detect_spikes


def frame(events):
    """events: (product, category, day offset) tuples -> a minimal scored-review frame."""
    base = datetime(2026, 3, 1, 12)
    return pl.DataFrame({
        "product_id": [p for p, _, _ in events],
        "category": [c for _, c, _ in events],
        "date": [base + timedelta(days=d) for _, _, d in events],
    })


def test_rate_spike_on_the_burst_day_only():
    background = [("K", "other", d) for d in range(0, 20, 2)]  # one every other day
    burst = [("K", "other", 20)] * 6
    spikes = detect_spikes(frame(background + burst), k=2.0, min_count=3)
    assert spikes.filter(pl.col("rule") == "rate")["day"].to_list() == [datetime(2026, 3, 21)]
    assert spikes.schema == pl.Schema(SPIKE_SCHEMA)


def test_k_controls_sensitivity():
    events = [("K", "other", d) for d in range(10)] + [("K", "other", 10)] * 3
    assert detect_spikes(frame(events), k=1.5).height >= 1
    assert detect_spikes(frame(events), k=3.0, min_count=5).is_empty()


def test_three_severe_complaints_in_a_week_is_a_cluster_reported_once():
    events = [("B", "counterfeit", 1), ("B", "counterfeit", 4), ("B", "counterfeit", 6),
              ("B", "counterfeit", 7)]
    spikes = detect_spikes(frame(events), min_count=99)
    assert spikes.select("product_id", "category", "day", "rule").rows() == [
        ("B", "counterfeit", datetime(2026, 3, 7), "cluster")]


def test_other_complaints_never_form_a_cluster_and_products_are_separate():
    events = [("A", "other", 1), ("A", "other", 2), ("A", "other", 3),
              ("A", "delay", 1), ("C", "delay", 2), ("D", "delay", 3)]
    assert detect_spikes(frame(events), min_count=99).is_empty()


def test_no_complaints_gives_an_empty_typed_frame():
    out = detect_spikes(frame([("A", "none", 1)]))
    assert out.is_empty() and out.schema == pl.Schema(SPIKE_SCHEMA)


def scored(rows):
    return pl.DataFrame(rows, schema={"date": pl.Datetime("us"), "sentiment": pl.String,
                                      "stars_pred": pl.Float64, "needs_response": pl.Boolean,
                                      "severity": pl.Int8, "rating": pl.Float64,
                                      "confidence": pl.Float64}, orient="row")


def test_period_kpis_compare_last_week_with_the_one_before():
    from monitor.trends import period_kpis

    d = datetime(2026, 3, 20)
    df = scored([(d, "negative", 1.5, True, 2, 1.0, 0.9),
                 (d - timedelta(days=2), "positive", 4.5, False, None, 5.0, 0.9),
                 (d - timedelta(days=9), "positive", 4.0, False, None, 4.0, 0.9)])
    k = period_kpis(df)
    assert k["reviews"] == (2, 1)
    assert k["negative_share"] == (0.5, 0.0)
    assert k["severe"] == (1, 0)
    assert period_kpis(df.clear()) == {}


def test_headline_figures_and_complaint_levels_count_undated_reviews_too():
    from monitor.trends import complaint_levels, headline_figures, period_kpis

    df = scored([(None, "negative", 1.5, True, 1, 1.0, 0.9),
                 (None, "negative", 2.0, True, 3, 2.0, 0.9),
                 (None, "positive", 4.5, False, None, 5.0, 0.9),
                 (None, "neutral", 3.0, False, None, None, 0.6)])
    assert period_kpis(df) == {}  # nothing to compare over time
    assert headline_figures(df) == {"reviews": 4, "negative_share": 0.5, "stars_pred": 2.75,
                                    "needs_response": 2, "severe": 2}
    assert headline_figures(df.clear())["reviews"] == 0
    assert complaint_levels(df).rows() == [("L1 counterfeit", 1), ("L2 damage", 0),
                                           ("L3 delay", 1)]


def test_mismatches_flag_confident_contradictions_only():
    from monitor.trends import mismatches

    d = datetime(2026, 3, 20)
    df = scored([(d, "negative", 1.5, True, None, 5.0, 0.9),    # 5 stars, angry text
                 (d, "positive", 4.5, False, None, 1.0, 0.95),  # 1 star, happy text
                 (d, "negative", 2.0, True, None, 5.0, 0.5),    # unsure: not flagged
                 (d, "negative", 1.5, True, None, 1.0, 0.9)])   # agree
    assert mismatches(df)["rating"].to_list() == [5.0, 1.0]


def test_response_rate_and_median_time_to_first_response():
    from monitor.trends import period_trends, response_trends

    mon = datetime(2026, 3, 2, 9)  # a Monday
    cases = pl.DataFrame({
        "review_key": ["a", "b", "c", "d"], "product_id": ["P", "P", "P", "Q"],
        "category": ["damage"] * 4, "lang": ["en"] * 4,
        "opened_at": [mon, mon + timedelta(days=1), mon + timedelta(days=2), mon],
        "first_response_at": [mon + timedelta(hours=1), mon + timedelta(days=1, hours=3), None,
                              None],
    })
    got = response_trends(cases, by="product", every="1w")
    p = got.filter(pl.col("product_id") == "P").row(0, named=True)
    assert (p["cases"], p["answered"]) == (3, 2)
    assert abs(p["response_rate"] - 2 / 3) < 1e-9
    assert p["median_hours_to_first_response"] == 2.0  # median of 1 h and 3 h
    q = got.filter(pl.col("product_id") == "Q").row(0, named=True)
    assert (q["cases"], q["answered"], q["median_hours_to_first_response"]) == (1, 0, None)

    reviews = pl.DataFrame({
        "review_key": ["a", "b", "c", "d", "e"], "product_id": ["P", "P", "P", "Q", "R"],
        "marketplace": ["de", "de", "fr", "de", "de"], "lang": ["en"] * 5,
        "category": ["damage"] * 4 + ["none"],
        "date": [mon] * 5, "rating": [1.0] * 5, "sentiment": ["negative"] * 4 + ["positive"],
        "stars_pred": [1.0] * 5, "severity": [2, 2, 2, 2, None], "needs_response": [True] * 4 + [False],
    }, schema_overrides={"severity": pl.Int8})
    weekly = period_trends(reviews, by="marketplace", every="1w", cases=cases)
    de = weekly.filter(pl.col("marketplace") == "de").row(0, named=True)
    assert (de["reviews"], de["cases"], de["answered"]) == (4, 3, 2)
    assert de["median_hours_to_first_response"] == 2.0
    by_product = period_trends(reviews, by="product", every="1w", cases=cases)
    r = by_product.filter(pl.col("product_id") == "R").row(0, named=True)
    assert (r["cases"], r["response_rate"]) == (0, None)  # no case: nothing to answer


def test_follow_up_summary_counts_on_time_late_and_overdue():
    from monitor.trends import follow_up_summary

    due = datetime(2026, 3, 10)
    frame = pl.DataFrame({
        "kind": ["improvement_report"] * 4 + ["try_again"],
        "due_at": [due] * 5,
        "done_at": [datetime(2026, 3, 9), datetime(2026, 3, 12), None, None, None],
        "status": ["done", "done", "overdue", "planned", "planned"]})
    out = follow_up_summary(frame)
    report, again = out.to_dicts()
    assert (report["planned"], report["sent_on_time"], report["sent_late"],
            report["overdue"]) == (4, 1, 1, 1)
    assert abs(report["on_time_share"] - 1 / 3) < 1e-9
    assert again["planned"] == 1 and again["on_time_share"] is None
