"""OData query options beyond paging: $select, $orderby, filter expressions,
single records and navigation links, $top=0."""

import pytest

from tests.central_sim.calls import submit, table


@pytest.fixture
def seeded(api):
    """Three submissions, P0 (oldest) to P2; ``.ids`` in that order."""
    api.ids = [submit(api, respondent=f"P{i}") for i in range(3)]
    return api


def test_select__fields_first_then_id_then_system(seeded):
    body = table(seeded, **{"$select": "__system/reviewState,address/commune,__id,age"})

    row = body.json()["value"][0]

    assert list(row) == ["age", "address", "__id", "__system"]
    assert row["address"] == {"commune": "30280"}
    assert row["__system"] == {"reviewState": None}


def test_orderby__ascending_date__oldest_first(seeded):
    body = table(seeded, **{"$orderby": "__system/submissionDate asc"})

    assert [r["__id"] for r in body.json()["value"]] == seeded.ids


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
def test_filter__expressions__select_like_central(seeded, expression, expected):
    body = table(seeded, **{"$filter": expression.format(*seeded.ids)})

    assert [r["__id"] for r in body.json()["value"]] == [
        seeded.ids[i] for i in expected
    ]


def test_filter__reviewed_submission__found_by_review_state(seeded):
    seeded.patch(
        f"{seeded.form}/submissions/{seeded.ids[1]}", json={"reviewState": "approved"}
    ).raise_for_status()

    body = table(seeded, **{"$filter": "__system/reviewState eq 'approved'"})

    assert [r["__id"] for r in body.json()["value"]] == [seeded.ids[1]]


def test_single_record_and_its_navigation_link(seeded):
    record = seeded.get(f"{seeded.form}.svc/Submissions('{seeded.ids[0]}')").json()
    link = record["value"][0]["household@odata.navigationLink"]

    members = seeded.get(f"{seeded.form}.svc/{link}").json()["value"]

    assert [m["member_name"] for m in members] == ["A", "B"]
    assert {m["__Submissions-id"] for m in members} == {seeded.ids[0]}


def test_top_zero__gives_only_the_count(seeded):
    body = table(seeded, **{"$top": 0, "$count": "true"}).json()

    assert body["value"] == [] and body["@odata.count"] == 3
    assert "@odata.nextLink" not in body


def test_repeat_table__paged__reaches_every_row(seeded):
    seen, url = [], f"{seeded.form}.svc/Submissions.household?$top=4"
    while url:
        body = seeded.get(url).json()
        seen += [r["__id"] for r in body["value"]]
        url = body.get("@odata.nextLink")

    assert len(seen) == len(set(seen)) == 6


def test_unknown_query_option__is_501_1(seeded):
    response = table(seeded, foo="bar")

    assert (response.status_code, response.json()["code"]) == (501, 501.1)
