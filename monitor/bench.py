"""Scoring speed, measured against a naive baseline in the same run (never a timed test).

    python -m monitor.bench --rows 2000            (or `monitor bench`)

Prints JSON: reviews/s of the full `monitor score` engine (encoder + star model + severity +
language) in its configured precision (MONITOR_PRECISION, MONITOR_QUANTIZE), of the encoder
alone, and of a naive transformers loop (fp32, batch of 1, no length sorting) on the same texts
and model, plus the ratios. Machines are noisy: compare the ratios,
and absolute figures only within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from .errors import InputError
from .settings import PROJECT_ROOT


def load_texts(rows: int, source: Path | None) -> list[str]:
    from .ingest import read_reviews

    path = source or PROJECT_ROOT / "data" / "sample_reviews.csv"
    if not path.exists():  # an installed wheel has no bundled sample
        raise InputError(f"no sample at {path}: give your own reviews with --input FILE")
    texts = read_reviews(path).frame["_text"].to_list()
    return [texts[i % len(texts)] for i in range(rows)]


def naive_loop(analyzer, texts: list[str]) -> float:
    """Reviews/s of one-at-a-time encoding with the same model and truncation, as plain fp32
    transformers code would run it (whatever precision or int8 mode the engine uses)."""
    import torch

    from .scoring.encoder import TextEncoder

    enc = TextEncoder(analyzer.encoder.model_dir, max_length=analyzer.encoder.max_length,
                      device=analyzer.encoder.device, precision="fp32")
    t0 = time.perf_counter()
    with torch.no_grad():
        for t in texts:
            batch = enc.tokenizer([enc.prepare(t)], truncation=True, max_length=enc.max_length,
                                  return_tensors="pt").to(enc.device)
            enc.model(**batch)
    return len(texts) / (time.perf_counter() - t0)


def run(rows: int = 1000, naive_rows: int = 200, source: Path | None = None,
        device: str | None = None) -> dict:
    from .scoring import create_analyzer

    texts = load_texts(rows, source)
    t0 = time.perf_counter()
    analyzer = create_analyzer(device=device)
    load_s = time.perf_counter() - t0
    analyzer.score(texts[:64])  # warm-up
    t0 = time.perf_counter()
    analyzer.score(texts)
    engine = rows / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    analyzer.encoder.embed(texts)
    encoder_only = rows / (time.perf_counter() - t0)
    naive = naive_loop(analyzer, texts[:naive_rows])
    import torch

    from .scoring.encoder import native_bf16

    return {
        "rows": rows, "naive_rows": naive_rows,
        "source": str(source or "data/sample_reviews.csv"),
        "device": analyzer.encoder.device, "precision": analyzer.encoder.precision,
        "quantize": analyzer.quantize, "cpu_has_bf16": native_bf16(),
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(), "machine": platform.machine(),
        "star_model": "tuned_top" if analyzer.tuned is not None else "linear_head",
        "model_load_s": round(load_s, 2),
        "engine_reviews_per_s": round(engine, 1),
        "encoder_only_reviews_per_s": round(encoder_only, 1),
        "naive_loop_reviews_per_s": round(naive, 1),
        "engine_vs_naive": round(engine / naive, 2),
        "encoder_vs_naive": round(encoder_only / naive, 2),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--naive-rows", type=int, default=200)
    ap.add_argument("--input", type=Path, default=None, help="review file to take texts from")
    ap.add_argument("--device", default=None)
    args = ap.parse_args(argv)
    print(json.dumps(run(args.rows, args.naive_rows, args.input, args.device), indent=2))


if __name__ == "__main__":
    main()
