"""The main path: ingest -> incident -> review / auto-publish -> CAD call -> WebSocket alert."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

from shotwatch.models import Classification, Incident

from .conftest import Env, make_env
from .helpers import GroupingLocator, report, wait_for, wav_b64


def fire(env: Env, t0: float, score: float = 0.95, n: int = 6, clip: bool = True) -> None:
    for k, sid in enumerate(list(env.sensors)[:n]):
        body = report(sid, t0 + 0.05 * k, score, wav_b64() if clip and k == 0 else None)
        r = env.client.post("/api/v1/pulses", json=body, headers=env.sensor(sid))
        assert r.status_code == 202, r.text


def test_auto_published_gunfire_reaches_console_with_cad_call(env: Env) -> None:
    h = env.as_("dispatcher")
    with env.client.websocket_connect("/api/v1/alerts", headers=h) as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        fire(env, time.time() - 1.0)
        msg = json.loads(ws.receive_text())
        while msg["type"] != "alert":
            msg = json.loads(ws.receive_text())
    inc = msg["incident"]
    assert msg["kind"] == "publish"
    assert inc["classification"] == "gunfire"
    assert inc["rounds"] == 1
    assert "&" in inc["location"] or "St" in inc["location"]
    assert "sensors" not in inc and all("sensors" not in s for s in inc["shots"])
    cad = msg["cad_call"]
    assert cad["type_code"] == "SHOTS" and cad["priority"] == 2
    assert "Single shooter, single round" in cad["narrative"]
    assert inc["location"] in cad["narrative"]
    # the audio clip plays back
    r = env.client.get(inc["audio_url"], headers=h)
    assert r.status_code == 200 and r.content[:4] == b"RIFF"
    # the decision was recorded
    d = env.client.get(f"/api/v1/incidents/{inc['id']}", headers=h).json()
    assert d["review"][0]["action"] == "auto_publish"
    assert d["cad_call"]["id"] == cad["id"]


def test_low_confidence_waits_for_reviewer_then_publishes(env: Env) -> None:
    rv = env.as_("reviewer")
    fire(env, time.time() - 1.0, score=0.6)
    q = wait_for(lambda: env.client.get("/api/v1/review", headers=rv).json()["queue"])
    assert q[0]["review_status"] == "pending" and q[0]["age_s"] >= 0
    iid = q[0]["id"]
    disp = env.as_("dispatcher")
    assert env.client.get("/api/v1/alerts", headers=disp).json()["alerts"] == []
    r = env.client.post(f"/api/v1/review/{iid}", json={"action": "confirm"}, headers=rv)
    assert r.status_code == 200, r.text
    assert r.json()["review_status"] == "published"
    alerts = wait_for(lambda: env.client.get("/api/v1/alerts", headers=disp).json()["alerts"])
    assert alerts[0]["incident"]["id"] == iid
    assert alerts[0]["incident"]["evaluation_mode"] == "manual"
    again = env.client.post(f"/api/v1/review/{iid}", json={"action": "dismiss"}, headers=rv)
    assert again.status_code == 409


def test_dismissed_incident_never_alerts(env: Env) -> None:
    rv = env.as_("reviewer")
    fire(env, time.time() - 1.0, score=0.2)
    q = wait_for(lambda: env.client.get("/api/v1/review", headers=rv).json()["queue"])
    r = env.client.post(f"/api/v1/review/{q[0]['id']}", json={"action": "dismiss"}, headers=rv)
    assert r.json()["review_status"] == "dismissed"
    assert r.json()["evaluation_status"] == "rejected"
    disp = env.as_("dispatcher")
    time.sleep(0.2)
    assert env.client.get("/api/v1/alerts", headers=disp).json()["alerts"] == []
    assert env.client.get("/api/v1/cad-calls", headers=disp).json()["cad_calls"] == []


class _Reclassifying(GroupingLocator):
    """Emits its incident as gunfire first, then (next flush) as non-gunfire: a fireworks
    burst whose first bang looked like a shot."""

    def flush(self, now: float) -> list[Incident]:
        out = super().flush(now)
        if out:
            self.first = out[0]
            return out
        first = getattr(self, "first", None)
        if first is not None and first.classification == Classification.GUNFIRE:
            again = copy.deepcopy(first)
            again.classification = Classification.NON_GUNFIRE
            again.confidence = 0.0
            again.summary = "Probable fireworks (aerial), 3 bursts"
            self.first = again
            return [again]
        return []


def test_automatic_alert_cancelled_when_reclassified(tmp_path: Path) -> None:
    for env in make_env(tmp_path, locator=_Reclassifying):
        fire(env, time.time() - 1.0)
        h = env.as_("dispatcher")
        alerts = wait_for(
            lambda: [
                a
                for a in env.client.get("/api/v1/alerts", headers=h).json()["alerts"]  # noqa: B023
                if a["kind"] == "cancel"
            ]
        )
        cad = alerts[0]["cad_call"]
        assert cad["status"] == "cancelled"
        assert any(e["kind"] == "shotwatch_cancel" for e in cad["timeline"])
        cap = env.client.get("/api/v1/alerts/cap.xml", headers=h).text
        assert "<msgType>Cancel</msgType>" in cap and "<msgType>Alert</msgType>" in cap
