"""Signing in and out: staff with their console account, operators with their licence token.
Sign-ins, refused sign-ins and sign-outs are audited."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from yishu.access import audit_group, tokens, users
from yishu.access.tokens import AccessDenied
from yishu.console import sessions
from yishu.console.airflow_auth import airflow_user
from yishu.console.web import HEADERS, HOME, Identity, Web, base


def _login_page(web: Web, request: Request, error: str | None = None, status: int = 200):
    """The sign-in page, with a fresh CSRF value in a cookie and in its forms."""
    value = secrets.token_urlsafe(32)
    response = web.render(request, "login.html", signin_csrf=value, error=error,
                          status=status, airflow=web.airflow_sign_in)
    response.set_cookie(sessions.PRE_COOKIE, value, max_age=600, path=base(request),
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


def _pre_csrf_ok(request: Request, csrf: str) -> bool:
    expected = request.cookies.get(sessions.PRE_COOKIE) or ""
    return bool(csrf) and bool(expected) and hmac.compare_digest(csrf, expected)


def _signed_in(web: Web, request: Request, session: sessions.Session,
               via: str = "console") -> RedirectResponse:
    res = web.resources()
    identity = Identity(session)
    audit_group.record(res, "console.signin", f"{session.kind}/{session.name}",
                 {"role": session.role, "via": via}, identity.actor)
    response = RedirectResponse(base(request) + HOME[session.role], status_code=303,
                                headers=HEADERS)
    response.set_cookie(sessions.COOKIE, sessions.encode(res, session),
                        max_age=sessions.LIFETIME, path=base(request), httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(sessions.PRE_COOKIE, path=base(request))
    return response


def _refused(web: Web, request: Request, who: str, why: str, shown: str):
    audit_group.record(web.resources(), "console.signin_refused", who, {"why": why}, "anonymous")
    return _login_page(web, request, shown, 401)


def _airflow_account(web: Web, request: Request, name: str | None):
    user = users.active_user(web.resources(), name) if name else None
    if user is None:
        return _refused(web, request, f"airflow/{(name or '')[:64]}", "no console account",
                        "未登录 Airflow，或没有同名的控制台账户 Not signed in to Airflow, or no "
                        "active console account of that name (yishu user add)")
    return _signed_in(web, request, sessions.new("staff", user.name, user.role),
                      via="airflow")


def routes(router: APIRouter, web: Web) -> None:
    @router.get("/")
    @router.get("/login")
    def login(request: Request):
        identity = web.identify(request)
        if identity is not None:
            return RedirectResponse(base(request) + HOME[identity.role], status_code=303)
        return _login_page(web, request)

    @router.post("/login")
    def staff_login(request: Request, name: str = Form(""), password: str = Form(""),
                    csrf: str = Form("")):
        if not _pre_csrf_ok(request, csrf):
            return _refused(web, request, f"staff/{name[:64]}", "csrf",
                            "表单已过期，请重试 The form expired: sign in again")
        try:
            user = users.sign_in(web.resources(), name, password)
        except users.SignInRefused:
            return _refused(web, request, f"staff/{name[:64]}", "wrong name or password, "
                            "or disabled", "用户名或密码错误，或账户已停用 Wrong name or "
                            "password, or the account is disabled")
        return _signed_in(web, request, sessions.new("staff", user.name, user.role))

    @router.post("/login/token")
    def operator_login(request: Request, token: str = Form(""), csrf: str = Form("")):
        token = token.strip()
        if not _pre_csrf_ok(request, csrf):
            return _refused(web, request, "operator", "csrf",
                            "表单已过期，请重试 The form expired: sign in again")
        try:
            grant = tokens.authenticate(web.resources(), token)
        except AccessDenied as exc:
            return _refused(web, request, "operator", exc.error,
                            f"令牌无效 {exc.detail}: {exc.what_to_do}")
        return _signed_in(web, request, sessions.new("operator", grant.operator, "operator",
                                                     token))

    @router.post("/login/airflow")
    async def airflow_login(request: Request, csrf: str = Form("")):
        if not web.airflow_sign_in or not _pre_csrf_ok(request, csrf):
            return _refused(web, request, "airflow", "off or csrf",
                            "表单已过期，请重试 The form expired: sign in again")
        name = await airflow_user(request)
        # the rest reads the database and writes the audit log: off the event loop, which
        # inside Airflow is the api-server's own
        return await run_in_threadpool(_airflow_account, web, request, name)

    @router.post("/logout")
    def logout(request: Request):
        identity = web.identify(request)  # signing out needs no CSRF: it only ends a session
        if identity is not None:
            audit_group.record(web.resources(), "console.signout",
                         f"{identity.session.kind}/{identity.name}", {}, identity.actor)
        response = RedirectResponse(base(request) + "/login", status_code=303,
                                    headers=HEADERS)
        response.delete_cookie(sessions.COOKIE, path=base(request))
        return response
