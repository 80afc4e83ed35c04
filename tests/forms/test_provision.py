import stat
import struct
import zlib

import pytest
import segno

from server.central import forms as central_forms
from server.errors import ConfigurationError, InvalidInput
from server.forms import FORMS_DIR
from server.forms.deploy import deploy_forms
from server.forms.provision import (
    COMMUNE_FORMS,
    collect_settings,
    display_name,
    provision,
    read_collect_settings,
    select_communes,
)
from server.forms.units import load_units

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


def _png_modules(path, size: int, scale: int = 5, border: int = 4):
    """Dark modules read back from segno's 1-bit grayscale PNG (filters None
    and Up, the two segno writes), sampled at each module's centre."""
    data, pos, idat, width = path.read_bytes(), 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        idat += body if kind == b"IDAT" else b""
        if kind == b"IHDR":
            (width,) = struct.unpack(">I", body[:4])
        pos += 12 + length
    raw, stride = zlib.decompress(idat), (width + 7) // 8
    rows, previous = [], bytes(stride)
    for y in range(width):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        current = (
            line[1:]
            if line[0] == 0
            else bytes((a + b) & 0xFF for a, b in zip(line[1:], previous, strict=True))
        )
        rows.append(current)
        previous = current
    centre = lambda i: (border + i) * scale + scale // 2  # noqa: E731
    return [
        [
            not (rows[centre(r)][centre(c) // 8] >> (7 - centre(c) % 8)) & 1
            for c in range(size)
        ]
        for r in range(size)
    ]


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


def test_provision__qr_payload__decodes_to_the_collect_settings(
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
    user = next(
        u
        for u in central_forms.app_users(pyodk_client, project_id=central_project_id)
        if u.id == done.actor_id
    )
    payload = collect_settings(
        central_url=central_sim.url,
        token=user.token,
        project_id=central_project_id,
        project_name="trogiup tests: Phường Châu Phú A",
        username="30319",
    )
    settings = read_collect_settings(payload)
    assert settings["general"]["server_url"] == (
        f"{central_sim.url}/v1/key/{user.token}/projects/{central_project_id}"
    )
    assert settings["general"]["form_update_mode"] == "match_exactly"
    assert settings["project"]["name"] == "trogiup tests: Phường Châu Phú A"
    assert settings["admin"] == {}

    expected = segno.make(payload, micro=False, error="m")
    size = expected.symbol_size(scale=1, border=0)[0]
    modules = [[bool(v) for v in row] for row in expected.matrix]
    assert _png_modules(done.qr_png, size) == modules
    assert stat.S_IMODE(done.qr_png.stat().st_mode) == 0o600


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
    user = next(
        u
        for u in central_forms.app_users(pyodk_client, project_id=central_project_id)
        if u.id == done.actor_id
    )
    server_url = f"{central_sim.url}/v1/key/{user.token}/projects/{central_project_id}"
    response = pyodk_client.session.get(
        f"{server_url}/formList", headers={"X-OpenRosa-Version": "1.0"}
    )
    assert response.status_code == 200
    for form_id in COMMUNE_FORMS:
        assert form_id in response.text
    assert "ag_tip_review" not in response.text


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
