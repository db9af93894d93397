"""The catalog for bureau staff: zones, products, versions with their levels and grades, and
one version's de-identification report, lineage to its source snapshots, voucher and the
result of verifying it with the bureau's key."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from yishu.console.web import STAFF, Identity, Web
from yishu.db.models import ProductVersion
from yishu.errors import UserInputError
from yishu.pipeline.provenance import provenance
from yishu.pipeline.voucher import VoucherError, verify


def versions_of(res, product: str | None = None) -> list[ProductVersion]:
    with res.db.session() as s:
        query = select(ProductVersion).order_by(ProductVersion.product, ProductVersion.version)
        if product is not None:
            query = query.where(ProductVersion.product == product)
        return list(s.scalars(query))


def voucher_check(res, v: ProductVersion) -> list[str]:
    """What verifying the version's voucher finds, as `yishu voucher verify` does with the
    bureau's own key: the signature, and the folder's files against it."""
    try:
        return verify(v.voucher, res.keys.public_key_pem(), Path(v.path))
    except VoucherError as exc:
        return [str(exc)]


def routes(router: APIRouter, web: Web) -> None:
    staff = web.page(*STAFF)

    @router.get("/catalog/")
    def overview(request: Request, me: Identity = Depends(staff)):
        res = web.resources()
        cat = res.catalog
        published = versions_of(res)
        zones = []
        for zone in cat.zones.values():
            products = []
            for name, p in sorted(cat.products.items()):
                if p.zone != zone.name:
                    continue
                mine = [v for v in published if v.product == name]
                products.append({"name": name, "title": p.title_zh, "source": p.source,
                                 "versions": mine, "latest": mine[-1] if mine else None})
            zones.append({"zone": zone, "products": products})
        return web.render(request, "catalog/overview.html", me, zones=zones)

    @router.get("/catalog/{product}")
    def product_page(product: str, request: Request, me: Identity = Depends(staff)):
        res = web.resources()
        spec = res.catalog.products.get(product)
        if spec is None:
            return web.render(request, "error.html", me, status=404,
                              message=f"没有该产品 no product '{product}'")
        return web.render(request, "catalog/product.html", me, name=product, spec=spec,
                          versions=versions_of(res, product))

    @router.get("/catalog/{product}/v{version}")
    def version_page(product: str, version: int, request: Request,
                     me: Identity = Depends(staff)):
        res = web.resources()
        try:
            lineage = provenance(res, product, version)
        except UserInputError as exc:
            return web.render(request, "error.html", me, status=404, message=str(exc))
        found = next(v for v in versions_of(res, product) if v.version == version)
        report_path = Path(found.path) / "deid_report.json"
        deid = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() \
            else {}
        return web.render(request, "catalog/version.html", me, v=found, lineage=lineage,
                          deid=deid, problems=voucher_check(res, found),
                          voucher=json.dumps(found.voucher, ensure_ascii=False, indent=1))
