"""The bus interface: publish bytes on dot-separated subjects, subscribe with wildcards.

Subjects are dot-separated tokens (``pulses.S017``, ``incidents``, ``alerts``). In a
subscription pattern ``*`` matches exactly one token and ``>`` (last token only) matches
one or more remaining tokens, as in NATS. Every implementation delivers each message to
every plain subscription whose pattern matches, and to exactly one member of each queue
``group``. Handlers run in the background, one message at a time per subscription, so a
slow handler delays only its own subscription, never a publisher.

Foreign exceptions (aiomqtt, nats-py, OS errors) are mapped to :class:`BusError` at this
boundary (httpx ``map_exceptions`` style).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Protocol, Self

from shotwatch.errors import ShotwatchError

logger = logging.getLogger("shotwatch.bus")

Handler = Callable[[str, bytes], Awaitable[None]]
"""An async callback receiving ``(subject, payload)``."""

_FORBIDDEN = frozenset(" \t\r\n/+#$")


class BusError(ShotwatchError):
    """The bus cannot do what was asked: not connected, broker down, bad subject."""


class Subscription(Protocol):
    """What :meth:`Bus.subscribe` returns."""

    async def unsubscribe(self) -> None:
        """Stop delivering to the handler (a durable consumer keeps its position)."""
        ...


def _tokens(text: str, what: str) -> list[str]:
    if not isinstance(text, str) or not text:
        raise BusError(f"{what} must be a non-empty string, got {text!r}")
    toks = text.split(".")
    for tok in toks:
        if not tok:
            raise BusError(f"{what} {text!r} has an empty token")
        if any(c in _FORBIDDEN for c in tok):
            raise BusError(f"{what} {text!r} contains a forbidden character (space / + # $)")
    return toks


def validate_subject(subject: str) -> str:
    """Check a publish subject (no wildcards); return it unchanged."""
    for tok in _tokens(subject, "subject"):
        if tok in ("*", ">") or "*" in tok or ">" in tok:
            raise BusError(f"cannot publish to a wildcard subject {subject!r}")
    return subject


def validate_pattern(pattern: str) -> str:
    """Check a subscription pattern (``*`` one token, ``>`` the rest); return it unchanged."""
    toks = _tokens(pattern, "subject pattern")
    for i, tok in enumerate(toks):
        if tok not in ("*", ">") and ("*" in tok or ">" in tok):
            raise BusError(f"wildcards must be whole tokens in {pattern!r}")
        if tok == ">" and i != len(toks) - 1:
            raise BusError(f"'>' must be the last token in {pattern!r}")
    return pattern


def subject_matches(pattern: str, subject: str) -> bool:
    """True if ``subject`` matches ``pattern`` (NATS semantics: ``>`` needs >= 1 token)."""
    pt = pattern.split(".")
    st = subject.split(".")
    for i, p in enumerate(pt):
        if p == ">":
            return len(st) > i
        if i >= len(st):
            return False
        if p != "*" and p != st[i]:
            return False
    return len(st) == len(pt)


def validate_name(name: str | None, what: str) -> str | None:
    """Queue-group and durable names: letters, digits, ``-`` and ``_`` only."""
    if name is None:
        return None
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise BusError(f"{what} name must be letters, digits, '-' or '_', got {name!r}")
    return name


async def run_handler(handler: Handler, subject: str, payload: bytes) -> bool:
    """Call a handler; log (never raise) its failure. Returns True if it succeeded."""
    try:
        await handler(subject, payload)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("bus handler failed on subject %s", subject)
        return False
    return True


class Bus(ABC):
    """An async message bus. Use as ``async with connect_url(url) as bus: ...``."""

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection (idempotent is not required; call once)."""

    @abstractmethod
    async def publish(self, subject: str, payload: bytes) -> None:
        """Publish ``payload`` on ``subject``; returns once the broker has accepted it."""

    @abstractmethod
    async def subscribe(
        self,
        subject: str,
        handler: Handler,
        *,
        group: str | None = None,
        durable: str | None = None,
    ) -> Subscription:
        """Deliver messages matching ``subject`` to ``handler``.

        ``group``: queue group; each message goes to one member of the group.
        ``durable``: a named consumer that survives restarts (NATS; MQTT persistent session).
        """

    @abstractmethod
    async def close(self) -> None:
        """Stop all subscriptions and close the connection."""

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
