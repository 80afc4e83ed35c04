"""Pulling from Central: the full pull (fetch, ledger, normalization, storage) set
against the raw OData fetch of the same rows and against what a user writes by
hand (pyodk ``get_table`` paged, then ``pandas.json_normalize``); then an
incremental pull of 100 new submissions among them. Prints figures; asserts
nothing.

The Central simulator runs in its own process, as Central would, so the client
and the server do not share one interpreter lock. It is seeded through its store
(far faster than HTTP), with submissions spread over the past month so that
the pull's overlap window sees only the newest few.

    .venv/bin/python -m benchmarks sync
    .venv/bin/python -m benchmarks.sync --sizes 10000 100000 [--database-url URL]

``--central-url`` runs the same measurements against another Central, a real
one on loopback for instance (email and password from
``TROGIUP_BENCH_CENTRAL_EMAIL`` and ``TROGIUP_BENCH_CENTRAL_PASSWORD``). It
seeds a new project over HTTP (``--project-id N`` reuses one seeded before),
so every submission has a submission date of about now and an incremental
window would cover them all: that mode leaves the incremental pull out.
Measure a seeded project only once Central is idle: let its PostgreSQL analyze
the new rows (``ANALYZE``; autovacuum may be off, and on stale statistics a
real Central served this form several times slower), and wait for its worker
to process the audit event each submission left (``select count(*) from audits
where processed is null`` near 0; after 100,000 submissions that took a
quarter of an hour, with the worker on one and a half of two cores). Central
builds ``@odata.nextLink`` from its ``env.domain`` setting, which must be the
URL given here.
"""

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas
import requests
from sqlmodel import Session, select

from central_sim.store import Store
from server.central.client import connect
from server.central.submissions import (
    DEFAULT_PAGE_SIZE,
    CentralSubmissions,
    odata_timestamp,
)
from server.db import make_engine, upgrade
from server.settings import Settings
from server.submissions.models import CentralForm
from server.submissions.pull import DEFAULT_OVERLAP, PullOptions, pull
from tests.factories.sync import XML_FORM_ID, form_xml, many_submissions

EMAIL = "bench@example.org"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway local simulator
SIZES = (10_000, 100_000)
NEW_ROWS = 100


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.sync")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--central-url",
        default=None,
        help="measure against this Central instead of a simulator (see above)",
    )
    parser.add_argument(
        "--project-id",
        type=int,
        default=None,
        help="with --central-url: a project seeded before, with --sizes rows",
    )
    args = parser.parse_args(argv or [])
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="trogiup-bench-") as folder:
            if args.central_url:
                _one_size_elsewhere(size, Path(folder), args)
            else:
                _one_size(size, Path(folder), args.database_url)


def _one_size(size: int, folder: Path, database_url: str | None) -> None:
    say(f"-- {size:,} submissions of {XML_FORM_ID} (0-4 repeat rows each)")
    project_id, seconds = _seed(folder / "central.sqlite3", size)
    say(f"seeded the simulator in {seconds:.1f} s")
    with _simulator(folder) as simulator:
        settings = _settings(simulator.url, project_id, folder, database_url)
        figures = _measure(settings, size, server_pid=simulator.process.pid)
    _report(size, figures)


def _one_size_elsewhere(size: int, folder: Path, args: argparse.Namespace) -> None:
    url = args.central_url
    email = os.environ["TROGIUP_BENCH_CENTRAL_EMAIL"]
    password = os.environ["TROGIUP_BENCH_CENTRAL_PASSWORD"]
    say(f"-- {size:,} submissions of {XML_FORM_ID} (0-4 repeat rows each), {url}")
    project_id = args.project_id
    if project_id is None:
        project_id, seconds = _seed_over_http(url, email, password, size)
        say(f"seeded a new project ({project_id}) over HTTP in {seconds:.1f} s")
    settings = _settings(
        url, project_id, folder, args.database_url, email=email, password=password
    )
    _report(size, _measure(settings, size, incremental=False), simulator=False)


def _measure(
    settings: Settings,
    size: int,
    *,
    incremental: bool = True,
    server_pid: int | None = None,
) -> dict[str, float]:
    figures = {}
    central = _central(settings)
    # The simulator renders each row on its first read and keeps it; Central
    # renders on every read. The first read is the one like Central's.
    with _CPU(server_pid, figures, "raw"):
        figures["raw"] = _timed(lambda: _raw_fetch(central, size))
    figures["raw_warm"] = _timed(lambda: _raw_fetch(central, size))
    figures["by_hand"] = _timed(lambda: _by_hand(central, size))
    engine = make_engine(
        settings.database_url or f"sqlite:///{settings.data_dir / 'bench.sqlite3'}"
    )
    upgrade(engine)
    with Session(engine) as session:
        with _CPU(server_pid, figures, "pull"):
            figures["pull"] = _timed(lambda: _pull(session, central, expect_new=size))
        if incremental:
            _submit_new(central, settings)
            figures["incremental"] = _timed(
                lambda: _pull(session, central, expect_new=NEW_ROWS)
            )
            figures["incremental_central"] = _timed(
                lambda: _incremental_queries(session, central)
            )
        figures["full_again"] = _timed(
            lambda: _pull(session, central, expect_new=0, full=True)
        )
    engine.dispose()
    central.client.close()
    return figures


def _raw_fetch(central: CentralSubmissions, size: int) -> None:
    rows = sum(len(p.rows) for p in central.odata_pages(XML_FORM_ID))
    assert rows == size, rows


def _by_hand(central: CentralSubmissions, size: int) -> None:
    """What an analyst writes with pyodk: page with $top/$skip, flatten."""
    rows, skip = [], 0
    while True:
        page = central.client.submissions.get_table(
            form_id=XML_FORM_ID,
            project_id=central.project_id,
            expand="*",
            top=DEFAULT_PAGE_SIZE,
            skip=skip,
        )["value"]
        rows.extend(page)
        skip += len(page)
        if len(page) < DEFAULT_PAGE_SIZE:
            break
    frame = pandas.json_normalize(rows)
    with_members = [r for r in rows if r.get("member")]
    members = pandas.json_normalize(
        with_members, record_path="member", meta=["__id"], meta_prefix="parent."
    )
    assert len(frame) == size and len(members) > 0


def _pull(session, central, *, expect_new: int, full: bool = False) -> None:
    (result,) = pull(
        session=session,
        central=central,
        xml_form_id=XML_FORM_ID,
        full=full,
        options=PullOptions(page_size=DEFAULT_PAGE_SIZE),
    )
    assert result.new == expect_new, (result.new, expect_new)
    assert result.quarantined == 0


def _incremental_queries(session, central: CentralSubmissions) -> None:
    """What an incremental pull asks Central, alone: the window and the deleted
    list, as the pull that just ran asked them."""
    form = session.exec(select(CentralForm)).one()
    newest = max(t for t in (form.cursor_submission_date, form.cursor_updated_at) if t)
    since = odata_timestamp(newest - DEFAULT_OVERLAP)
    window = f"__system/submissionDate gt {since} or __system/updatedAt gt {since}"
    for _ in central.odata_pages(XML_FORM_ID, filter=window):
        pass
    for _ in central.deleted_pages(XML_FORM_ID):
        pass


def _submit_new(central: CentralSubmissions, settings: Settings) -> None:
    session = central.client.session
    url = f"projects/{settings.central_project_id}/forms/{XML_FORM_ID}/submissions"
    for xml in many_submissions(NEW_ROWS, start=10_000_000):
        response = session.post(
            url, data=xml.encode(), headers={"Content-Type": "application/xml"}
        )
        response.raise_for_status()


def _report(size: int, f: dict[str, float], *, simulator: bool = True) -> None:
    def line(name: str, seconds: float) -> str:
        return f"{name:<48} {seconds:8.2f} s {size / seconds:10,.0f} rows/s"

    say(line("raw OData fetch ($expand=*, pages of 5,000)", f["raw"]))
    again = "rows already rendered" if simulator else "read again"
    say(line(f"  the same again ({again})", f["raw_warm"]))
    if simulator:
        say(line("  a real Central at 5,500 rows/s (observed)", size / 5500))
    say(line("pyodk get_table paged + pandas.json_normalize", f["by_hand"]))
    say(line("trogiup full pull (fetch + ledger + normalize)", f["pull"]))
    say(line("trogiup --full again (nothing changed)", f["full_again"]))
    say(_cpu_line("raw fetch", f, "raw"))
    say(_cpu_line("full pull", f, "pull"))
    if not simulator:
        say(
            "ratio full pull / raw fetch:        "
            f"{f['pull'] / f['raw']:.2f} (target <= 1.1)"
        )
        say(f"ratio full pull / raw fetch again:  {f['pull'] / f['raw_warm']:.2f}")
        say(f"ratio by hand / raw fetch:          {f['by_hand'] / f['raw']:.2f}")
        return
    say(
        f"{f'trogiup incremental pull, {NEW_ROWS} new rows':<48} "
        f"{f['incremental']:8.2f} s {NEW_ROWS / f['incremental']:10,.0f} rows/s"
    )
    say(
        f"{'  of which the same queries to Central alone':<48} "
        f"{f['incremental_central']:8.2f} s"
    )
    say(
        "ratio full pull / raw fetch:        "
        f"{f['pull'] / f['raw']:.2f} (target <= 1.1)"
    )
    say(f"ratio full pull / raw fetch again:  {f['pull'] / f['raw_warm']:.2f}")
    say(f"ratio full pull / real Central:     {f['pull'] / (size / 5500):.2f}")
    say(f"ratio by hand / raw fetch:          {f['by_hand'] / f['raw']:.2f}")
    say(
        "ratio incremental / full pull:      "
        f"{f['incremental'] / f['pull']:.4f} (new rows / total: "
        f"{NEW_ROWS / size:.4f})"
    )


def _cpu_line(name: str, f: dict[str, float], key: str) -> str:
    line = f"  CPU of the {name}: trogiup {f[f'{key}_cpu']:.2f} s"
    if f"{key}_server_cpu" in f:
        line += f", the simulator {f[f'{key}_server_cpu']:.2f} s"
    return line


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class _CPU:
    """CPU seconds spent in a block by this process (every thread) and, when
    its pid is given, by the server: on a machine that runs both, their sum
    over the cores bounds how fast the block can be."""

    def __init__(self, server_pid: int | None, figures: dict, name: str) -> None:
        self.server_pid, self.figures, self.name = server_pid, figures, name

    def __enter__(self) -> None:
        self.client = time.process_time()
        self.server = _process_cpu(self.server_pid)

    def __exit__(self, *exc) -> None:
        self.figures[f"{self.name}_cpu"] = time.process_time() - self.client
        server = _process_cpu(self.server_pid)
        if server is not None and self.server is not None:
            self.figures[f"{self.name}_server_cpu"] = server - self.server


def _process_cpu(pid: int | None) -> float | None:
    """User and system CPU seconds of a running process, from /proc (Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of stat(5); 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _seed(db_path: Path, size: int) -> tuple[int, float]:
    started = time.perf_counter()
    store = Store(db_path)
    store.ensure_admin(email=EMAIL, password=PASSWORD)
    project_id = store.create_project(name="bench")
    store.create_form(project_id=project_id, xml=form_xml("v1").encode(), publish=True)
    # Spread over the past 30 days in 1,000 batches, as collection would be:
    # the overlap window before the cursor then covers the last batch only.
    batch = max(size // 1000, 1)
    start = datetime.now(UTC) - timedelta(days=30)
    for n, first in enumerate(range(0, size, batch)):
        store.bulk_submit(
            project_id,
            XML_FORM_ID,
            many_submissions(min(batch, size - first), start=first),
            created_at=start + timedelta(minutes=43 * n),
        )
    store.close()
    return project_id, time.perf_counter() - started


class _simulator:
    """``trogiup central-sim`` in a child process, until the block ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> "_simulator":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [sys.executable, "-c", "from server.cli import main; main()"]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter
            [
                *command,
                "central-sim",
                "--port",
                str(port),
                "--email",
                EMAIL,
                "--password",
                PASSWORD,
                "--db",
                str(self.folder / "central.sqlite3"),
            ],
            env={**os.environ, "TROGIUP_DATA_DIR": str(self.folder)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(port)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the simulator did not start")


def _seed_over_http(
    url: str, email: str, password: str, size: int
) -> tuple[int, float]:
    """A new project with the form, and ``size`` submissions through Central's
    REST endpoint, a few at a time."""
    started = time.perf_counter()
    http = requests.Session()
    token = _ok(
        http.post(f"{url}/v1/sessions", json={"email": email, "password": password})
    ).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    name = f"trogiup bench {size} {datetime.now(UTC):%Y%m%dT%H%M%S}"
    project_id = _ok(http.post(f"{url}/v1/projects", json={"name": name})).json()["id"]
    _ok(
        http.post(
            f"{url}/v1/projects/{project_id}/forms?publish=true",
            data=form_xml("v1").encode(),
            headers={"Content-Type": "application/xml"},
        )
    )
    target = f"{url}/v1/projects/{project_id}/forms/{XML_FORM_ID}/submissions"

    def submit(xml: str) -> None:
        _ok(
            http.post(
                target, data=xml.encode(), headers={"Content-Type": "application/xml"}
            )
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        for done, _ in enumerate(pool.map(submit, many_submissions(size)), 1):
            if done % 10_000 == 0:
                say(f"  seeded {done:,}")
    http.close()
    return project_id, time.perf_counter() - started


def _ok(response: requests.Response) -> requests.Response:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.url}: {response.status_code} "
            f"{response.text[:300]}"
        )
    return response


def _settings(
    url: str,
    project_id: int,
    folder: Path,
    database_url,
    *,
    email: str = EMAIL,
    password: str = PASSWORD,
) -> Settings:
    return Settings(
        environment="test",
        # Outside development a key is required; the benchmark never signs in.
        secret_key=secrets.token_urlsafe(48),
        data_dir=folder,
        database_url=database_url,
        central_url=url,
        central_email=email,
        central_password=password,
        central_project_id=project_id,
        central_timeout=600,
    )


def _central(settings: Settings) -> CentralSubmissions:
    return CentralSubmissions(
        connect(settings),
        project_id=settings.central_project_id,
        timeout=settings.central_timeout,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
