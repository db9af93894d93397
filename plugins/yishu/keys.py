"""Keys of the bureau: Ed25519 signing key, per-zone pseudonymization secrets, the encryption key.

Each key comes from the settings (YISHU_KEY_<NAME>, hex or PEM, given by the environment) or
from the state folder's keys/ (created on first use, 0600, in a 0700 folder). A key file is
created whole and only if absent, then re-read, so concurrent first runs share one key. A new
signing key is never minted in a home that already published: its vouchers would stop
verifying. Keys are never written into the repository.
"""

from __future__ import annotations

import functools
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yishu.errors import UserInputError
from yishu.settings import Settings
from yishu.storage import Storage, create_private

MIN_SECRET_BYTES = 32  # 256 bits: the pseudonym HMAC keys; the AES-SIV key needs 64
SIGNING_KEY_FILE = "bureau_signing.pem"


class KeyProblem(UserInputError):
    """A key given by the environment or found in keys/ is unusable (message names which)."""


class Keys:
    """The bureau's keys of one installation."""

    def __init__(self, settings: Settings, storage: Storage):
        self.settings, self.storage = settings, storage

    def _secret(self, name: str, size: int = MIN_SECRET_BYTES) -> bytes:
        variable = f"YISHU_KEY_{name.upper()}"
        given = self.settings.secret(name)
        if given is None:
            path = self.storage.keys_dir() / f"{name}.key"
            if not path.exists():
                create_private(path, secrets.token_bytes(size).hex().encode())
            given, variable = path.read_text().strip(), str(path)
        try:
            key = bytes.fromhex(given)
        except ValueError:
            raise KeyProblem(f"{variable}: not a hex string: give {size} random bytes as "
                             f"{2 * size} hex characters (e.g. `openssl rand -hex {size}`)"
                             ) from None
        if len(key) < size:
            raise KeyProblem(f"{variable}: {len(key)} bytes is too short: at least {size} bytes "
                            f"({2 * size} hex characters) are needed (e.g. `openssl rand -hex "
                            f"{size}`)")
        return key

    def pseudonym_secret(self, zone: str) -> bytes:
        """One secret per zone: tokens join inside a zone and cannot be linked across zones."""
        return self._secret(f"pseudonym_{zone}")

    def link_secret(self) -> bytes:
        """HMAC key of the short-lived download links that Delta Sharing hands out."""
        return self._secret("download_links")

    def console_session_key(self) -> bytes:
        """Key of the web console's session cookies (encrypted and authenticated)."""
        return self._secret("console_sessions")

    def encryption_key(self) -> bytes:
        """AES-SIV key (64 bytes) for deterministic, bureau-reversible encryption."""
        return self._secret("bureau_encryption", 64)[:64]

    def signing_key(self) -> Ed25519PrivateKey:
        given = self.settings.secret("signing")
        if given is not None:
            return _private_key(given.encode(), "YISHU_KEY_SIGNING")
        path = self.storage.keys_dir() / SIGNING_KEY_FILE
        if not path.exists():
            self._may_mint_signing_key()
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())
            create_private(path, pem)
        return _private_key(path.read_bytes(), str(path))

    def _may_mint_signing_key(self) -> None:
        """A home that published (or signed its audit log) was signed by a key now missing:
        a new one would make every voucher and the log's head fail to verify."""
        home = self.storage.home
        if self.storage.has_published_versions() or (home / "audit" / "head.json").exists():
            raise KeyProblem(
                f"{home / 'keys' / SIGNING_KEY_FILE} is missing, but {home} already has "
                "published versions or a signed audit log: a new signing key would not verify "
                "them. Restore the key from the bureau's backup (or set YISHU_KEY_SIGNING), "
                "or set YISHU_HOME to the bureau's state folder if this is not it")

    def own_public_key_pem(self) -> str | None:
        """This installation's public key if it has a signing key (never minted here)."""
        if self.settings.secret("signing") is None and not (
                self.storage.home / "keys" / SIGNING_KEY_FILE).exists():
            return None
        return self.public_key_pem()

    def public_key_pem(self) -> str:
        return public_key_pem(self.signing_key().public_key())


def _private_key(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        return _parsed_private_key(pem)
    except (ValueError, TypeError):
        raise KeyProblem(f"{where}: not an unencrypted PEM private key: give the bureau's "
                        "Ed25519 signing key (PKCS8 PEM)") from None
    except _NotEd25519:
        raise KeyProblem(f"{where}: not an Ed25519 key: vouchers and the audit log are signed "
                        "with Ed25519") from None


class _NotEd25519(Exception):
    pass


@functools.lru_cache(maxsize=8)
def _parsed_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Parsed once per PEM (the key file is still read on every use, so a replaced key is
    used at once): the audit log signs a head on every API request."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise _NotEd25519
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
