import pytest
from pydantic import ValidationError

from server.settings import Settings
from tests.factories.settings import TEST_SECRET_KEY


def test_settings__defaults_to_embedded_sqlite(tmp_path, monkeypatch):
    for name in ("TROGIUP_DATABASE_URL", "TROGIUP_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(data_dir=tmp_path, _env_file=None)

    assert settings.effective_database_url == f"sqlite:///{tmp_path}/trogiup.sqlite3"
    assert settings.embedded


def test_settings__reads_the_trogiup_prefix(monkeypatch):
    monkeypatch.setenv("TROGIUP_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("TROGIUP_CENTRAL_PROJECT_ID", "4")

    settings = Settings(_env_file=None)

    assert not settings.embedded
    assert settings.central_project_id == 4


def test_settings__hides_secrets_from_repr():
    settings = Settings(
        central_password="hunter2-very-secret", secret_key="k" * 40, _env_file=None
    )

    assert "hunter2" not in repr(settings)
    assert "kkkk" not in repr(settings)


@pytest.mark.parametrize("environment", ["test", "production"])
@pytest.mark.parametrize("key", [None, "changeme", "short"])
def test_settings__outside_development__missing_or_weak_secret_refused(
    environment, key, monkeypatch
):
    monkeypatch.delenv("TROGIUP_SECRET_KEY", raising=False)

    with pytest.raises(ValidationError, match="TROGIUP_SECRET_KEY") as refused:
        Settings(environment=environment, secret_key=key, _env_file=None)

    assert f"TROGIUP_ENVIRONMENT={environment}" in str(refused.value)
    assert "at least 32 characters" in str(refused.value)


def test_settings__outside_development__unset_secret_named_as_not_set(monkeypatch):
    monkeypatch.delenv("TROGIUP_SECRET_KEY", raising=False)

    with pytest.raises(ValidationError, match="TROGIUP_SECRET_KEY is not set"):
        Settings(environment="test", _env_file=None)


@pytest.mark.parametrize("environment", ["test", "production"])
def test_settings__outside_development__given_secret_kept(environment):
    settings = Settings(
        environment=environment, secret_key=TEST_SECRET_KEY, _env_file=None
    )

    assert settings.secret_key.get_secret_value() == TEST_SECRET_KEY


def test_settings__development_gets_a_random_secret(monkeypatch):
    monkeypatch.delenv("TROGIUP_SECRET_KEY", raising=False)

    first = Settings(_env_file=None).secret_key.get_secret_value()
    second = Settings(_env_file=None).secret_key.get_secret_value()

    assert len(first) >= 32
    assert first != second
