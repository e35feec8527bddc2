"""UTC timestamps: the ISO-8601 contract (``2026-07-04T21:13:05.123456Z``) <-> epoch seconds.

Internally a time is a float of seconds since the Unix epoch (UTC). A float64 at
~1.8e9 s resolves 0.24 microseconds, well below any acoustic timing error.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from shotwatch.errors import InputError

EARLIEST = datetime(1980, 1, 6, tzinfo=UTC)
"""The GPS epoch: a sensor's clock (GPS-disciplined) reading earlier is broken. (A time
in year 1 also had no shot time to format: the shot precedes its first arrival.)"""
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_utc(text: str) -> float:
    """Parse an ISO-8601 UTC time (``Z`` or ``+00:00``) to epoch seconds.

    Raises :class:`InputError` for anything else (naive times, other offsets, junk).
    """
    if not isinstance(text, str):
        raise InputError(f"time must be an ISO-8601 string, got {type(text).__name__}")
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise InputError(f"not an ISO-8601 UTC time: {text!r}") from None
    if dt.tzinfo is None:
        raise InputError(f"time has no time zone (expected a trailing Z): {text!r}")
    offset = dt.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise InputError(f"time is not UTC: {text!r}")
    if not EARLIEST <= dt < LATEST:
        raise InputError(
            f"time out of range {EARLIEST:%Y-%m-%d}..{LATEST.year - 1} (a clock fault?): {text!r}"
        )
    # Exact microseconds: avoid float rounding of the fractional part.
    whole = dt.replace(microsecond=0)
    return whole.timestamp() + dt.microsecond * 1e-6


def format_utc(t: float) -> str:
    """Format epoch seconds as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (microseconds, UTC)."""
    if not math.isfinite(t):
        raise InputError(f"time is not finite: {t!r}")
    whole = math.floor(t)
    micro = round((t - whole) * 1e6)
    if micro == 1_000_000:
        whole += 1
        micro = 0
    dt = datetime.fromtimestamp(whole, tz=UTC).replace(microsecond=micro)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
