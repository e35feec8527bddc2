"""The agent against the real pulse-ingest route of the service (uvicorn on loopback).

Guards the sensor -> server contract: route, bearer token, JSON body, FLAC clip object.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from sensorutil import impulse_train

from shotwatch.models import Incident, Pulse, Sensor, Weather
from shotwatch.sensor import HttpTransport, SensorAgent
from shotwatch.sensor.runner import run_source


class RecordingLocator:
    """Stands in for the streaming locator: records the pulses the service hands it."""

    seen: ClassVar[list[Pulse]] = []

    def __init__(self, sensors: dict[str, Sensor], weather: Weather | None) -> None:
        RecordingLocator.seen = []

    def add(self, pulse: Pulse, now: float) -> list[Incident]:
        RecordingLocator.seen.append(pulse)
        return []

    def flush(self, now: float) -> list[Incident]:
        return []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[tuple[str, str, Any]]:
    import uvicorn

    from shotwatch.settings import Settings
    from shotwatch.web.app import create_app
    from shotwatch.web.provision import provision_sensors

    settings = Settings(data_dir=tmp_path, database_url="")
    app = create_app(settings, locator_factory=RecordingLocator, seed_demo=False)
    svc = app.state.service
    tokens = provision_sensors(settings, {"S001": Sensor("S001", 38.58, -121.49, 10.0)}, svc.db)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline, "service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", tokens["S001"], svc
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.mark.slow
def test_agent_reports_are_accepted_by_the_service(live_service: tuple[str, str, Any]) -> None:
    url, token, svc = live_service
    sr = 16000
    x, truth = impulse_train(sr, seconds=4.0, seed=31)

    class ArraySource:
        sample_rate = sr

        def blocks(self, n: int) -> Iterator[np.ndarray]:
            for i in range(0, len(x), n):
                yield x[i : i + n]

    async def main() -> HttpTransport:
        async with HttpTransport(url, token, base_backoff=0.05) as tr:
            agent = SensorAgent(
                "S001", tr, sample_rate=sr, start_utc=time.time() - 5.0, classifier=None
            )
            await run_source(agent, ArraySource(), block_s=0.1)
            assert await tr.flush(20.0)
            return tr

    tr = asyncio.run(main())
    assert tr.rejected == 0, "the service refused reports: contract mismatch"
    assert tr.delivered == len(truth)
    assert svc.stats["pulses_accepted"] == len(truth)
    deadline = time.time() + 10
    while len(RecordingLocator.seen) < len(truth) and time.time() < deadline:
        time.sleep(0.05)
    seen = sorted(RecordingLocator.seen, key=lambda p: p.t)
    assert len(seen) == len(truth), "every accepted pulse reaches the locator over the bus"
    assert all(p.sensor_id == "S001" and p.snr_db is not None for p in seen)
    assert all(p.sigma_t is not None and p.sigma_t > 0 for p in seen)
