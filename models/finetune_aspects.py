"""Fine-tune the star model's top layers for complaint aspects and stars together, on a CPU.

One encoder pass then gives stars, sentiment and aspects: the aspect head reads the same
pooled output as the star head (plus the mean of the token embeddings the layers start from).

- Aspects: the hand-labelled train split of models/aspect_labels.csv (a sixth of it held back
  to choose each aspect's decision threshold); its test split is only evaluated.
- Stars: the shipped model's own star probabilities on the same reviews and on 3,000 more train
  reviews are the targets (distillation), so the star calls and their calibration stay put.
- The lower layers stay frozen: their output is computed once; only the top `--top` layers,
  the star head and the aspect head are trained.

The shipped files start from the fully fine-tuned star model before any aspect training (the
GPU model of models/experiments.md section 1), so the star targets are that model's own calls:

    git show 8ea24be:monitor/model_files/tuned_top.safetensors > var/base_star.safetensors
    MONITOR_STAR_MODEL=var/base_star.safetensors python models/finetune_aspects.py --top 4 --epochs 7
        -> var/tuned_top_aspects.safetensors, var/aspect_head_ft.npz, var/eval_aspects_ft.json
    python models/finetune_aspects.py --install   # copy them over the shipped files
    python models/calibrate_int8.py               # the new star layers' int8 input ranges

On 2 AVX2 cores: ~12 min to encode the 7,321 reviews once (kept in var/ for the next run), then
~140 s per epoch.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import sys
import time

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from review_sets import ROOT, SHARED, held_out_reviews, labelled_ids

sys.path.insert(0, str(ROOT))
os.environ.setdefault("MONITOR_PRECISION", "fp32")
os.environ.setdefault("MONITOR_QUANTIZE", "off")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from monitor.aspects import ASPECTS, category_of  # noqa: E402
from monitor.scoring.tuned import Packing  # noqa: E402

VAR = ROOT / "var"
OUT_MODEL = VAR / "tuned_top_aspects.safetensors"
OUT_HEAD = VAR / "aspect_head_ft.npz"
OUT_REPORT = VAR / "eval_aspects_ft.json"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def encode_lower(analyzer, texts: list[str], k: int, batch: int = 32):
    """Per text: states after the first `k` star layers (unpadded), the mean of the token
    embeddings, and the shipped model's star probabilities."""
    enc, tuned = analyzer.encoder, analyzer.tuned
    states, lower, teacher = [None] * len(texts), np.zeros((len(texts), 384), np.float32), \
        np.zeros((len(texts), 5), np.float32)
    with torch.inference_mode():
        for idx, tok in analyzer._batches(texts):
            mask = tok["attention_mask"]
            h0 = enc.model.embeddings(input_ids=tok["input_ids"])
            w = mask.unsqueeze(-1).float()
            lower[idx] = ((h0 * w).sum(1) / w.sum(1)).numpy()
            h = h0
            for layer in tuned.layers[:k]:
                h = layer(h, mask)
            teacher[idx] = tuned.star_probabilities(h0, mask).numpy()
            for j, i in enumerate(idx):
                states[i] = h[j, :int(mask[j].sum())].to(torch.bfloat16).clone()
    return states, lower, teacher


def cached_lower(analyzer, texts: list[str], k: int):
    """`encode_lower`, kept in var/ for the next run with the same texts, star model and `k`
    (the encoding is most of a run's time on a CPU)."""
    import hashlib

    key = hashlib.sha256("\x00".join(texts).encode() + str(analyzer.tuned_source).encode()
                         + str(k).encode()).hexdigest()[:16]
    path = VAR / f"finetune_aspects_lower_{key}.pt"
    if path.exists():
        log(f"reusing the lower layers' output from {path}")
        return torch.load(path, weights_only=False)  # our own file, written below
    log(f"encoding {len(texts)} reviews through the frozen lower layers")
    encoded = encode_lower(analyzer, texts, k)
    VAR.mkdir(exist_ok=True)
    torch.save(encoded, path)
    return encoded


class Top(torch.nn.Module):
    def __init__(self, layers, star_head, n_aspects: int):
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)
        self.star_head = star_head
        self.aspect_head = torch.nn.Linear(2 * 384, n_aspects)

    def forward(self, h, mask, lower):
        packed = Packing(mask)
        x = packed.pack(h)
        for layer in self.layers:
            x = layer.forward_packed(x, packed)
        pooled = packed.mean(x)
        return self.star_head(pooled), self.aspect_head(torch.cat([pooled, lower], dim=-1))


def padded(states, idx):
    lengths = [states[i].shape[0] for i in idx]
    h = torch.zeros(len(idx), max(lengths), 384)
    mask = torch.zeros(len(idx), max(lengths), dtype=torch.long)
    for j, i in enumerate(idx):
        h[j, :lengths[j]] = states[i].float()
        mask[j, :lengths[j]] = 1
    return h, mask


def batches(idx, size, seed, states):
    rng = random.Random(seed)
    idx = sorted(idx, key=lambda i: states[i].shape[0])  # similar lengths: little padding
    groups = [idx[i:i + size] for i in range(0, len(idx), size)]
    rng.shuffle(groups)
    return groups


def predict(model, states, lower, idx, size=64):
    star, asp = [], []
    with torch.inference_mode():
        for start in range(0, len(idx), size):
            part = idx[start:start + size]
            h, mask = padded(states, part)
            s, a = model(h, mask, torch.from_numpy(lower[part]))
            star.append(s)
            asp.append(torch.sigmoid(a))
    return torch.cat(star).numpy(), torch.cat(asp).numpy()


def f1(pred, gold):
    tp = float((pred & gold).sum())
    return 2 * tp / max(float(pred.sum() + gold.sum()), 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--top", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--anchors", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--star-weight", type=float, default=2.0)
    parser.add_argument("--counterfeit-bar", type=float, default=0.9,
                        help="the head's own bar for counterfeit: the phrase net keeps recall, "
                             "so the head names a claim alone only when sure (0.9 on the dev "
                             "share: precision 0.71, recall 0.96 with phrases)")
    parser.add_argument("--install", action="store_true")
    args = parser.parse_args()
    if args.install:
        shutil.copy(OUT_MODEL, ROOT / "monitor" / "model_files" / "tuned_top.safetensors")
        shutil.copy(OUT_HEAD, ROOT / "monitor" / "model_files" / "aspect_head.npz")
        shutil.copy(OUT_REPORT, ROOT / "models" / "eval_aspects_finetune.json")
        log("installed the fine-tuned star model and aspect head")
        return
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 2)
    from monitor.scoring import create_analyzer

    analyzer = create_analyzer(device="cpu")
    labels = pl.read_csv(ROOT / "models" / "aspect_labels.csv",
                         schema_overrides={"aspects": pl.String}).with_columns(
        pl.col("aspects").fill_null(""))
    train_texts = pl.read_csv(SHARED / "marc_train.csv")
    labels = labels.join(train_texts.select("id", "text"), on="id")
    held = set(held_out_reviews()["id"].to_list())
    exclude = set(labelled_ids()) | set(labels["id"]) | held
    anchors = train_texts.filter(~pl.col("id").is_in(list(exclude))).sample(
        args.anchors, seed=7)
    texts = labels["text"].to_list() + anchors["text"].to_list()
    k = len(analyzer.tuned.layers) - args.top
    states, lower, teacher = cached_lower(analyzer, texts, k)
    n_lab = labels.height
    y = np.zeros((len(texts), len(ASPECTS)), np.float32)
    has_aspects = np.zeros(len(texts), bool)
    has_aspects[:n_lab] = True
    for row, cell in enumerate(labels["aspects"].to_list()):
        for a in filter(None, cell.split(";")):
            y[row, ASPECTS.index(a)] = 1
    split = labels["split"].to_list()
    rng = np.random.default_rng(5)
    lab_train = [i for i in range(n_lab) if split[i] == "train"]
    rng.shuffle(lab_train)
    n_dev = len(lab_train) // 6
    dev, fit = sorted(lab_train[:n_dev]), sorted(lab_train[n_dev:])
    test = [i for i in range(n_lab) if split[i] == "test"]
    train_idx = fit + list(range(n_lab, len(texts)))

    model = Top(copy.deepcopy(list(analyzer.tuned.layers[k:])),
                copy.deepcopy(analyzer.tuned.head), len(ASPECTS)).float().train()
    pos = y[fit].sum(0)
    pos_weight = torch.tensor(np.sqrt((len(fit) - pos) / np.maximum(pos, 1)), dtype=torch.float32)
    optim = torch.optim.AdamW([
        {"params": model.layers.parameters(), "lr": args.lr},
        {"params": model.star_head.parameters(), "lr": args.lr},
        {"params": model.aspect_head.parameters(), "lr": 2e-3}], weight_decay=0.01)
    temperature = analyzer.tuned.temperature
    steps = 0
    for epoch in range(args.epochs):
        started, total = time.perf_counter(), 0.0
        for part in batches(train_idx, 16, epoch, states):
            h, mask = padded(states, part)
            star_logits, aspect_logits = model(h, mask, torch.from_numpy(lower[part]))
            target = torch.from_numpy(teacher[part])
            loss = args.star_weight * F.kl_div(
                F.log_softmax(star_logits / temperature, -1), target, reduction="batchmean")
            labelled_rows = torch.from_numpy(has_aspects[part])
            if labelled_rows.any():
                loss = loss + F.binary_cross_entropy_with_logits(
                    aspect_logits[labelled_rows], torch.from_numpy(y[part])[labelled_rows],
                    pos_weight=pos_weight)
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            total += float(loss.detach())
            steps += 1
        model.eval()
        _, p_dev = predict(model, states, lower, dev)
        macro = np.mean([f1(p_dev[:, a] >= 0.5, y[dev, a] > 0) for a in range(len(ASPECTS))])
        model.train()
        log(f"epoch {epoch + 1}: loss {total:.1f}, dev aspect macro-F1 at 0.5: {macro:.3f} "
            f"({time.perf_counter() - started:.0f} s)")
    model.eval()
    _, p_dev = predict(model, states, lower, dev)
    grid = np.linspace(0.1, 0.9, 33)
    thresholds = np.array([grid[int(np.argmax([f1(p_dev[:, a] >= t, y[dev, a] > 0)
                                               for t in grid]))]
                           for a in range(len(ASPECTS))], np.float32)
    thresholds[ASPECTS.index("counterfeit")] = args.counterfeit_bar
    star_test, p_test = predict(model, states, lower, test)
    pred, gold = p_test >= thresholds, y[test] > 0
    per_aspect = {}
    for a, name in enumerate(ASPECTS):
        tp = float((pred[:, a] & gold[:, a]).sum())
        per_aspect[name] = {"precision": round(tp / max(pred[:, a].sum(), 1), 3),
                            "recall": round(tp / max(gold[:, a].sum(), 1), 3),
                            "f1": round(f1(pred[:, a], gold[:, a]), 3),
                            "support": int(gold[:, a].sum())}
    from sklearn.metrics import f1_score

    names = np.array(ASPECTS)
    pred_cat = [category_of(names[r]) for r in pred]
    gold_cat = [category_of(names[r]) for r in gold]
    complaints = [i for i, g in enumerate(gold_cat) if g != "none"]
    sev = f1_score([gold_cat[i] for i in complaints], [pred_cat[i] for i in complaints],
                   labels=["counterfeit", "damage", "delay", "other"], average="macro",
                   zero_division=0)
    star_agree = float((star_test.argmax(1) == teacher[test].argmax(1)).mean())
    report = {"labelled_fit": len(fit), "threshold_dev": len(dev), "test": len(test),
              "anchors": args.anchors, "top_layers_trained": args.top, "epochs": args.epochs,
              "aspect_macro_f1": round(float(np.mean([v["f1"] for v in per_aspect.values()])), 3),
              "per_aspect": per_aspect, "severity_macro_f1_complaints": round(float(sev), 3),
              "star_argmax_agreement_with_shipped_on_test": round(star_agree, 3),
              "thresholds": dict(zip(ASPECTS, thresholds.round(3).tolist()))}
    log(json.dumps({k: v for k, v in report.items() if k != "per_aspect"}))
    VAR.mkdir(exist_ok=True)
    tuned = copy.deepcopy(analyzer.tuned)
    for i, layer in enumerate(model.layers):
        tuned.layers[k + i].load_state_dict(layer.state_dict())
    tuned.head.load_state_dict(model.star_head.state_dict())
    tuned.save(OUT_MODEL, meta={"aspects_finetuned_top": args.top})
    w = model.aspect_head.weight.detach().numpy().astype(np.float32)
    b = model.aspect_head.bias.detach().numpy().astype(np.float32)
    np.savez(OUT_HEAD, aspects=np.array(ASPECTS), mean=np.zeros(2 * 384, np.float32),
             std=np.ones(2 * 384, np.float32), weight=w, bias=b, threshold=thresholds)
    OUT_REPORT.write_text(json.dumps(report, indent=1) + "\n")
    log(f"-> {OUT_MODEL}, {OUT_HEAD}, {OUT_REPORT}")


if __name__ == "__main__":
    main()
