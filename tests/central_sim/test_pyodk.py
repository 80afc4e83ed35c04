"""pyodk itself, unpatched, drives the simulator as it would drive Central."""

import pytest
from pyodk._utils.config import CentralConfig, Config
from pyodk.client import Client
from pyodk.errors import PyODKError

from tests.central_sim import forms


@pytest.fixture
def published(pyodk_client):
    pyodk_client.forms.create(definition=forms.xform().decode())
    return pyodk_client


def test_session__wrong_password__is_refused(central_sim):
    config = Config(
        central=CentralConfig(
            base_url=central_sim.url, username=central_sim.email, password="wrong"
        )
    )
    with pytest.raises(PyODKError, match="401"):
        Client(config=config).open()


def test_projects__created_project__is_listed_and_read(
    pyodk_client, central_project_id
):
    assert [p.id for p in pyodk_client.projects.list()] == [central_project_id]
    assert pyodk_client.projects.get(central_project_id).name == "trogiup tests"


def test_forms__create__publishes_the_form(published):
    form = published.forms.get(forms.FORM_ID)

    assert (form.version, form.name, form.publishedAt is not None) == (
        "v1",
        "Simulator test",
        True,
    )


def test_forms__update_with_new_version__publishes_it(published):
    published.forms.update(forms.FORM_ID, definition=forms.xform("v2").decode())

    assert published.forms.get(forms.FORM_ID).version == "v2"


def test_get_table__filter_expand_and_paging__follow_central(published):
    created = [
        published.submissions.create(
            xml=forms.submission(respondent=f"P{i}"), form_id=forms.FORM_ID
        )
        for i in range(5)
    ]
    since = created[2].createdAt.isoformat().replace("+00:00", "Z")

    page = published.submissions.get_table(forms.FORM_ID, top=2, skip=1, count=True)
    newer = published.submissions.get_table(
        forms.FORM_ID, filter=f"__system/submissionDate gt {since}"
    )
    expanded = published.submissions.get_table(forms.FORM_ID, expand="*", top=1)

    assert [r["respondent"] for r in page["value"]] == ["P3", "P2"]
    assert page["@odata.count"] == 5
    assert [r["respondent"] for r in newer["value"]] == ["P4", "P3"]
    assert [m["member_name"] for m in expanded["value"][0]["household"]] == ["A", "B"]


def test_get_table__next_links_followed_through_pyodk__every_row_once(published):
    created = [
        published.submissions.create(
            xml=forms.submission(respondent=f"P{i}"), form_id=forms.FORM_ID
        ).instanceId
        for i in range(5)
    ]

    pages = [published.submissions.get_table(forms.FORM_ID, top=2, count=True)]
    while "@odata.nextLink" in pages[-1]:
        # The link is absolute; pyodk's session sends it with its own token.
        pages.append(published.get(pages[-1]["@odata.nextLink"]).json())

    seen = [row["__id"] for page in pages for row in page["value"]]
    assert [len(page["value"]) for page in pages] == [2, 2, 1]
    assert seen == created[::-1]
    assert {page.get("@odata.count") for page in pages} == {5}


def test_get_table__repeat_table_paged_through_pyodk__every_row_once(published):
    for i in range(3):
        published.submissions.create(
            xml=forms.submission(respondent=f"P{i}"), form_id=forms.FORM_ID
        )

    pages = [
        published.submissions.get_table(
            forms.FORM_ID, table_name="Submissions.household", top=4
        )
    ]
    while "@odata.nextLink" in pages[-1]:
        pages.append(published.get(pages[-1]["@odata.nextLink"]).json())

    seen = [row["__id"] for page in pages for row in page["value"]]
    assert [len(page["value"]) for page in pages] == [4, 2]
    assert len(seen) == len(set(seen)) == 6


def test_get_table__repeat_table__has_parent_ids(published):
    sub = published.submissions.create(xml=forms.submission(), form_id=forms.FORM_ID)

    rows = published.submissions.get_table(
        forms.FORM_ID, table_name="Submissions.household"
    )["value"]

    assert [r["__Submissions-id"] for r in rows] == [sub.instanceId] * 2


def test_review_and_comment__show_in_rest_and_odata(published):
    sub = published.submissions.create(xml=forms.submission(), form_id=forms.FORM_ID)

    published.submissions.review(
        sub.instanceId, "approved", forms.FORM_ID, comment="Looks right"
    )

    row = published.submissions.get_table(forms.FORM_ID)["value"][0]
    comments = published.submissions.list_comments(sub.instanceId, forms.FORM_ID)
    assert row["__system"]["reviewState"] == "approved"
    assert (
        published.submissions.get(sub.instanceId, forms.FORM_ID).reviewState
        == "approved"
    )
    assert [c.body for c in comments] == ["Looks right"]


def test_edit__keeps_logical_id_and_counts_edits(published):
    original = forms.new_instance_id()
    published.submissions.create(
        xml=forms.submission(instance_id=original, age=30), form_id=forms.FORM_ID
    )
    before = published.submissions.get_table(forms.FORM_ID)["value"][0]
    edited = forms.new_instance_id()

    published.submissions.edit(
        original,
        forms.submission(instance_id=edited, deprecated_id=original, age=31),
        forms.FORM_ID,
    )

    row = published.submissions.get_table(forms.FORM_ID)["value"][0]
    assert (row["__id"], row["meta"]["instanceID"], row["age"]) == (
        original,
        edited,
        31,
    )
    assert (row["__system"]["edits"], row["__system"]["reviewState"]) == (1, "edited")
    assert row["__system"]["updatedAt"] is not None
    assert row["__system"]["submissionDate"] == before["__system"]["submissionDate"]


def test_app_users__created_with_forms__are_assigned(published):
    users = published.projects.create_app_users(
        display_names=["collect-1"], forms=[forms.FORM_ID]
    )

    project = f"projects/{published.project_id}"
    listed = published.get(f"{project}/app-users").json()
    assigned = published.get(f"{project}/forms/{forms.FORM_ID}/assignments").json()
    app_user_role = 2  # pyodk assigns by this id, Central's "app-user" role
    assert users[0].type == "field_key" and users[0].token
    assert [u["id"] for u in listed] == [users[0].id]
    assert {"actorId": users[0].id, "roleId": app_user_role} in assigned


def test_forms__update_with_media_only__publishes_a_new_version(pyodk_client, tmp_path):
    xml = forms.media_xform().decode()
    media = tmp_path / "communes.csv"
    media.write_text("name,label\n30280,Long Xuyen\n")
    pyodk_client.forms.create(definition=xml, attachments=[media])

    media.write_text("name,label\n30280,Long Xuyên\n")
    pyodk_client.forms.update(
        forms.FORM_ID, attachments=[media], version_updater=lambda v: "v1-media2"
    )

    form = pyodk_client.forms.get(forms.FORM_ID)
    content = pyodk_client.get(
        f"projects/{pyodk_client.project_id}/forms/{forms.FORM_ID}"
        "/attachments/communes.csv"
    ).content
    assert form.version == "v1-media2"
    assert "Xuyên" in content.decode()
