"""The dashboard's first page, rendered headless with Streamlit's AppTest over a real SQLite store."""

from pathlib import Path

import polars as pl

import pytest
from streamlit.testing.v1 import AppTest

from monitor.batch import ingest_batch
from monitor.cases import CasePolicy
from monitor.ingest import read_reviews
from monitor.store import Store

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CSV = """review_id,product_id,date,rating,text
a1,P1,2026-03-02,5,lovely
a2,P1,2026-03-03,1,bad and broken
a3,P2,2026-03-10,2,bad fit <script>alert(1)</script>
a4,P2,2026-03-11,4,fine
"""


@pytest.fixture(scope="module", autouse=True)
def components_scanned_once():
    """Streamlit looks through every installed package's metadata for custom components at each
    AppTest's first run, most of a page's render time here; the installed packages do not change
    while the tests run, so the scan is done once and its answer reused."""
    import functools

    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:  # a Streamlit without the scan
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests",
                      functools.lru_cache(maxsize=None)(manifest_scanner.scan_component_manifests))
        yield


@pytest.fixture
def stored(tmp_path, fake_analyzer, sqlite_url, monkeypatch):
    (tmp_path / "r.csv").write_text(CSV)
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(sqlite_url), "test",
                 policy=CasePolicy())
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    return sqlite_url


def test_queue_page_renders_queue_metrics_and_chart(stored):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Needs response"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Need a response"] == "2"
    assert metrics["L2 damage (4 h)"] == "1" and metrics["L1 counterfeit (1 h)"] == "0"
    table = at.dataframe[0].value
    assert list(table["category"]) == ["damage", "other"]
    # the first-response clock: damage 4 h, other 48 h, opened just now
    assert [r.split()[-1] for r in table["respond"]] == ["left", "left"]
    assert table["respond"].iloc[1].startswith(("47 h", "48 h", "2 d"))
    # review text stays literal text, never interpreted
    assert "<script>alert(1)</script>" in " ".join(table["text"])
    assert [s.value for s in at.subheader] == ["Reply draft", "Follow-ups", "Complaint spikes",
                                               "Weekly negative share per product"]
    assert at.get("download_button")  # the queue export, with a reply draft per review
    assert "reply drafts" in at.get("download_button")[0].proto.label
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "negative_share" in charts[0].proto.spec


def test_level_labels_show_the_deadlines_this_deployment_set(stored, monkeypatch):
    monkeypatch.setenv("MONITOR_SLA_HOURS", "1=0.5,2=8")
    at = AppTest.from_file(APP, default_timeout=60).run()
    labels = [m.label for m in at.metric]
    assert "L1 counterfeit (30 min)" in labels and "L2 damage (8 h)" in labels
    assert "L3 delay (24 h)" in labels


def test_reply_draft_with_live_checklist(stored):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.subheader[0].value == "Reply draft"
    reply = at.text_area[0]
    assert "damaged" in reply.value and "support@example.com" in reply.value
    checklist = lambda: next(m.value for m in at.markdown if "acknowledges" in m.value)  # noqa: E731
    assert checklist().count(":green[**yes**]") == 3
    reply.set_value("Sorry! We will refund you. Update your review for a gift card.").run()
    assert ":red[**missing**] invites the buyer" in checklist()
    assert any("changing or removing the review" in e.value for e in at.error)
    # pick the second review: its text is shown literally
    at.selectbox[0].set_value(1).run()
    assert "<script>alert(1)</script>" in at.text[0].value


def test_case_moves_from_the_dashboard_and_stale_edits_are_refused(stored):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.text_input[0].set_value("ana").run()
    at.selectbox(key=[k for k in (w.key for w in at.selectbox) if k and k.startswith("to-")][0]) \
        .set_value("acknowledged").run()
    [b for b in at.button if b.label == "Apply"][0].click().run()
    assert not at.exception
    store = Store(stored)
    case_id = store.cases().filter(pl.col("category") == "damage")["case_id"][0]
    events = store.case_events(case_id)
    assert events["to_state"].to_list() == ["new", "acknowledged"]
    assert events["actor"][-1] == "ana"
    # another agent already moved it: the next move from the page's old version is refused
    store.transition_case(case_id, "escalated", actor="bo", expected_version=2)
    at.run()  # page still holds the cached version 2
    at.selectbox(key=f"to-{case_id}").set_value("replied").run()
    [b for b in at.button if b.label == "Apply"][0].click().run()
    assert any("changed by someone else" in w.value for w in at.warning)
    assert store.case_events(case_id)["to_state"].to_list() == ["new", "acknowledged", "escalated"]
    # once replied to, the case leaves the queue
    store.transition_case(case_id, "replied", actor="bo", expected_version=3)
    assert case_id not in store.response_queue()["case_id"].to_list()
    assert case_id in store.response_queue(open_only=False)["case_id"].to_list()


def test_a_replied_case_is_resolved_from_the_dashboard_and_its_follow_ups_are_planned(stored):
    """Replied cases leave the queue of reviews waiting for an answer but stay on the page, where
    an agent resolves them (planning the 7-day report and 30-day invitation) or closes them."""
    store = Store(stored)
    case_id = store.cases().filter(pl.col("category") == "damage")["case_id"][0]
    store.transition_case(case_id, "replied", actor="ana", expected_version=1)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "Replied and resolved cases" in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "state" in d.value.columns)
    assert table["case_id"].tolist() == [case_id] and table["state"].tolist() == ["replied"]
    at.sidebar.text_input[0].set_value("ana").run()
    at.selectbox(key=f"to-{case_id}").set_value("resolved").run()
    at.text_input(key=f"note-{case_id}").set_value("Sent a new unit in a padded box").run()
    at.button(key=f"apply-{case_id}").click().run()
    assert not at.exception
    events = store.case_events(case_id)
    assert events.select("from_state", "to_state", "actor").rows()[-1] == ("replied", "resolved",
                                                                          "ana")
    assert events["note"][-1] == "Sent a new unit in a padded box"
    planned = store.follow_ups().filter(pl.col("case_id") == case_id)
    assert planned["kind"].to_list() == ["improvement_report", "try_again"]
    # still on the page, now resolved: it can be closed from here too
    assert at.selectbox(key=f"to-{case_id}").options == ["closed", "escalated"]
    at.selectbox(key=f"to-{case_id}").set_value("closed").run()
    at.button(key=f"apply-{case_id}").click().run()
    assert store.cases(case_id=case_id)["state"][0] == "closed"
    assert "Replied and resolved cases" not in [s.value for s in at.subheader]


def test_follow_ups_listed_and_marked_done(stored):
    store = Store(stored)
    case_id = store.cases().filter(pl.col("category") == "damage")["case_id"][0]
    v = store.transition_case(case_id, "replied", actor="a", expected_version=1)
    store.transition_case(case_id, "resolved", actor="a", expected_version=v,
                          note="We now ship it in a padded box")
    at = AppTest.from_file(APP, default_timeout=60).run()
    table = next(d.value for d in at.dataframe if "kind" in d.value.columns)
    assert sorted(table["kind"]) == ["improvement report", "try again"]  # read as words
    # the chosen follow-up's message starts from the resolution note, in the buyer's language
    change = at.text_area(key=[w.key for w in at.text_area if w.key.startswith("change-")][0])
    assert change.value == "We now ship it in a padded box"
    message = lambda: next(w for w in at.text_area if w.key.startswith("follow-up-"))  # noqa: E731
    checklist = lambda: next(m.value for m in at.markdown if "says what changed" in m.value)  # noqa: E731,E501
    assert "padded box." in message().value and "support@example.com" in message().value
    assert checklist().count(":green[**yes**]") == 2
    change.set_value("").run()
    assert "[what we changed]" in message().value
    assert ":red[**missing**] says what changed" in checklist()
    message().set_value("We changed the box. Please update your review for a gift card.").run()
    assert any("changing or removing the review" in e.value for e in at.error)
    at.button(key="follow-up-done").click().run()
    assert store.follow_ups().filter(pl.col("status") == "done").height == 1


def test_counterfeit_evidence_checklist_on_the_dashboard(tmp_path, sqlite_url, monkeypatch,
                                                        fake_analyzer):
    from dataclasses import replace

    class Counterfeit:
        def score(self, texts, **kw):
            return [replace(s, category="counterfeit", severity=1, evidence="fake")
                    for s in fake_analyzer.score(texts, **kw)]

    (tmp_path / "f.csv").write_text("review_id,text,rating\nf1,bad fake bag,1\n")
    store = Store(sqlite_url)
    ingest_batch(read_reviews(tmp_path / "f.csv"), Counterfeit(), store, "t", policy=CasePolicy())
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    case_id = store.cases()["case_id"][0]
    at.checkbox(key=f"ev-{case_id}-photos").check().run()
    at.button(key=f"ev-save-{case_id}").click().run()
    assert store.cases()["evidence_checklist"][0] == "photos"


def test_reviews_without_product_ids_still_show(tmp_path, sqlite_url, monkeypatch, fake_analyzer):
    (tmp_path / "n.csv").write_text("text,rating\nbad and broken,1\n")
    ingest_batch(read_reviews(tmp_path / "n.csv"), fake_analyzer, Store(sqlite_url), "t",
                 policy=CasePolicy())
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert list(at.dataframe[0].value["category"]) == ["damage"]
    at.switch_page("views/product.py").run()
    assert "no product id" in at.info[0].value


def test_overview_of_reviews_without_dates_says_so_and_still_counts(tmp_path, sqlite_url,
                                                                    monkeypatch, fake_analyzer):
    # a research set or a scraped listing: no date column, no product or marketplace
    (tmp_path / "n.csv").write_text("text,rating\nbad and broken,1\nbad fit,2\nlovely,5\n")
    ingest_batch(read_reviews(tmp_path / "n.csv"), fake_analyzer, Store(sqlite_url), "t",
                 policy=CasePolicy())
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/overview.py").run()
    assert not at.exception
    assert at.info[0].value.startswith("The 3 stored reviews carry no date")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Reviews"], metrics["Negative share"], metrics["Severe complaints"]) == (
        "3", "67%", "1")
    headings = [h.value for h in at.subheader]
    assert "Complaints by level" in headings and "Negative share per week" not in headings
    markets = next(d.value for d in at.dataframe if "marketplace" in d.value.columns)
    assert list(markets["marketplace"]) == ["(not given)"]


def test_queue_and_product_pages_of_reviews_without_dates(tmp_path, sqlite_url, monkeypatch,
                                                          fake_analyzer):
    (tmp_path / "n.csv").write_text("text,rating,sku\nbad and broken,1,S1\nlovely,5,S1\n")
    ingest_batch(read_reviews(tmp_path / "n.csv"), fake_analyzer, Store(sqlite_url), "t",
                 policy=CasePolicy())
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("carry no date" in c.value for c in at.caption)
    assert not at.get("vega_lite_chart")  # no empty chart over no weeks
    header = next(c.value for c in at.caption if "predicted" in c.value)
    assert header.startswith("review · ") and "1★ given" in header and "· ·" not in header
    at.switch_page("views/product.py").run()
    assert not at.exception
    assert any(c.value.startswith("This product's 2 reviews carry no date") for c in at.caption)
    assert "Negative reviews" in [h.value for h in at.subheader]
    assert {m.label: m.value for m in at.metric}["Reviews"] == "2"


def test_product_filter_narrows_the_queue(stored):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.multiselect[0].select("P2").run()
    assert list(at.dataframe[0].value["product_id"]) == ["P2"]


def test_spikes_are_listed(tmp_path, fake_analyzer, sqlite_url, monkeypatch):
    rows = ["review_id,product_id,date,rating,text"]
    rows += [f"b{i},K1,2026-03-0{1 + i % 3},1,bad and broken" for i in range(6)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    ingest_batch(read_reviews(tmp_path / "s.csv"), fake_analyzer, Store(sqlite_url), "test")
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    spikes = at.dataframe[1].value
    assert list(spikes["product_id"]) == ["K1"] and list(spikes["rule"]) == ["cluster"]


def test_overview_page(stored):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/overview.py").run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    labels = [m.label for m in at.metric]
    assert labels == ["Reviews", "Negative share", "Predicted stars", "Need a response",
                      "Severe complaints", "Cases opened (8 weeks)", "Response rate",
                      "Median time to first response"]
    assert len(at.get("vega_lite_chart")) == 2
    assert not at.info  # every review is dated: nothing to explain
    assert "Resolution rate" in [h.value for h in at.subheader]
    assert {m.label: m.value for m in at.metric}["Response rate"] == "0%"

    store = Store(stored)  # an agent answers one of the two cases
    case = store.cases().row(0, named=True)
    v = store.transition_case(case["case_id"], "acknowledged", actor="ann",
                              expected_version=case["version"])
    store.transition_case(case["case_id"], "replied", actor="ann", expected_version=v)
    import streamlit as st

    st.cache_data.clear()  # as after the cached minute has passed
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/overview.py").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Response rate"] == "50%" and metrics["Median time to first response"] != "—"
    # resolving it plans two follow-ups, which the page then counts
    store.transition_case(case["case_id"], "resolved", actor="ann", expected_version=v + 1)
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/overview.py").run()
    table = next(d.value for d in at.dataframe if "sent_on_time" in d.value.columns)
    assert sorted(table["kind"]) == ["improvement report", "try again"]  # read as words
    assert list(table["planned"]) == [1, 1] and list(table["overdue"]) == [0, 0]


def test_product_page_with_mismatch_and_literal_text(stored):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/product.py").run()
    assert not at.exception and at.title[0].value == "Product"
    at.selectbox[0].set_value("P2").run()
    assert at.metric[0].value == "2"
    texts = [t.value for t in at.text]
    assert any("<script>alert(1)</script>" in t for t in texts)
    assert at.get("download_button")


def test_without_passwords_the_app_says_no_login_is_configured(stored):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("No login configured" in w.value for w in at.sidebar.warning)


def test_login_and_roles_are_enforced(stored, monkeypatch):
    monkeypatch.setenv("MONITOR_AGENT_PASSWORD", "agent-pw")
    monkeypatch.setenv("MONITOR_MANAGER_PASSWORD", "boss-pw")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == "Sign in" and not at.dataframe  # nothing before sign-in
    at.text_input[0].input("guess")
    at.button[0].click().run()
    assert any("Wrong password" in e.value for e in at.error) and not at.dataframe
    at.text_input[0].input("boss-pw")
    at.button[0].click().run()
    assert at.title[0].value == "Needs response"
    assert at.get("download_button")  # managers export
    assert not [b for b in at.button if b.label == "Apply"]  # ...but do not act on cases
    at.button(key="sign-out").click().run()
    assert at.title[0].value == "Sign in"
    at.text_input[0].input("agent-pw")
    at.button[0].click().run()
    assert [b for b in at.button if b.label == "Apply"]  # agents act
    assert not at.get("download_button")


def test_product_themes_button(stored, stand_in_embedder):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/product.py").run()
    at.button(key="themes").click().run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "theme" in d.value.columns)
    assert int(table["reviews"].sum()) == 1  # P1 has one negative review
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("improvement report (Markdown)" in label for label in labels)
    assert any("print to PDF" in label for label in labels)


def test_empty_store_says_what_to_do(sqlite_url, monkeypatch):
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "monitor ingest" in at.info[0].value


def test_reviews_the_model_is_unsure_of_are_marked_for_a_person(stored, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert list(at.dataframe[0].value["check"]) == ["", ""]  # confidence 0.9: sure
    assert not [w for w in at.warning if "unsure" in w.value]
    # a cut above the stored confidence: every review goes to a person
    monkeypatch.setenv("MONITOR_HUMAN_REVIEW_BELOW", "0.95")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert list(at.dataframe[0].value["check"]) == ["model unsure", "model unsure"]
    assert any("model is unsure of this review (confidence 0.90)" in w.value for w in at.warning)


def test_unsure_filter_and_a_bad_cut(stored, monkeypatch):
    monkeypatch.setenv("MONITOR_HUMAN_REVIEW_BELOW", "lots")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("MONITOR_HUMAN_REVIEW_BELOW='lots'" in w.value for w in at.warning)
    box = next(c for c in at.checkbox if c.label.startswith("Only reviews the model is unsure"))
    box.check().run()
    assert not at.exception
    assert any("Nothing needs a response" in s.value for s in at.success)


def test_product_themes_say_what_to_fix_when_the_model_cannot_load(stored, monkeypatch,
                                                                  tmp_path):
    import streamlit as st

    st.cache_resource.clear()  # an analyzer another test cached would hide the failure
    monkeypatch.setenv("MONITOR_STAR_MODEL", str(tmp_path / "missing.safetensors"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/product.py").run()
    at.button(key="themes").click().run()
    assert not at.exception
    assert any("no star model at" in e.value and "MONITOR_STAR_MODEL" in e.value
               for e in at.error)


def test_broken_reply_templates_file_warns_once_and_the_page_still_drafts(stored, tmp_path,
                                                                        monkeypatch):
    bad = tmp_path / "templates.json"
    bad.write_text("{not json")
    monkeypatch.setenv("MONITOR_REPLY_TEMPLATES", str(bad))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    warnings = [w.value for w in at.warning if "MONITOR_REPLY_TEMPLATES" in w.value]
    assert len(warnings) == 1 and "cannot read it as JSON" in warnings[0]
    assert "damaged" in at.text_area[0].value  # the built-in draft stands in


def test_import_page_stores_uploaded_exports_and_names_a_bad_one(tmp_path, sqlite_url,
                                                                  monkeypatch, fake_analyzer):
    import streamlit as st

    import monitor.scoring
    from conftest import write_xlsx

    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    monkeypatch.setattr(monitor.scoring, "create_analyzer", lambda: fake_analyzer)
    xlsx = write_xlsx(tmp_path / "x.xlsx", {"Feedback": [["Order ID", "Review Content", "Rating"],
                                                         [1, "bad and broken", 1],
                                                         [2, "lovely", 5]]}).read_bytes()
    files = [("aliexpress.xlsx", xlsx, "application/vnd.ms-excel"),
             ("shop.csv", b"id,text\ns1,bad fit\ns2,fine\n", "text/csv"),
             ("ratings.csv", b"id,stars\n1,5\n", "text/csv")]
    st.cache_resource.clear()  # the page's model and store are per process: start clean
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert "Import reviews" in at.info[0].value  # the empty store points here
        at.switch_page("views/importer.py").run()
        at.file_uploader[0].set_value(files).run()
        next(b for b in at.button if b.label == "Import").click().run()
        assert not at.exception
        assert [s.value for s in at.success] == [
            "aliexpress.xlsx: 2 added, 0 already stored, 0 rejected; 1 cases opened, "
            "0 alerts queued",
            "shop.csv: 2 added, 0 already stored, 0 rejected; 1 cases opened, 0 alerts queued"]
        # "0 alerts queued" must not read as "nothing severe": the page says nobody is alerted
        assert any("alert channels: none set" in c.value for c in at.caption)
        # the bad file says what is wrong under its own name, not a temporary path
        assert [e.value for e in at.error] == [
            "ratings.csv: no review text column found among: id, stars; name it 'text' or "
            "pass --text-column"]
        assert Store(sqlite_url).count() == 4
        next(b for b in at.button if b.label == "Import").click().run()  # the same exports
        assert at.success[0].value.startswith("aliexpress.xlsx: 0 added, 2 already stored")
        assert Store(sqlite_url).count() == 4
        at.switch_page("views/queue.py").run()  # the queue shows the new cases at once
        assert {m.label: m.value for m in at.metric}["Need a response"] == "2"
    finally:
        st.cache_resource.clear()


def test_an_imported_damage_complaint_alerts_the_team_from_the_page(sqlite_url, monkeypatch,
                                                                     fake_analyzer, httpserver):
    import json

    import streamlit as st

    import monitor.scoring

    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    monkeypatch.setenv("MONITOR_WEBHOOK_URL", httpserver.url_for("/hook"))
    monkeypatch.setattr(monitor.scoring, "create_analyzer", lambda: fake_analyzer)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("views/importer.py").run()
        at.file_uploader[0].set_value(("r.csv", b"id,text\nd1,bad and broken\n", "text/csv")).run()
        next(b for b in at.button if b.label == "Import").click().run()
        assert not at.exception
        assert "1 alerts queued" in at.success[0].value
        assert at.info[0].value.startswith("Alerts: 1 delivered")
        assert json.loads(httpserver.log[0][0].data)["category"] == "damage"
    finally:
        st.cache_resource.clear()


def test_an_import_that_fails_part_way_says_what_was_kept(sqlite_url, monkeypatch, fake_analyzer):
    # a file that breaks after its first chunk: the chunks before it stay stored, and the
    # message says so (re-importing the fixed file adds only the rest)
    import streamlit as st

    import monitor.ingest
    import monitor.scoring
    from monitor.ingest import IngestError

    real_iter = monitor.ingest.iter_reviews

    def breaks_after_the_first_chunk(path, **kwargs):
        yield next(real_iter(path, **kwargs))
        raise IngestError(f"{path}: line 501 is not valid UTF-8")

    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    monkeypatch.setattr(monitor.scoring, "create_analyzer", lambda: fake_analyzer)
    monkeypatch.setattr(monitor.ingest, "iter_reviews", breaks_after_the_first_chunk)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("views/importer.py").run()
        at.file_uploader[0].set_value(("big.csv", b"id,text\nb1,bad fit\nb2,fine\n",
                                       "text/csv")).run()
        next(b for b in at.button if b.label == "Import").click().run()
        assert not at.exception and not at.success
        assert [e.value for e in at.error] == [
            "big.csv: line 501 is not valid UTF-8 (2 reviews before that were stored; "
            "importing the fixed file again adds only the rest)"]
        assert Store(sqlite_url).count() == 2
    finally:
        st.cache_resource.clear()
