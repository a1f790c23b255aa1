"""`monitor score --engine ray`: the same scoring through Ray Data, on this machine or a cluster.

Parquet inputs are read by Ray itself (`ray.data.read_parquet`, split across the cluster); CSV,
TSV, JSON and JSONL go through the local reader first, because encoding detection and nested JSON
flattening happen there, and are handed to Ray as Arrow blocks. Each block is normalised and
scored by `map_batches` on a pool of actors that load the model once each (one GPU per actor
where the cluster has GPUs). Output columns and values are those of the local engine.

Needs the optional extra: `pip install -e '.[scale]'`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import polars as pl

from .ingest import IngestError, normalize_reviews, read_table


class ScoringActor:
    """Loads the analyzer once; scores one Arrow block of raw input rows per call."""

    def __init__(self, analyzer_factory: Callable, text_column: str | None, source: str):
        self.analyzer = analyzer_factory()
        self.text_column, self.source = text_column, source

    def __call__(self, block):
        from .batch import public_columns, score_frame

        frame = pl.from_arrow(block)
        if frame.height == 0:
            return block
        batch = normalize_reviews(frame, self.source, text_column=self.text_column)
        return public_columns(score_frame(batch, self.analyzer, progress=False)).to_arrow()


def _default_factory(device: str | None) -> Callable:
    def build():
        from .scoring import create_analyzer

        return create_analyzer(device=device)
    return build


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


def score_with_ray(inputs: Sequence[Path], out: Path, *, address: str | None = None,
                   text_column: str | None = None, device: str | None = None,
                   block_rows: int = 2048, actors: int | None = None,
                   analyzer_factory: Callable | None = None) -> int:
    """Score `inputs` on Ray (a local one, or the cluster at `address`) into `out`, atomically.
    Returns the number of rows written."""
    if not ray_available():
        raise IngestError("--engine ray needs Ray: pip install -e '.[scale]' (or use the "
                          "default local engine)")
    import ray

    from .batch import output_format, write_atomic

    output_format(out)
    factory = analyzer_factory or _default_factory(device)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline machines: no phoning home
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise IngestError(f"cannot start or reach Ray at {address or 'this machine'}: "
                              f"{str(exc).splitlines()[0]}") from None
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # output rows in input order, like local
    ctx.enable_progress_bars = False
    gpus = ray.cluster_resources().get("GPU", 0)
    pool = actors or max(1, int(gpus) if gpus and device != "cpu" else
                         int(ray.cluster_resources().get("CPU", 1)) // 2)
    frames = []
    for path in inputs:
        path = Path(path)
        if path.suffix.lower() in (".parquet", ".pq"):
            if not path.exists():
                raise IngestError(f"{path}: file not found")
            ds = ray.data.read_parquet(str(path))
        else:
            raw, _encoding = read_table(path)
            normalize_reviews(raw, str(path), text_column=text_column)  # fail fast, here
            ds = ray.data.from_arrow(raw.to_arrow())
        scored = ds.map_batches(
            ScoringActor, batch_size=block_rows, batch_format="pyarrow",
            fn_constructor_args=(factory, text_column, str(path)), concurrency=pool,
            num_gpus=1 if gpus and device != "cpu" else 0,
            num_cpus=0 if gpus and device != "cpu" else 1)
        for block in scored.iter_batches(batch_format="pyarrow", batch_size=None):
            frames.append(pl.from_arrow(block))
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    if output_format(out) == "csv":
        from .export import neutralize_formulas

        frame = neutralize_formulas(frame)
    write_atomic(frame, out)
    return frame.height
