"""From the XLSX forms to the plan's indicators through every real part: build,
deploy to the Central simulator, submissions as Collect would send them,
reviews and edits on Central, the pull into typed tables, and the indicators."""

import re
import uuid

import pytest

from server.forms.deploy import deploy_forms
from server.forms.samples import generate
from server.indicators.service import Query, compute
from server.submissions.service import form_status, run_pull
from tests.factories.sync import CentralActions

YEAR = 2019
COUNTS = {"ag_child_case": 150, "ag_commune_drugfree": 156, "ag_tip_review": 40}
# Reviews set on Central before the pull: (approved, rejected) of the first ones.
REVIEWS = {
    "ag_child_case": (20, 0),
    "ag_commune_drugfree": (100, 6),
    "ag_tip_review": (20, 0),
}
INSTANCE_ID = re.compile(r"<instanceID>([^<]+)</instanceID>")


def submit_and_review(pyodk_client, central_sim, project_id, built) -> dict:
    """Seed each form, then review the first ones of each as REVIEWS says."""
    seeded = {}
    for xml_form_id, count in COUNTS.items():
        documents = generate(
            built[xml_form_id].xform.read_text(), count=count, seed=7, years=(YEAR,)
        )
        central_sim.store.bulk_submit(project_id, xml_form_id, documents)
        ids = [INSTANCE_ID.search(d).group(1) for d in documents]
        approved, rejected = REVIEWS[xml_form_id]
        for position, instance_id in enumerate(ids[: approved + rejected]):
            pyodk_client.submissions.review(
                instance_id,
                review_state="approved" if position < approved else "rejected",
                form_id=xml_form_id,
                project_id=project_id,
            )
        seeded[xml_form_id] = ids
    return seeded


@pytest.mark.java
def test_forms_to_indicators__every_part_agrees_on_every_column(
    built_forms, pyodk_client, central_sim, central_settings, session
):
    project_id = central_settings.central_project_id
    deploy_forms(pyodk_client, project_id=project_id, built=list(built_forms.values()))
    submit_and_review(pyodk_client, central_sim, project_id, built_forms)
    settings = central_settings.model_copy(
        update={"database_url": session.get_bind().url.render_as_string(False)}
    )

    run_pull(session=session, settings=settings)
    status = {s["xml_form_id"]: s for s in form_status(session=session)}
    # Threshold 1: no small-cell suppression, so every count can be read.
    query = Query(periods=(str(YEAR),), level="province")
    result = compute(session=session, query=query, threshold=1)

    for xml_form_id, count in COUNTS.items():
        assert status[xml_form_id]["counts"]["normalized"] == count
        assert status[xml_form_id]["reconciles"]
    assert not [w for w in result.warnings if "bảng thiếu cột" in w]
    frame = result.frame
    rows = frame[frame["breakdown"] == "total"].set_index("indicator")
    # One assessment per commune in the year: every commune is in DR-13's cell,
    # with the review states set on Central.
    dr13 = rows.loc["DR-13"]
    assert dr13["denominator"] == 156
    assert (dr13["n_approved"], dr13["n_rejected"], dr13["n_pending"]) == (100, 6, 50)
    # Every form-sourced indicator got data from its form's typed table.
    for code in ("CP-01", "CP-04", "CP-05", "CP-06", "DR-01", "DR-06", "TV-01"):
        assert rows.loc[code, "n_approved"] > 0, code


def _answer(document: str, name: str) -> str:
    found = re.search(rf"<{name}>([^<]*)</{name}>", document)
    return found.group(1) if found else ""


def _edit(document: str, **answers: str) -> str:
    """The next version of a submission, as Collect sends an edit: new answers,
    a new instanceID and the one it replaces as deprecatedID."""
    for name, value in answers.items():
        document = re.sub(
            rf"<{name}>[^<]*</{name}>", f"<{name}>{value}</{name}>", document
        )
    old = INSTANCE_ID.search(document).group(1)
    new = f"uuid:{uuid.uuid4()}"
    return document.replace(
        f"<instanceID>{old}</instanceID>",
        f"<instanceID>{new}</instanceID><deprecatedID>{old}</deprecatedID>",
    )


def _cp01(session, *, include_pending: bool = False) -> tuple:
    query = Query(
        periods=(str(YEAR),), level="province", include_pending=include_pending
    )
    frame = compute(session=session, query=query, threshold=1).frame
    row = frame[(frame["indicator"] == "CP-01") & (frame["breakdown"] == "total")]
    (row,) = row.itertuples()
    return row.numerator, row.denominator, row.n_approved, row.n_pending


@pytest.mark.java
def test_edited_submission__counts_once_with_its_latest_answers(
    built_forms, pyodk_client, central_sim, central_settings, session
):
    project_id = central_settings.central_project_id
    deploy_forms(pyodk_client, project_id=project_id, built=list(built_forms.values()))
    settings = central_settings.model_copy(
        update={"database_url": session.get_bind().url.render_as_string(False)}
    )
    xform = built_forms["ag_child_case"].xform.read_text()
    documents = generate(xform, count=60, seed=7, years=(YEAR,))
    # A child in special circumstances who received support: CP-01's 1 of 1.
    document = next(
        d
        for d in documents
        if _answer(d, "f_csc_assisted") == "1"
        and "other" not in _answer(d, "support_received").split()
    )
    actions = CentralActions(pyodk_client, project_id, "ag_child_case")
    submission_id = actions.submit(document)
    actions.review(submission_id, "approved")
    run_pull(session=session, settings=settings)
    assert _cp01(session) == (1, 1, 1, 0)

    # The commune corrects it: no support was received after all. Central
    # sets an edited submission's review state to "edited".
    actions.edit(
        submission_id, _edit(document, support_received="none", f_csc_assisted="0")
    )
    run_pull(session=session, settings=settings)

    # Pending now, so out of the default count, and counted once (its latest
    # answers: not assisted) when pending submissions count.
    assert _cp01(session) == (0, 0, 0, 1)
    assert _cp01(session, include_pending=True) == (0, 1, 0, 1)
    actions.review(submission_id, "approved")
    run_pull(session=session, settings=settings)
    assert _cp01(session) == (0, 1, 1, 0)
