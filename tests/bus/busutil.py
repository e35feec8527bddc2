"""Helpers shared by the bus tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable


def unique(prefix: str) -> str:
    """A name no other test run uses (letters, digits, '_')."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``cond`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


class Recorder:
    """A bus handler that records (subject, payload) pairs."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes]] = []

    async def __call__(self, subject: str, payload: bytes) -> None:
        self.got.append((subject, payload))
