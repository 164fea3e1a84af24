"""Secret material: the HS256 bearer-key codec, the credentials box, and loading both.

Bearer keys are JWTs as Honcho issues them: HS256 only, the HMAC key being the UTF-8 bytes
of the secret, short claims `t` (issue time, informational), `exp` (integer epoch seconds),
`ad` (admin), v1's `ap` (app), `us` (user), `se` (session), `co` (collection) by public id,
v3's `w` (workspace), `p` (peer), `s` (session) by name, plus `jti` (the key id that
revocation names). Any other algorithm, a bad signature, malformed JSON, a non-string scope
claim or a non-integer `exp`/`nbf` is "Invalid JWT".

Access-key secrets are sealed with AES-256-GCM under the credentials key: `0x01 | 96-bit nonce |
ciphertext | tag`, the access key id bound as associated data.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from mindkeeper.core.ports.auth import KeyScope, Security
from mindkeeper.errors import StartupError, Unauthorized

INVALID_JWT = "Invalid JWT"
MIN_SECRET_CHARS = 32
CREDENTIALS_KEY_BYTES = 32
SEAL_VERSION = b"\x01"
NONCE_BYTES = 12
#: Compact JWS in unpadded base64url, so one token has exactly one spelling.
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class SecretError(StartupError, ValueError):
    """A secret is missing, unreadable or too weak; the message says which and how to fix it."""


def _epoch(value: Any) -> int | None:
    """An integer claim (seconds); anything else but absence is a malformed token."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(INVALID_JWT)
    if isinstance(value, float) and not math.isfinite(value):
        raise Unauthorized(INVALID_JWT)
    return int(value)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Unauthorized(INVALID_JWT)
    return value


class JwtCodec:
    """HS256 JWTs with Honcho's claim names."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode("utf-8")

    def encode(self, scope: KeyScope, issued_at: datetime) -> str:
        """Return a signed token; claims appear only when set."""
        claims: dict[str, Any] = {"t": issued_at.isoformat()}
        if scope.expires_at is not None:
            claims["exp"] = scope.expires_at
        if scope.admin:
            claims["ad"] = True
        for name, value in (
            ("w", scope.workspace_name),
            ("p", scope.peer_name),
            ("s", scope.session_name),
            ("ap", scope.workspace_id),
            ("us", scope.peer_id),
            ("se", scope.session_id),
            ("co", scope.collection_id),
            ("jti", scope.key_id),
        ):
            if value is not None:
                claims[name] = value
        return jwt.encode(claims, self._key, algorithm="HS256")

    def decode(self, token: str) -> KeyScope:
        """Verify and parse; Unauthorized("Invalid JWT") on any defect.

        Only the signature is checked here; `exp` and `nbf` are judged by the caller against
        the injected clock, so they are read as plain claims.
        """
        if not _TOKEN.fullmatch(token):
            raise Unauthorized(INVALID_JWT)
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise Unauthorized(INVALID_JWT) from None
        if not isinstance(claims, dict):
            raise Unauthorized(INVALID_JWT)
        return KeyScope(
            admin=claims.get("ad") is True,
            workspace_id=_text(claims.get("ap")),
            peer_id=_text(claims.get("us")),
            session_id=_text(claims.get("se")),
            collection_id=_text(claims.get("co")),
            key_id=_text(claims.get("jti")),
            expires_at=_epoch(claims.get("exp")),
            not_before=_epoch(claims.get("nbf")),
            workspace_name=_text(claims.get("w")),
            peer_name=_text(claims.get("p")),
            session_name=_text(claims.get("s")),
        )


class AesGcmBox:
    """Seals small secrets with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        self._cipher = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt with a fresh random nonce."""
        nonce = os.urandom(NONCE_BYTES)
        return SEAL_VERSION + nonce + self._cipher.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt; ValueError when the key or the context does not match."""
        if sealed[:1] != SEAL_VERSION or len(sealed) < 1 + NONCE_BYTES + 16:
            raise ValueError("sealed secret is malformed")
        try:
            return self._cipher.decrypt(
                sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], context
            )
        except InvalidTag as exc:
            raise ValueError("sealed secret does not open with this credentials key") from exc


def _read(value: SecretStr | None, file: Path | None, setting: str) -> str | None:
    """The secret from the setting, else from the file (surrounding whitespace dropped)."""
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if file is None:
        return None
    try:
        text = Path(file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"{setting}: cannot read {file}: {exc.strerror}") from None
    if not text:
        raise SecretError(f"{setting}: {file} is empty")
    return text


def load_jwt_codec(secret: SecretStr | None, file: Path | None) -> JwtCodec | None:
    """The bearer-key codec, or None when no secret is configured."""
    text = _read(secret, file, "MINDKEEPER_AUTH_JWT_SECRET_FILE")
    if text is None:
        return None
    if len(text) < MIN_SECRET_CHARS:
        raise SecretError(
            f"the JWT secret must be at least {MIN_SECRET_CHARS} characters; "
            "generate one with `mindkeeper keys generate-secret`"
        )
    return JwtCodec(text)


def load_credentials_box(key: SecretStr | None, file: Path | None) -> AesGcmBox | None:
    """The credentials box, or None when no credentials key is configured."""
    text = _read(key, file, "MINDKEEPER_AUTH_CREDENTIALS_KEY_FILE")
    if text is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != CREDENTIALS_KEY_BYTES:
        raise SecretError(
            "the credentials key must be the base64 of 32 random bytes; "
            "generate one with `mindkeeper credentials generate-key`"
        )
    return AesGcmBox(raw)


def load_security(
    enabled: bool,
    jwt_secret: SecretStr | None,
    jwt_secret_file: Path | None,
    credentials_key: SecretStr | None,
    credentials_key_file: Path | None,
) -> Security:
    """Load what the settings name; SecretError when auth is on and the JWT secret is missing."""
    codec = load_jwt_codec(jwt_secret, jwt_secret_file)
    if enabled and codec is None:
        raise SecretError(
            "authentication is on but no JWT secret is set: set MINDKEEPER_AUTH_JWT_SECRET_FILE "
            "(or MINDKEEPER_AUTH_JWT_SECRET); `mindkeeper keys generate-secret` makes one"
        )
    box = load_credentials_box(credentials_key, credentials_key_file)
    return Security(enabled=enabled, codec=codec, box=box)


def generate_jwt_secret() -> str:
    """A fresh random JWT secret (64 URL-safe characters)."""
    return base64.urlsafe_b64encode(os.urandom(48)).decode("ascii")


def generate_credentials_key() -> str:
    """A fresh credentials key: base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(CREDENTIALS_KEY_BYTES)).decode("ascii")
