"""The team's clock (MONITOR_TEAM_TZ): stored UTC times shown in the team's zone, written the way
the team's language (MONITOR_UI_LANG) writes them; a zone that does not exist is refused."""

import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

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


# --- the command line ------------------------------------------------------------------------

@pytest.fixture
def case_store(tmp_path, fake_analyzer, sqlite_url, monkeypatch):
    from monitor.batch import ingest_batch
    from monitor.cases import CasePolicy
    from monitor.ingest import read_reviews
    from monitor.store import Store

    (tmp_path / "r.csv").write_text("review_id,product_id,date,rating,text\n"
                                    "a1,P1,2026-03-02,1,bad and broken\n")
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(sqlite_url), "t",
                 policy=CasePolicy())
    for name in ("MONITOR_TEAM_TZ", "MONITOR_UI_LANG"):
        monkeypatch.delenv(name, raising=False)
    store = Store(sqlite_url, create=False)
    return store, int(store.cases()["case_id"][0]), store.cases()["due_at"][0]


def run(*args, **env):
    from monitor.cli import app

    return CliRunner().invoke(app, list(args), env=env)


def test_cases_list_and_show_use_the_teams_clock(case_store):
    store, case_id, due = case_store
    utc = run("cases", "list", "--db", store.url)
    assert utc.exit_code == 0 and format_time(due, lang="en", tz=ZoneInfo("UTC")) in utc.output
    for lang, env in (("en", {}), ("zh", {"MONITOR_UI_LANG": "zh"})):
        table = run("cases", "list", "--db", store.url, MONITOR_TEAM_TZ="Asia/Shanghai", **env)
        assert table.exit_code == 0, table.output
        assert format_time(due, lang=lang, tz=SHANGHAI) in table.output
    shown = json.loads(run("cases", "show", str(case_id), "--db", store.url,
                           MONITOR_TEAM_TZ="Asia/Shanghai").output)
    assert shown["due_at"].endswith("+08:00") and shown["events"][0]["at"].endswith("+08:00")
    assert datetime.fromisoformat(shown["due_at"]) == due.replace(tzinfo=timezone.utc)
    # files for other tools keep UTC
    out = store.url.replace("sqlite:///", "").replace("monitor.db", "cases.csv")
    assert run("cases", "list", "--db", store.url, "--out", out,
               MONITOR_TEAM_TZ="Asia/Shanghai").exit_code == 0
    assert pl.read_csv(out, infer_schema=False)["due_at"][0].endswith("+00:00")


def test_follow_ups_and_the_alerts_list_use_the_teams_clock(case_store):
    from monitor.casework import move_case

    store, case_id, _ = case_store
    for state in ("replied", "resolved"):
        move_case(store, case_id, state, actor="ana")
    listed = run("follow-ups", "--db", store.url, MONITOR_TEAM_TZ="Asia/Shanghai")
    assert listed.exit_code == 0, listed.output
    rows = pl.read_csv(listed.stdout.encode(), infer_schema=False)
    assert rows["due_at"].str.ends_with("+08:00").all() and rows.height == 2
    # the buyer's local morning is the same instant whatever the team's zone
    utc_rows = pl.read_csv(run("follow-ups", "--db", store.url).stdout.encode(),
                           infer_schema=False)
    assert [datetime.fromisoformat(a) for a in rows["contact_at"]] == \
        [datetime.fromisoformat(a) for a in utc_rows["contact_at"]]
    assert run("alerts", "list", "--db", store.url,
               MONITOR_TEAM_TZ="Asia/Shanghai").exit_code == 0


def test_a_bad_zone_stops_the_command_with_one_line(case_store):
    store, case_id, _ = case_store
    for args in (("cases", "list"), ("cases", "show", str(case_id)), ("queue",),
                 ("follow-ups",)):
        refused = run(*args, "--db", store.url, MONITOR_TEAM_TZ="Asia/Shangai")
        assert refused.exit_code == 2, (args, refused.output)
        assert refused.output.strip().splitlines() == [
            "error: MONITOR_TEAM_TZ='Asia/Shangai' is not a time zone (did you mean "
            "Asia/Shanghai?): use an IANA name such as Asia/Shanghai, Europe/Berlin or "
            "America/New_York (default UTC)"]


def test_the_queue_page_shows_deadlines_on_the_teams_clock(case_store, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    store, _, due = case_store
    monkeypatch.setenv("MONITOR_DB_URL", store.url)
    monkeypatch.setenv("MONITOR_TEAM_TZ", "Asia/Shanghai")
    app = str(Path(__file__).resolve().parents[2] / "app.py")
    at = AppTest.from_file(app, default_timeout=60).run()
    assert not at.exception
    assert list(at.dataframe[0].value["due"]) == [format_time(due, lang="en", tz=SHANGHAI)]
    at.sidebar.selectbox(key="ui_lang_choice").set_value("zh").run()  # this browser only
    assert list(at.dataframe[0].value["due"]) == [format_time(due, lang="zh", tz=SHANGHAI)]
