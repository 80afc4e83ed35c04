"""An administrator's HTTP client on the simulator, with or without the test
form published."""

import httpx
import pytest

from tests.central_sim import forms


@pytest.fixture
def admin_http(central_sim, central_project_id):
    """Logged in through ``POST /v1/sessions``; ``.project`` and ``.form`` are
    the paths of the test project and form, ``.root`` the absolute ``/v1``."""
    client = httpx.Client(base_url=f"{central_sim.url}/v1", timeout=10)
    token = client.post(
        "/sessions",
        json={"email": central_sim.email, "password": central_sim.password},
    ).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    client.root = f"{central_sim.url}/v1"
    client.project = f"/projects/{central_project_id}"
    client.form = f"{client.project}/forms/{forms.FORM_ID}"
    yield client
    client.close()


@pytest.fixture
def api(admin_http):
    """``admin_http`` with the test form published."""
    admin_http.post(
        f"{admin_http.project}/forms?publish=true", content=forms.xform()
    ).raise_for_status()
    return admin_http
