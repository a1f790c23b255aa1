"""Batch scoring of review files: ingest -> score -> output file or store."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

import polars as pl

from .cases import CasePolicy
from .ingest import INTERNAL_COLUMNS, IngestError, ReviewBatch
from .schema import SCORE_COLUMNS, SCORE_SCHEMA, ReviewScore, needs_response
from .store import AddResult, Store

OUTPUT_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
CHUNK_ROWS = 256


class Analyzer(Protocol):
    def score(self, texts: Sequence[str], *, ratings=None, langs=None) -> list[ReviewScore]: ...


def output_format(out: Path) -> str:
    fmt = OUTPUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise IngestError(f"--out {out}: unsupported output type '{out.suffix}'; "
                          "use .parquet, .csv or .jsonl")
    return fmt


def score_frame(batch: ReviewBatch, analyzer: Analyzer, *, progress: bool = True) -> pl.DataFrame:
    """Score every usable row of `batch`; returns its frame (internal columns included) + scores."""
    frame = batch.frame
    texts = frame["_text"].to_list()
    ratings = frame["_rating"].to_list()
    langs = frame["_lang_given"].to_list()
    scores: list[ReviewScore] = []
    bar = None
    if progress and len(texts) > CHUNK_ROWS:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), unit="review", desc=Path(batch.source).name, file=sys.stderr)
    for start in range(0, len(texts), CHUNK_ROWS):
        end = start + CHUNK_ROWS
        scores.extend(analyzer.score(texts[start:end], ratings=ratings[start:end],
                                     langs=langs[start:end]))
        if bar is not None:
            bar.update(min(end, len(texts)) - start)
    if bar is not None:
        bar.close()
    if "_channel" in frame.columns:  # a message to the seller waits for an answer
        channels = frame["_channel"].to_list()
        scores = [s if ch == "review" else dataclasses.replace(
            s, needs_response=needs_response(s.sentiment, s.severity, r, ch))
            for s, r, ch in zip(scores, ratings, channels)]
    scored = pl.DataFrame([s.as_dict() for s in scores], schema=SCORE_SCHEMA)
    # an input column that shares a score column's name is kept as input_<name>; `lang` is the
    # same notion, already used as the given language, so the scored one replaces it
    clashes = [c for c in SCORE_COLUMNS if c in frame.columns and c != "lang"]
    keep = frame.drop("lang", strict=False).rename({c: f"input_{c}" for c in clashes})
    return pl.concat([keep, scored], how="horizontal")


def public_columns(scored: pl.DataFrame) -> pl.DataFrame:
    """The user-facing output: input columns then score columns, internal ones dropped."""
    return scored.select([c for c in scored.columns if c not in INTERNAL_COLUMNS])


def _replace_atomically(out: Path, write: Callable[[str], None]) -> None:
    """Run `write(temp_path)` beside `out`, then rename it into place: a crash leaves the old
    file or none, never half of one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, out)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        # polars and pyarrow wrap the OS's error (disk full, file too large) in their own
        # exception types; give it back as the OSError it is, naming the file the user asked for
        code = exc.errno if isinstance(exc, OSError) else _os_error_code(str(exc))
        if code:
            raise OSError(code, os.strerror(code), str(out)) from None
        raise


def _os_error_code(message: str) -> int | None:
    match = re.search(r"os error (\d+)|\[Errno (\d+)\]", message)
    return int(match.group(1) or match.group(2)) if match else None


def write_atomic(frame: pl.DataFrame, out: Path) -> None:
    """Write `frame` to `out` by extension (.parquet, .csv, .jsonl), atomically."""
    fmt = output_format(out)
    writer = {"parquet": frame.write_parquet, "csv": frame.write_csv}.get(fmt, frame.write_ndjson)
    _replace_atomically(out, writer)


def _manifest(batches: Sequence[ReviewBatch], chunk_rows: int) -> dict:
    files = []
    for b in batches:
        st = Path(b.source).stat()
        files.append({"path": str(Path(b.source).resolve()), "size": st.st_size,
                      "mtime": int(st.st_mtime), "rows": b.frame.height})
    return {"inputs": files, "chunk_rows": chunk_rows}


def score_to_file(batches: Sequence[ReviewBatch], analyzer: Analyzer | Callable[[], Analyzer],
                  out: Path, *, resume: bool = False, chunk_rows: int = 2048,
                  progress: bool = True) -> int:
    """Score `batches` chunk by chunk into `OUT.parts/`, then assemble OUT atomically.

    Each finished chunk is a committed Parquet part, so an interrupted run (Ctrl-C, kill, crash)
    continues with `resume=True` where it stopped and still ends with exactly one output row per
    input row. `analyzer` may be a factory, called only if some chunk still needs scoring.
    Returns the number of rows written.
    """
    fmt = output_format(out)
    parts_dir = out.with_name(out.name + ".parts")
    manifest = _manifest(batches, chunk_rows)
    manifest_path = parts_dir / "manifest.json"
    if parts_dir.exists():
        if not resume:
            shutil.rmtree(parts_dir)
        elif not manifest_path.exists() or json.loads(manifest_path.read_text()) != manifest:
            raise IngestError(f"{parts_dir} holds parts of a different run (other files or chunk "
                              "size); delete it or run without --resume")
    parts_dir.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest))
    total = sum(b.frame.height for b in batches)
    bar = None
    if progress and total > CHUNK_ROWS:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="review", desc=out.name, file=sys.stderr)
    for bi, batch in enumerate(batches):
        for ci, start in enumerate(range(0, batch.frame.height, chunk_rows)):
            part = parts_dir / f"part-{bi:04d}-{ci:07d}.parquet"
            chunk = batch.frame.slice(start, chunk_rows)
            if not part.exists():
                if not hasattr(analyzer, "score"):
                    analyzer = analyzer()
                sub = ReviewBatch(chunk, batch.rejects.clear(), batch.source, batch.text_column,
                                  batch.columns, batch.encoding)
                write_atomic(public_columns(score_frame(sub, analyzer, progress=False)), part)
            if bar is not None:
                bar.update(chunk.height)
    if bar is not None:
        bar.close()
    parts = sorted(parts_dir.glob("part-*.parquet"))
    frame = (pl.concat([pl.read_parquet(p) for p in parts], how="diagonal_relaxed") if parts
             else pl.DataFrame(schema=SCORE_SCHEMA))
    if fmt == "csv":
        from .export import neutralize_formulas

        frame = neutralize_formulas(frame)  # CSV gets opened in spreadsheets
    write_atomic(frame, out)
    shutil.rmtree(parts_dir)
    return frame.height


def write_text_atomic(text: str, out: Path) -> None:
    """Write a UTF-8 text file atomically."""
    _replace_atomically(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


@dataclass
class IngestSummary:
    rows: int
    rejected: int
    result: AddResult


def store_rows(scored: pl.DataFrame, source: str) -> list[dict]:
    """Scored frame -> the dicts `Store.add_scored` takes."""
    rows = []
    for r in scored.iter_rows(named=True):
        rows.append({
            "review_key": r["_review_key"], "review_id": r["_review_id"],
            "product_id": r["_product_id"], "marketplace": r["_marketplace"],
            "channel": r.get("_channel") or "review",
            "order_id": r["_order_id"], "customer_id": r["_customer_id"], "date": r["_date"],
            "rating": r["_rating"], "title": r["_title"], "text": r["_text"], "source": source,
            **{c: r[c] for c in SCORE_COLUMNS},
        })
    return rows


def ingest_batch(batch: ReviewBatch, analyzer: Analyzer | Callable[[], Analyzer], store: Store,
                 model_version: str, *, progress: bool = True,
                 policy: CasePolicy | None = None) -> IngestSummary:
    """Score the rows of `batch` the store does not hold yet, and store them in one transaction
    (with their cases and alerts when a case `policy` is given). A stored review that comes back
    with another text or rating (the buyer edited it) is re-scored and updated, and its case
    records the outcome. `analyzer` may be a factory, called only if something needs scoring."""
    keys = batch.frame["_review_key"].to_list()
    stored = store.stored_content(keys)
    frame = batch.frame.unique(subset="_review_key", keep="last", maintain_order=True)
    is_new = ~pl.col("_review_key").is_in(list(stored))
    edited_keys = [r["_review_key"] for r in frame.filter(~is_new).iter_rows(named=True)
                   if stored[r["_review_key"]] != (r["_text"], r["_rating"])]
    todo = frame.filter(is_new | pl.col("_review_key").is_in(edited_keys))
    result = AddResult(0, batch.frame.height)
    if todo.height:
        if not hasattr(analyzer, "score"):
            analyzer = analyzer()
        scored = score_frame(ReviewBatch(todo, batch.rejects, batch.source, batch.text_column,
                                         batch.columns, batch.encoding), analyzer, progress=progress)
        rows = store_rows(scored, batch.source)
        edits = [r for r in rows if r["review_key"] in stored]
        added = store.add_scored([r for r in rows if r["review_key"] not in stored],
                                 model_version, policy)
        updated = store.update_edited(edits, model_version) if edits else 0
        result = AddResult(added.added, batch.frame.height - added.added - updated,
                           added.cases_opened, added.alerts_queued, updated)
    return IngestSummary(rows=batch.frame.height, rejected=batch.rejects.height, result=result)
