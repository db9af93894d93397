"""Pages of a licensed operator, signed in with its licence token: the licence with its
validity and quota left, the products and versions it may receive with download buttons
(the API's own download: metered, counted against the quotas, audited), each voucher and how
to verify it, a Delta Sharing profile, and its usage."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from yishu.access import audit, audit_group, metering, tokens
from yishu.access.tokens import AccessDenied
from yishu.api import offer, refusals
from yishu.console import charts
from yishu.console.web import HEADERS, Identity, Web, base
from yishu.db.models import Delivery


def _this_month() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def _left(quota: int | None, used: int) -> int | None:
    return None if quota is None else max(quota - used, 0)


def routes(router: APIRouter, web: Web) -> None:
    operator = web.page("operator")
    acting = web.action("operator")

    @router.get("/operator/")
    def home(request: Request, me: Identity = Depends(operator)):
        res, grant = web.resources(), me.grant
        with res.db.session() as s:
            used = metering.usage(s, grant.licence_id, _this_month())
        products = []
        for name in offer.licensed_products(res, grant):
            spec = res.catalog.products[name]
            products.append({"name": name, "title": spec.title_zh, "title_en": spec.title_en,
                             "versions": [offer.describe(v) for v in
                                          reversed(offer.versions(res, grant, name))]})
        return web.render(request, "operator/home.html", me, g=grant, used=used,
                          left_downloads=_left(grant.quota_downloads, used.downloads),
                          left_rows=_left(grant.quota_rows, used.rows),
                          scenario=res.catalog.scenarios[grant.scenario],
                          products=products, days_left=(grant.valid_until - dt.date.today()
                                                        ).days)

    @router.post("/operator/download/{product}/v{version}")
    def download(product: str, version: int, request: Request, format: str = Form("parquet"),  # noqa: A002
                 me: Identity = Depends(acting)):
        res = web.resources()
        request.state.grant = me.grant  # a refusal's audit entry names the licence
        try:
            if format not in offer.FILES:
                raise AccessDenied(422, "invalid_request", f"format '{format}'",
                                   "choose parquet or csv")
            return offer.download(res, me.grant, product, version, format)
        except AccessDenied as exc:
            refusals.record(res, request, exc)
            return web.render(request, "error.html", me, status=exc.status,
                              message=f"{exc.detail}: {exc.what_to_do}")

    @router.get("/operator/voucher/{product}/v{version}")
    def voucher(product: str, version: int, request: Request, me: Identity = Depends(operator)):
        res = web.resources()
        try:
            found = offer.version(res, me.grant, product, version)
        except AccessDenied as exc:
            request.state.grant = me.grant
            refusals.record(res, request, exc)
            return web.render(request, "error.html", me, status=exc.status,
                              message=f"{exc.detail}: {exc.what_to_do}")
        return web.render(request, "operator/voucher.html", me, v=found,
                          voucher=json.dumps(found.voucher, ensure_ascii=False, indent=1))

    @router.get("/operator/voucher/{product}/v{version}/voucher.json")
    def voucher_file(product: str, version: int, request: Request,
                     me: Identity = Depends(operator)):
        found = offer.version(web.resources(), me.grant, product, version)
        return Response(json.dumps(found.voucher, ensure_ascii=False, indent=1),
                        media_type="application/json", headers={
                            **HEADERS, "Content-Disposition":
                            f'attachment; filename="{product}_v{version}.voucher.json"'})

    @router.post("/operator/profile")
    def profile(request: Request, me: Identity = Depends(acting)):
        """The Delta Sharing profile of the token this session signed in with."""
        res = web.resources()
        row = next(t for t in tokens.list_tokens(res, me.grant.licence_id)
                   if t.id == me.grant.token_id)
        endpoint = str(request.base_url).rstrip("/") + base(request).removesuffix(
            "/console") + "/delta-sharing"
        audit_group.record(res, "console.profile", f"token/{row.id}",
                     {"licence": me.grant.licence_id, "endpoint": endpoint}, me.actor)
        body = tokens.profile(me.session.token, endpoint, row.expires_at)
        return Response(json.dumps(body, indent=1), media_type="application/json", headers={
            **HEADERS, "Content-Disposition": 'attachment; filename="yishu.share"'})

    @router.get("/operator/usage")
    def usage(request: Request, me: Identity = Depends(operator)):
        res, grant = web.resources(), me.grant
        with res.db.session() as s:
            delivered = list(s.scalars(select(Delivery).where(
                Delivery.licence_id == grant.licence_id).order_by(Delivery.at.desc())))
            used = metering.usage(s, grant.licence_id, _this_month())
        per_month: dict[str, list[int]] = {}
        for d in delivered:
            month = audit.utc(d.at).strftime("%Y-%m")
            per_month.setdefault(month, [0, 0])
            per_month[month][0] += 1
            per_month[month][1] += d.rows
        months = sorted(per_month)
        chart = charts.monthly_bars(months, {"下载 downloads": [per_month[m][0]
                                                                for m in months]},
                                    "每月下载 downloads per month", "次")
        return web.render(request, "operator/usage.html", me, g=grant, used=used,
                          delivered=delivered[:50], chart=chart, utc=audit.utc,
                          left_downloads=_left(grant.quota_downloads, used.downloads),
                          left_rows=_left(grant.quota_rows, used.rows))
