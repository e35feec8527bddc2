"""MqttBus against the real Mosquitto on 127.0.0.1:1883."""

from __future__ import annotations

import asyncio

import pytest
from busutil import CuttableProxy, Recorder, unique, wait_for

from shotwatch.bus import BusError, connect_url
from shotwatch.bus.mqtt import MqttBus, subject_to_topic, topic_to_subject

pytestmark = pytest.mark.services
URL = "mqtt://127.0.0.1:1883"


def test_topic_mapping() -> None:
    assert subject_to_topic("pulses.*", "sw") == "sw/pulses/+"
    assert subject_to_topic("pulses.>", "") == "pulses/#"
    assert topic_to_subject("sw/pulses/S1", "sw") == "pulses.S1"
    assert topic_to_subject("other/pulses/S1", "sw") is None


def test_mqtt_roundtrip_and_wildcards() -> None:
    async def main() -> None:
        prefix = unique("t")
        async with connect_url(f"{URL}?prefix={prefix}") as bus:
            one, star, rest = Recorder(), Recorder(), Recorder()
            await bus.subscribe("pulses.S1", one)
            await bus.subscribe("pulses.*", star)
            await bus.subscribe("pulses.>", rest)
            await bus.publish("pulses.S1", b"\x00bin\xff")
            await bus.publish("pulses.S2", b"two")
            await bus.publish("pulses.S2.extra", b"three")
            await bus.publish("alerts", b"not for us")
            assert await wait_for(lambda: len(rest.got) == 3)
            assert await wait_for(lambda: len(star.got) == 2)
            await asyncio.sleep(0.2)
            assert one.got == [("pulses.S1", b"\x00bin\xff")]
            assert sorted(star.got) == [("pulses.S1", b"\x00bin\xff"), ("pulses.S2", b"two")]
            assert sorted(p for _, p in rest.got) == [b"\x00bin\xff", b"three", b"two"]

    asyncio.run(main())


def test_mqtt_between_two_clients_with_shared_subscription() -> None:
    async def main() -> None:
        prefix = unique("t")
        url = f"{URL}?prefix={prefix}"
        a, b, c = Recorder(), Recorder(), Recorder()
        async with connect_url(url) as pub, connect_url(url) as w1, connect_url(url) as w2:
            await w1.subscribe("pulses.*", a, group="loc")
            await w2.subscribe("pulses.*", b, group="loc")
            await w2.subscribe("pulses.*", c)
            for i in range(40):
                await pub.publish(f"pulses.S{i}", str(i).encode())
            assert await wait_for(lambda: len(a.got) + len(b.got) == 40 and len(c.got) == 40)
            await asyncio.sleep(0.2)
            assert sorted(int(p) for _, p in a.got + b.got) == list(range(40))
            assert a.got and b.got

    asyncio.run(main())


def test_mqtt_errors_are_bus_errors() -> None:
    async def main() -> None:
        with pytest.raises(BusError):
            await MqttBus("127.0.0.1", 1, timeout=2).connect()
        bus = MqttBus()
        with pytest.raises(BusError):
            await bus.publish("a", b"x")
        async with MqttBus(prefix=unique("t")) as bus2:
            with pytest.raises(BusError):
                await bus2.subscribe("a", Recorder(), durable="d")

    asyncio.run(main())


def test_mqtt_persistent_session_gets_messages_queued_while_offline() -> None:
    async def main() -> None:
        prefix = unique("t")
        client_id = unique("durable")
        got = Recorder()
        async with MqttBus(prefix=prefix, client_id=client_id, persistent=True) as bus:
            await bus.subscribe("jobs.*", got, durable="jobs")
        async with MqttBus(prefix=prefix) as pub:
            await pub.publish("jobs.a", b"1")
            await pub.publish("jobs.b", b"2")
        later = Recorder()
        async with MqttBus(prefix=prefix, client_id=client_id, persistent=True) as bus:
            await asyncio.sleep(0.2)  # queued messages arrive before the subscription
            await bus.subscribe("jobs.*", later, durable="jobs")
            assert await wait_for(lambda: len(later.got) == 2)
        assert got.got == []
        assert sorted(later.got) == [("jobs.a", b"1"), ("jobs.b", b"2")]
        # end the persistent session on the broker
        async with MqttBus(prefix=prefix, client_id=client_id) as bus:
            pass

    asyncio.run(main())


def test_mqtt_bus_reconnects_and_resubscribes_after_connection_loss() -> None:
    async def main() -> None:
        proxy = CuttableProxy(1883)
        await proxy.start()
        prefix = unique("t")
        got = Recorder()
        try:
            async with (
                MqttBus(port=proxy.port, prefix=prefix) as bus,
                MqttBus(prefix=prefix) as pub,
            ):
                await bus.subscribe("alerts", got)
                await pub.publish("alerts", b"before")
                assert await wait_for(lambda: len(got.got) == 1)
                proxy.cut()
                assert await wait_for(lambda: bus._error is not None, 5.0)
                with pytest.raises(BusError):
                    await bus.publish("alerts", b"while down")
                assert await wait_for(lambda: bus._error is None, 10.0), "no reconnect"
                await pub.publish("alerts", b"after")
                assert await wait_for(lambda: len(got.got) == 2, 5.0)
                await bus.publish("alerts", b"own")
                assert await wait_for(lambda: len(got.got) == 3, 5.0)
        finally:
            await proxy.stop()
        assert [p for _, p in got.got] == [b"before", b"after", b"own"]

    asyncio.run(main())
