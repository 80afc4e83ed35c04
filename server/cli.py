"""The ``trogiup`` command. Each resource adds its own sub-commands in its own
module; this file only wires them together and sets up logging."""

import logging
import sys

import typer

from server.errors import TrogiupError
from server.forms.cli import collect_app, forms_app
from server.indicators.cli import app as indicators_app
from server.settings import get_settings
from server.submissions.cli import app as submissions_app

app = typer.Typer(
    help="trogiup: ODK forms, sync from Central and the plan's indicators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(submissions_app)
app.add_typer(forms_app, name="forms")
app.add_typer(collect_app, name="collect")
app.add_typer(indicators_app, name="indicators")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # pyodk logs every error it raises, with the response body, before raising
    # it; trogiup handles (and logs, without identifying values) those errors
    # where they are caught, so pyodk's own copies would only repeat them.
    logging.getLogger("pyodk").setLevel(logging.CRITICAL)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Create or migrate the schema (SQLite or PostgreSQL, by TROGIUP_DATABASE_URL)."""
    from server.db import get_engine, upgrade

    engine = get_engine()
    upgrade(engine, revision)
    typer.echo(f"database at {engine.url.render_as_string()} is at {revision}")


@app.command()
def serve() -> None:
    """Serve the web API (no demo, no simulator)."""
    import uvicorn

    from server.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


@app.command()
def run() -> None:
    """The whole system on this machine: migrate, pull on a schedule, serve.

    Without TROGIUP_CENTRAL_URL it starts the Central simulator with synthetic
    demo data and says so in the log.
    """
    import uvicorn

    from server.app import create_app
    from server.db import get_engine, upgrade
    from workers.embedded import EmbeddedScheduler

    settings = get_settings()
    upgrade(get_engine(settings.effective_database_url))
    demo = None
    if settings.central_url is None:
        # The simulator is loaded only here, when no real Central is configured.
        from central_sim import demo as simulator_demo

        demo = simulator_demo.start(settings)
        settings = demo.settings
    # With Redis, Celery beat and workers run the schedule; the demo's settings
    # exist only in this process, so the demo always schedules in-process.
    scheduler = None
    if settings.embedded or demo is not None:
        scheduler = EmbeddedScheduler(settings=settings)
        scheduler.start()
    try:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
    finally:
        if scheduler is not None:
            scheduler.stop()
        if demo is not None:
            demo.simulator.stop()


@app.command("central-sim")
def central_sim(
    port: int = typer.Option(8383, help="Port on 127.0.0.1."),
    email: str = typer.Option(..., help="The administrator's email."),
    password: str = typer.Option(..., help="The administrator's password."),
    db: str = typer.Option("data/central-sim.sqlite3", help="The simulator's file."),
) -> None:
    """Run the ODK Central simulator (a developer and demo tool, not Central)."""
    # Imported here, not at the top: production commands never load the simulator.
    from central_sim.server import serve as serve_simulator

    serve_simulator(port=port, email=email, password=password, db_path=db)


def main() -> None:
    try:
        app()
    except TrogiupError as err:
        typer.echo(f"error [{err.code}]: {err.message}", err=True)
        raise SystemExit(2) from err
