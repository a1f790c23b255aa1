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


def test_mismatches_flag_confident_contradictions_only():
    from monitor.trends import mismatches

    d = datetime(2026, 3, 20)
    df = scored([(d, "negative", 1.5, True, None, 5.0, 0.9),    # 5 stars, angry text
                 (d, "positive", 4.5, False, None, 1.0, 0.95),  # 1 star, happy text
                 (d, "negative", 2.0, True, None, 5.0, 0.5),    # unsure: not flagged
                 (d, "negative", 1.5, True, None, 1.0, 0.9)])   # agree
    assert mismatches(df)["rating"].to_list() == [5.0, 1.0]
