"""Compare a server's answers to the contract scenario with the recording.

    python -m tests.contract.compare                  # a fresh simulator
    python -m tests.contract.compare --url URL --email E --password P

Prints one unified diff per exchange that differs from what the real Central
answered (tests/contract/fixtures/), and exits 1 when any does.
"""

import argparse
import difflib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.contract.record import fixture_path
from tests.contract.scenario import run_scenario
from tests.contract.scenarios import SCENARIOS

COMPARED = ("method", "path", "status", "headers", "body")
MAX_DIFF_LINES = 80
SIM_EMAIL = "admin@example.org"
SIM_PASSWORD = "sim-password-1"


def recorded_exchanges(scenario: str) -> list[dict[str, Any]]:
    return json.loads(fixture_path(scenario).read_text())["exchanges"]


def _shown(exchange: dict[str, Any]) -> list[str]:
    # Text, not dict equality: key order is part of what Central answers.
    kept = {key: exchange[key] for key in COMPARED}
    return json.dumps(kept, indent=1, ensure_ascii=False).splitlines()


def _diff(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    diff = list(
        difflib.unified_diff(
            _shown(expected), _shown(got), "real Central", "replayed", lineterm=""
        )
    )
    if len(diff) > MAX_DIFF_LINES:
        more = len(diff) - MAX_DIFF_LINES
        diff = [*diff[:MAX_DIFF_LINES], f"... {more} more diff lines"]
    return diff


def differences(
    recorded: list[dict[str, Any]], replayed: list[dict[str, Any]]
) -> list[str]:
    """One readable entry per exchange that does not match, in scenario order."""
    by_name = {exchange["name"]: exchange for exchange in replayed}
    report = []
    for expected in recorded:
        got = by_name.pop(expected["name"], None)
        if got is None:
            report.append(f"{expected['name']}: not replayed")
            continue
        diff = _diff(expected, got)
        if diff:
            report.append(f"{expected['name']}:\n" + "\n".join(diff))
    report.extend(
        f"{name}: not in the recording: {extra['body']}"
        for name, extra in by_name.items()
    )
    return report


def replay(url: str, email: str, password: str, scenario: str) -> list[dict[str, Any]]:
    steps = SCENARIOS[scenario]
    exchanges = run_scenario(url, email, password, steps=steps, keep_going=True)
    return [exchange.as_dict() for exchange in exchanges]


def replay_on_fresh_simulator(scenario: str) -> list[dict[str, Any]]:
    from central_sim.server import run_in_thread

    with (
        tempfile.TemporaryDirectory() as folder,
        run_in_thread(
            db_path=Path(folder) / "central-sim.sqlite3",
            email=SIM_EMAIL,
            password=SIM_PASSWORD,
        ) as simulator,
    ):
        return replay(simulator.url, simulator.email, simulator.password, scenario)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server; default: a new simulator")
    parser.add_argument("--email", default=SIM_EMAIL)
    parser.add_argument("--password", default=SIM_PASSWORD)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="core")
    args = parser.parse_args(argv)

    if args.url:
        replayed = replay(args.url, args.email, args.password, args.scenario)
    else:
        replayed = replay_on_fresh_simulator(args.scenario)
    recorded = recorded_exchanges(args.scenario)
    report = differences(recorded, replayed)
    sys.stdout.write(f"{len(report)} of {len(recorded)} exchanges differ\n\n")
    sys.stdout.write("\n\n".join(report) + "\n")
    return 1 if report else 0


if __name__ == "__main__":
    raise SystemExit(main())
