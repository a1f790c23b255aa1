"""What every `monitor` command shares: errors a user can fix become one line and exit code 2."""

from __future__ import annotations

import errno
import functools
import os
from pathlib import Path
from typing import Callable

import typer

from .errors import MonitorError

# a user can fix these; anything else is a bug and keeps its traceback
USER_ERRORS = (MonitorError, OSError)


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def user_errors(fn: Callable) -> Callable:
    """Turn errors a user can cause into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            if os.environ.get("MONITOR_DEBUG"):
                raise
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                where = f" writing {exc.filename}" if exc.filename else ""
                msg = (f"out of disk space{where} ({exc.strerror}); nothing was left "
                       "half-written: free space, then rerun (`monitor score` with --resume "
                       "keeps its finished chunks)")
            fail(msg)
        except KeyboardInterrupt:
            typer.echo("interrupted: nothing was left half-written (a `monitor score` run "
                       "continues from its finished chunks with --resume)", err=True)
            raise typer.Exit(130)

    return wrapper


def echo_table(columns: list[tuple[str, int]], rows: list[list[str]]) -> None:
    """A plain table for a terminal: (header, width) per column, the last one as wide as it
    needs; a negative width right-aligns (ids)."""
    def line(cells: list[str]) -> str:
        parts = [f"{c:>{-w}}" if w < 0 else f"{c:<{w}}" for c, (_, w) in zip(cells, columns[:-1])]
        return " ".join(parts + [cells[-1]])

    typer.echo(line([h for h, _ in columns]))
    for row in rows:
        typer.echo(line(row))


def write_out(frame, out, noun: str) -> None:
    """Write a listing to `out` (.csv spreadsheet-safe, .parquet, .jsonl) and say so on stderr."""
    from .batch import output_format, write_atomic
    from .export import neutralize_formulas

    write_atomic(neutralize_formulas(frame) if output_format(out) == "csv" else frame, out)
    typer.echo(f"{frame.height} {noun} -> {out}", err=True)


def write_rejects(frames: list, rejects_path: Path | None) -> None:
    """Say how many rows were unusable and why; write them to `rejects_path` if given."""
    import polars as pl

    from .batch import write_atomic
    from .ingest import INTERNAL_COLUMNS

    frames = [f for f in frames if f.height]
    if not frames or rejects_path is None:
        return
    keep = set(INTERNAL_COLUMNS) - {"_reason", "_source"}
    frame = pl.concat([f.select([c for c in f.columns if c not in keep]) for f in frames],
                      how="diagonal_relaxed")
    write_atomic(frame.rename({"_reason": "reason", "_source": "source"}), rejects_path)
    typer.echo(f"{frame.height} rejected rows written to {rejects_path}", err=True)
