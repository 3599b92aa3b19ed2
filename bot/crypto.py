"""Encryption at rest (Fernet / MultiFernet) and the keyed hash that finds a reporter's rows.

Two secrets, kept apart on purpose:

- the **Fernet keys** (``security.encryption_key``: one key, or several separated by commas, newest
  first; else the key file). The first key encrypts; every key decrypts, so a rotation can
  re-encrypt row by row while old rows stay readable. ``ppa-bot keys rotate`` replaces them.
- the **lookup key** (``security.lookup_key``, else the key file's ``lookup`` line): 32 random
  bytes, generated together with the first Fernet key, that key the HMAC-SHA256 of a Telegram id
  (a blind index: reporters are found without storing their id). It is **never rotated**: a
  rotation that changed it would have to re-hash every reporter at the same instant as the key
  changes, and a bot running with ``NEW,OLD`` before the rotation would look reporters up under a
  hash nobody stored (a fork). Rotating the Fernet keys protects what is encrypted; the lookup key
  only protects the ids, which is why it stays put.

The key file (mode 0600)::

    # comment lines
    lookup <urlsafe base64 of 32 bytes>
    <newest Fernet key>
    <older Fernet key, only while a rotation runs>

A key file written before the lookup key existed has no ``lookup`` line. Its lookup key is then the
one those versions used, derived from the file's single (oldest) Fernet key::

    lookup = SHA-256(b"ppa-bot reporter hash\\0" + oldest_fernet_key_ascii)

and the bot writes it into the file at its next start (``ppa-bot run``), so that from then on it is
a secret of its own and a rotation cannot change it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

LOOKUP_PREFIX = "lookup "
LOOKUP_BYTES = 32
LEGACY_SEED = b"ppa-bot reporter hash\0"
KEY_FILE_HEADER = (
    "# ppa-bot keys. Back this file up, apart from the database: without it the reports cannot\n"
    "# be read. The lookup key finds a reporter's records and is never rotated.\n")


class KeyMaterialError(Exception):
    """The key material is missing or unusable (the message says what to restore or set)."""


def generate_key() -> str:
    """A new Fernet key."""
    return Fernet.generate_key().decode("ascii")


def generate_lookup_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(LOOKUP_BYTES)).decode("ascii")


def legacy_lookup_key(oldest_fernet_key: str) -> str:
    """The lookup key of data written before it was a secret of its own (see the module text)."""
    digest = hashlib.sha256(LEGACY_SEED + oldest_fernet_key.strip().encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _lookup_bytes(lookup_key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(lookup_key.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise KeyMaterialError(
            "config key 'security.lookup_key' is not a lookup key (32 bytes, url-safe base64; "
            "generate one with `ppa-bot keys generate --lookup`)") from exc
    if len(raw) != LOOKUP_BYTES:
        raise KeyMaterialError(
            "config key 'security.lookup_key' is not a lookup key (32 bytes, url-safe base64; "
            "generate one with `ppa-bot keys generate --lookup`)")
    return raw


class Vault:
    """Encrypts with the first Fernet key, decrypts with any; hashes ids with the lookup key.

    ``lookup_key`` None: derived from the oldest Fernet key as earlier versions did (tests and
    tools that make a vault for a throwaway database); the running bot always passes its own.
    """

    def __init__(self, keys: list[str], lookup_key: str | None = None) -> None:
        keys = [k.strip() for k in keys if k.strip()]
        if not keys:
            raise KeyMaterialError("no encryption key")
        try:
            self._fernets = [Fernet(k.encode()) for k in keys]
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError(
                "config key 'security.encryption_key' is not a Fernet key "
                "(generate one with `ppa-bot keys generate`)"
            ) from exc
        self._multi = MultiFernet(self._fernets)
        self.lookup_key = lookup_key or legacy_lookup_key(keys[-1])
        self._hash_key = _lookup_bytes(self.lookup_key)

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

    def under_newest_key(self, token: str) -> bool:
        """Whether the newest key alone reads this token (a rotation has already rewritten it)."""
        try:
            self._fernets[0].decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def hash_id(self, telegram_id: int) -> str:
        """Keyed hash of a Telegram id: lets us find a reporter's rows without storing the id."""
        return hmac.new(self._hash_key, str(telegram_id).encode(), hashlib.sha256).hexdigest()

    def lookup_check(self) -> str:
        """A fingerprint of the lookup key, stored beside the canary: a start with another lookup
        key (which would fork every reporter) is refused."""
        return hmac.new(self._hash_key, b"ppa-bot lookup canary", hashlib.sha256).hexdigest()


@dataclass
class KeyMaterial:
    fernet_keys: list[str]  # newest first
    lookup_key: str
    # The key file had no lookup line (written by an earlier version): derived, not yet saved.
    lookup_derived: bool = False

    def vault(self) -> Vault:
        return Vault(self.fernet_keys, self.lookup_key)


def read_key_file(path: Path) -> KeyMaterial:
    fernet_keys: list[str] = []
    lookup: str | None = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(LOOKUP_PREFIX):
            lookup = line[len(LOOKUP_PREFIX):].strip()
        else:
            fernet_keys.append(line)
    if not fernet_keys:
        raise KeyMaterialError(f"the key file {path} holds no encryption key: restore it from "
                               f"its backup")
    if lookup is None:
        return KeyMaterial(fernet_keys, legacy_lookup_key(fernet_keys[-1]), lookup_derived=True)
    return KeyMaterial(fernet_keys, lookup)


def write_key_file(path: Path, material: KeyMaterial, *, create: bool = False) -> None:
    """Replace the key file atomically (mode 0600, flushed to disk before it takes the name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = KEY_FILE_HEADER + LOOKUP_PREFIX + material.lookup_key + "\n" \
        + "".join(k + "\n" for k in material.fernet_keys)
    if create:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        return
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def load_key_material(configured: str, configured_lookup: str, key_file: Path, *,
                      create: bool) -> KeyMaterial:
    """The keys from config, else from the key file; create the file when asked (first start).

    With ``security.encryption_key`` set, the lookup key is ``security.lookup_key``, else the key
    file's (a rotation by config, ``NEW,OLD``, keeps the file's lookup key)."""
    if configured.strip():
        keys = [k.strip() for k in configured.split(",") if k.strip()]
        if configured_lookup.strip():
            return KeyMaterial(keys, configured_lookup.strip())
        if key_file.is_file():
            return KeyMaterial(keys, read_key_file(key_file).lookup_key)
        raise KeyMaterialError(
            "config key 'security.lookup_key' is missing: with security.encryption_key set, set "
            "PPA_BOT_SECURITY__LOOKUP_KEY too (the lookup key in use; for a new installation "
            "`ppa-bot keys generate --lookup` prints one)")
    if key_file.is_file():
        material = read_key_file(key_file)
        if configured_lookup.strip():
            material.lookup_key, material.lookup_derived = configured_lookup.strip(), False
        return material
    if not create:
        raise KeyMaterialError(
            f"no encryption key: restore the key file {key_file} from its backup, or set "
            f"security.encryption_key and security.lookup_key")
    material = KeyMaterial([generate_key()], configured_lookup.strip() or generate_lookup_key())
    write_key_file(key_file, material, create=True)
    log.warning(
        "generated a new encryption key in %s: back it up; without it the reports cannot be read",
        key_file,
    )
    return material


def load_keys(configured: str, key_file: Path, *, create: bool) -> list[str]:
    """The Fernet keys alone (newest first); see ``load_key_material`` for the lookup key."""
    if configured.strip():
        return [k.strip() for k in configured.split(",") if k.strip()]
    return load_key_material("", "", key_file, create=create).fernet_keys
