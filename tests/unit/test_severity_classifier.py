"""SeverityClassifier's decision logic with a deterministic stand-in embedding (no model)."""

import hashlib

import numpy as np
import pytest

from monitor.schema import Category
from monitor.scoring.severity import PROTOTYPES, SeverityClassifier


def fake_embed(texts):
    out = []
    for t in texts:
        seed = int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).normal(size=384)
        out.append(v / np.linalg.norm(v))
    return np.array(out, dtype=np.float32)


@pytest.fixture
def clf():
    return SeverityClassifier(fake_embed)


def assess_one(clf, text, p_neg, p_pos, rating=None, emb=None):
    emb = fake_embed([text]) if emb is None else emb
    return clf.assess([text], emb, np.array([p_neg]), np.array([p_pos]), [rating])[0]


def test_phrase_in_negative_review_sets_category_level_and_evidence(clf):
    r = assess_one(clf, "Nice colour. It arrived broken though.", 0.7, 0.1)
    assert (r.category, r.severity, r.source) == (Category.DAMAGE, 2, "phrase")
    assert r.evidence == "It arrived broken though."


def test_precedence_counterfeit_over_damage_over_delay(clf):
    r = assess_one(clf, "Late delivery, box damaged, and the watch is a fake.", 0.9, 0.05)
    assert (r.category, r.severity) == (Category.COUNTERFEIT, 1)


def test_happy_buyer_with_dented_box_has_no_complaint(clf):
    r = assess_one(clf, "Box was damaged but the product is perfect, love it!", 0.1, 0.85, rating=5)
    assert (r.category, r.severity, r.evidence) == (Category.NONE, None, "")


def test_low_rating_overrides_a_positive_sounding_text(clf):
    r = assess_one(clf, "Great looks, but arrived broken.", 0.2, 0.7, rating=1)
    assert r.category == Category.DAMAGE


def test_negative_without_phrase_or_model_match_is_other(clf):
    r = assess_one(clf, "Meh. Would not buy again.", 0.8, 0.1)
    assert (r.category, r.severity, r.evidence) == (Category.OTHER, None, "")


def test_positive_review_is_none(clf):
    assert assess_one(clf, "Lovely, thanks!", 0.05, 0.9).category == Category.NONE


def test_model_path_uses_prototype_similarity_and_picks_the_closest_sentence(clf):
    emb = fake_embed([PROTOTYPES[Category.DELAY][0]])  # identical to a delay prototype: cosine 1
    text = "Ordered in May. Nothing since then, still nothing at my door"
    r = assess_one(clf, text, 0.9, 0.05, emb=emb)
    assert (r.category, r.severity, r.source) == (Category.DELAY, 3, "model")
    assert r.evidence in ("Ordered in May.", "Nothing since then, still nothing at my door")


def test_counterfeit_is_never_inferred_from_similarity_alone_below_its_bar(clf):
    proto = fake_embed([PROTOTYPES[Category.COUNTERFEIT][0]])[0]
    other = fake_embed(["unrelated direction"])[0]
    other -= (other @ proto) * proto
    other /= np.linalg.norm(other)
    emb = (0.93 * proto + np.sqrt(1 - 0.93 ** 2) * other)[None, :].astype(np.float32)
    # 0.93 would pass the damage and delay bars; a level-1 alert needs phrase evidence
    r = assess_one(clf, "Not what the listing promised at all", 0.9, 0.05, emb=emb)
    assert r.category == Category.OTHER


def test_mixed_review_leaning_negative_is_an_other_complaint(clf):
    r = assess_one(clf, "It's fine, but the strap came loose.", 0.35, 0.20)  # neutral 0.45 wins
    assert (r.category, r.severity) == (Category.OTHER, None)
    r = assess_one(clf, "It's fine, nice colour.", 0.20, 0.40)
    assert r.category == Category.NONE
