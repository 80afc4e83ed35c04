"""One settings class for the whole system, read from ``TROGIUP_*`` variables."""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values a developer might copy from an example file; refused outside development.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development"}


class Settings(BaseSettings):
    """Everything configurable. Unset Redis means embedded mode; unset Central
    means the demo simulator is started by ``make run``."""

    model_config = SettingsConfigDict(
        env_prefix="TROGIUP_", env_file=".env", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None

    central_url: str | None = None
    central_email: str | None = None
    central_password: SecretStr | None = None
    central_project_id: int | None = None
    # Seconds before a request to Central is abandoned and retried.
    central_timeout: float = 60.0

    secret_key: SecretStr | None = None

    # Counts of abused children and trafficking victims from 1 to this less
    # one are hidden in every output. A deployment setting, never a request
    # parameter: two thresholds side by side would show what each hides.
    suppression_threshold: int = Field(default=5, ge=3)

    host: str = "127.0.0.1"
    port: int = 8000

    @model_validator(mode="after")
    def _secret_key_is_real_outside_development(self) -> "Settings":
        if self.environment == "development":
            if self.secret_key is None:
                # Sessions do not outlive a restart, which is what a developer
                # expects from an unset key; nowhere else gets a default.
                self.secret_key = SecretStr(secrets.token_urlsafe(48))
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.lower() in PLACEHOLDER_SECRETS or len(key) < 32:
            state = "is not set" if self.secret_key is None else "is too weak"
            raise ValueError(
                f"TROGIUP_SECRET_KEY {state}: with TROGIUP_ENVIRONMENT="
                f"{self.environment} it must be a random value of at least 32 "
                "characters (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'). Only development makes one up."
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'trogiup.sqlite3').as_posix()}"

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: background work runs in-process."""
        return not self.redis_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
