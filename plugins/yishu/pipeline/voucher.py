"""数据资产凭证 — the signed voucher of a product version, verifiable offline.

The signature is Ed25519 over the canonical JSON of the voucher body (sorted keys, UTF-8,
no spaces); the public key travels in the voucher so an operator needs nothing else, and
operators pin the bureau's published key (`yishu voucher public-key`) to trust it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from yishu.keys import Keys, public_key_pem


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


def verify(voucher: dict, folder: Path | None = None, trusted_key_pem: str | None = None,
           ) -> list[str]:
    """Problems with a voucher (empty when valid): signature, key, and file hashes."""
    problems = []
    pem = voucher.get("public_key", "")
    if trusted_key_pem and pem.strip() != trusted_key_pem.strip():
        problems.append("voucher was signed by a key other than the bureau's trusted key")
    try:
        public = serialization.load_pem_public_key(pem.encode())
        public.verify(base64.b64decode(voucher["signature"]), canonical(voucher["body"]))
    except (InvalidSignature, KeyError, ValueError):
        problems.append("signature does not match the voucher body: it was altered or forged")
    if folder is not None:
        for name, sha in voucher.get("body", {}).get("files", {}).items():
            path = folder / name
            if not path.exists():
                problems.append(f"{name}: file missing")
            elif file_sha256(path) != sha:
                problems.append(f"{name}: SHA-256 differs from the voucher: file was altered")
    return problems
