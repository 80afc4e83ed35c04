"""Sessions, the current user, app user sessions, draft discard and the audit
log, in the shapes the real Central was recorded answering with."""

import httpx
import pytest

from tests.central_sim import forms

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def api(central_sim, central_project_id):
    client = httpx.Client(base_url=f"{central_sim.url}/v1", timeout=10)
    token = client.post(
        "/sessions",
        json={"email": central_sim.email, "password": central_sim.password},
    ).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    client.project = f"/projects/{central_project_id}"
    client.form = f"{client.project}/forms/{forms.FORM_ID}"
    yield client
    client.close()


def test_session__missing_password__is_400_3(central_sim):
    response = httpx.post(
        f"{central_sim.url}/v1/sessions", json={"email": central_sim.email}
    )

    assert (response.status_code, response.json()["code"]) == (400, 400.3)


def test_session__logged_out__token_stops_working(api):
    assert api.delete("/sessions/current").json() == {"success": True}

    assert api.get("/users/current").status_code == 401


def test_current_user__carries_email_and_last_login(api, central_sim):
    body = api.get("/users/current").json()

    assert list(body)[:3] == ["email", "lastLoginAt", "id"]
    assert body["email"] == central_sim.email and body["lastLoginAt"]


def test_app_user__created_with_a_session_that_never_expires(api):
    body = api.post(f"{api.project}/app-users", json={"displayName": "d1"}).json()

    assert list(body)[-3:] == ["token", "csrf", "expiresAt"]
    assert body["expiresAt"].startswith("9999-12-31")
    listed = api.get(f"{api.project}/app-users").json()
    assert "csrf" not in listed[0] and listed[0]["token"] == body["token"]


def test_draft__discarded__leaves_the_published_version(api):
    api.post(f"{api.project}/forms?publish=true", content=forms.xform())
    api.post(f"{api.form}/draft", content=forms.xform("v2")).raise_for_status()

    discarded = api.delete(f"{api.form}/draft")

    assert discarded.json() == {"success": True}
    assert api.get(f"{api.form}/draft").status_code == 404
    assert api.get(api.form).json()["version"] == "v1"


def test_audits__create_review_and_edit__newest_first(api):
    api.post(f"{api.project}/forms?publish=true", content=forms.xform())
    original, edited = forms.new_instance_id(), forms.new_instance_id()
    api.post(
        f"{api.form}/submissions",
        content=forms.submission(instance_id=original),
        headers=XML,
    ).raise_for_status()
    api.patch(f"{api.form}/submissions/{original}", json={"reviewState": "approved"})
    api.put(
        f"{api.form}/submissions/{original}",
        content=forms.submission(instance_id=edited, deprecated_id=original),
        headers=XML,
    ).raise_for_status()

    audits = api.get(f"{api.form}/submissions/{original}/audits").json()

    assert [a["action"] for a in audits] == [
        "submission.update.version",
        "submission.update",
        "submission.create",
    ]
    assert audits[0]["details"]["instanceId"] == edited
    assert audits[1]["details"]["reviewState"] == "approved"
    assert list(audits[2]) == [
        "actorId", "action", "acteeId", "details", "loggedAt", "notes",
    ]  # fmt: skip
    api.get(f"{api.form}/submissions.csv").raise_for_status()
    exports = api.get("/audits", params={"action": "form.submission.export"}).json()
    assert len(exports) == 1
