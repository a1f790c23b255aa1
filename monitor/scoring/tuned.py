"""The fine-tuned top of the encoder: the last transformer layers retrained for star ratings.

Fine-tuning all of multilingual-e5-small needs a GPU; retraining only its top layers on cached
lower-layer states fits a CPU. The lower layers stay the packaged weights, so the shipped file
holds only the retrained layers and the star head (fp16). The base layers' own output is kept
for what needs a general-purpose embedding (severity prototypes, themes).

The layer is written out in plain PyTorch (same maths as transformers' BertLayer, tested for
parity) so attention masking does not depend on a transformers version.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


def _plain(param) -> torch.Tensor:
    # an int8 dynamically quantised Linear exposes weight() and bias() as methods
    value = param() if callable(param) else param
    return value.dequantize() if value.is_quantized else value


class EncoderLayer(nn.Module):
    """One post-LayerNorm BERT layer: self-attention and a GELU feed-forward block."""

    def __init__(self, hidden: int = 384, heads: int = 12, intermediate: int = 1536,
                 eps: float = 1e-12, dropout: float = 0.1):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = (nn.Linear(hidden, hidden) for _ in range(3))
        self.o = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=eps)
        self.fi = nn.Linear(hidden, intermediate)
        self.fo = nn.Linear(intermediate, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=eps)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Padded in, padded out: `h` is (batch, tokens, hidden), `mask` 1 on real tokens."""
        packed = Packing(mask)
        return packed.unpack(self.forward_packed(packed.pack(h), packed))

    def forward_packed(self, x: torch.Tensor, packed: "Packing") -> torch.Tensor:
        """The layer on real tokens only, (tokens, hidden): every Linear and LayerNorm skips
        the padding (in a batch of mixed lengths most of the work); only attention, which
        needs the sequences side by side, sees them padded."""
        b, n = packed.shape
        d = x.shape[-1]
        split = lambda t: packed.unpack(t).view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                             attn_mask=packed.attention_mask)
        x = self.ln1(x + self.drop(self.o(packed.pack(ctx.transpose(1, 2).reshape(b, n, d)))))
        return self.ln2(x + self.drop(self.fo(F.gelu(self.fi(x)))))

    def forward_padded(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The same layer computed on every position, padding included (the reference)."""
        b, n, d = h.shape
        split = lambda x: x.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        ctx = F.scaled_dot_product_attention(split(self.q(h)), split(self.k(h)), split(self.v(h)),
                                             attn_mask=mask[:, None, None, :].bool())
        h = self.ln1(h + self.drop(self.o(ctx.transpose(1, 2).reshape(b, n, d))))
        return self.ln2(h + self.drop(self.fo(F.gelu(self.fi(h)))))

    @classmethod
    def from_bert_layer(cls, layer) -> "EncoderLayer":
        cfg_hidden = layer.attention.self.query.in_features
        new = cls(hidden=cfg_hidden, heads=layer.attention.self.num_attention_heads,
                  intermediate=layer.intermediate.dense.out_features,
                  eps=layer.output.LayerNorm.eps)
        pairs = [(new.q, layer.attention.self.query), (new.k, layer.attention.self.key),
                 (new.v, layer.attention.self.value), (new.o, layer.attention.output.dense),
                 (new.ln1, layer.attention.output.LayerNorm), (new.fi, layer.intermediate.dense),
                 (new.fo, layer.output.dense), (new.ln2, layer.output.LayerNorm)]
        with torch.no_grad():
            for mine, theirs in pairs:
                mine.weight.copy_(_plain(theirs.weight))
                mine.bias.copy_(_plain(theirs.bias))
        return new


class InputScaled(nn.Module):
    """A Linear whose input is multiplied per channel first (int8 smoothing, see
    `encoder.smooth_linears`); in float it computes what the unscaled Linear did."""

    def __init__(self, linear: nn.Linear, input_scale: torch.Tensor):
        super().__init__()
        self.linear = linear
        self.register_buffer("input_scale", input_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x * self.input_scale)


class Packing:
    """Where the real tokens of a padded batch are, to lay them out flat and back again."""

    def __init__(self, mask: torch.Tensor):
        self.shape = tuple(mask.shape)
        flat = mask.reshape(-1).bool()
        self.index = flat.nonzero().squeeze(1)  # positions of real tokens in batch * tokens
        self.row = self.index // self.shape[1]  # which sequence each real token belongs to
        self.lengths = mask.sum(1).clamp(min=1)
        self.attention_mask = mask[:, None, None, :].bool()

    def pack(self, h: torch.Tensor) -> torch.Tensor:
        return h.reshape(-1, h.shape[-1]).index_select(0, self.index)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros(self.shape[0] * self.shape[1], x.shape[-1]).index_copy(0, self.index, x)
        return out.view(*self.shape, x.shape[-1])

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """Mean over each sequence's real tokens: (tokens, hidden) -> (batch, hidden)."""
        # summed in fp32: a long review's bf16/fp16 sum would lose its last digits
        sums = x.new_zeros(self.shape[0], x.shape[-1], dtype=torch.float32)
        sums = sums.index_add(0, self.row, x.float())
        return (sums / self.lengths.unsqueeze(-1)).to(x.dtype)


def run_packed(layers, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`layers` over the real tokens of padded states `h`; returns the mean-pooled output."""
    packed = Packing(mask)
    x = packed.pack(h)
    for layer in layers:
        x = layer.forward_packed(x, packed)
    return packed.mean(x)


class TunedTop(nn.Module):
    """Retrained top layers + a 5-way star head, applied to the hidden states of layer `start`.

    A distilled model (`models/distill_fast.py`) also has an `embedding_head`: a Linear on the
    same pooled features that reproduces the packaged e5 embedding, so severity needs no second
    pass through the packaged layers.
    """

    def __init__(self, layers: list[EncoderLayer], start: int, n_labels: int = 5,
                 temperature: float = 1.0, embedding_head: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.start = start
        hidden = layers[0].q.in_features
        self.head = nn.Linear(hidden, n_labels)
        self.embedding_head = nn.Linear(hidden, hidden) if embedding_head else None
        self.temperature = temperature

    def pooled(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The retrained layers' mean-pooled output: the features the star head reads."""
        return run_packed(self.layers, h, mask)

    def logits(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head_logits(self.pooled(h, mask))

    def head_logits(self, pooled: torch.Tensor) -> torch.Tensor:
        """The star head on pooled features."""
        if isinstance(self.head, nn.Linear) and self.head.weight.dtype != torch.float32:
            # the 5 logits in fp32 even when the layers run in bf16/fp16: calibration holds
            return F.linear(pooled.float(), self.head.weight.float(), self.head.bias.float())
        return self.head(pooled)

    def star_probabilities(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pooled_star_probabilities(self.pooled(h, mask))

    def pooled_star_probabilities(self, pooled: torch.Tensor) -> torch.Tensor:
        """Calibrated star probabilities from pooled features (a distilled model's one pass
        also feeds them to its embedding head)."""
        return torch.softmax(self.head_logits(pooled).float() / self.temperature, dim=-1)

    def save(self, path: Path, meta: dict | None = None) -> None:
        from safetensors.torch import save_file

        tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in self.state_dict().items()}
        info = {"start": self.start, "n_layers": len(self.layers), "temperature": self.temperature,
                **(meta or {})}
        save_file(tensors, str(path), metadata={"config": json.dumps(info)})

    @classmethod
    def load(cls, path: Path) -> "TunedTop":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            info = json.loads(f.metadata()["config"])
            state = {k: f.get_tensor(k).float() for k in f.keys()}
        hidden = state["layers.0.q.weight"].shape[0]
        inter = state["layers.0.fi.weight"].shape[0]
        layers = [EncoderLayer(hidden=hidden, intermediate=inter) for _ in range(info["n_layers"])]
        top = cls(layers, start=info["start"], n_labels=state["head.weight"].shape[0],
                  temperature=info["temperature"],
                  embedding_head="embedding_head.weight" in state)
        top.load_state_dict(state)
        return top.eval()


@contextmanager
def recording_activation_max(module: nn.Module):
    """While open, the largest |input| per channel of every Linear inside an `EncoderLayer` of
    `module` (a TunedTop, a list of layers) is kept in the yielded dict (name -> tensor): the
    ranges int8 smoothing needs. The star head is left out (it stays in float)."""
    maxima: dict[str, torch.Tensor] = {}

    def keep(name):
        def hook(linear, inputs, output):
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0).float()
            maxima[name] = torch.maximum(maxima[name], x) if name in maxima else x
        return hook

    hooks = [linear.register_forward_hook(keep(f"{prefix}.{name}" if prefix else name))
             for prefix, layer in module.named_modules() if isinstance(layer, EncoderLayer)
             for name, linear in layer.named_children() if isinstance(linear, nn.Linear)]
    try:
        yield maxima
    finally:
        for h in hooks:
            h.remove()


def layers_fingerprint(module: nn.Module) -> str:
    """A hash of `module`'s weights less a star head: the input ranges measured for int8 stay
    valid for a model whose head alone was refitted (`monitor train --from-ratings`)."""
    digest = hashlib.sha256()
    for name, value in sorted(module.state_dict().items()):
        if not name.startswith("head."):
            digest.update(name.encode())
            digest.update(value.detach().to(torch.float16).cpu().numpy().tobytes())
    return digest.hexdigest()


def save_activation_max(path: Path, module: nn.Module, maxima: dict[str, torch.Tensor],
                        meta: dict | None = None) -> None:
    """Write measured input ranges for `module`'s layers, tied to those layers by their hash."""
    from safetensors.torch import save_file

    info = {"layers_sha256": layers_fingerprint(module), **(meta or {})}
    save_file({k: v.float().contiguous() for k, v in maxima.items()}, str(path),
              metadata={"config": json.dumps(info)})


def load_activation_max(path: Path, module: nn.Module) -> dict[str, torch.Tensor] | None:
    """The input ranges in `path` if they were measured on `module`'s layers, else None."""
    from safetensors import safe_open

    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as f:
        info = json.loads(f.metadata()["config"])
        if info.get("layers_sha256") != layers_fingerprint(module):
            return None
        return {k: f.get_tensor(k) for k in f.keys()}
