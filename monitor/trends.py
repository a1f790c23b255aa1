"""Pure polars functions: a scored-review frame in, an aggregated frame out."""

from __future__ import annotations

import polars as pl

from .aspects import ASPECTS
from .errors import InputError
from .schema import COMPLAINT_CATEGORIES, SEVERE_CATEGORIES

FREQUENCIES = {"1d": "day", "1w": "week", "1mo": "month"}
GROUPINGS = {"product": "product_id", "marketplace": "marketplace", "lang": "lang",
             "category": "category"}


def _grouping(by: str, every: str) -> str:
    if every not in FREQUENCIES:
        raise InputError(f"unsupported period '{every}'; use one of {', '.join(FREQUENCIES)}")
    column = GROUPINGS.get(by, by)
    if column not in GROUPINGS.values():
        raise InputError(f"unsupported grouping '{by}'; use one of {', '.join(GROUPINGS)}")
    return column


RESPONSE_SCHEMA = {"cases": pl.UInt32(), "answered": pl.UInt32(), "response_rate": pl.Float64(),
                   "median_hours_to_first_response": pl.Float64()}


def response_trends(cases: pl.DataFrame, reviews: pl.DataFrame | pl.LazyFrame | None = None, *,
                    by: str = "product", every: str = "1w") -> pl.DataFrame:
    """Per group and period in which cases were opened: cases, cases answered (a first
    response recorded), response rate, and median hours from opening to first response.

    `cases` is `Store.cases()`; grouping by marketplace needs the reviews (joined on
    review_key), since a case does not carry its marketplace."""
    column = _grouping(by, every)
    lf = cases.lazy()
    if column not in cases.columns:
        if reviews is None:
            raise InputError(f"grouping cases by {by} needs the reviews")
        lf = lf.join(reviews.lazy().select("review_key", column), on="review_key", how="left")
    hours = (pl.col("first_response_at") - pl.col("opened_at")).dt.total_seconds() / 3600
    return (lf.filter(pl.col("opened_at").is_not_null())
            .with_columns(pl.col("opened_at").dt.truncate(every).alias("period"),
                          hours.alias("_hours"))
            .group_by(column, "period")
            .agg(pl.len().alias("cases"),
                 pl.col("first_response_at").is_not_null().sum().alias("answered"),
                 pl.col("_hours").median().alias("median_hours_to_first_response"))
            .with_columns((pl.col("answered") / pl.col("cases")).alias("response_rate"))
            .select(column, "period", *RESPONSE_SCHEMA)
            .cast({**RESPONSE_SCHEMA, "period": pl.Datetime("us")})
            .sort(column, "period")
            .collect())


def period_trends(reviews: pl.DataFrame | pl.LazyFrame, *, by: str = "product",
                  every: str = "1w", cases: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per group (product, marketplace, lang or category) and period (1d, 1w, 1mo): volume,
    sentiment mix, given and predicted star means, counts per severity level, share needing a reply;
    with `cases` (`Store.cases()`), also the cases opened in the period, the response rate and
    the median hours to first response (`response_trends`).

    Weekly periods start on Mondays (polars `truncate`); rows without a date are left out because
    they cannot be placed on a timeline.
    """
    column = _grouping(by, every)
    lf = reviews.lazy() if isinstance(reviews, pl.DataFrame) else reviews
    frame = (
        with_aspect_flags(lf).filter(pl.col("date").is_not_null())
        .with_columns(pl.col("date").dt.truncate(every).alias("period"))
        .group_by(column, "period")
        .agg(
            pl.len().alias("reviews"),
            (pl.col("sentiment") == "negative").sum().alias("negative"),
            (pl.col("sentiment") == "neutral").mean().alias("neutral_share"),
            (pl.col("sentiment") == "positive").mean().alias("positive_share"),
            pl.col("rating").mean().alias("stars_mean"),
            pl.col("stars_pred").mean().alias("stars_pred_mean"),
            *[(pl.col("severity") == lvl).sum().alias(f"severity_{lvl}") for lvl in (1, 2, 3)],
            pl.col("severity").is_not_null().sum().alias("severe"),
            pl.col("needs_response").mean().alias("needs_response_share"),
            *[pl.col(f"aspect_{a}").sum().cast(pl.UInt32) for a in ASPECTS],
        )
        .with_columns((pl.col("negative") / pl.col("reviews")).alias("negative_share"))
        .sort(column, "period")
        .collect()
    )
    if cases is None:
        return frame
    responses = response_trends(cases, reviews, by=by, every=every)
    return (frame.join(responses, on=[column, "period"], how="left")
            .with_columns(pl.col("cases", "answered").fill_null(0)))


def with_aspect_flags(lf: pl.LazyFrame) -> pl.LazyFrame:
    """One boolean column per aspect (`aspect_size_fit`, ...), from `aspects` as a list (scored
    frames, `Store.reviews`) or as `;`-joined text (`Store.facts`); all false without it."""
    schema = lf.collect_schema()
    if "aspects" not in schema:
        return lf.with_columns(pl.lit(False).alias(f"aspect_{a}") for a in ASPECTS)
    if isinstance(schema["aspects"], pl.List):
        return lf.with_columns(pl.col("aspects").list.contains(a).fill_null(False)
                               .alias(f"aspect_{a}") for a in ASPECTS)
    cell = pl.lit(";") + pl.col("aspects").fill_null("") + pl.lit(";")
    return lf.with_columns(cell.str.contains(f";{a};", literal=True).alias(f"aspect_{a}")
                           for a in ASPECTS)


def aspect_counts(reviews: pl.DataFrame | pl.LazyFrame, *, by: str = "product_id") -> pl.DataFrame:
    """Long form for charts and reports: per group and aspect, how many reviews raise it
    (groups without any aspect are left out)."""
    lf = reviews.lazy() if isinstance(reviews, pl.DataFrame) else reviews
    flags = with_aspect_flags(lf)
    wide = flags.group_by(by).agg(pl.col(f"aspect_{a}").sum().alias(a) for a in ASPECTS)
    return (wide.unpivot(index=by, variable_name="aspect", value_name="reviews")
            .filter(pl.col("reviews") > 0)
            .with_columns(pl.col("reviews").cast(pl.UInt32))
            .sort([by, "reviews", "aspect"], descending=[False, True, False]).collect())


def negative_share(reviews: pl.DataFrame | pl.LazyFrame, *, by: str = "product_id",
                   every: str = "1w") -> pl.DataFrame:
    """`period_trends` for the dashboard's negative-share chart."""
    return period_trends(reviews, by=by, every=every)


SPIKE_SCHEMA = {
    "product_id": pl.String(), "category": pl.String(), "day": pl.Datetime("us"),
    "count": pl.UInt32(), "trailing_mean": pl.Float64(), "trailing_std": pl.Float64(),
    "last_7d": pl.UInt32(), "rule": pl.String(),
}


def detect_spikes(reviews: pl.DataFrame | pl.LazyFrame, *, k: float = 2.0, min_count: int = 3,
                  cluster_size: int = 3) -> pl.DataFrame:
    """Days on which complaints about one product and category spiked, with the rule that fired.

    Two rules, per product and complaint category, on calendar days:
    - "rate": the day's count is at least `min_count` and above the trailing 7-day mean by more
      than `k` standard deviations (days without complaints count as zero);
    - "cluster": a severe category (counterfeit, damage, delay) reaches `cluster_size` complaints
      within 7 days; reported on the day the threshold is crossed.
    """
    lf = reviews.lazy() if isinstance(reviews, pl.DataFrame) else reviews
    daily = (lf.filter(pl.col("category").is_in(COMPLAINT_CATEGORIES) & pl.col("date").is_not_null())
             .with_columns(pl.col("date").dt.truncate("1d").alias("day"))
             .group_by("product_id", "category", "day").agg(pl.len().alias("count"))
             .collect())
    if daily.is_empty():
        return pl.DataFrame(schema=SPIKE_SCHEMA)
    days = pl.DataFrame({"day": pl.datetime_range(daily["day"].min(), daily["day"].max(), "1d",
                                                  eager=True, time_unit="us")})
    grid = daily.select("product_id", "category").unique().join(days, how="cross")
    group = ["product_id", "category"]
    full = (grid.join(daily, on=["product_id", "category", "day"], how="left")
            .with_columns(pl.col("count").fill_null(0).cast(pl.UInt32))
            .sort([*group, "day"])
            .with_columns(
                pl.col("count").cast(pl.Float64).shift(1).rolling_mean(7, min_samples=3).over(group)
                .alias("trailing_mean"),
                pl.col("count").cast(pl.Float64).shift(1).rolling_std(7, min_samples=3).over(group)
                .fill_null(0.0).alias("trailing_std"),
                pl.col("count").rolling_sum(7, min_samples=1).over(group).cast(pl.UInt32)
                .alias("last_7d"),
            ))
    rate = (pl.col("count") >= min_count) & (
        pl.col("count") > pl.col("trailing_mean").fill_null(0.0) + k * pl.col("trailing_std"))
    crossed = (pl.col("category").is_in(SEVERE_CATEGORIES) & (pl.col("last_7d") >= cluster_size)
               & (pl.col("last_7d").shift(1).over(group).fill_null(0) < cluster_size))
    return (full.with_columns(pl.when(rate).then(pl.lit("rate")).when(crossed)
                              .then(pl.lit("cluster")).otherwise(None).alias("rule"))
            .filter(pl.col("rule").is_not_null())
            .select(list(SPIKE_SCHEMA)).cast(SPIKE_SCHEMA)
            .sort("day", descending=True))


def follow_up_summary(follow_ups: pl.DataFrame) -> pl.DataFrame:
    """Per follow-up kind (a `Store.follow_ups` frame): how many were planned, sent by their due
    date, sent late, and overdue and not sent; `on_time_share` = sent on time among those whose
    due date has passed or that were sent (null while none has)."""
    sent = pl.col("done_at").is_not_null()
    counted = pl.col("sent_on_time") + pl.col("sent_late") + pl.col("overdue")
    return (follow_ups.group_by("kind")
            .agg(pl.len().alias("planned"),
                 (sent & (pl.col("done_at") <= pl.col("due_at"))).sum().alias("sent_on_time"),
                 (sent & (pl.col("done_at") > pl.col("due_at"))).sum().alias("sent_late"),
                 (pl.col("status") == "overdue").sum().alias("overdue"))
            .with_columns(pl.when(counted > 0).then(pl.col("sent_on_time") / counted)
                          .alias("on_time_share"))
            .sort("kind"))


def period_kpis(reviews: pl.DataFrame, *, days: int = 7, now=None) -> dict[str, tuple[float, float]]:
    """Headline figures for the last `days` and the `days` before: {name: (current, previous)}.

    `now` defaults to the newest review's date, so an imported history shows its own last week.
    """
    from datetime import timedelta

    dated = reviews.filter(pl.col("date").is_not_null())
    if dated.is_empty():
        return {}
    now = now or dated["date"].max()
    cur = dated.filter(pl.col("date") > now - timedelta(days=days))
    prev = dated.filter((pl.col("date") <= now - timedelta(days=days))
                        & (pl.col("date") > now - timedelta(days=2 * days)))

    a, b = headline_figures(cur), headline_figures(prev)
    return {k: (a[k], b[k]) for k in a}


COMPLAINT_LEVELS = {1: "L1 counterfeit", 2: "L2 damage", 3: "L3 delay"}


def complaint_levels(reviews: pl.DataFrame) -> pl.DataFrame:
    """Complaints per severity level over every row of `reviews`: level (label), complaints."""
    return pl.DataFrame({"level": list(COMPLAINT_LEVELS.values()),
                         "complaints": [int((reviews["severity"] == n).sum())
                                        for n in COMPLAINT_LEVELS]},
                        schema={"level": pl.String, "complaints": pl.Int64})


def headline_figures(reviews: pl.DataFrame) -> dict[str, float]:
    """Volume, negative share, mean predicted stars, reviews needing a response and complaints
    with a severity level, over every row of `reviews` (dated or not)."""
    if reviews.is_empty():
        return {"reviews": 0, "negative_share": 0.0, "stars_pred": 0.0, "needs_response": 0,
                "severe": 0}
    return {"reviews": reviews.height,
            "negative_share": float((reviews["sentiment"] == "negative").mean()),
            "stars_pred": float(reviews["stars_pred"].mean()),
            "needs_response": int(reviews["needs_response"].sum()),
            "severe": int(reviews["severity"].is_not_null().sum())}


def mismatches(reviews: pl.DataFrame, *, min_confidence: float = 0.7) -> pl.DataFrame:
    """Reviews whose given stars and text disagree strongly: 4-5 stars with confidently negative
    text, or 1-2 stars with confidently positive text (wrong button, sarcasm, or a model miss)."""
    conf = pl.col("confidence") >= min_confidence
    return reviews.filter(
        ((pl.col("rating") >= 4) & (pl.col("sentiment") == "negative") & conf)
        | ((pl.col("rating") <= 2) & (pl.col("sentiment") == "positive") & conf))
