"""Generate data/sample_reviews.csv: the project's own demo reviews (no third-party text).

    python data/make_sample.py

Deterministic (fixed seed). Sentences are written for this project in ten languages and
combined at random; ratings follow the kind of review; one product gets a burst of damage
complaints in one week (a bad shipment) so the dashboard has a spike to show.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20261122
OUT = Path(__file__).resolve().parent / "sample_reviews.csv"
START = datetime(2026, 5, 18)
DAYS = 182

PRODUCTS = {
    "KET-100": "electric kettle",
    "EAR-220": "wireless earbuds",
    "BAG-310": "leather handbag",
    "SHO-450": "running shoes",
    "LMP-510": "desk lamp",
    "SRM-630": "face serum",
}
MARKETPLACES = {
    "en": ["amazon.com", "amazon.co.uk", "shopify-store"], "de": ["amazon.de"],
    "fr": ["amazon.fr"], "es": ["amazon.es"], "it": ["amazon.it"], "pt": ["aliexpress"],
    "ja": ["amazon.co.jp"], "zh": ["aliexpress", "tmall"], "ru": ["aliexpress"],
    "ar": ["noon", "shopify-store"],
}
LANG_WEIGHTS = {"en": 30, "de": 14, "fr": 10, "es": 10, "it": 7, "pt": 6, "ja": 9, "zh": 8,
                "ru": 3, "ar": 3}
KIND_WEIGHTS = {"positive": 52, "neutral": 14, "negative": 16, "damage": 8, "delay": 7,
                "counterfeit": 3}
RATINGS = {"positive": [4, 5, 5], "neutral": [3, 3, 4, 2], "negative": [1, 2, 2],
           "damage": [1, 1, 2], "delay": [2, 2, 3, 1], "counterfeit": [1, 1, 1]}

SENTENCES: dict[str, dict[str, list[str]]] = {
    "en": {
        "positive": ["Works perfectly and looks even better than in the photos.",
                     "Great value for the price, I would buy it again.",
                     "Excellent quality, my whole family loves it.",
                     "Fast delivery and the product does exactly what it promises."],
        "neutral": ["It is okay, nothing special but it does the job.",
                    "Average quality for the price, some details could be better.",
                    "Decent, although the instructions were hard to follow."],
        "negative": ["Very disappointed, it stopped working after two weeks.",
                     "Poor quality, it feels cheap and the color is not as shown.",
                     "Not worth the money, the battery barely lasts an hour."],
        "damage": ["The box was crushed and the item arrived broken.",
                   "It arrived damaged, with a large crack on the side.",
                   "The glass was shattered when I opened the parcel."],
        "delay": ["The order arrived three weeks late with no update from the seller.",
                  "Still waiting for my package, it has not arrived after a month.",
                  "Delivery was delayed twice and nobody answered my messages."],
        "counterfeit": ["This is a fake, the logo is wrong and the stitching is sloppy.",
                        "Clearly a counterfeit, not the genuine product I paid for.",
                        "Cheap knock-off, nothing like the original brand item."],
    },
    "de": {
        "positive": ["Funktioniert einwandfrei, sehr zufrieden mit dem Kauf.",
                     "Tolle Qualität zu einem fairen Preis, gerne wieder.",
                     "Schnelle Lieferung und alles wie beschrieben."],
        "neutral": ["Ganz okay, aber nichts Besonderes.",
                    "Für den Preis in Ordnung, die Verarbeitung könnte besser sein."],
        "negative": ["Leider nach zwei Wochen nicht mehr funktioniert, sehr enttäuscht.",
                     "Schlechte Qualität, fühlt sich billig an."],
        "damage": ["Das Paket war eingedrückt und der Artikel kam beschädigt an.",
                   "Beim Auspacken war das Gerät schon kaputt, ein Riss im Gehäuse."],
        "delay": ["Die Lieferung kam zwei Wochen zu spät an.",
                  "Die Bestellung ist nach einem Monat immer noch nicht angekommen."],
        "counterfeit": ["Das ist eindeutig eine Fälschung, das Logo stimmt nicht.",
                        "Kein Original, sondern ein billiges Plagiat."],
    },
    "fr": {
        "positive": ["Très bon produit, conforme à la description.",
                     "Excellent rapport qualité-prix, je recommande."],
        "neutral": ["Correct sans plus, il fait le travail.",
                    "Qualité moyenne pour le prix."],
        "negative": ["Très déçu, il ne fonctionne plus au bout de dix jours.",
                     "Mauvaise qualité, rien à voir avec les photos."],
        "damage": ["Le colis est arrivé abîmé et l'article était cassé.",
                   "Produit reçu endommagé, avec une fissure sur le dessus."],
        "delay": ["La livraison a eu trois semaines de retard.",
                  "Toujours pas reçu ma commande après un mois d'attente."],
        "counterfeit": ["C'est une contrefaçon, le logo est mal imprimé.",
                        "Ce n'est pas un produit authentique, une vraie arnaque."],
    },
    "es": {
        "positive": ["Muy buen producto, funciona de maravilla.",
                     "Excelente calidad y llegó rapidísimo."],
        "neutral": ["Está bien, aunque esperaba algo más.",
                    "Calidad normal para lo que cuesta."],
        "negative": ["Muy decepcionado, dejó de funcionar a la semana.",
                     "Mala calidad, no lo recomiendo."],
        "damage": ["El paquete llegó golpeado y el producto roto.",
                   "Me llegó dañado, con la tapa rajada."],
        "delay": ["El pedido llegó con tres semanas de retraso.",
                  "Después de un mes todavía no ha llegado mi pedido."],
        "counterfeit": ["Es una falsificación, el logotipo está mal.",
                        "No es original, es una imitación barata."],
    },
    "it": {
        "positive": ["Prodotto ottimo, funziona perfettamente.",
                     "Qualità eccellente, lo ricomprerei."],
        "neutral": ["Nella media, fa il suo lavoro.",
                    "Discreto, ma mi aspettavo di più."],
        "negative": ["Molto deluso, ha smesso di funzionare dopo pochi giorni.",
                     "Qualità scadente, sembra di plastica economica."],
        "damage": ["Il pacco è arrivato schiacciato e il prodotto rotto.",
                   "Arrivato danneggiato, con una crepa sul lato."],
        "delay": ["La consegna è arrivata con due settimane di ritardo.",
                  "Dopo un mese il pacco non è ancora arrivato."],
        "counterfeit": ["È un prodotto contraffatto, il marchio è sbagliato.",
                        "Non è originale, una brutta imitazione."],
    },
    "pt": {
        "positive": ["Produto excelente, recomendo a todos.",
                     "Chegou rápido e funciona muito bem."],
        "neutral": ["É razoável, nada de especial.",
                    "Qualidade mediana pelo preço."],
        "negative": ["Muito decepcionado, parou de funcionar em uma semana.",
                     "Qualidade ruim, não vale o preço."],
        "damage": ["A caixa veio amassada e o produto chegou quebrado.",
                   "Recebi o produto danificado, com uma rachadura."],
        "delay": ["A entrega atrasou três semanas.",
                  "Já faz um mês e o pedido ainda não chegou."],
        "counterfeit": ["É falsificado, a marca está diferente da original.",
                        "Não é original, é uma imitação de baixa qualidade."],
    },
    "ja": {
        "positive": ["とても使いやすく、買ってよかったです。",
                     "品質が良く、値段以上の価値があります。"],
        "neutral": ["普通です。特に良くも悪くもありません。",
                    "値段相応だと思います。"],
        "negative": ["二週間で動かなくなりました。残念です。",
                     "作りが安っぽく、写真と色が違います。"],
        "damage": ["箱が潰れていて、商品が壊れていました。",
                   "届いた時点で本体に割れがありました。"],
        "delay": ["配送が大幅に遅れて、三週間後に届きました。",
                  "一ヶ月経ってもまだ届いていません。"],
        "counterfeit": ["これは偽物です。ロゴが明らかに違います。",
                        "正規品ではありません。縫製もひどいです。"],
    },
    "zh": {
        "positive": ["质量很好，用起来非常方便，推荐购买。",
                     "物超所值，家人都很喜欢。"],
        "neutral": ["一般般，没有特别的地方。",
                    "价格还可以，质量中等。"],
        "negative": ["用了两个星期就坏掉不能用了，很失望。",
                     "做工粗糙，和图片颜色不一样。"],
        "damage": ["包装被压扁了，收到的商品已经破损。",
                   "打开箱子发现外壳碎了。"],
        "delay": ["物流太慢了，等了三个星期才到。",
                  "下单一个月了还没收到货。"],
        "counterfeit": ["这是假货，商标都印错了。",
                        "根本不是正品，做工很差。"],
    },
    "ru": {
        "positive": ["Отличный товар, всё работает как надо.",
                     "Качество хорошее, рекомендую."],
        "neutral": ["Нормально, но ничего особенного."],
        "negative": ["Очень разочарован, перестал работать через неделю."],
        "damage": ["Коробка была помята, товар пришёл разбитым."],
        "delay": ["Посылка пришла с задержкой в три недели."],
        "counterfeit": ["Это подделка, логотип совсем другой."],
    },
    "ar": {
        "positive": ["منتج ممتاز وجودة عالية، أنصح به."],
        "neutral": ["المنتج عادي، لا بأس به."],
        "negative": ["سيء جداً، توقف عن العمل بعد أسبوع."],
        "damage": ["وصل المنتج مكسوراً والعلبة تالفة."],
        "delay": ["تأخير كبير في التوصيل، وصل بعد ثلاثة أسابيع."],
        "counterfeit": ["هذا المنتج مقلد وليس أصلياً."],
    },
}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _review(rng: random.Random, i: int, lang: str, kind: str, product: str, when: datetime) -> dict:
    pool = SENTENCES[lang]
    text = rng.choice(pool[kind])
    if kind in ("damage", "delay", "counterfeit", "negative") and rng.random() < 0.5:
        text += " " + rng.choice(pool["negative"])
    elif kind == "positive" and rng.random() < 0.4:
        text += " " + rng.choice([s for s in pool["positive"] if s != text] or pool["positive"])
    return {
        "review_id": f"R{i:05d}",
        "product_id": product,
        "marketplace": rng.choice(MARKETPLACES[lang]),
        "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rating": rng.choice(RATINGS[kind]),
        "text": text,
        "order_id": f"O-{rng.randrange(10**7, 10**8)}",
        "customer_id": f"C{rng.randrange(1, 400):04d}",
    }


def generate(n: int = 1400) -> list[dict]:
    rng = random.Random(SEED)
    rows = []
    for i in range(n):
        lang = _pick(rng, LANG_WEIGHTS)
        kind = _pick(rng, KIND_WEIGHTS)
        product = rng.choice(list(PRODUCTS))
        if kind == "counterfeit":
            product = rng.choice(["BAG-310", "BAG-310", "SHO-450", "SRM-630"])
        when = START + timedelta(days=rng.uniform(0, DAYS))
        rows.append(_review(rng, i, lang, kind, product, when))
    # a bad shipment: a burst of damage complaints about the kettle within three days
    burst_start = START + timedelta(days=DAYS - 12)
    for j in range(14):
        lang = _pick(rng, {"en": 5, "de": 3, "fr": 2, "es": 2, "ja": 1, "zh": 1})
        when = burst_start + timedelta(hours=rng.uniform(0, 72))
        rows.append(_review(rng, n + j, lang, "damage", "KET-100", when))
    rows.sort(key=lambda r: r["date"])
    return rows


def main() -> None:
    rows = generate()
    with OUT.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} reviews to {OUT}")


if __name__ == "__main__":
    main()
