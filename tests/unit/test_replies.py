import pytest

from monitor.replies import CATEGORIES, TEMPLATES, check_reply, draft_reply

CONTACT = "care@shop.example"


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_draft_has_all_three_parts_and_nothing_forbidden(lang, category):
    draft = draft_reply(category, lang, contact=CONTACT)
    assert draft.lang == lang and CONTACT in draft.text
    check = check_reply(draft.text, contact=CONTACT)
    assert (check.acknowledge, check.fix, check.invite, check.problems) == (True, True, True, [])
    assert check.complete


def test_unknown_language_falls_back_to_english_and_unknown_category_to_other():
    draft = draft_reply("weird", "sw", contact=CONTACT)
    assert (draft.lang, draft.category) == ("en", "other")


def test_edited_reply_missing_the_invitation():
    check = check_reply("So sorry about this! We will send a replacement.")
    assert (check.acknowledge, check.fix, check.invite) == (True, True, False)
    assert not check.complete


@pytest.mark.parametrize("text,problem", [
    ("Sorry! We'll refund you. Contact us. We'll send a gift card if you update your review.",
     "changing or removing the review"),
    ("Sorry, refund on its way, contact jane.doe@gmail.com", "e-mail address"),
    ("Sorry, refund on its way, contact us or call +44 20 7946 0958", "phone number"),
    ("Sorry about order 302-1234567-7654321, refund coming, contact us", "order number"),
    ("很抱歉，退款中，请联系我们。好评返现！", "changing or removing the review"),
])
def test_forbidden_content_is_reported(text, problem):
    check = check_reply(text, contact=CONTACT)
    assert any(problem in p for p in check.problems)
    assert not check.complete


def test_sellers_own_templates_win_and_are_still_checked(tmp_path):
    from monitor.replies import load_templates

    path = tmp_path / "t.json"
    path.write_text('{"sv": {"damage": "Förlåt! Vi skickar en ersättning. Kontakta {contact}."}}')
    custom = load_templates(path)
    draft = draft_reply("damage", "sv", contact=CONTACT, custom=custom)
    assert draft.lang == "sv" and draft.text.endswith(f"Kontakta {CONTACT}.")
    assert draft_reply("delay", "sv", contact=CONTACT, custom=custom).lang == "en"  # not given
    bad = tmp_path / "bad.json"
    bad.write_text('{"en": ["not", "a", "mapping"]}')
    with pytest.raises(ValueError, match="MONITOR_REPLY_TEMPLATES"):
        load_templates(bad)
