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


def _head(direction_for):
    """A head whose damage / delay / counterfeit rows point at given embedding directions."""
    from monitor.scoring.severity import SeverityHead

    classes = ("counterfeit", "damage", "delay", "other")
    weight = np.stack([direction_for.get(c, np.zeros(384)) * 20 for c in classes]).astype(np.float32)
    return SeverityHead(weight, np.zeros(4, dtype=np.float32), classes,
                        {"damage": 0.5, "delay": 0.5})


def test_head_names_damage_or_delay_for_a_negative_review_without_a_phrase():
    damage_dir, delay_dir = fake_embed(["damage direction"])[0], fake_embed(["delay direction"])[0]
    clf = SeverityClassifier(fake_embed, head=_head({"damage": damage_dir, "delay": delay_dir}))
    text = "Stopped doing its job after four uses."
    r = assess_one(clf, text, 0.9, 0.05, emb=damage_dir[None, :])
    assert (r.category, r.severity, r.source) == (Category.DAMAGE, 2, "model")
    assert r.evidence  # the closest sentence, for the agent
    r = assess_one(clf, text, 0.9, 0.05, emb=delay_dir[None, :])
    assert (r.category, r.severity) == (Category.DELAY, 3)
    # far from both: a complaint without a level
    r = assess_one(clf, text, 0.9, 0.05, emb=-damage_dir[None, :] - delay_dir[None, :])
    assert (r.category, r.severity) == (Category.OTHER, None)


def test_head_never_raises_counterfeit_and_phrases_still_win():
    fake_dir = fake_embed(["counterfeit direction"])[0]
    clf = SeverityClassifier(fake_embed, head=_head({"counterfeit": fake_dir}))
    r = assess_one(clf, "Not what I hoped for at all.", 0.9, 0.05, emb=fake_dir[None, :])
    assert r.category != Category.COUNTERFEIT and r.severity is None  # level 1 needs a phrase
    r = assess_one(clf, "The watch is a fake.", 0.9, 0.05, emb=fake_dir[None, :])
    assert (r.category, r.source) == (Category.COUNTERFEIT, "phrase")


def test_head_is_not_asked_about_a_clearly_positive_review():
    damage_dir = fake_embed(["damage direction"])[0]
    clf = SeverityClassifier(fake_embed, head=_head({"damage": damage_dir}))
    r = assess_one(clf, "Works great, love it.", 0.05, 0.9, rating=5, emb=damage_dir[None, :])
    assert (r.category, r.severity) == (Category.NONE, None)


def test_head_file_round_trip(tmp_path):
    from monitor.scoring.severity import SeverityHead

    head = _head({"damage": fake_embed(["d"])[0]})
    head.save(tmp_path / "h.npz", meta={"C": 1.0})
    back = SeverityHead.load(tmp_path / "h.npz")
    assert back.classes == head.classes and back.min_probability == head.min_probability
    x = fake_embed(["a", "b"])
    assert np.allclose(back.probabilities(x), head.probabilities(x))
