"""Pure polars functions: a scored-review frame in, an aggregated frame out."""

from __future__ import annotations

import polars as pl

FREQUENCIES = {"1d": "day", "1w": "week", "1mo": "month"}


def negative_share(reviews: pl.DataFrame | pl.LazyFrame, *, by: str = "product_id",
                   every: str = "1w") -> pl.DataFrame:
    """Per `by` value and period: review count, negatives, negative share and mean predicted stars.

    Periods start on Mondays for weekly buckets (polars `truncate`); rows without a date are
    left out because they cannot be placed on a timeline.
    """
    if every not in FREQUENCIES:
        raise ValueError(f"unsupported period '{every}'; use one of {', '.join(FREQUENCIES)}")
    lf = reviews.lazy() if isinstance(reviews, pl.DataFrame) else reviews
    return (
        lf.filter(pl.col("date").is_not_null())
        .with_columns(pl.col("date").dt.truncate(every).alias("period"))
        .group_by(by, "period")
        .agg(
            pl.len().alias("reviews"),
            (pl.col("sentiment") == "negative").sum().alias("negative"),
            pl.col("stars_pred").mean().alias("stars_pred_mean"),
            pl.col("severity").is_not_null().sum().alias("severe"),
        )
        .with_columns((pl.col("negative") / pl.col("reviews")).alias("negative_share"))
        .sort(by, "period")
        .collect()
    )
