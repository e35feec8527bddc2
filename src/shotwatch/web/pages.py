"""Server-rendered pages (Jinja2 + small vanilla JS from ``web/static``; no CDN).

Each page needs a permission; a signed-out visitor is sent to ``/login``, a signed-in
user without the permission gets 403. The street layer (``/streets.geojson``) is what
the maps draw when no tile URL is configured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from shotwatch.web.deps import SESSION_COOKIE, ServiceDep, User, optional_user, sign_in
from shotwatch.web.security import HOME_PAGE, Perm, sign_session

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


def _page(request: Request, svc: ServiceDep, name: str, perm: Perm, title: str) -> Response:
    user = optional_user(request, svc)
    if user is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if not user.can(perm):
        return templates.TemplateResponse(
            request,
            "forbidden.html",
            {"user": user, "title": "Not allowed", "perm": perm, "home": HOME_PAGE[user.role]},
            status_code=403,
        )
    ctx: dict[str, Any] = {
        "user": user,
        "title": title,
        "config": json.dumps(
            {
                "user": user.username,
                "role": str(user.role),
                "unit_id": user.unit_id,
                "permissions": sorted(user.permissions),
                "tile_url": svc.settings.tile_url,
                "tile_attribution": svc.settings.tile_attribution,
                "review_target_s": svc.settings.review_target_s,
            }
        ).replace("<", "\\u003c"),  # (inside <script>: no "</script>" can end it early)
    }
    return templates.TemplateResponse(request, name, ctx)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, svc: ServiceDep) -> Response:
    user = optional_user(request, svc)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME_PAGE[user.role], status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> Response:
    """The sign-in form. (No message from the URL: ``?error=`` showed any text a link
    carried as the service's own alert, a phisher's "call this number".)"""
    return templates.TemplateResponse(
        request, "login.html", {"title": "Sign in", "next": next, "error": "", "user": None}
    )


def _local_path(target: str) -> bool:
    """Whether ``target`` is a path on this site, safe to send a signed-in user to: one
    leading slash and no backslash, whitespace or control character. Browsers read
    ``/\\evil.example``, and ``//evil.example`` with a tab or newline between the slashes,
    as ``//evil.example``: another site (an open redirect from the login form)."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and all(ch != "\\" and 0x20 < ord(ch) != 0x7F for ch in target)
    )


@router.post("/login")
def login_form(
    request: Request,
    svc: ServiceDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    got = sign_in(svc, username, password)
    role = got.role
    if role is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {
                "title": "Sign in",
                "next": next,
                "error": got.refusal().capitalize(),
                "user": None,
            },
            status_code=429 if got.retry_after else 401,
            headers=got.retry_after,
        )
    dest = next if _local_path(next) else HOME_PAGE[role]
    resp = RedirectResponse(dest, status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        sign_session(svc.settings.secret_key, username, svc.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        max_age=int(svc.settings.session_hours * 3600),
    )
    return resp


@router.get("/logout")
def logout() -> Response:
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/dispatch", response_class=HTMLResponse)
def dispatch_page(request: Request, svc: ServiceDep) -> Response:
    return _page(request, svc, "dispatch.html", Perm.CAD, "Dispatch console")


@router.get("/mobile", response_class=HTMLResponse)
def mobile_page(request: Request, svc: ServiceDep) -> Response:
    return _page(request, svc, "mobile.html", Perm.UNIT_STATUS, "Mobile Alert Console")


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, svc: ServiceDep) -> Response:
    return _page(request, svc, "review.html", Perm.REVIEW, "Review")


@router.get("/investigate", response_class=HTMLResponse)
def investigate_page(request: Request, svc: ServiceDep) -> Response:
    return _page(request, svc, "investigate.html", Perm.SEARCH, "Investigator Portal")


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, svc: ServiceDep) -> Response:
    return _page(request, svc, "admin.html", Perm.SENSORS, "Administration")


@router.get("/streets.geojson")
def streets(request: Request, svc: ServiceDep) -> Response:
    user: User | None = optional_user(request, svc)
    if user is None:
        raise HTTPException(401, "not signed in")
    return Response(
        json.dumps(svc.streets.geojson, separators=(",", ":")),
        media_type="application/geo+json",
        headers={"cache-control": "private, max-age=3600"},
    )
