"""The FastAPI application: API, pages and static assets (all served from the package)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shotwatch.errors import InputError, NotFoundError, PermissionDeniedError, ShotwatchError
from shotwatch.models import Weather
from shotwatch.settings import Settings
from shotwatch.store import repo
from shotwatch.store.db import driver_reason
from shotwatch.web.security import Role, hash_password
from shotwatch.web.service import LocatorFactory, Service

logger = logging.getLogger("shotwatch.web")
HERE = Path(__file__).resolve().parent

DEMO_USERS: dict[str, tuple[Role, str | None]] = {
    "dispatcher": (Role.DISPATCHER, None),
    "patrol": (Role.PATROL, "1A12"),
    "reviewer": (Role.REVIEWER, None),
    "investigator": (Role.INVESTIGATOR, None),
    "supervisor": (Role.SUPERVISOR, None),
    "captain": (Role.CAPTAIN, None),
    "admin": (Role.ADMINISTRATOR, None),
}
"""Demo logins: the password equals the user name (local/demo environments only)."""

DEMO_UNITS = ("1A12", "1A14", "2B21", "2B23", "3C31", "3C35")


def seed_demo_users(svc: Service) -> None:
    """Create the demo users and units if missing (refused outside local/demo)."""
    if svc.settings.environment not in ("local", "demo"):
        return
    now = time.time()
    with svc.db.session() as s:
        for name, (role, unit) in DEMO_USERS.items():
            if repo.get_user(s, name) is None:
                repo.add_user(s, name, hash_password(name), str(role), now, unit_id=unit)
        for u in DEMO_UNITS:
            repo.get_unit(s, u, now, create=True)


class RefuseNul:
    """Refuses (422) an HTTP request whose path or query string holds a NUL character:
    no text column stores one (PostgreSQL refuses it outright, a 500 before this), and
    no name, id or filter of this service contains one. Bodies are checked where they
    are parsed (``api._In``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope["query_string"])
        ):
            resp = JSONResponse(
                {"detail": "the request's path or query holds a NUL character"}, status_code=422
            )
            await resp(scope, receive, send)
            return
        await self.app(scope, receive, send)


def content_security_policy(tile_url: str = "") -> str:
    """The pages' Content-Security-Policy: scripts, styles, audio and API calls from this
    site only (every asset is served from the package, none inline), images also from
    the configured map tile server, no framing (clickjacking a console), no plugins."""
    img = "'self' data: blob:"
    parts = urlsplit(tile_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        img += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; media-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Headers on every HTTP response: no MIME sniffing, no framing, no referrer (page
    and API URLs name incidents); ``Cache-Control: no-store`` on everything but the
    package's static assets (evidence must not stay in a shared terminal's cache, a
    patrol car's computer say); the Content-Security-Policy on HTML pages."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                add = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not static and b"cache-control" not in have:
                    add.append((b"cache-control", b"no-store"))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html"):
                    add.append((b"content-security-policy", self.csp))
                message["headers"] = headers + [(k, v) for k, v in add if k not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings,
    *,
    locator_factory: LocatorFactory | None = None,
    weather: Weather | None = None,
    seed_demo: bool = True,
) -> FastAPI:
    """Build the app; the service starts in the lifespan (so tests use TestClient as ``with``)."""
    service = Service(settings, locator_factory=locator_factory, weather=weather)
    if seed_demo:
        seed_demo_users(service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="Shotwatch",
        version="0.1.0",
        description="Gunfire detection, location and alerting: pulse ingest, incidents, "
        "review, CAD calls, citizen calls, units and live alerts.",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(NotFoundError)
    async def _nf(_: Request, e: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(PermissionDeniedError)
    async def _pd(_: Request, e: PermissionDeniedError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=403)

    @app.exception_handler(InputError)
    async def _ie(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=422)

    @app.exception_handler(ShotwatchError)
    async def _se(_: Request, e: ShotwatchError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=400)

    @app.exception_handler(DataError)
    async def _de(request: Request, e: DataError) -> JSONResponse:
        # A value the database cannot store that no check before it caught: the
        # request's transaction is rolled back, nothing accepted before is touched.
        why = driver_reason(e)
        logger.warning("refused %s %s: database: %s", request.method, request.url.path, why)
        return JSONResponse({"detail": f"a value the database cannot store: {why}"}, 422)

    @app.exception_handler(OperationalError)
    async def _oe(request: Request, e: OperationalError) -> JSONResponse:
        # The database is down or unreachable: nothing of this request was kept, and a
        # sensor's spool sends the report again (it retries a 503 after Retry-After).
        why = driver_reason(e)
        logger.error("database unavailable on %s %s: %s", request.method, request.url.path, why)
        return JSONResponse(
            {"detail": "database unavailable; try again"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    app.add_middleware(RefuseNul)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(settings.tile_url))

    from shotwatch.web.api import router as api_router
    from shotwatch.web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
