"""Dependencies injected into routes: the service, the signed-in user, permissions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, WebSocket

from shotwatch.store import audit, repo
from shotwatch.web.security import ROLE_PERMISSIONS, Perm, Role, read_session, verify_password
from shotwatch.web.service import Service

SESSION_COOKIE = "sw_session"


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    unit_id: str | None

    @property
    def permissions(self) -> frozenset[Perm]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions


async def get_service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


ServiceDep = Annotated[Service, Depends(get_service)]


def _token_from(headers: dict[str, str] | None, cookies: dict[str, str], query: str | None) -> str:
    auth = (headers or {}).get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return cookies.get(SESSION_COOKIE) or query or ""


def user_from_token(svc: Service, token: str) -> User | None:
    if not token:
        return None
    name = read_session(svc.settings.secret_key, token)
    if name is None:
        return None
    with svc.db.session() as s:
        row = repo.get_user(s, name)
        if row is None or not row.active:
            return None
        try:
            role = Role(row.role)
        except ValueError:
            return None
        return User(row.username, role, row.unit_id)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the role, or why not (``locked_for_s`` > 0: the account
    is locked for that long, whatever the password)."""

    role: Role | None
    locked_for_s: float = 0.0

    @property
    def retry_after(self) -> dict[str, str] | None:
        """The ``Retry-After`` header of a refusal while locked (None otherwise)."""
        if self.locked_for_s <= 0:
            return None
        return {"Retry-After": str(math.ceil(self.locked_for_s))}

    def refusal(self) -> str:
        if self.locked_for_s > 0:
            minutes = max(1, math.ceil(self.locked_for_s / 60.0))
            return f"account locked after failed sign-ins; try again in {minutes} min"
        return "wrong username or password"


def sign_in(svc: Service, username: str, password: str) -> SignIn:
    """Check a user's password, with lockout: ``login_max_failures`` consecutive failures
    lock the account for ``login_lockout_s`` (FBI CJIS Security Policy 5.5.3: at most five
    attempts, then ten minutes), during which no password is even checked, so a guesser
    gets five tries per ten minutes, not thousands a second. A good password resets the
    count. Every outcome is audited (``login``, ``login_failed``, ``login_locked``)."""
    cfg = svc.settings
    now = svc.clock()
    role: Role | None = None
    locked_for = 0.0
    locks = False
    with svc.db.session() as s:
        row = repo.get_user(s, username)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            locked_for = row.locked_until - now
        elif row is not None:
            if row.active and verify_password(password, row.password_hash):
                role = Role(row.role)
                row.failed_logins = 0
                row.locked_until = None
            else:
                row.failed_logins += 1
                if row.failed_logins >= cfg.login_max_failures:
                    row.failed_logins = 0
                    row.locked_until = now + cfg.login_lockout_s
                    locked_for = cfg.login_lockout_s
                    locks = True
    who = username or "?"
    if role is not None:
        audit.append(svc.db, username, "login", "session")
    elif locks:
        audit.append(svc.db, who, "login_locked", "session", f"{cfg.login_lockout_s:.0f} s")
    else:
        audit.append(svc.db, who, "login_failed", "session", "locked" if locked_for else "")
    return SignIn(role, locked_for)


def optional_user(request: Request, svc: ServiceDep) -> User | None:
    token = _token_from(dict(request.headers), dict(request.cookies), None)
    return user_from_token(svc, token)


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(401, "not signed in", headers={"WWW-Authenticate": "Bearer"})
    return user


UserDep = Annotated[User, Depends(current_user)]


def require(perm: Perm) -> Any:
    """A dependency that returns the user if their role has ``perm``, else 403."""

    def dep(user: UserDep) -> User:
        if not user.can(perm):
            raise HTTPException(403, f"role {user.role} lacks permission {perm}")
        return user

    return Depends(dep)


def ws_user(ws: WebSocket, svc: Service) -> User | None:
    token = _token_from(dict(ws.headers), dict(ws.cookies), ws.query_params.get("token"))
    return user_from_token(svc, token)
