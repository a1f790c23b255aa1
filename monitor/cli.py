"""`monitor` command line: a thin layer over the library, one short function per command."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .cli_cases import cases_app
from .cli_common import echo_table, user_errors, write_out, write_rejects
from .clock import with_team_zone
from .export import csv_text
from .settings import Settings, redact_url
from .errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Score, store and watch multilingual product reviews.")
app.add_typer(cases_app, name="cases")

def model_version() -> str:
    from .scoring.versions import model_version as version

    return version()


def _load_analyzer(device: Optional[str]):
    from .scoring import create_analyzer

    return create_analyzer(device=device)


INPUTS_HELP = "Review files (.csv .tsv .jsonl .json .parquet .xlsx) or patterns ('dumps/*.csv')"


@app.command()
@user_errors
def score(
    inputs: list[Path] = typer.Argument(..., help=INPUTS_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .parquet, .csv or .jsonl"),
    text_column: Optional[str] = typer.Option(None, help="Column holding the review text"),
    device: Optional[str] = typer.Option(None, help="auto, cpu or cuda"),
    rejects: Optional[Path] = typer.Option(None, help="Write rows that could not be scored here"),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its "
                                                        "finished chunks (OUT.parts/)"),
    chunk_rows: int = typer.Option(2048, help="Rows per committed chunk"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
    dedup: bool = typer.Option(False, "--dedup", help="Leave out rows that repeat an earlier "
                                                      "review (same id, or product+text+date)"),
    threads: Optional[int] = typer.Option(None, help="CPU threads for the model (default: "
                                                     "all cores)"),
    engine: str = typer.Option("local", help="local, or ray (Ray Data; pip install -e "
                                             "'.[scale]')"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address",
                                              help="Ray cluster to use (default: start Ray "
                                                   "on this machine)"),
) -> None:
    """Score review files and write them with sentiment, stars, category and severity columns."""
    from .batch import output_format, score_to_file
    from .ingest import expand_inputs

    output_format(out)
    inputs = expand_inputs(inputs, exclude=[out])
    if chunk_rows < 1:
        raise InputError("--chunk-rows must be at least 1")
    if engine not in ("local", "ray"):
        raise InputError(f"--engine {engine}: use local or ray")
    if engine == "ray":
        from .ray_engine import score_with_ray

        if resume:
            raise InputError("--resume works with the local engine; a Ray run is rerun whole")
        rows = score_with_ray(inputs, out, address=ray_address, text_column=text_column,
                              device=device, block_rows=chunk_rows)
        typer.echo(f"scored {rows} reviews on Ray -> {out}", err=True)
        return
    from .ingest import iter_reviews

    # every file's header and text column checked before the model loads; a file under the
    # streaming size is read twice for it, which costs less than holding every file at once
    for path in inputs:
        next(iter_reviews(path, chunk_rows=chunk_rows, text_column=text_column), None)
    if threads:
        import torch

        torch.set_num_threads(threads)
    summary = score_to_file(inputs, lambda: _load_analyzer(device), out, resume=resume,
                            chunk_rows=chunk_rows, progress=not quiet, dedup=dedup,
                            text_column=text_column)
    write_rejects(summary.rejects, rejects)
    typer.echo(f"{summary.line()} -> {out}", err=True)


@app.command()
@user_errors
def ingest(
    inputs: list[Path] = typer.Argument(..., help=INPUTS_HELP),
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL (default: MONITOR_DB_URL or "
                                                "embedded SQLite)"),
    text_column: Optional[str] = typer.Option(None, help="Column holding the review text"),
    device: Optional[str] = typer.Option(None, help="auto, cpu or cuda"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
    send: bool = typer.Option(True, "--send/--no-send",
                              help="Deliver queued alerts right after storing (else leave them "
                                   "for `monitor alerts send`)"),
) -> None:
    """Score review files and store them; rows already stored are skipped (stable review key).

    New reviews that need a response open cases; new level-1/2 cases queue alerts, which are
    delivered at once when a channel is configured (failures stay queued for retry)."""
    from .batch import INGEST_CHUNK_ROWS, Progress, estimate_rows, ingest_file
    from .cases import CasePolicy
    from .ingest import expand_inputs, iter_reviews
    from .store import Store

    inputs = expand_inputs(inputs)
    settings = Settings.from_env()
    policy = CasePolicy.from_env()
    url = db or settings.db_url
    store = Store(url)

    for path in inputs:  # checked before the model loads, as in `score`
        next(iter_reviews(path, chunk_rows=INGEST_CHUNK_ROWS, text_column=text_column), None)
    loaded = []
    version = model_version()

    def analyzer():
        # the model loads only if some row is new or edited; a re-run of the same file is instant
        if not loaded:
            loaded.append(_load_analyzer(device))
        return loaded[0]

    for path in inputs:
        bar = Progress(estimate_rows(path), Path(path).name, not quiet)
        summary = ingest_file(path, analyzer, store, version, policy=policy,
                              text_column=text_column, on_rows=bar.update)
        bar.close()
        typer.echo(summary.line(), err=True)
    typer.echo(f"{store.count()} reviews in {redact_url(url)}", err=True)
    typer.echo(policy.channels_line(), err=True)
    if send and policy.alert_channels:
        from .alerts import send_pending

        sent = send_pending(store)
        typer.echo(f"alerts: {sent.delivered} delivered, {sent.retrying} to retry, "
                   f"{sent.dead} dead", err=True)


@app.command()
@user_errors
def queue(
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
    limit: int = typer.Option(20, help="How many reviews to list"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help=(
        "Write the queue with a reply draft per review to .csv (spreadsheet-safe), .jsonl or "
        ".parquet instead of printing it")),
) -> None:
    """Print the reviews that need a response, most severe and newest first: the case, its
    level, the time left to answer, who owns it and the buyer's tier."""
    from .batch import output_format
    from .casework import utc_now
    from .cases import time_left
    from .export import queue_export
    from .i18n import ui_language
    from .replies import seller_templates
    from .store import Store

    if limit < 1:
        raise InputError("--limit must be at least 1")
    if out is not None:  # a wrong extension or UI language fails before the store is read
        output_format(out)
        ui_language()
    settings = Settings.from_env()
    frame = Store(db or settings.db_url, create=False).response_queue(limit=limit)
    if out is not None:  # for people: headers in the team's language, deadlines in its zone
        write_out(queue_export(frame, contact=settings.support_contact, tz=settings.team_tz,
                               custom=seller_templates()), out, "reviews")
        return
    if frame.is_empty():
        typer.echo("nothing needs a response: ingest reviews with `monitor ingest FILE`")
        return
    now = utc_now()
    echo_table([("case", -6), ("level", 5), ("time left", 16), ("assignee", 12), ("tier", 8),
                ("category", 11), ("product", 14), ("lang", 4), ("review", 0)],
               [[f"#{r['case_id']}" if r["case_id"] is not None else "-",
                 f"L{r['severity']}" if r["severity"] is not None else "--",
                 time_left(r["due_at"], now) or "-", r["assignee"] or "-", r["tier"] or "-",
                 r["category"], r["product_id"] or "-", r["lang"],
                 repr((r["evidence"] or r["text"])[:60])] for r in frame.iter_rows(named=True)])


@app.command()
@user_errors
def trends(
    by: str = typer.Option("product", help="product, marketplace, lang or category"),
    freq: str = typer.Option("1w", help="1d, 1w or 1mo"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help=".parquet, .csv or .jsonl; "
                                                                  "default: CSV on stdout"),
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
) -> None:
    """Aggregate stored reviews per group and period: volume, sentiment mix, stars, severities,
    and the cases opened: response rate and median hours to first response."""
    from .batch import output_format, write_atomic
    from .store import Store
    from .trends import period_trends

    if out is not None:
        output_format(out)
    store = Store(db or Settings.from_env().db_url, create=False)
    frame = period_trends(store.facts(), by=by, every=freq, cases=store.cases())
    if out is None:
        typer.echo(frame.write_csv(), nl=False)
    else:
        write_atomic(frame, out)
        typer.echo(f"{frame.height} rows -> {out}", err=True)


@app.command()
@user_errors
def report(
    product: str = typer.Option(..., help="Product id to report on"),
    out: Path = typer.Option(..., "--out", "-o",
                             help="File to write: .md (Markdown) or .html (prints to PDF)"),
    days: Optional[int] = typer.Option(None, help="Only reviews of the last N days of data"),
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
) -> None:
    """Improvement report: a product's negative reviews grouped into themes (Markdown or HTML)."""
    from datetime import timedelta

    from .batch import write_text_atomic
    from .clock import team_timezone
    from .i18n import ui_language
    from .store import Store
    from .themes import improvement_report, report_format

    if days is not None and days < 1:
        raise InputError("--days must be at least 1")
    fmt = report_format(out)  # before any work: a wrong name fails at once
    lang, tz = ui_language(), team_timezone()  # the team's language and clock, checked as early
    store = Store(db or Settings.from_env().db_url, create=False)
    if product not in store.products():
        raise InputError(f"no reviews for product '{product}'; `monitor trends` lists products")
    newest = store.newest_date()
    since = newest - timedelta(days=days) if days and newest else None
    rep = improvement_report(store.reviews(product=[product], since=since),
                             _load_analyzer(None).encoder.embed, product)
    write_text_atomic(rep.render(fmt, lang, tz), out)
    typer.echo(f"{rep.negatives} negative reviews, {rep.themes.height} themes -> {out}", err=True)


@app.command("follow-ups")
@user_errors
def follow_ups(
    status: Optional[str] = typer.Option(None, help="planned, due (send now), overdue or done; "
                                                    "default: every one not done"),
    done: Optional[int] = typer.Option(None, "--done", metavar="ID",
                                       help="Record that follow-up ID was sent"),
    actor: str = typer.Option("cli", help="Who sent it (with --done)"),
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
) -> None:
    """Follow-ups after resolved cases (improvement report within 7 days, try-again invitation
    within 30) as CSV, each with a message draft in the buyer's language."""
    import polars as pl

    from .replies import follow_up_message, seller_templates
    from .store import Store

    statuses = ("planned", "due", "overdue", "done")
    if status is not None and status not in statuses:
        raise InputError(f"--status {status}: use one of {', '.join(statuses)}")
    store = Store(db or Settings.from_env().db_url, create=False)
    if done is not None:
        try:
            store.complete_follow_up(done, actor=actor)
        except KeyError:
            raise InputError(f"no follow-up {done}: `monitor follow-ups` lists them") from None
        typer.echo(f"follow-up {done} recorded as sent", err=True)
        return
    frame = store.follow_ups()
    frame = frame.filter(pl.col("status") == status if status else pl.col("status") != "done")
    contact = Settings.from_env().support_contact
    custom = seller_templates()
    drafts = [follow_up_message(r, contact=contact, custom=custom)
              for r in frame.iter_rows(named=True)]
    listing = frame.select("id", "case_id", "kind", "status", "contact_at", "due_at",
                           "product_id", "lang").with_columns(
        pl.Series("message_draft", drafts, dtype=pl.String))
    # contact and due times in the team's zone, with their offset
    typer.echo(csv_text(with_team_zone(listing)), nl=False)


@app.command()
@user_errors
def customers(
    orders: Path = typer.Argument(..., help="Order file with customer_id, date and amount columns"),
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
) -> None:
    """Load customer value tiers (vip, growth, regular, dormant) from an order file; within a
    severity level, the response queue puts more valuable customers first."""
    from .customers import customer_tiers, read_orders
    from .store import Store

    tiers = customer_tiers(read_orders(orders))
    n = Store(db or Settings.from_env().db_url).save_customer_tiers(tiers)
    counts = dict(tiers.group_by("tier").len().iter_rows())
    typer.echo(f"{n} customers: " + ", ".join(f"{counts.get(t, 0)} {t}" for t in
                                              ("vip", "growth", "regular", "dormant")), err=True)


@app.command()
@user_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8700, help="Port to listen on"),
) -> None:
    """Run the HTTP intake API (POST /v1/reviews ...); needs MONITOR_API_KEYS."""
    from .api import serve as run_api

    run_api(host, port, analyzer=lambda: _load_analyzer(None), model_version=model_version())


@app.command()
@user_errors
def watch(
    folder: Path = typer.Argument(..., help="Folder that review files are dropped into"),
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
    interval: float = typer.Option(5.0, help="Seconds between looks at the folder"),
    once: bool = typer.Option(False, "--once", help="Process what is there now, then exit"),
) -> None:
    """Ingest files dropped into FOLDER; each moves to done/ or failed/ with a reason."""
    import time

    from .alerts import send_pending
    from .cases import CasePolicy
    from .store import Store
    from .watch import process_folder

    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    if interval <= 0:
        raise InputError("--interval must be more than 0 seconds")
    store = Store(db or Settings.from_env().db_url)
    policy = CasePolicy.from_env()
    analyzer = None

    def get_analyzer():
        nonlocal analyzer
        analyzer = analyzer or _load_analyzer(None)
        return analyzer

    while True:
        res = process_folder(folder, store, get_analyzer, model_version(), policy,
                             min_age_s=0.0 if once else 2.0)
        for name in res.done:
            typer.echo(f"done: {name}", err=True)
        for name in res.failed:
            typer.echo(f"failed: {name} (reason in failed/{name}.txt)", err=True)
        if (res.done or res.failed) and policy.alert_channels:
            send_pending(store)
        if once:
            break
        time.sleep(interval)


alerts_app = typer.Typer(no_args_is_help=True, help="Deliver and inspect the alert outbox.")
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("send")
@user_errors
def alerts_send(
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
    loop: bool = typer.Option(False, "--loop", help="Keep sending until interrupted"),
    interval: float = typer.Option(10.0, help="Seconds between rounds with --loop"),
    rounds: int = typer.Option(0, help="With --loop: stop after this many rounds (0 = never)"),
) -> None:
    """Escalate overdue cases, queue spike and overdue follow-up alerts, then deliver pending
    alerts (webhook, Slack, e-mail); failures retry with backoff, then go dead."""
    import time

    from .alerts import AlertSettings, alert_round
    from .cases import CasePolicy
    from .store import Store

    if interval <= 0 or rounds < 0:
        raise InputError("--interval must be more than 0 seconds and --rounds at least 0")
    store = Store(db or Settings.from_env().db_url)
    settings = AlertSettings.from_env()
    policy = CasePolicy.from_env()
    done = 0
    while True:
        result = alert_round(store, policy, settings)
        for line in result.lines():
            typer.echo(line, err=True)
        s = result.sent
        if not loop or s.delivered or s.retrying or s.dead:  # a quiet loop prints nothing
            typer.echo(f"alerts: {s.delivered} delivered, {s.retrying} to retry, {s.dead} dead",
                       err=True)
        done += 1
        if not loop or (rounds and done >= rounds):
            break
        time.sleep(interval)
    if result.failed and not loop:
        raise typer.Exit(1)  # the delivery ran; a scan did not: say so in the exit code


@app.command("serve-alerts")
@user_errors
def serve_alerts(
    db: Optional[str] = typer.Option(None, help="SQLAlchemy URL"),
    interval: float = typer.Option(10.0, help="Seconds between rounds"),
) -> None:
    """Background alert loop: escalate overdue cases, queue spike alerts, deliver; until stopped."""
    alerts_send(db=db, loop=True, interval=interval, rounds=0)


@alerts_app.command("list")
@user_errors
def alerts_list(db: Optional[str] = typer.Option(None, help="SQLAlchemy URL")) -> None:
    """Print the outbox as CSV: id, case, channel, status, attempts, last error; times in
    MONITOR_TEAM_TZ with their offset."""
    from .store import Store

    store = Store(db or Settings.from_env().db_url, create=False)
    typer.echo(csv_text(with_team_zone(store.alerts())), nl=False)


@app.command()
@user_errors
def train(
    from_ratings: Path = typer.Option(..., "--from-ratings",
                                      help="Your own reviews with a star rating column"),
    out: Optional[Path] = typer.Option(None, help="Save the adapted star model here (use it "
                                                  "with MONITOR_STAR_MODEL=FILE)"),
    holdout: float = typer.Option(0.2, help="Share of reviews kept aside to measure"),
    text_column: Optional[str] = typer.Option(None, help="Column holding the review text"),
) -> None:
    """Fit the star head on your own rated reviews; prints before/after on held-out reviews."""
    from .ingest import read_reviews
    from .scoring.adapt import adapt_head

    if out is not None and out.suffix != ".safetensors":
        raise InputError("--out must end in .safetensors")
    if not 0.05 <= holdout <= 0.5:
        raise InputError("--holdout must be between 0.05 and 0.5")
    batch = read_reviews(from_ratings, text_column=text_column)
    rated = batch.frame.filter(batch.frame["_rating"].is_not_null())
    if rated.is_empty():
        raise InputError(f"{from_ratings}: no usable star ratings (a rating / stars column, 1-5)")
    report = adapt_head(_load_analyzer(None), rated["_text"].to_list(),
                        rated["_rating"].to_list(), holdout=holdout, out=out)
    for line in report.lines():
        typer.echo(line)
    if out is not None:
        typer.echo(f"saved -> {out}; score with it: MONITOR_STAR_MODEL={out} monitor score ...",
                   err=True)


@app.command()
@user_errors
def bench(
    rows: int = typer.Option(1000, help="Reviews to score"),
    naive_rows: int = typer.Option(200, help="Reviews for the naive one-at-a-time baseline"),
    input: Optional[Path] = typer.Option(None, "--input", help="Take texts from this file"),
    device: Optional[str] = typer.Option(None, help="auto, cpu or cuda"),
) -> None:
    """Measure scoring speed against a naive loop in the same run; prints JSON."""
    import json

    from .bench import run

    if rows < 1 or naive_rows < 1:
        raise InputError("--rows and --naive-rows must be at least 1")
    typer.echo(json.dumps(run(rows, naive_rows, input, device), indent=2))


def main() -> None:
    import logging

    from .settings import load_config_file

    # what the library notices about the user's data ("removed 2 NUL bytes from 1 row") is one
    # "note:" line on stderr, beside the summary
    note = logging.StreamHandler()
    note.setFormatter(logging.Formatter("note: %(message)s"))
    logging.getLogger("monitor").addHandler(note)
    logging.getLogger("monitor").setLevel(logging.WARNING)

    try:
        load_config_file()
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    app()


if __name__ == "__main__":
    main()
