"""Where a sensor's pulse reports go: a small transport interface, three implementations.

- :class:`JsonlTransport` appends JSON Lines to a file (offline runs; the
  ``pulses.jsonl`` contract).
- :class:`HttpTransport` POSTs each report to ``<server>/api/v1/pulses`` with
  ``Authorization: Bearer <sensor token>``.
- :class:`BusTransport` publishes on the bus subject ``pulses.<sensor_id>`` (with an MQTT
  bus under the default prefix: topic ``shotwatch/pulses/<sensor_id>``).

The network transports never lose a pulse to a short outage: :meth:`Transport.send` puts
the report in a bounded :class:`Spool` (in memory, or one file per report in a directory
so it survives a restart) and a background task delivers the spool in order, retrying
with exponential backoff and jitter (honouring ``Retry-After``). Each report carries a
``pulse_uuid`` so the server can drop the duplicate a retry may cause. Only a full
spool drops reports (the oldest first, with an error in the log); a report the server
rejects as malformed (HTTP 400/413/422) is dropped with an error, as retrying cannot help.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import time
from abc import ABC, abstractmethod
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from shotwatch.errors import ConfigError, InputError, ShotwatchError

if TYPE_CHECKING:
    from shotwatch.bus.base import Bus

logger = logging.getLogger("shotwatch.sensor.transport")


class DeliveryError(ShotwatchError):
    """A report could not be delivered now; ``permanent`` if retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Transport(ABC):
    """Sends pulse reports (dicts of the pulse report contract)."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections / start background work."""

    @abstractmethod
    async def send(self, report: dict[str, Any]) -> None:
        """Queue or write one report. Never blocks on the network."""

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything sent so far is delivered; False on timeout."""
        return True

    async def close(self, timeout: float | None = 10.0) -> None:  # noqa: B027 - optional hook
        """Deliver what can be delivered within ``timeout`` s, then stop."""

    @property
    def pending(self) -> int:
        """Reports not yet delivered."""
        return 0

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class JsonlTransport(Transport):
    """Appends one JSON line per report to ``path`` (``-`` for stdout), flushed per line."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._fh: Any = None
        self.written = 0

    async def start(self) -> None:
        if self._fh is not None:
            return
        if self.path == "-":
            import sys

            self._fh = sys.stdout
            return
        try:
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise InputError(f"cannot write: {e.strerror}", self.path) from None

    async def send(self, report: dict[str, Any]) -> None:
        if self._fh is None:
            await self.start()
        try:
            self._fh.write(json.dumps(report, separators=(",", ":")) + "\n")
            self._fh.flush()
        except OSError as e:
            raise InputError(f"cannot write: {e.strerror}", self.path) from None
        self.written += 1

    async def close(self, timeout: float | None = 10.0) -> None:
        fh, self._fh = self._fh, None
        if fh is not None and self.path != "-":
            fh.close()


class Spool:
    """A bounded FIFO of reports, in memory or persisted one file per report in ``directory``.

    Bounded both in count (``max_items``) and in size (``max_bytes`` of JSON, clips
    included): when either is exceeded the oldest reports are dropped, with an error in
    the log. With a directory, only the file names are held in memory; each report is
    written atomically (temp file + rename), read back when it is next to go, and removed
    once delivered; reports left over from an earlier run are delivered first.
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        max_items: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if max_items < 1 or max_bytes < 1024:
            raise ConfigError("spool must allow at least 1 report and 1 KiB")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.directory = Path(directory) if directory is not None else None
        # (file name or None, report or None when it lives on disk, size in bytes)
        self._items: deque[tuple[str | None, dict[str, Any] | None, int]] = deque()
        self._bytes = 0
        self._seq = 0
        self.dropped = 0
        if self.directory is not None:
            self._load()

    def _load(self) -> None:
        assert self.directory is not None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            files = sorted(self.directory.glob("*.json"))
            sizes = [f.stat().st_size for f in files]
        except OSError as e:
            raise ConfigError(f"spool directory {self.directory} unusable: {e.strerror}") from None
        for f, size in zip(files, sizes, strict=True):
            self._items.append((f.name, None, size))
            self._bytes += size
            head = f.name.split("-", 1)[0]
            if head.isdigit():
                self._seq = max(self._seq, int(head) + 1)
        if files:
            logger.info("spool: %d undelivered reports from an earlier run", len(files))
        self._trim(0)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """Size of the spooled reports, bytes of JSON."""
        return self._bytes

    def _trim(self, incoming: int) -> None:
        while self._items and (
            len(self._items) + (incoming > 0) > self.max_items
            or self._bytes + incoming > self.max_bytes
        ):
            name, _, size = self._items.popleft()
            self._bytes -= size
            self._remove(name)
            self.dropped += 1
            logger.error(
                "spool full (%d reports, %d bytes max): dropped the oldest; %d dropped so far",
                self.max_items,
                self.max_bytes,
                self.dropped,
            )

    def put(self, report: dict[str, Any]) -> None:
        text = json.dumps(report, separators=(",", ":"))
        size = len(text)
        self._trim(size)
        if self.directory is not None:
            name = f"{self._seq:012d}-{os.getpid()}.json"
            self._seq += 1
            tmp = self.directory / (name + ".tmp")
            try:
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(self.directory / name)
            except OSError as e:
                logger.error("spool: cannot persist report, keeping it in memory: %s", e)
            else:
                self._items.append((name, None, size))
                self._bytes += size
                return
        self._items.append((None, report, size))
        self._bytes += size

    def peek(self) -> dict[str, Any]:
        """The oldest report (an unreadable spool file is dropped, with an error)."""
        while True:
            name, report, _ = self._items[0]
            if report is not None:
                return report
            assert self.directory is not None and name is not None
            try:
                loaded = json.loads((self.directory / name).read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                logger.error("spool: unreadable %s dropped: %s", name, e)
                self.pop()
                self.dropped += 1
                if not self._items:
                    raise IndexError("spool is empty") from None
                continue
            if isinstance(loaded, dict):
                return loaded
            logger.error("spool: %s is not a report; dropped", name)
            self.pop()
            self.dropped += 1
            if not self._items:
                raise IndexError("spool is empty")

    def pop(self) -> None:
        name, _, size = self._items.popleft()
        self._bytes -= size
        self._remove(name)

    def _remove(self, name: str | None) -> None:
        if name is not None and self.directory is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()


class RetryingTransport(Transport):
    """A transport that delivers a :class:`Spool` in order from a background task.

    Backoff after a failure: ``min(max_backoff, base_backoff * 2**k)`` s times a random
    factor in [0.5, 1], or the server's ``Retry-After`` when it gives one.
    """

    def __init__(
        self,
        *,
        spool: Spool | None = None,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.spool = spool if spool is not None else Spool()
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.delivered = 0
        self.rejected = 0
        self.attempts = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    @abstractmethod
    async def _deliver(self, report: dict[str, Any]) -> None:
        """Deliver one report or raise :class:`DeliveryError`."""

    async def _open(self) -> None:
        """Open the connection (called by :meth:`start`)."""

    async def _shutdown(self) -> None:
        """Close the connection (called by :meth:`close`)."""

    @property
    def pending(self) -> int:
        return len(self.spool)

    async def start(self) -> None:
        if self._task is None:
            await self._open()
            self._task = asyncio.create_task(self._run())
            self._wake.set()

    async def send(self, report: dict[str, Any]) -> None:
        if self._task is None:
            await self.start()
        self.spool.put(report)
        self._idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        while True:
            if not self.spool:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                report = self.spool.peek()
            except IndexError:
                continue
            self.attempts += 1
            try:
                await self._deliver(report)
            except DeliveryError as e:
                if e.permanent:
                    self.rejected += 1
                    logger.error("pulse report rejected, dropped: %s", e)
                    self.spool.pop()
                    continue
                self._failures += 1
                delay = min(self.max_backoff, self.base_backoff * 2 ** (self._failures - 1))
                delay *= random.uniform(0.5, 1.0)
                if e.retry_after is not None:
                    delay = min(max(e.retry_after, 0.0), self.max_backoff)
                logger.warning(
                    "delivery failed (%s); %d pending, retry in %.1f s", e, len(self.spool), delay
                )
                self._wake.clear()
                # A new report does not cut the backoff short (it would hammer the server).
                await asyncio.sleep(delay)
                continue
            self._failures = 0
            self.delivered += 1
            self.spool.pop()

    async def flush(self, timeout: float | None = None) -> bool:
        if not self.spool:
            return True
        if self._task is None:
            await self.start()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return not self.spool
        return True

    async def close(self, timeout: float | None = 10.0) -> None:
        if self._task is not None:
            await self.flush(timeout)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.spool:
            where = f"kept in {self.spool.directory}" if self.spool.directory else "LOST"
            logger.error("%d pulse reports undelivered at close (%s)", len(self.spool), where)
        await self._shutdown()


class HttpTransport(RetryingTransport):
    """POST ``<server>/api/v1/pulses`` with ``Authorization: Bearer <token>``.

    2xx and 409 (already have it) count as delivered; 400/413/422 as rejected; anything
    else (connection errors, timeouts, 401/403, 429, 5xx) is retried with backoff.
    ``client``: an ``httpx.AsyncClient`` to share between many sensors' transports (a
    replay); it stays open when the transport closes.
    """

    PATH = "/api/v1/pulses"

    def __init__(
        self,
        server: str,
        token: str,
        *,
        spool: Spool | None = None,
        timeout: float = 10.0,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        client: Any = None,
    ) -> None:
        super().__init__(spool=spool, base_backoff=base_backoff, max_backoff=max_backoff)
        if not server.startswith(("http://", "https://")):
            raise InputError(f"server URL must start with http:// or https://, got {server!r}")
        if not token:
            raise InputError("a sensor token is required for the HTTP transport")
        self.url = server.rstrip("/") + self.PATH
        self._token = token
        self.timeout = timeout
        self._shared: Any = client
        self._client: Any = None
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": "shotwatch-sensor"}

    async def _open(self) -> None:
        import httpx

        self._client = self._shared or httpx.AsyncClient(timeout=self.timeout)

    async def _shutdown(self) -> None:
        client, self._client = self._client, None
        if client is not None and client is not self._shared:
            await client.aclose()

    async def _deliver(self, report: dict[str, Any]) -> None:
        import httpx

        try:
            r = await self._client.post(self.url, json=report, headers=self._headers)
        except httpx.HTTPError as e:
            raise DeliveryError(f"{type(e).__name__}: {e}") from None
        if 200 <= r.status_code < 300 or r.status_code == 409:
            return
        text = r.text[:200].replace("\n", " ")
        msg = f"HTTP {r.status_code} from {self.url}: {text}"
        if r.status_code in (400, 413, 422):
            raise DeliveryError(msg, permanent=True)
        if r.status_code in (401, 403):
            logger.error("server refuses the sensor token: %s", msg)
        raise DeliveryError(msg, retry_after=_retry_after(r.headers.get("Retry-After")))


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


class BusTransport(RetryingTransport):
    """Publish each report as JSON on ``pulses.<sensor_id>`` of a bus (MQTT for sensors).

    ``bus`` is a URL (``mqtt://127.0.0.1:1883``) or a :class:`~shotwatch.bus.base.Bus`.
    With a URL the transport owns the connection and reopens it after a failure.
    """

    def __init__(
        self,
        bus: str | Bus,
        *,
        spool: Spool | None = None,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        super().__init__(spool=spool, base_backoff=base_backoff, max_backoff=max_backoff)
        self._url = bus if isinstance(bus, str) else None
        self._bus: Bus | None = None if isinstance(bus, str) else bus
        if self._url is not None:
            from shotwatch.bus import connect_url

            connect_url(self._url)  # validate the URL now: bad input fails fast

    async def _connect(self) -> Bus:
        from shotwatch.bus import connect_url

        if self._bus is None:
            assert self._url is not None
            bus = connect_url(self._url)
            await bus.connect()
            self._bus = bus
        return self._bus

    async def _deliver(self, report: dict[str, Any]) -> None:
        from shotwatch.bus import BusError

        sid = report.get("sensor_id")
        if not isinstance(sid, str):
            raise DeliveryError("report has no sensor_id", permanent=True)
        try:
            bus = await self._connect()
            await bus.publish(f"pulses.{sid}", json.dumps(report).encode())
        except BusError as e:
            if self._url is not None and self._bus is not None:
                old, self._bus = self._bus, None
                with contextlib.suppress(Exception):
                    await old.close()
            raise DeliveryError(str(e)) from None

    async def _shutdown(self) -> None:
        if self._url is not None and self._bus is not None:
            bus, self._bus = self._bus, None
            await bus.close()
