"""The console inside the operator API's app: `install(app, resources)` adds its routes
under /console/, its static files and the handlers that turn a missing sign-in into the
sign-in page and another role's page into 403."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from yishu.console import admin, catalog, operator, signin, steward
from yishu.console.web import Forbidden, NotSignedIn, Web, base
from yishu.resources import Resources

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI, resources: Callable[[], Resources],
            airflow_sign_in: bool = False) -> Web:
    web = Web(resources, airflow_sign_in)
    router = APIRouter(prefix="/console", include_in_schema=False)
    for module in (signin, steward, catalog, admin, operator):
        module.routes(router, web)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    # plain functions: Starlette runs them in its thread pool, off the event loop (the
    # refusal is written to the audit log)
    @app.exception_handler(NotSignedIn)
    def not_signed_in(request: Request, exc: NotSignedIn):
        if request.method == "GET":
            return RedirectResponse(base(request) + "/login", status_code=303)
        return web.render(request, "error.html", status=401,
                          message="未登录或会话已过期 Not signed in, or the session ended")

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden):
        if request.method != "GET":
            web.audit_refusal(request, exc.identity, exc.why)
        return web.render(request, "error.html", exc.identity, status=403,
                          message=f"无权访问 Forbidden: {exc.why}")

    return web
