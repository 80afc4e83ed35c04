"""How fast the Central simulator seeds and serves OData: submissions with a
two-row repeat, the Submissions table in one call and paged by 5,000, and the
repeat table paged by 5,000. Prints figures; asserts nothing.

The client runs in the simulator's own process (``run_in_thread``), so the
figures include parsing the JSON and share one interpreter lock. For scale: a
real Central (server, PostgreSQL and client on one 2-core machine) served about
6,000 rows/s in one call.

    .venv/bin/python -m benchmarks central_sim
    .venv/bin/python -m benchmarks.central_sim --sizes 10000 100000
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

from central_sim.server import run_in_thread
from tests.central_sim.forms import FORM_ID, submission, xform

EMAIL = "bench@example.org"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway local simulator
PAGE = 5000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.central_sim")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    args = parser.parse_args(argv or [])
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="trogiup-sim-bench-") as folder:
            _one_size(size, Path(folder) / "central.sqlite3")


def _one_size(size: int, db_path: Path) -> None:
    with run_in_thread(db_path=db_path, email=EMAIL, password=PASSWORD) as sim:
        project_id = sim.store.create_project(name="bench")
        sim.store.create_form(project_id=project_id, xml=xform(), publish=True)
        documents = (submission(respondent=f"P{i}") for i in range(size))
        seconds = _timed(lambda: sim.store.bulk_submit(project_id, FORM_ID, documents))
        say(f"-- {size:,} submissions: seeded in {seconds:.1f} s")
        with httpx.Client(base_url=sim.url, timeout=600) as client:
            _login(client)
            svc = f"/v1/projects/{project_id}/forms/{FORM_ID}.svc"
            _report("Submissions, one call", client, f"{svc}/Submissions", None)
            _report("Submissions, paged", client, f"{svc}/Submissions", PAGE)
            _report("repeat table, paged", client, f"{svc}/Submissions.household", PAGE)


def _login(client: httpx.Client) -> None:
    token = client.post(
        "/v1/sessions", json={"email": EMAIL, "password": PASSWORD}
    ).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"


def _report(label: str, client: httpx.Client, url: str, page: int | None) -> None:
    rows = 0
    started = time.perf_counter()
    url = f"{url}?$top={page}" if page else url
    while url:
        body = client.get(url).json()
        rows += len(body["value"])
        url = body.get("@odata.nextLink")
    seconds = time.perf_counter() - started
    say(f"{label}: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
