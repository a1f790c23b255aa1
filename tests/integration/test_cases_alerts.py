"""Cases opened with the review, the alert outbox, and delivery to a real local HTTP receiver."""

import json
from datetime import datetime, timedelta

import polars as pl
import pytest
from werkzeug import Response

from monitor.alerts import AlertSettings, send_pending, sign
from monitor.batch import ingest_batch
from monitor.cases import CasePolicy, parse_sla_hours
from monitor.ingest import read_reviews
from monitor.store import Store

CSV = """review_id,product_id,date,rating,text
r1,P1,2026-03-02,5,lovely
r2,P1,2026-03-03,1,bad and broken
r3,P2,2026-03-10,2,bad fit
"""
SECRET = "s3cret-signing-key"


@pytest.fixture
def reviews(tmp_path):
    (tmp_path / "r.csv").write_text(CSV)
    return read_reviews(tmp_path / "r.csv")


def policy(*channels):
    return CasePolicy(alert_channels=channels, dashboard_url="http://dash.local")


def test_cases_open_with_deadlines_by_severity(reviews, fake_analyzer, any_db_url):
    store = Store(any_db_url)
    summary = ingest_batch(reviews, fake_analyzer, store, "t", policy=policy())
    assert (summary.result.cases_opened, summary.result.alerts_queued) == (2, 0)
    cases = store.cases()
    by_review = {r["review_key"]: r for r in cases.iter_rows(named=True)}
    assert len(by_review) == 2 and set(cases["state"]) == {"new"}
    damage = cases.filter(cases["category"] == "damage").row(0, named=True)
    other = cases.filter(cases["category"] == "other").row(0, named=True)
    assert damage["due_at"] - damage["opened_at"] == timedelta(hours=4)
    assert other["due_at"] - other["opened_at"] == timedelta(hours=48)
    # re-ingesting opens nothing new
    again = ingest_batch(reviews, fake_analyzer, store, "t", policy=policy("webhook"))
    assert (again.result.cases_opened, again.result.alerts_queued) == (0, 0)
    assert store.cases().height == 2


def test_sla_hours_are_configurable_and_validated():
    assert parse_sla_hours("2=8, other=72")["2"] == 8.0
    assert CasePolicy(sla_hours=parse_sla_hours("1=0.5")).due_at(
        1, datetime(2026, 1, 1)) == datetime(2026, 1, 1, 0, 30)
    for bad in ("4=1", "2=soon", "1=0"):
        with pytest.raises(ValueError, match="MONITOR_SLA_HOURS"):
            parse_sla_hours(bad)


def test_only_level_1_and_2_alert_and_positive_reviews_never_do():
    p = policy("webhook", "slack")
    assert p.alerts_for(1, "negative") == ("webhook", "slack")
    assert p.alerts_for(2, "neutral") == ("webhook", "slack")
    assert p.alerts_for(3, "negative") == ()
    assert p.alerts_for(None, "negative") == ()
    assert p.alerts_for(2, "positive") == ()


def test_webhook_delivery_is_signed_and_carries_the_case(reviews, fake_analyzer, any_db_url,
                                                        httpserver):
    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy("webhook"))
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    settings = AlertSettings(webhook_url=httpserver.url_for("/hook"), webhook_secret=SECRET)
    summary = send_pending(store, settings)
    assert (summary.delivered, summary.retrying, summary.dead) == (1, 0, 0)
    request, _ = httpserver.log[0]
    body = request.get_data()
    assert request.headers["X-Monitor-Signature"] == sign(body, SECRET)
    payload = json.loads(body)
    assert payload["category"] == "damage" and payload["severity"] == 2
    assert payload["review_id"] == "r2" and payload["product_id"] == "P1"
    assert payload["evidence"] == "broken" and payload["link"].startswith("http://dash.local/?case=")
    assert request.headers["X-Monitor-Idempotency-Key"] == payload["idempotency_key"]
    # delivered alerts are not sent again
    assert send_pending(store, settings).delivered == 0
    assert store.alerts()["status"].to_list() == ["delivered"]


def test_receiver_down_then_up_delivers_exactly_once(reviews, fake_analyzer, any_db_url,
                                                      httpserver):
    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy("webhook"))
    settings = AlertSettings(webhook_url=httpserver.url_for("/hook"), backoff_s=60)
    t0 = datetime(2030, 1, 1)
    httpserver.expect_ordered_request("/hook").respond_with_response(Response("busy", 503))
    httpserver.expect_ordered_request("/hook").respond_with_response(Response("busy", 500))
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    assert send_pending(store, settings, now=t0).retrying == 1
    assert send_pending(store, settings, now=t0 + timedelta(seconds=30)).retrying == 0  # backoff
    assert send_pending(store, settings, now=t0 + timedelta(seconds=61)).retrying == 1
    assert send_pending(store, settings, now=t0 + timedelta(seconds=200)).delivered == 1
    httpserver.check_assertions()
    row = store.alerts().row(0, named=True)
    assert (row["status"], row["attempts"]) == ("delivered", 3)


def test_unreachable_endpoint_goes_dead_after_max_attempts_without_leaking_the_url(
        reviews, fake_analyzer, any_db_url):
    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy("webhook"))
    secret_url = "http://127.0.0.1:9/hooks/T0KEN-SECRET-PATH"
    settings = AlertSettings(webhook_url=secret_url, max_attempts=3, backoff_s=1, timeout_s=2)
    t = datetime(2030, 1, 1)
    results = [send_pending(store, settings, now=t + timedelta(hours=i)) for i in range(4)]
    assert [(r.retrying, r.dead) for r in results] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    row = store.alerts().row(0, named=True)
    assert row["status"] == "dead" and "unreachable" in row["last_error"]
    assert "T0KEN" not in row["last_error"]


def test_slack_message_has_no_customer_data(reviews, fake_analyzer, any_db_url, httpserver):
    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy("slack"))
    httpserver.expect_oneshot_request("/slack").respond_with_data("ok")
    send_pending(store, AlertSettings(slack_url=httpserver.url_for("/slack")))
    text = json.loads(httpserver.log[0][0].get_data())["text"]
    assert "Level 2" in text and "P1" in text and "open case" in text
    assert "O-" not in text and "customer" not in text.lower()


def test_buyer_contact_details_stay_out_of_chat_alerts_unless_enabled():
    from monitor.alerts import slack_message

    payload = {"severity": 1, "product_id": "P9", "language": "en", "case_id": 4, "link": "x",
               "evidence": "FAKE! mail me at jo.b@example.com or call +49 170 1234567, "
                           "order 305-1234567-7654321"}
    text = slack_message(payload)["text"]
    assert "example.com" not in text and "1234567" not in text
    assert "[e-mail]" in text and "[phone]" in text and "[order id]" in text and "FAKE!" in text
    opted_in = slack_message(payload, personal_data=True)["text"]
    assert "jo.b@example.com" in opted_in and "+49 170 1234567" in opted_in


@pytest.mark.parametrize("minutes,label", [
    (45, "45 min left"), (-30, "overdue 30 min"), (300, "5 h left"), (-60 * 30, "overdue 30 h"),
    (60 * 24 * 3, "3 d left"),
])
def test_time_left_labels(minutes, label):
    from monitor.cases import time_left

    now = datetime(2026, 1, 1, 12)
    assert time_left(now + timedelta(minutes=minutes), now) == label
    assert time_left(None, now) == ""


def test_queue_carries_case_and_deadline(reviews, fake_analyzer, any_db_url):
    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy())
    queue = store.response_queue()
    assert queue["case_state"].to_list() == ["new", "new"]
    assert queue["due_at"].null_count() == 0 and queue["case_id"].null_count() == 0


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, received
    finally:
        controller.stop()


def test_email_alert_through_a_real_smtp_server(reviews, fake_analyzer, any_db_url, smtp_server):
    controller, received = smtp_server
    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy("email"))
    settings = AlertSettings(smtp_url=f"smtp://127.0.0.1:{controller.port}", email_to="team@shop.example")
    assert send_pending(store, settings).delivered == 1
    msg = received[0]
    assert msg["To"] == "team@shop.example" and "Level 2" in msg["Subject"]
    assert msg["Message-ID"].startswith("<case-")
    assert "broken" in msg.get_payload()


def test_email_server_refusing_is_retried(reviews, fake_analyzer, any_db_url):
    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy("email"))
    settings = AlertSettings(smtp_url="smtp://user:pw@127.0.0.1:9", email_to="t@x.example",
                             timeout_s=2)
    assert send_pending(store, settings).retrying == 1
    err = store.alerts()["last_error"][0]
    assert "SMTP" in err and "pw" not in err


def test_case_transitions_are_audited_and_versioned(reviews, fake_analyzer, any_db_url):
    from monitor.cases import ConcurrentEditError, TransitionError

    store = Store(any_db_url)
    ingest_batch(reviews, fake_analyzer, store, "t", policy=policy())
    case = store.cases().row(0, named=True)
    v2 = store.transition_case(case["case_id"], "acknowledged", actor="ana", expected_version=1)
    v3 = store.transition_case(case["case_id"], "replied", actor="ana", expected_version=v2,
                               note="posted public reply")
    assert v3 == 3
    events = store.case_events(case["case_id"])
    assert events["to_state"].to_list() == ["new", "acknowledged", "replied"]
    assert events["actor"].to_list() == ["monitor", "ana", "ana"]
    assert events["note"][-1] == "posted public reply"
    after = store.cases().filter(store.cases()["case_id"] == case["case_id"]).row(0, named=True)
    assert after["first_response_at"] is not None and after["state"] == "replied"
    # a second agent working from the old version does not overwrite silently
    with pytest.raises(ConcurrentEditError, match="changed by someone else"):
        store.transition_case(case["case_id"], "escalated", actor="bo", expected_version=2)
    with pytest.raises(TransitionError, match="cannot become new"):
        store.transition_case(case["case_id"], "new", actor="bo", expected_version=3)
    assert store.case_events(case["case_id"]).height == 3


def resolved_case(tmp_path, fake_analyzer, url: str, csv_text: str, *, now=None,
                  note: str = "") -> tuple[Store, int]:
    """A store holding the reviews of `csv_text`, its first case replied to and resolved."""
    (tmp_path / "resolved.csv").write_text(csv_text)
    store = Store(url)
    ingest_batch(read_reviews(tmp_path / "resolved.csv"), fake_analyzer, store, "t",
                 policy=policy())
    case_id = store.cases()["case_id"][0]
    v = store.transition_case(case_id, "replied", actor="a", expected_version=1, now=now)
    store.transition_case(case_id, "resolved", actor="a", expected_version=v, now=now, note=note)
    return store, case_id


def test_resolving_a_case_plans_follow_ups_in_the_buyers_morning(tmp_path, fake_analyzer,
                                                                  any_db_url):
    t = datetime(2026, 3, 1, 15, 0)  # 00:00 in Tokyo on 2 March
    store, _ = resolved_case(tmp_path, fake_analyzer, any_db_url,
                             "review_id,product_id,marketplace,text,rating\n"
                             "j1,P1,amazon.co.jp,bad and broken,1\n",
                             now=t, note=" Padded box from now on ")
    plan = store.follow_ups(now=t).sort("due_at")
    assert plan["kind"].to_list() == ["improvement_report", "try_again"]
    # their messages start from what was done about the complaint
    assert plan["resolution_note"].to_list() == ["Padded box from now on"] * 2
    assert plan["due_at"].to_list() == [t + timedelta(days=7), t + timedelta(days=30)]
    for contact in plan["contact_at"].to_list():
        assert contact.hour == 0  # 09:00 in Tokyo (UTC+9)
    assert set(plan["status"]) == {"planned"}
    assert store.follow_ups(now=t + timedelta(days=8))["status"].to_list() == ["overdue", "planned"]
    store.complete_follow_up(plan["id"][0], actor="ana", now=t + timedelta(days=6))
    later = store.follow_ups(now=t + timedelta(days=29, hours=10)).sort("due_at")
    assert later["status"].to_list() == ["done", "due"]
    assert later["done_by"][0] == "ana"


def test_follow_ups_from_the_command_line(tmp_path, fake_analyzer, sqlite_url):
    """`monitor follow-ups` lists open follow-ups with a message draft in the buyer's language,
    and `--done ID` records one as sent."""
    from io import StringIO

    from conftest import run_cli

    store, _ = resolved_case(tmp_path, fake_analyzer, sqlite_url,
                             "review_id,lang,text,rating\nf1,fr,bad and broken,1\n",
                             note="Nouvel emballage renforcé")

    def cli(*args):
        return run_cli("follow-ups", "--db", sqlite_url, *args,
                       env={"MONITOR_SUPPORT_CONTACT": "sav@boutique.example"})

    listed = pl.read_csv(StringIO(cli().stdout))
    assert listed["kind"].to_list() == ["improvement_report", "try_again"]
    assert set(listed["status"]) == {"planned"} and set(listed["lang"]) == {"fr"}
    for draft in listed["message_draft"]:
        assert "Nouvel emballage renforcé." in draft and "sav@boutique.example" in draft
    done = cli("--done", str(listed["id"][0]), "--actor", "ana")
    assert done.returncode == 0, done.stderr
    assert pl.read_csv(StringIO(cli().stdout))["kind"].to_list() == ["try_again"]
    sent = pl.read_csv(StringIO(cli("--status", "done").stdout))
    assert sent["id"].to_list() == [listed["id"][0]]
    assert store.follow_ups().filter(pl.col("status") == "done")["done_by"].to_list() == ["ana"]
    missing = cli("--done", "999")
    assert missing.returncode == 2 and "no follow-up 999" in missing.stderr


def test_queue_export_with_reply_drafts_from_the_command_line(tmp_path, fake_analyzer,
                                                               sqlite_url):
    from conftest import run_cli

    (tmp_path / "r.csv").write_text("review_id,lang,text,rating\n"
                                    "q1,de,bad and broken,1\nq2,en,=HYPERLINK(1) bad,2\n"
                                    "q3,en,lovely,5\n")
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(sqlite_url), "t",
                 policy=policy())
    out = tmp_path / "queue.csv"
    proc = run_cli("queue", "--db", sqlite_url, "--out", out)
    assert proc.returncode == 0, proc.stderr
    rows = {r["review_id"]: r for r in pl.read_csv(out).iter_rows(named=True)}
    assert set(rows) == {"q1", "q2"}  # the positive review needs no response
    assert rows["q1"]["reply_draft"].startswith("Es tut uns leid")
    assert rows["q2"]["text"].startswith("'=HYPERLINK")  # inert in a spreadsheet
    bad = run_cli("queue", "--db", sqlite_url, "--out", tmp_path / "queue.xlsx")
    assert bad.returncode == 2 and "unsupported output type" in bad.stderr


@pytest.mark.parametrize("market,lang,hour_utc", [
    ("amazon.de", "de", 8), ("amazon.com", "en", 14), (None, "zh", 1), ("unknown-shop", None, 9),
])
def test_contact_time_is_local_morning(market, lang, hour_utc):
    from monitor.cases import plan_follow_ups

    (kind, due, contact), _ = plan_follow_ups(datetime(2026, 1, 10, 12), market, lang)
    assert contact.hour == hour_utc and contact <= due


def test_overdue_cases_escalate_once_and_severe_ones_alert(reviews, fake_analyzer, any_db_url):
    store = Store(any_db_url)
    p = policy("webhook")
    ingest_batch(reviews, fake_analyzer, store, "t", policy=p)
    opened = store.cases()["opened_at"][0]
    assert store.escalate_overdue(p, now=opened + timedelta(hours=1)) == 0
    # damage (4 h) is overdue after 5 h; "other" (48 h) is not
    assert store.escalate_overdue(p, now=opened + timedelta(hours=5)) == 1
    assert store.escalate_overdue(p, now=opened + timedelta(hours=6)) == 0
    cases = store.cases()
    damage = cases.filter(pl.col("category") == "damage").row(0, named=True)
    assert (damage["state"], damage["version"]) == ("escalated", 2)
    assert "deadline" in store.case_events(damage["case_id"])["note"][-1]
    alerts = store.alerts()
    assert alerts.height == 2  # the opening alert and the overdue alert
    # the other case escalates after 48 h but, not being level 1/2, raises no alert
    assert store.escalate_overdue(p, now=opened + timedelta(hours=49)) == 1
    assert store.alerts().height == 2


def test_escalating_buyers_are_routed_to_an_agent_who_speaks_their_language(tmp_path,
                                                                           fake_analyzer,
                                                                           any_db_url):
    from monitor.cases import parse_agents

    (tmp_path / "e.csv").write_text(
        "review_id,product_id,lang,text,rating\n"
        "e1,P1,de,\"bad, broken, ich will eine Rückerstattung, sonst Anwalt\",1\n"
        "e2,P1,ja,bad 返金してください,1\n"
        "e3,P1,ja,bad 苦情です,1\n"
        "e4,P1,fr,bad: je demande un remboursement,1\n"
        "e5,P1,en,bad but no escalation words,1\n")
    store = Store(any_db_url)
    p = CasePolicy(agents=parse_agents("ana=en,de; kenji=ja; yui=ja,zh"))
    ingest_batch(read_reviews(tmp_path / "e.csv"), fake_analyzer, store, "t", policy=p)
    by_lang = {}
    for r in store.cases().iter_rows(named=True):
        by_lang.setdefault(r["lang"], []).append(r)
    assert by_lang["de"][0]["assignee"] == "ana"
    assert "rückerstattung" in by_lang["de"][0]["escalation"]
    assert sorted(r["assignee"] for r in by_lang["ja"]) == ["kenji", "yui"]  # load-balanced
    assert by_lang["fr"][0]["assignee"] is None  # nobody speaks French: noted, unassigned
    note = store.case_events(by_lang["fr"][0]["case_id"])["note"][0]
    assert "no agent speaks fr" in note
    assert by_lang["en"][0]["assignee"] is None and by_lang["en"][0]["escalation"] == ""


def test_agents_setting_is_validated():
    from monitor.cases import parse_agents

    assert parse_agents("a=en, DE;b=ja") == {"a": ("en", "de"), "b": ("ja",)}
    with pytest.raises(ValueError, match="MONITOR_AGENTS"):
        parse_agents("just-a-name")


def test_a_later_review_by_the_same_buyer_records_the_outcome(tmp_path, fake_analyzer, any_db_url):
    store = Store(any_db_url)
    (tmp_path / "a.csv").write_text("review_id,customer_id,product_id,marketplace,date,text,rating\n"
                                    "a1,c1,P1,amazon.de,2026-03-01,bad and broken,1\n"
                                    "a2,c2,P1,amazon.de,2026-03-01,bad,2\n")
    ingest_batch(read_reviews(tmp_path / "a.csv"), fake_analyzer, store, "t", policy=policy())
    (tmp_path / "b.csv").write_text("review_id,customer_id,product_id,marketplace,date,text,rating\n"
                                    "b1,c1,P1,amazon.de,2026-03-20,replacement works,4\n"
                                    "b2,c2,P1,amazon.de,2026-03-21,still bad,1\n"
                                    "b3,c3,P1,amazon.de,2026-03-21,lovely,5\n")
    ingest_batch(read_reviews(tmp_path / "b.csv"), fake_analyzer, store, "t", policy=policy())
    cases = store.cases()
    rates = store.outcome_rates()
    assert rates.rows() == [("damage", "amazon.de", 1, 1.0), ("other", "amazon.de", 1, 0.0)]
    damage = cases.filter(pl.col("category") == "damage")["case_id"][0]
    assert store.case_events(damage)["note"][-1] == "buyer reviewed again: 1★ → 4★"


def test_level_1_is_owned_by_a_senior_agent_and_the_brand_owner(tmp_path, fake_analyzer,
                                                                any_db_url):
    from monitor.cases import parse_agents

    class Counterfeit:
        def score(self, texts, **kw):
            out = fake_analyzer.score(texts, **kw)
            from dataclasses import replace
            return [replace(s, category="counterfeit", severity=1, evidence="fake") for s in out]

    (tmp_path / "f.csv").write_text("review_id,lang,text,rating\nf1,fr,bad fake,1\n")
    store = Store(any_db_url)
    p = CasePolicy(agents=parse_agents("ana=fr;sen*=de,en"), brand_owner="lee")
    ingest_batch(read_reviews(tmp_path / "f.csv"), Counterfeit(), store, "t", policy=p)
    case = store.cases().row(0, named=True)
    # no senior speaks French: a senior agent owns it, with the French-speaking agent and the
    # brand owner as co-owners
    assert (case["assignee"], case["co_owner"]) == ("sen", "ana, lee")
    assert case["due_at"] - case["opened_at"] == timedelta(hours=1)


def test_counterfeit_evidence_checklist_is_saved_and_audited(tmp_path, fake_analyzer, any_db_url):
    from monitor.cases import ConcurrentEditError

    (tmp_path / "f.csv").write_text("review_id,text,rating\nf1,bad and broken,1\n")
    store = Store(any_db_url)
    ingest_batch(read_reviews(tmp_path / "f.csv"), fake_analyzer, store, "t", policy=policy())
    case_id = store.cases()["case_id"][0]
    v = store.record_evidence(case_id, ["photos", "order_id"], actor="ana", expected_version=1)
    assert store.cases()["evidence_checklist"][0] == "order_id,photos"
    assert store.case_events(case_id)["note"][-1] == "evidence: order_id,photos"
    with pytest.raises(ConcurrentEditError):
        store.record_evidence(case_id, ["batch_lot"], actor="bo", expected_version=1)
    with pytest.raises(ValueError, match="unknown evidence"):
        store.record_evidence(case_id, ["dna-test"], actor="bo", expected_version=v)


def test_spikes_raise_alerts_once(tmp_path, fake_analyzer, any_db_url, httpserver):
    day = datetime(2026, 3, 10, 12)
    rows = ["review_id,product_id,date,text,rating"]
    rows += [f"s{i},K1,{(day - timedelta(hours=i)):%Y-%m-%dT%H:%M:%S},bad and broken,1"
             for i in range(4)]
    rows += ["old1,K1,2026-01-02,bad and broken,1"]  # history: never alerts
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    store = Store(any_db_url)
    ingest_batch(read_reviews(tmp_path / "s.csv"), fake_analyzer, store, "t", policy=policy())
    p = policy("slack")
    assert store.queue_spike_alerts(p, now=day + timedelta(hours=1)) == 1
    assert store.queue_spike_alerts(p, now=day + timedelta(hours=2)) == 0
    httpserver.expect_oneshot_request("/slack").respond_with_data("ok")
    send_pending(store, AlertSettings(slack_url=httpserver.url_for("/slack")),
                 now=day + timedelta(hours=2))
    text = json.loads(httpserver.log[0][0].get_data())["text"]
    assert "Complaint spike" in text and "K1" in text and "damage" in text


def test_overdue_follow_ups_alert_once(tmp_path, fake_analyzer, any_db_url, httpserver,
                                       smtp_server):
    t = datetime(2026, 3, 1, 12)
    store, _ = resolved_case(tmp_path, fake_analyzer, any_db_url,
                             "review_id,product_id,lang,text,rating\no1,K2,de,bad and broken,1\n",
                             now=t)
    p = policy("slack", "email")
    assert store.queue_follow_up_alerts(p, now=t + timedelta(days=6)) == 0  # not due yet
    report_due = t + timedelta(days=7, hours=1)
    assert store.queue_follow_up_alerts(p, now=report_due) == 2  # the improvement report
    assert store.queue_follow_up_alerts(p, now=report_due + timedelta(hours=1)) == 0  # once
    httpserver.expect_oneshot_request("/slack").respond_with_data("ok")
    controller, received = smtp_server
    sent = send_pending(store, AlertSettings(
        slack_url=httpserver.url_for("/slack"), smtp_url=f"smtp://127.0.0.1:{controller.port}",
        email_to="team@shop.example"), now=report_due)
    assert sent.delivered == 2
    text = json.loads(httpserver.log[0][0].get_data())["text"]
    assert "Follow-up overdue" in text and "improvement report" in text and "K2" in text
    assert "Follow-up overdue: K2" in received[0]["Subject"]
    # sent in time, the try-again invitation never alerts; long-past history neither
    try_again = store.follow_ups().filter(pl.col("kind") == "try_again")["id"][0]
    store.complete_follow_up(try_again, actor="ana", now=t + timedelta(days=20))
    assert store.queue_follow_up_alerts(p, now=t + timedelta(days=30, hours=1)) == 0
    assert store.queue_follow_up_alerts(policy(), now=report_due) == 0  # no channel, no alert


def test_an_edited_review_is_rescored_and_records_the_outcome(tmp_path, fake_analyzer, any_db_url):
    store = Store(any_db_url)
    (tmp_path / "v1.csv").write_text("review_id,product_id,marketplace,text,rating\n"
                                     "e1,P1,amazon.fr,bad and broken,1\n")
    ingest_batch(read_reviews(tmp_path / "v1.csv"), fake_analyzer, store, "t", policy=policy())
    (tmp_path / "v2.csv").write_text("review_id,product_id,marketplace,text,rating\n"
                                     "e1,P1,amazon.fr,replaced quickly - lovely now,4\n")
    summary = ingest_batch(read_reviews(tmp_path / "v2.csv"), fake_analyzer, store, "t",
                           policy=policy())
    assert (summary.result.added, summary.result.updated, summary.result.already_stored) == (0, 1, 0)
    row = store.lookup(review_id="e1").row(0, named=True)
    assert (row["text"], row["rating"], row["sentiment"]) == ("replaced quickly - lovely now", 4.0,
                                                              "positive")
    assert store.outcome_rates().rows() == [("damage", "amazon.fr", 1, 1.0)]
    case_id = store.cases()["case_id"][0]
    assert store.case_events(case_id)["note"][-1] == "buyer edited the review: 1★ → 4★"
    # the same edit again changes nothing
    again = ingest_batch(read_reviews(tmp_path / "v2.csv"), fake_analyzer, store, "t")
    assert (again.result.updated, again.result.already_stored) == (0, 1)


def test_spike_sensitivity_is_configurable_and_validated(monkeypatch):
    monkeypatch.setenv("MONITOR_SPIKE_K", "1.5")
    monkeypatch.setenv("MONITOR_SPIKE_MIN_COUNT", "5")
    policy = CasePolicy.from_env()
    assert (policy.spike_k, policy.spike_min_count) == (1.5, 5)
    monkeypatch.setenv("MONITOR_SPIKE_K", "-1")
    with pytest.raises(ValueError, match="MONITOR_SPIKE_K must be a positive number"):
        CasePolicy.from_env()


def test_two_senders_at_once_deliver_each_alert_once_and_a_dead_sender_loses_none(
        tmp_path, fake_analyzer, any_db_url):
    # `monitor serve` and `monitor serve-alerts` (or two of either) may scan the outbox at the
    # same moment: each alert is claimed by one of them
    import threading
    import time

    rows = "\n".join(f"d{i},P1,2026-03-0{1 + i % 9},1,bad and broken {i}" for i in range(12))
    (tmp_path / "d.csv").write_text("review_id,product_id,date,rating,text\n" + rows + "\n")
    store = Store(any_db_url)
    ingest_batch(read_reviews(tmp_path / "d.csv"), fake_analyzer, store, "t",
                 policy=policy("webhook"))
    settings = AlertSettings(webhook_url="http://127.0.0.1:9/hook")
    posted: list[str] = []

    def slow_post(url, body, headers, timeout):
        time.sleep(0.01)  # both senders see the same due alerts before either records one
        posted.append(headers["X-Monitor-Idempotency-Key"])

    now = datetime(2030, 1, 1)
    # a sender that claims an alert and dies before delivering it
    dead_claim = store.due_alerts(now)[0].id
    held = now + timedelta(seconds=25)  # what send_pending holds for: 2 x timeout + 5 s
    assert store.claim_alert(dead_claim, now, held)
    assert not store.claim_alert(dead_claim, now, held)
    senders = [threading.Thread(target=send_pending, args=(store, settings),
                                kwargs={"now": now, "post": slow_post}) for _ in range(2)]
    for t in senders:
        t.start()
    for t in senders:
        t.join(timeout=60)
    assert len(posted) == 11 and len(set(posted)) == 11
    # the dead sender's alert is due again once its claim lapses, and goes out then
    # (held for twice the delivery timeout + 5 s: 25 s with the default 10 s timeout)
    assert send_pending(store, settings, now=now + timedelta(seconds=20), post=slow_post).delivered == 0
    later = send_pending(store, settings, now=now + timedelta(seconds=26), post=slow_post)
    assert later.delivered == 1 and len(set(posted)) == 12 == len(posted)
    assert set(store.alerts()["status"]) == {"delivered"}
