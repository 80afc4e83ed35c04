"""Pulling from the Central simulator into the ledger and the typed tables, on
SQLite and PostgreSQL: incremental and full pulls, edits, reviews, deletions,
restores, purges, attachments and quarantine."""

import copy
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from server.central.submissions import ODataPage, RetryPolicy
from server.errors import CentralError
from server.submissions.models import (
    Blob,
    CentralForm,
    FormVersion,
    PullRun,
    QuarantineEntry,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
)
from server.submissions.pull import PullOptions, prefetched, pull, register_in_order
from server.submissions.quarantine import list_entries, retry
from server.submissions.service import central_for, form_status
from tests.factories.sync import (
    XML_FORM_ID,
    CentralActions,
    form_xml,
    many_submissions,
    new_instance_id,
    submission_xml,
    submit_at,
)

FAST_RETRY = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.02)
TABLE = "form_sync_visit"
REPEAT_TABLE = "form_sync_visit__member"


@pytest.fixture
def central(central_settings):
    api = central_for(central_settings, retry=FAST_RETRY)
    yield api
    api.client.close()


@pytest.fixture
def actions(pyodk_client, central_project_id):
    actions = CentralActions(pyodk_client, central_project_id)
    actions.publish(form_xml("v1"))
    return actions


def run(session, central, *, full=False, page_size=100, overlap_seconds=300):
    options = PullOptions(
        page_size=page_size, overlap=timedelta(seconds=overlap_seconds)
    )
    (result,) = pull(
        session=session,
        central=central,
        xml_form_id=XML_FORM_ID,
        full=full,
        options=options,
    )
    return result


def count(session, model, *where):
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def typed(session, table=TABLE, order="submission_id"):
    query = sa.text(f'SELECT * FROM "{table}" ORDER BY {order}')  # noqa: S608
    return [dict(r._mapping) for r in session.connection().execute(query)]


def submission(session, submission_id):
    query = select(Submission).where(Submission.submission_id == submission_id)
    return session.exec(query).one()


def test_pull__twice__changes_nothing(session, central, actions):
    for xml in many_submissions(5):
        actions.submit(xml)

    first = run(session, central)
    ledger_before = count(session, SubmissionVersion)
    typed_before = typed(session)
    repeat_before = typed(session, REPEAT_TABLE, "row_id")
    second = run(session, central)

    assert (first.new, first.normalized) == (5, 5)
    assert (second.new, second.updated, second.deleted, second.normalized) == (0,) * 4
    assert count(session, SubmissionVersion) == ledger_before == 5
    assert typed(session) == typed_before
    assert typed(session, REPEAT_TABLE, "row_id") == repeat_before
    assert len(repeat_before) == sum(n % 5 for n in range(5))


def test_pull__repeat_rows__are_linked_to_their_parent(session, central, actions):
    instance_id = actions.submit(submission_xml(members=3, seed=7))

    run(session, central)

    rows = typed(session, REPEAT_TABLE, "position")
    assert [r["submission_id"] for r in rows] == [instance_id] * 3
    assert [r["position"] for r in rows] == [1, 2, 3]


# Incremental pulls. Rows are seeded two hours back and a newer one an hour
# back sets the cursor, so the window (cursor - 5 minutes) holds none of the
# older rows: a change to one of them is found only if the pull looks for it.


@pytest.fixture
def older(central_sim, central_project_id, actions, session, central):
    """Three submissions from two hours ago, one from an hour ago, pulled."""
    now = datetime.now(UTC)
    ids = submit_at(
        central_sim,
        central_project_id,
        now - timedelta(hours=2),
        *many_submissions(3),
    )
    submit_at(
        central_sim,
        central_project_id,
        now - timedelta(hours=1),
        submission_xml(seed=50),
    )
    first = run(session, central)
    assert (first.mode, first.new) == ("full", 4)
    return ids


def test_pull__incremental__reads_only_the_window(session, central, actions, older):
    fresh = actions.submit(submission_xml(seed=99))

    result = run(session, central)

    # The hour-old row is the cursor, re-read by the overlap; nothing older.
    assert (result.mode, result.seen, result.new) == ("incremental", 2, 1)
    assert submission(session, fresh).state == "normalized"


def test_pull__incremental__picks_up_an_edit_of_an_older_submission(
    session, central, actions, older
):
    edited = older[0]
    new_version = new_instance_id()
    actions.edit(
        edited,
        submission_xml(new_version, age=12, members=1, deprecated_id=edited, seed=1),
    )

    result = run(session, central)

    assert (result.new, result.updated, result.deleted) == (0, 1, 0)
    rows = {r["submission_id"]: r for r in typed(session)}
    assert rows[edited]["instance_id"] == new_version and rows[edited]["age"] == 12
    assert rows[edited]["edits"] == 1
    versions = session.exec(
        select(SubmissionVersion.instance_id).where(
            SubmissionVersion.submission_id == edited
        )
    ).all()
    assert sorted(versions) == sorted([edited, new_version])
    edited_repeats = [
        r
        for r in typed(session, REPEAT_TABLE, "row_id")
        if r["submission_id"] == edited
    ]
    assert len(edited_repeats) == 1


def test_pull__incremental__picks_up_a_review_of_an_older_submission(
    session, central, actions, older
):
    actions.review(older[1], "approved")

    run(session, central)

    rows = {r["submission_id"]: r for r in typed(session)}
    assert rows[older[1]]["review_state"] == "approved"
    assert submission(session, older[1]).review_state == "approved"


def test_pull__incremental__picks_up_a_deletion_of_an_older_submission(
    session, central, actions, older
):
    actions.delete(older[2])

    result = run(session, central)

    assert (result.new, result.updated, result.deleted) == (0, 0, 1)
    rows = {r["submission_id"]: r for r in typed(session)}
    assert rows[older[2]]["deleted_at"] is not None
    assert rows[older[0]]["deleted_at"] is None


def test_pull__incremental__brings_back_a_restored_older_submission(
    session, central, actions, older
):
    restored = older[0]
    actions.delete(restored)
    assert run(session, central).deleted == 1

    # Restoring changes neither updatedAt nor the deleted list's membership of
    # anything the window reads: only the recheck of deleted rows finds it.
    actions.restore(restored)
    result = run(session, central)

    assert result.restored == 1
    assert submission(session, restored).deleted_at is None
    rows = {r["submission_id"]: r for r in typed(session)}
    assert rows[restored]["deleted_at"] is None


@pytest.mark.parametrize(("overlap_seconds", "found"), [(300, 1), (0, 0)])
def test_pull__row_committed_late__found_by_the_overlap_window(
    session, central, actions, central_sim, central_project_id, overlap_seconds, found
):
    cursor = datetime.now(UTC) - timedelta(hours=1)
    submit_at(central_sim, central_project_id, cursor, submission_xml(seed=1))
    run(session, central, overlap_seconds=overlap_seconds)
    # Committed after that pull, with a submission date two minutes before the
    # cursor (getodk/central#1164: timestamps are set before commit).
    (late,) = submit_at(
        central_sim,
        central_project_id,
        cursor - timedelta(minutes=2),
        submission_xml(seed=2),
    )

    result = run(session, central, overlap_seconds=overlap_seconds)

    assert result.new == found
    assert count(session, Submission, Submission.submission_id == late) == found


class _RepeatingCentral:
    """Central as a timestamp-paged reader may see it: the given pages, in
    which one submission shows up twice; every other call goes to Central."""

    def __init__(self, central, pages):
        self._central = central
        self._pages = pages

    def __getattr__(self, name):
        return getattr(self._central, name)

    def odata_pages(self, xml_form_id, *, filter=None, **_):
        if filter is not None:  # the deleted list, and rows asked for by id
            yield from self._central.odata_pages(xml_form_id, filter=filter)
            return
        for rows in self._pages:
            yield ODataPage(rows=rows, next_link=None)


def _two_readings(central, actions):
    """Submission X as Central shows it now (approved) and as it was before
    its review, and a second submission Y."""
    x, y = (
        actions.submit(submission_xml(seed=1)),
        actions.submit(submission_xml(seed=2)),
    )
    actions.review(x, "approved")
    rows = {r["__id"]: r for p in central.odata_pages(XML_FORM_ID) for r in p.rows}
    before = copy.deepcopy(rows[x])
    before["__system"].update(reviewState=None, updatedAt=None)
    return x, rows[x], before, rows[y]


@pytest.mark.parametrize("order", ["newer_first", "older_first"])
def test_pull__same_submission_on_two_pages__newest_reading_kept_once(
    session, central, actions, order
):
    x, newer, older_reading, y = _two_readings(central, actions)
    first, second = (
        (newer, older_reading) if order == "newer_first" else (older_reading, newer)
    )
    pages = [[first, y], [second]]

    result = run(session, _RepeatingCentral(central, pages))

    assert (result.seen, result.new, result.updated) == (2, 2, 0)
    assert submission(session, x).review_state == "approved"
    rows = {r["submission_id"]: r for r in typed(session)}
    assert rows[x]["review_state"] == "approved"
    assert count(session, SubmissionVersion) == 2


def test_pull__full__finds_a_submission_the_window_missed(
    session, central, actions, central_sim, central_project_id
):
    actions.submit(submission_xml(seed=1))
    run(session, central)
    # Committed late on Central: its submissionDate is older than the cursor and
    # the overlap window, as in getodk/central#1164.
    central_sim.store.bulk_submit(
        central_project_id,
        XML_FORM_ID,
        [submission_xml(seed=2)],
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
    )

    missed = run(session, central)
    found = run(session, central, full=True)

    assert missed.new == 0
    assert found.new == 1 and found.normalized == 1
    assert count(session, Submission) == 2
    assert len(typed(session)) == 2


def test_pull__full__marks_purged_submissions(session, central, actions, central_sim):
    kept = actions.submit(submission_xml(seed=1))
    purged = actions.submit(submission_xml(seed=2))
    run(session, central)
    actions.delete(purged)
    with central_sim.store.tx() as db:
        db.execute("delete from submissions where instance_id = ?", (purged,))

    result = run(session, central, full=True)

    assert result.purged == 1
    assert submission(session, purged).purged_at is not None
    assert submission(session, kept).purged_at is None
    rows = {r["submission_id"]: r for r in typed(session)}
    assert rows[purged]["deleted_at"] is not None


def test_pull__value_breaking_its_type__is_quarantined_and_counted(
    session, central, actions
):
    actions.submit(submission_xml(seed=1))
    bad = actions.submit(submission_xml(visit_date="2026-02-30", seed=2))

    result = run(session, central)

    assert (result.normalized, result.quarantined) == (1, 1)
    assert submission(session, bad).state == "quarantined"
    assert count(session, QuarantineEntry, QuarantineEntry.submission_id == bad) >= 1
    (status,) = form_status(session=session)
    assert status["reconciles"]
    assert status["counts"]["quarantined"] == 1


def test_pull__new_form_version__is_registered_before_its_submissions(
    session, central, actions
):
    actions.submit(submission_xml(seed=1))
    run(session, central)
    actions.publish_version(form_xml("v2", with_remark=True), "v2")
    xml = submission_xml(version="v2", seed=2).replace(
        "<member>", "<remark>ok</remark><member>", 1
    )
    instance_id = actions.submit(xml)

    result = run(session, central)

    assert result.normalized == 1
    rows = {r["submission_id"]: r for r in typed(session)}
    assert rows[instance_id]["remark"] == "ok"
    assert rows[instance_id]["form_version"] == "v2"


def test_pull__first_pull_after_two_versions__registers_the_older_one_too(
    session, central, actions
):
    older = actions.submit(submission_xml(seed=1))
    actions.publish_version(form_xml("v2", with_remark=True), "v2")
    newer = actions.submit(submission_xml(version="v2", seed=2))

    result = run(session, central)

    # v1 is no longer the current version: its XForm comes from /versions/v1.xml.
    assert (result.normalized, result.quarantined) == (2, 0)
    versions = {r["submission_id"]: r["form_version"] for r in typed(session)}
    assert versions == {older: "v1", newer: "v2"}
    # Registered oldest first, with Central's publication times, as an install
    # that followed the form from v1 would have.
    registered = session.exec(select(FormVersion).order_by(FormVersion.id)).all()
    assert [v.version for v in registered] == ["v1", "v2"]
    assert registered[0].published_at < registered[1].published_at


def test_quarantine_retry__version_central_lacked__fetched_then_normalized(
    session, central, actions, central_sim
):
    older = actions.submit(submission_xml(seed=1))
    actions.publish_version(form_xml("v2", with_remark=True), "v2")
    # Central could not give v1's XForm during the pull (it had not got it yet).
    central_sim.faults.add(r"/versions/v1\.xml", "status", status=404, times=None)
    assert run(session, central).quarantined == 1
    (entry,) = list_entries(session=session)
    assert entry["code"] == "unknown_form_version"
    central_sim.faults.clear()

    from_ledger_only = retry(session=session)
    totals = retry(session=session, central=central)

    assert from_ledger_only["quarantined"] == 1
    assert totals == {
        "normalized": 1,
        "quarantined": 0,
        "resolved": 1,
        "versions_registered": 1,
    }
    assert submission(session, older).state == "normalized"
    assert [r["form_version"] for r in typed(session)] == ["v1"]
    assert list_entries(session=session) == []


def test_register_in_order__oldest_published_first_then_unlisted(session):
    # What both a pull and a quarantine retry register with: not the versions'
    # text order (v10 < v2 < v3), which would make the merge start again.
    class OneProjectsCentral:
        project_id = 1

        def form_xml(self, xml_form_id, version=None):
            return form_xml(version)

    published = {
        "v10": datetime(2024, 2, 1, tzinfo=UTC),
        "v2": datetime(2024, 1, 1, tzinfo=UTC),
    }
    registered = register_in_order(
        session=session,
        central=OneProjectsCentral(),
        xml_form_id=XML_FORM_ID,
        versions=["v3", "v10", "v2"],
        published=published,
    )

    assert registered == 3
    rows = session.exec(select(FormVersion).order_by(FormVersion.id)).all()
    assert [v.version for v in rows] == ["v2", "v10", "v3"]


def test_pull__attachments__are_stored_once_by_hash(session, central, actions):
    photo = b"\xff\xd8\xff same photo bytes"
    ids = [actions.submit(submission_xml(photo="p.jpg", seed=n)) for n in range(3)]
    actions.attach(ids[0], "p.jpg", photo)
    actions.attach(ids[1], "p.jpg", photo)
    actions.attach(ids[2], "p.jpg", b"\xff\xd8\xff another photo")

    first = run(session, central)
    second = run(session, central)

    assert first.attachments == 3 and second.attachments == 0
    assert count(session, SubmissionAttachment) == 3
    assert count(session, Blob) == 2


def test_pull__state_and_status__reconcile(session, central, actions):
    ids = [actions.submit(x) for x in many_submissions(4)]
    actions.delete(ids[0])

    run(session, central)

    (status,) = form_status(session=session)
    counts = status["counts"]
    assert counts["submissions"] == 4
    assert (counts["normalized"], counts["deleted"], counts["pending"]) == (3, 1, 0)
    assert status["reconciles"] and status["last_run"]["status"] == "ok"
    form = session.exec(select(CentralForm)).one()
    assert form.cursor_submission_date is not None


# Faults


def test_pull__5xx_then_success__completes(session, central, actions, central_sim):
    for xml in many_submissions(3):
        actions.submit(xml)
    central_sim.faults.add(r"\.svc/Submissions", "status", status=503, times=2)

    result = run(session, central)

    assert result.new == 3
    assert session.exec(select(PullRun)).one().status == "ok"


def test_pull__persistent_5xx__fails_clearly_and_leaves_whole_pages(
    session, central, actions, central_sim
):
    for xml in many_submissions(5):
        actions.submit(xml)
    central_sim.faults.add(
        r"Submissions\?.*%24skiptoken", "status", status=500, times=None
    )

    with pytest.raises(Exception) as caught:
        run(session, central, page_size=2)

    assert getattr(caught.value, "status", None) == 500
    runs = session.exec(select(PullRun)).all()
    assert [r.status for r in runs] == ["failed"]
    assert "500" in runs[0].error and "gave up after 3 attempts" in runs[0].error
    # The first page is in, whole: its ledger rows and typed rows agree, and the
    # cursor has not moved.
    assert count(session, Submission) == 2 == len(typed(session))
    assert session.exec(select(CentralForm)).one().cursor_submission_date is None

    central_sim.faults.clear()
    result = run(session, central, page_size=2)

    assert result.new == 3
    assert count(session, Submission) == 5 == count(session, SubmissionVersion)
    assert len(typed(session)) == 5


def test_prefetched__settles_before_waiting_and_before_raising_a_reading_error():
    # The pull commits its stored pages there: none is lost to a failed fetch.
    release, seen, settled = threading.Event(), [], []

    def pages():
        yield "first"
        release.wait(5)
        raise CentralError("Central went away", url="u", status=503)

    def settle():
        settled.append(list(seen))
        release.set()

    with pytest.raises(CentralError):
        for page in prefetched(pages(), depth=1, before_waiting=settle):
            seen.append(page)

    assert settled[-2:] == [["first"], ["first"]]


class _RowQuotingError(Exception):
    """A driver's error, whose message quotes the row it failed on."""

    sqlstate = "23505"


@pytest.mark.parametrize(
    "error",
    [
        ValueError("invalid literal for int() with base 10: 'Nguyễn Văn A'"),
        sa.exc.IntegrityError(
            "INSERT INTO submission ...",
            {"name": "Nguyễn Văn A"},
            _RowQuotingError("Key (name)=(Nguyễn Văn A) already exists"),
        ),
    ],
    ids=["value_error", "database_error"],
)
def test_pull__unexpected_error__recorded_without_its_message(
    session, central, actions, monkeypatch, error
):
    actions.submit(submission_xml(seed=1))

    def failing(**_):
        raise error

    monkeypatch.setattr("server.submissions.ledger.store_page", failing)

    with pytest.raises(type(error)):
        run(session, central)

    (failed,) = session.exec(select(PullRun)).all()
    (status,) = form_status(session=session)
    for shown in (failed.error, status["last_run"]["error"]):
        assert type(error).__name__ in shown
        assert "test_pull.py" in shown  # where it was raised
        assert "Nguyễn" not in shown
    if isinstance(error, sa.exc.DBAPIError):
        assert "SQLSTATE 23505" in failed.error


def test_pull__dropped_connection_mid_page__is_retried(
    session, central, actions, central_sim
):
    for xml in many_submissions(4):
        actions.submit(xml)
    central_sim.faults.add(r"Submissions\?.*%24skiptoken", "drop", after_bytes=200)

    result = run(session, central, page_size=2)

    assert result.new == 4
    assert count(session, SubmissionVersion) == 4


def test_pull__timeout__is_retried(session, central_settings, actions, central_sim):
    actions.submit(submission_xml(seed=1))
    settings = central_settings.model_copy(update={"central_timeout": 0.5})
    central = central_for(settings, retry=FAST_RETRY)
    central_sim.faults.add(r"\.svc/Submissions", "timeout", seconds=2)

    try:
        result = run(session, central)
    finally:
        central.client.close()

    assert result.new == 1


def test_pull__one_form_failing__still_pulls_the_others(
    session, central, actions, pyodk_client, central_project_id, central_sim
):
    other = CentralActions(pyodk_client, central_project_id, "other_visit")
    other.publish(form_xml("v1").replace('id="sync_visit"', 'id="other_visit"'))
    actions.submit(submission_xml(seed=1))
    central_sim.faults.add(
        r"other_visit\.svc/Submissions", "status", status=503, times=None
    )

    with pytest.raises(CentralError):
        pull(session=session, central=central, options=PullOptions(page_size=100))

    runs = {r.xml_form_id: r.status for r in session.exec(select(PullRun))}
    assert runs == {"sync_visit": "ok", "other_visit": "failed"}
    assert count(session, Submission) == 1


def test_pull__form_with_only_a_draft__is_skipped(
    session, central, actions, pyodk_client, central_project_id
):
    draft = form_xml("v1").replace('id="sync_visit"', 'id="draft_visit"')
    response = pyodk_client.session.post(
        f"projects/{central_project_id}/forms",
        data=draft.encode(),
        headers={"Content-Type": "application/xml"},
    )
    assert response.status_code == 200, response.text

    results = pull(session=session, central=central)

    assert [r.xml_form_id for r in results] == ["sync_visit"]


def test_pull__two_at_once_in_one_process__take_turns(engine, central, actions):
    from concurrent.futures import ThreadPoolExecutor

    from sqlmodel import Session

    for xml in many_submissions(6):
        actions.submit(xml)

    def one_pull():
        with Session(engine) as own:
            return run(own, central, page_size=2)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: one_pull(), range(2)))

    assert sorted(r.new for r in results) == [0, 6]
    with Session(engine) as session:
        assert count(session, SubmissionVersion) == 6
        assert [r.status for r in session.exec(select(PullRun))] == ["ok", "ok"]
