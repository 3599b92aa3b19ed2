"""Column types that encrypt on the way into the database and decrypt on the way out.

The cipher is installed once at start-up (``install_cipher``); models only know that a column is
secret, not where the key comes from.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class Cipher(Protocol):
    def encrypt_text(self, plain: str) -> str: ...
    def decrypt_text(self, token: str) -> str: ...


_cipher: Cipher | None = None


def install_cipher(cipher: Cipher) -> None:
    global _cipher
    _cipher = cipher


def installed_cipher() -> Cipher:
    if _cipher is None:
        raise RuntimeError("no cipher installed: call models.encryption.install_cipher first")
    return _cipher


class EncryptedText(TypeDecorator[str]):
    """Text stored as a Fernet token; NULL stays NULL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return installed_cipher().encrypt_text(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return installed_cipher().decrypt_text(value)
