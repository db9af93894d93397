"""Keys of the bureau: Ed25519 signing key, per-zone pseudonymization secrets, the encryption key.

Each key comes from the settings (YISHU_KEY_<NAME>, hex or PEM, given by the environment) or
from the state folder's keys/ (created on first use, mode 0600). Keys are never written into the
repository.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yishu.settings import Settings
from yishu.storage import Storage, write_private


class Keys:
    """The bureau's keys of one installation."""

    def __init__(self, settings: Settings, storage: Storage):
        self.settings, self.storage = settings, storage

    def _secret(self, name: str, size: int = 32) -> bytes:
        given = self.settings.secret(name)
        if given:
            return bytes.fromhex(given)
        path = self.storage.keys_dir() / f"{name}.key"
        if not path.exists():
            write_private(path, secrets.token_bytes(size).hex().encode())
        return bytes.fromhex(path.read_text().strip())

    def pseudonym_secret(self, zone: str) -> bytes:
        """One secret per zone: tokens join inside a zone and cannot be linked across zones."""
        return self._secret(f"pseudonym_{zone}")

    def encryption_key(self) -> bytes:
        """AES-SIV key (64 bytes) for deterministic, bureau-reversible encryption."""
        return self._secret("bureau_encryption", 64)

    def signing_key(self) -> Ed25519PrivateKey:
        given = self.settings.secret("signing")
        if given:
            return serialization.load_pem_private_key(given.encode(), password=None)
        path = self.storage.keys_dir() / "bureau_signing.pem"
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())
            write_private(path, pem)
        return serialization.load_pem_private_key(path.read_bytes(), password=None)

    def public_key_pem(self) -> str:
        return public_key_pem(self.signing_key().public_key())


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
