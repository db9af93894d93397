"""What a licence may receive: the published versions of its scenario's products, at or below
its security level. Everything outside that is refused with the reason and what to do."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse
from sqlalchemy import bindparam, select

from yishu.access import audit, metering
from yishu.access.tokens import AccessDenied, Grant
from yishu.db.models import ProductVersion
from yishu.definitions import LEVELS
from yishu.resources import Resources


def _level_ok(level: str, grant: Grant) -> bool:
    return level in LEVELS and LEVELS.index(level) <= LEVELS.index(grant.max_level)


def licensed_products(res: Resources, grant: Grant) -> list[str]:
    scenario = res.catalog.scenarios[grant.scenario]  # authenticate() checked it exists
    return [name for name in scenario.products if name in res.catalog.products]


def check_product(res: Resources, grant: Grant, product: str) -> None:
    if product not in res.catalog.products:
        raise AccessDenied(404, "unknown_product", f"no product '{product}'",
                           "list what you may receive with GET /api/v1/products")
    if product not in licensed_products(res, grant):
        raise AccessDenied(403, "product_outside_scenario", f"'{product}' is not a product of "
                           f"scenario '{grant.scenario}'",
                           "apply for a licence for a scenario that includes it")


def versions(res: Resources, grant: Grant, product: str) -> list[ProductVersion]:
    """The versions of a licensed product this licence's level allows, oldest first
    (withdrawn ones included, marked as such by `describe`)."""
    check_product(res, grant, product)
    with res.db.session() as s:
        found = list(s.scalars(select(ProductVersion).where(ProductVersion.product == product)
                               .order_by(ProductVersion.version)))
    return [v for v in found if _level_ok(v.security_level, grant)]


def version(res: Resources, grant: Grant, product: str, number: int) -> ProductVersion:
    check_product(res, grant, product)
    with res.db.session() as s:
        found = s.scalars(select(ProductVersion).where(
            ProductVersion.product == product, ProductVersion.version == number)).first()
    if found is None:
        raise AccessDenied(404, "unknown_version", f"'{product}' has no version {number}",
                           f"list versions with GET /api/v1/products/{product}/versions")
    if not _level_ok(found.security_level, grant):
        raise AccessDenied(403, "level_too_high", f"'{product}' v{number} is "
                           f"{found.security_level}, above this licence's {grant.max_level}",
                           "apply for a licence with a higher level")
    if found.withdrawn_at is not None:
        raise AccessDenied(403, "withdrawn_version", f"'{product}' v{number} was withdrawn: "
                           f"{found.withdrawn_reason}", "use a later version (GET "
                           f"/api/v1/products/{product}/versions) and stop using this one")
    return found


# the listing's one query (every listing runs it): numbers and levels only, no vouchers
_VERSIONS = ProductVersion.__table__
_DELIVERABLE = (select(_VERSIONS.c.product, _VERSIONS.c.version, _VERSIONS.c.security_level)
                .where(_VERSIONS.c.product.in_(bindparam("names", expanding=True)),
                       _VERSIONS.c.withdrawn_at.is_(None))
                .order_by(_VERSIONS.c.product, _VERSIONS.c.version))


def deliverable_numbers(res: Resources, grant: Grant) -> dict[str, list[int]]:
    """Every licensed product with the numbers of the versions this licence may receive now,
    oldest first: `deliverable(versions(...))` of each product, in one query."""
    found: dict[str, list[int]] = {name: [] for name in licensed_products(res, grant)}
    with res.db.connect() as c:
        for row in c.execute(_DELIVERABLE, {"names": list(found)}):
            if _level_ok(row.security_level, grant):
                found[row.product].append(row.version)
    return found


def deliverable(found: list[ProductVersion]) -> list[ProductVersion]:
    return [v for v in found if v.withdrawn_at is None]


def describe(v: ProductVersion) -> dict:
    body = v.voucher["body"]
    return {"product": v.product, "version": v.version, "zone": v.zone,
            "partition": v.partition, "rows": v.rows, "security_level": v.security_level,
            "quality_grade": v.quality_grade, "published_at": v.created_at.isoformat(),
            "files": body.get("files", {}), "schema": body.get("schema", {}),
            "withdrawn": None if v.withdrawn_at is None else {
                "at": audit.utc(v.withdrawn_at).isoformat(), "reason": v.withdrawn_reason}}


FILES = {"parquet": ("data.parquet", "application/vnd.apache.parquet"),
         "csv": ("data.csv", "text/csv; charset=utf-8")}


def download(res: Resources, grant: Grant, product: str, number: int,
             fmt: str) -> FileResponse:
    """A version's file for this licence, metered and audited (`metering.deliver`) before
    it streams: the API's download and the console's download buttons."""
    found = version(res, grant, product, number)
    name, media = FILES[fmt]
    path = Path(found.path) / name
    size = path.stat().st_size
    metering.deliver(res, grant, product, number, fmt, found.rows, size)
    return FileResponse(path, media_type=media, filename=f"{product}_v{number}.{fmt}",
                        headers={"X-Yishu-SHA256": found.voucher["body"]["files"][name],
                                 "X-Yishu-Rows": str(found.rows)})
