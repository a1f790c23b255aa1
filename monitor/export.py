"""What leaves the product for people and other tools: spreadsheet-safe cells, times with their
offset, and the queue export with a reply draft and a checklist per review."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

import polars as pl

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


def flat_lists(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns (`aspects`) as `;`-joined text, the form a CSV cell holds."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return frame.with_columns(pl.col(lists).list.join(";")) if lists else frame


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """A spreadsheet-safe UTF-8 CSV (with BOM, so Excel reads non-Latin text correctly)."""
    return b"\xef\xbb\xbf" + neutralize_formulas(flat_lists(with_utc_offsets(frame))).write_csv(
        datetime_format=ISO_WITH_OFFSET).encode("utf-8")


ISO_WITH_OFFSET = "%Y-%m-%dT%H:%M:%S%:z"


def iso(value: datetime | None, tz: tzinfo | None = None) -> str | None:
    """A stored (naive UTC) or aware time as ISO 8601 with its offset: 2026-12-14T14:00:00+00:00;
    with `tz`, the same instant in that zone (2026-12-14T22:00:00+08:00)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value.astimezone(tz) if tz is not None else value).isoformat()


def with_utc_offsets(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's naive (stored, UTC) datetime columns marked as UTC, so every writer (CSV,
    JSONL, Parquet) puts the offset beside each time."""
    naive = [name for name, dtype in frame.schema.items()
             if isinstance(dtype, pl.Datetime) and dtype.time_zone is None]
    return frame.with_columns(pl.col(naive).dt.replace_time_zone("UTC")) if naive else frame


def csv_text(frame: pl.DataFrame) -> str:
    """CSV for a terminal or a pipe, stored (UTC) times with their offset."""
    return flat_lists(with_utc_offsets(frame)).write_csv(datetime_format=ISO_WITH_OFFSET)


# The queue export's headers are its column names (what scripts and the tests read); with
# MONITOR_UI_LANG=zh they are written in Chinese (catalog context "queue export column").
HEADER_CONTEXT = "queue export column"


def queue_export(queue: pl.DataFrame, *, contact: str,
                 custom: dict[str, dict[str, str]] | None = None, lang: str | None = None,
                 tz: ZoneInfo | None = None) -> pl.DataFrame:
    """The response queue as teams work it in a spreadsheet or helpdesk: each review with its
    case, buyer ids, a public reply draft in the buyer's language and a `checklist` (what the
    draft covers and, for a counterfeit claim, the evidence still to gather).

    For the team: the headers in its language (`lang`, default MONITOR_UI_LANG; English keeps
    the column names) and the case times (`due_at`) in its zone (`tz`, default
    MONITOR_TEAM_TZ), with their offset; a review's `date` stays as given (UTC offset)."""
    from .cases import COUNTERFEIT_EVIDENCE
    from .clock import team_timezone, with_team_zone
    from .i18n import translate, ui_language
    from .replies import check_reply, with_reply_drafts

    lang, tz = lang or ui_language(), tz or team_timezone()
    frame = with_reply_drafts(queue.drop("case_version", strict=False), contact=contact,
                              custom=custom)
    checklists = []
    for r in frame.select("reply_draft", "category", "evidence_checklist").iter_rows(named=True):
        check = check_reply(r["reply_draft"], contact=contact)
        parts = [f"{what}: {'yes' if ok else 'missing'}" for ok, what in (
            (check.acknowledge, "acknowledges"), (check.fix, "states the fix"),
            (check.invite, "invites to a private channel"))]
        parts += [f"remove: {p}" for p in check.problems]
        if r["category"] == "counterfeit":
            have = set((r["evidence_checklist"] or "").split(","))
            todo = [label for key, label in COUNTERFEIT_EVIDENCE.items() if key not in have]
            parts.append("evidence to gather: " + (", ".join(todo) if todo else "none"))
        checklists.append("; ".join(parts))
    frame = with_utc_offsets(with_team_zone(
        frame.with_columns(pl.Series("checklist", checklists, dtype=pl.String)), tz=tz))
    return frame.rename({c: translate(c, lang, HEADER_CONTEXT) for c in frame.columns})
