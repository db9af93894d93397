"""数据资产凭证 — the signed voucher of a product version, verifiable offline.

The signature is Ed25519 over the canonical JSON of the voucher body (sorted keys, UTF-8,
no spaces). Verification trusts only a key the verifier pinned (the bureau's public key,
exported once with `yishu voucher export-key`), never the `public_key` the voucher carries:
anyone can sign an edited body with a key of their own and put that key in the voucher.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from yishu.errors import UserInputError
from yishu.keys import Keys, public_key_pem

VOUCHER_FILE = "voucher.json"


class VoucherError(UserInputError):
    """A voucher or a trusted key that cannot be read as one (the message says which field)."""


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sign(body: dict, keys: Keys) -> dict:
    key = keys.signing_key()
    return {"body": body, "algorithm": "Ed25519",
            "public_key": public_key_pem(key.public_key()),
            "signature": base64.b64encode(key.sign(canonical(body))).decode()}


def load_trusted_key(pem: str | bytes, where: str = "trusted key") -> Ed25519PublicKey:
    """The pinned bureau key: an Ed25519 public key in PEM, or `VoucherError`."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, binascii.Error):
        raise VoucherError(f"{where}: not a PEM public key: pass the file written by "
                           "`yishu voucher export-key`") from None
    if not isinstance(key, Ed25519PublicKey):
        raise VoucherError(f"{where}: not an Ed25519 key ({type(key).__name__}): vouchers are "
                           "signed with the bureau's Ed25519 key, pass the file written by "
                           "`yishu voucher export-key`")
    return key


def check_shape(voucher: object) -> dict:
    """The fields verification reads, each of the right type, or `VoucherError` naming it."""
    if not isinstance(voucher, dict):
        raise VoucherError("not a voucher: a JSON object with body, algorithm and signature "
                           "is expected")
    for field, kind in (("body", dict), ("algorithm", str), ("signature", str)):
        if not isinstance(voucher.get(field), kind):
            raise VoucherError(f"field '{field}' is missing or not a {kind.__name__}: not a "
                               "voucher written by Yishu; ask the bureau for it again")
    files = voucher["body"].get("files")
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise VoucherError("field 'body.files' is missing or not a map of file name to "
                           "SHA-256: not a voucher written by Yishu; ask the bureau for it again")
    return voucher


def verify(voucher: object, trusted_key_pem: str, folder: Path | None = None) -> list[str]:
    """Problems with a voucher (empty when valid): its signature checked with the pinned
    bureau key only, and, given the version folder, exactly the files it lists with their
    SHA-256. A malformed voucher or key raises `VoucherError`."""
    voucher = check_shape(voucher)
    problems = [p for p in [check_signature(voucher, trusted_key_pem)] if p]
    if folder is not None:
        problems += _folder_problems(voucher["body"]["files"], Path(folder))
    return problems


def check_signature(signed: dict, trusted_key_pem: str, what: str = "the voucher") -> str | None:
    """What is wrong with the signature of a document the bureau signed (a voucher, the
    revocation list), checked with the pinned key only; None when it is valid."""
    trusted = load_trusted_key(trusted_key_pem)
    if not isinstance(signed.get("signature"), str) or not isinstance(signed.get("body"), dict):
        raise VoucherError("field 'signature' or 'body' is missing: not signed by Yishu")
    if signed.get("algorithm") != "Ed25519":
        return f"algorithm '{signed.get('algorithm')}' is not Ed25519"
    try:
        trusted.verify(base64.b64decode(signed["signature"], validate=True),
                       canonical(signed["body"]))
    except (InvalidSignature, ValueError, binascii.Error):
        if str(signed.get("public_key", "")).strip() != public_key_pem(trusted).strip():
            return (f"not signed by the bureau's trusted key: {what} was re-signed with "
                    "another key (forged), or the trusted key is not the bureau's")
        return f"signature does not match {what} body: it was altered or forged"
    return None


def _folder_problems(files: dict[str, str], folder: Path) -> list[str]:
    """The folder must hold exactly the listed files (and the voucher), each unchanged."""
    problems = []
    for name, sha in sorted(files.items()):
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            problems.append(f"{name}: not a file name inside the version folder")
        elif not path.is_file():
            problems.append(f"{name}: file missing")
        elif file_sha256(path) != sha:
            problems.append(f"{name}: SHA-256 differs from the voucher: file was altered")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if not p.is_dir()}
    for name in sorted(present - set(files) - {VOUCHER_FILE}):
        problems.append(f"{name}: file not listed in the voucher: it was added to the version")
    return problems
