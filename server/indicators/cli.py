"""``trogiup indicators``: the plan's indicators from the database.

trogiup indicators --period 2026Q3 --level district [--format table|csv|json]
trogiup indicators snapshot --period 2026 --level commune
trogiup indicators show-snapshot 3 [--format table|csv|json]
trogiup indicators verify-snapshot 3
"""

import getpass
import json
import sys

import pandas as pd
import typer
from sqlmodel import Session

from analysis.output import to_csv, to_json, to_table
from server.db import get_engine
from server.errors import InvalidInput
from server.settings import get_settings

app = typer.Typer(
    help="The plan's indicators against their targets.",
    invoke_without_command=True,
)

PERIOD = typer.Option(
    [], "--period", "-p",
    help="2026, 2026Q3, 2026-07 or name:2026-07-01..2026-09-30; repeatable.",
)  # fmt: skip
LEVEL = typer.Option("district", "--level", help="province, district, commune, all.")
FORMAT = typer.Option("table", "--format", help="table, csv or json.")
PENDING = typer.Option(
    False, "--include-pending", help="Count every submission not rejected."
)


def _query(periods, level, include_pending):
    from server.indicators.service import Query

    return Query(tuple(periods), level, include_pending)


def _threshold() -> int:
    """The deployment's suppression threshold (TROGIUP_SUPPRESSION_THRESHOLD)."""
    return get_settings().suppression_threshold


def _emit(frame: pd.DataFrame, warnings: list[str], format: str) -> None:
    if format == "csv":
        sys.stdout.buffer.write(to_csv(frame))
        sys.stdout.buffer.flush()
    elif format == "json":
        typer.echo(to_json(frame, warnings))
    elif format == "table":
        typer.echo(to_table(frame))
        for warning in warnings:
            typer.echo(f"cảnh báo: {warning}", err=True)
    else:
        raise InvalidInput(f"format {format!r}: choose table, csv or json")


@app.callback()
def indicators(
    ctx: typer.Context,
    period: list[str] = PERIOD,
    level: str = LEVEL,
    format: str = FORMAT,
    include_pending: bool = PENDING,
) -> None:
    """Compute the indicators for the periods asked (every indicator of the
    plan; those without a data source are listed as such)."""
    if ctx.invoked_subcommand is not None:
        return
    from server.indicators.service import compute

    query = _query(period, level, include_pending)
    with Session(get_engine()) as session:
        result = compute(session=session, query=query, threshold=_threshold())
    _emit(result.frame, result.warnings, format)


@app.command("snapshot")
def snapshot(
    period: list[str] = PERIOD,
    level: str = LEVEL,
    include_pending: bool = PENDING,
) -> None:
    """Freeze the figures and the exact inputs they came from."""
    from server.indicators.service import create_snapshot

    query = _query(period, level, include_pending)
    with Session(get_engine()) as session:
        frozen = create_snapshot(
            session=session, query=query, threshold=_threshold(), actor=_actor()
        )
        session.commit()
        typer.echo(
            f"snapshot {frozen.id}: {frozen.n_inputs} submissions, "
            f"sha256 {frozen.data_hash}"
        )


@app.command("show-snapshot")
def show_snapshot(snapshot_id: int, format: str = FORMAT) -> None:
    """Print a snapshot's figures as they were frozen."""
    from server.indicators.service import get_snapshot

    with Session(get_engine()) as session:
        frozen = get_snapshot(session=session, snapshot_id=snapshot_id)
        header = (
            f"snapshot {frozen.id} ({frozen.created_at:%Y-%m-%d %H:%M %Z}, "
            f"{frozen.created_by}): periods {', '.join(frozen.periods)}, "
            f"level {frozen.level}, sha256 {frozen.data_hash}"
        )
        frame = pd.DataFrame.from_records(frozen.results)
        warnings = list(frozen.warnings)
    if format == "table":
        typer.echo(header, err=True)
    _emit(frame, warnings, format)


@app.command("verify-snapshot")
def verify_snapshot(snapshot_id: int) -> None:
    """Whether the snapshot's inputs still give its figures, and whether
    today's data give the same; exits 1 when today's differ."""
    from server.indicators.service import verify_snapshot as verify

    with Session(get_engine()) as session:
        outcome = verify(session=session, snapshot_id=snapshot_id)
    typer.echo(json.dumps(outcome, ensure_ascii=False))
    if not outcome["unchanged"]:
        raise typer.Exit(1)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
