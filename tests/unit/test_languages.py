"""Per-language data lives in one file per language (monitor/languages/<code>.json); the
tables every module uses are built from the files present."""

import json

import pytest

from monitor import languages
from monitor.cases import LANGUAGE_TZ
from monitor.replies import CATEGORIES, FOLLOW_UP_TEMPLATES, INVITATIONS, TEMPLATES
from monitor.scoring.escalation import ESCALATION_TERMS
from monitor.scoring.phrases import PHRASES

KNOWN_KEYS = {"language", "name", "time_zone", "replies", "defect_reply", "invitation",
              "follow_ups", "escalation_words", "complaint_phrases", "variant_of"}


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
