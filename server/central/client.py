"""Connecting to Central through pyodk with settings held in memory."""

from pathlib import Path

from pyodk._utils.config import CentralConfig, Config
from pyodk.client import Client

from server.errors import ConfigurationError
from server.settings import Settings


def pyodk_config(settings: Settings) -> Config:
    missing = [
        name
        for name in ("central_url", "central_email", "central_password")
        if getattr(settings, name) is None
    ]
    if missing:
        names = ", ".join(f"TROGIUP_{m.upper()}" for m in missing)
        raise ConfigurationError(f"Central is not configured: set {names}")
    return Config(
        central=CentralConfig(
            base_url=settings.central_url.rstrip("/"),
            username=settings.central_email,
            password=settings.central_password.get_secret_value(),
            default_project_id=settings.central_project_id,
        )
    )


def connect(settings: Settings) -> Client:
    """An open pyodk client. Its token cache sits in the data folder, not in the
    user's home, so two trogiup installs on one machine do not share a session."""
    cache = Path(settings.data_dir) / "pyodk_cache.toml"
    cache.parent.mkdir(parents=True, exist_ok=True)
    return Client(config=pyodk_config(settings), cache_path=str(cache)).open()
