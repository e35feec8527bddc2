"""Roles, permissions, password hashing (scrypt) and signed session tokens.

Passwords: ``hashlib.scrypt`` (n=2**14, r=8, p=1, 16-byte salt), stored as
``scrypt$n$r$p$salt_hex$hash_hex``. Session tokens (cookie or ``Authorization: Bearer``)
are ``base64url(json).hmac_sha256`` under the service secret key, with an expiry.
Sensor credentials are random tokens stored only as their SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from enum import StrEnum


class Role(StrEnum):
    DISPATCHER = "dispatcher"
    PATROL = "patrol"
    REVIEWER = "reviewer"
    INVESTIGATOR = "investigator"
    SUPERVISOR = "supervisor"
    CAPTAIN = "captain"
    ADMINISTRATOR = "administrator"


class Perm(StrEnum):
    VIEW_INCIDENTS = "view_incidents"
    LIVE_ALERTS = "live_alerts"
    PLAY_AUDIO = "play_audio"
    REVIEW = "review"
    CAD = "cad"
    """Create/attach citizen calls, supplement CAD calls, assign units, escalate."""
    UNIT_STATUS = "unit_status"
    SEARCH = "search"
    REPORTS = "reports"
    REQUEST_RELEASE = "request_release"
    AUTHORIZE_RELEASE = "authorize_release"
    STATS = "stats"
    AUDIT = "audit"
    SENSORS = "sensors"
    SENSOR_LOCATIONS = "sensor_locations"
    USERS = "users"


P = Perm
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.DISPATCHER: frozenset({P.VIEW_INCIDENTS, P.LIVE_ALERTS, P.PLAY_AUDIO, P.CAD}),
    Role.PATROL: frozenset({P.VIEW_INCIDENTS, P.LIVE_ALERTS, P.PLAY_AUDIO, P.UNIT_STATUS}),
    Role.REVIEWER: frozenset({P.VIEW_INCIDENTS, P.LIVE_ALERTS, P.PLAY_AUDIO, P.REVIEW}),
    Role.INVESTIGATOR: frozenset(
        {P.VIEW_INCIDENTS, P.PLAY_AUDIO, P.SEARCH, P.REPORTS, P.REQUEST_RELEASE}
    ),
    Role.SUPERVISOR: frozenset(
        {P.VIEW_INCIDENTS, P.LIVE_ALERTS, P.PLAY_AUDIO, P.SEARCH, P.STATS, P.REPORTS}
    ),
    Role.CAPTAIN: frozenset(
        {
            P.VIEW_INCIDENTS,
            P.LIVE_ALERTS,
            P.PLAY_AUDIO,
            P.SEARCH,
            P.STATS,
            P.REPORTS,
            P.REQUEST_RELEASE,
            P.AUTHORIZE_RELEASE,
            P.AUDIT,
        }
    ),
    Role.ADMINISTRATOR: frozenset(
        {P.VIEW_INCIDENTS, P.SENSORS, P.SENSOR_LOCATIONS, P.USERS, P.AUDIT, P.STATS}
    ),
}

HOME_PAGE: dict[Role, str] = {
    Role.DISPATCHER: "/dispatch",
    Role.PATROL: "/mobile",
    Role.REVIEWER: "/review",
    Role.INVESTIGATOR: "/investigate",
    Role.SUPERVISOR: "/investigate",
    Role.CAPTAIN: "/investigate",
    Role.ADMINISTRATOR: "/admin",
}

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    h = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${h.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, h = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), h)


def new_sensor_token() -> str:
    return "swt_" + secrets.token_urlsafe(24)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_session(secret: str, username: str, ttl_s: float, now: float | None = None) -> str:
    body = _b64(
        json.dumps(
            {"u": username, "exp": (now or time.time()) + ttl_s}, separators=(",", ":")
        ).encode()
    )
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def read_session(secret: str, token: str, now: float | None = None) -> str | None:
    """The username of a valid, unexpired token, else None."""
    try:
        body, mac = token.split(".", 1)
        want = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, _unb64(mac)):
            return None
        data = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return None
    exp = data.get("exp")
    if not isinstance(exp, int | float) or exp < (now or time.time()):
        return None
    return str(data["u"])
