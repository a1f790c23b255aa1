"""What alerts tell the team: Slack and e-mail texts in the team's language with times on the
team's clock (MONITOR_UI_LANG, MONITOR_TEAM_TZ); the JSON webhook that other tools read does not
change with either."""

import json
import smtplib
from types import SimpleNamespace

import pytest

from monitor.alerts import AlertSettings, deliver_one, slack_message

CASE = {"event": "case.opened", "case_id": 7, "review_id": "r1", "review_key": "k1",
        "product_id": "KET-100", "marketplace": "amazon.de", "category": "damage", "severity": 2,
        "language": "de", "evidence": "Deckel kaputt", "due_at": "2026-12-14T14:00:00Z",
        "link": "http://dash/?case=7"}
LATE = {"event": "follow_up.overdue", "follow_up_id": 3, "case_id": 7, "kind": "try_again",
        "due_at": "2026-12-14 14:00 UTC", "product_id": "KET-100", "category": "damage",
        "language": "de", "link": "http://dash"}
SPIKE = {"event": "spike", "product_id": "KET-100", "category": "damage", "day": "2026-12-14",
         "count": 5, "trailing_mean": 0.5, "last_7d": 6, "rule": "rate",
         "link": "http://dash/product"}


@pytest.fixture
def team(monkeypatch):
    def set_team(lang=None, tz=None):
        for name, value in (("MONITOR_UI_LANG", lang), ("MONITOR_TEAM_TZ", tz)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
    set_team()
    return set_team


def test_alert_times_are_on_the_teams_clock(team):
    assert "respond by 2026-12-14 14:00 UTC -" in slack_message(CASE)["text"]
    assert "was due 2026-12-14 14:00 UTC -" in slack_message(LATE)["text"]
    team(tz="Asia/Shanghai")
    assert "respond by 2026-12-14 22:00 UTC+08:00 -" in slack_message(CASE)["text"]
    assert "was due 2026-12-14 22:00 UTC+08:00 -" in slack_message(LATE)["text"]
    team(lang="zh", tz="America/New_York")
    assert "请在 2026年12月14日 09:00（UTC-5） 前回复" in slack_message(CASE)["text"]
    assert "应于 2026年12月14日 09:00（UTC-5） 发送" in slack_message(LATE)["text"]


def test_spike_alerts_are_all_in_the_teams_language(team):
    assert slack_message(SPIKE)["text"].startswith(
        "*Complaint spike* on KET-100: 5 damage complaints on 2026-12-14 (6 in 7 days, rule rate)")
    team(lang="zh", tz="Asia/Shanghai")
    text = slack_message(SPIKE)["text"]
    # the category and the rule too; the day is the day counted, not shifted
    assert text.startswith("*投诉激增* KET-100：2026年12月14日 出现 5 条商品破损投诉（7 天内 6 条，"
                           "规则 高于近 7 日均值）")
    assert "damage" not in text and "rate" not in text


def test_a_case_without_a_level_is_named_by_its_category(team):
    team(lang="zh")
    other = {**CASE, "severity": None, "category": "other"}
    assert slack_message(other)["text"].startswith("*其他* KET-100")


def webhook_body(alert_payload):
    posted = []
    settings = AlertSettings(webhook_url="http://hook", webhook_secret="s3cret")
    alert = SimpleNamespace(channel="webhook", payload=json.dumps(alert_payload),
                            idempotency_key="case-7-webhook")
    deliver_one(alert, settings, post=lambda url, body, headers, timeout: posted.append(
        (body, headers)))
    return posted[0]


@pytest.mark.parametrize("payload", [CASE, LATE, SPIKE])
def test_the_json_webhook_does_not_change_with_the_teams_language_or_clock(team, payload):
    english = webhook_body(payload)
    team(lang="zh", tz="Asia/Shanghai")
    assert webhook_body(payload) == english  # same bytes, same signature
    body = json.loads(english[0])
    assert body == {**payload, "idempotency_key": "case-7-webhook"}  # English keys, UTC times


class FakeSMTP:
    sent = []

    def __init__(self, host, port, timeout):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def ehlo(self):
        pass

    def has_extn(self, name):
        return False

    def send_message(self, msg):
        FakeSMTP.sent.append(msg)


def test_email_alerts_speak_the_teams_language_on_its_clock(team, monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    team(lang="zh", tz="Asia/Shanghai")
    settings = AlertSettings(smtp_url="smtp://mail.example:25", email_to="team@shop.example")
    deliver_one(SimpleNamespace(channel="email", payload=json.dumps(CASE),
                                idempotency_key="case-7-email"), settings)
    msg = FakeSMTP.sent[-1]
    assert msg["Subject"] == "[review-monitor] 二级（商品破损）: KET-100"
    body = msg.get_content()
    assert body.startswith("二级（商品破损） KET-100（amazon.de，de）")
    assert "请在 2026年12月14日 22:00（UTC+8） 前回复" in body
    assert '"due_at": "2026-12-14T14:00:00Z"' in body  # the payload beside it, as the webhook
