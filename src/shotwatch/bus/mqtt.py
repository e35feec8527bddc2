"""MQTT bus (``mqtt://host:port``) on aiomqtt, MQTT 5, QoS 1.

Subjects map to topics under a prefix: ``pulses.S017`` -> ``shotwatch/pulses/S017``;
``*`` -> ``+`` and ``>`` -> ``#``. A queue ``group`` becomes an MQTT 5 shared
subscription ``$share/<group>/<topic>`` (Mosquitto >= 2, NATS' MQTT gateway). Each
subscription gets an MQTT 5 subscription identifier, so a message is routed to exactly
the subscriptions the broker delivered it for, even when patterns overlap.

``durable`` needs a persistent session (``MqttBus(client_id=..., persistent=True)``):
MQTT keeps unacknowledged QoS 1 messages per client, not per subscription. After a lost
connection the bus reconnects in the background and subscribes again; until then
:meth:`publish` raises :class:`BusError` (the sensor transport spools and retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import uuid
from collections import deque
from typing import Any

from shotwatch.bus.base import (
    Bus,
    BusError,
    Handler,
    logger,
    run_handler,
    subject_matches,
    validate_name,
    validate_pattern,
    validate_subject,
)


def subject_to_topic(subject: str, prefix: str = "") -> str:
    """``a.*.>`` -> ``<prefix>/a/+/#``."""
    parts = ["+" if t == "*" else "#" if t == ">" else t for t in subject.split(".")]
    return "/".join(([prefix] if prefix else []) + parts)


def topic_to_subject(topic: str, prefix: str = "") -> str | None:
    """``<prefix>/a/b`` -> ``a.b``; None if the topic is outside the prefix."""
    if prefix:
        head = prefix + "/"
        if not topic.startswith(head):
            return None
        topic = topic[len(head) :]
    if not topic or any("." in t or not t for t in topic.split("/")):
        return None
    return topic.replace("/", ".")


class _MqttSubscription:
    def __init__(self, bus: MqttBus, sid: int, pattern: str, topic: str, handler: Handler) -> None:
        self._bus = bus
        self.sid = sid
        self.pattern = pattern
        self.topic = topic
        self._handler = handler
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._task: asyncio.Task[None] = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            subject, payload = await self.queue.get()
            await run_handler(self._handler, subject, payload)

    async def _stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def unsubscribe(self) -> None:
        await self._bus._unsubscribe(self)


class MqttBus(Bus):
    """MQTT 5 bus over aiomqtt.

    :param host: broker host. :param port: broker port (1883).
    :param prefix: topic prefix (``shotwatch``), so subject ``pulses.S1`` is topic
        ``shotwatch/pulses/S1``; ``""`` for none.
    :param client_id: MQTT client identifier (random if None).
    :param persistent: keep the session (and queued QoS 1 messages) across reconnects.
    :param timeout: seconds to wait for the broker on connect / publish / subscribe.
    :param reconnect: after a lost connection, reconnect in the background (backoff up to
        30 s) and subscribe again; publishes in the meantime raise :class:`BusError`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        prefix: str = "shotwatch",
        client_id: str | None = None,
        persistent: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        reconnect: bool = True,
    ) -> None:
        if persistent and client_id is None:
            raise BusError("a persistent MQTT session needs a fixed client_id")
        if (prefix and any(c in prefix for c in "+#")) or prefix.startswith("$"):
            raise BusError(f"bad MQTT topic prefix {prefix!r}")
        self.host = host
        self.port = port
        self.prefix = prefix.strip("/")
        self.client_id = client_id or f"shotwatch-{uuid.uuid4().hex[:16]}"
        self.persistent = persistent
        self._username = username
        self._password = password
        self.timeout = timeout
        self.reconnect = reconnect
        self._client: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._subs: dict[int, _MqttSubscription] = {}
        # Persistent session: the broker replays queued messages as soon as we connect,
        # before the application has subscribed again; keep them until it does.
        self._orphans: deque[tuple[str, bytes]] = deque(maxlen=10_000)
        self._ids = itertools.count(1)
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"MqttBus({self.host}:{self.port}, prefix={self.prefix!r})"

    async def _open(self) -> Any:
        import aiomqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 7 * 24 * 3600 if self.persistent else 0
        client = aiomqtt.Client(
            self.host,
            self.port,
            identifier=self.client_id,
            username=self._username,
            password=self._password,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=not self.persistent,
            properties=props,
            timeout=self.timeout,
            max_inflight_messages=100,
            logger=logging.getLogger("shotwatch.bus.mqtt.client"),
        )
        try:
            await client.__aenter__()
        except aiomqtt.MqttError as e:
            raise BusError(f"cannot connect to MQTT broker {self.host}:{self.port}: {e}") from None
        return client

    async def connect(self) -> None:
        self._client = await self._open()
        self._error = None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        import aiomqtt

        while True:
            client = self._client
            try:
                async for msg in client.messages:
                    self._dispatch(str(msg.topic), msg.payload, msg.properties)
            except aiomqtt.MqttError as e:
                self._error = e
                logger.error("MQTT bus %s:%d lost its connection: %s", self.host, self.port, e)
            if not self.reconnect:
                return
            await self._reconnect(client)

    async def _reconnect(self, old: Any) -> None:
        """Reopen the connection (backoff 0.5 s doubling to 30 s) and subscribe again."""
        import aiomqtt

        with contextlib.suppress(Exception):
            await old.__aexit__(None, None, None)
        delay = 0.5
        while True:
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(30.0, delay * 2)
            try:
                client = await self._open()
            except BusError as e:
                logger.warning("MQTT bus: reconnect failed: %s", e)
                continue
            try:
                for sub in list(self._subs.values()):
                    await client.subscribe(
                        sub.topic, qos=1, properties=self._sub_props(sub.sid), timeout=self.timeout
                    )
            except (aiomqtt.MqttError, TimeoutError) as e:
                logger.warning("MQTT bus: re-subscribing failed: %s", e)
                with contextlib.suppress(Exception):
                    await client.__aexit__(None, None, None)
                continue
            self._client = client
            self._error = None
            logger.warning("MQTT bus %s:%d reconnected", self.host, self.port)
            return

    @staticmethod
    def _sub_props(sid: int) -> Any:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.SUBSCRIBE)  # type: ignore[no-untyped-call]
        props.SubscriptionIdentifier = sid
        return props

    def _dispatch(self, topic: str, payload: Any, properties: Any) -> None:
        subject = topic_to_subject(topic, self.prefix)
        if subject is None:
            return
        if isinstance(payload, str):
            data = payload.encode()
        elif isinstance(payload, bytes | bytearray):
            data = bytes(payload)
        else:
            data = b"" if payload is None else str(payload).encode()
        ids = getattr(properties, "SubscriptionIdentifier", None) if properties else None
        if isinstance(ids, int):
            ids = [ids]
        if ids:
            targets = [self._subs[i] for i in ids if i in self._subs]
        else:
            targets = [s for s in self._subs.values() if subject_matches(s.pattern, subject)]
        for sub in targets:
            sub.queue.put_nowait((subject, data))
        if not targets and self.persistent:
            self._orphans.append((subject, data))

    def _check(self) -> Any:
        if self._client is None:
            raise BusError("MQTT bus is not connected")
        if self._error is not None:
            raise BusError(f"MQTT connection lost: {self._error}")
        return self._client

    async def publish(self, subject: str, payload: bytes) -> None:
        import aiomqtt

        client = self._check()
        validate_subject(subject)
        try:
            await client.publish(
                subject_to_topic(subject, self.prefix), bytes(payload), qos=1, timeout=self.timeout
            )
        except (aiomqtt.MqttError, TimeoutError) as e:
            raise BusError(f"MQTT publish to {subject!r} failed: {e}") from None

    async def subscribe(
        self,
        subject: str,
        handler: Handler,
        *,
        group: str | None = None,
        durable: str | None = None,
    ) -> _MqttSubscription:
        import aiomqtt

        client = self._check()
        validate_pattern(subject)
        validate_name(group, "group")
        validate_name(durable, "durable")
        if durable is not None and not self.persistent:
            raise BusError(
                "durable MQTT subscriptions need a persistent session: "
                "MqttBus(client_id=..., persistent=True)"
            )
        topic = subject_to_topic(subject, self.prefix)
        if group is not None:
            topic = f"$share/{group}/{topic}"
        sid = next(self._ids)
        sub = _MqttSubscription(self, sid, subject, topic, handler)
        self._subs[sid] = sub
        try:
            codes = await client.subscribe(
                topic, qos=1, properties=self._sub_props(sid), timeout=self.timeout
            )
        except (aiomqtt.MqttError, TimeoutError) as e:
            del self._subs[sid]
            await sub._stop()
            raise BusError(f"MQTT subscribe to {subject!r} failed: {e}") from None
        for code in codes:
            value = getattr(code, "value", code)
            if isinstance(value, int) and value >= 0x80:
                del self._subs[sid]
                await sub._stop()
                raise BusError(f"MQTT broker refused subscription {topic!r}: {code}")
        if self._orphans:
            keep: deque[tuple[str, bytes]] = deque(maxlen=self._orphans.maxlen)
            for subject_, data in self._orphans:
                if subject_matches(subject, subject_):
                    sub.queue.put_nowait((subject_, data))
                else:
                    keep.append((subject_, data))
            self._orphans = keep
        return sub

    async def _unsubscribe(self, sub: _MqttSubscription) -> None:
        import aiomqtt

        if self._subs.pop(sub.sid, None) is None:
            return
        await sub._stop()
        if self._client is not None and self._error is None:
            try:
                await self._client.unsubscribe(sub.topic, timeout=self.timeout)
            except (aiomqtt.MqttError, TimeoutError) as e:
                logger.warning("MQTT unsubscribe %r failed: %s", sub.topic, e)

    async def close(self) -> None:
        for sub in list(self._subs.values()):
            await sub._stop()
        self._subs.clear()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except Exception as e:  # the broker may already be gone
                logger.debug("MQTT disconnect: %s", e)
