"""The audit entry of a refused operator request, the API's and the console's alike."""

from __future__ import annotations

from fastapi import Request

from yishu.access import audit_group
from yishu.access.tokens import AccessDenied
from yishu.resources import Resources


def entry(request: Request, exc: AccessDenied) -> tuple:
    """The audit entry (action, subject, detail, actor) of a refused operator request."""
    grant = getattr(request.state, "grant", None)
    return ("api.refuse", request.url.path, {
        "operator": grant.operator if grant else None,
        "licence": grant.licence_id if grant else None,
        "scenario": grant.scenario if grant else None,
        **{k: v for k, v in request.path_params.items() if k in ("product", "version")},
        "status": exc.status, "error": exc.error}, grant.operator if grant else "anonymous")


def record(res: Resources, request: Request, exc: AccessDenied) -> None:
    """The audit entry of a refused operator request (the console's, from a thread)."""
    audit_group.record(res, *entry(request, exc))
