"""Status codes and shapes the simulator shares with Central, over plain HTTP."""

import io
import zipfile
from urllib.parse import unquote

import httpx
import pytest

from tests.central_sim import forms
from tests.central_sim.calls import OPENROSA, XML, openrosa_post, submit, table


def test_no_auth__is_refused_with_401_2(api):
    response = httpx.get(f"{api.root}{api.project}")

    assert (response.status_code, response.json()["code"]) == (401, 401.2)


def test_rest_submit__same_instance_id_twice__is_409_3(api):
    instance_id = submit(api)
    xml = forms.submission(instance_id=instance_id)

    response = api.post(f"{api.form}/submissions", content=xml, headers=XML)

    body = response.json()
    assert (response.status_code, body["code"]) == (409, 409.3)
    assert list(body) == ["message", "code", "details"]
    assert body["details"]["fields"] == ["formId", "instanceId", "draft"]


@pytest.mark.parametrize(
    ("xml", "status", "code"),
    [
        ("<data id='sim_test'", 400, 400.2),
        (forms.submission(form_id="other_form"), 400, 400.8),
        (forms.submission(version="v9"), 404, 404.6),
    ],
)
def test_rest_submit__bad_submission__is_refused_with_central_code(
    api, xml, status, code
):
    response = api.post(f"{api.form}/submissions", content=xml, headers=XML)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_openrosa__identical_resend__201_and_different_xml__409(api):
    xml = forms.submission()
    url = f"{api.project}/submission"

    first, again = openrosa_post(api, url, xml), openrosa_post(api, url, xml)
    changed = openrosa_post(api, url, xml.replace("Person", "Other"))

    assert (first.status_code, again.status_code, changed.status_code) == (
        201,
        201,
        409,
    )
    assert "full submission upload was successful!" in first.text
    assert api.head(url, headers=OPENROSA).status_code == 204
    assert api.head(url).status_code == 400


def test_openrosa__app_user__submits_to_assigned_form_and_lists_it(api):
    user = api.post(f"{api.project}/app-users", json={"displayName": "dev"}).json()
    api.post(f"{api.form}/assignments/2/{user['id']}").raise_for_status()
    key = f"{api.root}/key/{user['token']}{api.project}"

    listed = httpx.get(f"{key}/formList", headers=OPENROSA)
    posted = openrosa_post(httpx, f"{key}/submission", forms.submission())
    odata = httpx.get(f"{key}/forms/{forms.FORM_ID}.svc/Submissions")

    assert "<formID>sim_test</formID>" in listed.text
    assert posted.status_code == 201
    assert (odata.status_code, odata.json()["code"]) == (403, 403.1)


def test_openrosa__app_user_without_assignment__sees_no_forms(api):
    user = api.post(f"{api.project}/app-users", json={"displayName": "dev"}).json()

    listed = httpx.get(
        f"{api.root}/key/{user['token']}{api.project}/formList", headers=OPENROSA
    )

    assert listed.status_code == 200 and "<xform>" not in listed.text


def test_review__unknown_state__is_400_8(api):
    instance_id = submit(api)

    response = api.patch(
        f"{api.form}/submissions/{instance_id}", json={"reviewState": "done"}
    )

    assert (response.status_code, response.json()["code"]) == (400, 400.8)


def test_rest_submission__shapes_follow_central(api):
    instance_id = submit(api)

    got = api.get(f"{api.form}/submissions/{instance_id}").json()
    patched = api.patch(
        f"{api.form}/submissions/{instance_id}", json={"reviewState": "hasIssues"}
    ).json()
    comment = api.post(
        f"{api.form}/submissions/{instance_id}/comments", json={"body": "check"}
    ).json()

    assert list(got) == [
        "instanceId", "submitterId", "deviceId", "createdAt", "updatedAt",
        "reviewState", "userAgent", "deletedAt", "currentVersion",
    ]  # fmt: skip
    assert isinstance(got["submitterId"], int)
    assert "currentVersion" not in patched and patched["reviewState"] == "hasIssues"
    assert list(comment) == ["body", "actorId", "createdAt"]


def test_odata__paging_with_top__links_until_the_last_page(api):
    for i in range(5):
        submit(api, respondent=f"P{i}")
    seen, url, pages = [], f"{api.form}.svc/Submissions?$top=2&$count=true", 0

    while url:
        body = api.get(url).json()
        seen += [r["respondent"] for r in body["value"]]
        assert body["@odata.count"] == 5
        url, pages = body.get("@odata.nextLink"), pages + 1

    assert (seen, pages) == (["P4", "P3", "P2", "P1", "P0"], 3)
    assert "@odata.nextLink" not in table(api).json()


def test_odata__count__ignores_top_and_honours_filter(api):
    first = submit(api)
    submit(api)

    body = table(api, **{"$top": 1, "$count": "true", "$filter": f"__id eq '{first}'"})

    assert body.json()["@odata.count"] == 1


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"$filter": "age gt 3"}, 501, 501.5),
        ({"$expand": "household"}, 501, 501.6),
        ({"$format": "xml"}, 406, 406.1),
    ],
)
def test_odata__unsupported_query__is_refused(api, params, status, code):
    response = table(api, **params)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_odata__repeat_table_filter_on_system__is_501_5(api):
    response = table(
        api, "Submissions.household", **{"$filter": "__system/reviewState eq null"}
    )

    assert (response.status_code, response.json()["code"]) == (501, 501.5)


def test_odata__absent_fields__are_null_and_groups_stay_objects(api):
    submit(api, commune=None, age="")

    row = table(api).json()["value"][0]

    assert (row["age"], row["address"]) == (None, {"commune": None})
    assert list(row["__system"]) == [
        "submissionDate", "updatedAt", "submitterId", "submitterName",
        "attachmentsPresent", "attachmentsExpected", "status", "reviewState",
        "deviceId", "edits", "formVersion", "deletedAt",
    ]  # fmt: skip


def test_odata__types__follow_central(api):
    submit(api)

    row = table(api).json()["value"][0]
    wkt = table(api, **{"$wkt": "true"}).json()["value"][0]

    assert (row["age"], row["income"], row["visit_date"]) == (30, 1250.5, "2026-11-01")
    assert row["visited_at"] == "2026-11-01T09:30:00.000+07:00"
    assert row["location"] == {
        "type": "Point",
        "coordinates": [105.43, 10.38, 12],
        "properties": {"accuracy": 5},
    }
    assert wkt["location"] == "POINT (105.43 10.38 12)"


def test_delete__leaves_default_table_and_restore__brings_it_back(api):
    instance_id = submit(api)
    api.delete(f"{api.form}/submissions/{instance_id}").raise_for_status()

    default = table(api).json()["value"]
    deleted = table(api, **{"$filter": "__system/deletedAt ne null"}).json()["value"]
    api.post(f"{api.form}/submissions/{instance_id}/restore").raise_for_status()

    assert default == [] and [r["__id"] for r in deleted] == [instance_id]
    assert [r["__id"] for r in table(api).json()["value"]] == [instance_id]


def test_edit__old_instance_id__redirects_to_the_version(api):
    original = submit(api)
    edited = forms.new_instance_id()
    xml = forms.submission(instance_id=edited, deprecated_id=original)
    openrosa_post(api, f"{api.project}/submission", xml)

    response = api.get(f"{api.form}/submissions/{edited}")
    versions = api.get(f"{api.form}/submissions/{original}/versions").json()

    assert response.status_code == 301
    location = unquote(response.headers["location"])
    assert location.endswith(f"/{original}/versions/{edited}")
    assert [v["instanceId"] for v in versions] == [edited, original]


def test_forms__publishing_an_existing_version__is_409_6(api):
    api.post(f"{api.form}/draft", content=forms.xform(), headers=XML)

    response = api.post(f"{api.form}/draft/publish")

    assert (response.status_code, response.json()["code"]) == (409, 409.6)


def test_forms__every_published_version__keeps_its_xform(api):
    api.post(f"{api.form}/draft", content=forms.xform("v2"), headers=XML)
    api.post(f"{api.form}/draft/publish")

    first = api.get(f"{api.form}/versions/v1.xml")
    second = api.get(f"{api.form}/versions/v2.xml")
    unknown = api.get(f"{api.form}/versions/v9.xml")

    assert first.status_code == second.status_code == 200
    assert 'version="v1"' in first.text
    assert 'version="v2"' in second.text
    assert (unknown.status_code, unknown.json()["code"]) == (404, 404.1)


def test_csv_zip__headers_follow_central(api):
    instance_id = submit(api)

    archive = zipfile.ZipFile(
        io.BytesIO(api.get(f"{api.form}/submissions.csv.zip").content)
    )
    root = archive.read("sim_test.csv").decode().splitlines()
    repeat = archive.read("sim_test-household.csv").decode().splitlines()

    assert root[0] == (
        "SubmissionDate,respondent,age,income,visit_date,visited_at,consent,needs,"
        "location-Latitude,location-Longitude,location-Altitude,location-Accuracy,"
        "address-commune,meta-instanceID,KEY,SubmitterID,SubmitterName,"
        "AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,"
        "FormVersion"
    )
    assert repeat[0] == "member_name,member_age,PARENT_KEY,KEY"
    assert repeat[1] == f"A,5,{instance_id},{instance_id}/household[1]"
    plain = api.get(f"{api.form}/submissions.csv").text.splitlines()
    assert plain[0] == root[0] and len(plain) == 2


def test_openrosa__app_user_downloads_assigned_form(api):
    user = api.post(f"{api.project}/app-users", json={"displayName": "dev"}).json()
    api.post(f"{api.form}/assignments/2/{user['id']}").raise_for_status()
    key = f"{api.root}/key/{user['token']}{api.project}"

    listed = httpx.get(f"{key}/formList", headers=OPENROSA).text
    download = listed.split("<downloadUrl>")[1].split("</downloadUrl>")[0]

    assert download == f"{key}/forms/{forms.FORM_ID}.xml"
    assert httpx.get(download).content == forms.xform()


def test_openrosa__without_version_header__is_refused_in_xml(api):
    response = api.get(f"{api.project}/formList")

    assert response.status_code == 400
    assert '<message nature="error">' in response.text


def test_odata__invalid_skiptoken__is_400_35(api):
    response = table(api, **{"$skiptoken": "02abc"})

    assert (response.status_code, response.json()["code"]) == (400, 400.35)


def test_odata__skip_past_the_end__links_to_an_empty_page(api):
    for _ in range(2):
        submit(api)

    body = table(api, **{"$skip": 5, "$count": "true"}).json()
    after = api.get(body["@odata.nextLink"]).json()

    assert body["value"] == [] and body["@odata.count"] == 2
    assert after["value"] == [] and "@odata.nextLink" not in after
