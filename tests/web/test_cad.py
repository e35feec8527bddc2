"""CAD workflow of General Order 510.05 §B.4-B.7 and §C: duplicates, pertinent
supplements, self-dispatched units, escalation, unit status and canvass."""

from __future__ import annotations

import time
from typing import Any

from .conftest import Env
from .helpers import report, wait_for


def published(env: Env) -> dict[str, Any]:
    t = time.time() - 1
    for k, sid in enumerate(list(env.sensors)[:5]):
        env.client.post("/api/v1/pulses", json=report(sid, t + 0.03 * k), headers=env.sensor(sid))
    disp = env.as_("dispatcher")
    alerts = wait_for(lambda: env.client.get("/api/v1/alerts", headers=disp).json()["alerts"])
    return dict(alerts[0])


def test_duplicate_citizen_call_attached_with_only_pertinent_info(env: Env) -> None:
    alert = published(env)
    inc = alert["incident"]
    h = env.as_("dispatcher")
    far = env.client.post(
        "/api/v1/citizen-calls", json={"lat": inc["lat"] + 0.05, "lon": inc["lon"]}, headers=h
    ).json()
    assert far["proposed_incident_id"] is None
    call = env.client.post(
        "/api/v1/citizen-calls",
        json={
            "lat": inc["lat"] + 0.0005,
            "lon": inc["lon"],
            "narrative": "Heard several bangs, very loud, scared",
            "subject": "male, red hoodie, running north",
            "vehicle": "",
            "weapon": "handgun thrown under a blue car",
        },
        headers=h,
    ).json()
    assert call["proposed_incident_id"] == inc["id"]
    assert 0 < call["proposed_distance_m"] < 100
    assert call["address"]
    r = env.client.post(f"/api/v1/citizen-calls/{call['id']}/attach", json={}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "attached" and out["supplements_added"] == 2
    texts = [e["text"] for e in out["cad_call"]["timeline"]]
    assert any("Subject description: male, red hoodie" in t for t in texts)
    assert any("Discarded weapon" in t for t in texts)
    assert any("attached as duplicate" in t for t in texts)
    assert not any("scared" in t for t in texts)  # the narrative is not pertinent
    detail = env.client.get(f"/api/v1/incidents/{inc['id']}", headers=h).json()
    assert [c["id"] for c in detail["citizen_calls"]] == [call["id"]]
    empty = env.client.post(
        f"/api/v1/cad-calls/{alert['cad_call']['id']}/supplement", json={}, headers=h
    )
    assert empty.status_code == 422


def test_self_dispatch_escalation_status_and_canvass(env: Env) -> None:
    alert = published(env)
    cad_id = alert["cad_call"]["id"]
    iid = alert["incident"]["id"]
    patrol = env.as_("patrol")
    r = env.client.post(
        "/api/v1/units/1A12/status", json={"status": "en_route", "incident_id": iid}, headers=patrol
    )
    assert r.status_code == 200, r.text
    cad = r.json()["cad_call"]
    assert cad["id"] == cad_id
    unit = next(u for u in cad["units"] if u["unit_id"] == "1A12")
    assert unit["self_dispatched"] and unit["status"] == "en_route"
    assert any("self-dispatched" in e["text"] for e in cad["timeline"])
    r = env.client.post("/api/v1/units/1A12/status", json={"status": "on_scene"}, headers=patrol)
    assert r.json()["status"] == "on_scene"
    r = env.client.post(
        "/api/v1/units/1A12/canvass", json={"text": "3 residents heard 1 shot"}, headers=patrol
    )
    assert any(e["kind"] == "canvass" for e in r.json()["timeline"])
    disp = env.as_("dispatcher")
    r = env.client.post(
        f"/api/v1/cad-calls/{cad_id}/escalate",
        json={"medical": True, "extra_units": 2},
        headers=disp,
    )
    cad = r.json()
    assert cad["confirmed_shooting"] and cad["medical_requested"]
    assert len(cad["units"]) == 3
    assert cad["type_code"] == "SHOTS" and cad["priority"] == 2
    r = env.client.post("/api/v1/cad-calls/999/escalate", json={}, headers=disp)
    assert r.status_code == 404
