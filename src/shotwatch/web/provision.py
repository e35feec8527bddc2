"""Provisioning: register sensors and issue their credentials (tokens shown once)."""

from __future__ import annotations

import time

from shotwatch.models import Sensor
from shotwatch.settings import Settings
from shotwatch.store import audit, repo
from shotwatch.store.db import Database
from shotwatch.web.security import new_sensor_token, token_digest


def provision_sensors(
    settings: Settings, sensors: dict[str, Sensor], db: Database | None = None
) -> dict[str, str]:
    """Register (or re-key) every sensor; returns ``{sensor_id: token}``."""
    own = db is None
    database = db or Database(settings.sqlalchemy_url)
    tokens: dict[str, str] = {}
    try:
        now = time.time()
        with database.session() as s:
            for sid, sensor in sensors.items():
                tok = new_sensor_token()
                repo.upsert_sensor(s, sensor, token_digest(tok), now)
                tokens[sid] = tok
        audit.append(database, "provisioning", "sensor_register", f"sensors:{len(tokens)}")
    finally:
        if own:
            database.dispose()
    return tokens
