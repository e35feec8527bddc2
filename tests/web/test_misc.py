"""Settings, the command line, supervisor figures, pages served from the package."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shotwatch.errors import ConfigError
from shotwatch.settings import Settings

from .conftest import Env
from .helpers import report, wait_for


def test_default_secret_refused_outside_local() -> None:
    with pytest.raises(ConfigError):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="s3cret-value").environment == "production"
    assert Settings(environment="demo").secret_key


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``shotwatch serve`` in a child process with the environment ``env``."""
    return subprocess.run(
        [sys.executable, "-c", "from shotwatch.cli import main; main()", "serve", "--port", "1"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_serve_with_unsafe_settings_is_one_line_exit_2(tmp_path: Path) -> None:
    env = dict(os.environ, SHOTWATCH_ENVIRONMENT="production", SHOTWATCH_DATA_DIR=str(tmp_path))
    env.pop("SHOTWATCH_SECRET_KEY", None)
    r = _serve(env)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error:") and "SECRET_KEY" in r.stderr
    assert "Traceback" not in r.stderr


def test_serve_with_an_unreachable_database_is_one_line_exit_2(tmp_path: Path) -> None:
    """(The driver's message came with SQLAlchemy's statement and link, over three lines.)"""
    env = dict(os.environ, SHOTWATCH_DATA_DIR=str(tmp_path))
    env["SHOTWATCH_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    r = _serve(env)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot migrate database:"), lines


def test_supervisor_figures(env: Env) -> None:
    t = time.time() - 1
    for k, sid in enumerate(list(env.sensors)[:5]):
        env.client.post("/api/v1/pulses", json=report(sid, t + 0.03 * k), headers=env.sensor(sid))
    disp = env.as_("dispatcher")
    alert = wait_for(lambda: env.client.get("/api/v1/alerts", headers=disp).json()["alerts"])[0]
    patrol = env.as_("patrol")
    env.client.post(
        "/api/v1/units/1A12/status",
        json={"status": "en_route", "incident_id": alert["incident"]["id"]},
        headers=patrol,
    )
    sup = env.as_("supervisor")
    st = env.client.get("/api/v1/stats", headers=sup).json()
    assert st["incidents"] == 1 and st["by_status"] == {"published": 1}
    assert st["rounds"] == 1 and st["cad_calls"] == 1
    assert st["mean_s_to_en_route"] is not None and st["mean_s_to_en_route"] >= 0
    assert st["sensors"] == len(env.sensors)
    assert env.client.get("/api/v1/stats", headers=disp).status_code == 403


def test_assets_come_from_the_package_no_cdn(env: Env) -> None:
    env.as_("dispatcher")
    page = env.client.get("/dispatch").text
    assert "https://" not in page and "http://" not in page
    for asset in ("/static/app.css", "/static/common.js", "/static/map.js", "/static/dispatch.js"):
        r = env.client.get(asset)
        assert r.status_code == 200 and "https://" not in r.text


def test_security_headers_on_pages_api_and_assets(env: Env) -> None:
    """No framing, sniffing or referrer anywhere; no caching of pages and API answers
    (evidence on a shared terminal); a Content-Security-Policy of this site only on
    pages; static assets cacheable."""
    env.as_("dispatcher")
    page = env.client.get("/dispatch")
    api = env.client.get("/api/v1/alerts")
    asset = env.client.get("/static/dispatch.js")
    for r in (page, api, asset):
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == api.headers["cache-control"] == "no-store"
    assert "no-store" not in asset.headers.get("cache-control", "")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "content-security-policy" not in api.headers


def test_the_pages_policy_admits_the_configured_tile_server() -> None:
    from shotwatch.web.app import content_security_policy

    csp = content_security_policy("https://tiles.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://tiles.example.org;" in csp
    for none in ("", "javascript:alert(1)", "tiles.example.org/{z}/{x}/{y}.png"):
        assert "img-src 'self' data: blob:;" in content_security_policy(none), none


def test_department_loads_its_street_layer(env: Env) -> None:
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[-121.51, 38.57], [-121.47, 38.57]],
                },
                "properties": {"name": "Broadway", "addr_from": 100, "addr_to": 4099},
            },
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[-121.49, 38.56], [-121.49, 38.59]],
                },
                "properties": {"name": "Main St"},
            },
        ],
    }
    admin = env.as_("admin")
    r = env.client.put("/api/v1/street-layer", json=gj, headers=admin)
    assert r.status_code == 200 and r.json()["intersections"] == 1
    bad = env.client.put("/api/v1/street-layer", content=b"{}", headers=admin)
    assert bad.status_code == 422
    disp = env.as_("dispatcher")
    assert env.client.put("/api/v1/street-layer", json=gj, headers=disp).status_code == 403
    call = env.client.post(
        "/api/v1/citizen-calls", json={"lat": 38.5701, "lon": -121.4901}, headers=disp
    ).json()
    assert call["address"] == "Main St & Broadway" or call["address"] == "Broadway & Main St"


def test_tile_url_reaches_the_page_config(tmp_path: Path) -> None:
    from .conftest import make_env

    for e in make_env(tmp_path, tile_url="/tiles/{z}/{x}/{y}.png"):
        e.as_("dispatcher")
        assert '"tile_url": "/tiles/{z}/{x}/{y}.png"' in e.client.get("/dispatch").text


def test_a_new_deployment_starts_without_sensors_and_locates_once_they_are_registered(
    tmp_path: Path,
) -> None:
    """``shotwatch serve`` on a fresh database (no sensor yet: the administrator registers
    them on the running service) failed its startup with "no sensors"."""
    from fastapi.testclient import TestClient

    from shotwatch.web.app import create_app

    from .conftest import login
    from .helpers import grid_sensors, settings_for

    app = create_app(settings_for(tmp_path))  # the service's own streaming locator
    with TestClient(app) as client:
        svc = app.state.service
        assert svc.started and svc.stats["pulses_located"] == 0
        admin = login(client, "admin")
        tokens = {}
        for sid, s in list(grid_sensors().items())[:5]:
            body = {"sensor_id": sid, "lat": s.lat, "lon": s.lon, "elevation_m": s.elevation_m}
            r = client.post("/api/v1/sensors", json=body, headers=admin)
            assert r.status_code == 201, r.text
            tokens[sid] = r.json()["token"]
        t = time.time() - 1
        for k, (sid, tok) in enumerate(tokens.items()):
            r = client.post(
                "/api/v1/pulses",
                json=report(sid, t + 0.01 * k),
                headers={"authorization": f"Bearer {tok}"},
            )
            assert r.status_code == 202, r.text
        wait_for(lambda: svc.stats["pulses_located"] == 5)  # reached a locator


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("bogus://x", "unknown bus URL"),
        ("nats://127.0.0.1:1", "cannot connect to NATS"),
        ("mqtt://127.0.0.1:1", "cannot connect to MQTT"),
    ],
)
def test_serve_with_a_bad_or_unreachable_bus_is_one_line_exit_2(
    tmp_path: Path, url: str, needle: str
) -> None:
    """(The server's startup connected to the bus and ended in a traceback, status 3.)"""
    env = dict(os.environ, SHOTWATCH_DATA_DIR=str(tmp_path), SHOTWATCH_BUS_URL=url)
    r = _serve(env)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], lines


def test_the_pages_config_cannot_close_its_script_element(tmp_path: Path) -> None:
    """The pages carry their settings as JSON inside a <script> element: a value holding
    '</script>' ended it and put the rest into the page as markup."""
    from .conftest import make_env

    for env in make_env(tmp_path, tile_attribution="</script><form action=//evil>"):
        env.as_("dispatcher")
        page = env.client.get("/dispatch").text
        assert "</script><form" not in page and "\\u003c/script>\\u003cform" in page
        admin = env.as_("admin")
        body = {"username": "p2", "password": "12345678", "role": "patrol", "unit_id": "<b>"}
        assert env.client.post("/api/v1/users", json=body, headers=admin).status_code == 422
