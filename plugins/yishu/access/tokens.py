"""Bearer tokens bound to one licence, and who a token speaks for.

A token reads `yst_<id>_<secret>`: the id finds its row, the secret proves it. Only the
SHA-256 of the whole token is stored (tokens are 256-bit random, so a plain hash suffices);
it is shown once, when issued. Every request carries its licence, so its purpose (the
scenario) cannot be forgotten. `authenticate` fails closed: anything it cannot confirm is
refused, with the status an HTTP API returns and what the operator can do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, select

from yishu.access import audit
from yishu.db.models import Licence, Operator, Token
from yishu.errors import UserInputError
from yishu.resources import Resources

_TOKEN_RE = re.compile(r"yst_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
MAX_DAYS = 366


class AccessDenied(Exception):
    """A request refused: `status` is the HTTP status, `error` a stable code."""

    def __init__(self, status: int, error: str, detail: str, what_to_do: str):
        super().__init__(f"{error}: {detail}")
        self.status, self.error, self.detail, self.what_to_do = status, error, detail, what_to_do

    def body(self) -> dict:
        return {"error": self.error, "detail": self.detail, "what_to_do": self.what_to_do}


@dataclass(frozen=True)
class Grant:
    """What a valid token may do: its licence, operator and scenario, as of the request."""

    token_id: str
    licence_id: int
    operator: str
    scenario: str
    zone: str
    max_level: str
    valid_until: dt.date
    quota_rows: int | None
    quota_downloads: int | None


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(res: Resources, licence_id: int, days: int = 90, *, actor: str | None = None,
          now: dt.datetime | None = None) -> tuple[str, Token]:
    """A new token for an active licence; it expires after `days` or with the licence."""
    now = now or dt.datetime.now(dt.UTC)
    if not 1 <= days <= MAX_DAYS:
        raise UserInputError(f"--days {days}: give 1 to {MAX_DAYS} (issue a new token later)")
    with res.db.session() as s:
        licence = s.get(Licence, licence_id)
        if licence is None:
            raise UserInputError(f"unknown licence {licence_id}: see `yishu licence ls`")
        operator = s.get(Operator, licence.operator_id)
        if licence.status != "active" or operator.status != "active":
            raise UserInputError(f"licence {licence_id} is {licence.status} and its operator "
                                 f"{operator.status}: no token can be issued for it")
        licence_end = dt.datetime.combine(licence.valid_until, dt.time.max, dt.UTC)
        if licence_end <= now:
            raise UserInputError(f"licence {licence_id} ended on {licence.valid_until}")
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        token = f"yst_{token_id}_{secret}"
        row = Token(id=token_id, licence_id=licence.id, token_sha256=_sha256(token),
                    expires_at=min(now + dt.timedelta(days=days), licence_end))
        s.add(row)
        audit.append(res, s, "token.issue", f"token/{token_id}", {
            "licence": licence.id, "operator": operator.name,
            "expires_at": row.expires_at.isoformat()}, actor)
        s.commit()
        return token, row


def revoke(res: Resources, token_id: str, actor: str | None = None,
           now: dt.datetime | None = None) -> Token:
    with res.db.session() as s:
        row = s.get(Token, token_id)
        if row is None:
            raise UserInputError(f"unknown token id '{token_id}': see `yishu token ls`")
        if row.revoked_at is not None:
            raise UserInputError(f"token {token_id} is already revoked")
        row.revoked_at = now or dt.datetime.now(dt.UTC)
        audit.append(res, s, "token.revoke", f"token/{token_id}",
                     {"licence": row.licence_id}, actor)
        s.commit()
        return row


def list_tokens(res: Resources, licence_id: int | None = None) -> list[Token]:
    with res.db.session() as s:
        query = select(Token).order_by(Token.created_at)
        if licence_id is not None:
            query = query.where(Token.licence_id == licence_id)
        return list(s.scalars(query))


def authenticate(res: Resources, token: str | None, *,
                 now: dt.datetime | None = None) -> Grant:
    """Who `token` speaks for now, or AccessDenied. Revocation and expiry take effect at once:
    everything is read again on every call."""
    now = now or dt.datetime.now(dt.UTC)
    match = _TOKEN_RE.fullmatch(token or "")
    if match is None:
        raise AccessDenied(401, "unknown_token", "no token, or not a Yishu token",
                           "send `Authorization: Bearer yst_…` with the token you were issued")
    found = _with_licence(res, match.group(1))
    # compare digests in constant time, and compare even when the id is unknown
    stored = found.token_sha256 if found else _sha256("")
    if not hmac.compare_digest(stored, _sha256(token)) or found is None:
        raise AccessDenied(401, "unknown_token", "this token was never issued",
                           "check you copied the whole token; ask the bureau for a new one")
    return _grant(res, found, now)


def grant_of_link(res: Resources, token_id: str, *,
                  now: dt.datetime | None = None) -> Grant:
    """Who a signed download link speaks for now: the token it was issued to, checked again
    like `authenticate` (the caller has verified the link's signature, which stands in for
    the token's secret), so a revocation also stops links already handed out."""
    now = now or dt.datetime.now(dt.UTC)
    found = _with_licence(res, token_id)
    if found is None:
        raise AccessDenied(401, "unknown_token", "the link's token was never issued",
                           "query the table again with a valid token")
    return _grant(res, found, now)


# who a token speaks for, in one query built once (every request runs it)
_TOKENS, _LICENCES, _OPERATORS = Token.__table__, Licence.__table__, Operator.__table__
_WITH_LICENCE = (
    select(_TOKENS.c.id, _TOKENS.c.token_sha256, _TOKENS.c.revoked_at, _TOKENS.c.expires_at,
           _LICENCES.c.id.label("licence_id"), _LICENCES.c.status.label("licence_status"),
           _LICENCES.c.valid_until, _LICENCES.c.scenario, _LICENCES.c.zone,
           _LICENCES.c.max_level, _LICENCES.c.quota_rows, _LICENCES.c.quota_downloads,
           _OPERATORS.c.name.label("operator"), _OPERATORS.c.status.label("operator_status"))
    .join(_LICENCES, _TOKENS.c.licence_id == _LICENCES.c.id)
    .join(_OPERATORS, _LICENCES.c.operator_id == _OPERATORS.c.id)
    .where(_TOKENS.c.id == bindparam("token_id")))


def _with_licence(res: Resources, token_id: str):
    """A token with its licence and operator as they are now (a row), or None."""
    with res.db.connect() as c:
        return c.execute(_WITH_LICENCE, {"token_id": token_id}).first()


def _grant(res: Resources, row, now: dt.datetime) -> Grant:
    """The grant of a token whose proof was checked, as of `now` (fails closed)."""
    if row.revoked_at is not None:
        raise AccessDenied(401, "revoked_token", f"token {row.id} was revoked",
                           "ask the bureau for a new token")
    expires_at = audit.utc(row.expires_at)
    if expires_at <= now:
        raise AccessDenied(401, "expired_token", f"token {row.id} expired on "
                           f"{expires_at:%Y-%m-%d}", "ask the bureau for a new token")
    if row.operator_status != "active":
        raise AccessDenied(403, "operator_disabled", f"operator '{row.operator}' is disabled",
                           "contact the bureau's administrator")
    if row.licence_status != "active":
        raise AccessDenied(403, "licence_revoked", f"licence {row.licence_id} was revoked",
                           "contact the bureau's administrator")
    today = now.date()
    if row.valid_until < today:
        raise AccessDenied(403, "licence_expired", f"licence {row.licence_id} ended on "
                           f"{row.valid_until}", "apply for a renewed licence")
    scenario = res.catalog.scenarios.get(row.scenario)
    if scenario is None or scenario.expired(today):
        raise AccessDenied(403, "scenario_not_approved", f"scenario '{row.scenario}' is no "
                           "longer approved", "apply for the scenario's renewal")
    return Grant(row.id, row.licence_id, row.operator, row.scenario, row.zone, row.max_level,
                 row.valid_until, row.quota_rows, row.quota_downloads)


def profile(token: str, endpoint: str, expires_at: dt.datetime) -> dict:
    """The Delta Sharing profile of a token (what a client reads from a `.share` file)."""
    return {"shareCredentialsVersion": 1, "endpoint": endpoint.rstrip("/"),
            "bearerToken": token,
            "expirationTime": audit.utc(expires_at).strftime("%Y-%m-%dT%H:%M:%SZ")}


def write_profile(path: Path, token: str, endpoint: str, expires_at: dt.datetime) -> None:
    """A Delta Sharing profile for the token; created 0600 and never over an existing file
    (it holds the secret)."""
    content = profile(token, endpoint, expires_at)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UserInputError(f"--profile {path}: the file exists: choose another name or "
                             "remove it") from None
    except OSError as exc:
        raise UserInputError(f"--profile {path}: cannot be written ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(content, out, indent=1)
