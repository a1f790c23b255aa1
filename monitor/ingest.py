"""Read review files of any common shape into one normalised polars frame.

Every input column is kept as it was. Internal columns (prefixed `_`) carry what the rest of the
pipeline needs: the review text, a stable key, and parsed product, rating, date, language.
Rows that cannot be used (no text) are set aside with a reason instead of being dropped silently.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

import polars as pl

# the file readers; IngestError is the error every reader raises, importable from here as before
from .readers import (IngestError, decode_text, flatten_record, jsonl_error, jsonl_records,
                      sniff_separator, stream_frames)

SUPPORTED = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
             ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel",
             ".xlsm": "excel", ".xls": "excel"}

TEXT_ALIASES = [
    "text", "review", "review_text", "reviewtext", "review_body", "reviewbody", "body", "content",
    "review_content", "comment", "comments", "message", "feedback", "review text",
    "评论", "评价", "评论内容", "内容", "レビュー", "レビュー本文", "本文", "コメント", "리뷰",
    "kommentar", "bewertung", "rezension", "avis", "commentaire", "reseña", "resena", "comentario",
    "recensione", "commento", "avaliação", "avaliacao", "comentário", "отзыв", "تعليق", "مراجعة",
]
COLUMN_ALIASES: dict[str, list[str]] = {
    "review_id": ["review_id", "id", "reviewid", "review id", "comment_id"],
    "product_id": ["product_id", "asin", "sku", "product", "productid", "item_id", "product id",
                   "parent_asin", "商品id", "商品"],
    "rating": ["rating", "stars", "star_rating", "score", "overall", "star", "review_rating",
               "评分", "星级", "評価"],
    "date": ["date", "created_at", "review_date", "timestamp", "time", "created", "datetime",
             "reviewed_at", "日期", "日付"],
    "title": ["title", "review_title", "summary", "headline", "标题", "タイトル"],
    "lang": ["lang", "language", "language_code", "locale"],
    "marketplace": ["marketplace", "market", "platform", "store", "channel_name", "site"],
    "order_id": ["order_id", "order", "orderid", "order id", "order_number"],
    "customer_id": ["customer_id", "customer", "user_id", "buyer_id", "reviewer_id", "customerid"],
    "channel": ["channel", "message_type", "review_type", "source_type"],
}
# Longest identifiers the store keeps; a longer one is not an id but a broken row.
ID_LIMITS = {"review_id": 200, "product_id": 200, "marketplace": 100, "order_id": 200,
             "customer_id": 200}
# Names exports use for the channels of `schema.CHANNELS`.
CHANNEL_NAMES = {
    "review": "review", "reviews": "review", "rating": "review", "feedback": "review",
    "complaint": "complaint", "complaints": "complaint", "ticket": "complaint",
    "helpdesk": "complaint", "dispute": "complaint", "return": "complaint", "claim": "complaint",
    "chat": "chat", "im": "chat", "message": "chat", "messenger": "chat", "whatsapp": "chat",
    "email": "email", "e-mail": "email", "mail": "email",
}
# Language names seen in exports instead of ISO codes.
LANGUAGE_NAMES = {
    "english": "en", "german": "de", "deutsch": "de", "french": "fr", "français": "fr",
    "francais": "fr", "spanish": "es", "español": "es", "espanol": "es", "italian": "it",
    "italiano": "it", "portuguese": "pt", "português": "pt", "portugues": "pt", "japanese": "ja",
    "日本語": "ja", "chinese": "zh", "中文": "zh", "简体中文": "zh", "繁體中文": "zh", "russian": "ru",
    "русский": "ru", "arabic": "ar", "العربية": "ar", "korean": "ko", "한국어": "ko", "dutch": "nl",
    "nederlands": "nl", "polish": "pl", "polski": "pl", "turkish": "tr", "türkçe": "tr",
    "swedish": "sv", "svenska": "sv", "hindi": "hi", "vietnamese": "vi", "thai": "th",
    "indonesian": "id", "czech": "cs", "greek": "el", "hebrew": "he", "ukrainian": "uk",
}


def normalize_channel(value: str | None) -> str:
    """One of review | complaint | chat | email; anything unknown or missing is a review."""
    return CHANNEL_NAMES.get(str(value).strip().lower(), "review") if value is not None else "review"


_LANG_CODE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")


def normalize_language(value: str | None) -> str | None:
    """ISO 639-1 code from "en", "en-US", "zh_CN", "English" or "日本語"; None if unknown."""
    if value is None:
        return None
    v = str(value).strip().lower()
    if not v:
        return None
    if v in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[v]
    m = _LANG_CODE.match(v)
    return m.group(1)[:2] if m and len(m.group(1)) == 2 else None


# Columns the pipeline adds to every input; an input column with one of these names is kept
# under "input<name>" so nothing the user sent is lost or overwritten.
INTERNAL_COLUMNS = ("_row", "_text", "_review_id", "_product_id", "_rating", "_date", "_lang_given",
                    "_marketplace", "_title", "_order_id", "_customer_id", "_channel", "_review_key",
                    "_reason")


@dataclass
class ReviewBatch:
    """A normalised input: original columns plus internal `_` columns, and the rejected rows."""

    frame: pl.DataFrame
    rejects: pl.DataFrame
    source: str
    text_column: str
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> input column name
    encoding: str = "utf-8"

    @property
    def input_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c not in INTERNAL_COLUMNS]


_NAME_SEPARATORS = re.compile(r"[\s\-_]+")


def _norm_name(name: str) -> str:
    # "Review Content", "review-content" and "review_content" are one name (exports differ)
    return _NAME_SEPARATORS.sub("_", unicodedata.normalize("NFKC", str(name)).strip().lower())


def column_finder(columns: list[str]) -> Callable[[list[str]], str | None]:
    """`find_column` over the same columns for many alias lists, each name normalised once (a
    frame of 100,000 columns is searched for eleven lists)."""
    by_norm: dict[str, str] = {}
    by_leaf: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm_name(c), c)
        if "." in c:
            by_leaf.setdefault(_norm_name(c.rsplit(".", 1)[1]), c)

    def find(aliases: list[str]) -> str | None:
        for table in (by_norm, by_leaf):
            for alias in aliases:
                hit = table.get(_norm_name(alias))
                if hit is not None:
                    return hit
        return None

    return find


def find_column(columns: list[str], aliases: list[str]) -> str | None:
    """The first column whose normalised name is one of `aliases` (in alias order); nested JSON
    fields flattened to dotted names ("review.body") match on their last part too."""
    return column_finder(columns)(aliases)


def read_table(path: Path, bad_lines: list[dict] | None = None) -> tuple[pl.DataFrame, str]:
    """Any supported file as a frame of its own columns, with the text encoding used.

    JSONL lines that are not JSON objects are skipped and described in `bad_lines` (line,
    reason, raw text) when it is given; a file with no good line at all is an error."""
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise IngestError(f"{path}: unsupported file type '{path.suffix}'; use .csv, .tsv, .jsonl, "
                          ".json, .parquet or .xlsx")
    if not path.exists():
        raise IngestError(f"{path}: file not found")
    if path.is_dir():
        raise IngestError(f"{path}: is a folder; give the review files inside it")
    if kind == "parquet":
        try:
            return pl.read_parquet(path), "binary"
        except Exception as exc:
            raise IngestError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
    if kind == "excel":
        return read_spreadsheet(path), "binary"
    text, encoding = decode_text(path.read_bytes(), path, kind)
    try:
        if kind in ("csv", "tsv"):
            sep = "\t" if kind == "tsv" else sniff_separator(text)
            df = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False,
                             truncate_ragged_lines=True)
        elif kind == "jsonl":
            records, bad = jsonl_records(text.splitlines(), 1)
            if bad and (not records or bad_lines is None):
                raise jsonl_error(path, bad)
            if bad_lines is not None:
                bad_lines.extend(bad)
            df = pl.from_dicts(records, infer_schema_length=None)
        else:
            data = json.loads(text)
            if isinstance(data, dict):  # {"reviews": [...]} and similar wrappers
                lists = [v for v in data.values() if isinstance(v, list)]
                data = lists[0] if lists else [data]
            df = pl.from_dicts([flatten_record(r) for r in data], infer_schema_length=None)
    except IngestError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise IngestError(f"{path}: cannot parse as {kind.upper()} ({first})") from None
    return df, encoding


def expand_inputs(inputs: Sequence[str | Path], exclude: Sequence[Path] = ()) -> list[Path]:
    """Input paths with glob patterns ("exports/*.csv", "dumps/**/*.jsonl") expanded in sorted
    order, for shells that pass them on unexpanded (a quoted pattern, Windows) and for more
    files than a command line holds. A pattern that matches no file is an error; `exclude` (the
    output file) is never an input, even when the pattern matches it."""
    import glob

    skip = {Path(p).resolve() for p in exclude}
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.exists() or not glob.has_magic(str(item)):
            out.append(path)
            continue
        matches = [Path(m) for m in sorted(glob.glob(str(item), recursive=True))
                   if Path(m).is_file() and Path(m).resolve() not in skip]
        if not matches:
            raise IngestError(f"{item}: no files match this pattern")
        out.extend(matches)
    return list(dict.fromkeys(out))


def read_spreadsheet(path: Path) -> pl.DataFrame:
    """The reviews sheet of an Excel workbook (marketplace exports: AliExpress, Amazon reports),
    every cell as text, as a CSV would be read: the first sheet with a review text column, else
    the first sheet (whose missing text column is then reported like a CSV's)."""
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: the file is empty; export the reviews again")
    try:
        sheets = pl.read_excel(path, sheet_id=0, infer_schema_length=0, raise_if_empty=False)
    except ModuleNotFoundError:
        raise IngestError(f"{path}: reading Excel needs the fastexcel package (pip install "
                          "fastexcel), or save the sheet as CSV") from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise IngestError(f"{path}: not a readable Excel workbook ({first}); save the sheet as "
                          "CSV and retry") from None
    frames = [df for df in sheets.values() if df.width]
    if not frames:
        raise IngestError(f"{path}: every sheet is empty; export the reviews again")
    return next((df for df in frames if find_column(df.columns, TEXT_ALIASES)), frames[0])


_STARS = re.compile(r"^[★☆✩✭⭐]+$")
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/\s*(\d+(?:[.,]\d+)?))?")


def parse_rating(value) -> float | None:
    """Star rating from 4, "4.0", "4,0", "4/5", "8/10", "★★★★☆" or "4 stars"; None if unusable."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        v = float(value)
        return v if 0 < v <= 5 else None
    s = str(value).strip()
    if not s:
        return None
    if _STARS.match(s):
        return float(sum(ch in "★✭⭐" for ch in s)) or None
    m = _NUMBER.match(s)
    if not m:
        return None
    v = float(m.group(1).replace(",", "."))
    if m.group(2):
        scale = float(m.group(2).replace(",", "."))
        v = v / scale * 5 if scale > 0 else 0
    return round(v, 2) if 0 < v <= 5 else None


_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d",
                 "%Y年%m月%d日", "%d %B %Y", "%B %d, %Y", "%b %d, %Y", "%d %b %Y"]


def parse_date(value) -> datetime | None:
    """A UTC datetime from ISO 8601 (with or without zone), common day formats or epoch seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (int, float)):
        v = float(value)
        v = v / 1000 if v > 1e11 else v  # milliseconds
        if not 0 < v < 4_102_444_800:  # epoch seconds up to 2100; anything else is not a date
            return None
        return datetime.fromtimestamp(v, tz=timezone.utc).replace(tzinfo=None)
    s = str(value).strip()
    if not s:
        return None
    if s.isdigit() and len(s) >= 9:
        return parse_date(int(s))
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    return None


def review_key(review_id: str | None, product_id: str | None, text: str, date: str | None) -> str:
    """Stable identity of a review: its given id, else a hash of product + text + date."""
    if review_id not in (None, ""):
        basis = f"id\x1f{review_id}"
    else:
        basis = f"h\x1f{product_id or ''}\x1f{text.strip()}\x1f{date or ''}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _as_str(series: pl.Series) -> pl.Series:
    return series.cast(pl.String, strict=False) if series.dtype != pl.String else series


def read_reviews(path: str | Path, text_column: str | None = None) -> ReviewBatch:
    """Read one file into a `ReviewBatch`; raises `IngestError` with a fix-it message."""
    path = Path(path)
    bad: list[dict] = []
    df, encoding = read_table(path, bad)
    batch = normalize_reviews(df, str(path), text_column=text_column, encoding=encoding)
    return with_bad_lines(batch, bad)


def with_bad_lines(batch: ReviewBatch, bad: list[dict]) -> ReviewBatch:
    """Add lines that could not be parsed to the batch's rejects, each with its reason."""
    if not bad:
        return batch
    lines = pl.DataFrame({"_reason": [f"line {b['line']}: {b['reason']}" for b in bad],
                          "raw_line": [b["raw"] for b in bad]})
    rejects = pl.concat([batch.rejects, lines], how="diagonal_relaxed")
    return ReviewBatch(batch.frame, rejects, batch.source, batch.text_column, batch.columns,
                       batch.encoding)


def reviews_from_records(records: list[dict], source: str) -> ReviewBatch:
    """JSON records (an API request) into a `ReviewBatch`, with the same names as files."""
    if not records:
        raise IngestError(f"{source}: no reviews in the request")
    flat = [flatten_record(r) for r in records]
    try:
        df = pl.from_dicts(flat, infer_schema_length=None)
    except Exception:  # one record's id is a number, another's text: read all as text, as CSV
        df = pl.from_dicts([{k: _as_text(v) for k, v in r.items()} for r in flat],
                           infer_schema_length=None)
    return normalize_reviews(df, source)


def _as_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def normalize_reviews(df: pl.DataFrame, source: str, *, text_column: str | None = None,
                      encoding: str = "utf-8") -> ReviewBatch:
    """A frame of any review export -> `ReviewBatch` (text found, keys made, fields parsed)."""
    path = source
    clashes = {c: f"input{c}" for c in df.columns if c in INTERNAL_COLUMNS}
    if clashes:
        df = df.rename(clashes)
    if df.height == 0:
        raise IngestError(f"{path}: has a header but no review rows")
    if len(set(df.columns)) != len(df.columns):
        raise IngestError(f"{path}: duplicate column names; rename them so each is unique")
    if text_column:
        if text_column not in df.columns:
            raise IngestError(f"{path}: --text-column '{text_column}' not found; columns are: "
                              + ", ".join(df.columns[:20]))
        text_col = text_column
    else:
        text_col = find_column(df.columns, TEXT_ALIASES)
        if text_col is None:
            raise IngestError(f"{path}: no review text column found among: "
                              + ", ".join(df.columns[:20]) + "; name it 'text' or pass --text-column")
    find = column_finder([c for c in df.columns if c != text_col])
    found = {canon: col for canon, aliases in COLUMN_ALIASES.items() if (col := find(aliases))}

    def column(canon: str) -> list:
        return _as_str(df[found[canon]]).to_list() if canon in found else [None] * df.height

    texts = [t if t is None else t.replace("\x00", "") for t in _as_str(df[text_col]).to_list()]
    ids, products, dates_raw = column("review_id"), column("product_id"), column("date")
    ratings_raw = df[found["rating"]].to_list() if "rating" in found else [None] * df.height
    internal = pl.DataFrame({
        "_row": list(range(df.height)),
        "_text": texts,
        "_review_id": ids,
        "_product_id": products,
        "_rating": [parse_rating(r) for r in ratings_raw],
        "_date": [parse_date(d) for d in dates_raw],
        "_lang_given": [normalize_language(x) for x in column("lang")],
        "_marketplace": column("marketplace"),
        "_title": column("title"),
        "_order_id": column("order_id"),
        "_customer_id": column("customer_id"),
        "_channel": [normalize_channel(x) for x in column("channel")],
        "_review_key": [review_key(i, p, t or "", d) for i, p, t, d in
                        zip(ids, products, texts, dates_raw)],
    }, schema_overrides={"_date": pl.Datetime("us"), "_rating": pl.Float64,
                         **{c: pl.String for c in ("_text", "_review_id", "_product_id",
                                                   "_lang_given", "_marketplace", "_title",
                                                   "_order_id", "_customer_id")}})
    full = pl.concat([df, internal], how="horizontal")
    reason = pl.when(pl.col("_text").is_null() | (pl.col("_text").str.strip_chars() == "")) \
        .then(pl.lit("empty review text"))
    for field_name, limit in ID_LIMITS.items():  # what the store's columns hold
        reason = reason.when(pl.col(f"_{field_name}").str.len_chars() > limit) \
            .then(pl.lit(f"{field_name} longer than {limit} characters"))
    full = full.with_columns(reason.otherwise(None).alias("_reason"))
    usable = pl.col("_reason").is_null()
    rejects = full.filter(~usable)
    return ReviewBatch(frame=full.filter(usable).drop("_reason"), rejects=rejects, source=source,
                       text_column=text_col, columns=found, encoding=encoding)


# Files at least this big are streamed chunk by chunk (flat memory); smaller ones are read whole,
# which allows a few more repairs (mixed encodings in one file, a stray BOM in the middle).
# None: MONITOR_STREAM_MIN_MB, read when a file is opened (a bad value is a one-line error then,
# not a traceback at import); tests set a number here
STREAM_MIN_BYTES: int | None = None


def stream_min_bytes() -> int:
    """Files of at least this many bytes are streamed (MONITOR_STREAM_MIN_MB, default 64)."""
    if STREAM_MIN_BYTES is not None:
        return STREAM_MIN_BYTES
    from .settings import env_number

    return int(env_number("MONITOR_STREAM_MIN_MB", 64, low=0, high=1e6,
                          meaning="input files this big or bigger are streamed") * 2**20)


def iter_reviews(path: str | Path, *, chunk_rows: int = 2048,
                 text_column: str | None = None) -> Iterator[ReviewBatch]:
    """One file as `ReviewBatch` chunks of at most `chunk_rows` rows, in file order.

    CSV, TSV, JSONL and Parquet files of `stream_min_bytes()` or more are streamed, so memory does
    not grow with the file; smaller files, JSON arrays and Excel workbooks (at most about a
    million rows a sheet) are read whole and sliced. `_row`
    counts rows from the start of the file either way; each chunk carries its own rejects."""
    path = Path(path)
    kind = SUPPORTED.get(path.suffix.lower())
    if kind in ("json", "excel") or kind is None or not path.is_file() \
            or path.stat().st_size < stream_min_bytes():
        yield from slice_batch(read_reviews(path, text_column), chunk_rows)  # + fix-it errors
        return
    offset = 0
    bad: list[dict] = []
    frames, encoding = stream_frames(path, kind, chunk_rows, bad)
    for raw in frames:
        if raw.height == 0:
            continue
        batch = normalize_reviews(raw, str(path), text_column=text_column, encoding=encoding)
        shift = pl.col("_row") + offset
        batch = ReviewBatch(batch.frame.with_columns(shift), batch.rejects.with_columns(shift),
                            batch.source, batch.text_column, batch.columns, batch.encoding)
        yield with_bad_lines(batch, bad)
        bad.clear()
        offset += raw.height
    if offset == 0:
        if bad:
            raise jsonl_error(path, bad)
        raise IngestError(f"{path}: has a header but no review rows")
    if bad:  # bad lines after the last good one
        last = ReviewBatch(batch.frame.clear(), batch.rejects.clear(), batch.source,
                           batch.text_column, batch.columns, batch.encoding)
        yield with_bad_lines(last, bad)


def slice_batch(batch: ReviewBatch, chunk_rows: int) -> Iterator[ReviewBatch]:
    """A batch read whole, as chunks of `chunk_rows` rows; its rejects travel with the first."""
    for start in range(0, max(batch.frame.height, 1), chunk_rows):
        yield ReviewBatch(batch.frame.slice(start, chunk_rows),
                          batch.rejects if start == 0 else batch.rejects.clear(),
                          batch.source, batch.text_column, batch.columns, batch.encoding)


