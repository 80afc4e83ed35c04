"""``make run`` with nothing configured: the whole system on SQLite, the demo
simulator seeded with synthetic submissions, pulled, and served."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.factories.process import trogiup_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, *, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    return None


def get(url: str):
    try:
        return httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None


@pytest.fixture
def running_system(tmp_path):
    port = free_port()
    env = trogiup_env(TROGIUP_DATA_DIR=str(tmp_path), TROGIUP_PORT=str(port))
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from server.cli import main; main()", "run"],
            env=env,
            # Started elsewhere than the repository: the demo finds forms/ itself.
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield f"http://127.0.0.1:{port}", log
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.java
def test_run__serves_health_and_pulls_the_demo_data(running_system):
    url, log = running_system

    health = wait_for(lambda: get(f"{url}/health"), seconds=120)

    assert health is not None, log.read_text()[-3000:]
    assert health.json() == {"status": "ok", "database": "sqlite", "mode": "embedded"}

    def pulled():
        response = get(f"{url}/api/v1/forms/status")
        forms = response.json() if response is not None else []
        ids = {form["xml_form_id"] for form in forms if form["counts"]["current"]}
        return ids if len(ids) == 3 else None

    assert wait_for(pulled, seconds=120) == {
        "ag_child_case",
        "ag_commune_drugfree",
        "ag_tip_review",
    }
    assert "Central SIMULATOR" in log.read_text()
