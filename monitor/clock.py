"""The team's clock: times shown to the seller team, in their time zone and their language.

The store keeps UTC (naive datetimes) and so do the files and APIs other tools read (`monitor
score`, `trends`, `cases list --out`, the HTTP API, the JSON webhook). What the team reads —
SLA deadlines, due times, the alerts log, Slack and e-mail alert texts, the improvement report,
`monitor cases list|show`, `follow-ups`, `alerts list` and the queue export — shows each time in
MONITOR_TEAM_TZ (an IANA zone, default UTC), written once here the way the UI language
(MONITOR_UI_LANG) writes it:

    en  2026-12-07 14:30 UTC+08:00          (in UTC: 2026-12-07 06:30 UTC)
    zh  2026年12月7日 14:30（UTC+8）          (in UTC: 2026年12月7日 06:30（UTC）)

Dates without a time (a review's date, a spike's day) are calendar days as written, never
shifted: en 2026-12-07, zh 2026年12月7日. Follow-ups to buyers keep their own clock: the buyer's
local morning (`monitor.cases.local_morning`).
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Iterable
from zoneinfo import ZoneInfo

import polars as pl

from .i18n import ui_language
from .settings import parse_team_tz

UTC = timezone.utc


def team_timezone() -> ZoneInfo:
    """MONITOR_TEAM_TZ as a zone (UTC when unset); an unknown zone is a ConfigError."""
    return parse_team_tz(os.environ.get("MONITOR_TEAM_TZ", ""))


def in_team_zone(value: datetime, tz: tzinfo | None = None) -> datetime:
    """`value` (naive = stored UTC, or aware) as an aware time in the team's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz or team_timezone())


def offset_label(value: datetime, lang: str) -> str:
    """The UTC offset of an aware time: en "UTC+08:00" / "UTC-03:30", zh "UTC+8" / "UTC-3:30";
    "UTC" for no offset."""
    offset = value.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    hours, minutes = divmod(int(abs(offset).total_seconds()) // 60, 60)
    if lang == "zh":
        return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def format_date(value: date | datetime | None, *, lang: str | None = None) -> str:
    """A calendar day as the UI language writes it (no time zone: the day as given); "" for
    None. en "2026-12-07", zh "2026年12月7日"."""
    if value is None:
        return ""
    if (lang or ui_language()) == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def format_time(value: datetime | None, *, lang: str | None = None,
                tz: tzinfo | None = None) -> str:
    """A stored (naive UTC) or aware time in the team's zone, as the UI language writes it;
    "" for None. en "2026-12-07 14:30 UTC+08:00", zh "2026年12月7日 14:30（UTC+8）"."""
    if value is None:
        return ""
    lang = lang or ui_language()
    local = in_team_zone(value, tz)
    day, clock, offset = format_date(local, lang=lang), f"{local:%H:%M}", offset_label(local, lang)
    if lang == "zh":
        return f"{day} {clock}（{offset}）"
    return f"{day} {clock} {offset}"


def parse_utc_text(text: str | None) -> datetime | None:
    """A UTC time as alert payloads carry it ("2026-12-14T14:00:00Z", "2026-12-14 14:00 UTC",
    or ISO with an offset) as an aware time; None when it is none of these."""
    value = (text or "").strip()
    if value.endswith(" UTC"):
        value = value[:-4] + "+00:00"
    elif value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_utc_text(text: str | None, *, lang: str | None = None,
                    tz: tzinfo | None = None) -> str:
    """`parse_utc_text`'s time written by `format_time`; text it cannot read stays as it is."""
    parsed = parse_utc_text(text)
    return format_time(parsed, lang=lang, tz=tz) if parsed is not None else (text or "")


def time_text(column: str, *, lang: str | None = None, tz: tzinfo | None = None) -> pl.Expr:
    """A datetime column (naive = stored UTC) as `format_time` text, for a table people read."""
    lang, tz = lang or ui_language(), tz or team_timezone()
    return pl.col(column).map_elements(lambda v: format_time(v, lang=lang, tz=tz),
                                       return_dtype=pl.String, skip_nulls=True)


def team_times(frame: pl.DataFrame, columns: Iterable[str], *, lang: str | None = None,
               tz: tzinfo | None = None) -> pl.DataFrame:
    """`frame` with each of `columns` it has written as `format_time` text (for display)."""
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns(time_text(c, lang=lang, tz=tz) for c in present) if present \
        else frame


# Times on the case clock (deadlines, moves, alert attempts): what the team reads in its zone.
# A review's `date` is not among them: it is the day the buyer wrote, kept as given.
CLOCK_COLUMNS = ("due_at", "opened_at", "first_response_at", "contact_at", "done_at",
                 "created_at", "delivered_at", "next_attempt_at", "at")


def with_team_zone(frame: pl.DataFrame, *, tz: ZoneInfo | None = None,
                   columns: Iterable[str] = CLOCK_COLUMNS) -> pl.DataFrame:
    """`frame` with its clock columns as aware datetimes in the team's zone (naive = UTC), so
    a CSV, JSONL or Parquet writer puts the team's offset beside each time: the same instants,
    written as the team reads them."""
    zone = (tz or team_timezone()).key
    exprs = []
    for name in columns:
        dtype = frame.schema.get(name)
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name) if dtype.time_zone else pl.col(name).dt.replace_time_zone("UTC")
            exprs.append(col.dt.convert_time_zone(zone))
    return frame.with_columns(exprs) if exprs else frame
