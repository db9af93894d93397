"""The audit entry of a refused operator request, the API's and the console's alike."""

from __future__ import annotations

from fastapi import Request

from yishu.access import audit
from yishu.access.tokens import AccessDenied
from yishu.resources import Resources


def record(res: Resources, request: Request, exc: AccessDenied) -> None:
    """The audit entry of a refused operator request (the API's and the console's)."""
    grant = getattr(request.state, "grant", None)
    audit.record(res, "api.refuse", request.url.path, {
        "operator": grant.operator if grant else None,
        "licence": grant.licence_id if grant else None,
        "scenario": grant.scenario if grant else None,
        **{k: v for k, v in request.path_params.items() if k in ("product", "version")},
        "status": exc.status, "error": exc.error}, grant.operator if grant else "anonymous")
