"""The recorded scenarios by name, each with fixtures/central_<name>.json."""

from tests.contract import edges, extra, scenario, sync

SCENARIOS = {
    "core": scenario.STEPS,
    "extra": extra.STEPS,
    "sync": sync.STEPS,
    "edges": edges.STEPS,
}
