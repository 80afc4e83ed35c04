"""The design checks the build makes before pyxform: languages and NFC (the
sensitivity markings are tested with the build)."""

import unicodedata

import openpyxl
import pytest

from server.errors import FormsBuildFailed
from server.forms import FORMS_DIR
from server.forms.build import build_form
from server.forms.checks import design_problems
from server.forms.xlsx import form_id, xlsforms
from tests.factories.forms import write_xlsform

VI, EN = "label::Vietnamese (vi)", "label::English (en)"
HEADER = (
    "type", "name", VI, EN, "hint::Vietnamese (vi)", "hint::English (en)",
    "constraint", "constraint_message::Vietnamese (vi)",
    "constraint_message::English (en)", "required",
    "required_message::Vietnamese (vi)", "required_message::English (en)",
)  # fmt: skip


def _problems(tmp_path, survey, header=HEADER, **kwargs) -> list[tuple]:
    xlsx = write_xlsform(tmp_path / "f.xlsx", survey, survey_header=header, **kwargs)
    return [(p.sheet, p.row, p.message) for p in design_problems(xlsx, "tiny_form")]


@pytest.mark.parametrize("xlsx", xlsforms(FORMS_DIR), ids=lambda p: p.stem)
def test_design__real_forms__every_text_in_both_languages_and_nfc(xlsx):
    assert design_problems(xlsx, form_id(xlsx)) == []


def test_design__both_languages__no_problem(tmp_path):
    row = ("integer", "a", "Tuổi", "Age", "Năm tròn", "Completed years", ". >= 0")
    row += ("Không âm", "Not negative", "yes", "Bắt buộc", "Required")
    assert _problems(tmp_path, [row]) == []


@pytest.mark.parametrize(
    ("row", "missing"),
    [
        (("text", "a", "Tên", ""), EN),
        (("text", "a", "Tên", "Name", "", "A hint"), "hint::Vietnamese (vi)"),
        (
            ("integer", "a", "Tuổi", "Age", "", "", ". >= 0", "Không âm"),
            "constraint_message::English (en)",
        ),
        (
            ("integer", "a", "Tuổi", "Age", "", "", "", "", "", "yes", "", "Needed"),
            "required_message::Vietnamese (vi)",
        ),
    ],
    ids=["label", "hint", "constraint_message", "required_message"],
)
def test_design__one_language_missing__named_with_its_row(tmp_path, row, missing):
    survey = [("text", "ok", "Được", "Fine"), row]
    ((sheet, number, message),) = _problems(tmp_path, survey)
    assert (sheet, number) == ("survey", 3)
    assert f"'{missing}' is empty" in message


def test_design__text_without_a_language__refused(tmp_path):
    header = ("type", "name", VI, EN, "hint")
    survey = [("text", "a", "Tên", "Name", "Họ và tên")]
    ((sheet, number, message),) = _problems(tmp_path, survey, header)
    assert (sheet, number) == ("survey", 2)
    assert "'hint' has no language" in message


def test_design__choice_label_in_one_language__row_of_the_choices_sheet(tmp_path):
    xlsx = tmp_path / "f.xlsx"
    write_xlsform(
        xlsx, [("select_one yn", "a", "Có?", "Yes?")], survey_header=HEADER[:4]
    )
    workbook = openpyxl.load_workbook(xlsx)
    sheet = workbook.create_sheet("choices")
    sheet.append(("list_name", "name", VI, EN))
    sheet.append(("yn", "1", "Có", "Yes"))
    sheet.append(("yn", "0", "Không", None))
    workbook.save(xlsx)

    ((sheet_name, number, message),) = [
        (p.sheet, p.row, p.message) for p in design_problems(xlsx, "tiny_form")
    ]
    assert (sheet_name, number) == ("choices", 3)
    assert f"'{EN}' is empty" in message


def test_design__decomposed_vietnamese__refused_as_not_nfc(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Tuổi")
    ((sheet, number, message),) = _problems(
        tmp_path, [("integer", "a", decomposed, "Age")], HEADER[:4]
    )
    assert (sheet, number) == ("survey", 2)
    assert f"'{VI}' is not in Unicode NFC" in message


def test_design__default_language_not_vietnamese__refused(tmp_path):
    problems = _problems(
        tmp_path,
        [("text", "a", "Tên", "Name")],
        HEADER[:4],
        settings={"default_language": "English (en)"},
    )
    assert [(s, r) for s, r, _ in problems] == [("settings", 2)]


def test_build__untranslated_label__refused_before_converting(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "f.xlsx", [("text", "a", "Tên", "")], survey_header=HEADER[:4]
    )
    with pytest.raises(FormsBuildFailed, match="form tiny_form, sheet 'survey', row 2"):
        build_form(xlsx, out_dir=tmp_path / "out", media={})
