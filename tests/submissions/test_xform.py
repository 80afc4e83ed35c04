import pytest

from server.errors import InvalidInput
from server.submissions.xform import parse_xform
from tests.factories.submissions import build_xform, xlsform_md

EVERY_TYPE = xlsform_md(
    """
    | type | name | label::Vietnamese (vi) | label::English (en) | calculation | bind::trogiup:sensitivity |
    | text | child_name | Họ tên | Name | | P |
    | integer | age | Tuổi | Age | | |
    | decimal | amount | Số tiền | Amount | | |
    | date | visit_date | Ngày | Date | | |
    | dateTime | seen_at | Lúc | Seen at | | |
    | time | seen_time | Giờ | Time | | |
    | geopoint | location | Vị trí | Location | | S |
    | geotrace | route | Đường | Route | | |
    | geoshape | area | Vùng | Area | | |
    | image | photo | Ảnh | Photo | | |
    | barcode | code | Mã | Code | | |
    | select_one yes_no | consent | Đồng ý | Consent | | |
    | select_multiple needs | needs | Nhu cầu | Needs | | |
    | select_one_from_file communes.csv | commune | Xã | Commune | | |
    | calculate | score | | | 1 + 1 | |
    | note | intro | Lưu ý | Note | | |
    """,  # noqa: E501 (an XLSForm table reads best on one line per row)
    choices="""
    | list_name | name | label::Vietnamese (vi) | label::English (en) |
    | yes_no | 1 | Có | Yes |
    | yes_no | 0 | Không | No |
    | needs | food | Lương thực | Food |
    | needs | school | Học tập | Schooling |
    """,
    form_id="every_type",
    version="2026120301",
)

NESTED = xlsform_md(
    """
    | type | name | label |
    | begin_group | household | Hộ gia đình |
    | text | head | Chủ hộ |
    | begin_repeat | member | Thành viên |
    | text | member_name | Tên |
    | begin_repeat | visit | Lần thăm |
    | date | visit_date | Ngày |
    | end_repeat | | |
    | end_repeat | | |
    | end_group | | |
    """,
    form_id="nested",
    version="v1",
)


def _by_name(form):
    return {f.name: f for f in form.fields}


def test_parse_xform__every_type__maps_bind_and_control_types():
    form = parse_xform(build_xform(EVERY_TYPE))

    types = {name: f.type for name, f in _by_name(form).items()}

    assert (form.xml_form_id, form.version) == ("every_type", "2026120301")
    assert types == {
        "child_name": "string",
        "age": "int",
        "amount": "decimal",
        "visit_date": "date",
        "seen_at": "dateTime",
        "seen_time": "time",
        "location": "geopoint",
        "route": "geotrace",
        "area": "geoshape",
        "photo": "binary",
        "code": "barcode",
        "consent": "select_one",
        "needs": "select_multiple",
        "commune": "select_one",
        "score": "string",
    }


def test_parse_xform__note_and_instance_id__produce_no_field():
    fields = _by_name(parse_xform(build_xform(EVERY_TYPE)))

    assert "intro" not in fields
    assert "instanceID" not in fields


def test_parse_xform__calculate__is_marked():
    fields = _by_name(parse_xform(build_xform(EVERY_TYPE)))

    assert fields["score"].calculate
    assert not fields["age"].calculate


def test_parse_xform__translations__give_vietnamese_and_english_labels():
    fields = _by_name(parse_xform(build_xform(EVERY_TYPE)))

    assert (fields["age"].label_vi, fields["age"].label_en) == ("Tuổi", "Age")


def test_parse_xform__plain_labels__count_as_vietnamese():
    form = parse_xform(build_xform(NESTED))

    head = _by_name(form)["head"]

    assert (head.label_vi, head.label_en) == ("Chủ hộ", None)
    assert form.repeats[0].label_vi == "Thành viên"


def test_parse_xform__select_lists__carry_choice_labels():
    form = parse_xform(build_xform(EVERY_TYPE))

    needs = _by_name(form)["needs"]
    choices = form.choices[needs.list_name]

    assert needs.list_name == "needs"
    assert [(c.name, c.label_vi, c.label_en) for c in choices] == [
        ("food", "Lương thực", "Food"),
        ("school", "Học tập", "Schooling"),
    ]


def test_parse_xform__select_one_from_file__keeps_codes_without_labels():
    form = parse_xform(build_xform(EVERY_TYPE))

    commune = _by_name(form)["commune"]

    assert commune.external_choices
    assert form.choices[commune.list_name] is None


def test_parse_xform__sensitivity_bind_attribute__is_read():
    fields = _by_name(parse_xform(build_xform(EVERY_TYPE)))

    assert fields["child_name"].sensitivity == "P"
    assert fields["location"].sensitivity == "S"
    assert fields["age"].sensitivity is None


def test_parse_xform__groups__give_path_and_local_path():
    fields = _by_name(parse_xform(build_xform(NESTED)))

    head = fields["head"]

    assert head.path == "/household/head"
    assert head.local_path == ("household", "head")
    assert head.repeat is None


def test_parse_xform__nested_repeat__knows_its_parent_repeat():
    form = parse_xform(build_xform(NESTED))
    fields = _by_name(form)

    repeats = {r.name: r for r in form.repeats}

    assert repeats["member"].path == "/household/member"
    assert repeats["member"].parent is None
    assert repeats["member"].local_path == ("household", "member")
    assert repeats["visit"].parent == "/household/member"
    assert fields["member_name"].repeat == "/household/member"
    assert fields["visit_date"].repeat == "/household/member/visit"
    assert fields["visit_date"].local_path == ("visit_date",)


def test_parse_xform__repeat_template__gives_each_field_once():
    form = parse_xform(build_xform(NESTED))

    paths = [f.path for f in form.fields]

    assert len(paths) == len(set(paths))


def test_parse_xform__not_xml__raises_invalid_input():
    with pytest.raises(InvalidInput, match="not well-formed"):
        parse_xform("<h:html")


def test_parse_xform__xml_entity_expansion__is_refused():
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;&a;</x>'

    with pytest.raises(InvalidInput):
        parse_xform(bomb)


def test_parse_xform__choices_in_a_media_file__name_the_file():
    form = parse_xform(build_xform(EVERY_TYPE))

    assert form.media_files == {"communes": "communes.csv"}
