"""The review analyzer: one encoder pass per review feeds sentiment, stars and severity."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from ..langid import detect_language
from ..schema import ReviewScore, needs_response
from ..settings import MODEL_FILES_DIR, Settings
from .escalation import escalation_terms
from .judgement import AspectHead, judge
from .encoder import (TextEncoder, quantize_int8, resolve_device, resolve_precision,
                      resolve_quantize, torch_dtype)
from .sentiment import (SENTIMENTS, SentimentHead, decide_sentiment, load_decision_thresholds,
                        sentiment_probabilities)
from .severity import SeverityClassifier, SeverityHead
from .tuned import EncoderLayer, TunedTop, load_activation_max, run_packed
from ..errors import InputError

# the star model's files and the version string live in `versions` (no torch); importable here
from .versions import SENTIMENT_HEAD_FILE, TUNED_TOP_FILE, model_files, model_version  # noqa: F401

SEVERITY_HEAD_FILE = MODEL_FILES_DIR / "severity_head.npz"
ASPECT_HEAD_FILE = MODEL_FILES_DIR / "aspect_head.npz"
# input ranges measured on held-out train reviews (models/calibrate_int8.py), for int8 smoothing:
# of the star layers, and of the packaged layers (MONITOR_QUANTIZE=int8)
INT8_CALIBRATION_FILE = MODEL_FILES_DIR / "int8_calibration.safetensors"
BASE_INT8_CALIBRATION_FILE = MODEL_FILES_DIR / "int8_calibration_base.safetensors"
GPU_BATCH_SIZE = 512  # the star model ran at 33-44k reviews/s on an H100 with batches of 1,024


def _has_int8(module) -> bool:
    return any("quantized" in type(m).__module__ for m in module.modules())


class ReviewAnalyzer:
    """Scores reviews: sentiment with probabilities, a star estimate, complaint category and evidence.

    Stars come from the fine-tuned top layers when `tuned` is given (one encoder pass serves both:
    the base output feeds severity, the tapped lower-layer states feed the tuned top), else from
    the linear head on the base embedding.
    """

    def __init__(self, encoder: TextEncoder, head: SentimentHead | None, severity: SeverityClassifier,
                 tuned: TunedTop | None = None, tuned_source: Path | None = None,
                 quantize: str = "off", aspect_head: AspectHead | None = None,
                 judgement: str = "aspects"):
        if head is None and tuned is None:
            raise InputError("an analyzer needs a star head or a tuned top")
        self.encoder = encoder
        self.head = head
        self.tuned = tuned
        self.severity = severity
        if tuned is not None and not _has_int8(tuned):  # int8 layers keep their own maths
            tuned.to(encoder.device, dtype=torch_dtype(encoder.precision))
        self.tuned_source = tuned_source  # the file `tuned` came from (adapting rewrites it)
        self.quantize = quantize  # the int8 mode in use: off, stars or all
        self.aspect_head = aspect_head
        self.decision = load_decision_thresholds()  # per-language sentiment bars
        # the engine that decides category and level: "aspects" needs the aspect head
        self.judgement = judgement if aspect_head is not None else "v1"

    def _embed_and_stars(self, texts: list[str]):
        """Star probabilities, and the base embeddings (an array, or a function of row numbers
        that computes them only for the rows severity asks for)."""
        emb, star_p, _ = self._pass(texts)
        return emb, star_p

    def _pass(self, texts: list[str]):
        """(base embeddings or a function of row numbers, star probabilities, aspect features):
        the aspect features come from the same pass as the stars (`aspect_features`)."""
        if self.tuned is None:
            emb = self.encoder.embed(texts)
            return emb, self.head.star_probabilities(emb), np.concatenate([emb, emb], axis=1)
        if self.tuned.embedding_head is not None:
            return self._single_pass(texts)
        return self._split_pass(texts)

    def aspect_features(self, texts: Sequence[str]) -> np.ndarray:
        """What the aspect head reads for each text: the star layers' pooled output beside the
        mean of the token states they start from (both from the one pass that gives the stars)."""
        return self._pass([t if isinstance(t, str) else "" for t in texts])[2]

    def _batches(self, texts: list[str]):
        """(row numbers, tokenised batch) in length order, truncation on."""
        enc = self.encoder
        prepared = [enc.prepare(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(prepared[i]))
        for start in range(0, len(order), enc.batch_size):
            idx = order[start:start + enc.batch_size]
            yield idx, enc.tokenizer([prepared[i] for i in idx], padding=True, truncation=True,
                                     max_length=enc.max_length, return_tensors="pt").to(enc.device)

    def _single_pass(self, texts: list[str]):
        """A distilled model: stars and the severity embedding from the same K layers."""
        import torch

        enc, tuned = self.encoder, self.tuned
        star_p = np.zeros((len(texts), 5), dtype=np.float64)
        emb = np.zeros((len(texts), enc.dim), dtype=np.float32)
        feats = np.zeros((len(texts), 2 * enc.dim), dtype=np.float32)
        with torch.inference_mode():
            for idx, batch in self._batches(texts):
                h = enc.model.embeddings(input_ids=batch["input_ids"])
                pooled = tuned.pooled(h, batch["attention_mask"])
                star_p[idx] = tuned.pooled_star_probabilities(pooled).cpu().numpy()
                vec = tuned.embedding_head(pooled).float()
                emb[idx] = torch.nn.functional.normalize(vec, dim=-1).cpu().numpy()
                feats[idx] = _features(pooled, h, batch["attention_mask"])
        return emb, star_p, feats

    def _base_layers(self) -> list:
        # the packaged layers as plain-torch modules (exact parity, tested), so the encoder can
        # stop after the shared lower layers and finish the base embedding only where needed
        if getattr(self, "_layers", None) is None:
            import torch

            dtype = torch_dtype(self.encoder.precision)
            source = self.encoder.float_layers if self.encoder.float_layers is not None \
                else self.encoder.model.encoder.layer
            self._layers = torch.nn.ModuleList(
                EncoderLayer.from_bert_layer(layer).eval().to(self.encoder.device, dtype=dtype)
                for layer in source)
            if self.encoder.quantized:  # int8, smoothed where the ranges match these layers
                self._layers = quantize_int8(
                    self._layers, load_activation_max(BASE_INT8_CALIBRATION_FILE, self._layers))
                self.encoder.float_layers = None
        return self._layers

    def _split_pass(self, texts: list[str]):
        import torch

        enc, tuned = self.encoder, self.tuned
        star_p = np.zeros((len(texts), 5), dtype=np.float64)
        feats = np.zeros((len(texts), 2 * enc.dim), dtype=np.float32)
        kept = []  # (row numbers, lower states, mask) per batch, for embeddings on demand
        with torch.inference_mode():
            for idx, batch in self._batches(texts):
                mask = batch["attention_mask"]
                h = enc.model.embeddings(input_ids=batch["input_ids"])
                if tuned.start:  # the packaged layers below the star layers (none when 0)
                    for layer in self._base_layers()[:tuned.start]:
                        h = layer(h, mask)
                pooled = tuned.pooled(h, mask)
                star_p[idx] = tuned.pooled_star_probabilities(pooled).cpu().numpy()
                feats[idx] = _features(pooled, h, mask)
                kept.append((idx, h, mask))

        def embed_rows(rows: list[int]) -> np.ndarray:
            # the rows severity asks for are regrouped into full batches (they are a scattered
            # few of each scoring batch; length order is kept, so little padding is added)
            want = {r: j for j, r in enumerate(rows)}
            picked = [(i, h[k, :length], length) for idx, h, mask in kept
                      for k, (i, length) in enumerate(zip(idx, mask.sum(1).tolist())) if i in want]
            out = np.zeros((len(rows), enc.dim), dtype=np.float32)
            with torch.inference_mode():
                for start in range(0, len(picked), enc.batch_size):
                    group = picked[start:start + enc.batch_size]
                    states = torch.nn.utils.rnn.pad_sequence([g[1] for g in group],
                                                             batch_first=True)
                    lengths = torch.tensor([g[2] for g in group], device=states.device)
                    mask = (torch.arange(states.shape[1], device=states.device)[None, :]
                            < lengths[:, None]).long()
                    pooled = run_packed(self._base_layers()[tuned.start:], states, mask)
                    pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                    out[[want[g[0]] for g in group]] = pooled.cpu().numpy()
            return out

        return embed_rows, star_p, feats

    def score(self, texts: Sequence[str | None], *, ratings: Sequence[float | None] | None = None,
              langs: Sequence[str | None] | None = None) -> list[ReviewScore]:
        """Score each text; `ratings` (given stars) and `langs` (known languages) are optional."""
        clean = [t if isinstance(t, str) else "" for t in texts]
        if not clean:
            return []
        emb, star_p, feats = self._pass(clean)
        sent_p = sentiment_probabilities(star_p)
        expected = star_p @ np.arange(1, 6)
        aspect_p = self.aspect_head.probabilities(feats) if self.aspect_head is not None else None
        if self.judgement == "aspects":
            sev = judge(clean, aspect_p, self.aspect_head, sent_p[:, 0], sent_p[:, 2], ratings,
                        positive_gate=self.severity.positive_gate)
            aspects = [j.aspects for j in sev]
        else:
            sev = self.severity.assess(clean, emb, sent_p[:, 0], sent_p[:, 2], ratings)
            aspects = ([tuple(a) for a in self.aspect_head.aspects_of(aspect_p)]
                       if aspect_p is not None else [()] * len(clean))
        out = []
        for i, text in enumerate(clean):
            rating = ratings[i] if ratings is not None else None
            lang = (langs[i] if langs is not None else None) or detect_language(text)
            k = decide_sentiment(sent_p[i], self.decision.get((lang or "").split("-")[0]))
            out.append(ReviewScore(
                sentiment=SENTIMENTS[k],
                p_negative=float(sent_p[i, 0]), p_neutral=float(sent_p[i, 1]),
                p_positive=float(sent_p[i, 2]),
                stars_pred=float(expected[i]), confidence=float(sent_p[i, k]),
                category=str(getattr(sev[i].category, "value", sev[i].category)),
                severity=sev[i].severity, evidence=sev[i].evidence, aspects=aspects[i],
                needs_response=needs_response(SENTIMENTS[k], sev[i].severity, rating,
                                              escalating=bool(escalation_terms(text))),
                lang=lang,
            ))
        return out


def _features(pooled, h, mask) -> np.ndarray:
    """Aspect features of a batch: the star layers' pooled output and the mean of their input
    token states, as fp32 numpy."""
    import torch

    weights = mask.unsqueeze(-1).to(torch.float32)
    lower = (h.float() * weights).sum(1) / weights.sum(1).clamp(min=1)
    return torch.cat([pooled.float(), lower], dim=-1).cpu().numpy()


def load_star_model(path: Path) -> TunedTop:
    """A star model file, or a one-line ValueError saying it is not one."""
    try:
        return TunedTop.load(path)
    except Exception as exc:  # safetensors, JSON and shape errors alike: the file is unusable
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path} is not a star model file ({first}); point MONITOR_STAR_MODEL "
                         "at one `monitor train --out` wrote, or unset it") from exc


def int8_calibration_beside(star_model: Path) -> Path:
    """Where a star model's own int8 input ranges live: `fast.safetensors` ->
    `fast.int8.safetensors` (the shipped model's are INT8_CALIBRATION_FILE)."""
    return star_model.with_name(star_model.name.removesuffix(".safetensors") + ".int8.safetensors")


def star_int8_ranges(tuned: TunedTop, tuned_path: Path):
    """The measured input ranges that belong to `tuned`'s layers: the file beside it (a distilled
    model), else the shipped model's (a seller's refitted head keeps its layers); else None."""
    for candidate in (int8_calibration_beside(tuned_path), INT8_CALIBRATION_FILE):
        ranges = load_activation_max(candidate, tuned)
        if ranges is not None:
            return ranges
    return None


def create_analyzer(settings: Settings | None = None, *, device: str | None = None,
                    head_path: Path | None = None, tuned_path: Path | None = None) -> ReviewAnalyzer:
    """Build the analyzer from the packaged multilingual-e5-small and the trained files in models/.

    The fine-tuned top (`tuned_top.safetensors`) is used when present; the linear head
    (`sentiment_head.npz`) is the fallback.
    """
    import os

    settings = settings or Settings.from_env()
    head_path = head_path or SENTIMENT_HEAD_FILE
    # a seller's adapted model (`monitor train --from-ratings --out FILE`) replaces the shipped one
    chosen = tuned_path or os.environ.get("MONITOR_STAR_MODEL")
    tuned_path = Path(chosen or TUNED_TOP_FILE)
    if chosen and not tuned_path.is_file():
        # a mistyped path must not quietly fall back to the weaker linear head
        raise FileNotFoundError(f"no star model at {tuned_path} (MONITOR_STAR_MODEL): give the "
                                "file `monitor train --out` or models/distill_fast.py wrote")
    if not head_path.exists() and not tuned_path.exists():
        raise FileNotFoundError(
            f"no star model in {MODEL_FILES_DIR}: reinstall review-monitor, or run "
            "`python models/finetune_full.py` (GPU) "
            "or `python models/train_sentiment.py` (CPU)")
    device = resolve_device(device or settings.device)
    batch_size = settings.batch_size
    if device == "cuda" and "MONITOR_BATCH_SIZE" not in os.environ:
        batch_size = GPU_BATCH_SIZE  # a GPU idles on CPU-sized batches
    tuned = load_star_model(tuned_path) if tuned_path.exists() else None
    quantize = resolve_quantize(settings.quantize, device, settings.precision)
    # the star layers' measured input ranges: int8 without them rounds several times coarser
    ranges = star_int8_ranges(tuned, tuned_path) \
        if tuned is not None and quantize != "off" else None
    if settings.quantize == "auto" and ranges is None:
        quantize = "off"  # not measured for this star model: only int8 asked for by name
    encoder = TextEncoder.from_cache(settings.cache_dir, max_length=settings.max_length,
                                     batch_size=batch_size, device=device,
                                     quantize=quantize == "all",
                                     precision=resolve_precision(settings.precision, device,
                                                                 quantize))
    if tuned is not None and quantize != "off":
        # "stars": only the star layers are int8 (they run for every review); the packaged
        # layers stay fp32 so severity is unchanged. Smoothed with the measured input ranges
        # when they belong to these layers (a seller's refitted head keeps them valid)
        tuned = quantize_int8(tuned, ranges)
    head = SentimentHead.load(head_path) if tuned is None else None
    severity_head = SeverityHead.load(SEVERITY_HEAD_FILE) if SEVERITY_HEAD_FILE.exists() else None
    if severity_head is not None and settings.severity_bars:
        # a seller who finds level-2/3 cases too noisy (or too few) moves the bars, no retraining
        severity_head = dataclasses.replace(severity_head, min_probability={
            **severity_head.min_probability, **settings.severity_bars})
    aspect_head = AspectHead.load(ASPECT_HEAD_FILE) \
        if tuned is not None and ASPECT_HEAD_FILE.exists() else None
    return ReviewAnalyzer(encoder, head, SeverityClassifier(encoder.embed, head=severity_head),
                          tuned=tuned, tuned_source=tuned_path if tuned is not None else None,
                          quantize=quantize, aspect_head=aspect_head,
                          judgement=settings.judgement)
