import stat
from dataclasses import replace

import pytest

from server.central import forms as central_forms
from server.errors import ConfigurationError, InvalidInput
from server.forms import FORMS_DIR
from server.forms.deploy import deploy_forms
from server.forms.provision import (
    COMMUNE_FORMS,
    display_name,
    provision,
    read_collect_settings,
    select_communes,
)
from server.forms.units import load_units
from tests.forms.qr import decode, png_modules

COMMUNES = load_units(FORMS_DIR)
CHAU_DOC = "884"  # Thành phố Châu Đốc: 7 communes


def _provision(client, project_id, url, out, *, district=CHAU_DOC, commune=None):
    chosen = select_communes(COMMUNES, district=district, commune=commune)
    return provision(
        client, project_id=project_id, central_url=url, communes=chosen, out_dir=out
    )


@pytest.fixture
def deployed(pyodk_client, central_project_id, built_forms):
    deploy_forms(
        pyodk_client, project_id=central_project_id, built=list(built_forms.values())
    )


pytestmark = pytest.mark.java


def test_provision__district__one_app_user_per_commune_with_forms_assigned(
    pyodk_client, central_project_id, central_sim, deployed, tmp_path
):
    done = _provision(pyodk_client, central_project_id, central_sim.url, tmp_path)

    communes = [c for c in COMMUNES if c.district_code == CHAU_DOC]
    assert [p.commune_code for p in done] == [c.code for c in communes]
    assert all(p.created for p in done)
    users = central_forms.app_users(pyodk_client, project_id=central_project_id)
    assert {u.displayName for u in users} == {display_name(c) for c in communes}
    for form_id in COMMUNE_FORMS:
        assigned = central_forms.assigned_app_users(
            pyodk_client, project_id=central_project_id, xml_form_id=form_id
        )
        assert assigned == {p.actor_id for p in done}
    tip = central_forms.assigned_app_users(
        pyodk_client, project_id=central_project_id, xml_form_id="ag_tip_review"
    )
    assert tip == set()


def test_provision__run_twice__reuses_app_users_and_assignments(
    pyodk_client, central_project_id, central_sim, deployed, tmp_path
):
    first = _provision(pyodk_client, central_project_id, central_sim.url, tmp_path)
    again = _provision(pyodk_client, central_project_id, central_sim.url, tmp_path)

    assert [p.actor_id for p in again] == [p.actor_id for p in first]
    assert not any(p.created or p.assigned for p in again)
    users = central_forms.app_users(pyodk_client, project_id=central_project_id)
    assert len(users) == len(first)


def test_provision__qr_png__decodes_to_every_collect_setting(
    pyodk_client, central_project_id, central_sim, deployed, tmp_path
):
    (done,) = _provision(
        pyodk_client,
        central_project_id,
        central_sim.url,
        tmp_path,
        district=None,
        commune="30319",
    )
    user = _app_user(pyodk_client, central_project_id, done.actor_id)

    scanned = decode(png_modules(done.qr_png, scale=5, border=4))

    assert read_collect_settings(scanned) == {
        "general": {
            "server_url": (
                f"{central_sim.url}/v1/key/{user.token}/projects/{central_project_id}"
            ),
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
            "metadata_username": "30319",
        },
        "admin": {},
        "project": {
            "name": "trogiup tests: Phường Châu Phú A",
            "icon": "T",
            "color": "#1F4E78",
        },
    }
    assert stat.S_IMODE(done.qr_png.stat().st_mode) == 0o600


def _app_user(client, project_id, actor_id):
    users = central_forms.app_users(client, project_id=project_id)
    return next(u for u in users if u.id == actor_id)


def test_provision__key_url__lets_collect_list_the_assigned_forms(
    pyodk_client, central_project_id, central_sim, deployed, tmp_path
):
    (done,) = _provision(
        pyodk_client,
        central_project_id,
        central_sim.url,
        tmp_path,
        district=None,
        commune="30319",
    )
    user = _app_user(pyodk_client, central_project_id, done.actor_id)
    server_url = f"{central_sim.url}/v1/key/{user.token}/projects/{central_project_id}"
    response = pyodk_client.session.get(
        f"{server_url}/formList", headers={"X-OpenRosa-Version": "1.0"}
    )
    assert response.status_code == 200
    for form_id in COMMUNE_FORMS:
        assert form_id in response.text
    assert "ag_tip_review" not in response.text


def test_provision__commune_renamed_in_the_unit_list__same_app_user(
    pyodk_client, central_project_id, central_sim, deployed, tmp_path
):
    (first,) = _provision(
        pyodk_client, central_project_id, central_sim.url, tmp_path, commune="30319"
    )
    (commune,) = select_communes(COMMUNES, district=None, commune="30319")
    renamed = replace(commune, name="Phường Châu Phú A Mới")

    (again,) = provision(
        pyodk_client,
        project_id=central_project_id,
        central_url=central_sim.url,
        communes=[renamed],
        out_dir=tmp_path,
    )

    assert (again.actor_id, again.created, again.renamed) == (
        first.actor_id,
        False,
        True,
    )
    # Central has no call to rename an app user: it keeps the name it was given.
    assert again.display_name == display_name(commune)
    users = central_forms.app_users(pyodk_client, project_id=central_project_id)
    assert [u.id for u in users] == [first.actor_id]
    scanned = read_collect_settings(
        decode(png_modules(again.qr_png, scale=5, border=4))
    )
    assert scanned["project"]["name"].endswith(": Phường Châu Phú A Mới")


def test_provision__two_app_users_for_one_commune__the_oldest_reused(
    pyodk_client, central_project_id, central_sim, deployed, tmp_path
):
    made = [
        central_forms.create_app_user(
            pyodk_client, project_id=central_project_id, display_name=name
        )
        for name in ("30319 Phường Châu Phú A (cũ)", "30319 Phường Châu Phú A")
    ]

    (done,) = _provision(
        pyodk_client, central_project_id, central_sim.url, tmp_path, commune="30319"
    )

    assert (done.actor_id, done.created) == (min(u.id for u in made), False)


def test_provision__forms_not_deployed__refused(
    pyodk_client, central_project_id, central_sim, tmp_path
):
    with pytest.raises(ConfigurationError, match="trogiup forms deploy"):
        _provision(pyodk_client, central_project_id, central_sim.url, tmp_path)


def test_select_communes__commune_outside_district__refused():
    with pytest.raises(InvalidInput, match="no commune matches"):
        select_communes(COMMUNES, district="883", commune="30319")
    with pytest.raises(InvalidInput, match="--district"):
        select_communes(COMMUNES, district=None, commune=None)
