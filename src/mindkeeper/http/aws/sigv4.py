"""AWS Signature Version 4 verification, shared by the AWS-compatible surfaces.

`SigV4Verifier.authenticate` checks a request for one signing service (`bedrock`,
`bedrock-agentcore`) and returns the caller's account id. The signature is recomputed with
botocore's own signer (`SigV4Auth` over an `AWSRequest` rebuilt from the received method, raw
path, query string, signed headers and body), so the canonical request is exactly the one
boto3 signed: the path is the raw, still percent-encoded path (a label holding `:` or `/`
arrives as `%3A`/`%2F`, and the canonical URI encodes it again), the query string is taken as
sent, and the payload hash is computed from the body (boto3 does not send
`x-amz-content-sha256`; when a client does, it must match the body).

Refusals (all 403 unless noted): no Authorization header -> MissingAuthenticationTokenException;
a malformed one -> IncompleteSignatureException; an unknown or revoked access key, or a
temporary-credential token -> UnrecognizedClientException; a wrong service, region, date or
signature, a body that does not match its hash, or `x-amz-date` outside the allowed clock skew
-> InvalidSignatureException (the last with AWS's "Signature expired" message). Over the rate
limit -> 429 with the surface's throttling code. With authentication off every request acts for
the configured default account.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import (  # type: ignore[import-untyped]
    SIGNED_HEADERS_BLACKLIST,
    SigV4Auth,
)
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.core.services.credentials import CredentialResolver
from mindkeeper.http.limits import Scope
from mindkeeper.http.ratelimit import TokenBuckets, client_address, retry_after

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([0-9a-f]+)"
)
ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE = "%Y%m%dT%H%M%SZ"
_SIGNERS_MAX = 1024
#: Request-context key of what the signer takes from the received request.
RECEIVED = "mindkeeper.received"

MISSING_TOKEN = "MissingAuthenticationTokenException"
INCOMPLETE = "IncompleteSignatureException"
UNRECOGNIZED = "UnrecognizedClientException"
INVALID_SIGNATURE = "InvalidSignatureException"

BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
BAD_TOKEN = "The security token included in the request is invalid."


class Refused(Exception):
    """An authentication failure with its AWS error code and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers: list[tuple[bytes, bytes]] = []


def raw_path(scope: Scope) -> str:
    """The path exactly as received (still percent-encoded)."""
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1").split("?", 1)[0]
    return str(scope.get("path", ""))


def header_map(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name; repeated headers joined with commas."""
    out: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        out[key] = f"{out[key]},{text}" if key in out else text
    return out


def parse_authorization(value: str) -> tuple[list[str], list[str], str]:
    """Split `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.

    Returns (credential scope parts: key id, date, region, service, terminator; signed header
    names; signature).
    """
    fast = _AUTHORIZATION.fullmatch(value)
    if fast is not None:
        credential = fast.group(1).rsplit("/", 4)
        if len(credential) == 5 and credential[0]:
            return credential, fast.group(2).lower().split(";"), fast.group(3)
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise Refused(INCOMPLETE, f"Unsupported AWS 'algorithm': '{algorithm}'")
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if sep:
            params[name.strip()] = val.strip()
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if not params.get(n)]
    if missing:
        raise Refused(
            INCOMPLETE,
            f"Authorization header requires '{missing[0]}' parameter. "
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.",
        )
    credential = params["Credential"].rsplit("/", 4)
    if len(credential) != 5 or not credential[0]:
        raise Refused(INCOMPLETE, "Authorization header has a malformed 'Credential' parameter.")
    signed = params["SignedHeaders"].lower().split(";")
    return credential, signed, params["Signature"]


def parse_amz_date(value: str) -> datetime:
    """Parse `YYYYMMDDTHHMMSSZ`; Refused when it is not that."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        raise Refused(INCOMPLETE, "Date must be in ISO-8601 'basic format'.")
    try:
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        raise Refused(INCOMPLETE, "Date must be in ISO-8601 'basic format'.") from None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(AMZ_DATE)


def credential_service(scope: Scope) -> str | None:
    """The signing service named in the request's SigV4 credential scope, if it has one."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            match = _AUTHORIZATION.fullmatch(value.decode("latin-1"))
            if match is None:
                return None
            parts = match.group(1).rsplit("/", 4)
            return parts[3] if len(parts) == 5 else None
    return None


class SigV4Verifier:
    """Authenticates requests signed for one service; returns the caller's account id."""

    def __init__(
        self,
        runtime: Runtime,
        settings: Settings,
        limiter: TokenBuckets,
        service: str,
        throttling_code: str,
    ) -> None:
        self.runtime = runtime
        self.limiter = limiter
        self.service = service
        self.throttling_code = throttling_code
        self.enabled = runtime.security.enabled
        self.default_account = settings.bedrock_account_id
        self.region = settings.bedrock_region
        self.skew = timedelta(seconds=settings.auth_clock_skew_seconds)
        self.resolver = CredentialResolver(runtime.security.box, settings.auth_cache_seconds)
        self._signers: dict[tuple[str, str], ReceivedRequestSigner] = {}

    @property
    def checks(self) -> bool:
        """False when every request passes unchecked (no authentication, no rate limit)."""
        return self.enabled or self.limiter.enabled

    def _throttle(self, caller: str) -> None:
        wait = self.limiter.take(caller)
        if wait > 0:
            refused = Refused(self.throttling_code, "Rate exceeded", 429)
            refused.headers.append((b"retry-after", retry_after(wait).encode()))
            raise refused

    async def authenticate(self, scope: Scope, body: bytes) -> str:
        """Return the caller's account id; Refused when the request is not properly signed."""
        if not self.enabled:
            self._throttle(client_address(scope))
            return self.default_account
        headers = header_map(scope)
        authorization = headers.get("authorization")
        if not authorization:
            raise Refused(MISSING_TOKEN, "Missing Authentication Token")
        (key_id, day, region, service, terminator), signed, signature = parse_authorization(
            authorization
        )
        amz_date = headers.get("x-amz-date", "")
        if not amz_date:
            raise Refused(
                INCOMPLETE,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header.",
            )
        if "host" not in signed or "x-amz-date" not in signed:
            raise Refused(INCOMPLETE, "'Host' and 'X-Amz-Date' must be signed headers.")
        sent_at = parse_amz_date(amz_date)
        self._check_scope(day, region, service, terminator, amz_date)
        self._check_time(sent_at, amz_date)
        if "x-amz-security-token" in headers:
            raise Refused(UNRECOGNIZED, BAD_TOKEN)
        declared = headers.get("x-amz-content-sha256")
        if declared is not None and declared != hashlib.sha256(body).hexdigest():
            raise Refused(
                INVALID_SIGNATURE,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        credential = await self.resolver.resolve(lambda: self.runtime.uow(write=False), key_id)
        if credential is None:
            raise Refused(UNRECOGNIZED, BAD_TOKEN)
        if any(name not in headers for name in signed):
            raise Refused(INVALID_SIGNATURE, BAD_SIGNATURE)
        expected = self._signature(scope, headers, signed, body, amz_date, credential.secret)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("latin-1")):
            raise Refused(INVALID_SIGNATURE, BAD_SIGNATURE)
        self._throttle(f"akid:{key_id}")
        return credential.account_id

    def _check_scope(
        self, day: str, region: str, service: str, terminator: str, amz_date: str
    ) -> None:
        if terminator != "aws4_request":
            raise Refused(
                INVALID_SIGNATURE,
                "Credential should be scoped with a valid terminator: "
                "'aws4_request', not '" + terminator + "'.",
            )
        if service != self.service:
            raise Refused(
                INVALID_SIGNATURE,
                f"Credential should be scoped to correct service: '{self.service}'.",
            )
        if region != self.region:
            raise Refused(INVALID_SIGNATURE, "Credential should be scoped to a valid region.")
        if day != amz_date[:8]:
            raise Refused(
                INVALID_SIGNATURE,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                f"from HTTP: '{day}' != '{amz_date[:8]}', from '{amz_date}'.",
            )

    def _check_time(self, sent_at: datetime, amz_date: str) -> None:
        now = self.runtime.now()
        minutes = f"{self.skew.total_seconds() / 60:g} min."
        if sent_at < now - self.skew:
            raise Refused(
                INVALID_SIGNATURE,
                f"Signature expired: {amz_date} is now earlier than {_stamp(now - self.skew)} "
                f"({_stamp(now)} - {minutes})",
            )
        if sent_at > now + self.skew:
            raise Refused(
                INVALID_SIGNATURE,
                f"Signature not yet current: {amz_date} is still later than "
                f"{_stamp(now + self.skew)} ({_stamp(now)} + {minutes})",
            )

    def _signature(
        self,
        scope: Scope,
        headers: dict[str, str],
        signed: list[str],
        body: bytes,
        amz_date: str,
        secret: str,
    ) -> str:
        """Recompute the signature with botocore over the request as received."""
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        url = f"http://{headers['host']}{raw_path(scope)}" + (f"?{query}" if query else "")
        selected = {name: headers[name] for name in signed}
        # The signer takes the signed headers from the context; the request itself only needs
        # the one header botocore's canonicaliser looks up on it (a declared payload hash).
        declared = selected.get("x-amz-content-sha256")
        extra = {"X-Amz-Content-SHA256": declared} if declared is not None else None
        request = AWSRequest(method=str(scope["method"]).upper(), url=url, headers=extra)
        request.context["timestamp"] = amz_date
        request.context[RECEIVED] = (
            _Headers({k: v for k, v in selected.items() if k not in SIGNED_HEADERS_BLACKLIST}),
            hashlib.sha256(body).hexdigest(),
        )
        signer = self._signers.get((secret, amz_date[:8]))
        if signer is None:
            if len(self._signers) >= _SIGNERS_MAX:
                self._signers.clear()
            signer = ReceivedRequestSigner(secret, self.region, self.service)
            self._signers[(secret, amz_date[:8])] = signer
        canonical = signer.canonical_request(request)
        return str(signer.signature(signer.string_to_sign(request, canonical), request))


class _Headers(dict[str, str]):
    """The signed headers in the shape botocore's canonicaliser reads (`get_all`)."""

    def get_all(self, name: str) -> list[str]:
        """The (already comma-joined) value of a header, as a list."""
        return [self[name]]


class ReceivedRequestSigner(SigV4Auth):  # type: ignore[misc]
    """botocore's SigV4 signer, fed a request exactly as it was received.

    Its canonical request (path, query, headers, payload hash) and string to sign are
    botocore's; two inputs are supplied directly instead of being re-derived, through the
    request's context (`RECEIVED`): the headers the client listed as signed (botocore's
    exclusions still apply) and the SHA-256 of the received body. One signer serves one
    secret for one day, so its signing key (which depends only on the secret, the date, the
    region and the service) is derived once.
    """

    def __init__(self, secret: str, region: str, service: str) -> None:
        super().__init__(Credentials("", secret), service, region)
        self.signing_key: bytes | None = None

    def headers_to_sign(self, request: Any) -> _Headers:
        """The headers the client signed."""
        return request.context[RECEIVED][0]  # type: ignore[no-any-return]

    def payload(self, request: Any) -> str:
        """The hash of the received body."""
        return request.context[RECEIVED][1]  # type: ignore[no-any-return]

    def signature(self, string_to_sign: str, request: Any) -> str:
        """HMAC of the string to sign under the signing key of the day."""
        if self.signing_key is None:
            key = self.credentials.secret_key
            day = request.context["timestamp"][0:8]
            k_date = self._sign(f"AWS4{key}".encode(), day)
            k_region = self._sign(k_date, self._region_name)
            k_service = self._sign(k_region, self._service_name)
            self.signing_key = self._sign(k_service, "aws4_request")
        return hmac.new(
            self.signing_key, string_to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
