"""Files the product writes: chosen by extension, and written atomically (a crash leaves the old
file or none, never half of one)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Callable

import polars as pl

from .errors import InputError

OUTPUT_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def output_format(out: Path) -> str:
    fmt = OUTPUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InputError(f"--out {out}: unsupported output type '{out.suffix}'; "
                         "use .parquet, .csv or .jsonl")
    return fmt


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
    from .export import ISO_WITH_OFFSET, flat_lists

    fmt = output_format(out)
    if fmt == "csv":
        frame = flat_lists(frame)  # aspects: `;`-joined in a CSV cell
    times = [d for d in frame.schema.values() if isinstance(d, pl.Datetime)]
    if fmt == "csv" and times and all(d.time_zone for d in times):
        # times that know their zone are written as 2026-12-14T14:00:00+00:00, not +0000
        def writer(path):
            frame.write_csv(path, datetime_format=ISO_WITH_OFFSET)
    else:
        writer = {"parquet": frame.write_parquet, "csv": frame.write_csv}.get(fmt,
                                                                              frame.write_ndjson)
    _replace_atomically(out, writer)


def write_text_atomic(text: str, out: Path) -> None:
    """Write a UTF-8 text file atomically."""
    _replace_atomically(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
