"""The case workflow as agents work it: every allowed move and no other, a true history, and
the same workflow from the store, the CLI (`monitor cases`) and the API."""

import itertools
import json
from datetime import datetime, timedelta
from io import StringIO

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from conftest import run_cli
from monitor.alerts import AlertSettings
from monitor.api import create_app
from monitor.batch import ingest_batch
from monitor.cases import (ACTIVE_STATES, CASE_STATES, TERMINAL_STATES, TRANSITIONS, CasePolicy,
                           ConcurrentEditError, TransitionError, check_transition, parse_agents)
from monitor.casework import case_detail, list_cases, move_case
from monitor.ingest import read_reviews
from monitor.store import CaseRow, Store

CSV = ("review_id,product_id,lang,customer_id,order_id,date,rating,text\n"
       "w1,P1,en,c1,o-1,2026-03-02,1,bad and broken\n"
       "w2,P2,de,c2,o-2,2026-03-03,2,bad\n"
       "w3,P1,en,c3,o-3,2026-03-04,5,lovely\n")
ISO_WITH_OFFSET = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$"


@pytest.fixture
def store(tmp_path, fake_analyzer, sqlite_url):
    (tmp_path / "w.csv").write_text(CSV)
    store = Store(sqlite_url)
    ingest_batch(read_reviews(tmp_path / "w.csv"), fake_analyzer, store, "t",
                 policy=CasePolicy())
    return store


def damage_case(store: Store) -> int:
    return store.cases().filter(pl.col("category") == "damage")["case_id"][0]


def put_in_state(store: Store, case_id: int, state: str) -> None:
    """Set a case's state directly (the test's starting point, not a move)."""
    with store.engine.begin() as conn:
        conn.execute(update(CaseRow).where(CaseRow.id == case_id).values(state=state))


# --- the workflow, as a table ------------------------------------------------------------------

@pytest.mark.parametrize("from_state,to_state", list(itertools.product(CASE_STATES, CASE_STATES)))
def test_every_move_is_allowed_or_refused_as_the_table_says(store, from_state, to_state):
    case_id = damage_case(store)
    put_in_state(store, case_id, from_state)
    version = store.cases(case_id=case_id)["version"][0]
    allowed = to_state in TRANSITIONS[from_state]
    if allowed:
        store.transition_case(case_id, to_state, actor="ana", expected_version=version,
                              note="table")
        event = store.case_events(case_id).row(-1, named=True)
        assert (event["from_state"], event["to_state"], event["actor"], event["note"]) == \
            (from_state, to_state, "ana", "table")
        assert store.cases(case_id=case_id)["state"][0] == to_state
    else:
        with pytest.raises(TransitionError, match=f"cannot become {to_state}"):
            store.transition_case(case_id, to_state, actor="ana", expected_version=version)
        assert store.cases(case_id=case_id)["state"][0] == from_state
        assert store.case_events(case_id).height == 1  # nothing recorded


def test_the_table_lets_every_case_be_finished():
    """From every state that is not an end, a path leads to closed, and resolved is reachable
    from new, so the follow-ups can always be planned."""
    def reachable(start):
        seen, todo = {start}, [start]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert TERMINAL_STATES == ("closed",)
    for state in ACTIVE_STATES:
        assert "closed" in reachable(state)
    assert {"replied", "resolved", "closed"} <= reachable("new")
    for state in CASE_STATES:
        for target in CASE_STATES:
            if target in TRANSITIONS[state]:
                check_transition(state, target)


def test_the_history_records_the_true_path_and_resolving_plans_the_follow_ups(store):
    case_id = damage_case(store)
    t0 = datetime(2026, 3, 5, 10)
    path = ["acknowledged", "replied", "resolved", "closed"]
    version = 1
    for i, state in enumerate(path):
        version = store.transition_case(case_id, state, actor=f"agent{i}", note=f"step {i}",
                                        expected_version=version, now=t0 + timedelta(hours=i))
    events = store.case_events(case_id)
    assert list(zip(events["from_state"], events["to_state"])) == [
        (None, "new"), ("new", "acknowledged"), ("acknowledged", "replied"),
        ("replied", "resolved"), ("resolved", "closed")]
    assert events["actor"].to_list()[1:] == ["agent0", "agent1", "agent2", "agent3"]
    assert events["at"].to_list()[1:] == [t0 + timedelta(hours=i) for i in range(4)]
    assert events["note"].to_list()[1:] == ["step 0", "step 1", "step 2", "step 3"]
    kinds = store.follow_ups().filter(pl.col("case_id") == case_id)["kind"].to_list()
    assert kinds == ["improvement_report", "try_again"]


def test_a_concurrent_edit_is_refused_never_overwritten(store):
    case_id = damage_case(store)
    store.transition_case(case_id, "replied", actor="ana", expected_version=1)
    with pytest.raises(ConcurrentEditError, match="changed by someone else"):
        store.transition_case(case_id, "escalated", actor="bo", expected_version=1)
    assert store.cases(case_id=case_id)["state"][0] == "replied"
    assert store.case_events(case_id)["to_state"].to_list() == ["new", "replied"]


# --- the library the three surfaces share --------------------------------------------------------

def test_cases_are_listed_with_time_left_and_shown_with_their_history(store):
    case_id = damage_case(store)
    listed = list_cases(store, now=store.cases(case_id=case_id)["opened_at"][0])
    assert {"case_id", "review_id", "state", "severity", "category", "assignee", "due_at",
            "time_left", "tier"} <= set(listed.columns)
    row = listed.filter(pl.col("case_id") == case_id).row(0, named=True)
    assert (row["review_id"], row["state"], row["severity"], row["time_left"]) == \
        ("w1", "new", 2, "4 h left")
    assert list_cases(store, severity=2)["case_id"].to_list() == [case_id]
    assert list_cases(store, product="P2")["review_id"].to_list() == ["w2"]
    moved = move_case(store, case_id, "replied", actor="ana", note="posted on Amazon")
    assert moved["time_left"] == ""  # answered: the first-response clock has stopped
    assert list_cases(store, state="replied")["case_id"].to_list() == [case_id]
    detail = case_detail(store, case_id)
    assert detail["events"][-1] == {"from_state": "new", "to_state": "replied", "actor": "ana",
                                    "at": detail["events"][-1]["at"], "note": "posted on Amazon"}
    for value in (detail["due_at"], detail["opened_at"], detail["events"][-1]["at"]):
        assert pl.Series([value]).str.contains(ISO_WITH_OFFSET)[0], value
    with pytest.raises(ValueError, match="unknown case state 'done'"):
        list_cases(store, state="done")


# --- the CLI ---------------------------------------------------------------------------------

def cli(*args, db: str):
    return run_cli(*args, env={"MONITOR_DB_URL": db})


def test_cli_takes_a_case_from_new_to_closed_and_refuses_a_forbidden_move(store, tmp_path):
    case_id = damage_case(store)
    table = cli("cases", "list", db=store.url)
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    assert header.split()[:7] == ["case", "state", "level", "category", "time", "left",
                                  "assignee"]
    assert any(line.split()[:4] == [f"#{case_id}", "new", "L2", "damage"] for line in lines)

    for state in ("replied", "resolved"):
        moved = cli("cases", "move", str(case_id), "--to", state, "--actor", "ana", "--note",
                    f"now {state}", db=store.url)
        assert moved.returncode == 0, moved.stderr
        assert json.loads(moved.stdout)["state"] == state
    refused = cli("cases", "move", str(case_id), "--to", "new", "--actor", "ana", db=store.url)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("error: a resolved case cannot become new; allowed: "
                                      "closed, escalated")
    assert cli("cases", "move", str(case_id), "--to", "closed", "--actor", "bo",
               db=store.url).returncode == 0

    shown = json.loads(cli("cases", "show", str(case_id), db=store.url).stdout)
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in shown["events"]] == [
        (None, "new", "monitor"), ("new", "replied", "ana"), ("replied", "resolved", "ana"),
        ("resolved", "closed", "bo")]
    assert shown["events"][1]["note"] == "now replied"
    assert all(e["at"].endswith("+00:00") for e in shown["events"])
    assert store.follow_ups().filter(pl.col("case_id") == case_id).height == 2

    out = tmp_path / "closed.csv"
    assert cli("cases", "list", "--state", "closed", "--out", str(out),
               db=store.url).returncode == 0
    exported = pl.read_csv(out, infer_schema=False)
    assert exported["case_id"].to_list() == [str(case_id)]
    assert {"case_id", "review_id", "state", "severity", "category", "assignee", "due_at",
            "time_left", "tier"} <= set(exported.columns)
    assert exported["due_at"].str.contains(ISO_WITH_OFFSET).all()
    jsonl = tmp_path / "all.jsonl"
    assert cli("cases", "list", "--out", str(jsonl), db=store.url).returncode == 0
    assert pl.read_ndjson(jsonl).height == 2

    missing = cli("cases", "show", "999", db=store.url)
    assert missing.returncode == 2 and missing.stderr.strip() == "error: no case 999"
    bad_state = cli("cases", "list", "--state", "done", db=store.url)
    assert bad_state.returncode == 2 and "unknown case state 'done'" in bad_state.stderr


def test_plain_queue_shows_case_level_time_left_assignee_and_tier(store):
    proc = cli("queue", db=store.url)
    assert proc.returncode == 0, proc.stderr
    header, first, *_ = proc.stdout.splitlines()
    assert header.split()[:7] == ["case", "level", "time", "left", "assignee", "tier",
                                  "category"]
    case_id = damage_case(store)
    assert first.split()[:5] == [f"#{case_id}", "L2", "4", "h", "left"]


def test_queue_export_carries_buyer_ids_checklist_and_times_with_offset(store, tmp_path):
    out = tmp_path / "queue.csv"
    proc = cli("queue", "--out", str(out), db=store.url)
    assert proc.returncode == 0, proc.stderr
    rows = {r["review_id"]: r for r in pl.read_csv(out, infer_schema=False).iter_rows(named=True)}
    assert (rows["w1"]["customer_id"], rows["w1"]["order_id"]) == ("c1", "o-1")
    assert "acknowledges: yes" in rows["w1"]["checklist"]
    assert pl.Series([rows["w1"]["due_at"]]).str.contains(ISO_WITH_OFFSET)[0]


# --- the API ---------------------------------------------------------------------------------

W = {"Authorization": "Bearer wkey"}
R = {"Authorization": "Bearer rkey"}


@pytest.fixture
def api(store, fake_analyzer):
    app = create_app(store, lambda: fake_analyzer, api_keys={"wkey": "write", "rkey": "read"},
                     model_version="t", policy=CasePolicy(), alert_settings=AlertSettings())
    with TestClient(app) as client:
        yield client


def test_a_helpdesk_moves_cases_through_the_api(api, store):
    case_id = damage_case(store)
    url = f"/v1/cases/{case_id}/transitions"
    got = api.get(f"/v1/cases/{case_id}", headers=R)
    assert got.status_code == 200 and got.json()["events"][0]["to_state"] == "new"
    assert api.post(url, headers=R, json={"to": "replied", "actor": "zendesk"}).status_code == 403
    replied = api.post(url, headers=W, json={"to": "replied", "actor": "zendesk",
                                             "note": "public reply posted", "expected_version": 1})
    assert replied.status_code == 200, replied.text
    body = replied.json()
    assert body["state"] == "replied" and body["version"] == 2
    assert body["events"][-1]["from_state"] == "new" and body["events"][-1]["actor"] == "zendesk"
    assert body["due_at"].endswith("+00:00")
    stale = api.post(url, headers=W, json={"to": "escalated", "actor": "x",
                                           "expected_version": 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    refused = api.post(url, headers=W, json={"to": "new", "actor": "x"})
    assert refused.status_code == 409 and "cannot become new" in refused.json()["detail"]
    resolved = api.post(url, headers=W, json={"to": "resolved", "actor": "zendesk"})
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    assert store.follow_ups().filter(pl.col("case_id") == case_id).height == 2
    closed = api.post(url, headers=W, json={"to": "closed", "actor": "zendesk"})
    assert [e["to_state"] for e in closed.json()["events"]] == ["new", "replied", "resolved",
                                                               "closed"]
    assert api.post("/v1/cases/999/transitions", headers=W,
                    json={"to": "closed", "actor": "x"}).status_code == 404
    assert api.get("/v1/cases/999", headers=R).status_code == 404
    assert api.post(url, headers=W, json={"to": "done", "actor": "x"}).status_code == 422
    listed = api.get("/v1/cases", headers=R).json()["cases"]
    assert all(c["opened_at"].endswith("+00:00") for c in listed)


def test_readyz_waits_for_the_model_and_the_database(store, fake_analyzer):
    import threading

    release = threading.Event()

    def slow_model():
        release.wait(30)
        return fake_analyzer

    app = create_app(store, slow_model, api_keys={"wkey": "write"}, model_version="t",
                     policy=CasePolicy(), alert_settings=AlertSettings())
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200  # alive while the model loads
        waiting = client.get("/readyz")
        assert waiting.status_code == 503 and "model is still loading" in waiting.json()["detail"]
        release.set()
        for _ in range(100):  # bounded: the worker thread takes the model at once
            if client.get("/readyz").status_code == 200:
                break
            threading.Event().wait(0.05)
        assert client.get("/readyz").json() == {"status": "ready"}
        original = store.count
        store.count = lambda: (_ for _ in ()).throw(OSError("database gone"))
        down = client.get("/readyz")
        assert down.status_code == 503 and "database does not answer" in down.json()["detail"]
        store.count = original


# --- opening and routing -----------------------------------------------------------------------

def test_escalation_words_open_a_case_whatever_the_rating_and_say_why(tmp_path, fake_analyzer,
                                                                     sqlite_url):
    (tmp_path / "e.csv").write_text(
        "review_id,lang,rating,text\n"
        "x1,en,5,\"Lovely, but if it breaks again my lawyer will hear about it\"\n"
        "x2,zh,5,很好 但是我要投诉物流\n"
        "x3,en,5,\"No complaints at all, lovely\"\n"
        "x4,de,5,\"Keine Beschwerde, alles prima\"\n")
    store = Store(sqlite_url)
    p = CasePolicy(agents=parse_agents("ana=en;li=zh"))
    result = ingest_batch(read_reviews(tmp_path / "e.csv"), fake_analyzer, store, "t", policy=p)
    assert result.result.cases_opened == 2
    cases = {r["review_id"]: r for r in store.cases().iter_rows(named=True)}
    assert set(cases) == {"x1", "x2"}  # "no complaints" is praise, not an escalation
    assert cases["x1"]["escalation"] == "lawyer" and cases["x1"]["assignee"] == "ana"
    assert cases["x2"]["escalation"] == "投诉" and cases["x2"]["assignee"] == "li"
    note = store.case_events(cases["x1"]["case_id"])["note"][0]
    assert "escalation words: lawyer" in note
    queued = store.response_queue()["review_id"].to_list()
    assert "x1" in queued and "x3" not in queued


class Counterfeit:
    def __init__(self, inner):
        self.inner = inner

    def score(self, texts, **kw):
        from dataclasses import replace

        return [replace(s, category="counterfeit", severity=1, evidence="fake")
                for s in self.inner.score(texts, **kw)]


@pytest.mark.parametrize("agents,lang,owner,co_owners", [
    # a senior who reads the buyer's language owns it; the brand owner co-owns it
    ("wang*=zh,en;sen*=en,de;li=zh", "zh", "wang", "lee"),
    # no senior reads Chinese: a senior owns it and a Chinese-speaking agent joins
    ("sen*=en,de;li=zh", "zh", "sen", "li, lee"),
    # nobody reads French: the senior and the brand owner
    ("sen*=en,de;li=zh", "fr", "sen", "lee"),
    # no senior at all: the native agent owns it
    ("li=zh", "zh", "li", "lee"),
])
def test_level_1_routing_follows_the_buyers_language(tmp_path, fake_analyzer, sqlite_url, agents,
                                                     lang, owner, co_owners):
    (tmp_path / "f.csv").write_text(f"review_id,lang,text,rating\nf1,{lang},bad fake,1\n")
    store = Store(sqlite_url)
    p = CasePolicy(agents=parse_agents(agents), brand_owner="lee")
    ingest_batch(read_reviews(tmp_path / "f.csv"), Counterfeit(fake_analyzer), store, "t",
                 policy=p)
    case = store.cases().row(0, named=True)
    assert (case["assignee"], case["co_owner"]) == (owner, co_owners)
    assert case["due_at"] - case["opened_at"] == timedelta(hours=1)
    mine = list_cases(store, assignee=co_owners.split(", ")[0])
    assert mine.height == 1  # a co-owner finds the case under their name


def test_the_alert_channels_line_names_them_or_says_none_is_set():
    none = CasePolicy(alert_channels=()).channels_line()
    assert "none set" in none and "MONITOR_WEBHOOK_URL" in none
    assert CasePolicy(alert_channels=("webhook", "slack")).channels_line() == \
        "alert channels: webhook, slack"
