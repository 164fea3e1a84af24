"""A local keyring for data at rest: AES-256-GCM keys addressed by KMS-style key ARNs.

Keys come from settings (`bedrock_keyring`: key ARN -> base64 of 32 bytes) and optionally a
JSON file with the same map (`bedrock_keyring_file`); settings win on a clash. A sealed value
is `0x01 | 96-bit random nonce | ciphertext | 128-bit tag`, with the caller's context bound as
associated data.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mindkeeper.core.ports.agents import SealBroken
from mindkeeper.errors import Forbidden

SEAL_VERSION = b"\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
KEY_REF_PATTERN = re.compile(
    r"arn:aws(|-cn|-us-gov):kms:[a-zA-Z0-9-]*:[0-9]{12}:key/[a-zA-Z0-9-]{36}"
)


class LocalKeyring:
    """Seals and opens values with keys held in memory."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        self._ciphers = {ref: AESGCM(key) for ref, key in keys.items()}

    def __len__(self) -> int:
        return len(self._ciphers)

    def knows(self, key_ref: str) -> bool:
        """True when the key is configured."""
        return key_ref in self._ciphers

    def seal(self, key_ref: str, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt with a fresh random nonce; Forbidden when the key is unknown."""
        cipher = self._ciphers.get(key_ref)
        if cipher is None:
            raise _unavailable(key_ref)
        nonce = os.urandom(NONCE_BYTES)
        return SEAL_VERSION + nonce + cipher.encrypt(nonce, plaintext, context)

    def open(self, key_ref: str, sealed: bytes, context: bytes) -> bytes:
        """Decrypt; Forbidden when the key is gone, SealBroken when authentication fails."""
        cipher = self._ciphers.get(key_ref)
        if cipher is None:
            raise _unavailable(key_ref)
        if len(sealed) < 1 + NONCE_BYTES + TAG_BYTES or sealed[:1] != SEAL_VERSION:
            raise SealBroken("sealed value is malformed")
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, body, context)
        except InvalidTag as exc:
            raise SealBroken("sealed value failed authentication") from exc


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


def load_keyring(entries: Mapping[str, str], file: Path | None = None) -> LocalKeyring:
    """Build the keyring from the settings map and an optional JSON file with the same shape."""
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
    return LocalKeyring(keys)
