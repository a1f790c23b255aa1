"""The encoder layers run on real tokens only (padding skipped); results must not change."""

import pytest

torch = pytest.importorskip("torch")

from monitor.scoring.encoder import quantize_int8  # noqa: E402
from monitor.scoring.tuned import EncoderLayer, TunedTop, run_packed  # noqa: E402


def mean_pool(h, mask):
    """The reference pooling: the mean over each sequence's real tokens of padded states."""
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1)


def mixed_batch(lengths=(7, 2, 5, 1), hidden=384, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(len(lengths), max(lengths), hidden, generator=gen)
    mask = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    return h, mask


def test_packed_layer_equals_the_padded_computation_on_real_tokens():
    torch.manual_seed(1)
    layer = EncoderLayer().eval()
    h, mask = mixed_batch()
    with torch.inference_mode():
        packed, padded = layer(h, mask), layer.forward_padded(h, mask)
    keep = mask.bool()
    assert torch.allclose(packed[keep], padded[keep], atol=1e-5)
    assert (packed[~keep] == 0).all()  # padding positions carry nothing


def test_pooled_output_ignores_what_the_padding_holds():
    torch.manual_seed(2)
    layers = [EncoderLayer().eval() for _ in range(3)]
    h, mask = mixed_batch()
    noisy = h.clone()
    noisy[~mask.bool()] = 1e3  # garbage where there is no token
    with torch.inference_mode():
        reference = h
        for layer in layers:
            reference = layer.forward_padded(reference, mask)
        expected = mean_pool(reference, mask)
        assert torch.allclose(run_packed(layers, h, mask), expected, atol=1e-5)
        assert torch.allclose(run_packed(layers, noisy, mask), expected, atol=1e-5)


def test_a_review_scores_the_same_alone_or_in_a_batch_of_longer_ones():
    torch.manual_seed(3)
    top = TunedTop([EncoderLayer() for _ in range(2)], start=0).eval()
    h, mask = mixed_batch((9, 3))
    with torch.inference_mode():
        together = top.star_probabilities(h, mask)[1]
        alone = top.star_probabilities(h[1:, :3], mask[1:, :3])[0]
    assert torch.allclose(together, alone, atol=1e-5)


def test_int8_layers_run_packed():
    torch.manual_seed(4)
    top = quantize_int8(TunedTop([EncoderLayer() for _ in range(2)], start=0).eval())
    h, mask = mixed_batch()
    with torch.inference_mode():
        p = top.star_probabilities(h, mask)
    assert p.shape == (4, 5) and torch.allclose(p.sum(-1), torch.ones(4), atol=1e-5)


def test_a_distilled_model_keeps_its_embedding_head_through_save_and_load(tmp_path):
    torch.manual_seed(4)
    top = TunedTop([EncoderLayer() for _ in range(2)], start=0, temperature=1.3,
                   embedding_head=True).eval()
    path = tmp_path / "fast.safetensors"
    top.save(path)
    loaded = TunedTop.load(path)
    assert loaded.embedding_head is not None and len(loaded.layers) == 2
    assert loaded.temperature == 1.3
    h, mask = mixed_batch((6, 2))
    with torch.inference_mode():
        pooled = loaded.pooled(h, mask)
        expected = top.embedding_head(top.pooled(h, mask))
        # saved in fp16: equal to that precision
        assert torch.allclose(loaded.embedding_head(pooled), expected, atol=2e-2)
    plain = tmp_path / "plain.safetensors"
    TunedTop([EncoderLayer()], start=0).save(plain)
    assert TunedTop.load(plain).embedding_head is None  # the shipped kind of file
