"""Transports against real receivers: an HTTP server in a thread, Mosquitto, a file."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sensorutil import T0, Receiver, impulse_train

from shotwatch.bus.mqtt import MqttBus
from shotwatch.formats import read_pulses
from shotwatch.sensor import (
    BusTransport,
    HttpTransport,
    JsonlTransport,
    SensorAgent,
    Spool,
    pulse_report,
)
from shotwatch.sensor.runner import run_source


def reports(n: int, sensor: str = "S001") -> list[dict[str, Any]]:
    from shotwatch.models import Pulse

    return [
        pulse_report(Pulse(sensor, T0 + i, snr_db=20.0, uid=str(uuid.uuid4()))) for i in range(n)
    ]


def test_http_delivers_in_order_after_503s() -> None:
    async def main(rx: Receiver) -> HttpTransport:
        tr = HttpTransport(rx.url, "s3cret", base_backoff=0.02, max_backoff=0.1)
        async with tr:
            for r in reports(5):
                await tr.send(r)
            assert await tr.flush(10.0)
        return tr

    with Receiver(fail_first=3) as rx:
        tr = asyncio.run(main(rx))
    assert [r["t_utc"] for r in rx.accepted] == [r["t_utc"] for r in reports(5)]
    assert len(rx.requests) == 8, "3 refused attempts, then 5 deliveries"
    assert {a for _, a, _ in rx.requests} == {"Bearer s3cret"}
    assert {p for p, _, _ in rx.requests} == {"/api/v1/pulses"}
    assert tr.delivered == 5 and tr.rejected == 0 and tr.pending == 0


def test_http_honours_retry_after() -> None:
    async def main(rx: Receiver) -> float:
        loop = asyncio.get_running_loop()
        async with HttpTransport(rx.url, "s3cret", base_backoff=0.001) as tr:
            t = loop.time()
            await tr.send(reports(1)[0])
            assert await tr.flush(10.0)
            return loop.time() - t

    with Receiver(fail_first=1, retry_after="0.4") as rx:
        assert asyncio.run(main(rx)) >= 0.4
    assert len(rx.accepted) == 1


def test_http_malformed_report_is_dropped_not_retried_forever() -> None:
    async def main(rx: Receiver) -> HttpTransport:
        async with HttpTransport(rx.url, "s3cret", base_backoff=0.01) as tr:
            await tr.send(reports(1)[0])
            assert await tr.flush(5.0)
            return tr

    with Receiver(status=422) as rx:
        tr = asyncio.run(main(rx))
    assert tr.rejected == 1 and tr.delivered == 0 and len(rx.requests) == 1


def test_disk_spool_keeps_reports_while_server_is_down(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    sent = reports(4)

    async def offline() -> None:
        # a port nobody listens on: every attempt fails
        tr = HttpTransport("http://127.0.0.1:9", "s3cret", spool=Spool(spool_dir))
        await tr.start()
        for r in sent:
            await tr.send(r)
        assert not await tr.flush(0.3)
        await tr.close(timeout=0)
        assert tr.pending == 4

    asyncio.run(offline())
    assert len(list(spool_dir.glob("*.json"))) == 4

    async def online(rx: Receiver) -> None:
        async with HttpTransport(rx.url, "s3cret", spool=Spool(spool_dir)) as tr:
            assert tr.pending == 4, "reports of the earlier run are loaded"
            await tr.send(reports(1)[0])
            assert await tr.flush(5.0)

    with Receiver() as rx:
        asyncio.run(online(rx))
    assert [r["pulse_uuid"] for r in rx.accepted[:4]] == [r["pulse_uuid"] for r in sent]
    assert len(rx.accepted) == 5
    assert list(spool_dir.glob("*.json")) == []


def test_spool_is_bounded_and_drops_oldest(caplog: pytest.LogCaptureFixture) -> None:
    sp = Spool(max_items=3)
    rs = reports(5)
    for r in rs:
        sp.put(r)
    assert len(sp) == 3 and sp.dropped == 2
    assert sp.peek() == rs[2]
    assert any("spool full" in rec.getMessage() for rec in caplog.records)


def test_spool_is_bounded_in_bytes(tmp_path: Path) -> None:
    rs = reports(10)
    size = len(json.dumps(rs[0], separators=(",", ":")))
    for directory in (None, tmp_path / "s"):
        sp = Spool(directory, max_bytes=max(1024, 4 * size + 10))
        for r in rs:
            sp.put(r)
        assert sp.nbytes <= sp.max_bytes
        assert len(sp) == min(10, sp.max_bytes // size) < 10
        assert sp.peek() == rs[10 - len(sp)]
        if directory is not None:
            assert len(list(directory.glob("*.json"))) == len(sp)


def test_unreadable_spool_file_is_dropped(tmp_path: Path) -> None:
    sp = Spool(tmp_path)
    rs = reports(2)
    for r in rs:
        sp.put(r)
    first = sorted(tmp_path.glob("*.json"))[0]
    first.write_text("{broken")
    again = Spool(tmp_path)
    assert len(again) == 2
    assert again.peek() == rs[1]
    assert again.dropped == 1 and len(again) == 1


def test_agent_to_http_end_to_end() -> None:
    sr = 16000
    x, truth = impulse_train(sr, seconds=4.0, seed=8)

    class ArraySource:
        sample_rate = sr

        def blocks(self, n: int) -> Iterator[np.ndarray]:
            for i in range(0, len(x), n):
                yield x[i : i + n]

    async def main(rx: Receiver) -> None:
        async with HttpTransport(rx.url, "s3cret", base_backoff=0.02) as tr:
            agent = SensorAgent("S001", tr, sample_rate=sr, start_utc=T0, classifier=None)
            stats = await run_source(agent, ArraySource(), block_s=0.05)
            assert stats.pulses == len(truth)
            assert await tr.flush(10.0)

    with Receiver(fail_first=2) as rx:
        asyncio.run(main(rx))
    assert len(rx.accepted) == len(truth)
    assert all(r["clip"]["encoding"] == "flac-base64" for r in rx.accepted)


def test_jsonl_transport_writes_the_pulses_contract(tmp_path: Path) -> None:
    out = tmp_path / "pulses.jsonl"

    async def main() -> None:
        async with JsonlTransport(out) as tr:
            for r in reports(3):
                await tr.send(r)

    asyncio.run(main())
    pulses = read_pulses(out)
    assert [p.t for p in pulses] == [T0, T0 + 1, T0 + 2]
    assert all(p.sensor_id == "S001" and p.snr_db == 20.0 for p in pulses)


@pytest.mark.services
def test_mqtt_transport_publishes_to_shotwatch_pulses_topic() -> None:
    sid = f"T{uuid.uuid4().hex[:8]}"
    got: list[tuple[str, bytes]] = []

    async def handler(subject: str, payload: bytes) -> None:
        got.append((subject, payload))

    async def main() -> None:
        # prefix "" so the subject is the raw topic: shotwatch/pulses/<id>
        async with MqttBus(prefix="") as listener:
            await listener.subscribe(f"shotwatch.pulses.{sid}", handler)
            async with BusTransport("mqtt://127.0.0.1:1883") as tr:
                for r in reports(3, sensor=sid):
                    await tr.send(r)
                assert await tr.flush(10.0)
            for _ in range(200):
                if len(got) == 3:
                    break
                await asyncio.sleep(0.02)

    asyncio.run(main())
    assert [s for s, _ in got] == [f"shotwatch.pulses.{sid}"] * 3
    assert [json.loads(p)["t_utc"] for _, p in got] == [r["t_utc"] for r in reports(3, sid)]


@pytest.mark.services
def test_mqtt_transport_spools_while_broker_unreachable_then_delivers() -> None:
    async def main() -> None:
        tr = BusTransport("mqtt://127.0.0.1:1", base_backoff=0.01, max_backoff=0.05)
        await tr.start()
        await tr.send(reports(1)[0])
        assert not await tr.flush(0.3)
        await tr.close(timeout=0)
        assert tr.pending == 1 and tr.attempts >= 2

    asyncio.run(main())
