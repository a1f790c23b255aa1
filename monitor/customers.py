"""Customer value from an order file: RFM tiers that raise a case's priority.

Tiers (first match wins):
- vip: spend in the last 12 months > 500 and at least 4 repeat purchases (5+ orders in all);
- growth: a single order of 200 or more, and at most 2 repeat purchases (3 orders or fewer);
- dormant: no purchase in the last 6 months;
- regular: everyone else.
Amounts are taken as given (one currency per file; convert before loading if mixed).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from .ingest import COLUMN_ALIASES, IngestError, find_column, parse_date, read_table

AMOUNT_ALIASES = ["amount", "total", "order_total", "value", "price", "revenue", "sales",
                  "grand_total", "金额", "金額"]
TIER_SCHEMA = {"customer_id": pl.String, "orders": pl.UInt32, "spend_12m": pl.Float64,
               "max_order": pl.Float64, "last_order": pl.Datetime("us"), "tier": pl.String}


def read_orders(path: str | Path) -> pl.DataFrame:
    """Orders as customer_id, date, amount; raises `IngestError` naming what is missing."""
    path = Path(path)
    df, _ = read_table(path)
    cols = {"customer_id": find_column(df.columns, COLUMN_ALIASES["customer_id"]),
            "date": find_column(df.columns, COLUMN_ALIASES["date"] + ["order_date", "ordered_at"]),
            "amount": find_column(df.columns, AMOUNT_ALIASES)}
    missing = [k for k, v in cols.items() if v is None]
    if missing:
        raise IngestError(f"{path}: no {', '.join(missing)} column among: "
                          + ", ".join(df.columns[:20]))

    def amount(v) -> float | None:
        try:
            return float(str(v).replace(",", "").replace("$", "").replace("€", "").strip())
        except ValueError:
            return None

    return pl.DataFrame({
        "customer_id": df[cols["customer_id"]].cast(pl.String).to_list(),
        "date": [parse_date(v) for v in df[cols["date"]].to_list()],
        "amount": [amount(v) for v in df[cols["amount"]].to_list()],
    }, schema={"customer_id": pl.String, "date": pl.Datetime("us"), "amount": pl.Float64}
    ).drop_nulls()


def customer_tiers(orders: pl.DataFrame, now: datetime | None = None) -> pl.DataFrame:
    """One row per customer: order count, 12-month spend, largest order, last order, tier."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    year_ago, half_year_ago = now - timedelta(days=365), now - timedelta(days=182)
    stats = orders.group_by("customer_id").agg(
        pl.len().cast(pl.UInt32).alias("orders"),
        pl.col("amount").filter(pl.col("date") > year_ago).sum().alias("spend_12m"),
        pl.col("amount").max().alias("max_order"),
        pl.col("date").max().alias("last_order"),
    )
    repeats = pl.col("orders").cast(pl.Int64) - 1
    tier = (pl.when((pl.col("spend_12m") > 500) & (repeats >= 4)).then(pl.lit("vip"))
            .when((pl.col("max_order") >= 200) & (repeats <= 2)).then(pl.lit("growth"))
            .when(pl.col("last_order") < half_year_ago).then(pl.lit("dormant"))
            .otherwise(pl.lit("regular")))
    return stats.with_columns(tier.alias("tier")).select(list(TIER_SCHEMA)).cast(TIER_SCHEMA) \
        .sort("customer_id")
