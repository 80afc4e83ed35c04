"""A third conversation: what trogiup's pull relies on beyond the core.

Submission attachments (sent with the submission, missing then uploaded,
carried across an edit), versions and their XML, `$filter` on `__id`,
deleted rows picked by id, `$expand=*` paging followed to the end, and
`$orderby` next to a `$skiptoken`.
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
    PHOTO_BYTES,
    PHOTO_FORM_ID,
    UUID_P1,
    UUID_P1_EDIT,
    UUID_P2,
    UUID_P3,
    photo_submission,
)


def _paths(talk: Conversation) -> tuple[str, str]:
    form = f"/v1/projects/{talk.project}/forms/{PHOTO_FORM_ID}"
    return form, f"{form}.svc/Submissions"


def _send(talk: Conversation, name: str, xml: str, photo: str | None) -> None:
    files = {"xml_submission_file": ("submission.xml", xml, "text/xml")}
    if photo:
        files[photo] = (photo, PHOTO_BYTES, "image/jpeg")
    talk.call(
        name,
        "POST",
        f"/v1/projects/{talk.project}/submission",
        params={"deviceID": DEVICE_ID},
        headers=OPENROSA,
        files=files,
    )


def photo_form(talk: Conversation, email: str, password: str) -> None:
    form, _ = _paths(talk)
    talk.call(
        "photo_form_publish",
        "POST",
        f"/v1/projects/{talk.project}/forms",
        params={"publish": "true"},
        content=xforms.PHOTO_FORM_XML,
        headers={"Content-Type": "application/xml"},
    )
    talk.call("photo_fields", "GET", f"{form}/fields", params={"odata": "true"})
    talk.call("photo_form_version_xml", "GET", f"{form}/versions/p1.xml")


def attachments(talk: Conversation, email: str, password: str) -> None:
    form, table = _paths(talk)
    _send(talk, "photo_submit_with_file", photo_submission(UUID_P1, "p1.jpg"), "p1.jpg")
    _send(talk, "photo_submit_file_missing", photo_submission(UUID_P2, "p2.jpg"), None)
    _send(talk, "photo_submit_no_photo", photo_submission(UUID_P3, None), None)
    for instance_id in (UUID_P1, UUID_P2, UUID_P3):
        talk.call(
            f"photo_attachments_{instance_id[-2:]}",
            "GET",
            f"{form}/submissions/{instance_id}/attachments",
        )
    talk.call(
        "photo_odata_missing",
        "GET",
        table,
        params={
            "$select": "__id,photo,__system/attachmentsPresent,"
            "__system/attachmentsExpected"
        },
    )
    talk.call(
        "photo_upload_missing",
        "POST",
        f"{form}/submissions/{UUID_P2}/attachments/p2.jpg",
        content=PHOTO_BYTES,
        headers={"Content-Type": "image/jpeg"},
    )
    talk.call(
        "photo_attachments_after_upload",
        "GET",
        f"{form}/submissions/{UUID_P2}/attachments",
    )
    talk.call(
        "photo_attachment_get",
        "GET",
        f"{form}/submissions/{UUID_P1}/attachments/p1.jpg",
    )
    talk.call(
        "photo_attachment_unknown",
        "GET",
        f"{form}/submissions/{UUID_P1}/attachments/nope.jpg",
    )


def edits_and_versions(talk: Conversation, email: str, password: str) -> None:
    form, _ = _paths(talk)
    edit = photo_submission(UUID_P1_EDIT, "p1.jpg", deprecated_id=UUID_P1)
    _send(talk, "photo_edit_without_file", edit, None)
    submission = f"{form}/submissions/{UUID_P1}"
    talk.call("photo_versions", "GET", f"{submission}/versions")
    talk.call("photo_current_attachments", "GET", f"{submission}/attachments")
    for name, instance_id in (("old", UUID_P1), ("new", UUID_P1_EDIT)):
        version = f"{submission}/versions/{instance_id}"
        talk.call(f"photo_version_{name}_xml", "GET", f"{version}.xml")
        talk.call(f"photo_version_{name}_attachments", "GET", f"{version}/attachments")
    talk.call(
        "photo_version_new_file",
        "GET",
        f"{submission}/versions/{UUID_P1_EDIT}/attachments/p1.jpg",
    )
    talk.call("photo_current_xml", "GET", f"{submission}.xml")


def odata_for_pulls(talk: Conversation, email: str, password: str) -> None:
    form, table = _paths(talk)
    by_id = f"__id eq '{UUID_P1}' or __id eq '{UUID_P3}'"
    talk.call(
        "photo_filter_by_id", "GET", table, params={"$filter": by_id, "$select": "__id"}
    )
    talk.call("photo_delete", "DELETE", f"{form}/submissions/{UUID_P3}")
    talk.call(
        "photo_deleted_by_id",
        "GET",
        table,
        params={
            "$filter": f"__system/deletedAt ne null and ({by_id})",
            "$select": "__id,__system/deletedAt",
        },
    )
    follow_pages(
        talk,
        "photo_expand_paged",
        table,
        {"$expand": "*", "$top": "1", "$count": "true"},
    )
    first = talk.client.get(
        table,
        params={"$top": "1"},
        headers={"Authorization": f"Bearer {talk.token}"},
    ).json()["@odata.nextLink"]
    talk.call(
        "photo_orderby_with_skiptoken",
        "GET",
        first.removeprefix(talk.norm.base_url)
        + "&%24orderby=__system%2FsubmissionDate%20asc",
    )
    talk.exchanges[-1].path = talk.norm.text(
        table
        + "?$top=1&$skiptoken=<from the nextLink>&$orderby=__system/submissionDate asc"
    )
    talk.call("photo_csv_zip", "GET", f"{form}/submissions.csv.zip")
    talk.call(
        "photo_csv_zip_no_media",
        "GET",
        f"{form}/submissions.csv.zip",
        params={"attachments": "false"},
    )


STEPS = [
    sessions,
    projects_and_forms_minimal,
    photo_form,
    attachments,
    edits_and_versions,
    odata_for_pulls,
]
