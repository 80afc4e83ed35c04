"""Two boundaries of the layout, checked by importing in a fresh interpreter.

The Central simulator (central_sim/) is a developer and demo tool: no
production path may depend on it, so importing the API, the command, the pull,
the form deployment or the workers must not load it (``trogiup central-sim``
and the demo import it only when they run). analysis/ holds the pandas
indicator code and works on data handed to it: it must not load the server,
the workers, a Central client (pyodk) or the simulator, so it can be tested
and reused on its own."""

import subprocess
import sys

PRODUCTION_MODULES = [
    "server.app",
    "server.cli",
    "server.submissions.pull",
    "server.forms.deploy",
    "workers.celery_app",
    "workers.submissions",
    "workers.embedded",
]


def loaded_after_import(*modules: str) -> set[str]:
    code = f"import sys, {', '.join(modules)}; print('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_production_modules__do_not_load_the_simulator():
    loaded = loaded_after_import(*PRODUCTION_MODULES)

    assert not any(name.startswith("central_sim") for name in loaded)


def test_analysis__does_not_load_the_server_or_a_central_client():
    loaded = loaded_after_import("analysis", "analysis.indicators")

    forbidden = ("server", "pyodk", "fastapi", "central_sim", "workers")
    assert not [name for name in loaded if name.split(".")[0] in forbidden]
