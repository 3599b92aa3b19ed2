"""Encryption at rest (Fernet / MultiFernet) and keyed hashes for looking reporters up.

Keys: ``security.encryption_key`` (one key, or several separated by commas, newest first), else the
file named by ``security.key_file``. The first key encrypts; every key decrypts, so a rotation can
re-encrypt row by row while old rows stay readable.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)


class KeyMaterialError(Exception):
    """The key material is missing or unusable."""


class Vault:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise KeyMaterialError("no encryption key")
        try:
            self._fernets = [Fernet(k.strip().encode()) for k in keys if k.strip()]
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError(
                "config key 'security.encryption_key' is not a Fernet key "
                "(generate one with `ppa-bot keys generate`)"
            ) from exc
        self._multi = MultiFernet(self._fernets)
        seed = b"ppa-bot reporter hash\0" + keys[0].strip().encode()
        self._hash_key = hashlib.sha256(seed).digest()

    def encrypt_text(self, plain: str) -> str:
        return self._multi.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt_text(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise KeyMaterialError(
                "a stored value cannot be decrypted with the configured keys") from exc

    def rotate_text(self, token: str) -> str:
        return self._multi.rotate(token.encode("ascii")).decode("ascii")

    def secret_for(self, purpose: str) -> bytes:
        """A server secret for one purpose, derived from the lookup key (as ``hash_id`` is):
        the PIN hashes are keyed with it, so a copy of the database alone cannot test PINs."""
        return hmac.new(self._hash_key, b"purpose\0" + purpose.encode(), hashlib.sha256).digest()

    def hash_id(self, telegram_id: int) -> str:
        """Keyed hash of a Telegram id: lets us find a reporter's rows without storing the id."""
        return hmac.new(self._hash_key, str(telegram_id).encode(), hashlib.sha256).hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_keys(configured: str, key_file: Path, *, create: bool) -> list[str]:
    """Keys from config, else from the key file; create the file (mode 0600) when asked."""
    if configured.strip():
        return [k for k in configured.split(",") if k.strip()]
    if key_file.is_file():
        return [k for k in key_file.read_text().split() if k.strip()]
    if not create:
        raise KeyMaterialError(
            f"no encryption key: set security.encryption_key (PPA_BOT_SECURITY__ENCRYPTION_KEY) "
            f"or create {key_file} with `ppa-bot keys generate`"
        )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(generate_key() + "\n")
    log.warning(
        "generated a new encryption key in %s: back it up; without it the reports cannot be read",
        key_file,
    )
    return load_keys("", key_file, create=False)
