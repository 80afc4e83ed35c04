"""Record the contract scenario from a live ODK Central.

    python -m tests.contract.record --url http://127.0.0.1:8383 \\
        --email admin@example.org --password ... --central-commit <sha>

Writes tests/contract/fixtures/central_<scenario>.json. It only replays HTTP
against a server someone else started; it neither builds nor runs Central.
Each run creates a new project on that server.
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

from tests.contract.scenario import run_scenario
from tests.contract.scenarios import SCENARIOS

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_path(scenario: str) -> Path:
    return FIXTURES / f"central_{scenario}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="core")
    parser.add_argument(
        "--central-commit",
        required=True,
        help="git commit of the central-backend the server runs",
    )
    args = parser.parse_args(argv)

    exchanges = run_scenario(
        args.url,
        args.email,
        args.password,
        steps=SCENARIOS[args.scenario],
        retry_reads=True,
    )
    document = {
        "scenario": args.scenario,
        "central_backend_commit": args.central_commit,
        "recorded_at": datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        ),
        "exchanges": [exchange.as_dict() for exchange in exchanges],
    }
    path = fixture_path(args.scenario)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    sys.stdout.write(f"{len(exchanges)} exchanges written to {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
