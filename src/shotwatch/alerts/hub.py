"""Fan-out of live messages to connected consoles (dispatch, Mobile Alert Console, review).

Each console owns a bounded :class:`asyncio.Queue`; :meth:`AlertHub.broadcast` puts the
already-serialised message on every queue whose console may see it and returns at once,
so one slow console never delays the others. A console that falls ``max_backlog``
messages behind is disconnected (it reloads its state over HTTP when it reconnects).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

logger = logging.getLogger("shotwatch.alerts")

_ids = itertools.count(1)


@dataclass(eq=False)
class Console:
    """One connected console: who it is, what it may see, and its outgoing queue."""

    username: str
    role: str
    permissions: frozenset[str]
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(1000))
    id: int = field(default_factory=lambda: next(_ids))
    overflowed: bool = False


class AlertHub:
    """The set of connected consoles."""

    def __init__(self) -> None:
        self._consoles: set[Console] = set()

    def __len__(self) -> int:
        return len(self._consoles)

    def connect(self, username: str, role: str, permissions: Collection[str]) -> Console:
        c = Console(username, role, frozenset(permissions))
        self._consoles.add(c)
        return c

    def disconnect(self, console: Console) -> None:
        self._consoles.discard(console)

    def broadcast(self, message: str, permission: str) -> int:
        """Queue ``message`` for every console holding ``permission``; returns how many."""
        n = 0
        for c in list(self._consoles):
            if permission not in c.permissions:
                continue
            try:
                c.queue.put_nowait(message)
                n += 1
            except asyncio.QueueFull:
                logger.warning("console %s (%s) is too far behind; disconnecting", c.id, c.username)
                c.overflowed = True
                self._consoles.discard(c)
        return n

    def close_all(self) -> None:
        for c in list(self._consoles):
            try:
                c.queue.put_nowait(None)
            except asyncio.QueueFull:
                c.overflowed = True
        self._consoles.clear()
