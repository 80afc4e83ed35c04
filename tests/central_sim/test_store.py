"""Bulk seeding through the store, bypassing HTTP."""

import pytest

from central_sim.problems import Problem
from tests.central_sim import forms


@pytest.fixture
def store(central_sim, central_project_id):
    central_sim.store.create_form(
        project_id=central_project_id, xml=forms.xform(), publish=True
    )
    return central_sim.store


def test_bulk_submit__rows_show_in_odata(store, central_project_id, pyodk_client):
    docs = [forms.submission(respondent=f"P{i}") for i in range(20)]

    inserted = store.bulk_submit(central_project_id, forms.FORM_ID, docs)

    table = pyodk_client.submissions.get_table(forms.FORM_ID, count=True, top=5)
    assert inserted == 20
    assert table["@odata.count"] == 20
    assert table["value"][0]["respondent"] == "P19"


def test_bulk_submit__unknown_version__is_refused(store, central_project_id):
    with pytest.raises(Problem) as refused:
        store.bulk_submit(
            central_project_id, forms.FORM_ID, [forms.submission(version="v9")]
        )

    assert refused.value.code == 404.6
