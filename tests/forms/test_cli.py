import sys

import pytest

from server import cli
from server.forms import FORM_IDS
from server.settings import get_settings

pytestmark = pytest.mark.java


@pytest.fixture
def central_env(central_settings, monkeypatch, tmp_path):
    password = central_settings.central_password.get_secret_value()
    values = {
        "TROGIUP_CENTRAL_URL": central_settings.central_url,
        "TROGIUP_CENTRAL_EMAIL": central_settings.central_email,
        "TROGIUP_CENTRAL_PASSWORD": password,
        "TROGIUP_CENTRAL_PROJECT_ID": str(central_settings.central_project_id),
        "TROGIUP_DATA_DIR": str(tmp_path / "data"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield central_settings
    get_settings.cache_clear()


def _run(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["trogiup", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return exited.value.code


def test_deploy_then_provision_commands__forms_published_and_qr_written(
    central_env, monkeypatch, capsys, tmp_path
):
    build = str(tmp_path / "build")
    assert _run(monkeypatch, "forms", "deploy", "--out", build) == 0
    first = capsys.readouterr().out
    assert _run(monkeypatch, "forms", "deploy", "--out", build) == 0
    second = capsys.readouterr().out
    for form_id in FORM_IDS:
        assert f"{form_id} created" in first
        assert f"{form_id} unchanged" in second

    code = _run(monkeypatch, "collect", "provision", "--commune", "30280")
    assert code == 0
    assert "30280 app user" in capsys.readouterr().out
    assert (tmp_path / "data" / "collect-qr" / "30280.png").is_file()

    public = "https://central.example.gov.vn"
    qr_dir = tmp_path / "qr"
    args = ("--commune", "30280", "--public-url", public, "--out", str(qr_dir))
    assert _run(monkeypatch, "collect", "provision", *args) == 0
    assert "reused" in capsys.readouterr().out
    assert (qr_dir / "30280.png").is_file()


def test_provision_command__no_unit_given__exits_non_zero(
    central_env, monkeypatch, capsys
):
    assert _run(monkeypatch, "collect", "provision") != 0
    assert "--district" in capsys.readouterr().err
