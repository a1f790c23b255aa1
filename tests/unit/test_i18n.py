"""The seller team's language: every UI text the pages mark for translation is in the Chinese
catalog, MONITOR_UI_LANG sets the default, and the sidebar switch changes one session."""

import ast
from pathlib import Path

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
    # what alerts say to the team
    texts |= {alerts.SPIKE_TEXT, alerts.FOLLOW_UP_TEXT, alerts.CASE_TEXT, "unknown product",
              "Complaint spike", "Follow-up overdue", "improvement report", "try again",
              *alerts.SEVERITY_LABEL.values()}
    missing = sorted(texts - set(catalog(lang)))
    assert missing == [], f"add these to monitor/locale/{lang}/LC_MESSAGES/monitor.po"


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
