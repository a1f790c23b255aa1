"""A fast star model distilled on CPU: fewer layers, and the severity embedding from the same pass.

    .venv/bin/python models/distill_fast.py teacher    # teacher outputs, cached in var/distill
    .venv/bin/python models/distill_fast.py train --layers 4 --out var/distill/fast4.safetensors
    .venv/bin/python models/distill_fast.py eval var/distill/fast4.safetensors
    .venv/bin/python models/distill_fast.py calibrate var/distill/fast4.safetensors  # int8 ranges
    MONITOR_STAR_MODEL=var/distill/fast4.safetensors monitor score ...   # use it

Why: the default engine runs 12 fine-tuned layers for stars, then the 12 packaged layers again
for the negative reviews whose severity needs the general-purpose embedding, and no CPU number
format makes that reach 400 reviews/s on 2 cores (models/EVAL.md, "Speed"). The student is a
`TunedTop` with K layers (initialised from the shipped model's layers, evenly spaced) and two
heads on its mean-pooled output: the 5-star head, and an `embedding_head` that reproduces the
packaged e5 embedding, so severity reads it from the same pass. Loss: KL to the teacher's star
probabilities + 0.5 x cross-entropy to the true stars + (1 - cosine) to the teacher embedding.

Who sees what: students train on random train reviews that are neither in finetune_full's 4 %
held-out share nor in any hand-labelled set; the held-out share fits the temperature; dev is
only measured. No GPU was lent when this was written: everything here runs on 2 CPU cores, so
the student sees a subset (`--per-lang`) for a few epochs.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "models"))

from review_sets import SHARED, held_out_reviews, labelled_ids  # noqa: E402

CACHE = ROOT / "var" / "distill"
SEED = 61


def training_reviews(per_lang: int) -> pl.DataFrame:
    """`per_lang` random train reviews per language, outside the held-out and labelled sets."""
    excluded = set(labelled_ids()) | set(held_out_reviews()["id"].to_list())
    train = pl.read_csv(SHARED / "marc_train.csv").filter(~pl.col("id").is_in(list(excluded)))
    return train.filter(pl.int_range(pl.len()).shuffle(seed=SEED).over("lang") < per_lang).sort("id")


def teacher_outputs(analyzer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The shipped model's star probabilities and the packaged (unit) e5 embedding per text."""
    star_p, e5 = [], []
    for start in range(0, len(texts), 2000):  # the analyzer keeps a chunk's states in memory
        chunk = texts[start:start + 2000]
        embed_rows, chunk_p = analyzer._embed_and_stars(chunk)
        star_p.append(chunk_p)
        e5.append(embed_rows(list(range(len(chunk)))))
    return np.concatenate(star_p), np.concatenate(e5)


def teacher(per_lang: int) -> None:
    """Cache the teacher's outputs for the training reviews and the held-out share (fp32)."""
    from monitor.scoring.analyzer import create_analyzer

    os.environ.update(MONITOR_QUANTIZE="off", MONITOR_PRECISION="fp32")
    CACHE.mkdir(parents=True, exist_ok=True)
    analyzer = create_analyzer()
    for name, frame in (("held", held_out_reviews()), ("train", training_reviews(per_lang))):
        out = CACHE / f"{name}.npz"
        if out.exists():
            continue
        if _copy_fusion_cache(name, out, frame):
            continue
        t0 = time.time()
        star_p, e5 = teacher_outputs(analyzer, frame["text"].to_list())
        np.savez(out, ids=frame["id"].to_numpy().astype(str), stars=frame["stars"].to_numpy(),
                 star_p=star_p, e5=e5)
        print(f"{name}: {frame.height} reviews in {time.time() - t0:.0f} s", flush=True)


def _copy_fusion_cache(name: str, out: Path, frame: pl.DataFrame) -> bool:
    """fusion_eval.py computed the same fp32 outputs for the held-out share: reuse them."""
    cached = ROOT / "var" / "fusion" / f"{name}.npz"
    if name != "held" or not cached.exists():
        return False
    d = np.load(cached, allow_pickle=True)  # our own cache: ids are str objects
    if sorted(d["ids"].astype(str).tolist()) != sorted(frame["id"].cast(pl.String).to_list()):
        return False
    np.savez(out, ids=d["ids"].astype(str), stars=d["stars"], star_p=d["star_p"], e5=d["e5"])
    return True


def _load(name: str) -> dict:
    return dict(np.load(CACHE / f"{name}.npz"))


def _texts(ids: np.ndarray, split: str = "marc_train.csv") -> list[str]:
    frame = pl.read_csv(SHARED / split).select("id", "text")
    by_id = dict(zip(frame["id"].to_list(), frame["text"].to_list()))
    return [by_id[i] for i in ids.tolist()]


def _batches(lengths: list[int], size: int, rng: np.random.Generator) -> list[list[int]]:
    """Length-bucketed batches in random order: little padding, no fixed curriculum."""
    order = np.argsort(np.array(lengths) + rng.random(len(lengths)) * 4)
    batches = [order[i:i + size].tolist() for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def student_outputs(student, encoder, prepared: list[str], rows: list[int], max_length: int):
    """(star logits, unit embedding) of the student for `rows` of `prepared` texts."""
    import torch

    batch = encoder.tokenizer([prepared[i] for i in rows], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        h = encoder.model.embeddings(input_ids=batch["input_ids"])  # frozen, as in the product
    pooled = student.pooled(h, batch["attention_mask"])
    emb = torch.nn.functional.normalize(student.embedding_head(pooled), dim=-1)
    return student.head(pooled), emb


def train(layers: int, epochs: int, out: Path, lr: float, max_length: int) -> None:
    import torch
    import torch.nn.functional as F

    from monitor.scoring.analyzer import create_analyzer
    from monitor.scoring.tuned import TunedTop

    os.environ.update(MONITOR_QUANTIZE="off", MONITOR_PRECISION="fp32")
    torch.manual_seed(SEED)
    analyzer = create_analyzer()
    enc, teacher_model = analyzer.encoder, analyzer.tuned
    picks = np.linspace(0, len(teacher_model.layers) - 1, layers).round().astype(int).tolist()
    student = TunedTop([copy.deepcopy(teacher_model.layers[i]) for i in picks], start=0,
                       embedding_head=True)
    student.head.load_state_dict(teacher_model.head.state_dict())
    torch.nn.init.eye_(student.embedding_head.weight)
    torch.nn.init.zeros_(student.embedding_head.bias)
    student.train()

    data = _load("train")
    prepared = [enc.prepare(t) for t in _texts(data["ids"])]
    lengths = [len(p) for p in prepared]
    t_star = torch.tensor(data["star_p"], dtype=torch.float32)
    t_emb = torch.tensor(data["e5"], dtype=torch.float32)
    stars = torch.tensor(data["stars"] - 1)
    rng = np.random.default_rng(SEED)
    steps = max(1, epochs * ((len(prepared) + 31) // 32))  # --epochs 0: an untrained student,
    # for speed measurements only (speed does not depend on the weights)
    body = list(student.layers.parameters())
    heads = list(student.head.parameters()) + list(student.embedding_head.parameters())
    opt = torch.optim.AdamW([{"params": body, "lr": lr}, {"params": heads, "lr": lr * 10}],
                            weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[lr, lr * 10], total_steps=steps,
                                                pct_start=0.06, anneal_strategy="linear")
    t0, step = time.time(), 0
    for epoch in range(epochs):
        for rows in _batches(lengths, 32, rng):
            logits, emb = student_outputs(student, enc, prepared, rows, max_length)
            logp = F.log_softmax(logits, -1)
            loss_kl = F.kl_div(logp, t_star[rows], reduction="batchmean")
            loss_ce = F.nll_loss(logp, stars[rows])
            loss_emb = (1 - (emb * t_emb[rows]).sum(-1)).mean()
            loss = loss_kl + 0.5 * loss_ce + loss_emb
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0:
                print(f"epoch {epoch} step {step}/{steps} kl {loss_kl.item():.3f} ce "
                      f"{loss_ce.item():.3f} 1-cos {loss_emb.item():.4f} "
                      f"{time.time() - t0:.0f} s", flush=True)
    student.eval()
    student.temperature = fit_temperature(student, enc, max_length)
    student.save(out, meta={"distilled_from": "tuned_top.safetensors", "layers_from": picks,
                            "train_reviews": len(prepared), "epochs": epochs,
                            "seconds": round(time.time() - t0)})
    print(f"wrote {out} (temperature {student.temperature:.3f})", flush=True)


def predict(student, enc, texts: list[str], max_length: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Star logits and embeddings of the student for `texts`, in input order."""
    import torch

    prepared = [enc.prepare(t) for t in texts]
    order = sorted(range(len(prepared)), key=lambda i: len(prepared[i]))
    logits, emb = np.zeros((len(texts), 5), np.float32), np.zeros((len(texts), 384), np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            rows = order[start:start + 64]
            lg, em = student_outputs(student, enc, prepared, rows, max_length)
            logits[rows], emb[rows] = lg.numpy(), em.numpy()
    return logits, emb


def fit_temperature(student, enc, max_length: int) -> float:
    """The temperature that minimises the held-out log-loss of the student's stars."""
    import torch

    held = _load("held")
    logits, _ = predict(student, enc, _texts(held["ids"]), max_length)
    target = torch.tensor(held["stars"] - 1)
    lg = torch.tensor(logits)
    best = min(np.arange(0.5, 2.01, 0.05),
               key=lambda t: torch.nn.functional.cross_entropy(lg / t, target).item())
    return float(round(best, 2))


def evaluate(path: Path, report: Path) -> None:
    """Dev figures of the student against the teacher's (both through this script's cache)."""
    import torch

    from monitor.scoring.analyzer import create_analyzer
    from monitor.scoring.sentiment import sentiment_metrics
    from monitor.scoring.tuned import TunedTop

    os.environ.update(MONITOR_QUANTIZE="off", MONITOR_PRECISION="fp32")
    analyzer = create_analyzer()
    student = TunedTop.load(path)
    dev = pl.read_csv(SHARED / "marc_dev.csv").sort("id")
    t0 = time.time()
    logits, emb = predict(student, analyzer.encoder, dev["text"].to_list())
    probs = torch.softmax(torch.tensor(logits) / student.temperature, -1).numpy()
    seconds = time.time() - t0
    stars, langs = dev["stars"].to_numpy(), dev["lang"].to_numpy()
    result = {"model": str(path), "seconds": round(seconds), "all": sentiment_metrics(stars, probs),
              "languages": {lang: sentiment_metrics(stars[langs == lang], probs[langs == lang])
                            for lang in sorted(set(langs.tolist()))}}
    cached = CACHE / "dev_teacher.npz"
    if cached.exists():
        teacher_dev = dict(np.load(cached))
        result["embedding_cosine_to_packaged"] = {
            "mean": round(float((emb * teacher_dev["e5"]).sum(1).mean()), 4),
            "p5": round(float(np.percentile((emb * teacher_dev["e5"]).sum(1), 5)), 4)}
        result["same_star_as_teacher"] = round(float(
            (probs.argmax(1) == teacher_dev["star_p"].argmax(1)).mean()), 4)
    report.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["all"], indent=2), result.get("embedding_cosine_to_packaged"))


def teacher_dev() -> None:
    """The teacher's outputs on dev, for the student's agreement figures (fp32, ~12 min)."""
    from monitor.scoring.analyzer import create_analyzer

    os.environ.update(MONITOR_QUANTIZE="off", MONITOR_PRECISION="fp32")
    out = CACHE / "dev_teacher.npz"
    fusion = ROOT / "var" / "fusion" / "dev.npz"  # fusion_eval.py's fp32 run, when present
    if fusion.exists():
        d = np.load(fusion, allow_pickle=True)  # our own cache: ids are str objects
        np.savez(out, ids=d["ids"].astype(str), star_p=d["star_p"], e5=d["e5"])
        return
    dev = pl.read_csv(SHARED / "marc_dev.csv").sort("id")
    star_p, e5 = teacher_outputs(create_analyzer(), dev["text"].to_list())
    np.savez(out, ids=dev["id"].to_numpy().astype(str), star_p=star_p, e5=e5)


def calibrate(path: Path, reviews: int = 512) -> None:
    """The student's int8 input ranges, written beside it where `create_analyzer` looks for
    them; measured on the held-out reviews calibrate_int8.py uses (seed 7), never dev."""
    from monitor.scoring.analyzer import create_analyzer, int8_calibration_beside
    from monitor.scoring.tuned import recording_activation_max, save_activation_max

    os.environ.update(MONITOR_QUANTIZE="off", MONITOR_PRECISION="fp32")
    held = held_out_reviews()
    texts = held[np.random.default_rng(7).permutation(held.height)[:reviews].tolist()]["text"]
    analyzer = create_analyzer(tuned_path=path)
    with recording_activation_max(analyzer.tuned) as maxima:
        analyzer._embed_and_stars(texts.to_list())
    out = int8_calibration_beside(path)
    save_activation_max(out, analyzer.tuned, maxima, meta={
        "reviews": reviews, "source": "held-out 4 % of the shared train split",
        "script": "models/distill_fast.py calibrate"})
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("teacher")
    t.add_argument("--per-lang", type=int, default=3000)
    sub.add_parser("teacher-dev")
    tr = sub.add_parser("train")
    tr.add_argument("--layers", type=int, default=4)
    tr.add_argument("--epochs", type=int, default=2)
    tr.add_argument("--lr", type=float, default=1e-4)
    tr.add_argument("--max-length", type=int, default=128)
    tr.add_argument("--out", type=Path, required=True)
    ca = sub.add_parser("calibrate")
    ca.add_argument("model", type=Path)
    ev = sub.add_parser("eval")
    ev.add_argument("model", type=Path)
    ev.add_argument("--report", type=Path, default=None)
    args = ap.parse_args()
    if args.cmd == "teacher":
        teacher(args.per_lang)
    elif args.cmd == "teacher-dev":
        teacher_dev()
    elif args.cmd == "train":
        train(args.layers, args.epochs, args.out, args.lr, args.max_length)
    elif args.cmd == "calibrate":
        calibrate(args.model)
    else:
        evaluate(args.model, args.report or args.model.with_suffix(".json"))


if __name__ == "__main__":
    main()
