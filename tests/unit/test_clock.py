"""The team's clock (MONITOR_TEAM_TZ): stored UTC times shown in the team's zone, written the way
the team's language (MONITOR_UI_LANG) writes them; a zone that does not exist is refused."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from monitor.clock import (format_date, format_time, format_utc_text, parse_utc_text,
                           team_times, team_timezone, with_team_zone)
from monitor.errors import ConfigError
from monitor.export import csv_text
from monitor.settings import Settings, parse_team_tz

SHANGHAI = ZoneInfo("Asia/Shanghai")
STORED = datetime(2026, 12, 7, 6, 30)  # as the store keeps it: naive UTC


@pytest.mark.parametrize("zone,en,zh", [
    ("UTC", "2026-12-07 06:30 UTC", "2026年12月7日 06:30（UTC）"),
    ("Asia/Shanghai", "2026-12-07 14:30 UTC+08:00", "2026年12月7日 14:30（UTC+8）"),
    ("Asia/Kolkata", "2026-12-07 12:00 UTC+05:30", "2026年12月7日 12:00（UTC+5:30）"),
    ("America/New_York", "2026-12-07 01:30 UTC-05:00", "2026年12月7日 01:30（UTC-5）"),
    ("Pacific/Auckland", "2026-12-07 19:30 UTC+13:00", "2026年12月7日 19:30（UTC+13）"),
])
def test_one_format_per_language_in_the_teams_zone(zone, en, zh):
    assert format_time(STORED, lang="en", tz=ZoneInfo(zone)) == en
    assert format_time(STORED, lang="zh", tz=ZoneInfo(zone)) == zh


def test_the_day_and_the_offset_follow_the_zone_at_that_instant():
    # past midnight in Shanghai: the day moves too
    assert format_time(datetime(2026, 12, 7, 20, 0), lang="zh", tz=SHANGHAI) == \
        "2026年12月8日 04:00（UTC+8）"
    berlin = ZoneInfo("Europe/Berlin")  # summer time, then winter time
    assert format_time(datetime(2026, 7, 1, 12, 0), lang="en", tz=berlin) == \
        "2026-07-01 14:00 UTC+02:00"
    assert format_time(datetime(2026, 1, 1, 12, 0), lang="en", tz=berlin) == \
        "2026-01-01 13:00 UTC+01:00"
    aware = datetime(2026, 12, 7, 14, 30, tzinfo=SHANGHAI)  # an aware time is the same instant
    assert format_time(aware, lang="en", tz=ZoneInfo("UTC")) == "2026-12-07 06:30 UTC"
    assert format_time(None, lang="en") == ""


def test_the_language_and_the_zone_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    monkeypatch.setenv("MONITOR_TEAM_TZ", "Asia/Shanghai")
    assert format_time(STORED) == "2026年12月7日 14:30（UTC+8）"
    monkeypatch.setenv("MONITOR_UI_LANG", "en")
    monkeypatch.delenv("MONITOR_TEAM_TZ")
    assert format_time(STORED) == "2026-12-07 06:30 UTC"  # default: UTC, as before


def test_calendar_days_are_written_never_shifted():
    assert format_date(date(2026, 3, 2), lang="en") == "2026-03-02"
    assert format_date(datetime(2026, 3, 2), lang="zh") == "2026年3月2日"
    assert format_date(None, lang="zh") == ""


def test_alert_payload_times_are_read_and_rewritten():
    z = parse_utc_text("2026-12-14T14:00:00Z")
    assert z == datetime(2026, 12, 14, 14, tzinfo=timezone.utc)
    assert parse_utc_text("2026-12-14 14:00 UTC") == z
    assert parse_utc_text("2026-12-14T22:00:00+08:00") == z
    assert parse_utc_text("soon") is None and parse_utc_text(None) is None
    assert format_utc_text("2026-12-14T14:00:00Z", lang="zh", tz=SHANGHAI) == \
        "2026年12月14日 22:00（UTC+8）"
    assert format_utc_text("soon", lang="en", tz=SHANGHAI) == "soon"  # unreadable: as it came


def test_team_zone_setting(monkeypatch):
    monkeypatch.delenv("MONITOR_TEAM_TZ", raising=False)
    assert team_timezone() == ZoneInfo("UTC") and Settings.from_env().team_tz == ZoneInfo("UTC")
    monkeypatch.setenv("MONITOR_TEAM_TZ", " Asia/Shanghai ")
    assert team_timezone() == SHANGHAI and Settings.from_env().team_tz == SHANGHAI
    assert parse_team_tz("asia/shanghai") == SHANGHAI  # the case of the letters does not matter


@pytest.mark.parametrize("value,hint", [
    ("Mars/Olympus", ""), ("Asia/Shangai", " (did you mean Asia/Shanghai?)"),
    ("UTC+8", " (did you mean Etc/GMT-8?)"), ("Asia", ""), ("../../etc/passwd", ""),
])
def test_an_unknown_zone_is_refused_in_one_line(monkeypatch, value, hint):
    message = (f"MONITOR_TEAM_TZ={value!r} is not a time zone{hint}: use an IANA name such as "
               "Asia/Shanghai, Europe/Berlin or America/New_York (default UTC)")
    with pytest.raises(ConfigError) as refused:
        parse_team_tz(value)
    assert str(refused.value) == message
    monkeypatch.setenv("MONITOR_TEAM_TZ", value)
    with pytest.raises(ConfigError, match="is not a time zone"):
        Settings.from_env()
    with pytest.raises(ConfigError, match="is not a time zone"):
        team_timezone()


def test_tables_and_listings_carry_the_teams_time():
    frame = pl.DataFrame({"case_id": [1, 2], "due_at": [STORED, None],
                          "date": [datetime(2026, 12, 7), datetime(2026, 12, 8)]})
    shown = team_times(frame, ("due_at", "contact_at"), lang="en", tz=SHANGHAI)
    assert shown["due_at"].to_list() == ["2026-12-07 14:30 UTC+08:00", None]
    assert shown["date"].dtype == pl.Datetime  # not a clock column: left alone
    listed = csv_text(with_team_zone(frame, tz=SHANGHAI))
    assert "2026-12-07T14:30:00+08:00" in listed  # the deadline, in the team's zone
    assert "2026-12-07T00:00:00+00:00" in listed  # the review's day, as given

