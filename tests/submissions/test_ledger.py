"""Storing OData rows in the ledger: versions appended once, current state kept."""

from sqlmodel import func, select

from server.submissions.ledger import mark_purged, store_page
from server.submissions.models import Submission, SubmissionVersion
from tests.factories.submissions import new_instance_id, odata_row

FORM = "ledger_form"


def store(session, rows):
    page = store_page(
        session=session,
        project_id=1,
        xml_form_id=FORM,
        rows=rows,
        before_write=lambda page: None,
    )
    session.commit()
    return page


def count(session, model):
    return session.exec(select(func.count()).select_from(model)).one()


def current(session, submission_id):
    query = select(Submission).where(Submission.submission_id == submission_id)
    return session.exec(query).one()


def normalized(session):
    """What normalization does to the stored submissions."""
    for submission in session.exec(select(Submission)):
        submission.state = "normalized"
        session.add(submission)
    session.commit()


def test_store_page__pending_submission__is_offered_again(session):
    row = odata_row({"age": 1})
    store(session, [row])

    page = store(session, [row])

    assert len(page.to_normalize) == 1 and page.changes.new == 0


def test_store_page__same_rows_twice__changes_nothing(session):
    rows = [odata_row({"age": n}) for n in range(3)]
    first = store(session, rows)
    normalized(session)

    second = store(session, rows)

    assert first.changes.new == 3 and len(first.to_normalize) == 3
    assert second.changes == type(second.changes)()
    assert second.to_normalize == [] and second.to_sync == []
    assert count(session, SubmissionVersion) == 3


def test_store_page__edited_submission__adds_version_and_switches_current(session):
    row = odata_row({"age": 1})
    store(session, [row])
    edit = odata_row(
        {"age": 2},
        submission_id=row["__id"],
        instance_id=new_instance_id(),
        updated_at="2026-11-02T03:00:00.000Z",
        review_state="edited",
        edits=1,
    )

    page = store(session, [edit])

    assert page.changes.updated == 1 and page.changes.new == 0
    assert [i.version.instance_id for i in page.to_normalize] == [
        edit["meta"]["instanceID"]
    ]
    submission = current(session, row["__id"])
    assert submission.current_instance_id == edit["meta"]["instanceID"]
    assert submission.edits == 1 and submission.review_state == "edited"
    assert count(session, SubmissionVersion) == 2


def test_store_page__review_of_normalized_submission__is_synced_not_renormalized(
    session,
):
    row = odata_row({"age": 1})
    store(session, [row])
    normalized(session)
    reviewed = {**row, "__system": {**row["__system"], "reviewState": "approved"}}

    page = store(session, [reviewed])

    assert page.to_normalize == []
    assert [s.submission_id for s in page.to_sync] == [row["__id"]]
    assert current(session, row["__id"]).review_state == "approved"


def test_store_page__deleted_then_restored__counts_each_once(session):
    row = odata_row({"age": 1})
    store(session, [row])
    deleted = {
        **row,
        "__system": {**row["__system"], "deletedAt": "2026-11-03T00:00:00Z"},
    }

    gone = store(session, [deleted])
    again = store(session, [deleted])
    back = store(session, [row])

    assert (gone.changes.deleted, again.changes.deleted) == (1, 0)
    assert back.changes.restored == 1
    assert current(session, row["__id"]).deleted_at is None


def test_store_page__first_seen_deleted__is_new_and_deleted(session):
    row = odata_row({"age": 1}, deleted_at="2026-11-03T00:00:00.000Z")

    page = store(session, [row])

    assert (page.changes.new, page.changes.deleted) == (1, 1)
    assert len(page.to_normalize) == 1


def test_store_page__not_decrypted_row__uses_its_id_as_instance(session):
    row = odata_row({}, status="notDecrypted")
    del row["meta"]

    store(session, [row])

    version = session.exec(select(SubmissionVersion)).one()
    assert version.instance_id == row["__id"]
    assert current(session, row["__id"]).central_status == "notDecrypted"


def test_mark_purged__keeps_the_submission_as_deleted(session):
    row = odata_row({"age": 1})
    store(session, [row])

    purged = mark_purged(
        session=session, project_id=1, xml_form_id=FORM, submission_ids=[row["__id"]]
    )
    session.commit()

    assert len(purged) == 1
    submission = current(session, row["__id"])
    assert submission.purged_at is not None and submission.deleted_at is not None
    assert count(session, SubmissionVersion) == 1
