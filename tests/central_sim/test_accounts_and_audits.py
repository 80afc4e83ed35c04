"""Sessions, the current user, app user sessions, draft discard and the audit
log, in the shapes the real Central was recorded answering with."""

import httpx

from tests.central_sim import forms
from tests.central_sim.calls import XML


def test_session__missing_password__is_400_3(central_sim):
    response = httpx.post(
        f"{central_sim.url}/v1/sessions", json={"email": central_sim.email}
    )

    assert (response.status_code, response.json()["code"]) == (400, 400.3)


def test_session__logged_out__token_stops_working(admin_http):
    assert admin_http.delete("/sessions/current").json() == {"success": True}

    assert admin_http.get("/users/current").status_code == 401


def test_current_user__carries_email_and_last_login(admin_http, central_sim):
    body = admin_http.get("/users/current").json()

    assert list(body)[:3] == ["email", "lastLoginAt", "id"]
    assert body["email"] == central_sim.email and body["lastLoginAt"]


def test_app_user__created_with_a_session_that_never_expires(admin_http):
    body = admin_http.post(
        f"{admin_http.project}/app-users", json={"displayName": "d1"}
    ).json()

    assert list(body)[-3:] == ["token", "csrf", "expiresAt"]
    assert body["expiresAt"].startswith("9999-12-31")
    listed = admin_http.get(f"{admin_http.project}/app-users").json()
    assert "csrf" not in listed[0] and listed[0]["token"] == body["token"]


def test_draft__discarded__leaves_the_published_version(admin_http):
    admin_http.post(f"{admin_http.project}/forms?publish=true", content=forms.xform())
    admin_http.post(
        f"{admin_http.form}/draft", content=forms.xform("v2")
    ).raise_for_status()

    discarded = admin_http.delete(f"{admin_http.form}/draft")

    assert discarded.json() == {"success": True}
    assert admin_http.get(f"{admin_http.form}/draft").status_code == 404
    assert admin_http.get(admin_http.form).json()["version"] == "v1"


def test_audits__create_review_and_edit__newest_first(admin_http):
    admin_http.post(f"{admin_http.project}/forms?publish=true", content=forms.xform())
    original, edited = forms.new_instance_id(), forms.new_instance_id()
    admin_http.post(
        f"{admin_http.form}/submissions",
        content=forms.submission(instance_id=original),
        headers=XML,
    ).raise_for_status()
    admin_http.patch(
        f"{admin_http.form}/submissions/{original}", json={"reviewState": "approved"}
    )
    admin_http.put(
        f"{admin_http.form}/submissions/{original}",
        content=forms.submission(instance_id=edited, deprecated_id=original),
        headers=XML,
    ).raise_for_status()

    audits = admin_http.get(f"{admin_http.form}/submissions/{original}/audits").json()

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


def test_app_user__deleted__loses_access(admin_http, central_sim):
    body = admin_http.post(
        f"{admin_http.project}/app-users", json={"displayName": "d1"}
    ).json()

    deleted = admin_http.delete(f"{admin_http.project}/app-users/{body['id']}")

    listed = admin_http.get(f"{admin_http.project}/app-users").json()
    key = f"{admin_http.root}/key/{body['token']}{admin_http.project}/formList"
    refused = httpx.get(key, headers={"X-OpenRosa-Version": "1.0"})
    assert deleted.json() == {"success": True} and listed == []
    assert refused.status_code == 403
