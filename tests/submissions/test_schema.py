from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from server.submissions.models import FormChoice, FormField, QuarantineEntry
from server.submissions.normalize import normalize_batch, register_form_version
from server.submissions.reader import typed_table
from server.submissions.schema import fit_identifier, form_table_name
from tests.factories.submissions import (
    build_xform,
    ledger_submission,
    odata_row,
    repeat_row,
    xlsform_md,
)

PROJECT = 1
FORM = "ag_schema"


def _form(survey: str, version: str, choices: str = "") -> str:
    return build_xform(
        xlsform_md(survey, form_id=FORM, version=version, choices=choices)
    )


V1 = """
| type | name | label |
| text | case_id | Mã |
| integer | age | Tuổi |
| text | name | Tên |
"""
# v2: adds a field, moves `name` into a group.
V2 = """
| type | name | label |
| text | case_id | Mã |
| integer | age | Tuổi |
| begin_group | child | Trẻ |
| text | name | Tên |
| end_group | | |
| date | intake_date | Ngày tiếp nhận |
"""


def _register(session, survey, version, choices=""):
    register_form_version(
        session=session,
        project_id=PROJECT,
        xml_form_id=FORM,
        version=version,
        xml=_form(survey, version, choices),
    )


def _normalize(session, *rows):
    items = [
        ledger_submission(session, project_id=PROJECT, xml_form_id=FORM, row=row)
        for row in rows
    ]
    return normalize_batch(
        session=session, project_id=PROJECT, xml_form_id=FORM, items=items
    )


def _rows(session, table=None):
    table_object = typed_table(session=session, xml_form_id=FORM, table=table)
    query = sa.select(table_object).order_by(table_object.c.submission_id)
    return [dict(r) for r in session.connection().execute(query).mappings()]


def _by_case(session):
    return {row["case_id"]: row for row in _rows(session)}


def _columns(session, table):
    return {c["name"] for c in sa.inspect(session.connection()).get_columns(table)}


def test_merge__field_added_in_v2__empty_for_v1_rows(session):
    _register(session, V1, "v1")
    _register(session, V2, "v2")

    _normalize(
        session,
        odata_row({"case_id": "A"}, form_version="v1"),
        odata_row({"case_id": "B", "intake_date": "2026-11-02"}, form_version="v2"),
    )

    rows = _by_case(session)
    assert rows["A"]["intake_date"] is None
    assert str(rows["B"]["intake_date"]) == "2026-11-02"


def test_merge__table_created_before_v2__gains_the_new_column(session):
    _register(session, V1, "v1")
    _normalize(session, odata_row({"case_id": "A"}, form_version="v1"))

    _register(session, V2, "v2")

    assert "intake_date" in _columns(session, "form_ag_schema")
    assert _by_case(session)["A"]["intake_date"] is None


def test_merge__field_moved_into_a_group__stays_the_same_column(session):
    _register(session, V1, "v1")
    _register(session, V2, "v2")

    _normalize(
        session,
        odata_row({"case_id": "A", "name": "Lan"}, form_version="v1"),
        odata_row({"case_id": "B", "child": {"name": "Huệ"}}, form_version="v2"),
    )

    rows = _by_case(session)
    assert (rows["A"]["name"], rows["B"]["name"]) == ("Lan", "Huệ")
    assert "child__name" not in _columns(session, "form_ag_schema")
    fields = session.exec(select(FormField).where(FormField.column == "name")).all()
    assert sorted(f.path for f in fields) == ["/child/name", "/name"]


def test_merge__name_not_unique__later_field_takes_its_group_path(session):
    _register(session, V1, "v1")
    twice = V1 + "| begin_group | guardian | Người giám hộ |\n"
    twice += "| text | name | Tên |\n| end_group | | |\n"

    _register(session, twice, "v2")
    _normalize(
        session,
        odata_row(
            {"case_id": "A", "name": "Lan", "guardian": {"name": "Minh"}},
            form_version="v2",
        ),
    )

    row = _by_case(session)["A"]
    assert (row["name"], row["guardian__name"]) == ("Lan", "Minh")


def test_merge__repeat_moved_into_a_group__stays_the_same_table(session):
    repeat = "| begin_repeat | visit | Lần |\n| integer | minutes | Phút |\n"
    repeat += "| end_repeat | | |\n"
    _register(session, V1 + repeat, "v1")
    grouped = V1 + "| begin_group | follow_up | Theo dõi |\n"
    grouped += "| begin_repeat | visit | Lần |\n| integer | minutes | Phút |\n"
    grouped += "| end_repeat | | |\n| end_group | | |\n"
    _register(session, grouped, "v2")

    _normalize(
        session,
        odata_row(
            {"case_id": "A", "visit": [repeat_row({"minutes": 5})]}, form_version="v1"
        ),
        odata_row(
            {"case_id": "B", "follow_up": {"visit": [repeat_row({"minutes": 7})]}},
            form_version="v2",
        ),
    )

    visits = _rows(session, "form_ag_schema__visit")
    assert sorted(v["minutes"] for v in visits) == [5, 7]


def test_merge__older_row_in_the_newer_structure__values_still_found(session):
    # Whether Central renders an older version's row with that version's
    # structure or the newest one, the moved field and repeat are found.
    repeat = "| begin_repeat | visit | Lần |\n| integer | minutes | Phút |\n"
    repeat += "| end_repeat | | |\n"
    _register(session, V1 + repeat, "v1")
    grouped = V2 + "| begin_group | follow_up | Theo dõi |\n" + repeat
    grouped += "| end_group | | |\n"
    _register(session, grouped, "v2")
    newer_shape = {
        "case_id": "A",
        "child": {"name": "Lan"},
        "follow_up": {"visit": [repeat_row({"minutes": 5})]},
    }

    _normalize(session, odata_row(newer_shape, form_version="v1"))

    assert _by_case(session)["A"]["name"] == "Lan"
    assert [v["minutes"] for v in _rows(session, "form_ag_schema__visit")] == [5]


def test_merge__type_change__converts_what_it_can_and_quarantines_the_rest(session):
    _register(session, V1, "v1")
    _register(session, V1.replace("| integer | age |", "| text | age |"), "v2")

    counts = _normalize(
        session,
        odata_row({"case_id": "A", "age": "12"}, form_version="v2"),
        odata_row({"case_id": "B", "age": "mười hai"}, form_version="v2"),
    )

    entry = session.exec(select(QuarantineEntry)).one()
    assert counts == {"normalized": 1, "quarantined": 1}
    assert _by_case(session)["A"]["age"] == 12
    assert (entry.code, entry.field) == ("schema_drift", "/age")
    assert "version v2" in entry.reason and "int" in entry.reason
    assert "mười" not in entry.reason


def test_merge__labels_and_choices__fill_form_field_and_form_choice(session):
    survey = """
    | type | name | label::Vietnamese (vi) | label::English (en) | bind::trogiup:sensitivity |
    | text | child_name | Họ tên | Name | P |
    | select_one district | district | Huyện | District | |
    """  # noqa: E501 (an XLSForm table reads best on one line per row)
    choices = """
    | list_name | name | label::Vietnamese (vi) | label::English (en) |
    | district | 883 | Thành phố Long Xuyên | Long Xuyen City |
    """

    _register(session, survey, "v1", choices)

    fields = {f.column: f for f in session.exec(select(FormField))}
    (choice,) = session.exec(select(FormChoice)).all()
    assert (fields["child_name"].label_vi, fields["child_name"].label_en) == (
        "Họ tên",
        "Name",
    )
    assert fields["child_name"].sensitivity == "P"
    assert fields["district"].list_name == "district"
    assert fields["district"].table_name == "form_ag_schema"
    assert (choice.list_name, choice.name, choice.label_vi, choice.label_en) == (
        "district",
        "883",
        "Thành phố Long Xuyên",
        "Long Xuyen City",
    )


def test_merge__choice_added_in_v2__adds_its_boolean_column(session):
    survey = "| type | name | label |\n| select_multiple needs | needs | Nhu cầu |\n"
    choices_v1 = "| list_name | name | label |\n| needs | food | Ăn |\n"
    _register(session, survey, "v1", choices_v1)

    _register(session, survey, "v2", choices_v1 + "| needs | school | Học |\n")

    assert {"needs", "needs__food", "needs__school"} <= _columns(
        session, "form_ag_schema"
    )


def test_merge__same_version_twice__changes_nothing(session):
    _register(session, V2, "v2")
    before = [(f.path, f.column) for f in session.exec(select(FormField))]

    _register(session, V2, "v2")

    assert [(f.path, f.column) for f in session.exec(select(FormField))] == before


def test_form_table_name__unsafe_and_long_ids__become_valid_identifiers():
    assert form_table_name("AG-Child.Case") == "form_ag_child_case"
    long_name = form_table_name("x" * 80, "member")
    assert len(long_name) == 63
    assert long_name == form_table_name("x" * 80, "member")
    assert fit_identifier("short") == "short"


def test_register__csv_media__labels_choices_kept_in_files(session):
    survey = """
    | type | name | label |
    | select_one_from_file communes.csv | commune | Xã |
    | select_multiple_from_file communes.csv | visited | Xã đã đến |
    """
    media = {"communes.csv": "name,label,district\n30280,Phường Mỹ Bình,883\n"}

    register_form_version(
        session=session,
        project_id=PROJECT,
        xml_form_id=FORM,
        version="v1",
        xml=_form(survey, "v1"),
        media={name: text.encode() for name, text in media.items()},
    )

    (choice,) = session.exec(select(FormChoice)).all()
    assert (choice.list_name, choice.name, choice.label_vi) == (
        "communes",
        "30280",
        "Phường Mỹ Bình",
    )
    assert _columns(session, "form_ag_schema") >= {"commune", "visited"}
    assert not any(
        c.startswith("visited__") for c in _columns(session, "form_ag_schema")
    )


def test_merge__name_clashing_with_a_standard_column__gets_another(session):
    survey = "| type | name | label |\n| integer | Edits | Số lần sửa |\n"
    _register(session, survey, "v1")

    _normalize(session, odata_row({"Edits": 4}, form_version="v1", edits=1))

    (row,) = _rows(session)
    assert (row["edits"], row["Edits_2"]) == (1, 4)


# v2 as a fresh install may meet it first: age turned to text, a second name.
V2_AGE_AS_TEXT = """
| type | name | label |
| text | case_id | Mã |
| text | age | Tuổi |
| text | name | Tên |
| begin_group | child | Trẻ |
| text | name | Tên trẻ |
| end_group | | |
"""
PUBLISHED = {
    "v1": datetime(2026, 1, 5, tzinfo=UTC),
    "v2": datetime(2026, 3, 1, tzinfo=UTC),
}


def _register_as(session, form, survey, version):
    register_form_version(
        session=session,
        project_id=PROJECT,
        xml_form_id=form,
        version=version,
        xml=build_xform(xlsform_md(survey, form_id=form, version=version)),
        published_at=PUBLISHED[version],
    )


def _shape(session, form):
    """Field path -> (table suffix, column, type), and each table's columns."""
    prefix = form_table_name(form)
    fields = session.exec(select(FormField).where(FormField.xml_form_id == form))
    paths = {
        f.path: (f.table_name.removeprefix(prefix), f.column, f.type) for f in fields
    }
    inspector = sa.inspect(session.connection())
    columns = {
        name.removeprefix(prefix): [
            (c["name"], str(c["type"])) for c in inspector.get_columns(name)
        ]
        for name in inspector.get_table_names()
        if name.startswith(prefix)
    }
    return paths, columns


def test_merge__versions_registered_in_either_order__give_one_schema(session):
    _register_as(session, "in_order", V1, "v1")
    _register_as(session, "in_order", V2_AGE_AS_TEXT, "v2")
    # A fresh install registers the current version first.
    _register_as(session, "current_first", V2_AGE_AS_TEXT, "v2")
    _register_as(session, "current_first", V1, "v1")

    assert _shape(session, "current_first") == _shape(session, "in_order")
    paths, _ = _shape(session, "in_order")
    assert paths["/age"][2] == "int"  # v1's type: v1 was published first


def test_merge__older_version_registered_late__typed_rows_filled_again(session):
    form = "current_first"
    _register_as(session, form, V2_AGE_AS_TEXT, "v2")
    row = odata_row({"case_id": "A", "age": "12"}, form_version="v2")
    items = [ledger_submission(session, project_id=PROJECT, xml_form_id=form, row=row)]
    normalize_batch(session=session, project_id=PROJECT, xml_form_id=form, items=items)

    _register_as(session, form, V1, "v1")

    table = typed_table(session=session, xml_form_id=form)
    (typed,) = session.connection().execute(sa.select(table)).mappings().all()
    assert typed["age"] == 12 and typed["case_id"] == "A"
