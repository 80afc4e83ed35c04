"""A second conversation: review transitions, OpenRosa as a web user, a form
with a public key (submissions Central cannot decrypt) and nested repeats.

Kept apart from the core scenario so each recording can be checked against
the simulator on its own.
"""

from tests.contract import xforms
from tests.contract.scenario import (
    DEVICE_ID,
    OPENROSA,
    Conversation,
    follow_pages,
    projects_and_forms_minimal,
    sessions,
)
from tests.contract.xforms import (
    NESTED_FORM_ID,
    SECRET_ENC_BYTES,
    SECRET_ENC_FILE,
    SECRET_FORM_ID,
    UUID_A,
    UUID_NESTED,
    UUID_SECRET,
    UUID_SECRET_PLAIN,
    submission,
)


def openrosa_as_user(talk: Conversation, email: str, password: str) -> None:
    project = f"/v1/projects/{talk.project}"
    talk.call("user_formlist", "GET", f"{project}/formList", headers=OPENROSA)
    talk.call(
        "user_openrosa_submit",
        "POST",
        f"{project}/submission",
        params={"deviceID": DEVICE_ID},
        headers=OPENROSA,
        files={
            "xml_submission_file": ("submission.xml", submission(UUID_A), "text/xml")
        },
    )


def review_transitions(talk: Conversation, email: str, password: str) -> None:
    row = f"{talk.form}/submissions/{UUID_A}"
    for state in ("rejected", "edited", "approved", None):
        talk.call(
            f"review_{state or 'reset'}", "PATCH", row, json={"reviewState": state}
        )
    talk.call(
        "review_reset_in_odata",
        "GET",
        f"{talk.svc}/Submissions",
        params={"$select": "__id,__system/reviewState,__system/updatedAt"},
    )
    talk.call("review_audits", "GET", f"{row}/audits")


def _publish(talk: Conversation, name: str, xml: str) -> None:
    talk.call(
        name,
        "POST",
        f"/v1/projects/{talk.project}/forms",
        params={"publish": "true"},
        content=xml,
        headers={"Content-Type": "application/xml"},
    )


def encrypted_form(talk: Conversation, email: str, password: str) -> None:
    form = f"/v1/projects/{talk.project}/forms/{SECRET_FORM_ID}"
    _publish(talk, "secret_form_publish", xforms.SECRET_FORM_XML)
    talk.call("secret_form_get", "GET", form)
    talk.call("secret_fields", "GET", f"{form}/fields", params={"odata": "true"})
    envelope = xforms.encrypted_submission(UUID_SECRET)
    talk.call(
        "secret_submit_encrypted",
        "POST",
        f"/v1/projects/{talk.project}/submission",
        params={"deviceID": DEVICE_ID},
        headers=OPENROSA,
        files={
            "xml_submission_file": ("submission.xml", envelope, "text/xml"),
            SECRET_ENC_FILE: (
                SECRET_ENC_FILE,
                SECRET_ENC_BYTES,
                "application/octet-stream",
            ),
        },
    )
    talk.call(
        "secret_submit_plain",
        "POST",
        f"{form}/submissions",
        content=xforms.plain_secret_submission(UUID_SECRET_PLAIN),
        headers={"Content-Type": "application/xml"},
    )
    talk.call(
        "secret_odata",
        "GET",
        f"/v1/projects/{talk.project}/forms/{SECRET_FORM_ID}.svc/Submissions",
    )
    talk.call("secret_rest_list", "GET", f"{form}/submissions")
    talk.call(
        "secret_attachments", "GET", f"{form}/submissions/{UUID_SECRET}/attachments"
    )
    talk.call("secret_csv_zip", "GET", f"{form}/submissions.csv.zip")


def nested_repeats(talk: Conversation, email: str, password: str) -> None:
    form = f"/v1/projects/{talk.project}/forms/{NESTED_FORM_ID}"
    svc = f"{form}.svc"
    _publish(talk, "nested_form_publish", xforms.NESTED_FORM_XML)
    talk.call("nested_fields", "GET", f"{form}/fields", params={"odata": "true"})
    talk.call(
        "nested_submit",
        "POST",
        f"{form}/submissions",
        content=xforms.nested_submission(UUID_NESTED),
        headers={"Content-Type": "application/xml"},
    )
    talk.call("nested_service_document", "GET", svc)
    talk.call("nested_odata", "GET", f"{svc}/Submissions")
    talk.call(
        "nested_odata_expand", "GET", f"{svc}/Submissions", params={"$expand": "*"}
    )
    talk.call("nested_households", "GET", f"{svc}/Submissions.household")
    follow_pages(
        talk,
        "nested_members_top2",
        f"{svc}/Submissions.household.member",
        {"$top": "2", "$count": "true"},
    )
    households = talk.client.get(
        f"{svc}/Submissions.household",
        headers={"Authorization": f"Bearer {talk.token}"},
    ).json()["value"]
    link = households[0]["member@odata.navigationLink"]
    talk.call("nested_navigation_link", "GET", f"{svc}/{link}")
    talk.call("nested_csv_zip", "GET", f"{form}/submissions.csv.zip")


STEPS = [
    sessions,
    projects_and_forms_minimal,
    openrosa_as_user,
    review_transitions,
    encrypted_form,
    nested_repeats,
]
