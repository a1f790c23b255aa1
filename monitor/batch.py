"""Batch scoring of review files: ingest -> score -> output file or store."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

import polars as pl

from .cases import CasePolicy
from .ingest import INTERNAL_COLUMNS, IngestError, ReviewBatch, iter_reviews, slice_batch
from .schema import SCORE_COLUMNS, SCORE_SCHEMA, ReviewScore, needs_response
from .files import (OUTPUT_FORMATS, _replace_atomically, output_format,  # noqa: F401
                    write_atomic, write_text_atomic)
from .store import AddResult, Store

CHUNK_ROWS = 256
INGEST_CHUNK_ROWS = 5000  # rows stored per transaction by `monitor ingest`


class Analyzer(Protocol):
    def score(self, texts: Sequence[str], *, ratings=None, langs=None) -> list[ReviewScore]: ...


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
            s, needs_response=s.needs_response or needs_response(s.sentiment, s.severity, r, ch))
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


def _manifest(inputs: Sequence, chunk_rows: int, dedup: bool) -> dict:
    files = []
    for item in inputs:
        source = item.source if isinstance(item, ReviewBatch) else str(item)
        entry: dict = {"path": str(Path(source).resolve())}
        try:
            st = Path(source).stat()
            entry.update(size=st.st_size, mtime=int(st.st_mtime))
        except OSError:
            pass
        if isinstance(item, ReviewBatch):
            entry["rows"] = item.frame.height
        files.append(entry)
    return {"inputs": files, "chunk_rows": chunk_rows, "dedup": dedup}


def _chunks(item, chunk_rows: int, text_column: str | None) -> Iterator[ReviewBatch]:
    if isinstance(item, ReviewBatch):
        return slice_batch(item, chunk_rows)
    return iter_reviews(item, chunk_rows=chunk_rows, text_column=text_column)


@dataclass
class ScoreSummary:
    """What one `monitor score` run did."""

    rows: int = 0  # rows written
    read: int = 0  # usable input rows read
    rejects: list[pl.DataFrame] = field(default_factory=list)  # unusable rows, with `_reason`
    duplicates: int = 0  # rows repeating an earlier review key (scrapers repeat pages)
    dropped: int = 0  # of those, left out of the output (--dedup)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return sum(r.height for r in self.rejects)

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.rejects:
            kinds = r.select(pl.col("_reason").str.replace(r"^line \d+: ", "")
                             .str.replace(r" \(.*\)$", ""))  # "not valid JSON", not each line
            for reason, n in kinds.group_by("_reason").len().iter_rows():
                counts[reason] = counts.get(reason, 0) + n
        return counts

    def line(self) -> str:
        rate = self.read / self.seconds if self.seconds else 0.0
        shown = f"{rate:.0f}" if rate >= 10 else f"{rate:.2g}"  # a small file: not "0/s"
        parts = [f"scored {self.read} reviews in {self.seconds:.1f} s ({shown}/s), "
                 f"wrote {self.rows}"]
        if self.rejected:
            why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.reasons().items()))
            parts.append(f"skipped {self.rejected} unusable rows ({why})")
        if self.duplicates:
            parts.append(f"{self.duplicates} rows repeat an earlier review (same key)"
                         + (", left out" if self.dropped else "; --dedup leaves them out"))
        return "; ".join(parts)


class Progress:
    """A progress bar with rows/s and ETA on a terminal; a plain line every `every_s` seconds
    otherwise (logs of a scheduled job)."""

    def __init__(self, total: int | None, label: str, enabled: bool, every_s: float = 30.0):
        self.enabled, self.total, self.label, self.every_s = enabled, total, label, every_s
        self.done, self.started, self.last = 0, time.monotonic(), time.monotonic()
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="review", desc=label, file=sys.stderr)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            rate = self.done / max(self.last - self.started, 1e-9)
            eta = (f", about {(self.total - self.done) / rate:.0f} s left"
                   if self.total and rate and self.total > self.done else "")
            print(f"{self.label}: {self.done} reviews, {rate:.0f}/s{eta}", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def score_to_file(inputs: Sequence[ReviewBatch | Path | str],
                  analyzer: Analyzer | Callable[[], Analyzer], out: Path, *,
                  resume: bool = False, chunk_rows: int = 2048, progress: bool = True,
                  dedup: bool = False, text_column: str | None = None) -> ScoreSummary:
    """Score `inputs` (files, streamed chunk by chunk, or batches already read) into
    `OUT.parts/`, then assemble OUT atomically, part by part, so memory stays flat.

    Each finished chunk is a committed Parquet part, so an interrupted run (Ctrl-C, kill, crash)
    continues with `resume=True` where it stopped and still ends with exactly one output row per
    input row. Rows repeating an earlier review key are counted, and left out with `dedup`.
    `analyzer` may be a factory, called only if some chunk still needs scoring.
    """
    fmt = output_format(out)
    started = time.monotonic()
    parts_dir = out.with_name(out.name + ".parts")
    manifest = _manifest(inputs, chunk_rows, dedup)
    manifest_path = parts_dir / "manifest.json"
    if parts_dir.exists():
        if not resume:
            shutil.rmtree(parts_dir)
        elif not manifest_path.exists() or json.loads(manifest_path.read_text()) != manifest:
            raise IngestError(f"{parts_dir} holds parts of a different run (other files or chunk "
                              "size); delete it or run without --resume")
    parts_dir.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest))
    summary = ScoreSummary()
    bar = Progress(sum(estimate_rows(i) or 0 for i in inputs) or None, out.name, progress)
    seen: set[int] = set()  # 64 bits of each review key: ~60 bytes per distinct review
    for bi, item in enumerate(inputs):
        for ci, chunk in enumerate(_chunks(item, chunk_rows, text_column)):
            if chunk.rejects.height:
                summary.rejects.append(chunk.rejects.with_columns(
                    pl.lit(chunk.source).alias("_source")))
            keys = [int(k[:16], 16) for k in chunk.frame["_review_key"].to_list()]
            first = []
            for k in keys:
                first.append(k not in seen)
                seen.add(k)
            repeats = first.count(False)
            summary.duplicates += repeats
            summary.read += chunk.frame.height
            frame = chunk.frame
            if dedup and repeats:
                frame = frame.filter(pl.Series(first))
                summary.dropped += repeats
            part = parts_dir / f"part-{bi:04d}-{ci:07d}.parquet"
            if not part.exists():
                if not hasattr(analyzer, "score"):
                    analyzer = _load_or_clean_up(analyzer, parts_dir)
                sub = ReviewBatch(frame, chunk.rejects.clear(), chunk.source, chunk.text_column,
                                  chunk.columns, chunk.encoding)
                write_atomic(public_columns(score_frame(sub, analyzer, progress=False)), part)
            bar.update(chunk.frame.height)
    bar.close()
    summary.rows = _assemble(sorted(parts_dir.glob("part-*.parquet")), out, fmt)
    shutil.rmtree(parts_dir)
    summary.seconds = time.monotonic() - started
    return summary


def _load_or_clean_up(factory: Callable[[], Analyzer], parts_dir: Path) -> Analyzer:
    """Build the analyzer; if that fails before any part was scored, leave no parts folder
    behind (there is nothing to resume, only a manifest)."""
    try:
        return factory()
    except BaseException:
        if not any(parts_dir.glob("part-*.parquet")):
            shutil.rmtree(parts_dir, ignore_errors=True)
        raise


def estimate_rows(item) -> int | None:
    """Rows in an input, exact for batches and Parquet, estimated from the first MB otherwise
    (for the progress bar's ETA)."""
    if isinstance(item, ReviewBatch):
        return item.frame.height
    path = Path(item)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        size = path.stat().st_size
        with open(path, "rb") as f:
            sample = f.read(1 << 20)
    except Exception:  # the reader reports unreadable files properly
        return None
    lines = sample.count(b"\n")
    return int(size / (len(sample) / lines)) if lines else None


def _assemble(parts: list[Path], out: Path, fmt: str) -> int:
    """Concatenate the parts into OUT one part at a time (atomically): columns in order of first
    appearance, each with the type its parts agree on (text where they disagree)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, pa.DataType] = {}
    for part in parts:
        for f in pq.read_schema(part):
            have = columns.get(f.name)
            if have is None or pa.types.is_null(have):
                columns[f.name] = f.type
            elif not pa.types.is_null(f.type) and f.type != have:
                columns[f.name] = pa.string()
    schema = pa.schema([(name, pa.string() if pa.types.is_null(t) else t)
                        for name, t in columns.items()])
    if not parts:  # nothing usable in the input: an output with just the score columns
        schema = pl.DataFrame(schema=SCORE_SCHEMA).to_arrow().schema

    def aligned(part: Path) -> pa.Table:
        table = pq.read_table(part)
        arrays = [table[name].cast(schema.field(name).type) if name in table.column_names
                  else pa.nulls(table.num_rows, schema.field(name).type) for name in schema.names]
        return pa.Table.from_arrays(arrays, schema=schema)

    rows = 0

    def write(tmp: str) -> None:
        nonlocal rows
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, schema) as writer:
                for part in parts:
                    table = aligned(part)
                    rows += table.num_rows
                    writer.write_table(table)
            if not parts:
                pq.write_table(schema.empty_table(), tmp)
            return
        from .export import flat_lists, neutralize_formulas

        with open(tmp, "wb") as f:
            if not parts and fmt == "csv":
                pl.from_arrow(schema.empty_table()).write_csv(f)
            for i, part in enumerate(parts):
                frame = pl.from_arrow(aligned(part))
                rows += frame.height
                if fmt == "csv":  # CSV gets opened in spreadsheets
                    neutralize_formulas(flat_lists(frame)).write_csv(f, include_header=i == 0)
                else:
                    frame.write_ndjson(f)

    _replace_atomically(out, write)
    return rows


@dataclass
class IngestSummary:
    rows: int
    rejected: int
    result: AddResult
    known: frozenset[str] = frozenset()  # keys of the batch the store held before
    # the reviews this call inserted, as stored (store_rows' dicts plus their case_id): what
    # the API answers with, without reading them back
    written: dict[str, dict] = field(default_factory=dict, repr=False)


@dataclass
class FileIngestSummary:
    """What storing one review file did (`ingest_file`)."""

    path: str
    added: int = 0
    edited: int = 0
    already_stored: int = 0
    rejected: int = 0
    cases_opened: int = 0
    alerts_queued: int = 0

    def line(self) -> str:
        return (f"{self.path}: {self.added} added" + (f", {self.edited} edited" if self.edited
                                                     else "")
                + f", {self.already_stored} already stored, {self.rejected} rejected; "
                f"{self.cases_opened} cases opened, {self.alerts_queued} alerts queued")


def ingest_file(path: str | Path, analyzer: Analyzer | Callable[[], Analyzer], store: Store,
                model_version: str, *, policy: CasePolicy | None = None,
                text_column: str | None = None, name: str | None = None,
                on_rows: Callable[[int], None] | None = None,
                chunk_rows: int | None = None) -> FileIngestSummary:
    """Score and store one review file, one transaction per chunk: a big file neither sits in
    memory nor holds the database's write lock for minutes, and a rerun after a crash skips
    what is stored. `name` is how the summary names the file; `on_rows(n)` follows progress
    (called after each chunk of `chunk_rows`, default INGEST_CHUNK_ROWS, is stored)."""
    from .ingest import iter_reviews

    total = FileIngestSummary(name or str(path))
    for batch in iter_reviews(path, chunk_rows=chunk_rows or INGEST_CHUNK_ROWS,
                              text_column=text_column):
        summary = ingest_batch(batch, analyzer, store, model_version, progress=False,
                               policy=policy)
        r = summary.result
        total.added += r.added
        total.edited += r.updated
        total.already_stored += r.already_stored
        total.rejected += summary.rejected
        total.cases_opened += r.cases_opened
        total.alerts_queued += r.alerts_queued
        if on_rows:
            on_rows(batch.frame.height)
    return total


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
    written: dict[str, dict] = {}
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
        written = {r["review_key"]: {**r, "case_id": added.inserted[r["review_key"]]}
                   for r in rows if r["review_key"] in added.inserted}
    return IngestSummary(rows=batch.frame.height, rejected=batch.rejects.height, result=result,
                         known=frozenset(stored), written=written)
