import sys
import xml.etree.ElementTree as ET

import pytest

from server import cli
from server.errors import ConfigurationError, FormBuildError, FormsBuildFailed
from server.forms import FORM_IDS, FORMS_DIR, build, units
from server.forms.build import build_all, build_form
from server.forms.sensitivity import COLUMN, read_markings
from tests.factories.forms import forms_folder, set_label, write_xlsform

XF = "{http://www.w3.org/2002/xforms}"
MEDIA = {"districts.csv": b"name,label\n883,X\n", "communes.csv": b"name,label\n"}


def _instance_root(xform_path):
    # Our own build output, not untrusted input.
    tree = ET.parse(xform_path)  # noqa: S314
    model = tree.getroot().find(f".//{XF}model")
    return next(iter(model.find(f"{XF}instance")))


@pytest.mark.java
def test_build__real_forms__validate_and_carry_version_and_media(built_forms):
    assert set(built_forms) == set(FORM_IDS)
    for form_id, built in built_forms.items():
        root = _instance_root(built.xform)
        assert root.get("id") == form_id
        assert root.get("version") == built.version
        assert {p.name for p in built.media} == {"districts.csv", "communes.csv"}
        assert built.warnings == ()


@pytest.mark.java
def test_build__media__generated_from_the_one_unit_list(built_forms):
    expected = units.media_files(FORMS_DIR)
    for built in built_forms.values():
        for path in built.media:
            assert path.read_bytes() == expected[path.name]
    communes = expected["communes.csv"].decode().splitlines()
    assert communes[0] == "name,label,district,commune_type"
    assert len(communes) == 1 + 156


@pytest.mark.java
def test_build__sensitivity_marking__reaches_the_xform_only_as_bind_metadata(
    built_forms,
):
    attribute = "{urn:x-trogiup:xforms}sensitivity"
    for form_id, built in built_forms.items():
        tree = ET.parse(built.xform)  # noqa: S314
        binds = {
            b.get("nodeset").rsplit("/", 1)[-1]: b.get(attribute)
            for b in tree.getroot().iter(f"{XF}bind")
        }
        marked = {name: value for name, value in binds.items() if value}
        assert marked == dict(read_markings(FORMS_DIR / f"{form_id}.xlsx"))
        instance = ET.tostring(_instance_root(built.xform), encoding="unicode")
        assert "sensitivity" not in instance


@pytest.mark.java
def test_build__unchanged_sources__same_version(built_forms, tmp_path):
    xlsx = FORMS_DIR / "ag_commune_drugfree.xlsx"
    media = units.media_files(FORMS_DIR)
    again = build_form(xlsx, out_dir=tmp_path, media=media)
    assert again.version == built_forms["ag_commune_drugfree"].version


@pytest.mark.java
def test_build__changed_label__new_version(built_forms, tmp_path):
    folder = forms_folder(tmp_path)
    set_label(folder / "ag_tip_review.xlsx", "case_id", "Mã hồ sơ nạn nhân")
    xlsx = folder / "ag_tip_review.xlsx"
    rebuilt = build_form(
        xlsx, out_dir=tmp_path / "out", media=units.media_files(folder)
    )
    assert rebuilt.version != built_forms["ag_tip_review"].version


def test_build__unknown_reference__names_form_sheet_and_row(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx",
        [("text", "a", "A"), ("integer", "b", "B", "${nowhere} = '1'")],
    )
    with pytest.raises(FormBuildError) as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    err = caught.value
    assert (err.form, err.sheet, err.row) == ("tiny_form", "survey", 3)
    assert "form tiny_form, sheet 'survey', row 3" in err.message
    assert "nowhere" in err.message


def test_build__unknown_question_type__row_found_from_the_type(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx", [("text", "a", "A"), ("text", "b", "B"), ("txet", "c")]
    )
    with pytest.raises(FormBuildError) as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    assert (caught.value.sheet, caught.value.row) == ("survey", 4)
    assert "txet" in caught.value.message


@pytest.mark.java
def test_build__invalid_constraint__odk_validate_error_names_the_row(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx",
        [
            ("begin_group", "g", "G"),
            ("integer", "age", "Age", "", ". >"),
            ("end_group", "g"),
        ],
    )
    with pytest.raises(FormBuildError) as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    err = caught.value
    assert (err.form, err.sheet, err.row) == ("tiny_form", "survey", 3)
    assert "ODK Validate" in err.message
    assert "constraint" in err.message


def test_build__unknown_sensitivity_marking__refused_with_its_row(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx",
        [("text", "a", "A", "P"), ("text", "b", "B", "X"), ("text", "c", "C", "S")],
        survey_header=("type", "name", "label", COLUMN),
        settings={"namespaces": 'trogiup="urn:x-trogiup:xforms"'},
    )
    with pytest.raises(FormsBuildFailed) as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    (problem,) = caught.value.problems
    assert (problem.form, problem.sheet, problem.row) == ("tiny_form", "survey", 3)
    assert "must be P, S or P+S, not 'X'" in problem.message
    assert not (tmp_path / "out").exists()


def test_build_all__several_broken_forms__every_one_reported(tmp_path, monkeypatch):
    folder = forms_folder(tmp_path, with_forms=False)
    write_xlsform(folder / "a.xlsx", [("integer", "b", "B", "${zz} = 1")], form_id="a")
    write_xlsform(folder / "b.xlsx", [("text", "ok", "OK")], form_id="b")
    write_xlsform(folder / "c.xlsx", [("txet", "c", "C")], form_id="c")
    monkeypatch.setattr(build, "validate", lambda *a, **k: None)

    with pytest.raises(FormsBuildFailed) as caught:
        build_all(folder, tmp_path / "out")

    assert [(p.form, p.row) for p in caught.value.problems] == [("a", 2), ("c", 2)]
    assert "form a, sheet 'survey', row 2" in caught.value.message
    assert "form c, sheet 'survey', row 2" in caught.value.message
    assert (tmp_path / "out" / "b" / "b.xml").is_file()


@pytest.mark.java
def test_build__invalid_rebuild__last_good_xform_stays(tmp_path):
    rows = [("integer", "age", "Age", "", ". >= 0")]
    xlsx = write_xlsform(tmp_path / "tiny.xlsx", rows)
    good = build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    before = good.xform.read_bytes()

    write_xlsform(xlsx, [("integer", "age", "Age", "", ". >")])
    with pytest.raises(FormBuildError):
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)

    assert good.xform.read_bytes() == before
    assert sorted(p.name for p in good.xform.parent.iterdir()) == ["tiny_form.xml"]


def test_build__java_missing__fails_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(build.shutil, "which", lambda _: None)
    xlsx = write_xlsform(tmp_path / "tiny.xlsx", [("text", "a", "A")])
    with pytest.raises(ConfigurationError, match="Java is not installed"):
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)


def test_build__version_in_settings__refused_naming_the_settings_sheet(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx", [("text", "a", "A")], settings={"version": "7"}
    )
    with pytest.raises(FormBuildError, match="leave 'version' empty") as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    assert (caught.value.sheet, caught.value.row) == ("settings", 2)


def _run_cli(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["trogiup", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return exited.value.code


@pytest.mark.java
def test_build_command__writes_xforms_and_media(tmp_path, monkeypatch, capsys):
    code = _run_cli(monkeypatch, "forms", "build", "--out", str(tmp_path))
    assert code == 0
    for form_id in FORM_IDS:
        assert (tmp_path / form_id / f"{form_id}.xml").is_file()
        assert (tmp_path / form_id / "communes.csv").is_file()
    assert "ag_child_case" in capsys.readouterr().out


def test_build_command__broken_form__exits_non_zero_naming_the_row(
    tmp_path, monkeypatch, capsys
):
    folder = forms_folder(tmp_path, with_forms=False)
    write_xlsform(
        folder / "tiny.xlsx", [("text", "a", "A"), ("integer", "b", "B", "${zz} = 1")]
    )
    code = _run_cli(
        monkeypatch,
        "forms",
        "build",
        "--forms",
        str(folder),
        "--out",
        str(tmp_path / "out"),
    )
    assert code != 0
    err = capsys.readouterr().err
    assert "form tiny_form, sheet 'survey', row 3" in err


@pytest.mark.java
def test_build__cycle__odk_validate_message_kept_with_the_fields_of_the_loop(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx",
        [
            ("integer", "n_loans", "N", "${m} > 0"),
            ("integer", "m", "M", "${n_loans} > 0"),
        ],
    )
    with pytest.raises(FormBuildError) as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    message = caught.value.message
    assert "Cycle detected in form's relevant and calculation logic" in message
    assert "${n_loans}" in message and "${m}" in message
    assert caught.value.row in (2, 3)
    assert "Result" not in message and ".xml" not in message


@pytest.mark.java
def test_build__broken_calculation__row_of_the_field_not_of_its_reference(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx",
        [("integer", "a", "A"), ("calculate", "b", "", "", "", "if(${a} = 1, 1")],
    )
    with pytest.raises(FormBuildError) as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    assert (caught.value.sheet, caught.value.row) == ("survey", 3)


def test_build__unknown_choice_list__row_of_the_question(tmp_path):
    xlsx = write_xlsform(
        tmp_path / "tiny.xlsx",
        [("text", "a", "A"), ("select_one yn", "b", "B"), ("select_one ynx", "c")],
        choices=[("yn", "1", "Yes")],
    )
    with pytest.raises(FormBuildError, match="ynx") as caught:
        build_form(xlsx, out_dir=tmp_path / "out", media=MEDIA)
    assert (caught.value.sheet, caught.value.row) == ("survey", 4)


def test_build__excel_lock_file_beside_a_form__ignored(tmp_path, monkeypatch):
    folder = forms_folder(tmp_path, with_forms=False)
    write_xlsform(folder / "tiny.xlsx", [("text", "a", "A")])
    (folder / "~$tiny.xlsx").write_bytes(b"\x00locked by Excel")
    monkeypatch.setattr(build, "validate", lambda *a, **k: None)
    built = build_all(folder, tmp_path / "out")
    assert [b.xml_form_id for b in built] == ["tiny_form"]
