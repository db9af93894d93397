"""Withdrawing a published version (撤回) and the signed revocation list.

A withdrawn version keeps its folder and voucher (what was delivered stays provable) but is
never delivered again; the bureau publishes the list of withdrawn versions signed with its key,
so an operator verifying a voucher can learn, when online, that it was withdrawn. The list is
checked with the pinned bureau key only, like vouchers.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from yishu.access import audit
from yishu.db.models import ProductVersion
from yishu.errors import UserInputError
from yishu.pipeline.voucher import VoucherError, check_signature, sign
from yishu.resources import Resources


def withdraw(res: Resources, product: str, version: int, reason: str,
             actor: str | None = None) -> ProductVersion:
    if not (reason or "").strip():
        raise UserInputError("--reason: say why (it goes into the audit log and the list)")
    with res.db.session() as s:
        found = s.scalars(select(ProductVersion).where(
            ProductVersion.product == product, ProductVersion.version == version)).first()
        if found is None:
            raise UserInputError(f"no published version {version} of '{product}': see "
                                 "`yishu catalog ls`")
        if found.withdrawn_at is not None:
            raise UserInputError(f"{product} v{version} was already withdrawn on "
                                 f"{audit.utc(found.withdrawn_at):%Y-%m-%d}")
        found.withdrawn_at, found.withdrawn_reason = dt.datetime.now(dt.UTC), reason.strip()
        audit.append(res, s, "version.withdraw", f"{found.zone}/{product}/v{version}",
                     {"reason": reason.strip(),
                      "voucher_signature": found.voucher["signature"]}, actor)
        s.commit()
        return found


def _signature_digest(voucher: dict) -> str:
    return hashlib.sha256(voucher["signature"].encode()).hexdigest()


def revocation_list(res: Resources) -> dict:
    """Every withdrawn version, signed with the bureau key (the same form as a voucher)."""
    with res.db.session() as s:
        withdrawn = s.scalars(select(ProductVersion).where(
            ProductVersion.withdrawn_at.is_not(None)).order_by(ProductVersion.withdrawn_at))
        revoked = [{"product": v.product, "zone": v.zone, "version": v.version,
                    "voucher_signature_sha256": _signature_digest(v.voucher),
                    "withdrawn_at": audit.utc(v.withdrawn_at).isoformat(),
                    "reason": v.withdrawn_reason} for v in withdrawn]
    return sign({"kind": "yishu.revocations", "issued_at": dt.datetime.now(dt.UTC).isoformat(),
                 "revoked": revoked}, res.keys)


def revoked_entry(revocations: object, voucher: dict, trusted_key_pem: str) -> dict | None:
    """The list's entry for this voucher (None if not withdrawn). The list must be signed by
    the pinned bureau key, else `VoucherError`: an unsigned list could hide a withdrawal."""
    if not isinstance(revocations, dict) or not isinstance(
            revocations.get("body", {}).get("revoked"), list):
        raise VoucherError("not a revocation list: ask the bureau for GET /api/v1/revocations")
    problem = check_signature(revocations, trusted_key_pem, "the revocation list")
    if problem:
        raise VoucherError(f"revocation list: {problem}")
    mine = _signature_digest(voucher)
    return next((e for e in revocations["body"]["revoked"]
                 if isinstance(e, dict) and e.get("voucher_signature_sha256") == mine), None)
