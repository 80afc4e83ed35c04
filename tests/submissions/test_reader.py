"""Reading the typed tables: marked fields stay out unless asked for."""

import sqlalchemy as sa

from server.submissions.normalize import normalize_batch, register_form_version
from server.submissions.reader import describe_typed_tables, typed_table
from tests.factories.submissions import (
    build_xform,
    ledger_submission,
    odata_row,
    xlsform_md,
)

PROJECT = 1
FORM = "ag_marked"
SURVEY = """
| type | name | label | bind::trogiup:sensitivity |
| text | case_id | Mã | |
| text | child_name | Họ tên | P |
| select_multiple abuse | abuse_types | Hình thức | S |
| geopoint | home | Nhà | P+S |
| integer | age | Tuổi | |
"""
CHOICES = """
| list_name | name | label |
| abuse | violence | Bạo lực |
| abuse | neglect | Bỏ mặc |
"""
ANSWERS = {
    "case_id": "30280-0001",
    "child_name": "Trẻ Mẫu 0001",
    "abuse_types": "violence",
    "home": {"type": "Point", "coordinates": [105.43, 10.38]},
    "age": 9,
}
MARKED = {"child_name", "abuse_types", "abuse_types__violence", "abuse_types__neglect"}
MARKED |= {f"home__{part}" for part in ("lat", "lon", "alt", "acc")}


def _synced(session) -> None:
    xml = build_xform(xlsform_md(SURVEY, form_id=FORM, version="v1", choices=CHOICES))
    register_form_version(
        session=session, project_id=PROJECT, xml_form_id=FORM, version="v1", xml=xml
    )
    row = odata_row(ANSWERS)
    items = [ledger_submission(session, project_id=PROJECT, xml_form_id=FORM, row=row)]
    normalize_batch(session=session, project_id=PROJECT, xml_form_id=FORM, items=items)


def _read(session, **flag) -> dict:
    table = typed_table(session=session, xml_form_id=FORM, **flag)
    return dict(session.connection().execute(sa.select(table)).mappings().one())


def test_typed_table__default__leaves_out_marked_columns(session):
    _synced(session)

    row = _read(session)

    assert not MARKED & set(row)
    assert (row["case_id"], row["age"]) == ("30280-0001", 9)


def test_typed_table__include_sensitive__reads_marked_columns(session):
    _synced(session)

    row = _read(session, include_sensitive=True)

    assert set(row) >= MARKED
    assert row["child_name"] == "Trẻ Mẫu 0001"


def test_describe_typed_tables__marked_columns_only_when_asked(session):
    _synced(session)

    def columns(**flag) -> set[str]:
        (described,) = describe_typed_tables(session=session, **flag)
        return {c["name"] for c in described["columns"]}

    assert not MARKED & columns()
    assert {"case_id", "age"} <= columns()
    assert columns(include_sensitive=True) >= MARKED
