"""`monitor cases`: list, show and move cases from a terminal or a helpdesk script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .cli_common import echo_table, user_errors, write_out
from .settings import Settings

cases_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="List, show and move cases (new -> replied -> resolved -> closed).")

DB_HELP = "SQLAlchemy URL (default: MONITOR_DB_URL or the embedded SQLite database)"


def _store(db: Optional[str]):
    from .store import Store

    return Store(db or Settings.from_env().db_url, create=False)


@cases_app.command("list")
@user_errors
def list_(
    state: Optional[str] = typer.Option(None, help="new, acknowledged, replied, resolved, "
                                        "closed or escalated"),
    severity: Optional[int] = typer.Option(None, help="1 counterfeit, 2 damage, 3 delay"),
    product: Optional[str] = typer.Option(None, help="Product id"),
    assignee: Optional[str] = typer.Option(None, help="Agent (owner or co-owner)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help=".csv (spreadsheet-safe), "
                                       ".parquet or .jsonl instead of a table"),
    db: Optional[str] = typer.Option(None, help=DB_HELP),
) -> None:
    """Cases, most urgent first, with their deadline (in MONITOR_TEAM_TZ on a terminal; UTC
    with its offset in --out files) and the time left to answer."""
    from .batch import output_format
    from .casework import list_cases, with_utc_offsets
    from .clock import format_time, team_timezone
    from .i18n import ui_language

    if out is not None:
        output_format(out)  # a wrong extension fails before the store is read
    lang, tz = ui_language(), team_timezone()  # a wrong setting fails before the store is read
    frame = list_cases(_store(db), state=state, severity=severity, product=product,
                       assignee=assignee)
    if out is not None:
        write_out(with_utc_offsets(frame), out, "cases")
        return
    if frame.is_empty():
        typer.echo("no cases match")
        return
    echo_table([("case", -6), ("state", 12), ("level", 5), ("category", 11), ("time left", 16),
                ("assignee", 12), ("tier", 8), ("due", 26), ("product", 14), ("review", 0)],
               [[f"#{r['case_id']}", r["state"],
                 f"L{r['severity']}" if r["severity"] is not None else "--", r["category"],
                 r["time_left"] or "-", r["assignee"] or "-", r["tier"] or "-",
                 format_time(r["due_at"], lang=lang, tz=tz) or "-",
                 r["product_id"] or "-", r["review_id"] or "-"] for r in frame.iter_rows(named=True)])


@cases_app.command()
@user_errors
def show(
    case_id: int = typer.Argument(..., help="The case id (`monitor cases list`)"),
    db: Optional[str] = typer.Option(None, help=DB_HELP),
) -> None:
    """The case and its history as JSON (`events`: from_state, to_state, actor, at, note);
    times in ISO 8601 in MONITOR_TEAM_TZ, with their offset."""
    from .casework import case_detail
    from .clock import team_timezone

    tz = team_timezone()
    typer.echo(json.dumps(case_detail(_store(db), case_id, tz=tz), ensure_ascii=False,
                          indent=2))


@cases_app.command()
@user_errors
def move(
    case_id: int = typer.Argument(..., help="The case id"),
    to: str = typer.Option(..., "--to", help="The new state: acknowledged, replied, resolved, "
                           "closed or escalated"),
    actor: str = typer.Option(..., "--actor", help="Who does it (recorded in the history)"),
    note: str = typer.Option("", "--note", help="Why, or what was done"),
    db: Optional[str] = typer.Option(None, help=DB_HELP),
) -> None:
    """Move a case along the workflow; a move it does not allow is refused (exit code 2).
    Resolving plans the 7-day improvement report and the 30-day try-again invitation."""
    from .casework import move_case
    from .clock import team_timezone

    tz = team_timezone()
    case = move_case(_store(db), case_id, to, actor=actor, note=note, tz=tz)
    typer.echo(json.dumps(case, ensure_ascii=False, indent=2))
    typer.echo(f"case {case_id}: {case['events'][-1]['from_state']} -> {case['state']}", err=True)
