import pytest

from monitor.schema import Category
from monitor.scoring.severity import evidence_span, find_phrases


def categories(text):
    return [m.category for m in find_phrases(text)]


@pytest.mark.parametrize("text,category", [
    ("This is a fake, the logo is wrong.", Category.COUNTERFEIT),
    ("Das ist eine Fälschung.", Category.COUNTERFEIT),
    ("C'est une contrefaçon évidente.", Category.COUNTERFEIT),
    ("Es una falsificación.", Category.COUNTERFEIT),
    ("Prodotto contraffatto.", Category.COUNTERFEIT),
    ("É falsificado.", Category.COUNTERFEIT),
    ("これは偽物です。", Category.COUNTERFEIT),
    ("这是假货。", Category.COUNTERFEIT),
    ("The item arrived broken.", Category.DAMAGE),
    ("Die Ware kam beschädigt an.", Category.DAMAGE),
    ("Le colis est arrivé cassé.", Category.DAMAGE),
    ("Llegó roto.", Category.DAMAGE),
    ("Arrivato danneggiato.", Category.DAMAGE),
    ("Chegou quebrado.", Category.DAMAGE),
    ("商品が壊れていました。", Category.DAMAGE),
    ("收到时已经破损。", Category.DAMAGE),
    ("It arrived three weeks late.", Category.DELAY),
    ("Die Lieferung kam zu spät.", Category.DELAY),
    ("Livraison en retard.", Category.DELAY),
    ("Llegó con retraso.", Category.DELAY),
    ("Consegna in ritardo.", Category.DELAY),
    ("A entrega atrasou.", Category.DELAY),
    ("まだ届いていません。", Category.DELAY),
    ("等了很久还没收到。", Category.DELAY),
])
def test_phrases_in_eight_languages(text, category):
    assert category in categories(text)


@pytest.mark.parametrize("text", [
    "Not fake at all, genuine product.", "Kein Fake, echtes Original.", "不是假货，很好。",
    "偽物ではない、安心しました。", "Arrived without any damage.", "Faux leather, looks great.",
    "It has arrived on time.", "Striped shirt, chemise rayée, very nice.",
])
def test_negated_or_harmless_phrases_do_not_count(text):
    assert categories(text) == []


def test_evidence_is_the_sentence_holding_the_phrase():
    text = "I ordered two. The second one arrived broken in a crushed box. Seller was kind."
    m = find_phrases(text)[0]
    assert evidence_span(text, m.start, m.end) == "The second one arrived broken in a crushed box."


def test_long_sentence_evidence_is_cut_around_the_match():
    text = "word " * 200 + "broken " + "word " * 200
    m = find_phrases(text)[0]
    span = evidence_span(text, m.start, m.end, limit=100)
    assert "broken" in span and len(span) <= 100


@pytest.mark.parametrize("text", [
    "I'm not sure if it is genuine, the logo looks off.",
    "Bought it thinking it was authentic.",
    "Fake product, despite all the good reviews.",
    "Das ist alles andere als original.",
    "Je doute de l'authenticité de ce sac.",
    "Il s'agit d'une copie, pas du vrai modèle.",
    "Cette montre est une fausse.",
    "No es el original, la caja es distinta.",
    "No parecen originales.",
    "本物かどうか気になります。",
    "正規品とは思えない仕上がりです。",
    "怀疑不是正品，包装很旧。",
    "不像正品，味道不对。",
    "按钮按不下去，正品会这样吗？",
    "真假难辨，不敢用。",
    "没有说明书，无法鉴定是真是假。",
    "很难区分是正品还是仿制品。",
    "À mon avis c'est un faux.",
])
def test_doubts_about_authenticity_are_counterfeit_claims(text):
    # a buyer asking "is this genuine?" needs the level-1 answer as much as one saying "fake"
    assert categories(text) == [Category.COUNTERFEIT]


@pytest.mark.parametrize("text", [
    "The five-star reviews are fake.",
    "Beware of fake reviews.",
    "Die Bewertungen sind gefälscht.",
    "偽物というレビューがありましたが、ちゃんとした物でした。",
    "偽物かと思ったら、元々ロゴ無しの型でした。",
    "还以为是盗版，结果印刷很好。",
    "Il y a un faux contact dans le câble.",
    "C'est une fausse bonne idée.",
    "La imitación de piel es bonita.",
    "Es una copia fiel de la foto.",
])
def test_fake_reviews_feared_fakes_and_look_alikes_are_not_claims(text):
    assert Category.COUNTERFEIT not in categories(text)


@pytest.mark.parametrize("text", [
    "It stopped working after two weeks.",
    "The strap came apart on the third day.",
    "Nach einem Monat funktioniert es nicht mehr.",
    "Le chargeur ne fonctionne plus au bout d'un mois.",
    "Dejó de cargar a los diez días.",
    "Se rompió la cremallera enseguida.",
    "一週間で動かなくなりました。",
    "用了两个月就不能用了。",
    "表才戴半年就不走了。",
])
def test_broke_in_use_is_damage(text):
    # SEVERITY_LABELS.md rule 2: an item that broke or stopped working in use counts as damage
    assert Category.DAMAGE in categories(text)


@pytest.mark.parametrize("text", ["我判断了一下，尺寸不合适。", "Le pain grillé est bon mais trop salé."])
def test_damage_look_alikes_are_not_damage(text):
    assert Category.DAMAGE not in categories(text)


@pytest.mark.parametrize("text,category", [
    ("Dit is nep, het logo klopt niet.", Category.COUNTERFEIT),
    ("Het pakket kwam kapot aan.", Category.DAMAGE),
    ("De lamp ging na twee weken stuk.", Category.DAMAGE),
    ("Het pakket is nooit aangekomen.", Category.DELAY),
    ("To jest podróbka.", Category.COUNTERFEIT),
    ("Produkt przyszedł uszkodzony.", Category.DAMAGE),
    ("Paczka nigdy nie dotarła.", Category.DELAY),
    ("Bu ürün sahte.", Category.COUNTERFEIT),
    ("Ürün kırık geldi.", Category.DAMAGE),
    ("Kargo çok gecikti.", Category.DELAY),
    ("Det här är en förfalskning.", Category.COUNTERFEIT),
    ("Varan kom trasig.", Category.DAMAGE),
    ("Paketet kom aldrig.", Category.DELAY),
])
def test_phrases_in_dutch_polish_turkish_swedish(text, category):
    assert category in categories(text)


@pytest.mark.parametrize("text", [
    # negations before (nl, pl, sv) and after the phrase (tr)
    "Niet nep, gewoon origineel.", "Het pakket kwam niet te laat.", "To nie podróbka.",
    "Bu ürün sahte değil.", "Kutuda hasar yok, kırık değil.", "Inte trasig alls.",
    # look-alikes: "a lot better", "tasty", "imitation leather" in five languages
    "Deze versie is een stuk beter.", "Läcker smak, fin förpackning.",
    "Imitation leather, looks great.", "Sac en imitation cuir, très joli.",
    "Torebka z imitacji skóry, imitacja skóry wygląda dobrze.", "Borsa in imitazione pelle.",
    "Bolsa em imitação de couro.", "Sahte yorumlar var ama ürün güzel.",
])
def test_negated_or_harmless_phrases_in_more_languages_do_not_count(text):
    assert categories(text) == []


@pytest.mark.parametrize("text,category", [
    ("Dette er en kopivare, ikke original.", Category.COUNTERFEIT),
    ("Produktet gikk i stykker etter en uke.", Category.DAMAGE),
    ("Glasset kom knust.", Category.DAMAGE),
    ("Pakken er forsinket, jeg venter fortsatt.", Category.DELAY),
    ("Varen har aldri kommet.", Category.DELAY),
    ("Det er en falsk vare, ikke ægte.", Category.COUNTERFEIT),
    ("Skærmen var ridset og beskadiget.", Category.DAMAGE),
    ("Den virker ikke længere.", Category.DAMAGE),
    ("Jeg har stadig ikke modtaget min pakke.", Category.DELAY),
])
def test_phrases_in_norwegian_and_danish(text, category):
    assert category in categories(text)


@pytest.mark.parametrize("text", [
    "Varen er ikke ødelagt, alt er fint.", "Pakken var ikke forsinket.",
    "Ikke falsk, helt ekte.", "Falske anmeldelser, men varen er god.",
    "Falsk reklame om farven, ellers fin.", "Lekker smaak, mooi verpakt.",
])
def test_negated_or_harmless_phrases_in_norwegian_and_danish_do_not_count(text):
    assert categories(text) == []


@pytest.mark.parametrize("text", ["The fake leather strap is comfortable.",
                                  "Fake-Leder, sieht gut aus.", "Cute fake fur collar."])
def test_fake_before_a_material_describes_the_item(text):
    assert categories(text) == []
    assert categories("It is a fake, " + text) == [Category.COUNTERFEIT]
