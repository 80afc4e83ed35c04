import pytest

from analysis import sources
from server.errors import InvalidInput
from server.forms import FORM_IDS, FORMS_DIR
from server.forms.sensitivity import (
    COLUMN,
    Sensitivity,
    all_markings,
    read_markings,
    sensitive_fields,
)
from server.forms.xlsx import form_id, read_sheet
from tests.factories.forms import write_xlsform

HEADER = ("type", "name", "label", COLUMN)
# Identifying fields the issue names: names, exact addresses, phones, narratives.
IDENTIFYING = {
    "ag_child_case": {
        "child_name",
        "caregiver_name",
        "caregiver_phone",
        "hamlet",
        "dob",
        "notes",
        "collector_name",
    },
    "ag_commune_drugfree": {"resp_name"},
    "ag_tip_review": {"full_name", "phone", "dob", "res_commune"},
}
# Free-text answers can hold anything a collector types, so each is marked or
# has its reason here.
UNMARKED_TEXT = {
    ("ag_child_case", "case_id"): "pseudonymous: <commune code>-<serial>, by regex",
    ("ag_tip_review", "case_id"): "pseudonymous: TIP-<year>-<serial>, by regex",
    ("ag_commune_drugfree", "recog_decision"): "a public decision's number and date",
}


def test_sensitive_fields__real_forms__cover_names_addresses_phones_and_notes():
    for xml_form_id in FORM_IDS:
        assert IDENTIFYING[xml_form_id] <= sensitive_fields(xml_form_id)


def test_sensitive_fields__free_text_fields__marked_or_have_a_reason():
    unmarked = set()
    for xlsx in FORMS_DIR.glob("*.xlsx"):
        marked = read_markings(xlsx)
        for row in read_sheet(xlsx, "survey"):
            if row.get("type") == "text" and row.get("name") not in marked:
                unmarked.add((form_id(xlsx), row.get("name")))
    assert unmarked == set(UNMARKED_TEXT)


def test_sensitive_fields__marked_names__exist_in_their_form():
    for xlsx in FORMS_DIR.glob("*.xlsx"):
        names = {r.get("name") for r in read_sheet(xlsx, "survey")}
        assert set(read_markings(xlsx)) <= names


def test_analysis_sources__read_no_identifying_field_but_the_victims_commune():
    identifying = {Sensitivity.PERSONAL, Sensitivity.BOTH}
    read = {}
    for xlsx in FORMS_DIR.glob("*.xlsx"):
        markings = read_markings(xlsx)
        columns = sources.COLUMNS[form_id(xlsx)]
        read[form_id(xlsx)] = {c for c in columns if markings.get(c) in identifying}
    assert read == {
        "ag_child_case": set(),
        "ag_commune_drugfree": set(),
        "ag_tip_review": {"res_commune"},
    }


def test_sensitive_fields__unknown_form__empty():
    assert sensitive_fields("no_such_form") == frozenset()


def test_read_markings__levels__p_s_and_both(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "f.xlsx",
        [
            ("text", "name", "N", "P"),
            ("text", "hiv", "H", "s"),
            ("text", "victim", "V", "P + S"),
            ("text", "plain", "X", ""),
        ],
        survey_header=HEADER,
    )
    assert read_markings(xlsx) == {
        "name": Sensitivity.PERSONAL,
        "hiv": Sensitivity.SENSITIVE,
        "victim": Sensitivity.BOTH,
    }


def test_read_markings__unknown_value__error_names_form_and_row(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "f.xlsx",
        [("text", "a", "A", ""), ("text", "b", "B", "secret")],
        survey_header=HEADER,
    )
    with pytest.raises(InvalidInput, match="form tiny_form, sheet 'survey', row 3"):
        read_markings(xlsx)


def test_all_markings__keyed_by_xml_form_id(tmp_path):
    write_xlsform(
        tmp_path / "file_name.xlsx",
        [("text", "n", "N", "P")],
        form_id="real_id",
        survey_header=HEADER,
    )
    assert all_markings(tmp_path) == {"real_id": {"n": Sensitivity.PERSONAL}}
