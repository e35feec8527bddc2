"""Dependencies injected into routes: the service, the signed-in user, permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, WebSocket

from shotwatch.store import repo
from shotwatch.web.security import ROLE_PERMISSIONS, Perm, Role, read_session
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
