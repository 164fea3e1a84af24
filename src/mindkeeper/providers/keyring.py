"""A local keyring for data at rest: AES-256-GCM keys addressed by KMS-style key ARNs.

Two modes:

- configured (strict): keys come from settings (`bedrock_keyring`: key ARN -> base64 of 32
  bytes) and optionally a JSON file with the same map (`bedrock_keyring_file`); settings win
  on a clash. Only those ARNs can seal.
- default (neither setting given): every well-formed key ARN gets its own data key, derived
  with HKDF-SHA256 from the local master key (`providers/master_key.py`) with the ARN as
  `info`. The master key file is created the first time something is sealed.

A sealed value records which kind of key sealed it, so a server opens only what it holds the
key for and refuses the rest as "not available" (never as a broken seal):

- configured key: `0x01 | 96-bit nonce | ciphertext | 128-bit tag`;
- derived key: `0x02 | 64-bit master key id | 96-bit nonce | ciphertext | 128-bit tag`.

The caller's context is bound as associated data. A server with a configured keyring still
opens values sealed under derived keys when the master key file exists (it never creates one).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mindkeeper.core.ports.agents import SealBroken
from mindkeeper.errors import Forbidden
from mindkeeper.providers.master_key import create_master_key, read_master_key

log = logging.getLogger("mindkeeper.keyring")

SEAL_VERSION = b"\x01"
SEAL_DERIVED = b"\x02"
MASTER_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
DERIVED_CACHE_MAX = 1024
KEY_REF_PATTERN = re.compile(
    r"arn:aws(|-cn|-us-gov):kms:[a-zA-Z0-9-]*:[0-9]{12}:key/[a-zA-Z0-9-]{36}"
)


def _hkdf(master: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(master)


class DerivedKeys:
    """One data key per key ARN, derived from a master key; recent ciphers are cached."""

    def __init__(self, master: bytes) -> None:
        self._master = master
        self.id = _hkdf(master, b"mindkeeper/master-key-id", MASTER_ID_BYTES)
        self._ciphers: OrderedDict[str, AESGCM] = OrderedDict()

    def cipher(self, key_ref: str) -> AESGCM:
        """The AES-GCM cipher of the ARN's data key."""
        cipher = self._ciphers.get(key_ref)
        if cipher is not None:
            self._ciphers.move_to_end(key_ref)
            return cipher
        info = b"mindkeeper/bedrock-session-key/v1\x00" + key_ref.encode()
        cipher = AESGCM(_hkdf(self._master, info, KEY_BYTES))
        self._ciphers[key_ref] = cipher
        if len(self._ciphers) > DERIVED_CACHE_MAX:
            self._ciphers.popitem(last=False)
        return cipher


class LocalKeyring:
    """Seals and opens values with configured keys, or keys derived from the master key."""

    def __init__(
        self,
        keys: Mapping[str, bytes],
        master_path: Path | None = None,
        *,
        derive: bool = False,
    ) -> None:
        self._ciphers = {ref: AESGCM(key) for ref, key in keys.items()}
        self._master_path = master_path
        self._derive = derive and master_path is not None
        self._derived: DerivedKeys | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ciphers)

    def knows(self, key_ref: str) -> bool:
        """True when the key is configured, or derivable in default mode."""
        if key_ref in self._ciphers:
            return True
        return self._derive and KEY_REF_PATTERN.fullmatch(key_ref) is not None

    def seal(self, key_ref: str, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt with a fresh random nonce; Forbidden when the key is unknown."""
        nonce = os.urandom(NONCE_BYTES)
        cipher = self._ciphers.get(key_ref)
        if cipher is not None:
            return SEAL_VERSION + nonce + cipher.encrypt(nonce, plaintext, context)
        if not self.knows(key_ref):
            raise _unavailable(key_ref)
        derived = self._derived_keys(key_ref, create=True)
        if derived is None:
            raise _unavailable(key_ref)
        sealed = derived.cipher(key_ref).encrypt(nonce, plaintext, context)
        return SEAL_DERIVED + derived.id + nonce + sealed

    def open(self, key_ref: str, sealed: bytes, context: bytes) -> bytes:
        """Decrypt; Forbidden when the key is gone, SealBroken when authentication fails."""
        version = sealed[:1]
        if version == SEAL_VERSION:
            cipher = self._ciphers.get(key_ref)
            if cipher is None:
                raise _unavailable(key_ref)
            body = sealed[1:]
        elif version == SEAL_DERIVED:
            derived = self._derived_keys(key_ref, create=False)
            if derived is None:
                raise _unavailable(key_ref)
            if sealed[1 : 1 + MASTER_ID_BYTES] != derived.id:
                raise Forbidden(
                    f"The encryption key {key_ref} of this resource was derived from another "
                    "master key than this server's"
                )
            cipher, body = derived.cipher(key_ref), sealed[1 + MASTER_ID_BYTES :]
        else:
            raise SealBroken("sealed value is malformed")
        if len(body) < NONCE_BYTES + TAG_BYTES:
            raise SealBroken("sealed value is malformed")
        try:
            return cipher.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], context)
        except InvalidTag as exc:
            raise SealBroken("sealed value failed authentication") from exc

    def _derived_keys(self, key_ref: str, *, create: bool) -> DerivedKeys | None:
        """The derived keys, reading (or in default mode creating) the master key once."""
        if self._derived is not None or self._master_path is None:
            return self._derived
        with self._lock:
            if self._derived is None:
                path = self._master_path
                try:
                    master = create_master_key(path) if create else read_master_key(path)
                except (OSError, ValueError) as exc:
                    log.error("the local master key %s is not usable: %s", path, exc)
                    raise _unavailable(key_ref) from exc
                if master is not None:
                    self._derived = DerivedKeys(master)
            return self._derived


def _unavailable(key_ref: str) -> Forbidden:
    return Forbidden(
        f"The encryption key {key_ref} of this resource is not available to the server"
    )


def parse_keys(entries: Mapping[str, object], source: str) -> dict[str, bytes]:
    """Decode a key ARN -> base64 map; ValueError names the first bad entry."""
    keys: dict[str, bytes] = {}
    for ref, encoded in entries.items():
        if not KEY_REF_PATTERN.fullmatch(ref):
            raise ValueError(
                f"{source}: {ref!r} is not a KMS key ARN "
                "(arn:aws:kms:<region>:<12-digit account>:key/<36-character key id>)"
            )
        try:
            key = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"{source}: the key for {ref} is not valid base64") from exc
        if len(key) != KEY_BYTES:
            raise ValueError(f"{source}: the key for {ref} must be {KEY_BYTES} bytes (256 bits)")
        keys[ref] = key
    return keys


def load_keyring(
    entries: Mapping[str, str], file: Path | None = None, master_path: Path | None = None
) -> LocalKeyring:
    """Build the keyring from the settings map and an optional JSON file with the same shape.

    With neither, the keyring is in default mode: keys derive from the master key at
    `master_path` (no encryption at all without one).
    """
    keys: dict[str, bytes] = {}
    if file is not None:
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"bedrock_keyring_file {file}: cannot read a JSON object") from exc
        if not isinstance(data, dict):
            raise ValueError(f"bedrock_keyring_file {file}: expected a JSON object")
        keys.update(parse_keys(data, f"bedrock_keyring_file {file}"))
    keys.update(parse_keys(entries, "bedrock_keyring"))
    return LocalKeyring(keys, master_path, derive=not entries and file is None)
