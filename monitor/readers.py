"""Review files as raw frames of their own columns: the bytes decoded (BOMs, UTF-16, legacy
encodings, stray NUL bytes from broken exporters), CSV separators sniffed, JSON records flattened,
and CSV, TSV, JSONL and Parquet files streamed chunk by chunk so memory does not grow with the
file. What the columns mean is `ingest`'s job; this module only reads.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Iterator

import polars as pl

from .errors import InputError

log = logging.getLogger("monitor")


class IngestError(InputError):
    """A problem with an input file that the user can fix; the message says how."""


# Tried in order on bytes that are not UTF-8; the best-scoring decode wins.
LEGACY_ENCODINGS = ["gb18030", "shift_jis", "big5", "euc_kr", "cp1252", "latin_1"]


def decode_bytes(raw: bytes, source: str) -> tuple[str, str]:
    """Decode file bytes: BOMs, then UTF-8, then the most plausible legacy encoding."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=LEGACY_ENCODINGS).best()
    if best is None:
        raise IngestError(f"{source}: cannot tell the text encoding; save the file as UTF-8 and retry")
    return str(best), best.encoding


def decode_text(raw: bytes, path: Path, kind: str) -> tuple[str, str]:
    """The text of a CSV/TSV/JSON(L) file (or of its first part) and its encoding; refuses empty
    files, PDFs and spreadsheets renamed, and binary data, each with a fix-it message."""
    if not raw.strip():
        raise IngestError(f"{path}: the file is empty; export the reviews again")
    if raw[:5] == b"%PDF-":
        raise IngestError(f"{path}: looks like a PDF or Excel/ZIP file, not {kind.upper()}; "
                          "export the reviews as CSV, JSONL or Excel")
    if raw[:2] == b"PK" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # xlsx / old xls
        raise IngestError(f"{path}: looks like a PDF or Excel/ZIP file, not {kind.upper()}; "
                          "if it is an Excel workbook, name it .xlsx (or .xls)")
    text, encoding = decode_bytes(_strip_stray_nuls(raw, path, kind), str(path))
    if "\r" in text:
        # a bare CR ends a line too (old Mac exports, mixed files); polars would fold the next
        # row into this one's last cell
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:20000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if sample and controls / len(sample) > 0.02:
        raise IngestError(f"{path}: contains binary data, not {kind.upper()} text")
    if b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff")) and "\x00" not in text:
        touched = sum(1 for line in raw.split(b"\n") if b"\x00" in line)
        log.warning("%s: removed %d NUL byte(s) from %d row(s) (a broken export); those rows "
                    "are scored without them", path, raw.count(0), touched)
    return text, encoding


def _strip_stray_nuls(raw: bytes, path: Path, kind: str) -> bytes:
    """UTF-16 without a BOM is recognised; a few stray NUL bytes (broken exporters) are removed;
    many of them mean the file is binary, not text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in raw:
        return raw
    head = raw[:4096]
    if head[1::2].count(0) > 0.4 * len(head[1::2]):
        return b"\xff\xfe" + raw  # UTF-16-LE text without its BOM
    if head[0::2].count(0) > 0.4 * len(head[0::2]):
        return b"\xfe\xff" + raw  # UTF-16-BE
    # scrapers and broken exporters leave NUL bytes in otherwise good text: strip them and say
    # how many rows they touched; a file that is mostly NULs is binary (refused here), and one
    # full of other control bytes is refused after decoding
    if raw.count(0) > max(0.05 * len(raw), 16):
        raise IngestError(f"{path}: contains binary data, not {kind.upper()} text")
    return raw.replace(b"\x00", b"")


def sniff_separator(text: str) -> str:
    head = text.split("\n", 1)[0]
    counts = {sep: head.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def flatten_record(obj, prefix: str = "") -> dict:
    """Nested JSON objects become dotted columns; lists are kept as JSON text."""
    if not isinstance(obj, dict):
        raise IngestError("each JSON record must be an object with named fields")
    out = {}
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_record(v, name + "."))
        elif isinstance(v, list):
            out[name] = json.dumps(v, ensure_ascii=False)
        else:
            out[name] = v
    return out


def jsonl_records(lines, first_line: int) -> tuple[list[dict], list[dict]]:
    """Flattened records of the JSON-object lines; the others as {line, reason, raw}."""
    records, bad = [], []
    for n, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise InputError("not a JSON object")
            records.append(flatten_record(obj))
        except (ValueError, IngestError) as exc:
            reason = str(exc).splitlines()[0][:120] or type(exc).__name__
            bad.append({"line": n, "reason": f"not valid JSON ({reason})", "raw": line[:500]})
    return records, bad


def jsonl_error(path: Path, bad: list[dict]) -> IngestError:
    return IngestError(f"{path}: cannot parse as JSONL (line {bad[0]['line']}: "
                       f"{bad[0]['reason']})")


_SAMPLE_BYTES = 1 << 20

def stream_frames(path: Path, kind: str, chunk_rows: int,
                   bad_lines: list[dict]) -> tuple[Iterator[pl.DataFrame], str]:
    """Raw input frames of `chunk_rows` rows, and the text encoding used."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            reader = pq.ParquetFile(path)
        except Exception as exc:
            raise IngestError(f"{path}: not a readable Parquet file ({type(exc).__name__})") \
                from None
        return (pl.from_arrow(b) for b in reader.iter_batches(batch_size=chunk_rows)), "binary"
    with open(path, "rb") as f:
        sample = f.read(_SAMPLE_BYTES)
    whole_lines = sample[:sample.rfind(b"\n") + 1] or sample  # no character cut in half
    text, encoding = decode_text(whole_lines, path, kind)
    if kind == "jsonl":
        return _jsonl_frames(path, encoding, chunk_rows, bad_lines), encoding
    sep = "\t" if kind == "tsv" else sniff_separator(text)
    return _csv_frames(path, encoding, sep, chunk_rows), encoding


def _lines(path: Path, encoding: str) -> Iterator[str]:
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        for line in f:
            yield line.replace("\x00", "")  # stray NULs from broken exporters


def _csv_frames(path: Path, encoding: str, sep: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
    csv.field_size_limit(1 << 28)  # one review of megabytes is odd, not an error
    reader = csv.reader(_lines(path, encoding), delimiter=sep)
    try:
        header = next(reader)
    except StopIteration:
        return
    if len(set(header)) != len(header):
        raise IngestError(f"{path}: duplicate column names; rename them so each is unique")
    width = len(header)

    def frame(rows: list[list[str]]) -> pl.DataFrame:
        rows = [(r + [""] * width)[:width] for r in rows]  # ragged lines, as the whole-file read
        return pl.DataFrame({name: [r[i] or None for r in rows] for i, name in enumerate(header)},
                            schema={name: pl.String for name in header})

    rows: list[list[str]] = []
    try:
        for row in reader:
            if not row:
                continue
            rows.append(row)
            if len(rows) == chunk_rows:
                yield frame(rows)
                rows = []
    except csv.Error as exc:
        raise IngestError(f"{path}: cannot parse as CSV (line {reader.line_num}: {exc})") from None
    if rows:
        yield frame(rows)


def _jsonl_frames(path: Path, encoding: str, chunk_rows: int,
                  bad_lines: list[dict]) -> Iterator[pl.DataFrame]:
    lines: list[str] = []
    first = 1
    for n, line in enumerate(_lines(path, encoding), 1):
        lines.append(line)
        if len(lines) == chunk_rows:
            records, bad = jsonl_records(lines, first)
            bad_lines.extend(bad)
            yield pl.from_dicts(records, infer_schema_length=None) if records else pl.DataFrame()
            lines, first = [], n + 1
    if lines:
        records, bad = jsonl_records(lines, first)
        bad_lines.extend(bad)
        yield pl.from_dicts(records, infer_schema_length=None) if records else pl.DataFrame()
