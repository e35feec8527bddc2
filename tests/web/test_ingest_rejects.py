"""Bad input at the ingest edge: rejected with a 4xx and a logged reason; accepted data
is never lost or overwritten."""

from __future__ import annotations

import base64
import json
import logging
import time

import pytest
from sqlalchemy import func, select

from shotwatch.store.tables import PulseRow

from .conftest import Env
from .helpers import report, wav_b64


def post(env: Env, body: object, sid: str = "S000", raw: bytes | None = None) -> int:
    headers = env.sensor(sid) if sid else {}
    if raw is not None:
        r = env.client.post("/api/v1/pulses", content=raw, headers=headers)
    else:
        r = env.client.post("/api/v1/pulses", json=body, headers=headers)
    return r.status_code


def stored(env: Env) -> int:
    with env.client.app.state.service.db.session() as s:  # type: ignore[attr-defined]
        return int(s.execute(select(func.count(PulseRow.id))).scalar_one())


def test_credentials(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    t = time.time() - 1
    caplog.set_level(logging.WARNING, "shotwatch.ingest")
    assert env.client.post("/api/v1/pulses", json=report("S000", t)).status_code == 401
    bad = {"authorization": "Bearer swt_not-a-real-token"}
    assert env.client.post("/api/v1/pulses", json=report("S000", t), headers=bad).status_code == 401
    # a sensor may only report as itself
    assert post(env, report("S001", t), sid="S000") == 403
    # revoked credentials
    admin = env.as_("admin")
    assert env.client.post("/api/v1/sensors/S002/revoke", headers=admin).status_code == 200
    assert post(env, report("S002", t), sid="S002") == 403
    assert stored(env) == 0
    reasons = " ".join(r.getMessage() for r in caplog.records)
    assert "missing sensor credential" in reasons
    assert "unknown sensor credential" in reasons
    assert "revoked" in reasons


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 422),
        (b"[1, 2]", 422),
        (json.dumps({"sensor_id": "S000"}).encode(), 422),
        (json.dumps({"sensor_id": "S000", "t_utc": "yesterday"}).encode(), 422),
        (json.dumps({"sensor_id": "S000", "t_utc": "2026-01-01T00:00:00"}).encode(), 422),
        (b"\xff\xfe garbage", 422),
    ],
)
def test_malformed_reports(env: Env, body: bytes, status: int) -> None:
    assert post(env, None, raw=body) == status
    assert stored(env) == 0


def test_bad_fields_and_clips(env: Env) -> None:
    t = time.time() - 1
    assert post(env, report("S000", t, score=1.5)) == 422
    assert post(env, report("S000", t, clip="%%%not-base64")) == 422
    assert post(env, report("S000", t, clip=base64.b64encode(b"RIFF" + b"\0" * 64).decode())) == 422
    assert post(env, report("S000", t, clip=wav_b64(seconds=8.0))) == 413  # too long a clip
    assert post(env, None, raw=b"{" + b" " * (600 * 1024) + b"}") == 413  # oversized body
    assert post(env, report("S000", time.time() - 3600)) == 422  # stale
    assert post(env, report("S000", time.time() + 3600)) == 422  # from the future
    assert post(env, report("S000", t, pulse_uuid="u" * 65)) == 422  # wider than its column
    assert post(env, report("S000", t, pulse_uuid="u\x00")) == 422
    assert post(env, report("S000", t, pulse_uuid=17)) == 422  # (was silently dropped)
    assert stored(env) == 0


def test_replays_rejected_and_original_kept(env: Env) -> None:
    t = time.time() - 1
    first = report("S000", t, score=0.9, pulse_uuid="u-1")
    assert post(env, first) == 202
    again = dict(first, gunshot_score=0.1)
    assert post(env, again) == 409  # same sensor and time
    moved = report("S000", t + 0.5, pulse_uuid="u-1")
    assert post(env, moved) == 409  # same pulse_uuid
    assert post(env, report("S000", t + 1.0, pulse_uuid="u-2")) == 202
    assert stored(env) == 2
    with env.client.app.state.service.db.session() as s:  # type: ignore[attr-defined]
        scores = sorted(r.gunshot_score for r in s.execute(select(PulseRow)).scalars())
    assert scores == [0.9, 0.95]


def test_accepted_pulses_all_stored_under_concurrency(env: Env) -> None:
    import concurrent.futures as cf

    t0 = time.time() - 2
    sids = list(env.sensors)
    bodies = [(sids[i % len(sids)], report(sids[i % len(sids)], t0 + i * 0.01)) for i in range(60)]

    def send(x: tuple[str, dict[str, object]]) -> int:
        return post(env, x[1], sid=x[0])

    with cf.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(send, bodies))
    assert codes.count(202) == 60
    assert stored(env) == 60
