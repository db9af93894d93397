"""What every console page shares: who is signed in and may they see this (fail closed),
CSRF on every form, rendering, and the security headers.

A page declares its roles with `web.page("admin")`; a form action with `web.action("admin")`,
which also requires the session's CSRF value in the form. Anything not confirmed is refused:
no valid session → the sign-in page (GET) or 401 (POST); another role's page → 403.
"""

from __future__ import annotations

import hmac
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from yishu.access import audit_group, tokens, users
from yishu.access.tokens import AccessDenied, Grant
from yishu.console import sessions
from yishu.console.sessions import Session
from yishu.resources import Resources

HOME = {"steward": "/steward/", "admin": "/admin/", "operator": "/operator/"}
STAFF = ("steward", "admin")
FLASH = "yishu_console_flash"  # what the last form did, shown on the next page
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # framed only by its own origin: the Airflow UI that mounts it, never another site
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'self'",
}


@dataclass(frozen=True)
class Identity:
    session: Session
    grant: Grant | None = None  # operators: their token's grant, as of this request

    @property
    def role(self) -> str:
        return self.session.role

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def actor(self) -> str:
        """Who the audit log names: `steward:alice`, `admin:bob`, or the operator's name (as
        the operator API names it)."""
        return self.name if self.role == "operator" else f"{self.role}:{self.name}"


class NotSignedIn(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, identity: Identity | None, why: str):
        super().__init__(why)
        self.identity, self.why = identity, why


def _flash(cookie: str | None) -> dict:
    try:
        found = json.loads(urllib.parse.unquote(cookie or "{}"))
    except ValueError:
        return {}
    return {k: str(v) for k, v in found.items() if k in ("ok", "error")} if isinstance(
        found, dict) else {}


def base(request: Request) -> str:
    """The console's path, under whatever prefix the app is mounted at (Airflow: /yishu)."""
    return request.scope.get("root_path", "").rstrip("/") + "/console"


class Web:
    def __init__(self, resources: Callable[[], Resources], airflow_sign_in: bool = False):
        self.resources = resources
        self.airflow_sign_in = airflow_sign_in  # inside Airflow: its signed-in users too
        self.env = Environment(loader=PackageLoader("yishu.console"),
                               autoescape=select_autoescape(default=True))
        # audit details as people read them: Chinese names as written, not \u escapes
        self.env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True)

    def identify(self, request: Request) -> Identity | None:
        """The signed-in identity, checked again now, or None."""
        res = self.resources()
        session = sessions.decode(res, request.cookies.get(sessions.COOKIE))
        if session is None:
            return None
        if session.kind == "staff":
            user = users.active_user(res, session.name)
            if user is None or user.role != session.role or session.role not in STAFF:
                return None
            return Identity(session)
        try:
            grant = tokens.authenticate(res, session.token)
        except AccessDenied:
            return None
        if session.role != "operator" or grant.operator != session.name:
            return None
        return Identity(session, grant)

    def page(self, *roles: str):
        def signed_in(request: Request) -> Identity:
            identity = self.identify(request)
            if identity is None:
                raise NotSignedIn()
            if identity.role not in roles:
                raise Forbidden(identity, f"this page is for {'/'.join(roles)}")
            return identity
        return signed_in

    def action(self, *roles: str):
        page = self.page(*roles)

        def acting(request: Request, csrf: str = Form("")) -> Identity:
            identity = page(request)
            if not csrf or not hmac.compare_digest(csrf, identity.session.csrf):
                raise Forbidden(identity, "the form's CSRF value is missing or wrong: reload "
                                "the page and submit it again")
            return identity
        return acting

    def render(self, request: Request, template: str, identity: Identity | None = None,
               status: int = 200, **context) -> HTMLResponse:
        flash = _flash(request.cookies.get(FLASH))
        html = self.env.get_template(template).render(
            base=base(request), me=identity, csrf=identity.session.csrf if identity else "",
            ok=flash.get("ok"), error=context.pop("error", None) or flash.get("error"),
            **context)
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        if FLASH in request.cookies:  # shown once
            response.delete_cookie(FLASH, path=base(request))
        return response

    def back(self, request: Request, path: str, *, ok: str | None = None,
             error: str | None = None) -> RedirectResponse:
        """After a form: back to a page (Post/Redirect/Get), with what happened. The message
        goes in a short-lived cookie, not the URL, so a link cannot put words in the
        console's mouth."""
        response = RedirectResponse(base(request) + path, status_code=303, headers=HEADERS)
        message = {k: v[:500] for k, v in (("ok", ok), ("error", error)) if v}
        response.set_cookie(FLASH, urllib.parse.quote(json.dumps(message, ensure_ascii=False)),
                            max_age=60, path=base(request), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    def audit_refusal(self, request: Request, identity: Identity | None, why: str) -> None:
        """A refused console action is on the record too, as the API's refusals are."""
        audit_group.record(self.resources(), "console.refuse", request.url.path,
                     {"method": request.method, "role": identity.role if identity else None,
                      "why": why}, identity.actor if identity else "anonymous")
