"""A fourth conversation: the edges of what the simulator answers.

Each exchange here is a behaviour the simulator has and the other scenarios
never show: sessions ended and Basic auth over HTTPS, the project list, app
users deleted or reaching past their assignments, forms that are only drafts,
edits that conflict, resubmissions of old versions and deleted submissions,
the OData filter functions and ``$root`` paths, ``$top=0``, ``$search``, bad
skiptokens and ``$select`` refusals, and an encrypted submission whose data
file never came.

Recorded from a Central with no XLSForm service configured (``xlsform.host``
blank), the case the simulator stands for: it answers an XLSForm upload with
Central's 501.3 rather than converting it.
"""

import base64
import json
import re
from datetime import datetime

from tests.contract import xforms
from tests.contract.scenario import (
    APP_USER_ROLE,
    DEVICE_ID,
    OPENROSA,
    PROJECT_NAME,
    Conversation,
    _basic,
    follow_pages,
    project_with_published_form,
    sessions,
)
from tests.contract.xforms import (
    MEDIA_FILE,
    MEDIA_FORM_ID,
    SECRET_FORM_ID,
    UUID_A,
    UUID_A2,
    UUID_B,
    UUID_BAD,
    UUID_C,
    UUID_D,
    XML_FORM_ID,
    submission,
)

XML = {"Content-Type": "application/xml"}
HTTPS = {"X-Forwarded-Proto": "https"}
DRAFT_FORM_ID = "contract_draft"
PYODK_FORM_ID = "contract_pyodk"
UUID_A3 = "uuid:0a000000-0000-4000-8000-0000000000a3"
UUID_SECRET_BARE = "uuid:5e000000-0000-4000-8000-0000000000b0"
# An id no Central hands out this early, and that fits its integer columns.
NO_SUCH_ID = 999999999
OTHER_PROJECT_NAME = "A contract neighbour"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _skiptoken(data) -> str:
    return "01" + base64.b64encode(json.dumps(data).encode()).decode()


def _form_xml(xml_form_id: str, version: str = "v1") -> str:
    return xforms.FORM_XML.replace('id="contract_case"', f'id="{xml_form_id}"').replace(
        'version="draft1"', f'version="{version}"'
    )


def setup(talk: Conversation, email: str, password: str) -> None:
    """Two projects, the case form published in the first, an app user on it."""
    other = talk.call(
        "other_project_create",
        "POST",
        "/v1/projects",
        json={"name": OTHER_PROJECT_NAME},
        id_kind="project",
        names=lambda made: talk.norm.name("project", made.json()["id"], "other"),
    )
    talk.other_project = other.json()["id"]
    project_with_published_form(talk, f"{PROJECT_NAME} edges", _form_xml(XML_FORM_ID))
    _app_user(talk, "app_user_create", "edge-device", "app_user")
    talk.call(
        "app_user_assign_form",
        "POST",
        f"{talk.form}/assignments/{APP_USER_ROLE}/{talk.key_actor}",
        shown=f"{talk.form}/assignments/{APP_USER_ROLE}/<app_user>",
    )


def _app_user(talk: Conversation, name: str, display: str, label: str) -> None:
    response = talk.call(
        name,
        "POST",
        f"/v1/projects/{talk.project}/app-users",
        json={"displayName": display},
        id_kind="actor",
        names=lambda made: talk.norm.name("actor", made.json()["id"], label),
    )
    made = response.json()
    talk.norm.secret(made["token"], f"{label}_token")
    if label == "app_user":
        talk.key, talk.key_actor = made["token"], made["id"]
    else:
        talk.key_2, talk.key_actor_2 = made["token"], made["id"]


def session_refusals(talk: Conversation, email: str, password: str) -> None:
    # Central quotes what it was sent, the password included.
    talk.norm.secret(password, "password")
    bodies = [
        ("session_missing_password", {"email": email}),
        ("session_empty_email", {"email": "", "password": password}),
        ("session_space_email", {"email": " ", "password": password}),
        ("session_empty_object", {}),
        ("session_number_password", {"email": email, "password": 1234567890}),
        ("session_unknown_email", {"email": "nobody@example.org", "password": "x"}),
    ]
    for name, body in bodies:
        talk.call(name, "POST", "/v1/sessions", auth=False, json=body)
    talk.call(
        "session_not_json",
        "POST",
        "/v1/sessions",
        auth=False,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )


def basic_auth_over_https(talk: Conversation, email: str, password: str) -> None:
    """Central takes Basic auth when a proxy in front says the client used
    HTTPS (``X-Forwarded-Proto``), as Central's own nginx does."""
    for name, login in (
        ("basic_auth_over_https", (email, password)),
        ("basic_auth_https_wrong_password", (email, password + "-wrong")),
        ("basic_auth_https_unknown_email", ("nobody@example.org", password)),
    ):
        talk.call(
            name,
            "GET",
            "/v1/users/current",
            auth=False,
            headers={**HTTPS, "Authorization": _basic(*login)},
            id_kind="actor",
        )


def _login(talk: Conversation, name: str, email: str, password: str) -> str:
    token = talk.call(
        name,
        "POST",
        "/v1/sessions",
        auth=False,
        json={"email": email, "password": password},
    ).json()["token"]
    talk.norm.secret(token, name)
    return token


def logouts(talk: Conversation, email: str, password: str) -> None:
    second = _login(talk, "session_second", email, password)
    talk.call(
        "logout_current",
        "DELETE",
        "/v1/sessions/current",
        auth=False,
        headers=_bearer(second),
    )
    talk.call(
        "logged_out_token",
        "GET",
        "/v1/users/current",
        auth=False,
        headers=_bearer(second),
    )
    third = _login(talk, "session_third", email, password)
    talk.call("logout_other_by_token", "DELETE", f"/v1/sessions/{third}")
    talk.call(
        "logged_out_other_token",
        "GET",
        "/v1/users/current",
        auth=False,
        headers=_bearer(third),
    )
    talk.call("logout_unknown_token", "DELETE", "/v1/sessions/not-a-real-token")
    talk.call("logout_current_anonymous", "DELETE", "/v1/sessions/current", auth=False)


def projects(talk: Conversation, email: str, password: str) -> None:
    mine = {talk.project, talk.other_project}
    talk.call(
        "project_list",
        "GET",
        "/v1/projects",
        id_kind="project",
        keep=lambda listed: [p for p in listed if p["id"] in mine],
    )
    talk.call("project_create_missing_name", "POST", "/v1/projects", json={})
    talk.call(
        "project_create_empty_name",
        "POST",
        "/v1/projects",
        json={"name": ""},
        id_kind="project",
    )
    talk.call("project_get_unknown", "GET", f"/v1/projects/{NO_SUCH_ID}")
    talk.call("project_get_not_a_number", "GET", "/v1/projects/abc")
    talk.call(
        "project_app_user_reads_project",
        "GET",
        f"{talk.key_root}",
        auth=False,
    )


def app_user_reach(talk: Conversation, email: str, password: str) -> None:
    """What an app user may and may not do, assigned to a form or not."""
    project = f"/v1/projects/{talk.project}"
    talk.call("app_user_create_missing_name", "POST", f"{project}/app-users", json={})
    _app_user(talk, "app_user_create_second", "edge-device-2", "app_user_2")
    keyed = f"/v1/key/{talk.key}"
    keyed_2 = f"/v1/key/{talk.key_2}"
    form = talk.form.removeprefix("/v1")
    talk.call(
        "app_user_current", "GET", f"{keyed}/users/current", auth=False, id_kind="actor"
    )
    talk.call("app_user_form_get", "GET", f"{keyed}{form}", auth=False)
    talk.call("app_user_form_xml", "GET", f"{keyed}{form}.xml", auth=False)
    talk.call("unassigned_form_xml", "GET", f"{keyed_2}{form}.xml", auth=False)
    talk.call("app_user_rest_list", "GET", f"{keyed}{form}/submissions", auth=False)
    for name, key, instance_id in (
        ("app_user_rest_submit", keyed, UUID_C),
        ("unassigned_rest_submit", keyed_2, UUID_BAD),
    ):
        talk.call(
            name,
            "POST",
            f"{key}{form}/submissions",
            auth=False,
            content=submission(instance_id, age="5"),
            headers=XML,
        )
    talk.call(
        "unassigned_openrosa_submit",
        "POST",
        f"{keyed_2}{project.removeprefix('/v1')}/submission",
        auth=False,
        headers=OPENROSA,
        files={"xml_submission_file": ("s.xml", submission(UUID_BAD), "text/xml")},
    )
    _form_lists(talk, keyed, keyed_2)


def _form_lists(talk: Conversation, keyed: str, keyed_2: str) -> None:
    project = f"/projects/{talk.project}"
    other = f"/projects/{talk.other_project}"
    lists = [
        ("unassigned_formlist", f"{keyed_2}{project}/formList", None),
        ("formlist_by_form_id", f"{keyed}{project}/formList", XML_FORM_ID),
        ("formlist_other_form_id", f"{keyed}{project}/formList", "no_such_form"),
        ("formlist_other_project", f"{keyed}{other}/formList", None),
    ]
    for name, path, form_id in lists:
        params = {"formID": form_id} if form_id else None
        talk.call(name, "GET", path, auth=False, params=params, headers=OPENROSA)


def assignments_and_deletion(talk: Conversation, email: str, password: str) -> None:
    project = f"/v1/projects/{talk.project}"
    assignments = f"{talk.form}/assignments"
    talk.call(
        "assign_unknown_actor",
        "POST",
        f"{assignments}/{APP_USER_ROLE}/{NO_SUCH_ID}",
    )
    talk.call(
        "assign_unknown_role",
        "POST",
        f"{assignments}/{NO_SUCH_ID}/{talk.key_actor_2}",
        shown=f"{assignments}/{NO_SUCH_ID}/<app_user_2>",
    )
    # Central takes any role it has on a form (3, the password reset token's,
    # is refused; 4 is one it does not have), as the listing then shows.
    for name, role in (
        ("assign_administrator_role", 1),
        ("assign_password_reset_role", 3),
        ("assign_role_not_there", 4),
    ):
        talk.call(
            name,
            "POST",
            f"{assignments}/{role}/{talk.key_actor_2}",
            shown=f"{assignments}/{role}/<app_user_2>",
        )
    talk.call("form_assignments_with_roles", "GET", assignments)
    second = f"{project}/app-users/{talk.key_actor_2}"
    shown = f"{project}/app-users/<app_user_2>"
    talk.call("app_user_delete", "DELETE", second, shown=shown)
    talk.call("form_assignments_after_delete", "GET", assignments)
    talk.call(
        "app_user_list_after_delete", "GET", f"{project}/app-users", id_kind="actor"
    )
    keyed_2 = f"/v1/key/{talk.key_2}"
    talk.call(
        "deleted_app_user_formlist",
        "GET",
        f"{keyed_2}/projects/{talk.project}/formList",
        auth=False,
        headers=OPENROSA,
    )
    talk.call("deleted_app_user_current", "GET", f"{keyed_2}/users/current", auth=False)
    unknown = "A" * 64
    talk.call(
        "unknown_key_formlist",
        "GET",
        f"/v1/key/{unknown}/projects/{talk.project}/formList",
        auth=False,
        headers=OPENROSA,
    )
    talk.call(
        "malformed_key_formlist",
        "GET",
        f"/v1/key/not-a-key/projects/{talk.project}/formList",
        auth=False,
        headers=OPENROSA,
    )
    talk.norm.secret(talk.token, "admin_session_token")
    talk.call(
        "session_token_as_key",
        "GET",
        f"/v1/key/{talk.token}/projects/{talk.project}/formList",
        auth=False,
        headers=OPENROSA,
    )
    talk.call("app_user_delete_again", "DELETE", second, shown=shown)
    talk.call("app_user_delete_unknown", "DELETE", f"{project}/app-users/{NO_SUCH_ID}")


def form_refusals(talk: Conversation, email: str, password: str) -> None:
    forms = f"/v1/projects/{talk.project}/forms"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    uploads = [
        ("form_create_xlsx", b"PK\x03\x04 a workbook", xlsx),
        ("form_create_malformed", b"this is not xml", "application/xml"),
        ("form_create_without_id", _form_xml("").encode(), "application/xml"),
        ("form_create_file_like_id", _form_xml("edge.xml").encode(), "application/xml"),
    ]
    for name, content, kind in uploads:
        talk.call(name, "POST", forms, content=content, headers={"Content-Type": kind})
    talk.call("form_get_unknown", "GET", f"{forms}/no_such_form")
    talk.call("form_version_xml_unknown", "GET", f"{talk.form}/versions/v9.xml")
    talk.call("form_draft_xml_without_draft", "GET", f"{talk.form}/draft.xml")
    talk.call("form_publish_without_draft", "POST", f"{talk.form}/draft/publish")
    talk.call(
        "form_draft_other_form_id",
        "POST",
        f"{talk.form}/draft",
        content=_form_xml("another_form", "v2"),
        headers=XML,
    )


def draft_only_form(talk: Conversation, email: str, password: str) -> None:
    """A form created and never published: readable as a draft, and nothing
    else yet."""
    forms = f"/v1/projects/{talk.project}/forms"
    draft = f"{forms}/{DRAFT_FORM_ID}"
    talk.call(
        "draft_form_create",
        "POST",
        forms,
        content=_form_xml(DRAFT_FORM_ID, "d1"),
        headers=XML,
    )
    reads = [
        ("draft_form_xml", f"{draft}/draft.xml"),
        ("draft_form_get", draft),
        ("draft_form_published_xml", f"{draft}.xml"),
        ("draft_form_fields", f"{draft}/fields"),
        ("draft_form_versions", f"{draft}/versions"),
        ("draft_form_odata", f"{draft}.svc/Submissions"),
        ("draft_form_attachments", f"{draft}/attachments"),
        ("draft_form_list", forms),
    ]
    for name, path in reads:
        talk.call(name, "GET", path)
    talk.call("draft_form_manifest", "GET", f"{draft}/manifest", headers=OPENROSA)
    xml = submission(UUID_BAD, form_id=DRAFT_FORM_ID, version="d1")
    talk.call(
        "draft_form_rest_submit",
        "POST",
        f"{draft}/submissions",
        content=xml,
        headers=XML,
    )
    talk.call(
        "draft_form_openrosa_submit",
        "POST",
        f"{forms.removesuffix('/forms')}/submission",
        headers=OPENROSA,
        files={"xml_submission_file": ("s.xml", xml, "text/xml")},
    )
    talk.call("draft_form_new_draft_empty", "POST", f"{draft}/draft")
    talk.call("draft_form_discard", "DELETE", f"{draft}/draft")


def pyodk_form_calls(talk: Conversation, email: str, password: str) -> None:
    """Form creation and a new version the way pyodk 1.3 sends them: flags as
    Python writes booleans, and the XLSForm id fallback header."""
    forms = f"/v1/projects/{talk.project}/forms"
    form = f"{forms}/{PYODK_FORM_ID}"
    headers = {**XML, "X-XlsForm-FormId-Fallback": PYODK_FORM_ID}
    talk.call(
        "pyodk_form_create",
        "POST",
        forms,
        params={"ignoreWarnings": "True", "publish": "False"},
        content=_form_xml(PYODK_FORM_ID, "p1"),
        headers=headers,
    )
    talk.call("pyodk_form_publish", "POST", f"{form}/draft/publish")
    talk.call(
        "pyodk_new_draft",
        "POST",
        f"{form}/draft",
        params={"ignoreWarnings": "True"},
        content=_form_xml(PYODK_FORM_ID, "p2"),
        headers=headers,
    )
    talk.call(
        "pyodk_publish_version",
        "POST",
        f"{form}/draft/publish",
        params={"version": "p3"},
    )
    talk.call("pyodk_form_get", "GET", form)
    talk.call("pyodk_versions", "GET", f"{form}/versions")


def app_user_media(talk: Conversation, email: str, password: str) -> None:
    forms = f"/v1/projects/{talk.project}/forms"
    media = f"{forms}/{MEDIA_FORM_ID}"
    talk.call(
        "media_form_create",
        "POST",
        forms,
        content=xforms.MEDIA_FORM_XML,
        headers=XML,
    )
    talk.call(
        "media_upload_unexpected",
        "POST",
        f"{media}/draft/attachments/other.csv",
        content=xforms.MEDIA_CSV,
        headers={"Content-Type": "text/csv"},
    )
    talk.call(
        "media_upload",
        "POST",
        f"{media}/draft/attachments/{MEDIA_FILE}",
        content=xforms.MEDIA_CSV,
        headers={"Content-Type": "text/csv"},
    )
    talk.call("media_publish", "POST", f"{media}/draft/publish")
    talk.call(
        "media_assign",
        "POST",
        f"{media}/assignments/{APP_USER_ROLE}/{talk.key_actor}",
        shown=f"{media}/assignments/{APP_USER_ROLE}/<app_user>",
    )
    keyed = f"/v1/key/{talk.key}{media.removeprefix('/v1')}"
    talk.call(
        "app_user_media_file", "GET", f"{keyed}/attachments/{MEDIA_FILE}", auth=False
    )
    talk.call(
        "app_user_media_unknown", "GET", f"{keyed}/attachments/nope.csv", auth=False
    )
    talk.call("media_attachment_unknown", "GET", f"{media}/attachments/nope.csv")


def submissions(talk: Conversation, email: str, password: str) -> None:
    """A and B by the administrator over REST (C came from the app user)."""
    for name, instance_id, age in (
        ("submit_a", UUID_A, "7"),
        ("submit_b", UUID_B, "9"),
    ):
        visits = (("2026-11-02", "first"), ("2026-11-09", "second"))
        talk.call(
            name,
            "POST",
            f"{talk.form}/submissions",
            params={"deviceID": DEVICE_ID},
            content=submission(instance_id, age=age, visits=visits),
            headers=XML,
        )
    _send(talk, "openrosa_submit_d", submission(UUID_D, age="11"))
    # To another form, so the server-made id stays out of the case form's
    # tables, where repeat ids and skiptokens are derived from it.
    bare = re.sub(
        r"<instanceID>[^<]*</instanceID>",
        "",
        submission(UUID_BAD, form_id=PYODK_FORM_ID, version="p3"),
    )
    talk.call(
        "rest_submit_without_instance_id",
        "POST",
        f"/v1/projects/{talk.project}/forms/{PYODK_FORM_ID}/submissions",
        content=bare,
        headers=XML,
        names=lambda made: _name_generated(talk, made.json()["instanceId"]),
    )


def _name_generated(talk: Conversation, instance_id: str) -> None:
    """A server-made instanceID, labelled by its shape (digits and letters
    blanked), which is what two servers can agree on."""
    shape = re.sub(r"[0-9a-f]", "x", instance_id)
    talk.norm.secret(instance_id, f"generated {shape}")


def _send(talk: Conversation, name: str, xml: str, **kwargs) -> None:
    talk.call(
        name,
        "POST",
        f"{talk.key_root}/submission",
        auth=False,
        params={"deviceID": DEVICE_ID},
        headers=kwargs.pop("headers", OPENROSA),
        files=kwargs.pop(
            "files", {"xml_submission_file": ("submission.xml", xml, "text/xml")}
        ),
    )


def openrosa_refusals(talk: Conversation, email: str, password: str) -> None:
    xml = submission(UUID_BAD)
    _send(talk, "openrosa_without_version_header", xml, headers={})
    talk.call(
        "formlist_without_version_header",
        "GET",
        f"{talk.key_root}/formList",
        auth=False,
    )
    talk.call(
        "openrosa_head_without_version_header",
        "HEAD",
        f"{talk.key_root}/submission",
        auth=False,
    )
    _send(
        talk,
        "openrosa_without_xml_part",
        xml,
        files={"other_file": ("s.xml", xml, "text/xml")},
    )
    talk.call(
        "openrosa_not_multipart",
        "POST",
        f"{talk.key_root}/submission",
        auth=False,
        content=xml,
        headers={**OPENROSA, "Content-Type": "text/xml"},
    )
    talk.call(
        "openrosa_broken_multipart",
        "POST",
        f"{talk.key_root}/submission",
        auth=False,
        content=b'--edge\r\nContent-Disposition: form-data; name="x"\r\n\r\nno end',
        headers={**OPENROSA, "Content-Type": "multipart/form-data; boundary=edge"},
    )


def edits(talk: Conversation, email: str, password: str) -> None:
    submissions = f"{talk.form}/submissions"
    edit_a = submission(UUID_A2, age="8", deprecated_id=UUID_A)
    puts = [
        ("put_without_deprecated_id", submission(UUID_A2, age="8")),
        (
            "put_wrong_form_id",
            submission(UUID_A2, form_id="another_form", deprecated_id=UUID_A),
        ),
        ("put_edit_a", edit_a),
        ("put_stale_deprecated_id", submission(UUID_A3, deprecated_id=UUID_A)),
    ]
    for name, xml in puts:
        talk.call(name, "PUT", f"{submissions}/{UUID_A}", content=xml, headers=XML)
    openrosa = [
        ("edit_unknown_deprecated_id", submission(UUID_A3, deprecated_id=UUID_BAD)),
        ("edit_to_existing_instance_id", submission(UUID_B, deprecated_id=UUID_A2)),
        ("edit_resent_identical", edit_a),
        ("edit_resent_changed", submission(UUID_A2, age="10", deprecated_id=UUID_A)),
        (
            "resubmit_old_version",
            submission(
                UUID_A,
                age="7",
                visits=(("2026-11-02", "first"), ("2026-11-09", "second")),
            ),
        ),
    ]
    for name, xml in openrosa:
        _send(talk, name, xml)
    talk.call(
        "rest_submit_old_version_id",
        "POST",
        submissions,
        content=submission(UUID_A2, age="8"),
        headers=XML,
    )


def versions(talk: Conversation, email: str, password: str) -> None:
    submission_a = f"{talk.form}/submissions/{UUID_A}"
    talk.call("version_json", "GET", f"{submission_a}/versions/{UUID_A2}")
    talk.call(
        "version_json_extended",
        "GET",
        f"{submission_a}/versions/{UUID_A}",
        headers={"X-Extended-Metadata": "true"},
    )
    talk.call(
        "versions_extended",
        "GET",
        f"{submission_a}/versions",
        headers={"X-Extended-Metadata": "true"},
    )
    talk.call("version_unknown", "GET", f"{submission_a}/versions/{UUID_BAD}")
    talk.call("version_xml_original", "GET", f"{submission_a}/versions/{UUID_A}.xml")
    talk.call("xml_by_new_instance_id", "GET", f"{talk.form}/submissions/{UUID_A2}.xml")
    talk.call(
        "versions_of_unknown", "GET", f"{talk.form}/submissions/{UUID_BAD}/versions"
    )


def deleted_submissions(talk: Conversation, email: str, password: str) -> None:
    submissions = f"{talk.form}/submissions"
    talk.call("delete_d", "DELETE", f"{submissions}/{UUID_D}")
    _send(talk, "openrosa_resubmit_deleted", submission(UUID_D, age="11"))
    talk.call(
        "rest_resubmit_deleted",
        "POST",
        submissions,
        content=submission(UUID_D, age="11"),
        headers=XML,
    )
    talk.call("deleted_xml", "GET", f"{submissions}/{UUID_D}.xml")
    talk.call("deleted_comments", "GET", f"{submissions}/{UUID_D}/comments")
    talk.call("delete_again", "DELETE", f"{submissions}/{UUID_D}")
    talk.call("restore_live", "POST", f"{submissions}/{UUID_B}/restore")
    talk.call("restore_unknown", "POST", f"{submissions}/{UUID_BAD}/restore")


def review_and_comment_refusals(talk: Conversation, email: str, password: str) -> None:
    submission_b = f"{talk.form}/submissions/{UUID_B}"
    talk.call(
        "review_approve_b", "PATCH", submission_b, json={"reviewState": "approved"}
    )
    talk.call("review_without_state", "PATCH", submission_b, json={})
    talk.call(
        "review_not_json",
        "PATCH",
        submission_b,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    talk.call(
        "review_unknown",
        "PATCH",
        f"{talk.form}/submissions/{UUID_BAD}",
        json={"reviewState": "approved"},
    )
    talk.call("comment_without_body", "POST", f"{submission_b}/comments", json={})
    talk.call(
        "comment_empty_body", "POST", f"{submission_b}/comments", json={"body": ""}
    )
    talk.call(
        "comment_on_unknown",
        "POST",
        f"{talk.form}/submissions/{UUID_BAD}/comments",
        json={"body": "x"},
    )
    talk.call(
        "attachment_unexpected_upload",
        "POST",
        f"{submission_b}/attachments/nope.jpg",
        content=b"\xff\xd8\xff",
        headers={"Content-Type": "image/jpeg"},
    )
    talk.call("attachments_none", "GET", f"{submission_b}/attachments")
    talk.call("rest_list_after_edges", "GET", f"{talk.form}/submissions")


def _rows(talk: Conversation) -> dict[str, dict]:
    table = f"{talk.svc}/Submissions"
    listed = talk.client.get(table, headers=_bearer(talk.token)).json()["value"]
    return {row["__id"]: row for row in listed}


def odata_filter_functions(talk: Conversation, email: str, password: str) -> None:
    """Each function over every row, and then the one row picked out by the
    parts of its own submissionDate (read in UTC, as Central's database is)."""
    table = f"{talk.svc}/Submissions"
    select = "__id,__system/submissionDate,__system/updatedAt,__system/reviewState"
    for name, expression in FUNCTION_FILTERS:
        talk.call(name, "GET", table, params={"$filter": expression, "$select": select})
    stamp = _rows(talk)[UUID_B]["__system"]["submissionDate"]
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    seconds = moment.second + moment.microsecond / 1_000_000
    parts = [
        ("year", moment.year),
        ("month", moment.month),
        ("day", moment.day),
        ("hour", moment.hour),
        ("minute", moment.minute),
        ("second", f"{seconds:.3f}".rstrip("0").rstrip(".")),
    ]
    expression = " and ".join(f"{f}(__system/submissionDate) eq {v}" for f, v in parts)
    shown = " and ".join(
        f"{f}(__system/submissionDate) eq <{f} of B>" for f, _ in parts
    )
    talk.call(
        "odata_filter_parts_of_b",
        "GET",
        table,
        params={"$filter": expression, "$select": "__id"},
        shown=f"{table}?$filter={shown}&$select=__id",
    )


FUNCTION_FILTERS = [
    ("odata_filter_year", "year(__system/submissionDate) ge 2000"),
    ("odata_filter_year_before", "year(__system/submissionDate) lt 2000"),
    (
        "odata_filter_month",
        "month(__system/submissionDate) ge 1 and month(__system/submissionDate) le 12",
    ),
    ("odata_filter_day", "day(__system/submissionDate) gt 31"),
    ("odata_filter_hour", "hour(__system/submissionDate) lt 24"),
    ("odata_filter_minute", "minute(__system/submissionDate) ge 0"),
    ("odata_filter_second", "second(__system/submissionDate) lt 60"),
    ("odata_filter_updated_year", "year(__system/updatedAt) ge 2000"),
    ("odata_filter_before_now", "__system/submissionDate lt now()"),
    ("odata_filter_after_now", "__system/submissionDate gt now()"),
    ("odata_filter_not", "not (__system/reviewState eq 'approved')"),
    ("odata_filter_not_unparenthesised", "not __system/updatedAt eq null"),
    ("odata_filter_gt_null", "__system/updatedAt gt null"),
    ("odata_filter_null_eq_null", "null eq null"),
    ("odata_filter_date_literal", "__system/submissionDate gt 2000-01-01"),
    ("odata_filter_root_path", "$root/Submissions/__system/reviewState eq null"),
    ("odata_filter_root_deleted", "$root/Submissions/__system/deletedAt ne null"),
    ("odata_filter_time_not_a_time", "__system/submissionDate gt 'soon'"),
    ("odata_filter_time_of_day", "__system/submissionDate gt 12:30"),
    ("odata_filter_submitter_not_a_number", "__system/submitterId eq 'x'"),
    ("odata_filter_year_not_a_number", "year(__system/submissionDate) eq 'x'"),
    ("odata_filter_month_out_of_range", "__system/submissionDate gt 2026-13-01"),
    ("odata_filter_unsupported_method", "tolower(__id) eq 'x'"),
    ("odata_filter_unparseable", "__id eq"),
    ("odata_filter_unknown_word", "__id eq 'x' xor __id eq 'y'"),
]


def odata_filter_fields(talk: Conversation, email: str, password: str) -> None:
    table = f"{talk.svc}/Submissions"
    me = talk.client.get("/v1/users/current", headers=_bearer(talk.token)).json()
    for name, literal, shown in (
        ("odata_filter_submitter_admin", str(me["id"]), "<admin>"),
        ("odata_filter_submitter_app_user", f"'{talk.key_actor}'", "'<app_user>'"),
    ):
        expression = f"__system/submitterId eq {literal}"
        talk.call(
            name,
            "GET",
            table,
            params={"$filter": expression, "$select": "__id,__system/submitterId"},
            shown=f"{table}?$filter=__system/submitterId eq {shown}"
            "&$select=__id,__system/submitterId",
        )
    repeat = f"{table}.visit"
    for name, expression in (
        ("odata_repeat_filter_root", f"$root/Submissions/__id eq '{UUID_A}'"),
        (
            "odata_repeat_filter_root_date",
            "$root/Submissions/__system/submissionDate gt 2000-01-01",
        ),
        ("odata_repeat_filter_plain_id", f"__id eq '{UUID_A}'"),
    ):
        talk.call(name, "GET", repeat, params={"$filter": expression})


def odata_orderby(talk: Conversation, email: str, password: str) -> None:
    table = f"{talk.svc}/Submissions"
    for name, expression in (
        ("odata_orderby_updated_desc", "__system/updatedAt desc"),
        ("odata_orderby_review_state", "__system/reviewState"),
        (
            "odata_orderby_two_keys",
            "__system/reviewState desc,__system/submissionDate asc",
        ),
        ("odata_orderby_submitter_desc", "__system/submitterId desc"),
        ("odata_orderby_root_path", "$root/Submissions/__id desc"),
        ("odata_orderby_upper_case", "__id DESC"),
        ("odata_orderby_form_field", "child/age"),
        ("odata_orderby_bad_direction", "__id sideways"),
    ):
        params = {"$orderby": expression, "$select": "__id,__system/reviewState"}
        talk.call(name, "GET", table, params=params)


def odata_options(talk: Conversation, email: str, password: str) -> None:
    table = f"{talk.svc}/Submissions"
    repeat = f"{table}.visit"
    for name, path, params in OPTION_QUERIES:
        talk.call(name, "GET", repeat if path == "repeat" else table, params=params)
    skiptokens = [
        ("odata_skiptoken_bad_prefix", table, "02abc"),
        ("odata_skiptoken_not_base64", table, "01!!!"),
        ("odata_skiptoken_not_json", table, "01" + base64.b64encode(b"{x").decode()),
        ("odata_skiptoken_list", table, _skiptoken([1])),
        ("odata_skiptoken_number", table, _skiptoken(1)),
        ("odata_skiptoken_null", table, _skiptoken(None)),
        ("odata_skiptoken_no_known_key", table, _skiptoken({"x": 1})),
        (
            "odata_skiptoken_unknown_instance",
            table,
            _skiptoken({"instanceId": UUID_BAD}),
        ),
        ("odata_skiptoken_repeat_id_on_root", table, _skiptoken({"repeatId": "x"})),
        ("odata_repeat_skiptoken_unknown", repeat, _skiptoken({"repeatId": "nope"})),
        ("odata_repeat_skiptoken_instance", repeat, _skiptoken({"instanceId": UUID_A})),
    ]
    for name, path, token in skiptokens:
        params = {"$top": "1", "$skiptoken": token, "$select": "__id"}
        talk.call(name, "GET", path, params=params)


OPTION_QUERIES = [
    ("odata_top_zero_count", "root", {"$top": "0", "$count": "true"}),
    ("odata_top_zero", "root", {"$top": "0"}),
    ("odata_top_not_a_number", "root", {"$top": "abc", "$select": "__id"}),
    ("odata_top_negative", "root", {"$top": "-1", "$select": "__id"}),
    ("odata_skip_not_a_number", "root", {"$skip": "x", "$select": "__id"}),
    (
        "odata_count_upper_case",
        "root",
        {"$count": "TRUE", "$top": "1", "$select": "__id"},
    ),
    ("odata_count_false", "root", {"$count": "false", "$select": "__id"}),
    ("odata_wkt_false", "root", {"$wkt": "false", "$select": "__id,location"}),
    ("odata_unknown_option", "root", {"foo": "bar", "$select": "__id"}),
    ("odata_unknown_dollar_option", "root", {"$foo": "bar"}),
    ("odata_search", "root", {"$search": "anything", "$select": "__id"}),
    ("odata_select_with_expand", "root", {"$select": "__id", "$expand": "*"}),
    ("odata_select_unknown", "root", {"$select": "nope"}),
    ("odata_select_repeat", "root", {"$select": "visit"}),
    ("odata_select_repeat_child", "root", {"$select": "visit/visit_date"}),
    ("odata_select_system_unknown", "root", {"$select": "__system/nope"}),
    ("odata_select_group_child", "root", {"$select": "child/name,__id"}),
    ("odata_repeat_top_zero", "repeat", {"$top": "0", "$count": "true"}),
    ("odata_repeat_skip", "repeat", {"$skip": "1", "$top": "1"}),
    ("odata_repeat_select", "repeat", {"$select": "visit_note,__id"}),
    ("odata_repeat_select_parent_key", "repeat", {"$select": "__Submissions-id"}),
    ("odata_repeat_expand", "repeat", {"$expand": "*", "$top": "1"}),
    ("odata_repeat_wkt", "repeat", {"$wkt": "true", "$top": "1"}),
]


def odata_documents_and_records(talk: Conversation, email: str, password: str) -> None:
    svc = talk.svc
    talk.call(
        "odata_metadata_format_json",
        "GET",
        f"{svc}/$metadata",
        params={"$format": "json"},
    )
    talk.call(
        "odata_metadata_accept_json",
        "GET",
        f"{svc}/$metadata",
        headers={"Accept": "application/json"},
    )
    talk.call("odata_service_format_xml", "GET", svc, params={"$format": "xml"})
    talk.call("odata_table_unknown", "GET", f"{svc}/Submissions.nope")
    record = f"{svc}/Submissions('{UUID_A}')"
    talk.call("odata_record_select", "GET", record, params={"$select": "__id,district"})
    talk.call("odata_record_unknown", "GET", f"{svc}/Submissions('{UUID_BAD}')")
    talk.call("odata_record_deleted", "GET", f"{svc}/Submissions('{UUID_D}')")
    talk.call("odata_record_unknown_table", "GET", f"{record}/nope")
    follow_pages(
        talk,
        "odata_record_visits_top1",
        f"{record}/visit",
        {"$top": "1", "$count": "true"},
    )
    talk.call(
        "odata_record_visits_bad_skiptoken",
        "GET",
        f"{record}/visit",
        params={"$skiptoken": _skiptoken({"repeatId": "nope"})},
    )
    talk.call("odata_record_top_zero", "GET", record, params={"$top": "0"})


def encrypted_without_data(talk: Conversation, email: str, password: str) -> None:
    """An encrypted envelope whose encrypted data file was never sent."""
    form = f"/v1/projects/{talk.project}/forms/{SECRET_FORM_ID}"
    talk.call(
        "secret_form_publish",
        "POST",
        f"/v1/projects/{talk.project}/forms",
        params={"publish": "true"},
        content=xforms.SECRET_FORM_XML,
        headers=XML,
    )
    talk.call(
        "secret_submit_without_file",
        "POST",
        f"/v1/projects/{talk.project}/submission",
        params={"deviceID": DEVICE_ID},
        headers=OPENROSA,
        files={
            "xml_submission_file": (
                "submission.xml",
                xforms.encrypted_submission(UUID_SECRET_BARE),
                "text/xml",
            )
        },
    )
    talk.call("secret_odata_without_file", "GET", f"{form}.svc/Submissions")
    talk.call(
        "secret_attachments_without_file",
        "GET",
        f"{form}/submissions/{UUID_SECRET_BARE}/attachments",
    )
    talk.call(
        "secret_submit_without_instance_id",
        "POST",
        f"{form}/submissions",
        content=re.sub(
            r"<orx:meta>.*</orx:meta>", "", xforms.encrypted_submission(UUID_BAD)
        ),
        headers=XML,
    )


STEPS = [
    sessions,
    setup,
    session_refusals,
    basic_auth_over_https,
    logouts,
    projects,
    app_user_reach,
    assignments_and_deletion,
    form_refusals,
    draft_only_form,
    pyodk_form_calls,
    app_user_media,
    submissions,
    openrosa_refusals,
    edits,
    versions,
    deleted_submissions,
    review_and_comment_refusals,
    odata_filter_functions,
    odata_filter_fields,
    odata_orderby,
    odata_options,
    odata_documents_and_records,
    encrypted_without_data,
]
