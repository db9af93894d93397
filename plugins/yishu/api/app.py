"""The operator API (FastAPI): licensed operators list and download the products of their
scenario with a bearer token. OpenAPI at /docs and /openapi.json.

Every request is checked (tokens.authenticate, then the offer of the licence) and every request,
served or refused, becomes an audit entry: `api.request` (served), `api.deliver` (a file
served, with its metering row), `api.refuse` (with the status and error code). Refusals carry
`{error, detail, what_to_do}`. The app does its own authentication: Airflow does not
authenticate the plugin apps it mounts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from yishu.access import audit, metering, tokens
from yishu.access.tokens import AccessDenied, Grant
from yishu.api import delta_sharing, offer, refusals
from yishu.console import app as console
from yishu.definitions import CatalogError
from yishu.errors import UserInputError
from yishu.resources import Resources


def create_app(res: Resources | None = None, *, inside_airflow: bool = False) -> FastAPI:
    """The app on `res` (built from the environment's settings on first use when not given).
    `inside_airflow`: the plugin's app, whose console also signs in Airflow's users."""
    holder: list[Resources] = [res] if res else []

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        await run_in_threadpool(_warm_up, resources)
        yield

    app = FastAPI(title="Yishu operator API (一数 授权运营接口)", version="1",
                  description="Licensed operators receive the data products of their scenario.",
                  lifespan=lifespan)

    def resources() -> Resources:
        if not holder:
            from yishu import settings

            holder.append(Resources.from_settings(settings.load()))
        return holder[0]

    def grant_of(request: Request) -> Grant:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        grant = tokens.authenticate(resources(), token.strip() if scheme.lower() == "bearer"
                                    else None)
        request.state.grant = grant
        return grant

    def served(request: Request, grant: Grant, **detail) -> audit.AuditEntry:
        return audit.record(resources(), "api.request", request.url.path, {
            "operator": grant.operator, "licence": grant.licence_id,
            "scenario": grant.scenario, "status": 200, **detail}, grant.operator)

    # the refusal's audit entry waits for a commit and a signed head: in a worker thread, as
    # the served requests' entries are, not on the event loop that every request shares
    @app.exception_handler(AccessDenied)
    async def refused(request: Request, exc: AccessDenied):
        return await run_in_threadpool(_refuse, resources, request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return await run_in_threadpool(_refuse, resources, request, AccessDenied(
            422, "invalid_request", where, "see /docs for the parameters of this endpoint"))

    @app.get("/api/v1/public-key", response_class=PlainTextResponse,
             summary="The bureau's public key (PEM): pin it to verify vouchers offline")
    def public_key():
        return resources().keys.public_key_pem()

    @app.get("/api/v1/revocations",
             summary="Withdrawn versions, signed by the bureau (check with the pinned key)")
    def revocations():
        from yishu.pipeline.withdrawal import revocation_list

        return revocation_list(resources())

    @app.get("/api/v1/products", summary="The products this licence may receive")
    def products(request: Request, grant: Grant = Depends(grant_of)):
        res = resources()
        listed = []
        for name, numbers in offer.deliverable_numbers(res, grant).items():
            product = res.catalog.products[name]
            listed.append({"product": name, "title_zh": product.title_zh,
                           "title_en": product.title_en, "zone": product.zone,
                           "latest_version": numbers[-1] if numbers else None,
                           "versions": len(numbers)})
        served(request, grant)
        return {"scenario": grant.scenario, "zone": grant.zone,
                "max_level": grant.max_level, "products": listed}

    @app.get("/api/v1/products/{product}", summary="One product and its latest version")
    def product_detail(product: str, request: Request, grant: Grant = Depends(grant_of)):
        res = resources()
        allowed = offer.deliverable(offer.versions(res, grant, product))
        spec = res.catalog.products[product]
        served(request, grant, product=product)
        return {"product": product, "title_zh": spec.title_zh, "title_en": spec.title_en,
                "zone": spec.zone, "scenarios": list(spec.scenarios),
                "latest": offer.describe(allowed[-1]) if allowed else None}

    @app.get("/api/v1/products/{product}/versions", summary="The versions this licence allows")
    def product_versions(product: str, request: Request, grant: Grant = Depends(grant_of)):
        allowed = offer.versions(resources(), grant, product)
        served(request, grant, product=product)
        return {"product": product, "versions": [offer.describe(v) for v in allowed]}

    @app.get("/api/v1/products/{product}/versions/{version}/voucher",
             summary="The signed voucher of a version")
    def voucher(product: str, version: int, request: Request,
                grant: Grant = Depends(grant_of)):
        found = offer.version(resources(), grant, product, version)
        served(request, grant, product=product, version=version)
        return found.voucher

    @app.get("/api/v1/products/{product}/versions/{version}/download",
             summary="A version's data, streamed; metered and counted against the quotas")
    def download(product: str, version: int, request: Request,
                 format: Literal["parquet", "csv"] = "parquet",  # noqa: A002 - the API's name
                 grant: Grant = Depends(grant_of)):
        return offer.download(resources(), grant, product, version, format)

    @app.get("/api/v1/usage", summary="This licence's use this month and its quotas")
    def usage(request: Request, grant: Grant = Depends(grant_of)):
        import datetime as dt

        month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        with resources().db.session() as s:
            used = metering.usage(s, grant.licence_id, month)
        served(request, grant)
        return {"licence": grant.licence_id, "operator": grant.operator,
                "scenario": grant.scenario, "valid_until": grant.valid_until.isoformat(),
                "month": month, "downloads": used.downloads, "rows": used.rows,
                "bytes": used.bytes, "quota_downloads": grant.quota_downloads,
                "quota_rows": grant.quota_rows}

    app.include_router(delta_sharing.router(resources, grant_of, served))
    console.install(app, resources, inside_airflow)  # the web console, under /console/
    return app


def _warm_up(resources: Callable[[], Resources]) -> None:
    """Load the catalog and open (migrate) the database before the first request, not in it:
    concurrent first requests each loaded the catalog, seconds on a busy machine. A problem is
    logged and the server starts anyway; the requests that need the broken part are refused
    with the same message."""
    try:
        res = resources()
        res.catalog  # noqa: B018 - loaded once, here
        res.db.session().close()
    except (UserInputError, CatalogError) as exc:
        logging.getLogger(__name__).warning("operator API: %s", exc)


def _refuse(resources: Callable[[], Resources], request: Request,
            exc: AccessDenied) -> JSONResponse:
    refusals.record(resources(), request, exc)
    return JSONResponse(exc.body(), status_code=exc.status,
                        headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)
