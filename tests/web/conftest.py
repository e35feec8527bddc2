from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shotwatch.web.app import create_app
from shotwatch.web.provision import provision_sensors

from .helpers import GroupingLocator, grid_sensors, settings_for

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def login(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": user, "password": user})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


class Env:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens
        self.sensors = grid_sensors()
        client.cookies.clear()

    def as_(self, user: str) -> dict[str, str]:
        return login(self.client, user)

    def sensor(self, sid: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[sid]}"}


def make_env(
    tmp_path: Path, database_url: str = "", locator: Any = GroupingLocator, **kw: Any
) -> Iterator[Env]:
    settings = settings_for(tmp_path, database_url, **kw)
    app = create_app(settings, locator_factory=locator)
    tokens = provision_sensors(settings, grid_sensors(), db=app.state.service.db)
    with TestClient(app) as client:
        yield Env(client, tokens)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"sw_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
