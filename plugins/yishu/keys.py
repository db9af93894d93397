"""Keys of the bureau: Ed25519 signing key, per-zone pseudonymization secrets, the encryption key.

Each key is read from the environment (YISHU_KEY_<NAME>, hex or PEM) or from YISHU_HOME/keys
(created on first use, mode 0600). Keys are never written into the repository.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yishu import settings, storage


def _secret(name: str, size: int = 32) -> bytes:
    given = settings.secret_from_env(name)
    if given:
        return bytes.fromhex(given)
    path = storage.keys_dir() / f"{name}.key"
    if not path.exists():
        storage.write_private(path, secrets.token_bytes(size).hex().encode())
    return bytes.fromhex(path.read_text().strip())


def pseudonym_secret(zone: str) -> bytes:
    """One secret per zone: tokens join inside a zone and cannot be linked across zones."""
    return _secret(f"pseudonym_{zone}")


def encryption_key() -> bytes:
    """AES-SIV key (64 bytes) for deterministic, bureau-reversible encryption."""
    return _secret("bureau_encryption", 64)


def signing_key() -> Ed25519PrivateKey:
    given = settings.secret_from_env("signing")
    if given:
        return serialization.load_pem_private_key(given.encode(), password=None)
    path = storage.keys_dir() / "bureau_signing.pem"
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        storage.write_private(path, pem)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    key = key or signing_key().public_key()
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
