"""ONNX Runtime against the torch engine for the star model, one run, same texts and batches.

    .venv/bin/pip install onnxruntime onnx     # not dependencies: this measured them, they lost
    .venv/bin/python benchmarks/onnx_bench.py [--rows 1000]

The shipped star model (packaged embeddings + 12 fine-tuned layers + star head) is exported to
ONNX (padded attention: ONNX has no packing), then run by ONNX Runtime in fp32 with all graph
optimisations, with the BERT fusions of `onnxruntime.transformers` (SkipLayerNorm, BiasGelu), and
with ORT's dynamic int8 (per-channel weights). Beside them, in the same run: the torch engine in
fp32 (padded and packed) and with the smoothed int8 star layers that `MONITOR_QUANTIZE=auto`
uses on a CPU without bf16. Prints JSON: reviews/s per engine and its agreement with torch fp32
(largest star-probability change, share of reviews with the same most likely star).
Machines are noisy: compare within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    os.environ.update(HF_HUB_OFFLINE="1", MONITOR_QUANTIZE="off", MONITOR_PRECISION="fp32")
    import onnx
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    from monitor.bench import load_texts
    from monitor.scoring import create_analyzer

    analyzer = create_analyzer()
    enc, tuned = analyzer.encoder, analyzer.tuned

    class StarModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings, self.layers, self.head = enc.model.embeddings, tuned.layers, tuned.head

        def forward(self, input_ids, attention_mask):
            h = self.embeddings(input_ids=input_ids)
            for layer in self.layers:
                h = layer.forward_padded(h, attention_mask)
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1)
            return torch.softmax(self.head(pooled) / tuned.temperature, dim=-1)

    texts = load_texts(args.rows, None)
    prepared = [enc.prepare(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(prepared[i]))
    batches = [order[s:s + enc.batch_size] for s in range(0, len(order), enc.batch_size)]
    tokens = [enc.tokenizer([prepared[i] for i in idx], padding=True, truncation=True,
                            max_length=enc.max_length, return_tensors="pt") for idx in batches]
    star = StarModel().eval()
    os.environ["MONITOR_QUANTIZE"] = "stars"
    int8_tuned = create_analyzer().tuned

    def torch_engine(model=None):
        def run():
            out = np.zeros((len(texts), 5))
            with torch.inference_mode():
                for idx, t in zip(batches, tokens):
                    if model is None:
                        out[idx] = star(t["input_ids"], t["attention_mask"]).numpy()
                    else:
                        h = enc.model.embeddings(input_ids=t["input_ids"])
                        out[idx] = model.star_probabilities(h, t["attention_mask"]).numpy()
            return out
        return run

    def ort_engine(path: str):
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

        def run():
            out = np.zeros((len(texts), 5))
            for idx, t in zip(batches, tokens):
                out[idx] = session.run(None, {"input_ids": t["input_ids"].numpy(),
                                              "attention_mask": t["attention_mask"].numpy()})[0]
            return out
        return run

    with tempfile.TemporaryDirectory() as tmp:
        plain, fused = f"{tmp}/star.onnx", f"{tmp}/star_fused.onnx"
        example = tokens[len(tokens) // 2]
        torch.onnx.export(star, (example["input_ids"], example["attention_mask"]), plain,
                          dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["probs"],
                          dynamic_axes={"input_ids": {0: "b", 1: "n"},
                                        "attention_mask": {0: "b", 1: "n"}, "probs": {0: "b"}})
        optimizer.optimize_model(plain, model_type="bert", num_heads=12, hidden_size=384,
                                 opt_level=1).save_model_to_file(fused)
        int8 = f"{tmp}/star_int8.onnx"
        quantize_dynamic(plain, int8, weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        engines = {"torch_fp32_padded": torch_engine(), "torch_fp32_packed": torch_engine(tuned),
                   "torch_int8_smoothed_packed": torch_engine(int8_tuned),
                   "ort_fp32": ort_engine(plain), "ort_fp32_fused": ort_engine(fused),
                   "ort_int8_dynamic": ort_engine(int8)}
        reference = engines["torch_fp32_padded"]()
        result = {"rows": args.rows, "threads": torch.get_num_threads(), "engines": {}}
        for _ in range(args.repeats):  # alternate, so drift in the machine's speed hits all
            for name, run in engines.items():
                run()  # warm-up
                t0 = time.perf_counter()
                probs = run()
                speed = args.rows / (time.perf_counter() - t0)
                entry = result["engines"].setdefault(name, {"reviews_per_s": []})
                entry["reviews_per_s"].append(round(speed, 1))
                entry["max_prob_change"] = round(float(np.abs(probs - reference).max()), 4)
                entry["same_star"] = round(float((probs.argmax(1) == reference.argmax(1)).mean()), 4)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
