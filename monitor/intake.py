"""The intake API's workers: the micro-batching scorer (one thread, one model pass per batch),
the alert loop, and the counters behind /metrics."""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable

from .alerts import AlertSettings, alert_round
from .api_models import EMPTY_RESULT, SCORE_FIELDS_OUT
from .batch import Analyzer, ingest_batch
from .cases import CasePolicy
from .ingest import reviews_from_records
from .store import Store


@dataclass
class Metrics:
    """Counters and a latency histogram, written out in Prometheus text format."""

    requests: dict[tuple[str, int], int] = field(default_factory=dict)
    buckets: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
    latency_counts: list[int] = field(default_factory=lambda: [0] * 10)
    latency_sum: float = 0.0
    reviews_scored: int = 0
    batches: int = 0  # micro-batches the intake worker ran
    batch_requests: int = 0  # requests they held (mean batch = this / batches)
    busy_seconds: float = 0.0  # time the worker spent on them (its share of wall time)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, path: str, status: int) -> None:
        with self.lock:
            self.requests[(path, status)] = self.requests.get((path, status), 0) + 1

    def scored(self, n: int, seconds: float) -> None:
        with self.lock:
            self.reviews_scored += n
            self.latency_sum += seconds
            idx = next((i for i, b in enumerate(self.buckets) if seconds <= b), len(self.buckets))
            self.latency_counts[idx] += 1

    def batch(self, requests: int, seconds: float) -> None:
        with self.lock:
            self.batches += 1
            self.batch_requests += requests
            self.busy_seconds += seconds

    def render(self, queue_depth: int, alerts: dict[str, int]) -> str:
        lines = ["# TYPE monitor_requests_total counter"]
        with self.lock:
            for (path, status), n in sorted(self.requests.items()):
                lines.append(f'monitor_requests_total{{path="{path}",status="{status}"}} {n}')
            lines.append("# TYPE monitor_scoring_seconds histogram")
            cumulative = 0
            for b, n in zip(self.buckets, self.latency_counts):
                cumulative += n
                lines.append(f'monitor_scoring_seconds_bucket{{le="{b}"}} {cumulative}')
            total = sum(self.latency_counts)
            lines.append(f'monitor_scoring_seconds_bucket{{le="+Inf"}} {total}')
            lines.append(f"monitor_scoring_seconds_sum {self.latency_sum:.6f}")
            lines.append(f"monitor_scoring_seconds_count {total}")
            lines.append("# TYPE monitor_reviews_scored_total counter")
            lines.append(f"monitor_reviews_scored_total {self.reviews_scored}")
            lines.append("# TYPE monitor_microbatches_total counter")
            lines.append(f"monitor_microbatches_total {self.batches}")
            lines.append("# TYPE monitor_microbatch_requests_total counter")
            lines.append(f"monitor_microbatch_requests_total {self.batch_requests}")
            lines.append("# TYPE monitor_worker_busy_seconds_total counter")
            lines.append(f"monitor_worker_busy_seconds_total {self.busy_seconds:.6f}")
        lines.append("# TYPE monitor_queue_depth gauge")
        lines.append(f"monitor_queue_depth {queue_depth}")
        lines.append("# TYPE monitor_alerts gauge")
        for status in ("pending", "delivered", "dead"):
            lines.append(f'monitor_alerts{{status="{status}"}} {alerts.get(status, 0)}')
        return "\n".join(lines) + "\n"


class IntakeWorker:
    """One thread that scores and stores what the API receives, in micro-batches."""

    def __init__(self, store: Store, analyzer: Callable[[], Analyzer], model_version: str,
                 policy: CasePolicy, metrics: Metrics, *, wait_s: float = 0.03,
                 max_rows: int = 256, on_alerts: Callable[[], None] | None = None,
                 reply: Callable[[dict], str | None] = lambda row: None):
        self.store, self.model_version, self.policy = store, model_version, policy
        self.reply = reply
        self._analyzer_factory, self._analyzer = analyzer, None
        self.metrics, self.wait_s, self.max_rows = metrics, wait_s, max_rows
        self.on_alerts = on_alerts
        self.jobs: queue.Queue = queue.Queue()
        self._last_requests = 1  # how many requests the last micro-batch held
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="intake", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.jobs.put(None)
        self.thread.join(timeout=30)

    def _get_analyzer(self) -> Analyzer:
        if self._analyzer is None:
            self._analyzer = self._analyzer_factory()
        return self._analyzer

    @property
    def model_loaded(self) -> bool:
        return self._analyzer is not None

    def submit(self, records: list[dict]) -> Future:
        fut: Future = Future()
        self.jobs.put((records, fut))
        return fut

    def _take_batch(self) -> list:
        """The next micro-batch: everything already waiting, then more until as many requests
        as the last batch held have come in, or `wait_s` after the first. Clients answered
        from the last batch tend to post again at once, so waiting for them keeps batches
        full; stopping when they are back (not at the deadline) keeps the model busy, and a
        lone client (last batch: one request) is never kept waiting at all."""
        first = self.jobs.get()
        if first is None:
            return []
        batch, rows = [first], len(first[0])
        deadline = time.monotonic() + self.wait_s
        while rows < self.max_rows:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if len(batch) >= self._last_requests or left <= 0:
                    break
                try:
                    job = self.jobs.get(timeout=left)
                except queue.Empty:
                    break
            if job is None:
                self.jobs.put(None)
                break
            batch.append(job)
            rows += len(job[0])
        self._last_requests = len(batch)
        return batch

    def _run(self) -> None:
        try:  # load the model before the first review asks for it (/readyz waits for this)
            self._get_analyzer()
        except Exception:  # noqa: BLE001  the first request retries and reports the error
            pass
        while not self._stop.is_set():
            batch = self._take_batch()
            if not batch:
                continue
            started = time.perf_counter()
            try:
                results = self._process([records for records, _ in batch])
            except BaseException as exc:  # the requests see the error; the worker keeps going
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            finally:
                self.metrics.batch(len(batch), time.perf_counter() - started)
            for (_, fut), result in zip(batch, results):
                fut.set_result(result)

    def _process(self, requests: list[list[dict]]) -> list[list[dict]]:
        flat = [r for records in requests for r in records]
        started = time.perf_counter()
        batch = reviews_from_records(flat, "api")
        keys = batch.frame["_review_key"].to_list()
        summary = ingest_batch(batch, self._get_analyzer, self.store, self.model_version,
                               progress=False, policy=self.policy)
        known = summary.known
        self.metrics.scored(batch.frame.height - len(known), time.perf_counter() - started)
        if summary.result.alerts_queued and self.on_alerts:
            self.on_alerts()
        # what this batch wrote is answered as written; only reviews stored before (duplicates,
        # edits) are read back (a read per micro-batch cost the worker ~2 % of its time)
        stored = dict(summary.written)
        unread = [k for k in dict.fromkeys(keys) if k not in stored]
        if unread:
            stored.update((r["review_key"], r)
                          for r in self.store.lookup(keys=unread).iter_rows(named=True))
        rejected_rows = dict(zip(batch.rejects["_row"].to_list(),
                                 batch.rejects["_reason"].to_list()))
        out_all, row_key = [], dict(zip(batch.frame["_row"].to_list(), keys))
        for i in range(len(flat)):
            if i in rejected_rows:
                out_all.append({**EMPTY_RESULT, "status": "rejected", "reason": rejected_rows[i]})
                continue
            key = row_key[i]
            row = stored.get(key, {})
            out_all.append({
                **EMPTY_RESULT, "status": "duplicate" if key in known else "stored",
                "review_key": key, "review_id": row.get("review_id"),
                "case_id": row.get("case_id"),
                **{f: row.get(f) for f in SCORE_FIELDS_OUT},
                "reply_draft": self.reply(row),
            })
        # split the flat answers back per request
        answers, pos = [], 0
        for records in requests:
            answers.append(out_all[pos:pos + len(records)])
            pos += len(records)
        return answers


class AlertLoop:
    """Delivers alerts at once when poked; every `interval_s` it also escalates overdue cases
    and looks for complaint spikes (those scan the store, too heavy to repeat for each batch
    while the model shares the CPU)."""

    def __init__(self, store: Store, policy: CasePolicy, settings: AlertSettings,
                 interval_s: float = 10.0):
        self.store, self.policy, self.settings, self.interval_s = store, policy, settings, interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="alerts", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        last_scan = -float("inf")
        while not self._stop.is_set():
            # the CLI's round (a failed scan never holds back delivery); a database hiccup must
            # not end the loop: the next round retries
            scan = time.monotonic() - last_scan >= self.interval_s
            if scan:
                last_scan = time.monotonic()
            try:
                alert_round(self.store, self.policy, self.settings, scan=scan)
            except Exception:  # noqa: BLE001
                pass
            self._wake.wait(max(0.0, last_scan + self.interval_s - time.monotonic()))
            self._wake.clear()
