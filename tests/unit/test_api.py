"""The HTTP intake API with a stand-in analyzer: auth, scoring, idempotency, limits, alerts."""

import json

import pytest
from fastapi.testclient import TestClient

from monitor.alerts import AlertSettings
from monitor.api import MAX_BODY_BYTES, create_app, parse_api_keys
from monitor.cases import CasePolicy
from monitor.store import Store

W = {"Authorization": "Bearer wkey"}
R = {"Authorization": "Bearer rkey"}


@pytest.fixture
def client(any_db_url, fake_analyzer):
    app = create_app(Store(any_db_url), lambda: fake_analyzer,
                     api_keys={"wkey": "write", "rkey": "read"}, model_version="t",
                     policy=CasePolicy(), alert_settings=AlertSettings())
    with TestClient(app) as c:
        yield c


def test_health_needs_no_key_but_everything_else_does(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/v1/cases").status_code == 401
    assert client.get("/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/v1/reviews", json={"text": "x"}, headers=R).status_code == 403


def test_post_one_review_scores_stores_and_opens_a_case(client):
    r = client.post("/v1/reviews", headers=W, json={"review_id": "a1", "asin": "P1",
                                                    "review_body": "bad and broken", "stars": "1/5"})
    assert r.status_code == 200
    [res] = r.json()["reviews"]
    assert res["status"] == "stored" and res["category"] == "damage" and res["severity"] == 2
    assert res["case_id"] is not None and res["needs_response"] is True
    got = client.get("/v1/reviews/a1", headers=R).json()
    assert got["product_id"] == "P1" and got["rating"] == 1.0
    cases = client.get("/v1/cases?severity=2&product=P1", headers=R).json()["cases"]
    assert [c["case_id"] for c in cases] == [res["case_id"]]


def test_reviews_that_need_a_response_come_back_with_a_reply_in_the_buyers_language(
        any_db_url, fake_analyzer):
    from monitor.replies import check_reply

    app = create_app(Store(any_db_url), lambda: fake_analyzer,
                     api_keys={"wkey": "write", "rkey": "read"}, model_version="t",
                     policy=CasePolicy(), alert_settings=AlertSettings(),
                     support_contact="hilfe@shop.example")
    with TestClient(app) as client:
        posted = client.post("/v1/reviews", headers=W, json=[
            {"id": "d1", "text": "bad, kam kaputt an", "lang": "de"},
            {"id": "d2", "text": "lovely", "lang": "en"}]).json()["reviews"]
        reply = posted[0]["reply_draft"]
        assert reply.startswith("Es tut uns leid") and "hilfe@shop.example" in reply
        assert check_reply(reply, contact="hilfe@shop.example").complete
        assert posted[1]["needs_response"] is False and posted[1]["reply_draft"] is None
        assert client.get("/v1/reviews/d1", headers=R).json()["reply_draft"] == reply
        assert client.get("/v1/reviews/d2", headers=R).json()["reply_draft"] is None


def test_batch_and_idempotency(client, fake_analyzer):
    batch = [{"id": "b1", "text": "lovely"}, {"id": "b2", "text": "bad"}, {"id": "b3", "text": " "}]
    first = client.post("/v1/reviews", headers=W, json=batch).json()["reviews"]
    assert [x["status"] for x in first] == ["stored", "stored", "rejected"]
    from monitor.api import ReviewResult

    for result in first:  # every answer carries the documented fields, no more, no fewer
        assert set(result) == set(ReviewResult.model_fields)
        ReviewResult.model_validate(result)
    calls = fake_analyzer.calls
    again = client.post("/v1/reviews", headers=W, json=batch[:2]).json()["reviews"]
    assert [x["status"] for x in again] == ["duplicate", "duplicate"]
    assert fake_analyzer.calls == calls  # nothing scored twice
    assert again[1]["sentiment"] == "negative"


def test_a_new_review_is_answered_with_exactly_what_the_store_holds(client):
    # new reviews are answered from what was written, stored ones from a read: the two agree
    batch = [{"id": 42, "text": "bad and broken", "product_id": "P1", "rating": 1},
             {"id": "x2", "text": "lovely", "lang": "fr"},
             {"id": 42, "text": "bad and broken", "product_id": "P1", "rating": 1}]
    first = client.post("/v1/reviews", headers=W, json=batch).json()["reviews"]
    again = client.post("/v1/reviews", headers=W, json=batch).json()["reviews"]
    assert [x["status"] for x in first] == ["stored"] * 3
    assert [x["status"] for x in again] == ["duplicate"] * 3
    assert first[0]["review_id"] == "42" and first[0]["case_id"] is not None
    assert first[1]["case_id"] is None
    strip = lambda rows: [{k: v for k, v in r.items() if k != "status"} for r in rows]  # noqa: E731
    assert strip(first) == strip(again)
    assert first[0] == first[2]


def test_bad_requests_get_clear_4xx(client):
    bad = client.post("/v1/reviews", headers={**W, "Content-Type": "application/json"},
                      content=b"{not json")
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["detail"]
    assert client.post("/v1/reviews", headers=W, json=[]).status_code == 422
    assert client.post("/v1/reviews", headers=W, json=[1, 2]).status_code == 422
    no_text = client.post("/v1/reviews", headers=W, json={"stars": 5})
    assert no_text.status_code == 422 and "text" in no_text.json()["detail"]
    big = client.post("/v1/reviews", headers={**W, "Content-Type": "application/json"},
                      content=b"[" + b'{"text":"x"},' * (MAX_BODY_BYTES // 12) + b'{"text":"x"}]')
    assert big.status_code == 413

    def chunks():  # a chunked upload declares no length: the limit must hold while reading
        yield b"["
        for _ in range(MAX_BODY_BYTES // 12 // 1000 + 1):
            yield b'{"text":"x"},' * 1000
        yield b'{"text":"x"}]'

    streamed = client.post("/v1/reviews", headers={**W, "Content-Type": "application/json"},
                           content=chunks())
    assert streamed.status_code == 413 and "send fewer" in streamed.json()["detail"]
    m = client.get("/metrics", headers=R).text
    assert 'monitor_requests_total{path="/v1/reviews",status="413"} 2' in m
    assert client.get("/v1/reviews/none", headers=R).status_code == 404
    assert client.get("/v1/trends?by=nope", headers=R).status_code == 422
    typo = client.get("/v1/cases?sevrity=1", headers=R)
    assert typo.status_code == 422 and "unknown query parameter 'sevrity'" in typo.json()["detail"]
    twice = client.get("/v1/cases?product=P1&product=P2", headers=R)
    assert twice.status_code == 422 and "more than once" in twice.json()["detail"]
    wrong_type = client.post("/v1/reviews", headers=W, json={"text": "x", "rating": True})
    assert wrong_type.status_code == 422 and "rating" in wrong_type.json()["detail"]
    numeric = client.post("/v1/reviews", headers=W, json={"id": 98765, "product_id": 42,
                                                          "customer_id": 7, "text": "fine",
                                                          "date": 1767225600})
    assert numeric.status_code == 200, numeric.text  # platforms send numeric ids
    assert numeric.json()["reviews"][0]["review_id"] == "98765"
    too_long = client.post("/v1/reviews", headers=W, json={"id": "i" * 300, "text": "x"})
    assert too_long.status_code == 422 and "id" in too_long.json()["detail"]


def test_metrics_and_trends(client):
    client.post("/v1/reviews", headers=W, json={"id": "m1", "text": "bad", "date": "2026-03-02",
                                                "product_id": "P"})
    text = client.get("/metrics", headers=R).text
    assert 'monitor_requests_total{path="/v1/reviews",status="200"} 1' in text
    assert "monitor_scoring_seconds_count 1" in text and "monitor_reviews_scored_total 1" in text
    trends = client.get("/v1/trends?by=product&freq=1w", headers=R).json()["trends"]
    assert trends[0]["product_id"] == "P" and trends[0]["negative"] == 1
    spec = client.get("/openapi.json").json()
    assert "/v1/reviews" in spec["paths"]


def test_severe_complaint_reaches_the_webhook_without_another_command(any_db_url, fake_analyzer,
                                                                      httpserver):
    import time

    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    app = create_app(Store(any_db_url), lambda: fake_analyzer, api_keys={"wkey": "write"},
                     model_version="t", policy=CasePolicy(alert_channels=("webhook",)),
                     alert_settings=AlertSettings(webhook_url=httpserver.url_for("/hook")),
                     alert_interval_s=60)
    with TestClient(app) as c:
        t0 = time.monotonic()
        c.post("/v1/reviews", headers=W, json={"id": "s1", "text": "bad and broken"})
        while not httpserver.log and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        assert httpserver.log, "the webhook got nothing within 10 s"
        assert time.monotonic() - t0 < 2  # the alert loop is poked, not waiting 60 s
    payload = json.loads(httpserver.log[0][0].get_data())
    assert payload["review_id"] == "s1" and payload["severity"] == 2


def test_api_keys_setting():
    assert parse_api_keys("k1:write, k2:read") == {"k1": "write", "k2": "read"}
    with pytest.raises(ValueError, match="MONITOR_API_KEYS"):
        parse_api_keys("k1:admin")


def test_micro_batches_wait_for_returning_clients_but_never_past_the_budget(fake_analyzer,
                                                                           sqlite_url):
    import threading
    import time

    from monitor.api import IntakeWorker, Metrics

    worker = IntakeWorker(Store(sqlite_url), lambda: fake_analyzer, "t", CasePolicy(), Metrics(),
                          wait_s=5.0)
    job = lambda i: ([{"id": str(i), "text": "fine"}], None)  # noqa: E731

    worker.jobs.put(job(0))  # a lone client: taken at once, not after the 5 s budget
    t0 = time.monotonic()
    assert len(worker._take_batch()) == 1 and time.monotonic() - t0 < 1

    for i in range(3):  # three requests together, then the same three clients come back
        worker.jobs.put(job(i))
    assert len(worker._take_batch()) == 3
    worker.jobs.put(job(10))
    later = threading.Timer(0.2, lambda: [worker.jobs.put(job(i)) for i in (11, 12)])
    later.start()
    t0 = time.monotonic()
    assert len(worker._take_batch()) == 3  # waited for the other two...
    assert time.monotonic() - t0 < 2  # ...and went as soon as they were in

    worker.wait_s = 0.3  # a client that does not come back costs at most the budget
    worker.jobs.put(job(20))
    t0 = time.monotonic()
    assert len(worker._take_batch()) == 1
    assert 0.25 < time.monotonic() - t0 < 2


def test_alert_loop_delivers_on_every_poke_but_scans_the_store_once_per_interval(monkeypatch):
    import threading
    import time

    import monitor.api as api

    calls = {"scan": 0, "follow_ups": 0, "send": 0}
    sent = threading.Semaphore(0)

    import monitor.alerts as alerts

    class CountingStore:
        def escalate_overdue(self, policy, now=None):
            calls["scan"] += 1

        def queue_spike_alerts(self, policy, now=None):  # a failing scan holds back neither
            raise RuntimeError("spike scan failed")  # the other scans nor the delivery

        def queue_follow_up_alerts(self, policy, now=None):
            calls["follow_ups"] += 1

    def send(store, settings, now=None):
        calls["send"] += 1
        sent.release()
        return alerts.SendSummary()

    monkeypatch.setattr(alerts, "send_pending", send)  # the one alert round, shared with the CLI
    loop = api.AlertLoop(CountingStore(), CasePolicy(), AlertSettings(), interval_s=60)
    loop.start()
    try:
        assert sent.acquire(timeout=5)  # the first round scans and delivers
        for _ in range(3):
            time.sleep(0.05)
            loop.poke()
            assert sent.acquire(timeout=5)  # every poke delivers at once...
    finally:
        loop.stop()
    # ...without repeating the store scans inside the interval
    assert (calls["scan"], calls["follow_ups"]) == (1, 1)


def test_follow_ups_with_message_drafts_and_marking_them_sent(any_db_url, fake_analyzer):
    store = Store(any_db_url)
    app = create_app(store, lambda: fake_analyzer, api_keys={"wkey": "write", "rkey": "read"},
                     model_version="t", policy=CasePolicy(), alert_settings=AlertSettings(),
                     support_contact="hilfe@shop.example")
    with TestClient(app) as client:
        assert client.get("/v1/follow-ups", headers=R).json() == {"follow_ups": []}
        [res] = client.post("/v1/reviews", headers=W, json={
            "id": "f1", "text": "bad, kam kaputt an", "lang": "de"}).json()["reviews"]
        v = store.transition_case(res["case_id"], "replied", actor="a", expected_version=1)
        store.transition_case(res["case_id"], "resolved", actor="a", expected_version=v,
                              note="Neue gepolsterte Verpackung")
        got = client.get("/v1/follow-ups?status=planned", headers=R).json()["follow_ups"]
        assert sorted(f["kind"] for f in got) == ["improvement_report", "try_again"]
        report = next(f for f in got if f["kind"] == "improvement_report")
        assert report["lang"] == "de" and report["case_id"] == res["case_id"]
        assert "Neue gepolsterte Verpackung." in report["message_draft"]
        assert "hilfe@shop.example" in report["message_draft"]
        assert client.get("/v1/follow-ups?status=due", headers=R).json() == {"follow_ups": []}
        done_url = f"/v1/follow-ups/{report['id']}/done"
        assert client.post(done_url, headers=R).status_code == 403
        done = client.post(done_url, headers=W).json()
        assert (done["status"], done["done_by"]) == ("done", "api")
        assert client.post(done_url, headers=W).json()["done_at"] == done["done_at"]  # once
        assert client.post("/v1/follow-ups/999/done", headers=W).status_code == 404
        assert client.get("/v1/follow-ups?status=later", headers=R).status_code == 422
