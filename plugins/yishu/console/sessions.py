"""Console sessions: a cookie holding who signed in, encrypted and authenticated (Fernet:
AES-128-CBC + HMAC-SHA256, with its own timestamp) under a key of the installation.

A forged, altered or expired cookie decrypts to nothing, so it is no session at all. The
cookie only says who signed in when: every request checks again that the account (or the
operator's token, its licence and operator) is still active (auth.py). An operator's token
is kept inside the encrypted cookie so each request can be checked exactly as the API checks
it, and so the Delta Sharing profile can be handed out.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken

from yishu.resources import Resources

COOKIE = "yishu_console"
PRE_COOKIE = "yishu_console_signin"  # the sign-in form's CSRF value, before any session
LIFETIME = 8 * 3600  # seconds: a working day, then sign in again


@dataclass(frozen=True)
class Session:
    kind: str  # staff | operator
    name: str  # user name, or the operator's name
    role: str  # steward | admin | operator
    csrf: str  # the value every POST form of this session must carry
    token: str | None = None  # operator sessions: the licence token they signed in with


def _fernet(res: Resources) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(res.keys.console_session_key()[:32]))


def new(kind: str, name: str, role: str, token: str | None = None) -> Session:
    return Session(kind, name, role, secrets.token_urlsafe(32), token)


def encode(res: Resources, session: Session, *, at: float | None = None) -> str:
    data = json.dumps(asdict(session)).encode()
    return _fernet(res).encrypt_at_time(data, int(at if at is not None else time.time())
                                        ).decode()


def decode(res: Resources, cookie: str | None) -> Session | None:
    """The session in `cookie`, or None if it is missing, forged, altered or expired."""
    if not cookie:
        return None
    try:
        data = json.loads(_fernet(res).decrypt(cookie.encode(), ttl=LIFETIME))
        session = Session(**data)
    except (InvalidToken, ValueError, TypeError):
        return None
    if session.kind not in ("staff", "operator") or not session.csrf:
        return None
    return session
