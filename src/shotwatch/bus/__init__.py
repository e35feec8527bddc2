"""The message bus: one small async interface, three implementations.

``connect_url(url)`` picks one from a URL (nothing connects until ``connect()`` /
``async with``):

- ``memory://`` - :class:`~shotwatch.bus.memory.InProcessBus`, the embedded default;
- ``mqtt://host:port?prefix=shotwatch&client_id=ID&persistent=1`` -
  :class:`~shotwatch.bus.mqtt.MqttBus` (sensors);
- ``nats://host:port?stream=SHOTWATCH&prefix=shotwatch&ack_wait=30`` -
  :class:`~shotwatch.bus.jetstream.NatsBus` (durable, replayable, consumer groups).

Subjects map the same way everywhere: the MQTT bus puts ``pulses.S017`` on topic
``shotwatch/pulses/S017`` and the NATS bus on subject ``shotwatch.pulses.S017``, which is
what NATS' own MQTT gateway maps that topic to; so sensors may publish over MQTT to a
NATS server that the service consumes with JetStream.

Example::

    async with connect_url("nats://127.0.0.1:4222") as bus:
        await bus.subscribe("pulses.*", on_pulse, group="locator")
        await bus.publish("pulses.S017", payload)
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from shotwatch.bus.base import (
    Bus,
    BusError,
    Handler,
    Subscription,
    subject_matches,
    validate_pattern,
    validate_subject,
)
from shotwatch.bus.memory import InProcessBus

if TYPE_CHECKING:
    from shotwatch.bus.jetstream import NatsBus
    from shotwatch.bus.mqtt import MqttBus

__all__ = [
    "Bus",
    "BusError",
    "Handler",
    "InProcessBus",
    "MqttBus",
    "NatsBus",
    "Subscription",
    "connect_url",
    "subject_matches",
    "validate_pattern",
    "validate_subject",
]


def __getattr__(name: str) -> object:
    # MqttBus / NatsBus import their client libraries lazily.
    if name == "MqttBus":
        from shotwatch.bus.mqtt import MqttBus

        return MqttBus
    if name == "NatsBus":
        from shotwatch.bus.jetstream import NatsBus

        return NatsBus
    raise AttributeError(name)


def _one(q: dict[str, list[str]], key: str) -> str | None:
    v = q.pop(key, None)
    return v[-1] if v else None


def _float(q: dict[str, list[str]], key: str, url: str) -> float | None:
    v = _one(q, key)
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        raise BusError(f"{key} in bus URL {url!r} is not a number: {v!r}") from None


def connect_url(url: str) -> Bus:
    """Build (not connect) the bus a URL names. Raises :class:`BusError` for a bad URL."""
    if not isinstance(url, str):
        raise BusError(f"bus URL must be a string, got {type(url).__name__}")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        port = parts.port
    except ValueError:
        raise BusError(f"bad port in bus URL {url!r}") from None
    host = parts.hostname or "127.0.0.1"
    bus: Bus
    if scheme == "memory":
        max_pending = _float(query, "max_pending", url)
        bus = InProcessBus(max_pending=int(max_pending) if max_pending else 100_000)
    elif scheme == "mqtt":
        from shotwatch.bus.mqtt import MqttBus

        prefix = _one(query, "prefix")
        persistent = (_one(query, "persistent") or "0").lower() in ("1", "true", "yes")
        timeout = _float(query, "timeout", url)
        bus = MqttBus(
            host,
            port or 1883,
            prefix="shotwatch" if prefix is None else prefix,
            client_id=_one(query, "client_id"),
            persistent=persistent,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=10.0 if timeout is None else timeout,
        )
    elif scheme == "nats":
        from shotwatch.bus.jetstream import NatsBus

        kwargs: dict[str, float] = {}
        for key in ("ack_wait", "redeliver_delay", "max_age", "connect_timeout"):
            v = _float(query, key, url)
            if v is not None:
                kwargs[key] = v
        max_deliver = _float(query, "max_deliver", url)
        auth = ""
        if parts.username:
            auth = parts.username + (f":{parts.password}" if parts.password else "") + "@"
        bus = NatsBus(
            f"nats://{auth}{host}:{port or 4222}",
            stream=_one(query, "stream") or "SHOTWATCH",
            prefix=_one(query, "prefix") or "shotwatch",
            max_deliver=int(max_deliver) if max_deliver is not None else 20,
            **kwargs,
        )
    else:
        raise BusError(
            f"unknown bus URL {url!r} (expected memory://, mqtt://host:port, nats://...)"
        )
    if query:
        raise BusError(f"unknown option(s) {', '.join(sorted(query))} in bus URL {url!r}")
    return bus
