"""Typed settings of the live service (pydantic-settings, ``SHOTWATCH_`` prefix).

Every value can come from the environment (``SHOTWATCH_DATABASE_URL=...``) or a
``.env`` file; command-line options override them. Outside the ``local`` / ``demo``
environments the default secret key is refused (full-stack-fastapi-template
``core/config.py`` does the same).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shotwatch.errors import ConfigError

DEFAULT_SECRET = "change-me-shotwatch-local-secret"

_REPO_ROOT = Path(__file__).resolve().parents[2]


def default_shared_data() -> Path:
    """``../shared/data`` beside the repository (``SHOTWATCH_SHARED_DATA`` overrides)."""
    env = os.environ.get("SHOTWATCH_SHARED_DATA")
    if env:
        return Path(env)
    return (_REPO_ROOT / ".." / "shared" / "data").resolve()


class Settings(BaseSettings):
    """Service configuration. Durations in seconds, distances in metres."""

    model_config = SettingsConfigDict(
        env_prefix="SHOTWATCH_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["local", "demo", "staging", "production"] = "local"
    database_url: str = ""
    """SQLAlchemy URL; empty means a SQLite file ``<data_dir>/shotwatch.sqlite3``."""
    bus_url: str = "memory://"
    secret_key: str = DEFAULT_SECRET
    tile_url: str = ""
    """Map tile template (``https://.../{z}/{x}/{y}.png``); empty draws the street layer."""
    tile_attribution: str = ""
    auto_publish_threshold: float = Field(default=0.9, ge=0.0, le=1.01)
    """Incidents of ``auto_publish_classes`` with confidence at or above this are
    published without a reviewer (>1: never)."""
    auto_publish_classes: list[str] = Field(default_factory=lambda: ["gunfire"])
    review_target_s: float = 60.0
    data_dir: Path = Path("var")
    street_layer: Path | None = None
    """GeoJSON of streets/addresses; None uses the demo layer shipped with the package."""
    retention_years: int = Field(default=7, ge=1)
    max_pulse_bytes: int = Field(default=512 * 1024, ge=1024)
    """Largest accepted pulse report (JSON incl. base64 clip), bytes."""
    max_clip_seconds: float = 5.0
    pulse_max_age_s: float = 600.0
    """Pulse reports older than this (by ``t_utc`` vs. the server clock) are rejected."""
    pulse_max_future_s: float = 30.0
    flush_interval_s: float = 0.2
    duplicate_radius_m: float = 400.0
    duplicate_window_s: float = 900.0
    session_hours: float = 12.0
    login_max_failures: int = Field(default=5, ge=1, le=100)
    """Consecutive failed sign-ins that lock an account (the FBI CJIS Security Policy,
    5.5.3: no more than five)."""
    login_lockout_s: float = Field(default=600.0, ge=1.0, le=86_400.0)
    """How long a locked account stays locked (CJIS 5.5.3: ten minutes)."""
    webhook_urls: list[str] = Field(default_factory=list)
    webhook_secret: str = ""

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment not in ("local", "demo") and self.secret_key == DEFAULT_SECRET:
            raise ConfigError("SHOTWATCH_SECRET_KEY must be set outside the local/demo environment")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, with the SQLite default under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shotwatch.sqlite3').resolve()}"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def hmac_webhook_secret(self) -> bytes:
        return (self.webhook_secret or self.secret_key).encode()


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (None values ignored)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ConfigError:
        raise
    except ValueError as e:
        raise ConfigError(f"invalid settings: {e}") from None
