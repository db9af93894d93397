"""Pages of bureau administrators: operators, licences, tokens, scenarios, usage, the audit
log (with Verify) and version withdrawal. Every change goes through the access/ and pipeline/
functions the CLI uses, with the signed-in administrator as the audit actor."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select

from yishu.access import audit, audit_group, integrity, licences, metering, tokens
from yishu.console import charts
from yishu.console.catalog import versions_of
from yishu.console.web import Identity, Web
from yishu.db.models import Delivery
from yishu.definitions import LEVELS
from yishu.errors import UserInputError
from yishu.pipeline.withdrawal import withdraw

AUDIT_SHOWN = 100


def _optional_int(value: str, field: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise UserInputError(f"{field} '{value}': give a whole number, or leave it empty"
                             ) from None


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise UserInputError(f"{field} '{value}': give a date written YYYY-MM-DD") from None


def monthly_usage(res) -> tuple[list[str], dict[str, list[float]], dict[str, list[float]]]:
    """Months with deliveries, and per operator the downloads and rows of each month."""
    with res.db.session() as s:
        rows = s.execute(select(Delivery.operator, Delivery.at, Delivery.rows)).all()
    downloads: dict = defaultdict(lambda: defaultdict(int))
    counted: dict = defaultdict(lambda: defaultdict(int))
    for operator, at, n in rows:
        month = audit.utc(at).strftime("%Y-%m")
        downloads[operator][month] += 1
        counted[operator][month] += n
    months = sorted({m for per in downloads.values() for m in per})
    as_series = lambda d: {op: [d[op][m] for m in months] for op in sorted(d)}  # noqa: E731
    return months, as_series(downloads), as_series(counted)


def routes(router: APIRouter, web: Web) -> None:
    admin = web.page("admin")
    acting = web.action("admin")

    def run(request: Request, path: str, ok: str, fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except UserInputError as exc:
            return web.back(request, path, error=str(exc))
        return web.back(request, path, ok=ok)

    @router.get("/admin/")
    def operators(request: Request, me: Identity = Depends(admin)):
        return web.render(request, "admin/operators.html", me,
                          operators=licences.list_operators(web.resources()))

    @router.post("/admin/operators")
    def operator_add(request: Request, name: str = Form(""), uscc: str = Form(""),
                     contact: str = Form(""), me: Identity = Depends(acting)):
        return run(request, "/admin/", f"已登记 registered: {name}", licences.add_operator,
                   web.resources(), name, uscc, contact or None, me.actor)

    @router.post("/admin/operators/disable")
    def operator_disable(request: Request, name: str = Form(""), reason: str = Form(""),
                         me: Identity = Depends(acting)):
        return run(request, "/admin/", f"已停用 disabled: {name}", licences.disable_operator,
                   web.resources(), name, reason, me.actor)

    @router.get("/admin/licences")
    def licence_list(request: Request, me: Identity = Depends(admin)):
        res = web.resources()
        month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        shown = []
        with res.db.session() as s:
            for lic, op in licences.list_licences(res):
                shown.append({"l": lic, "operator": op.name,
                              "used": metering.usage(s, lic.id, month)})
        return web.render(request, "admin/licences.html", me, licences=shown, month=month,
                          operators=[o for o in licences.list_operators(res)
                                     if o.status == "active"],
                          scenarios=res.catalog.scenarios, levels=LEVELS)

    @router.post("/admin/licences")
    def licence_grant(request: Request, operator: str = Form(""), scenario: str = Form(""),
                      max_level: str = Form(""), until: str = Form(""),
                      quota_rows: str = Form(""), quota_downloads: str = Form(""),
                      me: Identity = Depends(acting)):
        try:
            lic = licences.grant(web.resources(), operator, scenario, max_level,
                                 _date(until, "until"),
                                 quota_rows=_optional_int(quota_rows, "quota_rows"),
                                 quota_downloads=_optional_int(quota_downloads,
                                                               "quota_downloads"),
                                 actor=me.actor)
        except UserInputError as exc:
            return web.back(request, "/admin/licences", error=str(exc))
        return web.back(request, "/admin/licences",
                        ok=f"授权 {lic.id} 已授予 licence {lic.id} granted to {operator}")

    @router.post("/admin/licences/{licence_id}/revoke")
    def licence_revoke(licence_id: int, request: Request, reason: str = Form(""),
                       me: Identity = Depends(acting)):
        return run(request, "/admin/licences", f"授权 {licence_id} 已撤销 revoked",
                   licences.revoke, web.resources(), licence_id, reason, me.actor)

    def token_page(request: Request, me: Identity, issued: dict | None = None,
                   error: str | None = None):
        res = web.resources()
        owners = {lic.id: op.name for lic, op in licences.list_licences(res)}
        active = [(lic, op) for lic, op in licences.list_licences(res)
                  if lic.status == "active" and op.status == "active"]
        return web.render(request, "admin/tokens.html", me, tokens=tokens.list_tokens(res),
                          owners=owners, active=active, issued=issued, error=error,
                          now=dt.datetime.now(dt.UTC), utc=audit.utc)

    @router.get("/admin/tokens")
    def token_list(request: Request, me: Identity = Depends(admin)):
        return token_page(request, me)

    @router.post("/admin/tokens")
    def token_issue(request: Request, licence_id: str = Form(""), days: str = Form("90"),
                    me: Identity = Depends(acting)):
        try:
            number = _optional_int(licence_id, "licence")
            if number is None:
                raise UserInputError("licence: choose the licence the token is for")
            token, row = tokens.issue(web.resources(), number,
                                      _optional_int(days, "days") or 90, actor=me.actor)
        except UserInputError as exc:
            return token_page(request, me, error=str(exc))
        # shown this once, in this response only (never stored, never in a URL)
        return token_page(request, me, issued={"token": token, "id": row.id,
                                               "licence": number,
                                               "expires_at": audit.utc(row.expires_at)})

    @router.post("/admin/tokens/{token_id}/revoke")
    def token_revoke(token_id: str, request: Request, me: Identity = Depends(acting)):
        return run(request, "/admin/tokens", f"令牌 {token_id} 已吊销 revoked", tokens.revoke,
                   web.resources(), token_id, me.actor)

    @router.get("/admin/scenarios")
    def scenarios(request: Request, me: Identity = Depends(admin)):
        return web.render(request, "admin/scenarios.html", me,
                          scenarios=web.resources().catalog.scenarios,
                          today=dt.date.today())

    @router.get("/admin/usage")
    def usage(request: Request, month: str = "", me: Identity = Depends(admin)):
        res = web.resources()
        try:
            if month:
                metering.month_bounds(month)
        except ValueError:
            return web.render(request, "error.html", me, status=422,
                              message=f"month '{month}': give YYYY-MM")
        months, downloads, rows = monthly_usage(res)
        return web.render(request, "admin/usage.html", me, month=month,
                          report=metering.report(res, month=month or None),
                          downloads_chart=charts.monthly_bars(
                              months, downloads, "每月下载次数 downloads per month", "次"),
                          rows_chart=charts.monthly_bars(months, rows,
                                                         "每月交付行数 rows per month", "行"))

    def audit_page(request: Request, me: Identity, damage=None, verified: bool = False,
                   note: str | None = None):
        log = audit.entries(web.resources().db)
        return web.render(request, "admin/audit.html", me, entries=log[-AUDIT_SHOWN:][::-1],
                          total=len(log), damage=damage, verified=verified, note=note,
                          utc=audit.utc)

    @router.get("/admin/audit")
    def audit_log(request: Request, me: Identity = Depends(admin)):
        return audit_page(request, me)

    @router.post("/admin/audit/verify")
    def audit_verify(request: Request, me: Identity = Depends(acting)):
        res = web.resources()
        damage = integrity.verify(res)
        note = None
        try:  # the check is on the record too, unless the log is too damaged to extend
            audit_group.record(res, "audit.verify", "audit_log",
                         {"damage": [str(d) for d in damage][:5]}, me.actor)
        except audit.AuditRefused as exc:
            note = str(exc)
        return audit_page(request, me, damage=damage, verified=True, note=note)

    @router.get("/admin/versions")
    def version_list(request: Request, me: Identity = Depends(admin)):
        return web.render(request, "admin/versions.html", me,
                          versions=versions_of(web.resources()))

    @router.post("/admin/versions/{product}/v{version}/withdraw")
    def version_withdraw(product: str, version: int, request: Request,
                         reason: str = Form(""), me: Identity = Depends(acting)):
        return run(request, "/admin/versions", f"{product} v{version} 已撤回 withdrawn",
                   withdraw, web.resources(), product, version, reason, me.actor)
