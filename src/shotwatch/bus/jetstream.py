"""NATS JetStream bus (``nats://host:port``): durable, replayable, consumer groups.

All subjects live under a prefix (``shotwatch.pulses.S017``) captured by one stream
(``SHOTWATCH``), created on connect if missing. Subscriptions are push consumers with
explicit acknowledgement: a message is acked after its handler returns and nak'ed (so
redelivered after ``redeliver_delay`` s) if the handler raises - at-least-once delivery.
A message that is neither acked nor nak'ed (the process died) comes back after
``ack_wait`` s. ``durable`` names a consumer that survives restarts and resumes where it
stopped; ``group`` is a queue group: its members share one durable consumer named after
the group, and each message goes to one of them.

A *new* consumer starts at new messages by default; ``deliver="all"``, ``"last"``,
``start_seq=`` or ``start_time=`` (epoch s) replay the stream. An existing durable
keeps its position and ignores these.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Literal

from shotwatch.bus.base import (
    Bus,
    BusError,
    Handler,
    logger,
    run_handler,
    validate_name,
    validate_pattern,
    validate_subject,
)

DeliverFrom = Literal["new", "all", "last"]


class _NatsSubscription:
    def __init__(self, psub: Any) -> None:
        self._psub = psub
        self._done = False

    async def unsubscribe(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            await self._psub.unsubscribe()
        except Exception as e:  # connection already closed: nothing left to stop
            logger.debug("NATS unsubscribe: %s", e)


class NatsBus(Bus):
    """JetStream bus over nats-py.

    :param servers: ``nats://host:port`` (or a list).
    :param stream: stream name. :param prefix: subject prefix the stream captures.
    :param ack_wait: seconds before an unacknowledged message is redelivered.
    :param max_deliver: deliveries of one message before giving up on it (-1: no limit).
    :param redeliver_delay: seconds before redelivery after a failed handler.
    :param max_age: seconds the stream keeps messages (0: forever).
    """

    def __init__(
        self,
        servers: str | list[str] = "nats://127.0.0.1:4222",
        *,
        stream: str = "SHOTWATCH",
        prefix: str = "shotwatch",
        ack_wait: float = 30.0,
        max_deliver: int = 20,
        redeliver_delay: float = 1.0,
        max_age: float = 7 * 24 * 3600.0,
        connect_timeout: float = 5.0,
    ) -> None:
        validate_name(stream, "stream")
        validate_subject(prefix)
        self.servers = [servers] if isinstance(servers, str) else list(servers)
        self.stream = stream
        self.prefix = prefix
        self.ack_wait = ack_wait
        self.max_deliver = max_deliver
        self.redeliver_delay = redeliver_delay
        self.max_age = max_age
        self.connect_timeout = connect_timeout
        self._nc: Any = None
        self._js: Any = None
        self._subs: list[_NatsSubscription] = []

    def __repr__(self) -> str:
        return f"NatsBus({','.join(self.servers)}, stream={self.stream!r}, prefix={self.prefix!r})"

    async def connect(self) -> None:
        import nats
        import nats.errors
        import nats.js.errors

        async def on_error(e: Exception) -> None:
            logger.warning("NATS: %s", e)

        async def on_disconnect() -> None:
            logger.warning("NATS: disconnected from %s", ",".join(self.servers))

        try:
            nc = await nats.connect(
                servers=self.servers,
                connect_timeout=max(1, round(self.connect_timeout)),
                # A few tries to come up, then (below) reconnect forever once connected.
                max_reconnect_attempts=2,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
            )
        except (nats.errors.Error, OSError, TimeoutError) as e:
            raise BusError(f"cannot connect to NATS {','.join(self.servers)}: {e}") from None
        nc.options["max_reconnect_attempts"] = -1
        self._nc = nc
        self._js = nc.jetstream()
        try:
            await self._ensure_stream()
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError, BusError) as e:
            await nc.close()
            self._nc = self._js = None
            if isinstance(e, BusError):
                raise
            raise BusError(f"cannot set up JetStream stream {self.stream!r}: {e}") from None

    async def _ensure_stream(self) -> None:
        import nats.js.errors
        from nats.js.api import StreamConfig

        subjects = [f"{self.prefix}.>"]
        try:
            info = await self._js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            cfg = StreamConfig(
                name=self.stream,
                subjects=subjects,
                max_age=self.max_age if self.max_age > 0 else None,
            )
            await self._js.add_stream(cfg)
            return
        if subjects[0] not in (info.config.subjects or []):
            raise BusError(
                f"stream {self.stream!r} exists but does not capture {subjects[0]!r} "
                f"(it has {info.config.subjects})"
            )

    def _check(self) -> Any:
        if self._js is None or self._nc is None or self._nc.is_closed:
            raise BusError("NATS bus is not connected")
        return self._js

    async def publish(self, subject: str, payload: bytes) -> None:
        import nats.errors
        import nats.js.errors

        js = self._check()
        validate_subject(subject)
        try:
            await js.publish(f"{self.prefix}.{subject}", bytes(payload), stream=self.stream)
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as e:
            raise BusError(f"NATS publish to {subject!r} failed: {e!r}") from None

    async def subscribe(
        self,
        subject: str,
        handler: Handler,
        *,
        group: str | None = None,
        durable: str | None = None,
        deliver: DeliverFrom = "new",
        start_seq: int | None = None,
        start_time: float | None = None,
    ) -> _NatsSubscription:
        import nats.errors
        import nats.js.errors
        from nats.aio.msg import Msg
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        js = self._check()
        validate_pattern(subject)
        validate_name(group, "group")
        validate_name(durable, "durable")
        if group is not None and durable is not None and group != durable:
            raise BusError(
                "a NATS queue group is one durable consumer named after the group; "
                f"pass the same name or only one (group={group!r}, durable={durable!r})"
            )
        if start_seq is not None and start_time is not None:
            raise BusError("give start_seq or start_time, not both")
        if start_seq is not None:
            if start_seq < 1:
                raise BusError(f"start_seq must be >= 1, got {start_seq}")
            policy = DeliverPolicy.BY_START_SEQUENCE
        elif start_time is not None:
            policy = DeliverPolicy.BY_START_TIME
        else:
            try:
                policy = {
                    "new": DeliverPolicy.NEW,
                    "all": DeliverPolicy.ALL,
                    "last": DeliverPolicy.LAST,
                }[deliver]
            except KeyError:
                raise BusError(f"deliver must be new, all or last, got {deliver!r}") from None
        config = ConsumerConfig(
            deliver_policy=policy,
            opt_start_seq=start_seq,
            opt_start_time=(
                datetime.fromtimestamp(start_time, tz=UTC) if start_time is not None else None
            ),
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            max_deliver=self.max_deliver,
        )
        full = f"{self.prefix}.{subject}"
        cut = len(self.prefix) + 1
        delay = self.redeliver_delay

        max_deliver = self.max_deliver

        async def on_msg(msg: Msg) -> None:
            ok = await run_handler(handler, msg.subject[cut:], msg.data)
            try:
                if ok:
                    await msg.ack()
                elif 0 < max_deliver <= msg.metadata.num_delivered:
                    logger.error(
                        "NATS: giving up on %s (stream seq %s) after %d failed deliveries",
                        msg.subject,
                        msg.metadata.sequence.stream if msg.metadata.sequence else "?",
                        msg.metadata.num_delivered,
                    )
                    await msg.term()
                else:
                    await msg.nak(delay=delay)
            except (nats.errors.Error, nats.js.errors.Error) as e:
                logger.warning("NATS ack on %s failed: %s", msg.subject, e)

        try:
            psub = await js.subscribe(
                full,
                queue=group,
                cb=on_msg,
                durable=durable,
                stream=self.stream,
                config=config,
                manual_ack=True,
            )
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as e:
            raise BusError(f"NATS subscribe to {subject!r} failed: {e!r}") from None
        sub = _NatsSubscription(psub)
        self._subs.append(sub)
        return sub

    async def delete_stream(self) -> None:
        """Delete this bus's stream and everything in it (tests, decommissioning)."""
        import nats.errors
        import nats.js.errors

        js = self._check()
        try:
            await js.delete_stream(self.stream)
        except nats.js.errors.NotFoundError:
            return
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as e:
            raise BusError(f"cannot delete stream {self.stream!r}: {e!r}") from None

    async def close(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        self._subs.clear()
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.drain(), timeout=5.0)
            except Exception as e:  # already disconnected
                logger.debug("NATS drain: %s", e)
                await nc.close()
