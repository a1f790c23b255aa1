"""Draw the reviews to label with complaint aspects (models/LABELS.md) from the shared MARC train
split: per language, random reviews per star band plus reviews that use an aspect's everyday
words (so that rare aspects reach 100 examples). Writes ids and strata only.

    python models/aspect_sample.py            # -> models/aspect_labels.csv (labels empty)
    python models/aspect_sample.py --texts DIR  # also batches with texts, outside the repo
    python models/aspect_sample.py --round 2 --texts DIR  # a second draw, added to the same file

A later round skips every review already in the file and leans on what the first round had least
of: 3-star reviews, damage against defect, and the aspects whose borders are fuzzy.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import polars as pl

from review_sets import ROOT, SHARED, labelled_ids

SEED = 2026
RANDOM_PER_BAND = {"1": 90, "2": 80, "3": 90, "45": 40}
# everyday words per aspect and language; a hit only puts a review into the sample
KEYWORDS: dict[str, dict[str, str]] = {
    "counterfeit": {
        "en": r"\bfake\b|counterfeit|knock.?off|not (?:the )?genuine|not original|replica",
        "de": r"fälschung|gefälscht|fake|nicht original|kein original|plagiat|nachgemacht",
        "fr": r"contrefaçon|contrefait|faux|pas (?:un )?original|copie",
        "es": r"falsificaci|falso|imitaci|no es original|copia",
        "ja": r"偽物|偽造|パチモン|コピー品|本物では|正規品では|純正品では",
        "zh": r"假货|假的|仿冒|山寨|不是正品|高仿|盗版",
    },
    "delay": {
        "en": r"\blate\b|never (?:arrived|received)|delivery|tracking|still waiting",
        "de": r"verspät|nie angekommen|lieferung|sendungsverfolgung|warte",
        "fr": r"retard|jamais reçu|livraison|suivi",
        "es": r"retraso|nunca lleg|entrega|seguimiento|tard",
        "ja": r"遅れ|届かな|配送|未着|到着",
        "zh": r"物流|快递|太慢|没收到|发货",
    },
    "size_fit": {
        "en": r"\bsize\b|too small|too big|too large|\bfit\b|runs small|runs large",
        "de": r"größe|zu klein|zu groß|passt nicht|passform",
        "fr": r"taille|trop petit|trop grand|ne va pas",
        "es": r"talla|pequeñ|grande|no me queda|no encaja",
        "ja": r"サイズ|小さ|大き|きつ|ゆる",
        "zh": r"尺码|尺寸|偏小|偏大|太小|太大|不合适",
    },
    "wrong_or_missing": {
        "en": r"missing|wrong item|not included|\bused\b|only (?:one|two|\d)",
        "de": r"fehlt|fehlen|falsche[nrs]? artikel|gebraucht|nicht dabei",
        "fr": r"manqu|mauvais article|pas reçu le bon|d'occasion|usagé",
        "es": r"falta|faltan|equivocad|usado|no venía",
        "ja": r"入っていな|足りな|欠品|違う商品|中古|付属",
        "zh": r"少了|缺少|发错|不是我买的|二手|漏发",
    },
    "service": {
        "en": r"seller|customer service|refund|return|no response|support",
        "de": r"verkäufer|kundenservice|rückerstattung|keine antwort|händler",
        "fr": r"vendeur|service client|rembourse|aucune réponse",
        "es": r"vendedor|atención al cliente|reembolso|devoluci|no responde",
        "ja": r"出品者|販売者|対応|返金|問い合わせ|連絡",
        "zh": r"卖家|客服|退款|退货|不理|态度",
    },
    "price_value": {
        "en": r"price|expensive|overpriced|not worth|waste of money",
        "de": r"preis|teuer|nicht wert|geldverschwendung",
        "fr": r"prix|cher|ne vaut pas",
        "es": r"precio|caro|no vale",
        "ja": r"値段|高い|価格|割高",
        "zh": r"价格|贵|不值|性价比",
    },
    "damage_defect": {
        "en": r"broken|broke|cracked|damaged|stopped working|dead on arrival|leak",
        "de": r"kaputt|beschädigt|gebrochen|funktioniert nicht mehr|defekt",
        "fr": r"cassé|abîmé|endommagé|ne fonctionne plus|en panne",
        "es": r"roto|dañad|dejó de funcionar|no funciona",
        "ja": r"壊れ|破損|割れ|動かなくな|故障",
        "zh": r"坏了|破损|碎了|不能用|故障|漏",
    },
}
KEYWORDS["not_as_described"] = {
    "en": r"colou?r|picture|photo|description|advertised|not as described|different from",
    "de": r"farbe|bild|foto|beschreibung|beschrieben|anders als",
    "fr": r"couleur|photo|image|description|décrit|différent",
    "es": r"color|foto|imagen|descripci|descrito|diferente",
    "ja": r"色|写真|画像|説明|記載|イメージと",
    "zh": r"颜色|色差|图片|描述|不符|实物",
}
# reviews per aspect keyword and language, and random reviews per star band, in each round
KEYWORD_PER_LANG = {1: {"counterfeit": 45, "delay": 15, "size_fit": 20, "wrong_or_missing": 25,
                        "service": 15, "price_value": 12, "damage_defect": 20},
                    2: {"counterfeit": 25, "delay": 15, "size_fit": 12, "wrong_or_missing": 20,
                        "service": 20, "price_value": 15, "damage_defect": 40,
                        "not_as_described": 25}}
RANDOM_BANDS = {1: RANDOM_PER_BAND, 2: {"1": 30, "2": 35, "3": 45, "45": 15}}
TEST_SHARE = 0.25


def draw(round_no: int = 1, skip: list[str] | None = None) -> pl.DataFrame:
    """Round `round_no`'s sample, none of it in the held-out sets or in `skip`."""
    seed = SEED + 100 * (round_no - 1)
    excluded = labelled_ids() + (skip or [])
    train = pl.read_csv(SHARED / "marc_train.csv").filter(~pl.col("id").is_in(excluded))
    train = train.with_columns(pl.when(pl.col("stars") >= 4).then(pl.lit("45"))
                               .otherwise(pl.col("stars").cast(pl.String)).alias("band"))
    parts, taken = [], set()
    for lang in sorted(train["lang"].unique()):
        pool = train.filter(pl.col("lang") == lang)
        for band, n in RANDOM_BANDS[round_no].items():
            got = pool.filter(pl.col("band") == band).sample(n, seed=seed, shuffle=True)
            parts.append(got.with_columns(pl.lit(f"random_{band}").alias("stratum")))
            taken.update(got["id"])
        complaints = pool.filter(pl.col("stars") <= 3)
        for aspect, n in KEYWORD_PER_LANG[round_no].items():
            pattern = re.compile(KEYWORDS[aspect][lang], re.IGNORECASE)
            hits = complaints.filter(
                pl.col("text").map_elements(lambda t: bool(pattern.search(t or "")),
                                            return_dtype=pl.Boolean)
                & ~pl.col("id").is_in(list(taken)))
            got = hits.sample(min(n, hits.height), seed=seed, shuffle=True)
            parts.append(got.with_columns(pl.lit(f"keyword_{aspect}").alias("stratum")))
            taken.update(got["id"])
    sample = pl.concat(parts).select("id", "lang", "stars", "stratum", "text")
    # a stratified test split: every 4th review of each language and stratum, in a seeded order
    sample = sample.sample(fraction=1.0, seed=seed, shuffle=True).with_columns(
        pl.int_range(pl.len()).over("lang", "stratum").alias("_k"))
    return sample.with_columns(pl.when(pl.col("_k") % 4 == 0).then(pl.lit("test"))
                               .otherwise(pl.lit("train")).alias("split")).drop("_k")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=Path, help="write labelling batches with texts here "
                        "(outside the repository)")
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--overlap", type=int, default=20,
                        help="reviews of each batch that the next batch labels too")
    parser.add_argument("--round", type=int, default=1, choices=sorted(RANDOM_BANDS),
                        help="1 draws the file afresh; a later round adds to it")
    args = parser.parse_args()
    out = ROOT / "models" / "aspect_labels.csv"
    earlier = pl.read_csv(out, schema_overrides={"aspects": pl.String}) if args.round > 1 else None
    sample = draw(args.round, earlier["id"].to_list() if earlier is not None else None)
    rows = sample.select("id", "lang", "stars", "stratum", "split", pl.lit("").alias("aspects"),
                         pl.lit(args.round).alias("round"))
    if earlier is not None:
        if "round" not in earlier.columns:
            earlier = earlier.with_columns(pl.lit(1).alias("round"))
        rows = pl.concat([earlier.with_columns(pl.col("aspects").fill_null("")),
                          rows.with_columns(pl.col("stratum").map_elements(
                              lambda s: f"r{args.round}_{s}", return_dtype=pl.String))])
    rows.write_csv(out)
    print(f"{sample.height} reviews -> {out}")
    print(sample.group_by("lang", "split").len().sort("lang", "split"))
    if args.texts:
        args.texts.mkdir(parents=True, exist_ok=True)
        shuffled = sample.sample(fraction=1.0, seed=SEED + 1 + args.round, shuffle=True)
        size = -(-shuffled.height // args.batches)
        batches = [shuffled[i * size:(i + 1) * size] for i in range(args.batches)]
        for k, batch in enumerate(batches):
            extra = batches[k - 1].head(args.overlap)  # the previous batch's first reviews
            pl.concat([batch, extra]).select("id", "lang", "stars", "text").write_csv(
                args.texts / f"round{args.round}_batch_{k}.csv")
        print(f"{args.batches} batches -> {args.texts}")


if __name__ == "__main__":
    main()
