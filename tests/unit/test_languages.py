"""Per-language data lives in one file per language (monitor/languages/<code>.json); the
tables every module uses are built from the files present."""

import importlib
import json

import pytest

from monitor import languages
from monitor.cases import LANGUAGE_TZ
from monitor.replies import CATEGORIES, FOLLOW_UP_TEMPLATES, INVITATIONS, PART_MARKERS, TEMPLATES
from monitor.scoring.escalation import ESCALATION_TERMS
from monitor.scoring import phrases
from monitor.scoring.phrases import PHRASES

KNOWN_KEYS = {"language", "name", "time_zone", "replies", "defect_reply", "invitation",
              "follow_ups", "escalation_words", "complaint_phrases", "variant_of", "negations",
              "negations_after", "review_words", "reply_part_markers"}


@pytest.mark.parametrize("code", sorted(languages.registry()))
def test_every_language_file_is_complete_and_well_formed(code):
    data = languages.registry()[code]
    assert data["language"] == code and set(data) <= KNOWN_KEYS
    if "replies" in data:
        assert set(data["replies"]) == set(CATEGORIES)
        assert "{contact}" in data["invitation"]
        assert set(data["follow_ups"]) == {"improvement_report", "try_again"}
    if "variant_of" not in data:
        assert data["time_zone"] and data["escalation_words"]
        assert set(data["complaint_phrases"]) == {"counterfeit", "damage", "delay"}


def test_adding_a_language_is_adding_a_file(tmp_path, monkeypatch):
    for path in languages.FOLDER.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "fi.json").write_text(json.dumps({
        "language": "fi", "name": "Finnish", "time_zone": "Europe/Helsinki",
        "escalation_words": ["reklamaatio", "hyvitys"],
        "complaint_phrases": {"counterfeit": ["väärennös"], "damage": ["rikki"],
                              "delay": ["myöhässä"]}}), encoding="utf-8")
    monkeypatch.setattr(languages, "FOLDER", tmp_path)
    languages.registry.cache_clear()
    try:
        assert languages.table("time_zone")["fi"] == "Europe/Helsinki"
        assert languages.complaint_phrases(("counterfeit",))["counterfeit"]["fi"] == ["väärennös"]
    finally:
        languages.registry.cache_clear()


def test_the_module_tables_come_from_the_files():
    assert set(TEMPLATES) == set(INVITATIONS) == set(FOLLOW_UP_TEMPLATES) == {
        code for code, d in languages.languages().items() if "replies" in d}
    assert ESCALATION_TERMS["zh"] == tuple(languages.registry()["zh"]["escalation_words"])
    assert LANGUAGE_TZ["ja"] == "Asia/Tokyo"
    assert PHRASES["delay"]["de"] == languages.registry()["de"]["complaint_phrases"]["delay"]


@pytest.mark.parametrize("lang, negation, review_word, acknowledge, invite", [
    ("en", "never", "reviews", "sorry", "contact"),
    ("de", "keine", "bewertungen", "tut uns leid", "kontaktier"),
    ("pt", "não", "avaliações", "desculp", "contacto"),
    ("pl", "żaden", "recenzje", "przeprasz", "kontakt"),
    ("zh", "没有", "刷单", "抱歉", "联系"),
    ("ja", "ではない", "口コミ", "申し訳", "ご連絡"),
    ("tr", "değil", "yorumlar", "özür", "bize ulaşın"),
])
def test_negations_review_words_and_reply_markers_come_from_each_language_file(
        lang, negation, review_word, acknowledge, invite):
    data = languages.registry()[lang]
    assert negation in data.get("negations", []) + data.get("negations_after", [])
    assert review_word in data["review_words"]
    assert acknowledge in data["reply_part_markers"]["acknowledge"]
    assert invite in data["reply_part_markers"]["invite"]
    assert negation in (phrases.NEGATION_WORDS | phrases.NEGATION_AFTER_WORDS
                        | set(phrases.CJK_NEGATION_BEFORE) | set(phrases.CJK_NEGATION_AFTER))
    assert review_word in phrases.REVIEW_WORDS | set(phrases.CJK_REVIEW_WORDS)
    assert acknowledge in PART_MARKERS["acknowledge"] and invite in PART_MARKERS["invite"]


def test_latin_and_cjk_words_land_in_their_own_lists():
    assert "değil" in phrases.NEGATION_AFTER_WORDS and "ikke" in phrases.NEGATION_WORDS
    assert "不是" in phrases.CJK_NEGATION_BEFORE and "じゃない" in phrases.CJK_NEGATION_AFTER
    assert not set(phrases.CJK_NEGATION_BEFORE) & phrases.NEGATION_WORDS
    assert "entre em contato" in PART_MARKERS["invite"]  # from the pt-BR variant


def test_a_new_language_file_brings_its_negations_review_words_and_reply_markers(tmp_path,
                                                                                 monkeypatch):
    for path in languages.FOLDER.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "fi.json").write_text(json.dumps({
        "language": "fi", "name": "Finnish", "time_zone": "Europe/Helsinki",
        "escalation_words": ["reklamaatio"],
        "complaint_phrases": {"counterfeit": ["väärennös"], "damage": ["rikki"],
                              "delay": ["myöhässä"]},
        "negations": ["ei"], "negations_after": ["eikä"], "review_words": ["arvostelut"],
        "reply_part_markers": {"acknowledge": ["pahoittelemme"], "fix": ["hyvitämme"],
                               "invite": ["ota yhteyttä"]}}), encoding="utf-8")
    monkeypatch.setattr(languages, "FOLDER", tmp_path)
    languages.registry.cache_clear()
    try:
        fresh = importlib.reload(phrases)
        assert "ei" in fresh.NEGATION_WORDS and "eikä" in fresh.NEGATION_AFTER_WORDS
        assert "arvostelut" in fresh.REVIEW_WORDS
        assert fresh.NEGATION_WORDS > {"not", "nicht", "ikke"}
        markers = languages.word_groups("reply_part_markers")
        assert "pahoittelemme" in markers["acknowledge"] and "sorry" in markers["acknowledge"]
        assert "hyvitämme" in markers["fix"] and "ota yhteyttä" in markers["invite"]
    finally:
        monkeypatch.undo()
        languages.registry.cache_clear()
        importlib.reload(phrases)
