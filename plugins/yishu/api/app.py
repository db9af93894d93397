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
import datetime as dt
import logging
from collections.abc import Callable
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from yishu.access import audit, audit_group, metering, tokens
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

    def served(request: Request, grant: Grant, **detail) -> audit.Recorded:
        return audit_group.record(resources(), *_served_entry(request, grant, detail))

    async def answer(request: Request, work: Callable[[Resources, Grant], object], **detail):
        """Authenticate and do `work` in one worker thread (the database is never queried on
        the event loop; each hop to a thread costs more CPU than the queries), then await the
        request's audit entry on the loop, which no thread waits for."""
        def authorized_work():
            grant = grant_of(request)
            return grant, work(resources(), grant)

        grant, body = await run_in_threadpool(authorized_work)
        await audit_group.record_async(resources(), *_served_entry(request, grant, detail))
        return body

    # a refusal's audit entry, like a served request's, is awaited without holding a thread
    @app.exception_handler(AccessDenied)
    async def refused(request: Request, exc: AccessDenied):
        await audit_group.record_async(resources(), *refusals.entry(request, exc))
        return _refusal(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return await refused(request, AccessDenied(
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
    async def products(request: Request):
        return await answer(request, _listing)

    @app.get("/api/v1/products/{product}", summary="One product and its latest version")
    async def product_detail(product: str, request: Request):
        return await answer(request, lambda res, grant: _detail(res, grant, product),
                            product=product)

    @app.get("/api/v1/products/{product}/versions", summary="The versions this licence allows")
    async def product_versions(product: str, request: Request):
        return await answer(request, lambda res, grant: {"product": product, "versions": [
            offer.describe(v) for v in offer.versions(res, grant, product)]}, product=product)

    @app.get("/api/v1/products/{product}/versions/{version}/voucher",
             summary="The signed voucher of a version")
    async def voucher(product: str, version: int, request: Request):
        return await answer(request, lambda res, grant: offer.version(
            res, grant, product, version).voucher, product=product, version=version)

    @app.get("/api/v1/products/{product}/versions/{version}/download",
             summary="A version's data, streamed; metered and counted against the quotas")
    async def download(product: str, version: int, request: Request,
                       format: Literal["parquet", "csv"] = "parquet"):  # noqa: A002 - the API's
        # metered and audited in the transaction that checks the quotas (offer.download)
        return await run_in_threadpool(lambda: offer.download(
            resources(), grant_of(request), product, version, format))

    @app.get("/api/v1/usage", summary="This licence's use this month and its quotas")
    async def usage(request: Request):
        return await answer(request, _usage)

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


def _served_entry(request: Request, grant: Grant, detail: dict) -> tuple:
    """The audit entry (action, subject, detail, actor) of a served request."""
    return ("api.request", request.url.path, {
        "operator": grant.operator, "licence": grant.licence_id, "scenario": grant.scenario,
        "status": 200, **detail}, grant.operator)


def _refusal(exc: AccessDenied) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status,
                        headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)


def _listing(res: Resources, grant: Grant) -> dict:
    listed = []
    for name, numbers in offer.deliverable_numbers(res, grant).items():
        product = res.catalog.products[name]
        listed.append({"product": name, "title_zh": product.title_zh,
                       "title_en": product.title_en, "zone": product.zone,
                       "latest_version": numbers[-1] if numbers else None,
                       "versions": len(numbers)})
    return {"scenario": grant.scenario, "zone": grant.zone, "max_level": grant.max_level,
            "products": listed}


def _detail(res: Resources, grant: Grant, product: str) -> dict:
    allowed = offer.deliverable(offer.versions(res, grant, product))
    spec = res.catalog.products[product]
    return {"product": product, "title_zh": spec.title_zh, "title_en": spec.title_en,
            "zone": spec.zone, "scenarios": list(spec.scenarios),
            "latest": offer.describe(allowed[-1]) if allowed else None}


def _usage(res: Resources, grant: Grant) -> dict:
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    with res.db.session() as s:
        used = metering.usage(s, grant.licence_id, month)
    return {"licence": grant.licence_id, "operator": grant.operator,
            "scenario": grant.scenario, "valid_until": grant.valid_until.isoformat(),
            "month": month, "downloads": used.downloads, "rows": used.rows,
            "bytes": used.bytes, "quota_downloads": grant.quota_downloads,
            "quota_rows": grant.quota_rows}
