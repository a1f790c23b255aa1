"""Watch folder: ingest review files dropped into a folder (what scrapers and exports produce).

Each finished file moves to `done/` (with a one-line summary next to it) or to `failed/` (with
the reason). A file still being written is left alone until its size stops changing.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .batch import Analyzer, ingest_batch
from .cases import CasePolicy
from .ingest import SUPPORTED, IngestError, read_reviews
from .store import Store, StoreError


@dataclass
class WatchResult:
    done: list[str]
    failed: list[str]


def _settled(path: Path, min_age_s: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime >= min_age_s
    except FileNotFoundError:
        return False


def _move(path: Path, folder: Path, note: str) -> None:
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = folder / path.name
    if target.exists():  # the same name dropped twice: keep both
        target = folder / f"{path.stem}-{stamp}{path.suffix}"
    shutil.move(str(path), target)
    target.with_name(target.name + ".txt").write_text(note + "\n", encoding="utf-8")


def process_folder(folder: Path, store: Store, analyzer: Callable[[], Analyzer],
                   model_version: str, policy: CasePolicy | None = None, *,
                   min_age_s: float = 2.0) -> WatchResult:
    """Ingest every settled review file in `folder` once; move it to done/ or failed/."""
    result = WatchResult([], [])
    loaded: list[Analyzer] = []

    def get_analyzer() -> Analyzer:
        if not loaded:
            loaded.append(analyzer())
        return loaded[0]

    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name.startswith(".") or path.suffix.lower() not in SUPPORTED or \
                path.name.endswith(".txt") or not _settled(path, min_age_s):
            continue
        try:
            batch = read_reviews(path)
            summary = ingest_batch(batch, get_analyzer, store, model_version, progress=False,
                                   policy=policy)
        except IngestError as exc:
            _move(path, folder / "failed", f"failed: {exc}")
            result.failed.append(path.name)
            continue
        except StoreError:
            raise  # the database is down: leave the file where it is and stop
        r = summary.result
        _move(path, folder / "done", f"{r.added} added, {r.already_stored} already stored, "
                                     f"{summary.rejected} rejected (empty text), "
                                     f"{r.cases_opened} cases opened, {r.alerts_queued} alerts queued")
        result.done.append(path.name)
    return result
