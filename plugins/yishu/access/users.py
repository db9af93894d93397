"""Console accounts of the bureau's staff: stewards and administrators.

Passwords are kept as scrypt hashes (hashlib, memory-hard; parameters stored with each hash so
they can be raised later). `sign_in` fails closed: an unknown name, a wrong password and a
disabled account are all refused the same way, and an unknown name costs a hash too, so the
answer's timing does not tell which names exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select

from yishu.access import audit
from yishu.db.models import ConsoleUser
from yishu.errors import UserInputError
from yishu.resources import Resources

ROLES = ("steward", "admin")
MIN_PASSWORD = 12
_NAME = re.compile(r"[a-z][a-z0-9_.-]{1,63}")
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB and a few tens of ms per check


class SignInRefused(Exception):
    """Name or password wrong, or the account disabled (deliberately not saying which)."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(key).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                               r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):  # a damaged hash never matches
        return False
    return hmac.compare_digest(found, base64.b64decode(key))


_DUMMY = hash_password("never a password", salt=b"\0" * 16)


def add_user(res: Resources, name: str, role: str, password: str,
             actor: str | None = None) -> ConsoleUser:
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise UserInputError(f"user name {name!r}: use 2–64 lower-case letters, digits, '.', "
                             "'_' or '-', starting with a letter")
    if role not in ROLES:
        raise UserInputError(f"--role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserInputError(f"the password is {len(password)} characters: give at least "
                             f"{MIN_PASSWORD} on standard input")
    with res.db.session() as s:
        if s.scalars(select(ConsoleUser).where(ConsoleUser.name == name)).first():
            raise UserInputError(f"user '{name}' exists already: see `yishu user ls`")
        user = ConsoleUser(name=name, role=role, password_hash=hash_password(password),
                           status="active")
        s.add(user)
        audit.append(res, s, "user.add", f"user/{name}", {"role": role}, actor)
        s.commit()
        return user


def disable_user(res: Resources, name: str, reason: str,
                 actor: str | None = None) -> ConsoleUser:
    if not (reason or "").strip():
        raise UserInputError("--reason: say why (it goes into the audit log)")
    with res.db.session() as s:
        user = s.scalars(select(ConsoleUser).where(ConsoleUser.name == name)).first()
        if user is None:
            raise UserInputError(f"unknown user '{name}': see `yishu user ls`")
        if user.status == "disabled":
            raise UserInputError(f"user '{name}' is already disabled")
        user.status = "disabled"
        audit.append(res, s, "user.disable", f"user/{name}", {"reason": reason.strip()},
                     actor)
        s.commit()
        return user


def list_users(res: Resources) -> list[ConsoleUser]:
    with res.db.session() as s:
        return list(s.scalars(select(ConsoleUser).order_by(ConsoleUser.name)))


def active_user(res: Resources, name: str) -> ConsoleUser | None:
    """The account if it exists and is active now (read again on every console request)."""
    with res.db.session() as s:
        user = s.scalars(select(ConsoleUser).where(ConsoleUser.name == name)).first()
    return user if user is not None and user.status == "active" else None


def sign_in(res: Resources, name: str, password: str) -> ConsoleUser:
    with res.db.session() as s:
        user = s.scalars(select(ConsoleUser).where(ConsoleUser.name == (name or "").strip())
                         ).first()
    ok = check_password(password or "", user.password_hash if user else _DUMMY)
    if user is None or not ok or user.status != "active":
        raise SignInRefused("name or password wrong, or the account is disabled")
    return user
