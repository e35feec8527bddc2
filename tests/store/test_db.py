"""Storage on SQLite (default) and the real PostgreSQL: migrations, pulses, incidents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from shotwatch.models import Pulse
from shotwatch.store import audit, repo
from shotwatch.store.db import Database, migrate
from web.conftest import PG_ADMIN, Env, make_env, pg_url  # noqa: F401  (fixture)
from web.helpers import report, wait_for

TABLES = {
    "users",
    "sensors",
    "pulses",
    "incidents",
    "review_decisions",
    "cad_calls",
    "cad_entries",
    "citizen_calls",
    "units",
    "alerts",
    "audit_log",
    "release_requests",
    "alembic_version",
}


def check_schema(db: Database) -> None:
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    migrate(db.engine)  # idempotent
    with db.engine.connect() as c:
        from alembic.migration import MigrationContext

        assert MigrationContext.configure(c).get_current_revision() == "0004"


def check_pulses_and_audit(db: Database) -> None:
    from shotwatch.models import Sensor

    with db.session() as s:
        repo.upsert_sensor(s, Sensor("S1", 38.5, -121.5, 10.0), "h" * 64, time.time())
        repo.upsert_sensor(s, Sensor("S2", 38.5, -121.4, 11.0, 142.5), "g" * 64, time.time())
    with db.session() as s:
        cal = {k: v.full_scale_db_spl for k, v in repo.sensor_map(s).items()}
    assert cal == {"S1": None, "S2": 142.5}
    t = time.time()
    items = [repo.NewPulse(Pulse("S1", t + i, uid=f"u{i}"), t, None, None) for i in range(3)]
    ids = repo.store_pulses(db, items, 7)
    assert all(isinstance(i, int) for i in ids)
    dup = repo.store_pulses(db, [items[0], repo.NewPulse(Pulse("S1", t + 9), t, None, None)], 7)
    assert dup[0] is None and isinstance(dup[1], int)
    for k in range(5):
        audit.append(db, "u", "act", f"obj{k}")
    with db.session() as s:
        assert audit.verify_chain(s) == (True, None)


def test_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    check_schema(db)
    check_pulses_and_audit(db)
    db.dispose()


@pytest.mark.services
def test_postgres(pg_url: str) -> None:  # noqa: F811
    db = Database(pg_url)
    check_schema(db)
    check_pulses_and_audit(db)
    db.dispose()


@pytest.mark.services
def test_postgres_ids_of_pulses_and_audit_records_go_past_32_bits(pg_url: str) -> None:  # noqa: F811
    """Every pulse is kept seven years: ids past 2**31 - 1 (a serial's end) are stored,
    and the migrated schema is the tables' on PostgreSQL too."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import text

    from shotwatch.store.tables import Base

    db = Database(pg_url)
    with db.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
    with db.engine.begin() as c:
        for table in ("pulses", "audit_log"):
            c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 3000000000)"))
    check_pulses_and_audit(db)
    with db.session() as s:
        ids = s.execute(text("SELECT min(id) FROM pulses UNION ALL SELECT min(id) FROM audit_log"))
        assert all(i > 2**31 for (i,) in ids)
    db.dispose()


@pytest.mark.services
def test_a_refused_value_costs_only_its_own_pulse(pg_url: str) -> None:  # noqa: F811
    """A batch (group commit) holding one report whose value the database refuses (a
    pulse_uuid longer than its column: PostgreSQL enforces the width) stores the others
    and hands back the refusal for that one alone."""
    from shotwatch.models import Sensor

    db = Database(pg_url)
    with db.session() as s:
        repo.upsert_sensor(s, Sensor("S1", 38.5, -121.5, 10.0), "h" * 64, time.time())
    t = time.time()
    items = [repo.NewPulse(Pulse("S1", t + i, uid=f"u{i}"), t, None, None) for i in range(4)]
    items[2].pulse.uid = "x" * 65
    got = repo.store_pulses(db, items, 7)
    assert [type(g).__name__ for g in got] == ["int", "int", "DataError", "int"]
    with db.session() as s:
        assert len(repo.unlocated_pulses(s, t - 10)) == 3
    db.dispose()


@pytest.fixture
def pg_env(tmp_path: Path, pg_url: str) -> Iterator[Env]:  # noqa: F811
    yield from make_env(tmp_path, pg_url)


@pytest.mark.services
def test_a_database_outage_is_a_503_to_retry_and_loses_nothing(
    pg_env: Env,
    pg_url: str,  # noqa: F811
) -> None:
    """With the database gone the service answers 503 with Retry-After (a sensor's spool
    sends the report again) instead of a 500; once it is back the same report is
    accepted, and the service goes on."""
    from sqlalchemy import create_engine, text

    env = pg_env
    name = pg_url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    sid = next(iter(env.sensors))
    rep = report(sid, time.time() - 1, pulse_uuid="outage-1")
    disp = env.as_("dispatcher")
    try:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        r = env.client.post("/api/v1/pulses", json=rep, headers=env.sensor(sid))
        assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
        assert env.client.get("/api/v1/cad-calls", headers=disp).status_code == 503
    finally:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    r = env.client.post("/api/v1/pulses", json=rep, headers=env.sensor(sid))
    assert r.status_code == 202, r.text
    assert env.client.get("/api/v1/cad-calls", headers=disp).status_code == 200


@pytest.mark.services
def test_service_flow_on_postgres(pg_env: Env) -> None:
    env = pg_env
    t = time.time() - 1
    for k, sid in enumerate(list(env.sensors)[:5]):
        r = env.client.post(
            "/api/v1/pulses", json=report(sid, t + 0.03 * k), headers=env.sensor(sid)
        )
        assert r.status_code == 202
    assert (
        env.client.post(
            "/api/v1/pulses", json=report("S000", t), headers=env.sensor("S000")
        ).status_code
        == 409
    )
    h = env.as_("dispatcher")
    alerts = wait_for(lambda: env.client.get("/api/v1/alerts", headers=h).json()["alerts"])
    assert alerts[0]["cad_call"]["type_code"] == "SHOTS"
    cap = env.as_("captain")
    assert env.client.get("/api/v1/audit", headers=cap).json()["chain_ok"] is True


@pytest.fixture(params=["nats", "mqtt"])
def bus_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    import uuid

    tag = uuid.uuid4().hex[:8]
    url = (
        f"nats://127.0.0.1:4222?stream=SWT{tag}&prefix=swt{tag}"
        if request.param == "nats"
        else f"mqtt://127.0.0.1:1883?prefix=swt{tag}&client_id=swt{tag}"
    )
    yield from make_env(tmp_path, bus_url=url)
    if request.param == "nats":
        import asyncio

        import nats

        async def drop() -> None:
            nc = await nats.connect("nats://127.0.0.1:4222")
            try:
                await nc.jetstream().delete_stream(f"SWT{tag}")
            finally:
                await nc.close()

        asyncio.run(drop())


@pytest.mark.services
def test_service_flow_over_a_real_bus(bus_env: Env) -> None:
    env = bus_env
    t = time.time() - 1
    for k, sid in enumerate(list(env.sensors)[:5]):
        r = env.client.post(
            "/api/v1/pulses", json=report(sid, t + 0.03 * k), headers=env.sensor(sid)
        )
        assert r.status_code == 202
    h = env.as_("dispatcher")
    alerts = wait_for(lambda: env.client.get("/api/v1/alerts", headers=h).json()["alerts"])
    assert alerts[0]["cad_call"]["priority"] == 2


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    """Regression: a table changed without a new Alembic revision."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shotwatch.store.tables import Base

    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    with db.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    db.dispose()
    assert diff == []


class _Silent:
    """A locator that never emits (the service stops before it would)."""

    def __init__(self, sensors: object, weather: object) -> None:
        pass

    def add(self, pulse: object, now: float) -> list[object]:
        return []

    def flush(self, now: float) -> list[object]:
        return []


def test_accepted_pulses_survive_a_restart(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from shotwatch.web.app import create_app
    from shotwatch.web.provision import provision_sensors
    from web.helpers import GroupingLocator, grid_sensors, settings_for

    settings = settings_for(tmp_path)
    app = create_app(settings, locator_factory=_Silent)  # type: ignore[arg-type]
    tokens = provision_sensors(settings, grid_sensors(), db=app.state.service.db)
    t = time.time() - 1
    with TestClient(app) as c:
        for k, sid in enumerate(list(tokens)[:5]):
            r = c.post(
                "/api/v1/pulses",
                json=report(sid, t + 0.03 * k),
                headers={"authorization": f"Bearer {tokens[sid]}"},
            )
            assert r.status_code == 202
    app2 = create_app(settings, locator_factory=GroupingLocator)
    with TestClient(app2) as c:
        h = {
            "authorization": "Bearer "
            + c.post(
                "/api/v1/auth/login", json={"username": "dispatcher", "password": "dispatcher"}
            ).json()["token"]
        }
        alerts = wait_for(lambda: c.get("/api/v1/alerts", headers=h).json()["alerts"])
        assert alerts[0]["incident"]["rounds"] == 1


def test_retention_purge_after_seven_years(tmp_path: Path) -> None:
    from sqlalchemy import func, select, update
    from typer.testing import CliRunner

    from shotwatch.cli import app
    from shotwatch.store.tables import AuditRow, IncidentRow, PulseRow
    from web.helpers import wav_b64

    for env in make_env(tmp_path):
        t = time.time() - 1
        for k, sid in enumerate(list(env.sensors)[:5]):
            clip = wav_b64() if k == 0 else None
            env.client.post(
                "/api/v1/pulses", json=report(sid, t + 0.03 * k, clip=clip), headers=env.sensor(sid)
            )
        h = env.as_("dispatcher")
        wait_for(lambda: env.client.get("/api/v1/alerts", headers=h).json()["alerts"])  # noqa: B023
        db = env.client.app.state.service.db  # type: ignore[attr-defined]
        with db.session() as s:
            inc = s.execute(select(IncidentRow)).scalar_one()
            assert inc.retain_until - inc.created_at > 7 * 365 * 86400
    runner = CliRunner()
    r = runner.invoke(app, ["retention", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0 and "expired: 0 incidents, 0 pulses" in r.output
    db = Database(f"sqlite:///{(tmp_path / 'shotwatch.sqlite3').resolve()}")
    with db.session() as s:
        s.execute(update(IncidentRow).values(retain_until=time.time() - 1))
        s.execute(update(PulseRow).values(retain_until=time.time() - 1))
    clips = list((tmp_path / "evidence").rglob("*.wav"))
    assert len(clips) == 1
    r = runner.invoke(app, ["retention", "--data-dir", str(tmp_path), "--purge"])
    assert r.exit_code == 0 and "purged 1 incidents, 5 pulses, 1 audio clips" in r.output
    assert not clips[0].exists()
    with db.session() as s:
        assert s.execute(select(func.count(IncidentRow.id))).scalar_one() == 0
        assert s.execute(select(func.count(AuditRow.id))).scalar_one() > 0
        assert audit.verify_chain(s) == (True, None)
    db.dispose()


def test_a_three_sensor_shots_second_point_reaches_the_api_form(tmp_path: Path) -> None:
    """The second point a three-sensor shot fits is kept with the incident and shown in
    its public form (it is where the shot may have been, not where a sensor is)."""
    from shotwatch.models import Classification, Incident, Shot

    shot = Shot(1.8e9, 40.0, -80.0, 200.0, 12.0, ["S1", "S2", "S3"], alternative=(40.002, -80.001))
    inc = Incident("inc-3", Classification.NON_GUNFIRE, 0.2, [shot], summary="x")
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.session() as s:
        repo.upsert_incident(s, inc, "", 1.8e9, 7)
        s.commit()
    with db.session() as s:
        out = repo.incident_json(repo.get_incident(s, "inc-3"))
    assert out["shots"][0]["alternative"] == {"lat": 40.002, "lon": -80.001}
    assert "sensors" not in out["shots"][0]
    # what the patrol car and the CAD call are told says so too
    assert out["three_sensors"] is True
    assert out["heard"].endswith("heard by only three sensors, location uncertain")
    from shotwatch.alerts.cad import draft_call

    assert "location uncertain" in draft_call(out, "Main St").narrative
    db.dispose()
