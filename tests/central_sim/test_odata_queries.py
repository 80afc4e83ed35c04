"""OData query options beyond paging: $select, $orderby, filter expressions,
single records and navigation links, $top=0."""

import httpx
import pytest

from tests.central_sim import forms
from tests.central_sim.test_http import table


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
    client.post(f"{client.project}/forms?publish=true", content=forms.xform())
    client.ids = []
    for i in range(3):
        instance_id = forms.new_instance_id()
        client.post(
            f"{client.form}/submissions",
            content=forms.submission(instance_id=instance_id, respondent=f"P{i}"),
            headers={"Content-Type": "application/xml"},
        ).raise_for_status()
        client.ids.append(instance_id)
    yield client
    client.close()


def test_select__fields_first_then_id_then_system(api):
    body = table(api, **{"$select": "__system/reviewState,address/commune,__id,age"})

    row = body.json()["value"][0]

    assert list(row) == ["age", "address", "__id", "__system"]
    assert row["address"] == {"commune": "30280"}
    assert row["__system"] == {"reviewState": None}


def test_orderby__ascending_date__oldest_first(api):
    body = table(api, **{"$orderby": "__system/submissionDate asc"})

    assert [r["__id"] for r in body.json()["value"]] == api.ids


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("__id eq '{0}' or __id eq '{2}'", [2, 0]),
        ("not (__id eq '{1}')", [2, 0]),
        ("__system/reviewState eq null and __id ne '{0}'", [2, 1]),
        (
            "(__system/updatedAt eq null) and year(__system/submissionDate) ge 2000",
            [2, 1, 0],
        ),
        ("__system/submissionDate lt 2000-01-01", []),
    ],
)
def test_filter__expressions__select_like_central(api, expression, expected):
    body = table(api, **{"$filter": expression.format(*api.ids)})

    assert [r["__id"] for r in body.json()["value"]] == [api.ids[i] for i in expected]


def test_filter__reviewed_submission__found_by_review_state(api):
    api.patch(
        f"{api.form}/submissions/{api.ids[1]}", json={"reviewState": "approved"}
    ).raise_for_status()

    body = table(api, **{"$filter": "__system/reviewState eq 'approved'"})

    assert [r["__id"] for r in body.json()["value"]] == [api.ids[1]]


def test_single_record_and_its_navigation_link(api):
    record = api.get(f"{api.form}.svc/Submissions('{api.ids[0]}')").json()
    link = record["value"][0]["household@odata.navigationLink"]

    members = api.get(f"{api.form}.svc/{link}").json()["value"]

    assert [m["member_name"] for m in members] == ["A", "B"]
    assert {m["__Submissions-id"] for m in members} == {api.ids[0]}


def test_top_zero__gives_only_the_count(api):
    body = table(api, **{"$top": 0, "$count": "true"}).json()

    assert body["value"] == [] and body["@odata.count"] == 3
    assert "@odata.nextLink" not in body


def test_repeat_table__paged__reaches_every_row(api):
    seen, url = [], f"{api.form}.svc/Submissions.household?$top=4"
    while url:
        body = api.get(url).json()
        seen += [r["__id"] for r in body["value"]]
        url = body.get("@odata.nextLink")

    assert len(seen) == len(set(seen)) == 6


def test_unknown_query_option__is_501_1(api):
    response = table(api, foo="bar")

    assert (response.status_code, response.json()["code"]) == (501, 501.1)
