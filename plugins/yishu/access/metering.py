"""Metering and quotas (可控可计量): every delivery is recorded with its audit entry, and a
licence's monthly quotas are checked before a file is served.

The quota check, the delivery row and the audit entry share one transaction that first takes
the audit writers' lock, so concurrent downloads of one licence cannot both slip under a
quota. A delivery counts when it is granted (before the bytes stream): an interrupted download
still counts, as a served request does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yishu.access import audit
from yishu.access.tokens import AccessDenied, Grant
from yishu.db.models import AuditEntry, Delivery
from yishu.resources import Resources


@dataclass(frozen=True)
class Usage:
    month: str  # YYYY-MM
    downloads: int
    rows: int
    bytes: int


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of a calendar month (YYYY-MM, UTC) and of the next."""
    start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def usage(session: Session, licence_id: int, month: str) -> Usage:
    start, end = month_bounds(month)
    downloads, rows, size = session.execute(
        select(func.count(Delivery.id), func.coalesce(func.sum(Delivery.rows), 0),
               func.coalesce(func.sum(Delivery.bytes), 0))
        .where(Delivery.licence_id == licence_id, Delivery.at >= start, Delivery.at < end)).one()
    return Usage(month, downloads, rows, size)


def deliver(res: Resources, grant: Grant, product: str, version: int, fmt: str, rows: int,
            size: int, *, now: dt.datetime | None = None,
            link: int | None = None) -> Delivery | None:
    """Record a delivery and its audit entry, or raise AccessDenied(429) if it would exceed a
    quota of this calendar month (the refusal is then for the caller to audit).

    `link` is the audit seq of the Delta Sharing query that signed a download link: readers
    fetch a Parquet file in several ranged requests, so a link counts once, on its first
    request; later ones return None (nothing new delivered)."""
    now = now or dt.datetime.now(dt.UTC)
    month = now.strftime("%Y-%m")
    subject = f"{product}/v{version}" + (f"/link/{link}" if link is not None else "")
    with audit.queued(res), res.db.session() as s:
        audit.lock(res, s)  # serializes quota checks with every other writer
        if link is not None and s.scalars(select(AuditEntry.seq).where(
                AuditEntry.seq > link, AuditEntry.action == "api.deliver",
                AuditEntry.subject == subject)).first() is not None:
            return None
        used = usage(s, grant.licence_id, month)
        if grant.quota_downloads is not None and used.downloads + 1 > grant.quota_downloads:
            raise AccessDenied(429, "quota_exceeded", f"{used.downloads} of "
                               f"{grant.quota_downloads} downloads used in {month}",
                               "wait for next month or ask the bureau for a larger quota")
        if grant.quota_rows is not None and used.rows + rows > grant.quota_rows:
            raise AccessDenied(429, "quota_exceeded", f"{used.rows} of {grant.quota_rows} rows "
                               f"used in {month}; this version has {rows}",
                               "wait for next month or ask the bureau for a larger quota")
        entry = audit.append(res, s, "api.deliver", subject, {
            "operator": grant.operator, "licence": grant.licence_id,
            "scenario": grant.scenario, "product": product, "version": version,
            "format": fmt, "rows": rows, "bytes": size, "status": 200}, grant.operator)
        delivery = Delivery(at=now, operator=grant.operator, licence_id=grant.licence_id,
                            scenario=grant.scenario, product=product, version=version,
                            format=fmt, rows=rows, bytes=size, audit_seq=entry.seq)
        s.add(delivery)
        s.commit()
        return delivery


def report(res: Resources, *, operator: str | None = None,
           month: str | None = None) -> list[dict]:
    """Totals per operator, licence, scenario and product (optionally one operator or one
    calendar month)."""
    query = select(Delivery.operator, Delivery.licence_id, Delivery.scenario, Delivery.product,
                   func.count(Delivery.id), func.sum(Delivery.rows), func.sum(Delivery.bytes))
    if operator:
        query = query.where(Delivery.operator == operator)
    if month:
        start, end = month_bounds(month)
        query = query.where(Delivery.at >= start, Delivery.at < end)
    query = query.group_by(Delivery.operator, Delivery.licence_id, Delivery.scenario,
                           Delivery.product).order_by(Delivery.operator, Delivery.licence_id,
                                                      Delivery.product)
    with res.db.session() as s:
        return [{"operator": op, "licence": lic, "scenario": sc, "product": prod,
                 "downloads": n, "rows": int(r), "bytes": int(b)}
                for op, lic, sc, prod, n, r, b in s.execute(query)]
