import pytest

from monitor.replies import (CATEGORIES, CHANGE_PLACEHOLDER, FOLLOW_UP_TEMPLATES, INVITATIONS,
                             TEMPLATES, check_follow_up, check_reply, draft_follow_up,
                             draft_reply)
from monitor.scoring.phrases import PHRASES

CONTACT = "care@shop.example"


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_draft_has_all_three_parts_and_nothing_forbidden(lang, category):
    draft = draft_reply(category, lang, contact=CONTACT)
    assert draft.lang.split("-")[0] == lang and CONTACT in draft.text
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
    path.write_text('{"fi": {"damage": "Pahoittelemme! Lähetämme uuden. Ota yhteyttä {contact}."}}')
    custom = load_templates(path)
    draft = draft_reply("damage", "fi", contact=CONTACT, custom=custom)
    assert draft.lang == "fi" and draft.text.endswith(f"Ota yhteyttä {CONTACT}.")
    assert draft_reply("delay", "fi", contact=CONTACT, custom=custom).lang == "en"  # not given
    bad = tmp_path / "bad.json"
    bad.write_text('{"en": ["not", "a", "mapping"]}')
    with pytest.raises(ValueError, match="MONITOR_REPLY_TEMPLATES"):
        load_templates(bad)


def test_every_language_with_complaint_rules_gets_replies_and_follow_ups_in_it():
    rule_langs = {lang for by_lang in PHRASES.values() for lang in by_lang}
    assert rule_langs <= set(TEMPLATES) == set(INVITATIONS) == set(FOLLOW_UP_TEMPLATES)


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_each_part_is_recognised_on_its_own_in_every_language(lang):
    """The markers must tell the parts apart, not match any polite sentence."""
    ack, fix = TEMPLATES[lang]["damage"]
    invite = INVITATIONS[lang].format(contact=CONTACT)
    assert (lambda c: (c.acknowledge, c.fix, c.invite))(check_reply(ack, contact=CONTACT)) == (
        True, False, False)
    assert check_reply(fix, contact=CONTACT).fix
    assert check_reply(invite, contact=CONTACT).invite


@pytest.mark.parametrize("text", [
    "Извините! Мы вернём деньги, напишите нам. Пожалуйста, измените ваш отзыв.",
    "죄송합니다. 환불해 드리겠습니다. 연락 주세요. 리뷰를 삭제해 주시면 쿠폰을 드립니다.",
    "نأسف. سنرسل بديلًا. تواصل معنا. يرجى تعديل التقييم.",
    "Het spijt ons. We betalen het bedrag terug. Neem contact op. Wilt u uw review aanpassen?",
    "Przykro nam. Zwrócimy pieniądze, prosimy o kontakt. Prosimy zmienić opinię.",
    "Çok üzgünüz, iade edeceğiz, bize yazın. Lütfen yorumunuzu silin.",
    "Vi beklagar. Vi återbetalar, kontakta oss. Kan du ändra din recension?",
    "Vi beklager. Vi refunderer beløpet, kontakt oss. Kan du endre din anmeldelse?",
    "Vi beklager. Vi refunderer beløbet, kontakt os. Vil du slette din anmeldelse?",
])
def test_asking_to_change_the_review_is_caught_in_the_new_languages(text):
    assert any("changing or removing the review" in p for p in check_reply(text).problems)


@pytest.mark.parametrize("lang", sorted(FOLLOW_UP_TEMPLATES))
@pytest.mark.parametrize("kind", ["improvement_report", "try_again"])
def test_every_follow_up_draft_says_what_changed_and_how_to_reach_us(lang, kind):
    draft = draft_follow_up(kind, lang, contact=CONTACT, change="  new padded\n box ")
    assert (draft.lang.split("-")[0], draft.kind) == (lang, kind)
    assert "new padded box" in draft.text and CONTACT in draft.text
    assert check_follow_up(draft.text, contact=CONTACT).complete


def test_follow_up_without_a_change_keeps_a_visible_placeholder_and_is_incomplete():
    draft = draft_follow_up("try_again", "de", contact=CONTACT)
    assert CHANGE_PLACEHOLDER in draft.text
    check = check_follow_up(draft.text, contact=CONTACT)
    assert (check.says_what_changed, check.invite, check.complete) == (False, True, False)


def test_follow_up_falls_back_to_english_and_checks_forbidden_content():
    draft = draft_follow_up("improvement_report", "sw", contact=CONTACT, change="A new supplier")
    assert draft.lang == "en" and "A new supplier." in draft.text
    edited = draft.text + " We will send a gift card if you update your review."
    assert not check_follow_up(edited, contact=CONTACT).complete
    assert not check_follow_up("We changed the box.", contact=CONTACT).invite
    with pytest.raises(ValueError, match="improvement_report or try_again"):
        draft_follow_up("survey", "en", contact=CONTACT)


@pytest.mark.parametrize("text,flagged", [
    ("Free item in exchange for a 5-star review.", True),
    ("Скидка в обмен на отзыв.", True),
    # swapping the faulty item is the fix itself, not an incentive
    ("Sorry! We will send a replacement in exchange for the faulty unit. Contact us.", False),
    ("Извините! Отправим новый товар в обмен на возврат старого. Напишите нам.", False),
])
def test_exchange_is_an_incentive_only_when_it_is_for_the_review(text, flagged):
    assert bool(check_reply(text, contact=CONTACT).problems) == flagged


def test_queue_gets_a_reply_draft_per_review_in_its_language():
    import polars as pl

    from monitor.replies import with_reply_drafts

    queue = pl.DataFrame({"category": ["damage", None, "delay"], "lang": ["pl", "ja", "xx"]})
    out = with_reply_drafts(queue, contact=CONTACT, custom={"xx": {"delay": "Own {contact}"}})
    assert out["reply_draft"].to_list() == [
        draft_reply("damage", "pl", contact=CONTACT).text,
        draft_reply("other", "ja", contact=CONTACT).text, f"Own {CONTACT}"]


def test_sellers_own_follow_up_templates_win(tmp_path):
    from monitor.replies import load_templates

    path = tmp_path / "t.json"
    path.write_text('{"fi": {"try_again": "Muutimme: {change} {Kysy} {contact}"},'
                    ' "de": {"damage": "Entschuldigung! Ersatz kommt. Kontakt: {contact}"}}')
    custom = load_templates(path)
    draft = draft_follow_up("try_again", "fi", contact=CONTACT, change="uusi laatikko",
                            custom=custom)
    assert (draft.lang, draft.text) == ("fi", f"Muutimme: uusi laatikko. {{Kysy}} {CONTACT}")
    # what the seller did not give stays built-in, and falls back as before
    assert draft_follow_up("improvement_report", "fi", contact=CONTACT, custom=custom).lang == "en"
    assert draft_follow_up("try_again", "de", contact=CONTACT, custom=custom).text == \
        draft_follow_up("try_again", "de", contact=CONTACT).text


# --- damage on arrival vs a product that failed in use; Brazilian vs European Portuguese -----

from monitor.reply_variants import (DEFECT_TEMPLATES, PT_BR_TEMPLATES,  # noqa: E402
                                    damage_variant, portuguese_variant)


@pytest.mark.parametrize("text,expected", [
    ("It stopped working after two weeks.", "defect"),
    ("The bottle started leaking after a month of use.", "defect"),
    ("Funktioniert nicht mehr nach drei Wochen.", "defect"),
    ("Dejó de funcionar a los pocos días.", "defect"),
    ("用了一个月就不能用了", "defect"),
    ("Перестал работать через неделю.", "defect"),
    ("Arrived broken, the box was crushed.", "damage"),
    ("Arrived dead, it stopped working out of the box.", "damage"),  # arrival wins
    ("Die Lampe kam kaputt an.", "damage"),
    ("商品が破損して届いた", "damage"),
])
def test_damage_replies_tell_arrival_from_failure_in_use(text, expected):
    assert damage_variant(text) == expected
    draft = draft_reply("damage", "en", contact=CONTACT, text=text)
    assert draft.variant == ("defect" if expected == "defect" else "")
    carrier = "carrier" in draft.text
    assert carrier == (expected == "damage")  # only arrival damage is the carrier's business


@pytest.mark.parametrize("lang", sorted(DEFECT_TEMPLATES))
def test_every_defect_reply_is_complete(lang):
    base = lang.split("-")[0]
    market = {"pt-BR": "amazon.com.br", "pt-PT": "amazon.pt"}.get(lang)
    draft = draft_reply("damage", base, contact=CONTACT, text="stopped working after a week",
                        marketplace=market)
    assert draft.lang == lang and draft.variant == "defect"
    assert draft.text.startswith(DEFECT_TEMPLATES[lang][0])
    assert check_reply(draft.text, contact=CONTACT).complete


@pytest.mark.parametrize("market,text,variant", [
    ("amazon.com.br", "", "pt-BR"), ("Mercado Livre", "", "pt-BR"), ("amazon.pt", "", "pt-PT"),
    (None, "A encomenda chegou com o ecrã partido, estou a pensar devolver.", "pt-PT"),
    (None, "Você acredita que o celular chegou sem carregador?", "pt-BR"),
    (None, "Produto ruim.", "pt-BR"),  # no sign either way: the larger market
])
def test_portuguese_buyers_get_their_own_variant(market, text, variant):
    assert portuguese_variant(market, text) == variant
    draft = draft_reply("delay", "pt", contact=CONTACT, text=text, marketplace=market)
    assert draft.lang == variant and check_reply(draft.text, contact=CONTACT).complete
    brazilian = "contato" in draft.text and "encomenda" not in draft.text
    assert brazilian == (variant == "pt-BR")


@pytest.mark.parametrize("category", CATEGORIES)
def test_brazilian_replies_are_complete(category):
    draft = draft_reply(category, "pt", contact=CONTACT, marketplace="amazon.com.br")
    assert draft.text.startswith(PT_BR_TEMPLATES[category][0])
    assert check_reply(draft.text, contact=CONTACT).complete


def test_brazilian_follow_ups_and_a_sellers_own_portuguese_template():
    br = draft_follow_up("try_again", "pt", contact=CONTACT, change="Trocamos o fornecedor.",
                         marketplace="amazon.com.br")
    pt = draft_follow_up("try_again", "pt", contact=CONTACT, change="Mudámos o fornecedor.",
                         marketplace="amazon.pt")
    assert br.lang == "pt-BR" and "contato" in br.text
    assert check_follow_up(br.text, contact=CONTACT).complete
    assert pt.lang == "pt-PT" and "contacto" in pt.text
    own = {"pt-BR": {"damage": "Sentimos muito! Fale com {contact}."}}
    draft = draft_reply("damage", "pt", contact=CONTACT, marketplace="amazon.com.br", custom=own)
    assert draft.text == f"Sentimos muito! Fale com {CONTACT}."


# --- what a draft says in the team's language (monitor.reply_gloss) ----------------------------

from monitor.i18n import UI_LANGUAGES  # noqa: E402
from monitor.reply_gloss import gloss_follow_up, gloss_reply  # noqa: E402
from monitor.replies import follow_up_parts, reply_for  # noqa: E402


def review(category, lang, text="", marketplace=None):
    return {"category": category, "lang": lang, "text": text, "evidence": None,
            "marketplace": marketplace}


@pytest.mark.parametrize("team", sorted(UI_LANGUAGES))
@pytest.mark.parametrize("lang", sorted(TEMPLATES))
@pytest.mark.parametrize("category", CATEGORIES)
def test_an_untouched_reply_reads_as_the_same_reply_in_the_teams_language(team, lang, category):
    row = review(category, lang)
    draft = draft_reply(category, lang, contact=CONTACT).text
    gloss = gloss_reply(draft, row, team, contact=CONTACT)
    assert [p.name for p in gloss.parts] == ["acknowledge", "fix", "invite"]
    assert gloss.missing == [] and not gloss.own_words
    assert gloss.same_language == (lang == team)
    assert gloss.text == draft_reply(category, team, contact=CONTACT).text


@pytest.mark.parametrize("row,team", [
    (review("damage", "de", "Funktioniert nicht mehr nach drei Wochen."), "zh"),  # defect reply
    (review("delay", "pt", marketplace="amazon.com.br"), "zh"),  # Brazilian Portuguese
    (review("delay", "pt", marketplace="amazon.pt"), "en"),  # European Portuguese
    (review("counterfeit", "ja"), "en"),
])
def test_reply_variants_are_glossed_by_the_same_variant(row, team):
    draft = reply_for(row, contact=CONTACT)
    gloss = gloss_reply(draft.text, row, team, contact=CONTACT)
    assert gloss.draft_lang == draft.lang and gloss.missing == []
    assert gloss.text == draft_reply(row["category"], team, contact=CONTACT, text=row["text"]).text


def test_an_edited_reply_is_glossed_by_the_parts_it_still_holds():
    row = review("damage", "de")
    ack, fix = TEMPLATES["de"]["damage"]
    zh_ack, zh_fix = TEMPLATES["zh"]["damage"]
    # the invitation deleted, the lines re-wrapped, a sentence of the agent's own added
    edited = f"{ack}\n{fix.replace(' ', chr(10), 3)} Vielen Dank für Ihre Geduld!"
    gloss = gloss_reply(edited, row, "zh", contact=CONTACT)
    assert [(p.name, p.present) for p in gloss.parts] == [("acknowledge", True), ("fix", True),
                                                          ("invite", False)]
    assert gloss.missing == ["invite"] and gloss.own_words
    assert gloss.text == zh_ack + zh_fix
    # a part the agent rewrote is no longer that part: it is not translated
    gloss = gloss_reply(edited.replace("Ersatz", "einen neuen Artikel"), row, "en",
                        contact=CONTACT)
    assert gloss.missing == ["fix", "invite"] and gloss.text == TEMPLATES["en"]["damage"][0]
    assert gloss_reply("", row, "en", contact=CONTACT).text == ""


def test_a_reply_from_the_sellers_own_template_has_no_known_parts():
    own = {"de": {"damage": "Entschuldigung! Ersatz kommt. Kontakt: {contact}"}}
    row = review("damage", "de")
    draft = reply_for(row, contact=CONTACT, custom=own)
    gloss = gloss_reply(draft.text, row, "zh", contact=CONTACT, custom=own)
    assert not draft.from_template and gloss.parts == () and gloss.text == ""
    assert gloss.own_words


@pytest.mark.parametrize("team", sorted(UI_LANGUAGES))
@pytest.mark.parametrize("lang", sorted(FOLLOW_UP_TEMPLATES))
@pytest.mark.parametrize("kind", ["improvement_report", "try_again"])
def test_an_untouched_follow_up_reads_in_the_teams_language(team, lang, kind):
    task = {"kind": kind, "lang": lang, "marketplace": None}
    draft = draft_follow_up(kind, lang, contact=CONTACT, change="Neue Box")
    gloss = gloss_follow_up(draft.text, task, team, contact=CONTACT, change="Neue Box")
    assert gloss.missing == [] and not gloss.own_words
    ours = follow_up_parts(kind, team, contact=CONTACT, change="X")
    said = gloss.text
    # the template's opening and closing in the team's language, the change as the agent wrote it
    assert said.startswith(ours["opening"].strip()) and said.endswith(ours["closing"].strip())
    assert "Neue Box" in said


def test_an_edited_follow_up_and_a_placeholder():
    task = {"kind": "improvement_report", "lang": "fr", "marketplace": None}
    draft = draft_follow_up("improvement_report", "fr", contact=CONTACT, change="Nouvelle boîte")
    closing = follow_up_parts("improvement_report", "fr", contact=CONTACT, change="")["closing"]
    edited = draft.text.replace(closing.strip(), "")
    gloss = gloss_follow_up(edited, task, "zh", contact=CONTACT, change="Nouvelle boîte")
    assert gloss.missing == ["closing"] and not gloss.own_words
    assert gloss.text == FOLLOW_UP_TEMPLATES["zh"]["improvement_report"].split("{change}")[0] \
        + "Nouvelle boîte."
    empty = draft_follow_up("try_again", "fr", contact=CONTACT)
    assert CHANGE_PLACEHOLDER in gloss_follow_up(empty.text, {**task, "kind": "try_again"}, "en",
                                                 contact=CONTACT, change="").text
