import pytest

from server.central import forms as central_forms
from server.forms import FORM_IDS, FORMS_DIR, units
from server.forms.build import build_form
from server.forms.deploy import Action, deploy_forms
from server.forms.samples import generate
from tests.factories.forms import forms_folder, set_label

pytestmark = pytest.mark.java


def _deploy(client, project_id, built_forms):
    results = deploy_forms(client, project_id=project_id, built=list(built_forms))
    return {r.xml_form_id: r for r in results}


def test_deploy__new_forms__created_and_published_with_their_version(
    pyodk_client, central_project_id, built_forms
):
    results = _deploy(pyodk_client, central_project_id, built_forms.values())
    assert {r.action for r in results.values()} == {Action.CREATED}
    for form_id in FORM_IDS:
        form = pyodk_client.forms.get(form_id, project_id=central_project_id)
        assert form.version == built_forms[form_id].version
        assert form.publishedAt is not None


def test_deploy__media__uploaded_with_the_form(
    pyodk_client, central_project_id, built_forms
):
    _deploy(pyodk_client, central_project_id, built_forms.values())
    url = pyodk_client.session.urlformat(
        "projects/{pid}/forms/{fid}/attachments/communes.csv",
        pid=central_project_id,
        fid="ag_child_case",
    )
    response = pyodk_client.session.get(url)
    assert response.status_code == 200
    built = built_forms["ag_child_case"]
    expected = next(p for p in built.media if p.name == "communes.csv")
    assert response.content == expected.read_bytes()


def test_deploy__unchanged_forms__change_nothing(
    pyodk_client, central_project_id, built_forms
):
    _deploy(pyodk_client, central_project_id, built_forms.values())
    before = {f.xmlFormId: f for f in pyodk_client.forms.list(central_project_id)}

    again = _deploy(pyodk_client, central_project_id, built_forms.values())

    assert {r.action for r in again.values()} == {Action.UNCHANGED}
    after = {f.xmlFormId: f for f in pyodk_client.forms.list(central_project_id)}
    for form_id, form in before.items():
        assert after[form_id].version == form.version
        assert after[form_id].updatedAt == form.updatedAt


def test_deploy__changed_form__publishes_a_new_version(
    pyodk_client, central_project_id, built_forms, tmp_path
):
    _deploy(pyodk_client, central_project_id, built_forms.values())
    folder = forms_folder(tmp_path)
    set_label(folder / "ag_child_case.xlsx", "visit_date", "Ngày thăm hộ")
    changed = build_form(
        folder / "ag_child_case.xlsx",
        out_dir=tmp_path / "out",
        media=units.media_files(folder),
    )

    results = _deploy(pyodk_client, central_project_id, [changed])

    old = built_forms["ag_child_case"].version
    assert results["ag_child_case"].action == Action.UPDATED
    assert results["ag_child_case"].previous_version == old
    form = pyodk_client.forms.get("ag_child_case", project_id=central_project_id)
    assert form.version == changed.version != old
    xml = pyodk_client.forms.get_xml("ag_child_case", project_id=central_project_id)
    assert "Ngày thăm hộ" in xml


def test_get_form__unknown_form__none(pyodk_client, central_project_id):
    found = central_forms.get_form(
        pyodk_client, project_id=central_project_id, xml_form_id="nope"
    )
    assert found is None


def test_deploy__form_reverted_to_earlier_content__published_again_then_unchanged(
    pyodk_client, central_project_id, built_forms, tmp_path
):
    original = built_forms["ag_commune_drugfree"]
    _deploy(pyodk_client, central_project_id, [original])
    folder = forms_folder(tmp_path)
    xlsx = folder / "ag_commune_drugfree.xlsx"
    set_label(xlsx, "n_loans", "Số người được vay vốn")
    media = units.media_files(folder)
    changed = build_form(xlsx, out_dir=tmp_path / "changed", media=media)
    _deploy(pyodk_client, central_project_id, [changed])
    reverted = build_form(
        FORMS_DIR / "ag_commune_drugfree.xlsx", out_dir=tmp_path / "back", media=media
    )

    back = _deploy(pyodk_client, central_project_id, [reverted])["ag_commune_drugfree"]
    again = _deploy(pyodk_client, central_project_id, [reverted])["ag_commune_drugfree"]

    assert back.action == Action.UPDATED
    assert back.version == f"{original.version}.1"
    form = pyodk_client.forms.get("ag_commune_drugfree", project_id=central_project_id)
    assert form.version == back.version
    assert again.action == Action.UNCHANGED


def test_samples__deployed_forms__central_accepts_and_reads_them(
    pyodk_client, central_project_id, built_forms
):
    _deploy(pyodk_client, central_project_id, built_forms.values())
    for form_id, built in built_forms.items():
        xform = built.xform.read_text(encoding="utf-8")
        for document in generate(xform, count=3, seed=9):
            pyodk_client.submissions.create(
                xml=document, form_id=form_id, project_id=central_project_id
            )
        table = pyodk_client.submissions.get_table(
            form_id=form_id, project_id=central_project_id
        )
        assert len(table["value"]) == 3
        assert {r["__system"]["formVersion"] for r in table["value"]} == {built.version}
