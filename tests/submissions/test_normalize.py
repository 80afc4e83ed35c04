import json
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pandas
import sqlalchemy as sa
from sqlmodel import select

from server.errors import safe_summary
from server.submissions.convert import refused_by_database
from server.submissions.models import FormVersion, QuarantineEntry, Submission
from server.submissions.normalize import (
    normalize_batch,
    register_form_version,
    renormalize,
    sync_state,
)
from server.submissions.reader import describe_typed_tables, typed_table
from tests.contract.xforms import NESTED_FORM_ID, NESTED_FORM_XML
from tests.factories.submissions import (
    build_xform,
    encrypted_odata_row,
    ledger_submission,
    odata_row,
    repeat_row,
    xlsform_md,
)

PROJECT = 1
CONTRACT_FIXTURE = (
    Path(__file__).parents[1] / "contract" / "fixtures" / "central_extra.json"
)
FORM = "ag_visit"

VISIT = xlsform_md(
    """
    | type | name | label::Vietnamese (vi) | label::English (en) | calculation |
    | text | child_name | Họ tên | Name | |
    | integer | age | Tuổi | Age | |
    | decimal | allowance | Trợ cấp | Allowance | |
    | date | visit_date | Ngày thăm | Visit date | |
    | dateTime | seen_at | Lúc | Seen at | |
    | time | seen_time | Giờ | Time | |
    | geopoint | location | Vị trí | Location | |
    | geotrace | route | Đường đi | Route | |
    | image | photo | Ảnh | Photo | |
    | select_one district | district | Huyện | District | |
    | select_multiple needs | needs | Nhu cầu | Needs | |
    | calculate | score | | | 1 + 1 |
    | begin_group | household | Hộ | Household | |
    | text | head | Chủ hộ | Head | |
    | begin_repeat | member | Thành viên | Member | |
    | text | member_name | Tên | Name | |
    | begin_repeat | visit | Lần thăm | Visit | |
    | integer | minutes | Số phút | Minutes | |
    | end_repeat | | | | |
    | end_repeat | | | | |
    | end_group | | | | |
    """,
    choices="""
    | list_name | name | label::Vietnamese (vi) | label::English (en) |
    | district | 883 | Thành phố Long Xuyên | Long Xuyen City |
    | district | 884 | Thành phố Châu Đốc | Chau Doc City |
    | needs | food | Lương thực | Food |
    | needs | school | Học tập | Schooling |
    | needs | health | Y tế | Health |
    """,
    form_id=FORM,
    version="v1",
)

ANSWERS = {
    "child_name": "Nguyễn Văn A",
    "age": 9,
    "allowance": 1.5,
    "visit_date": "2026-11-01",
    "seen_at": "2026-11-01T08:30:00.000+07:00",
    "seen_time": "08:30:00.000+07:00",
    "location": {
        "type": "Point",
        "coordinates": [105.43, 10.38, 4.5],
        "properties": {"accuracy": 6.2},
    },
    "route": {"type": "LineString", "coordinates": [[105.4, 10.3], [105.5, 10.4]]},
    "photo": "1700000000000.jpg",
    "district": "883",
    "needs": "food health",
    "score": "2",
    "household": {"head": "Trần Thị B"},
}


def _register(session, md=VISIT, version="v1"):
    register_form_version(
        session=session,
        project_id=PROJECT,
        xml_form_id=FORM,
        version=version,
        xml=build_xform(md),
    )


def _ledger(session, *rows):
    return [
        ledger_submission(session, project_id=PROJECT, xml_form_id=FORM, row=row)
        for row in rows
    ]


def _normalize(session, items):
    return normalize_batch(
        session=session, project_id=PROJECT, xml_form_id=FORM, items=items
    )


def _rows(session, table="form_ag_visit", order="submission_id"):
    table_object = typed_table(session=session, xml_form_id=FORM, table=table)
    query = sa.select(table_object).order_by(sa.text(order))
    return [dict(r) for r in session.connection().execute(query).mappings()]


def _with_household(members):
    return {**ANSWERS, "household": {"head": "Trần Thị B", "member": members}}


def test_normalize__every_type__lands_typed(session):
    _register(session)
    items = _ledger(session, odata_row(ANSWERS))

    counts = _normalize(session, items)
    (row,) = _rows(session)

    assert counts == {"normalized": 1, "quarantined": 0}
    assert row["age"] == 9
    assert row["allowance"] == 1.5
    assert row["visit_date"] == date(2026, 11, 1)
    assert row["seen_time"] == "08:30:00.000+07:00"
    assert row["photo"] == "1700000000000.jpg"
    assert row["district"] == "883"
    assert row["score"] == "2"
    assert row["child_name"] == "Nguyễn Văn A"
    assert '"LineString"' in row["route"]


def test_normalize__group_field__gets_its_name_as_column(session):
    _register(session)

    _normalize(session, _ledger(session, odata_row(ANSWERS)))

    assert _rows(session)[0]["head"] == "Trần Thị B"


def test_normalize__datetime_with_offset__keeps_the_instant(session):
    _register(session)

    _normalize(session, _ledger(session, odata_row(ANSWERS)))

    seen_at = _rows(session)[0]["seen_at"]
    assert seen_at.tzinfo is not None
    assert seen_at == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def test_normalize__datetime__keeps_the_offset_it_was_recorded_with(session):
    _register(session)
    west = odata_row({**ANSWERS, "seen_at": "2026-11-01T01:30:00.000-05:30"})

    _normalize(session, _ledger(session, odata_row(ANSWERS), west))

    by_offset = {r["seen_at__utc_offset"]: r["seen_at"] for r in _rows(session)}
    assert by_offset == {
        420: datetime(2026, 11, 1, 1, 30, tzinfo=UTC),
        -330: datetime(2026, 11, 1, 7, 0, tzinfo=UTC),
    }
    described = describe_typed_tables(session=session)
    columns = {c["name"]: c for c in described[0]["columns"]}
    assert columns["seen_at__utc_offset"]["type"] == "SMALLINT"
    assert "offset from UTC" in columns["seen_at__utc_offset"]["label_en"]


def test_normalize__geopoint__splits_into_lat_lon_alt_acc(session):
    _register(session)

    _normalize(session, _ledger(session, odata_row(ANSWERS)))

    row = _rows(session)[0]
    assert (row["location__lat"], row["location__lon"]) == (10.38, 105.43)
    assert (row["location__alt"], row["location__acc"]) == (4.5, 6.2)


def test_normalize__select_multiple__raw_codes_and_one_boolean_per_choice(session):
    _register(session)
    unanswered = odata_row({**ANSWERS, "needs": None})

    _normalize(session, _ledger(session, odata_row(ANSWERS), unanswered))

    by_needs = {r["needs"]: r for r in _rows(session)}
    answered = by_needs["food health"]
    assert (answered["needs__food"], answered["needs__school"]) == (True, False)
    assert answered["needs__health"] is True
    assert by_needs[None]["needs__food"] is None


def test_normalize__standard_columns__come_from_the_ledger(session):
    _register(session)
    row = odata_row(ANSWERS, review_state="approved")

    _normalize(session, _ledger(session, row))

    typed = _rows(session)[0]
    assert typed["submission_id"] == row["__id"]
    assert typed["instance_id"] == row["meta"]["instanceID"]
    assert typed["project_id"] == PROJECT
    assert typed["form_version"] == "v1"
    assert typed["review_state"] == "approved"
    assert typed["edits"] == 0
    assert typed["submitter_id"] == "5"
    assert typed["submission_date"] == datetime(2026, 11, 1, 3, tzinfo=UTC)


def test_normalize__nested_repeat__rows_linked_to_parent_and_submission(session):
    _register(session)
    visit = repeat_row({"minutes": 30}, row_id="v-1")
    members = [
        repeat_row({"member_name": "C", "visit": [visit]}, row_id="m-1"),
        repeat_row({"member_name": "D"}, row_id="m-2"),
    ]
    row = odata_row(_with_household(members))

    _normalize(session, _ledger(session, row))

    members_rows = _rows(session, "form_ag_visit__member", "position")
    visits = _rows(session, "form_ag_visit__visit", "position")
    assert [(m["row_id"], m["position"]) for m in members_rows] == [
        ("m-1", 1),
        ("m-2", 2),
    ]
    assert {m["submission_id"] for m in members_rows} == {row["__id"]}
    assert members_rows[0]["parent_row_id"] is None
    assert visits == [
        {
            "row_id": "v-1",
            "submission_id": row["__id"],
            "parent_row_id": "m-1",
            "position": 1,
            "minutes": 30,
        }
    ]


def test_normalize__edited_submission__replaces_typed_row_and_repeat_rows(session):
    _register(session)
    first = odata_row(
        _with_household([repeat_row({"member_name": "C"}, row_id="old-1")])
    )
    _normalize(session, _ledger(session, first))
    edited = odata_row(
        {**_with_household([repeat_row({"member_name": "E"}, row_id="new-1")])}
        | {"age": 10},
        submission_id=first["__id"],
        edits=1,
        review_state="edited",
        updated_at="2026-11-02T03:00:00.000Z",
    )

    _normalize(session, _ledger(session, edited))

    (typed,) = _rows(session)
    members = _rows(session, "form_ag_visit__member", "position")
    assert typed["age"] == 10
    assert typed["instance_id"] == edited["meta"]["instanceID"]
    assert (typed["edits"], typed["review_state"]) == (1, "edited")
    assert [m["row_id"] for m in members] == ["new-1"]


def test_normalize__deleted_submission__stays_with_deleted_at(session):
    _register(session)
    row = odata_row(ANSWERS, deleted_at="2026-11-05T03:00:00.000Z")

    _normalize(session, _ledger(session, row))

    assert _rows(session)[0]["deleted_at"] == datetime(2026, 11, 5, 3, tzinfo=UTC)


def test_sync_state__review_and_deletion__reach_the_typed_row(session):
    _register(session)
    ((submission, _),) = items = _ledger(session, odata_row(ANSWERS))
    _normalize(session, items)
    submission.review_state = "rejected"
    submission.deleted_at = datetime(2026, 11, 6, tzinfo=UTC)
    submission.updated_at = datetime(2026, 11, 6, tzinfo=UTC)

    sync_state(session=session, submissions=[submission])

    typed = _rows(session)[0]
    assert typed["review_state"] == "rejected"
    assert typed["deleted_at"] == datetime(2026, 11, 6, tzinfo=UTC)
    assert typed["updated_at"] == datetime(2026, 11, 6, tzinfo=UTC)


def test_normalize__value_breaking_its_type__quarantined_without_the_value(session):
    _register(session)
    row = odata_row({**ANSWERS, "age": "chín tuổi"})

    counts = _normalize(session, _ledger(session, row))

    (entry,) = session.exec(select(QuarantineEntry)).all()
    assert counts == {"normalized": 0, "quarantined": 1}
    assert (entry.code, entry.field) == ("bad_value", "/age")
    for what in (FORM, "version v1", row["__id"], "/age", "int"):
        assert what in entry.reason
    assert "chín" not in entry.reason
    assert "Nguyễn" not in entry.reason
    assert _rows(session) == []


def test_normalize__quarantined_edit__removes_the_stale_typed_row(session):
    _register(session)
    first = odata_row(ANSWERS)
    _normalize(session, _ledger(session, first))
    broken = odata_row({**ANSWERS, "age": "x"}, submission_id=first["__id"], edits=1)

    _normalize(session, _ledger(session, broken))

    submission = session.exec(select(Submission)).one()
    assert submission.state == "quarantined"
    assert _rows(session) == []


def test_normalize__unknown_form_version__quarantined(session):
    _register(session)
    row = odata_row(ANSWERS, form_version="v9")

    counts = _normalize(session, _ledger(session, row))

    entry = session.exec(select(QuarantineEntry)).one()
    assert counts["quarantined"] == 1
    assert entry.code == "unknown_form_version"
    assert "version v9" in entry.reason


def test_normalize__form_never_registered__quarantined(session):
    counts = _normalize(session, _ledger(session, odata_row(ANSWERS)))

    assert counts == {"normalized": 0, "quarantined": 1}
    assert session.exec(select(QuarantineEntry)).one().code == "unknown_form_version"


def test_normalize__not_decrypted__quarantined(session):
    _register(session)

    _normalize(session, _ledger(session, encrypted_odata_row()))

    assert session.exec(select(QuarantineEntry)).one().code == "not_decrypted"


def test_normalize__repeat_without_expand__quarantined_not_emptied(session):
    _register(session)
    row = odata_row(ANSWERS)
    row["household"]["member@odata.navigationLink"] = "Submissions('x')/member"

    _normalize(session, _ledger(session, row))

    entry = session.exec(select(QuarantineEntry)).one()
    assert (entry.code, entry.field) == ("bad_repeat", "/household/member")


def test_renormalize__after_the_version_is_registered__clears_quarantine(session):
    _register(session)
    row = odata_row(ANSWERS, form_version="v2")
    _normalize(session, _ledger(session, row))
    _register(session, VISIT.replace("| v1 |", "| v2 |"), version="v2")

    result = renormalize(session=session, xml_form_id=FORM, only_quarantined=True)

    entry = session.exec(select(QuarantineEntry)).one()
    assert result == {"normalized": 1, "quarantined": 0, "resolved": 1}
    assert entry.resolved_at is not None
    assert session.exec(select(Submission)).one().state == "normalized"
    assert _rows(session)[0]["form_version"] == "v2"


def test_normalize__same_ledger_twice__changes_nothing(session):
    _register(session)
    members = [repeat_row({"member_name": "C"}, row_id="m-1")]
    items = _ledger(
        session, odata_row(_with_household(members)), odata_row({"age": "x"})
    )
    _normalize(session, items)
    before = (_rows(session), _rows(session, "form_ag_visit__member", "row_id"))
    entries_before = [
        (e.id, e.resolved_at) for e in session.exec(select(QuarantineEntry))
    ]

    _normalize(session, items)
    renormalize(session=session)

    after = (_rows(session), _rows(session, "form_ag_visit__member", "row_id"))
    entries_after = [
        (e.id, e.resolved_at) for e in session.exec(select(QuarantineEntry))
    ]
    assert after == before
    assert entries_after == entries_before


def test_typed_table__read_with_pandas__gives_typed_columns(session):
    _register(session)
    _normalize(session, _ledger(session, odata_row(ANSWERS), odata_row(ANSWERS)))
    session.commit()
    table = typed_table(session=session, xml_form_id=FORM)

    with session.get_bind().connect() as analyst:
        frame = pandas.read_sql(sa.select(table), analyst)

    assert str(frame["age"].dtype) == "int64"
    assert str(frame["allowance"].dtype) == "float64"
    assert str(frame["location__lat"].dtype) == "float64"
    assert str(frame["needs__food"].dtype) == "bool"
    assert frame["seen_at"].dt.tz is not None
    assert frame["seen_at"].iloc[0] == pandas.Timestamp("2026-11-01T01:30:00Z")
    assert frame["visit_date"].iloc[0] == date(2026, 11, 1)


def test_describe_typed_tables__columns_types_and_labels_for_analysts(session):
    _register(session)

    described = {t["table"]: t for t in describe_typed_tables(session=session)}

    main = described["form_ag_visit"]
    columns = {c["name"]: c for c in main["columns"]}
    assert set(described) == {
        "form_ag_visit",
        "form_ag_visit__member",
        "form_ag_visit__visit",
    }
    assert described["form_ag_visit__visit"]["parent_repeat"] == "/household/member"
    assert columns["age"]["type"] == "BIGINT"
    assert (columns["age"]["label_vi"], columns["age"]["label_en"]) == ("Tuổi", "Age")
    assert columns["needs__school"]["choice"] == "school"
    assert columns["location__lat"]["type"] == "FLOAT"
    assert columns["district"]["list_name"] == "district"
    assert "deleted_at" in columns


def test_normalize__submission_twice_in_one_batch__its_current_version_once(session):
    _register(session)
    first = odata_row(ANSWERS)
    (old,) = _ledger(session, first)
    edited = odata_row({**ANSWERS, "age": 11}, submission_id=first["__id"], edits=1)
    (new,) = _ledger(session, edited)

    counts = _normalize(session, [new, old])

    assert counts == {"normalized": 1, "quarantined": 0}
    assert [r["age"] for r in _rows(session)] == [11]


def test_normalize__row_recorded_from_a_real_central__nested_repeats_land(session):
    recorded = json.loads(CONTRACT_FIXTURE.read_text(encoding="utf-8"))
    exchange = next(
        e for e in recorded["exchanges"] if e["name"] == "nested_odata_expand"
    )
    row = exchange["body"]["value"][0]
    # The recording replaced volatile values with placeholders.
    row["__system"]["submissionDate"] = "2026-12-03T18:12:12.256Z"
    row["__system"]["submitterId"] = "5"
    register_form_version(
        session=session,
        project_id=PROJECT,
        xml_form_id=NESTED_FORM_ID,
        version="n1",
        xml=NESTED_FORM_XML,
    )
    items = [
        ledger_submission(
            session, project_id=PROJECT, xml_form_id=NESTED_FORM_ID, row=row
        )
    ]

    counts = normalize_batch(
        session=session, project_id=PROJECT, xml_form_id=NESTED_FORM_ID, items=items
    )

    household = typed_table(
        session=session,
        xml_form_id=NESTED_FORM_ID,
        table="form_contract_nested__household",
    )
    member = typed_table(
        session=session,
        xml_form_id=NESTED_FORM_ID,
        table="form_contract_nested__member",
    )
    read = session.connection().execute
    heads = read(sa.select(household).order_by(household.c.position)).mappings().all()
    members = read(sa.select(member)).mappings().all()
    by_age = {m["member_age"]: m for m in members}
    assert counts == {"normalized": 1, "quarantined": 0}
    assert [h["head_name"] for h in heads] == ["Head one", "Head two", "Head three"]
    assert by_age[34]["parent_row_id"] == heads[0]["row_id"]
    assert by_age[6]["position"] == 2
    assert (by_age[6]["member_needs__food"], by_age[6]["member_needs__school"]) == (
        True,
        True,
    )
    assert by_age[71]["parent_row_id"] == heads[2]["row_id"]
    assert by_age[71]["member_needs"] is None


def test_normalize__datetime_without_offset__quarantined_not_guessed(session):
    _register(session)
    row = odata_row({**ANSWERS, "seen_at": "2026-11-01T08:30:00.000"})

    _normalize(session, _ledger(session, row))

    entry = session.exec(select(QuarantineEntry)).one()
    assert (entry.code, entry.field) == ("bad_value", "/seen_at")
    assert "dateTime" in entry.reason


def test_normalize__geopoint_as_odk_text_or_wkt__lands_like_geojson(session):
    _register(session)
    odk_text = odata_row({**ANSWERS, "location": "10.38 105.43 4.5 6.2"})
    wkt = odata_row({**ANSWERS, "location": "POINT (105.43 10.38 4.5)"})

    _normalize(session, _ledger(session, odk_text, wkt))

    points = {
        (r["location__lat"], r["location__lon"], r["location__acc"])
        for r in _rows(session)
    }
    assert points == {(10.38, 105.43, None), (10.38, 105.43, 6.2)}


def test_normalize__numbers_sent_as_text__still_typed(session):
    _register(session)
    row = odata_row({**ANSWERS, "age": "9", "allowance": "1.5"})

    _normalize(session, _ledger(session, row))

    typed = _rows(session)[0]
    assert (typed["age"], typed["allowance"]) == (9, 1.5)


def test_normalize__empty_string_answer__is_unanswered_not_bad(session):
    _register(session)
    row = odata_row({**ANSWERS, "age": "", "visit_date": ""})

    counts = _normalize(session, _ledger(session, row))

    typed = _rows(session)[0]
    assert counts["normalized"] == 1
    assert (typed["age"], typed["visit_date"]) == (None, None)


def test_normalize__vietnamese_text__stored_nfc(session):
    _register(session)
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn A")
    row = odata_row({**ANSWERS, "child_name": decomposed})

    _normalize(session, _ledger(session, row))

    assert _rows(session)[0]["child_name"] == unicodedata.normalize("NFC", decomposed)


def test_normalize__version_stored_without_registration__merged_first(session):
    session.add(
        FormVersion(
            project_id=PROJECT, xml_form_id=FORM, version="v1", xml=build_xform(VISIT)
        )
    )

    counts = _normalize(session, _ledger(session, odata_row(ANSWERS)))

    assert counts == {"normalized": 1, "quarantined": 0}
    assert _rows(session)[0]["age"] == 9


def test_normalize__datetime_at_the_ends_of_the_range__quarantined_not_failed(
    session,
):
    _register(session)
    early = odata_row({**ANSWERS, "seen_at": "0001-01-01T00:00:00+07:00"})
    late = odata_row({**ANSWERS, "seen_at": "9999-12-31T23:59:59-07:00"})
    fine = odata_row(ANSWERS)

    counts = _normalize(session, _ledger(session, early, fine, late))

    assert counts == {"normalized": 1, "quarantined": 2}
    entries = session.exec(select(QuarantineEntry)).all()
    assert {(e.code, e.field) for e in entries} == {("bad_value", "/seen_at")}
    assert {e.submission_id for e in entries} == {early["__id"], late["__id"]}
    assert [r["submission_id"] for r in _rows(session)] == [fine["__id"]]


def test_normalize__text_no_column_can_hold__quarantined_not_failed(session):
    _register(session)
    nul = odata_row({**ANSWERS, "child_name": "Nguyen\x00Van A"})
    surrogate = odata_row({**ANSWERS, "child_name": "Nguy\ud800n"})
    fine = odata_row(ANSWERS)

    counts = _normalize(session, _ledger(session, nul, surrogate, fine))

    assert counts == {"normalized": 1, "quarantined": 2}
    entries = session.exec(select(QuarantineEntry)).all()
    assert {(e.code, e.field) for e in entries} == {("bad_value", "/child_name")}


def test_normalize__rows_the_database_refuses__quarantined_the_rest_land(session):
    _register(session)
    twins = [
        repeat_row({"member_name": "C"}, row_id="same"),
        repeat_row({"member_name": "Nguyễn Văn D"}, row_id="same"),
    ]
    refused = odata_row(_with_household(twins))
    fine = odata_row(_with_household([repeat_row({"member_name": "E"})]))

    counts = _normalize(session, _ledger(session, refused, fine))

    assert counts == {"normalized": 1, "quarantined": 1}
    (entry,) = session.exec(select(QuarantineEntry)).all()
    assert (entry.code, entry.submission_id) == ("refused_by_database", refused["__id"])
    assert "IntegrityError" in entry.reason or "UniqueViolation" in entry.reason
    assert "Nguyễn" not in entry.reason and "same" not in entry.reason
    assert [r["submission_id"] for r in _rows(session)] == [fine["__id"]]
    members = _rows(session, "form_ag_visit__member", "row_id")
    assert [m["submission_id"] for m in members] == [fine["__id"]]
    states = {s.submission_id: s.state for s in session.exec(select(Submission))}
    assert states == {refused["__id"]: "quarantined", fine["__id"]: "normalized"}


class _UniqueViolation(Exception):
    sqlstate = "23505"


class _IntegrityError(Exception):
    """A SQLAlchemy-like wrapper: the driver's error is its ``orig``."""

    def __init__(self) -> None:
        super().__init__("duplicate key: Nguyễn")
        self.orig = _UniqueViolation("duplicate key: Nguyễn")


def test_refused_by_database__names_the_driver_error_and_sqlstate_only():
    wrapped = refused_by_database("form f, version v1", _IntegrityError())
    bare = refused_by_database("form f, version v1", _UniqueViolation("Nguyễn"))
    plain = refused_by_database("form f, version v1", ValueError("Nguyễn"))

    assert "(_UniqueViolation, SQLSTATE 23505)" in wrapped.reason
    assert "(_UniqueViolation, SQLSTATE 23505)" in bare.reason
    assert "(ValueError)" in plain.reason
    assert not any("Nguyễn" in p.reason for p in (wrapped, bare, plain))
    assert safe_summary(_IntegrityError()).startswith(
        "_IntegrityError (_UniqueViolation), SQLSTATE 23505"
    )
