"""int8 smoothing (SmoothQuant): the same maths in float, less rounding error in int8, and the
measured input ranges tied to the layers they were measured on."""

import pytest

torch = pytest.importorskip("torch")

from monitor.scoring.encoder import quantize_int8, smooth_linears  # noqa: E402
from monitor.scoring.tuned import (EncoderLayer, InputScaled, TunedTop,  # noqa: E402
                                   load_activation_max, recording_activation_max,
                                   save_activation_max)


def small_top(seed: int, n_layers: int = 2) -> TunedTop:
    torch.manual_seed(seed)
    return TunedTop([EncoderLayer() for _ in range(n_layers)], start=0).eval()


def batch(seed: int = 0, lengths=(9, 4, 6)):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(len(lengths), max(lengths), 384, generator=gen)
    h[..., 5] *= 40  # one outlier channel, as LayerNorm outputs of real encoders have
    mask = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    return h, mask


class OneLinear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(256, 64)


def outlier_inputs(n=512, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 256, generator=gen)
    x[:, [3, 100]] *= 60  # two channels far larger than the rest
    return x


def test_recording_keeps_every_layer_input_range_and_removes_its_hooks():
    top = small_top(1)
    h, mask = batch()
    with torch.inference_mode(), recording_activation_max(top) as maxima:
        top.star_probabilities(h, mask)
    names = {f"layers.{i}.{n}" for i in range(2) for n in ("q", "k", "v", "o", "fi", "fo")}
    assert set(maxima) == names  # the star head itself is left in float
    assert maxima["layers.0.q"].shape == (384,) and maxima["layers.1.fo"].shape == (1536,)
    real = h[mask.bool()]  # padding never reaches a Linear
    assert torch.allclose(maxima["layers.0.q"], real.abs().amax(0))
    assert all(not m._forward_hooks for m in top.modules())
    stack = torch.nn.ModuleList(top.layers)  # the packaged layers are kept as a plain list
    with torch.inference_mode(), recording_activation_max(stack) as maxima:
        for layer in stack:
            h = layer(h, mask)
    assert set(maxima) == {n.removeprefix("layers.") for n in names}


def test_smoothing_computes_the_same_in_float():
    top = small_top(2)
    h, mask = batch(1)
    with torch.inference_mode():
        with recording_activation_max(top) as maxima:
            before = top.star_probabilities(h, mask)
        smooth_linears(top, maxima)
        after = top.star_probabilities(h, mask)
    assert isinstance(top.layers[0].fo, InputScaled)
    assert torch.allclose(before, after, atol=1e-5)


def test_smoothed_int8_is_closer_to_float_than_plain_int8():
    model = OneLinear().eval()
    x = outlier_inputs()
    with torch.inference_mode():
        exact = model.lin(x)
        plain = quantize_int8(model).lin(x)
        smoothed = quantize_int8(model, {"lin": x.abs().amax(0)}).lin(x)
    plain_err, smooth_err = (plain - exact).abs().mean(), (smoothed - exact).abs().mean()
    assert smooth_err < 0.5 * plain_err
    assert isinstance(model.lin, torch.nn.Linear)  # the float model is left as it was


def test_input_ranges_belong_to_the_layers_they_were_measured_on(tmp_path):
    top = small_top(3)
    h, mask = batch(2)
    with torch.inference_mode(), recording_activation_max(top) as maxima:
        top.star_probabilities(h, mask)
    path = tmp_path / "calib.safetensors"
    save_activation_max(path, top, maxima, meta={"reviews": 3})
    loaded = load_activation_max(path, top)
    assert loaded is not None and all(torch.equal(loaded[k], maxima[k]) for k in maxima)
    with torch.no_grad():
        top.head.weight.add_(1.0)  # a refitted head (monitor train --from-ratings) keeps them
    assert load_activation_max(path, top) is not None
    assert load_activation_max(path, small_top(4)) is None  # other layers: not used
    assert load_activation_max(tmp_path / "missing.safetensors", top) is None


def test_the_shipped_input_ranges_belong_to_the_shipped_star_model():
    """Retraining the star model without `python models/calibrate_int8.py` fails here (int8
    would silently fall back to plain, less accurate rounding)."""
    from monitor.scoring.analyzer import INT8_CALIBRATION_FILE, TUNED_TOP_FILE

    top = TunedTop.load(TUNED_TOP_FILE)
    maxima = load_activation_max(INT8_CALIBRATION_FILE, top)
    assert maxima is not None and len(maxima) == 6 * len(top.layers)
    assert all(bool((v > 0).all()) for v in maxima.values())
