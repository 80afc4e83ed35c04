import json

import pytest
from sqlmodel import select

from server.errors import InvalidInput
from server.submissions.models import Submission
from server.submissions.normalize import normalize_batch, register_form_version
from server.submissions.quarantine import count_by_form, list_entries, retry
from tests.factories.submissions import (
    build_xform,
    ledger_submission,
    odata_row,
    xlsform_md,
)

PROJECT = 1
SURVEY = "| type | name | label |\n| integer | age | Tuổi |\n"


def _register(session, form, version="v1"):
    register_form_version(
        session=session,
        project_id=PROJECT,
        xml_form_id=form,
        version=version,
        xml=build_xform(xlsform_md(SURVEY, form_id=form, version=version)),
    )


def _normalize(session, form, *rows):
    items = [
        ledger_submission(session, project_id=PROJECT, xml_form_id=form, row=row)
        for row in rows
    ]
    return normalize_batch(
        session=session, project_id=PROJECT, xml_form_id=form, items=items
    )


def _quarantine_two_forms(session):
    _register(session, "form_a")
    _register(session, "form_b")
    _normalize(session, "form_a", odata_row({"age": "x"}), odata_row({"age": 3}))
    _normalize(session, "form_b", odata_row({"age": 1}, form_version="v2"))


def test_list_entries__open_by_form__plain_data_without_values(session):
    _quarantine_two_forms(session)

    (entry,) = list_entries(session=session, xml_form_id="form_a")

    assert entry["xml_form_id"] == "form_a"
    assert (entry["code"], entry["field"], entry["resolved_at"]) == (
        "bad_value",
        "/age",
        None,
    )
    json.dumps(entry)  # plain data for the CLI and the API
    assert '"x"' not in entry["reason"]


def test_list_entries__all_forms__newest_first(session):
    _quarantine_two_forms(session)

    entries = list_entries(session=session)

    assert [e["xml_form_id"] for e in entries] == ["form_b", "form_a"]


def test_list_entries__unknown_status__raises_invalid_input(session):
    with pytest.raises(InvalidInput, match="open, resolved, all"):
        list_entries(session=session, status="closed")


def test_retry__after_the_version_is_registered__resolves_the_entry(session):
    _quarantine_two_forms(session)
    _register(session, "form_b", version="v2")

    totals = retry(session=session, xml_form_id="form_b")

    assert totals == {
        "normalized": 1,
        "quarantined": 0,
        "resolved": 1,
        "versions_registered": 0,
    }
    (resolved,) = list_entries(session=session, status="resolved")
    assert resolved["xml_form_id"] == "form_b"
    assert resolved["resolved_at"] is not None
    assert len(list_entries(session=session, status="all")) == 2


def test_retry__still_broken__keeps_one_open_entry(session):
    _quarantine_two_forms(session)

    totals = retry(session=session, xml_form_id="form_a")

    assert totals == {
        "normalized": 0,
        "quarantined": 1,
        "resolved": 0,
        "versions_registered": 0,
    }
    assert len(list_entries(session=session, xml_form_id="form_a")) == 1
    states = {s.state for s in session.exec(select(Submission))}
    assert states == {"normalized", "quarantined"}


def test_count_by_form__open_and_resolved(session):
    _quarantine_two_forms(session)
    _register(session, "form_b", version="v2")
    retry(session=session)

    counts = count_by_form(session=session)

    assert counts == [
        {
            "project_id": PROJECT,
            "xml_form_id": "form_a",
            "open": 1,
            "resolved": 0,
            "submissions": 1,
        },
        {
            "project_id": PROJECT,
            "xml_form_id": "form_b",
            "open": 0,
            "resolved": 1,
            "submissions": 0,
        },
    ]
