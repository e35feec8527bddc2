"""In-process bus (``memory://``): the embedded default, pure asyncio.

Each subscription (or each queue group, keyed by group name and pattern) owns a
channel: an :class:`asyncio.Queue` drained by one worker task per member, so a slow
handler delays only its own channel. Group members take messages from the shared queue,
so whichever member is idle gets the next one. A channel holds at most ``max_pending``
messages; beyond that new messages for it are dropped and logged (a stuck consumer must
not exhaust memory).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

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


@dataclass(eq=False)
class _Channel:
    pattern: str
    group: str | None
    queue: asyncio.Queue[tuple[str, bytes]]
    members: list[_MemorySubscription] = field(default_factory=list)
    dropped: int = 0


class _MemorySubscription:
    def __init__(self, bus: InProcessBus, channel: _Channel, handler: Handler) -> None:
        self._bus = bus
        self._channel = channel
        self._handler = handler
        self._task: asyncio.Task[None] = asyncio.create_task(self._run())

    async def _run(self) -> None:
        q = self._channel.queue
        while True:
            subject, payload = await q.get()
            try:
                await run_handler(self._handler, subject, payload)
            finally:
                q.task_done()

    async def unsubscribe(self) -> None:
        self._bus._remove(self)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class InProcessBus(Bus):
    """The in-process bus. ``durable`` is accepted and ignored (nothing outlives the process)."""

    def __init__(self, *, max_pending: int = 100_000) -> None:
        if max_pending < 1:
            raise BusError("max_pending must be >= 1")
        self._max_pending = max_pending
        self._channels: list[_Channel] = []
        self._groups: dict[tuple[str, str], _Channel] = {}
        self._connected = False

    async def connect(self) -> None:
        self._connected = True

    def _check(self) -> None:
        if not self._connected:
            raise BusError("bus is not connected (use 'async with' or await connect())")

    async def publish(self, subject: str, payload: bytes) -> None:
        self._check()
        validate_subject(subject)
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise BusError(f"payload must be bytes, got {type(payload).__name__}")
        data = bytes(payload)
        for ch in self._channels:
            if not subject_matches(ch.pattern, subject):
                continue
            try:
                ch.queue.put_nowait((subject, data))
            except asyncio.QueueFull:
                ch.dropped += 1
                logger.warning(
                    "in-process bus: subscription %r%s is %d messages behind; dropped (%d so far)",
                    ch.pattern,
                    f" group {ch.group!r}" if ch.group else "",
                    ch.queue.qsize(),
                    ch.dropped,
                )
        # Let the workers run even if the publisher never awaits anything else.
        await asyncio.sleep(0)

    async def subscribe(
        self,
        subject: str,
        handler: Handler,
        *,
        group: str | None = None,
        durable: str | None = None,
    ) -> _MemorySubscription:
        self._check()
        validate_pattern(subject)
        validate_name(group, "group")
        validate_name(durable, "durable")
        ch: _Channel | None = None
        if group is not None:
            ch = self._groups.get((group, subject))
        if ch is None:
            ch = _Channel(subject, group, asyncio.Queue(self._max_pending))
            self._channels.append(ch)
            if group is not None:
                self._groups[(group, subject)] = ch
        sub = _MemorySubscription(self, ch, handler)
        ch.members.append(sub)
        return sub

    def _remove(self, sub: _MemorySubscription) -> None:
        ch = sub._channel
        if sub in ch.members:
            ch.members.remove(sub)
        if not ch.members:
            if ch in self._channels:
                self._channels.remove(ch)
            if ch.group is not None:
                self._groups.pop((ch.group, ch.pattern), None)

    async def join(self) -> None:
        """Wait until every message published so far has been handled."""
        for ch in list(self._channels):
            await ch.queue.join()

    async def close(self) -> None:
        subs = [m for ch in self._channels for m in ch.members]
        for sub in subs:
            await sub.unsubscribe()
        self._connected = False
