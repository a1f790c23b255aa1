"""Which reply a buyer gets within a language and category.

- Damage: an item that *arrived* damaged is a logistics problem (packaging, carrier); one that
  *stopped working* or leaked after use is a quality problem. Blaming the carrier for a motor
  that died after three weeks reads as not having listened, so the two get different replies.
  Until the classifier names complaint aspects, the review's own words decide.
- Portuguese: Brazilian buyers (amazon.com.br, Mercado Livre, ...) get Brazilian Portuguese,
  buyers in Portugal European Portuguese; without a marketplace, the buyer's own words decide,
  and Brazil (by far the larger market) is the default.
"""

from __future__ import annotations

import re

from . import languages

# Words that say the product failed in use rather than in transit, any language.
STOPPED_WORKING = re.compile("|".join([
    r"stopped working", r"stops working", r"quit working", r"no longer works?",
    r"doesn'?t work any ?more", r"(?:died|broke|failed) after", r"after (?:a few|two|three|\d+) "
    r"(?:days?|weeks?|months?|uses?)", r"leak(?:s|ed|ing)?\b",
    r"funktioniert nicht mehr", r"hört auf zu funktionieren", r"nach (?:\d+|ein paar|wenigen|"
    r"zwei|drei) (?:tagen|wochen|monaten)", r"undicht", r"läuft aus",
    r"ne (?:fonctionne|marche) plus", r"(?:a )?cessé de fonctionner", r"fuit\b", r"au bout de",
    r"dej[óo] de funcionar", r"ya no funciona", r"gotea", r"a los pocos (?:días|meses)",
    r"(?:ha )?smesso di funzionare", r"non funziona più", r"perde acqua", r"dopo (?:pochi|qualche)",
    r"parou de funcionar", r"deixou de funcionar", r"não funciona mais", r"vaza(?:ndo|mento)?",
    r"depois de (?:alguns|poucos|\d+)",
    r"動かなくなっ", r"使えなくなっ", r"壊れてしまっ", r"漏れ", r"数日で", r"数週間で", r"ヶ月で",
    r"用了(?:几|一|两|三|\d+)?(?:天|周|个月|次)", r"不能用了", r"坏掉了", r"漏水", r"漏油",
    r"작동하지 않", r"고장(?:났|이)", r"새요", r"перестал[аио]? работать", r"сломал(?:ся|ась|ось) через",
    r"протека", r"توقف عن العمل", r"تعطل بعد", r"تسرب",
    r"werkt niet meer", r"gestopt met werken", r"lekt\b", r"przestał[aoy]? działać",
    r"przecieka", r"çalışmayı durdurdu", r"bozuldu", r"sızdır", r"slutade fungera", r"läcker",
    r"sluttet å (?:virke|fungere)", r"holdt op med at (?:virke|fungere)", r"lekker",
]), re.IGNORECASE)
# Words that say it was already broken when it came: these keep the damage-on-arrival reply.
ON_ARRIVAL = re.compile("|".join([
    r"arrived", r"on arrival", r"out of the box", r"when (?:it|I) (?:came|arrived|opened)",
    r"angekommen", r"kam .{0,20}an\b", r"bei (?:der )?ankunft", r"arrivée?", r"à la réception",
    r"lleg[óo]", r"al recibir", r"arrivat[oa]", r"chegou", r"ao receber", r"届いた", r"到货",
    r"收到(?:时|的时候)", r"도착", r"пришёл|пришел|пришла", r"وصل", r"aangekomen",
    r"dotarł|przyszedł|przyszła", r"geldi|ulaştı", r"kom fram|anlände", r"kom frem|ankom",
]), re.IGNORECASE)

BRAZIL_MARKETPLACES = ("amazon.com.br", "mercadolivre", "mercado livre", "mercadolibre.com.br",
                       "americanas", "magalu", "magazineluiza", "shopee.com.br", "b2w",
                       "casasbahia", "submarino", "netshoes")
PORTUGAL_MARKETPLACES = ("amazon.pt", "worten", "fnac.pt", "kuantokusta", "olx.pt", ".pt")
# Words each variant uses and the other does not (você is heard in Portugal too, but rarely
# written to a shop; Portugal writes "o senhor" or the verb alone).
BRAZILIAN_WORDS = re.compile(r"\b(?:você|vocês|celular|ônibus|contato|registro|equipe|"
                             r"xícara|geladeira|banheiro)\b", re.IGNORECASE)
EUROPEAN_WORDS = re.compile(r"\b(?:telemóvel|encomenda|contacto|autocarro|comboio|registo|"
                            r"equipa|ecrã|chávena|frigorífico|casa de banho|facto|"
                            r"(?:está|estou|estava|estão) a \w+r)\b", re.IGNORECASE)


def damage_variant(text: str | None, evidence: str | None = None) -> str:
    """"defect" when the buyer says it stopped working or leaked after use (and not that it
    arrived broken), else "damage" (arrived damaged or dead)."""
    said = " ".join(x for x in (text, evidence) if x)
    if STOPPED_WORKING.search(said) and not ON_ARRIVAL.search(said):
        return "defect"
    return "damage"


def portuguese_variant(marketplace: str | None, text: str | None = None) -> str:
    """"pt-BR" or "pt-PT": by marketplace when known, else by the buyer's words, else pt-BR."""
    market = (marketplace or "").strip().lower()
    if any(m in market for m in BRAZIL_MARKETPLACES) or market.endswith(".br"):
        return "pt-BR"
    if any(m in market for m in PORTUGAL_MARKETPLACES):
        return "pt-PT"
    text = text or ""
    return "pt-PT" if len(EUROPEAN_WORDS.findall(text)) > len(BRAZILIAN_WORDS.findall(text)) \
        else "pt-BR"


# "defect" replies: (acknowledge, next step) per language; the invitation is the language's own.
DEFECT_TEMPLATES: dict[str, tuple[str, str]] = {
    **{("pt-PT" if code == "pt" else code): tuple(parts)
       for code, parts in languages.table("defect_reply").items()},
    **{code: tuple(data["defect_reply"]) for code, data in languages.variants().items()
       if "defect_reply" in data}}

# Brazilian Portuguese: the four category replies, the invitation and the follow-ups.
_BRAZIL = languages.variants()["pt-BR"]
PT_BR_TEMPLATES: dict[str, tuple[str, str]] = {cat: tuple(parts)
                                              for cat, parts in _BRAZIL["replies"].items()}
PT_BR_INVITATION: str = _BRAZIL["invitation"]
PT_BR_FOLLOW_UPS: dict[str, str] = _BRAZIL["follow_ups"]
