"""The in-process bus and the subject rules every bus shares."""

from __future__ import annotations

import asyncio
import logging

import pytest
from busutil import Recorder, wait_for

from shotwatch.bus import BusError, InProcessBus, connect_url, subject_matches
from shotwatch.bus.base import validate_pattern, validate_subject


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("pulses.S017", "pulses.S017", True),
        ("pulses.*", "pulses.S017", True),
        ("pulses.*", "pulses", False),
        ("pulses.*", "pulses.S017.extra", False),
        ("pulses.>", "pulses.S017.extra", True),
        ("pulses.>", "pulses", False),
        (">", "alerts", True),
        ("*.S017", "pulses.S017", True),
        ("*.S017", "pulses.S018", False),
        ("incidents", "alerts", False),
    ],
)
def test_subject_matches(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


@pytest.mark.parametrize("bad", ["", "a..b", "a.>.b", "a.b*", "a b", "a/b", "a.#", "x+"])
def test_bad_patterns_raise_bus_error(bad: str) -> None:
    with pytest.raises(BusError):
        validate_pattern(bad)


@pytest.mark.parametrize("bad", ["a.*", "a.>", "", "a..b"])
def test_publish_subject_may_not_be_wildcard(bad: str) -> None:
    with pytest.raises(BusError):
        validate_subject(bad)


def test_connect_url_schemes() -> None:
    assert isinstance(connect_url("memory://"), InProcessBus)
    assert type(connect_url("mqtt://127.0.0.1:1883")).__name__ == "MqttBus"
    assert type(connect_url("nats://127.0.0.1:4222?stream=X1&prefix=p1")).__name__ == "NatsBus"
    for bad in ("kafka://x", "nats://h:99999", "mqtt://h?bogus=1", "nats://h?ack_wait=soon"):
        with pytest.raises(BusError):
            connect_url(bad)


def test_roundtrip_and_wildcards() -> None:
    async def main() -> None:
        async with InProcessBus() as bus:
            exact, star, rest = Recorder(), Recorder(), Recorder()
            await bus.subscribe("pulses.S1", exact)
            await bus.subscribe("pulses.*", star)
            await bus.subscribe(">", rest)
            await bus.publish("pulses.S1", b"one")
            await bus.publish("pulses.S2", b"two")
            await bus.publish("incidents", b"three")
            await bus.join()
            assert exact.got == [("pulses.S1", b"one")]
            assert star.got == [("pulses.S1", b"one"), ("pulses.S2", b"two")]
            assert [p for _, p in rest.got] == [b"one", b"two", b"three"]

    asyncio.run(main())


def test_queue_group_splits_messages_and_plain_subscribers_get_all() -> None:
    async def main() -> None:
        async with InProcessBus() as bus:
            a, b, everyone = Recorder(), Recorder(), Recorder()

            async def slow_a(subject: str, payload: bytes) -> None:
                await asyncio.sleep(0.002)
                await a(subject, payload)

            await bus.subscribe("pulses.*", slow_a, group="locator")
            await bus.subscribe("pulses.*", b, group="locator")
            await bus.subscribe("pulses.*", everyone)
            for i in range(100):
                await bus.publish(f"pulses.S{i % 7}", str(i).encode())
            await bus.join()
            got = sorted(int(p) for _, p in a.got + b.got)
            assert got == list(range(100)), "each message exactly once within the group"
            assert a.got and b.got, "both members must get work"
            assert len(everyone.got) == 100

    asyncio.run(main())


def test_slow_handler_does_not_block_publisher_or_others() -> None:
    async def main() -> None:
        async with InProcessBus() as bus:
            gate = asyncio.Event()
            fast = Recorder()

            async def stuck(subject: str, payload: bytes) -> None:
                await gate.wait()

            await bus.subscribe("a", stuck)
            await bus.subscribe("a", fast)
            for i in range(50):
                await asyncio.wait_for(bus.publish("a", bytes([i])), timeout=1.0)
            assert await wait_for(lambda: len(fast.got) == 50, 2.0)
            gate.set()
            await bus.join()

    asyncio.run(main())


def test_handler_error_is_logged_and_bus_survives(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with InProcessBus() as bus:
            ok = Recorder()

            async def boom(subject: str, payload: bytes) -> None:
                if payload == b"bad":
                    raise RuntimeError("handler exploded")
                await ok(subject, payload)

            await bus.subscribe("x.*", boom)
            await bus.publish("x.1", b"bad")
            await bus.publish("x.2", b"good")
            await bus.join()
            assert ok.got == [("x.2", b"good")]

    with caplog.at_level(logging.ERROR, logger="shotwatch.bus"):
        asyncio.run(main())
    assert any("handler failed" in r.getMessage() for r in caplog.records)


def test_unsubscribe_stops_delivery_and_not_connected_raises() -> None:
    async def main() -> None:
        bus = InProcessBus()
        with pytest.raises(BusError):
            await bus.publish("a", b"x")
        await bus.connect()
        rec = Recorder()
        sub = await bus.subscribe("a", rec)
        await bus.publish("a", b"1")
        await bus.join()
        await sub.unsubscribe()
        await bus.publish("a", b"2")
        await bus.join()
        assert rec.got == [("a", b"1")]
        await bus.close()

    asyncio.run(main())


def test_full_queue_drops_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with InProcessBus(max_pending=3) as bus:
            gate = asyncio.Event()

            async def stuck(subject: str, payload: bytes) -> None:
                await gate.wait()

            await bus.subscribe("a", stuck)
            for _ in range(10):
                await bus.publish("a", b"x")
            gate.set()
            await bus.join()

    with caplog.at_level(logging.WARNING, logger="shotwatch.bus"):
        asyncio.run(main())
    assert any("dropped" in r.getMessage() for r in caplog.records)
