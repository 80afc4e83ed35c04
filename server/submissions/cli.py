"""``trogiup pull``, ``trogiup status`` and ``trogiup quarantine``. Output names
forms, ids and counts only, never an answer from a submission."""

import json
import sys
from datetime import datetime

import typer
from rich import box
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlmodel import Session

from analysis.periods import TIMEZONE
from server.central.submissions import DEFAULT_PAGE_SIZE
from server.db import get_engine
from server.settings import get_settings

app = typer.Typer()
quarantine_app = typer.Typer(
    help="Submissions that could not be normalized.", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")

console = Console(stderr=True)
# Piped or redirected output is not a terminal of 80 columns: keep rows whole.
out = Console(width=None if sys.stdout.isatty() else 160)

SUMMARY = ("new", "updated", "deleted", "quarantined")

# Count name -> column heading, short enough for an 80-column terminal.
STATUS_COLUMNS = {
    "submissions": "seen",
    "current": "current",
    "normalized": "normal",
    "quarantined": "quar.",
    "deleted": "deleted",
    "edited": "edited",
    "repeat_rows": "repeats",
}


@app.command("pull")
def pull_command(
    form: str | None = typer.Option(None, "--form", help="Only this xml_form_id."),
    full: bool = typer.Option(
        False, "--full", help="Re-read everything and reconcile with the ledger."
    ),
    page_size: int = typer.Option(
        DEFAULT_PAGE_SIZE, "--page-size", min=1, help="Rows per OData page."
    ),
) -> None:
    """Pull submissions from Central, store them and normalize them."""
    from server.submissions.pull import PullOptions
    from server.submissions.service import run_pull

    settings = get_settings()
    with _progress() as progress, Session(get_engine()) as session:
        task = progress.add_task("connecting", total=None, rows=0)
        rows = {"n": 0}

        def advance(stage: str, count: int) -> None:
            rows["n"] += count
            progress.update(task, description=stage, rows=rows["n"])

        results = run_pull(
            session=session,
            settings=settings,
            xml_form_id=form,
            full=full,
            options=PullOptions(page_size=page_size),
            progress=advance,
        )
    out.print(_summary(results))


@app.command("status")
def status_command(
    format: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Per form: last pull, cursor, and counts that reconcile."""
    from server.submissions.service import form_status

    with Session(get_engine()) as session:
        status = form_status(session=session)
    if format == "json":
        typer.echo(json.dumps(status, indent=2))
        return
    out.print(_status_table(status))


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[rows]} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _summary(results) -> Table:
    table = Table(title="pull", box=box.SIMPLE_HEAD)
    for name in ("form", "mode", "seen", *SUMMARY, "seconds"):
        table.add_column(name, justify="left" if name in ("form", "mode") else "right")
    for r in results:
        deleted = r.deleted + r.purged
        values = (r.seen, r.new, r.updated + r.restored, deleted, r.quarantined)
        table.add_row(r.xml_form_id, r.mode, *map(str, values), f"{r.seconds:.1f}")
    return table


def _status_table(status: list[dict]) -> Table:
    table = Table(title="sync status", box=box.SIMPLE_HEAD)
    table.add_column("form", no_wrap=True)
    table.add_column("last pull", no_wrap=True)
    for heading in STATUS_COLUMNS.values():
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("adds up", no_wrap=True)
    for form in status:
        last = form["last_run"] or {}
        when = local_time(form["last_pull_at"]) or "never"
        if last.get("status") == "failed":
            when += " (failed since)"
        counts = form["counts"]
        table.add_row(
            form["xml_form_id"],
            when,
            *(str(counts[n]) for n in STATUS_COLUMNS),
            "yes" if form["reconciles"] else "NO",
        )
    return table


def local_time(text: str | None) -> str:
    """A stored instant as people in An Giang read it: Vietnam's time, to the
    minute, with its offset so that nobody takes it for UTC."""
    if not text:
        return ""
    return (
        datetime.fromisoformat(text)
        .astimezone(TIMEZONE)
        .strftime("%Y-%m-%d %H:%M %z")[:-2]
    )


@quarantine_app.command("list")
def quarantine_list(
    form: str | None = typer.Option(None, "--form", help="Only this xml_form_id."),
    status: str = typer.Option("open", "--status", help="open, resolved or all"),
    format: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Quarantined submissions with the reason (never a value from the form)."""
    from server.submissions.quarantine import list_entries

    with Session(get_engine()) as session:
        entries = list_entries(session=session, status=status, xml_form_id=form)
    if format == "json":
        typer.echo(json.dumps(entries, indent=2))
        return
    table = Table(title=f"quarantine ({status})")
    for name in ("form", "submission", "code", "field", "reason", "since"):
        table.add_column(name)
    for e in entries:
        table.add_row(
            e["xml_form_id"],
            e["submission_id"],
            e["code"],
            e["field"] or "",
            e["reason"],
            local_time(e["created_at"]),
        )
    out.print(table)


@quarantine_app.command("retry")
def quarantine_retry(
    form: str | None = typer.Option(None, "--form", help="Only this xml_form_id."),
) -> None:
    """Normalize quarantined submissions again (after a form or code fix),
    first fetching from Central the form versions they were waiting for."""
    from server.submissions.service import retry_quarantine

    with Session(get_engine()) as session:
        totals = retry_quarantine(
            session=session, settings=get_settings(), xml_form_id=form
        )
    out.print(
        f"versions registered {totals['versions_registered']}, normalized "
        f"{totals['normalized']}, still quarantined {totals['quarantined']}, "
        f"resolved {totals['resolved']}"
    )
