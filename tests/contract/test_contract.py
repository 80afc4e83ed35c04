"""The simulator answers the recorded scenario exactly as a real Central did.

The fixture in tests/contract/fixtures/ was recorded from central-backend
(commit at its top) by tests/contract/record.py. Every exchange must match:
status, the recorded headers and the normalized body, keys in the same order.
`python -m tests.contract.compare` prints the same report outside pytest.
"""

import pytest

from tests.contract.compare import differences, recorded_exchanges, replay

# Every recorded scenario; a new one joins once the simulator answers it.
CHECKED_SCENARIOS = ["core", "extra", "sync", "edges"]


@pytest.mark.parametrize("scenario", CHECKED_SCENARIOS)
def test_simulator__replays_recorded_scenario__as_real_central_answered(
    central_sim, scenario
):
    recorded = recorded_exchanges(scenario)

    replayed = replay(
        central_sim.url, central_sim.email, central_sim.password, scenario
    )

    report = differences(recorded, replayed)
    assert not report, (
        f"{len(report)} of {len(recorded)} exchanges differ from the real Central:\n\n"
        + "\n\n".join(report)
    )
