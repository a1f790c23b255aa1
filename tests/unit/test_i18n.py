"""The seller team's language: every UI text the pages mark for translation is in the Chinese
catalog, MONITOR_UI_LANG sets the default, and the sidebar switch changes one session."""

import ast
from pathlib import Path
from string import Formatter

import pytest
from streamlit.testing.v1 import AppTest

from monitor.batch import ingest_batch
from monitor.cases import CasePolicy
from monitor.i18n import UI_LANGUAGES, catalog, read_po, translate, ui_language
from monitor.ingest import read_reviews
from monitor.store import Store

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def marked_texts() -> set[str]:
    """Every literal passed to t(...) in the dashboard."""
    found = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)
    return found


@pytest.mark.parametrize("lang", [lang for lang in UI_LANGUAGES if lang != "en"])
def test_every_marked_ui_text_is_in_each_catalog(lang):
    texts = marked_texts()
    assert len(texts) >= 30  # the pages do mark their texts
    from monitor.aspects import ASPECT_NAMES

    from monitor import alerts

    texts |= set(ASPECT_NAMES.values())  # shown through t(name)
    texts |= shown_through_t()
    # what alerts say to the team
    texts |= {alerts.SPIKE_TEXT, alerts.FOLLOW_UP_TEXT, alerts.CASE_TEXT, "unknown product",
              "Complaint spike", "Follow-up overdue", "improvement report", "try again",
              *alerts.SEVERITY_LABEL.values()}
    missing = sorted(texts - set(catalog(lang)))
    assert missing == [], f"add these to monitor/locale/{lang}/LC_MESSAGES/monitor.po"


def shown_through_t() -> set[str]:
    """Texts of the package that the pages pass through t(...) as values, not literals."""
    from monitor.cases import COUNTERFEIT_EVIDENCE, TIME_WORDS, CasePolicy
    from monitor.replies import PROBLEMS
    from monitor.reply_gloss import PART_NAMES
    from monitor.trends import COMPLAINT_LEVELS
    from views.common import WORDS

    return {*WORDS.values(), *TIME_WORDS.values(), *PROBLEMS.values(), *PART_NAMES.values(),
            *COUNTERFEIT_EVIDENCE.values(), *COMPLAINT_LEVELS.values(),
            CasePolicy().channels_line()}


@pytest.mark.parametrize("lang", [lang for lang in UI_LANGUAGES if lang != "en"])
def test_each_translation_keeps_the_fields_of_its_english(lang):
    """A {field} lost or renamed in a translation would fail only in that language."""
    fields = lambda text: sorted(f for _, f, _, _ in Formatter().parse(text) if f is not None)  # noqa: E731
    wrong = [source for source, said in catalog(lang).items()
             if "{" in source + said and fields(source) != fields(said)]
    assert wrong == []


def test_po_files_parse_as_gettext(tmp_path):
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr "Language: zh\\n"\n\n# note\nmsgid "Long "\n"text"\n'
                  'msgstr "长"\n"文本"\n\nmsgid "Untranslated"\nmsgstr ""\n', encoding="utf-8")
    assert read_po(po) == {"Long text": "长文本"}
    assert translate("Untranslated", "zh") == "Untranslated"  # English where missing
    assert translate("Needs response", "zh") == "待回复" and translate("Overview", "en") == "Overview"


def test_ui_language_setting(monkeypatch):
    monkeypatch.delenv("MONITOR_UI_LANG", raising=False)
    assert ui_language() == "en"
    monkeypatch.setenv("MONITOR_UI_LANG", "zh-CN")
    assert ui_language() == "zh"
    monkeypatch.setenv("MONITOR_UI_LANG", "fr")
    with pytest.raises(ValueError, match="MONITOR_UI_LANG='fr' is not a UI language"):
        ui_language()


@pytest.fixture
def stored(tmp_path, fake_analyzer, sqlite_url, monkeypatch):
    (tmp_path / "r.csv").write_text("review_id,product_id,date,rating,text\n"
                                    "a1,P1,2026-03-02,1,bad and broken\n"
                                    "a2,P1,2026-03-03,5,lovely\n")
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(sqlite_url), "t",
                 policy=CasePolicy())
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    return sqlite_url


def test_the_queue_page_in_chinese_and_the_sidebar_switch(stored, monkeypatch):
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "待回复"
    labels = [m.label for m in at.metric]
    assert "需要回复" in labels and "L2 商品破损 (4小时)" in labels
    assert "回复草稿" in [s.value for s in at.subheader]
    assert at.sidebar.header[0].value == "筛选"
    # the switch flips this session to English
    at.sidebar.selectbox(key="ui_lang_choice").set_value("en").run()
    assert at.title[0].value == "Needs response"
    assert "L2 damage (4 h)" in [m.label for m in at.metric]


def test_slack_and_email_alerts_speak_the_teams_language(monkeypatch):
    from monitor.alerts import slack_message

    payload = {"event": "case.opened", "case_id": 7, "review_id": "r1", "product_id": None,
               "marketplace": "amazon.de", "category": "counterfeit", "severity": 1,
               "language": "de", "evidence": "Fälschung, mail me at a@b.de",
               "due_at": "2026-12-14T14:00:00Z", "link": "http://dash/?case=7"}
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    monkeypatch.delenv("MONITOR_TEAM_TZ", raising=False)
    text = slack_message(payload)["text"]
    assert text.startswith("*一级（假货质疑）* 未知产品（amazon.de，de）")
    assert "请在 2026年12月14日 14:00（UTC） 前回复" in text and "a@b.de" not in text
    late = slack_message({"event": "follow_up.overdue", "kind": "try_again", "case_id": 7,
                          "product_id": "P1", "language": "de", "due_at": "x", "link": "l"})
    assert late["text"].startswith("*跟进逾期*：工单 7（P1，de）的再次试用邀请")
    monkeypatch.setenv("MONITOR_UI_LANG", "en")
    assert slack_message(payload)["text"].startswith("*Level 1 (counterfeit claim)* on unknown "
                                                     "product (amazon.de, de)")


def test_the_same_english_word_can_have_a_context(tmp_path):
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr "Language: zh\\n"\n\nmsgctxt "queue export column"\n'
                  'msgid "date"\nmsgstr "评价日期"\n\nmsgid "date"\nmsgstr "日期"\n\n'
                  'msgctxt "long "\n"context"\nmsgid "x"\nmsgstr "y"\n', encoding="utf-8")
    assert read_po(po) == {"queue export column\x04date": "评价日期", "date": "日期",
                           "long context\x04x": "y"}
    assert translate("date", "en", "queue export column") == "date"
    assert translate("no such word", "zh", "queue export column") == "no such word"


# --- every page in Chinese: nothing the team reads is left in English ---------------------------

import io  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402

import pyarrow as pa  # noqa: E402

from monitor.ingest import COLUMN_ALIASES  # noqa: E402

# What stays as it is in any language: names of settings, commands, file formats and services,
# and column names of the files the team imports.
KEPT = [re.compile(r"MONITOR_[A-Z_]+"), re.compile(r"`[^`]*`"), re.compile(r":[a-z]+\["),  # :red[]
        re.compile(r"\b(?:CSV|TSV|JSONL|JSON|Parquet|Excel|PDF|Markdown|UTC|Slack|Webhook)\b"),
        re.compile(r"product_id / asin / sku|text、review、Review Content"),
        re.compile(re.escape(", ".join(COLUMN_ALIASES["date"][:3]))),
        re.compile(r"Language / 语言|English")]  # the language switch, for whoever cannot read it
WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")
SHOWN = ("body", "label", "help", "placeholder", "options", "delta", "text")


def shown_texts(at: AppTest) -> list[str]:
    """Every text a rendered page shows: element bodies and labels, widget options and help,
    table column labels and cells, chart titles, axis and legend values (the unnamed field names
    a chart would print included). Not widget values: those are drafts in the buyer's language."""
    from google.protobuf.json_format import MessageToDict

    found: list[str] = []

    def table(data: bytes, config: dict | None = None, fields: set[str] | None = None) -> None:
        frame = pa.ipc.open_stream(io.BytesIO(data)).read_all()
        for name in frame.column_names:
            shown = (config or {}).get(name, {})
            if (shown is None or shown.get("hidden") or name == "_index"
                    or (fields is not None and name not in fields)):
                continue
            found.append(shown.get("label", name) if config is not None else "")
            if frame[name].null_count and config is not None:
                found.append("None")  # what the grid prints in an empty cell
            if pa.types.is_string(frame[name].type) or pa.types.is_large_string(frame[name].type):
                found.extend(v for v in frame[name].to_pylist() if v)

    def chart(spec: dict, fields: set[str]) -> None:
        if isinstance(spec, dict):
            if isinstance(spec.get("field"), str):
                fields.add(spec["field"])  # its values show on an axis, a legend or a tooltip
                if "title" not in spec and spec.get("legend", 1) is not None:
                    found.append(spec["field"])  # no title: the chart prints the field's name
            if isinstance(spec.get("title"), str):
                found.append(spec["title"])
            for value in spec.values():
                chart(value, fields)
        elif isinstance(spec, list):
            for value in spec:
                chart(value, fields)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            kind = proto.DESCRIPTOR.name
            if kind == "Dataframe":
                table(proto.arrow_data.data, json.loads(proto.columns or "{}"))
            elif kind == "VegaLiteChart":
                fields: set[str] = set()
                spec = json.loads(proto.spec)
                chart(spec, fields)
                if '"temporal"' in proto.spec:  # month names on the axis and in tooltips
                    found.extend(spec.get("config", {}).get("locale", {}).get("time", {})
                                 .get("shortMonths", ["Jan", "Feb", "Mar"]))
                for data in [proto.data, *(d.data for d in proto.datasets)]:
                    if data.data:
                        table(data.data, fields=fields)
            elif kind == "Html" and re.fullmatch(r"\s*<style>.*</style>\s*", proto.body, re.S):
                pass  # a style sheet: nothing of it is shown as text
            else:
                shown = MessageToDict(proto)
                if kind == "MultiSelect" and not shown.get("placeholder"):
                    found.append("Choose options")  # what the browser shows when none is set
                for key, value in shown.items():
                    if key in SHOWN:
                        found.extend(value if isinstance(value, list) else [value])
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else []):
            walk(child)

    walk(at._tree)
    return [text for text in found if isinstance(text, str)]


def english_left(at: AppTest, data: list[str]) -> list[str]:
    """The texts of a page that still hold an English word, once the buyers' and the store's
    own data (`data`: review texts, product ids, names...) and the KEPT names are taken out."""
    assert not at.exception, at.exception
    theirs = [re.compile(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])")
              for value in sorted(set(data), key=len, reverse=True)]
    left = []
    for text in shown_texts(at):
        rest = text
        for kept in [*KEPT, *theirs]:
            rest = kept.sub(" ", rest)
        if WORD.search(rest):
            left.append(text)
    return left


ZH_CSV = """review_id,product_id,date,rating,text
z1,P1,2026-03-02,1,bad and broken
z2,P1,2026-03-03,5,lovely
z3,P2,2026-03-10,5,bad but pretty
z4,P1,2026-03-04,1,bad and broken again
z5,P1,2026-03-05,2,bad: broken lid
"""
NOTE = "New padded box"  # the agent's resolution note


def zh_data(url: str) -> list[str]:
    store = Store(url)
    rows = store.reviews()
    return [*[r for r in rows["text"] if r], *[r for r in rows["evidence"] if r], "P1", "P2",
            "en", "support@example.com", "ana", NOTE, url.split(":///")[-1], "sqlite",
            *[c for c in store.cases()["escalation"] if c]]


@pytest.fixture
def busy(tmp_path, fake_analyzer, sqlite_url, monkeypatch):
    """A store with something in every section: a queue, a spike, a replied and a resolved case
    (follow-ups), queued alerts, a rating that contradicts its text."""
    (tmp_path / "r.csv").write_text(ZH_CSV)
    monkeypatch.setenv("MONITOR_WEBHOOK_URL", "http://127.0.0.1:9/hook")  # alerts queue, unsent
    ingest_batch(read_reviews(tmp_path / "r.csv"), fake_analyzer, Store(sqlite_url), "t",
                 policy=CasePolicy.from_env())
    store = Store(sqlite_url)
    cases = store.cases().sort("case_id")
    first, second = cases["case_id"][0], cases["case_id"][1]
    store.transition_case(first, "replied", actor="ana", expected_version=1)
    v = store.transition_case(second, "replied", actor="ana", expected_version=1)
    store.transition_case(second, "resolved", actor="ana", expected_version=v, note=NOTE)
    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    return sqlite_url


def test_the_queue_page_leaves_nothing_in_english(busy, monkeypatch):
    monkeypatch.setenv("MONITOR_HUMAN_REVIEW_BELOW", "0.95")  # every review: "model unsure"
    at = AppTest.from_file(APP, default_timeout=60).run()
    data = zh_data(busy)
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:4] == ["回复草稿", "已回复和已解决的工单", "跟进事项", "投诉激增"]
    assert english_left(at, data) == []
    # the draft reads in Chinese beside the English one, and follows the agent's edits
    gloss = next(x.value for x in at.text if x.value.startswith("很抱歉"))
    assert gloss.endswith("联系我们并提供您的订单号，我们会直接为您处理。")
    reply = next(a for a in at.text_area if a.key.startswith("reply-"))
    reply.set_value(reply.value.split(". Please")[0] + ". Update your review for a gift card!")
    at.run()
    assert english_left(at, data) == []
    assert any("草稿中已删去：私下联系的邀请" in c.value for c in at.caption)
    assert any("以修改或删除评价为条件提供好处" in e.value for e in at.error)
    assert "承认问题并致歉" in next(m.value for m in at.markdown if ":red[**缺少**]" in m.value)
    # the follow-up of the resolved case, and its draft in Chinese
    follow_up = next(a for a in at.text_area if a.key.startswith("follow-up-"))
    assert NOTE in follow_up.value and any(x.value.startswith("再次感谢") for x in at.text)


def test_the_other_pages_leave_nothing_in_english(busy, stand_in_embedder):
    data = zh_data(busy)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/overview.py").run()
    assert at.title[0].value == "总览" and len(at.get("vega_lite_chart")) == 2
    assert english_left(at, data) == []
    at.switch_page("views/product.py").run()
    at.button(key="themes").click().run()
    assert any("theme" in d.value.columns for d in at.dataframe)  # the themes table is there
    assert english_left(at, data) == []
    at.switch_page("views/importer.py").run()
    assert english_left(at, data) == []


def test_imports_undated_reviews_and_sign_in_in_chinese(tmp_path, sqlite_url, monkeypatch,
                                                       fake_analyzer):
    import streamlit as st

    import monitor.scoring

    monkeypatch.setenv("MONITOR_DB_URL", sqlite_url)
    monkeypatch.setenv("MONITOR_UI_LANG", "zh")
    monkeypatch.setenv("MONITOR_AGENT_PASSWORD", "agent-pw")
    monkeypatch.setattr(monitor.scoring, "create_analyzer", lambda: fake_analyzer)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert at.title[0].value == "登录" and english_left(at, []) == []
        at.text_input[0].input("guess")
        at.button[0].click().run()
        assert at.error[0].value == "密码错误。"
        at.text_input[0].input("agent-pw")
        at.button[0].click().run()
        assert english_left(at, ["sqlite", sqlite_url.split(":///")[-1]]) == []  # empty store
        at.switch_page("views/importer.py").run()
        at.file_uploader[0].set_value(("r.csv", b"id,product_id,text\nu1,P9,bad and broken\n"
                                       b"u2,P9,lovely\n", "text/csv")).run()
        next(b for b in at.button if b.label == "导入").click().run()
        assert at.success[0].value.startswith("r.csv：新增 2 条")
        data = zh_data(sqlite_url) + ["P9", "r.csv"]
        assert english_left(at, data) == []
        for page in ("views/queue.py", "views/overview.py", "views/product.py"):
            at.switch_page(page).run()  # reviews without dates: each page says so
            assert english_left(at, data) == []
        at.button(key="sign-out").click().run()
        assert at.title[0].value == "登录"
    finally:
        st.cache_resource.clear()
