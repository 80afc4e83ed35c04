"""Fault injection: 5xx, latency, timeouts and dropped connections on chosen
requests, in process and over the simulator's own ``/_sim/faults``."""

import time

import httpx
import pytest

from tests.central_sim import forms


@pytest.fixture
def client(central_sim, central_project_id):
    with httpx.Client(base_url=central_sim.url, timeout=5) as http:
        token = http.post(
            "/v1/sessions",
            json={"email": central_sim.email, "password": central_sim.password},
        ).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


def test_status_fault__answers_once_then_clears(central_sim, client):
    central_sim.faults.add(r"/v1/projects$", "status", status=503)

    first, second = client.get("/v1/projects"), client.get("/v1/projects")

    assert (first.status_code, second.status_code) == (503, 200)


def test_latency_fault__delays_the_answer(central_sim, client):
    central_sim.faults.add(r"/v1/projects", "latency", seconds=0.3)

    started = time.monotonic()
    response = client.get("/v1/projects")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_timeout_fault__outlasts_the_client(central_sim, client):
    central_sim.faults.add(r"/v1/projects", "timeout", seconds=2)

    with pytest.raises(httpx.ReadTimeout):
        client.get("/v1/projects", timeout=0.3)


def test_drop_fault__breaks_one_odata_page(central_sim, client, central_project_id):
    client.post(
        f"/v1/projects/{central_project_id}/forms?publish=true", content=forms.xform()
    ).raise_for_status()
    svc = f"/v1/projects/{central_project_id}/forms/{forms.FORM_ID}.svc"
    central_sim.faults.add(r"Submissions\?.*%24top", "drop", after_bytes=5)

    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{svc}/Submissions", params={"$top": 1})
    assert client.get(f"{svc}/Submissions", params={"$top": 1}).status_code == 200


def test_http_control__adds_and_clears_faults(client):
    added = client.post(
        "/_sim/faults",
        json={
            "path_regex": "/v1/projects",
            "kind": "status",
            "status": 500,
            "times": None,
        },
    )
    failing = [client.get("/v1/projects").status_code for _ in range(2)]
    client.delete("/_sim/faults")

    assert added.status_code == 201
    assert failing == [500, 500]
    assert client.get("/v1/projects").status_code == 200
