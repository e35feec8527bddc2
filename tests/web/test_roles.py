"""Roles and permissions on every route and page; sensor locations never leak."""

from __future__ import annotations

import time

import pytest

from .conftest import Env
from .helpers import report, wait_for

PUBLIC = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/pulses")}


def test_every_api_route_needs_a_signed_in_user(env: Env) -> None:
    schema = env.client.get("/openapi.json").json()
    checked = 0
    for path, ops in schema["paths"].items():
        for method in ops:
            if (method.upper(), path) in PUBLIC or not path.startswith("/api/v1"):
                continue
            p = path.replace("{incident_id}", "x").replace("{cad_id}", "1")
            p = p.replace("{call_id}", "1").replace("{unit_id}", "1A12")
            p = p.replace("{sensor_id}", "S000").replace("{req_id}", "1")
            p = p.replace("{username}", "reviewer")
            r = env.client.request(method.upper(), p, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            checked += 1
    assert checked >= 25
    for name in ("pulses", "incidents", "review", "cad-calls", "citizen-calls", "units", "alerts"):
        assert any(p.startswith(f"/api/v1/{name}") for p in schema["paths"]), name


@pytest.mark.parametrize(
    ("page", "allowed", "denied"),
    [
        ("/dispatch", "dispatcher", "patrol"),
        ("/mobile", "patrol", "dispatcher"),
        ("/review", "reviewer", "investigator"),
        ("/investigate", "investigator", "reviewer"),
        ("/admin", "admin", "captain"),
    ],
)
def test_pages_by_role(env: Env, page: str, allowed: str, denied: str) -> None:
    r = env.client.get(page, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    env.as_(allowed)
    assert env.client.get(page).status_code == 200
    env.client.cookies.clear()
    env.as_(denied)
    assert env.client.get(page, follow_redirects=False).status_code == 403
    env.client.cookies.clear()


@pytest.mark.parametrize(
    ("user", "method", "path", "body"),
    [
        ("patrol", "POST", "/api/v1/review/x", {"action": "confirm"}),
        ("dispatcher", "GET", "/api/v1/sensors", None),
        ("reviewer", "POST", "/api/v1/citizen-calls", {"lat": 38.58, "lon": -121.49}),
        ("investigator", "POST", "/api/v1/release-requests/1/decision", {"decision": "authorized"}),
        ("supervisor", "POST", "/api/v1/release-requests/1/decision", {"decision": "authorized"}),
        ("dispatcher", "GET", "/api/v1/audit", None),
        ("patrol", "POST", "/api/v1/units/2B21/status", {"status": "available"}),
        (
            "captain",
            "POST",
            "/api/v1/users",
            {"username": "x", "password": "longenough", "role": "captain"},
        ),
        ("reviewer", "GET", "/api/v1/incidents/x/report.pdf", None),
    ],
)
def test_forbidden_actions(env: Env, user: str, method: str, path: str, body: object) -> None:
    h = env.as_(user)
    r = env.client.request(method, path, json=body, headers=h)
    assert r.status_code == 403, r.text


def _published(env: Env) -> str:
    t = time.time() - 1
    for k, sid in enumerate(list(env.sensors)[:5]):
        env.client.post("/api/v1/pulses", json=report(sid, t + 0.03 * k), headers=env.sensor(sid))
    disp = env.as_("dispatcher")
    alerts = wait_for(lambda: env.client.get("/api/v1/alerts", headers=disp).json()["alerts"])
    return str(alerts[0]["incident"]["id"])


def _points(obj: object) -> set[tuple[float, float]]:
    """Every (lat, lon) pair anywhere in a JSON document."""
    out: set[tuple[float, float]] = set()
    if isinstance(obj, dict):
        if isinstance(obj.get("lat"), float) and isinstance(obj.get("lon"), float):
            out.add((round(obj["lat"], 5), round(obj["lon"], 5)))
        for v in obj.values():
            out |= _points(v)
    elif isinstance(obj, list):
        for v in obj:
            out |= _points(v)
    return out


def test_sensor_locations_only_with_permission(env: Env) -> None:
    iid = _published(env)
    sensor_pts = {(round(s.lat, 5), round(s.lon, 5)) for s in env.sensors.values()}
    for user in ("dispatcher", "patrol", "reviewer", "investigator", "supervisor", "captain"):
        h = env.as_(user)
        for path in ("/api/v1/alerts", f"/api/v1/incidents/{iid}", "/api/v1/incidents"):
            r = env.client.get(path, headers=h)
            if r.status_code != 200:
                continue
            assert '"sensors"' not in r.text and '"sensor_id"' not in r.text, (user, path)
            assert not (_points(r.json()) & sensor_pts), (user, path)
        cap = env.client.get("/api/v1/alerts/cap.xml", headers=h)
        assert cap.status_code in (200, 403)
        assert "S00" not in cap.text
        assert env.client.get("/api/v1/sensors", headers=h).status_code == 403
    admin = env.as_("admin")
    sensors = env.client.get("/api/v1/sensors", headers=admin).json()["sensors"]
    assert {"lat", "lon"} <= set(sensors[0])
    detail = env.client.get(f"/api/v1/incidents/{iid}", headers=admin).json()
    assert detail["sensors"]


def test_only_captain_authorizes_release(env: Env) -> None:
    iid = _published(env)
    inv = env.as_("investigator")
    r = env.client.post(
        "/api/v1/release-requests",
        json={"incident_id": iid, "recipient": "District Attorney", "reason": "case 123"},
        headers=inv,
    )
    assert r.status_code == 201
    rid = r.json()["id"]
    pending = env.client.get(f"/api/v1/release-requests/{rid}/report.pdf", headers=inv)
    assert pending.status_code == 403
    cap = env.as_("captain")
    d = env.client.post(
        f"/api/v1/release-requests/{rid}/decision", json={"decision": "authorized"}, headers=cap
    )
    assert d.status_code == 200 and d.json()["decided_by"] == "captain"
    again = env.client.post(
        f"/api/v1/release-requests/{rid}/decision", json={"decision": "denied"}, headers=cap
    )
    assert again.status_code == 409
    pkg = env.client.get(f"/api/v1/release-requests/{rid}/report.pdf", headers=inv)
    assert pkg.status_code == 200 and pkg.content.startswith(b"%PDF")
    det = env.client.get(f"/api/v1/incidents/{iid}", headers=inv).json()
    assert det["alerts"][0]["kind"] == "publish"


def test_wrong_password_and_bad_token(env: Env) -> None:
    r = env.client.post("/api/v1/auth/login", json={"username": "captain", "password": "nope"})
    assert r.status_code == 401
    h = {"authorization": "Bearer forged.token"}
    assert env.client.get("/api/v1/auth/me", headers=h).status_code == 401


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/review", "/review"),
        ("/investigate?incident=abc", "/investigate?incident=abc"),
        ("https://evil.example/", "/dispatch"),
        ("//evil.example/", "/dispatch"),
        ("/\\evil.example/", "/dispatch"),  # browsers read a backslash as a slash
        ("/\t/evil.example/", "/dispatch"),  # ... and drop tabs and newlines
        ("/\n/evil.example/", "/dispatch"),
    ],
)
def test_login_sends_the_user_on_only_within_the_site(env: Env, target: str, lands: str) -> None:
    r = env.client.post(
        "/login",
        data={"username": "dispatcher", "password": "dispatcher", "next": target},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == lands


def test_five_failed_sign_ins_lock_the_account_for_ten_minutes(env: Env) -> None:
    """FBI CJIS Security Policy 5.5.3: at most five consecutive invalid attempts, then the
    account is locked (ten minutes); a guesser had unlimited tries. The lock holds on both
    sign-in forms, even for the right password, and is audited."""
    svc = env.client.app.state.service  # type: ignore[attr-defined]
    now = [1.9e9]
    svc.clock = lambda: now[0]

    def api(password: str) -> int:
        r = env.client.post(
            "/api/v1/auth/login", json={"username": "reviewer", "password": password}
        )
        return r.status_code

    assert api("reviewer") == 200
    assert [api(f"guess{k}") for k in range(4)] == [401] * 4
    assert api("reviewer") == 200  # a good one resets the count
    assert [api(f"guess{k}") for k in range(5)] == [401] * 4 + [429]
    r = env.client.post("/api/v1/auth/login", json={"username": "reviewer", "password": "reviewer"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 600
    assert "locked" in r.json()["detail"]
    page = env.client.post("/login", data={"username": "reviewer", "password": "reviewer"})
    assert page.status_code == 429 and "locked" in page.text
    assert api("reviewer") == 429
    env.as_("dispatcher")  # other accounts are not affected
    now[0] += 601
    assert api("reviewer") == 200
    # the administrator may end a lock early; no one else may
    assert [api(f"guess{k}") for k in range(5)] == [401] * 4 + [429]
    unlock = "/api/v1/users/reviewer/unlock"
    assert env.client.post(unlock, headers=env.as_("supervisor")).status_code == 403
    r = env.client.post(unlock, headers=env.as_("admin"))
    assert r.status_code == 200 and r.json()["was_locked"] is True
    assert (
        env.client.post("/api/v1/users/nobody/unlock", headers=env.as_("admin")).status_code == 404
    )
    assert api("reviewer") == 200
    with svc.db.session() as s:
        from sqlalchemy import select

        from shotwatch.store.tables import AuditRow

        actions = [
            a
            for a in s.execute(
                select(AuditRow.action).where(AuditRow.actor == "reviewer")
            ).scalars()
        ]
    assert actions.count("login_locked") == 2 and actions.count("login") == 4


def test_the_sign_in_page_shows_no_message_from_the_url(env: Env) -> None:
    page = env.client.get("/login", params={"error": "Account compromised: call 555-0100"})
    assert page.status_code == 200 and "555-0100" not in page.text
