import os
import subprocess
from datetime import datetime

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# CI and users run on AVX2-only CPUs and on CPUs with bf16 instructions (AMX / AVX512-BF16),
# where `auto` picks different number formats (int8 star layers around fp32, or bf16). The suite
# pins fp32 for the shared analyzer and every CLI it starts, so no test depends on the CPU it
# lands on; the int8 and bf16 paths have tests of their own that ask for them by name (bf16 is
# emulated where the CPU lacks it). `MONITOR_PRECISION=bf16 make test` runs it all in bf16.
os.environ.setdefault("MONITOR_PRECISION", "fp32")

import pytest  # noqa: E402

from monitor.schema import ReviewScore, needs_response  # noqa: E402


def keyword_aspects(text: str) -> tuple[str, ...]:
    """The stand-in's aspects: 'broken' is damage, 'small' size_fit, 'late' delay, any other
    'bad' review other."""
    low = text.lower()
    found = [a for word, a in (("broken", "damage"), ("late", "delay"), ("small", "size_fit"))
             if word in low]
    return tuple(found or (["other"] if "bad" in low else []))


class KeywordAnalyzer:
    """A stand-in analyzer for pipeline tests that must not load the model: 'bad' is negative."""

    def __init__(self):
        self.calls = 0

    def score(self, texts, *, ratings=None, langs=None):
        self.calls += 1
        out = []
        for i, t in enumerate(texts):
            neg = "bad" in t.lower()
            rating = ratings[i] if ratings is not None else None
            sentiment = "negative" if neg else "positive"
            out.append(ReviewScore(
                sentiment=sentiment, p_negative=0.9 if neg else 0.05, p_neutral=0.05,
                p_positive=0.05 if neg else 0.9, stars_pred=1.5 if neg else 4.5,
                confidence=0.9, category="damage" if "broken" in t else ("other" if neg else "none"),
                severity=2 if "broken" in t else None, evidence="broken" if "broken" in t else "",
                needs_response=needs_response(sentiment, 2 if "broken" in t else None, rating),
                lang=(langs[i] if langs and langs[i] else "en"),
                aspects=keyword_aspects(t),
            ))
        return out


def run_cli(*args, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    """`monitor ARGS` run in this process, answered as `subprocess.run(capture_output=True,
    text=True)` answers: exit code, stdout, stderr (a traceback, exit 1, if it crashed).

    The same entry point as the installed command (`monitor.cli.main`: config file, "note:"
    lines, one-line errors), with `env` added to the environment and `cwd` as the working
    folder for the run, all put back afterwards. Starting a Python for each command cost a
    second or more of imports; tests that need a real process (a resource limit, a kill, peak
    memory, a server that could block) start one themselves."""
    import contextlib
    import io
    import logging
    import sys
    import traceback

    from monitor import cli

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_argv, saved_cwd = dict(os.environ), sys.argv, os.getcwd()
    logger = logging.getLogger("monitor")
    saved_handlers, saved_level = list(logger.handlers), logger.level
    code = 0
    try:
        os.environ.update({k: str(v) for k, v in (env or {}).items()})
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = ["monitor", *map(str, args)]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
                    code = 1
            except Exception:  # what Python does with an uncaught error
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
        logger.handlers[:] = saved_handlers
        logger.setLevel(saved_level)
    return subprocess.CompletedProcess(["monitor", *map(str, args)], code, out.getvalue(),
                                       err.getvalue())


def write_xlsx(path, sheets: dict[str, list[list]]):
    """A workbook with the given sheets (first row = header), as marketplaces export them."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    when = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, when)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


@pytest.fixture(scope="session", autouse=True)
def sqlite_without_fsync():
    """The SQLite databases the tests open do not wait for the disk at each commit (PRAGMA
    synchronous=OFF): each lives for one test, and none checks what survives a power cut. What
    the store itself sets (WAL, busy timeout, foreign keys) is unchanged, and so is everything a
    process sees, killed or not; processes the tests start keep SQLite's default. Waiting for
    the disk was a fifth of a second per new store, hundreds of times a run."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def no_fsync(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.execute("PRAGMA synchronous=OFF")

    event.listen(Engine, "connect", no_fsync)
    yield
    event.remove(Engine, "connect", no_fsync)


@pytest.fixture
def fake_analyzer():
    return KeywordAnalyzer()


@pytest.fixture(scope="session")
def analyzer():
    from monitor.scoring import create_analyzer

    return create_analyzer(device="cpu")


@pytest.fixture(scope="session")
def fp32_analyzer():
    """The analyzer in fp32 whatever the CPU offers: for checks of exact parity between two
    computations (the default on a CPU with bf16 instructions runs in bf16)."""
    from monitor.scoring import create_analyzer

    pinned = {"MONITOR_PRECISION": "fp32", "MONITOR_QUANTIZE": "off"}
    old = {name: os.environ.get(name) for name in pinned}
    os.environ.update(pinned)
    try:
        return create_analyzer(device="cpu")
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, tmp_path):
    """The same test on embedded SQLite and on PostgreSQL (when `.ci/run` provides one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    pg = os.environ.get("MONITOR_TEST_PG_URL")
    if not pg:
        pytest.skip("MONITOR_TEST_PG_URL not set (.ci/run starts PostgreSQL and sets it)")
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:10]}"  # a schema per test, dropped afterwards
    engine = create_engine(pg)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def stand_in_embedder(monkeypatch):
    """The dashboard's analyzer replaced by seeded random unit embeddings: pages that group
    reviews into themes render without loading the model."""
    import types

    import numpy as np

    import monitor.scoring

    def embed(texts):
        v = np.random.default_rng(0).normal(size=(len(texts), 384))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    fake = types.SimpleNamespace(encoder=types.SimpleNamespace(embed=embed))
    monkeypatch.setattr(monitor.scoring, "create_analyzer", lambda: fake)
    return fake
