"""Exports people open in spreadsheets: cells that would run as formulas are made inert."""

from __future__ import annotations

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"^[+-]?\d+(?:[.,]\d+)*(?:[eE][+-]?\d+)?$"


def neutralize_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells starting with = + - @ (or tab / CR) with an apostrophe, as OWASP advises
    for CSV injection; plain signed numbers such as "-3" or "+4.5" stay as they are."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            col = pl.col(name)
            risky = (col.str.starts_with("=") | col.str.starts_with("+") | col.str.starts_with("-")
                     | col.str.starts_with("@") | col.str.starts_with("\t")
                     | col.str.starts_with("\r")) & ~col.str.contains(_NUMBER)
            exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """A spreadsheet-safe UTF-8 CSV (with BOM, so Excel reads non-Latin text correctly)."""
    return b"\xef\xbb\xbf" + neutralize_formulas(frame).write_csv().encode("utf-8")
