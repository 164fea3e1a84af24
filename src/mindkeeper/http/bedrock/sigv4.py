"""AWS Signature Version 4 on the Bedrock surface: who is calling, and for which account.

`SigV4Guard` wraps the Bedrock dispatcher. For /sessions… and /tags… it reads the body,
verifies the signature for the signing service `bedrock` (`http/aws/sigv4.py`, botocore's own
signer over the request as received) and hands the caller's account id on in the ASGI scope
(`ACCOUNT_ID`); failures are answered in AWS's error shape and never reach the dispatcher.
Over the rate limit -> 429 ThrottlingException. With authentication off every request acts
for the configured default account.
"""

from __future__ import annotations

from uuid import uuid4

import orjson

from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.http.aws.sigv4 import Refused, SigV4Verifier
from mindkeeper.http.aws.wire import respond
from mindkeeper.http.limits import ASGIApp, Receive, Scope, Send, read_body, replay
from mindkeeper.http.ratelimit import TokenBuckets

#: The scope key carrying the authenticated account id to the dispatcher.
ACCOUNT_ID = "mindkeeper.bedrock.account_id"
SERVICE = "bedrock"
PREFIXES = ("/sessions", "/tags")
THROTTLING = "ThrottlingException"


def owns(scope: Scope) -> bool:
    """True for the Bedrock paths (/sessions…, /tags…)."""
    path = str(scope.get("path", ""))
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


class SigV4Guard:
    """ASGI wrapper: authenticates Bedrock requests and passes the account id on."""

    def __init__(
        self, app: ASGIApp, runtime: Runtime, settings: Settings, limiter: TokenBuckets
    ) -> None:
        self.app = app
        self.verifier = SigV4Verifier(runtime, settings, limiter, SERVICE, THROTTLING)
        self.default_account = settings.bedrock_account_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not owns(scope):
            await self.app(scope, receive, send)
            return
        if not self.verifier.checks:
            scope[ACCOUNT_ID] = self.default_account
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        try:
            scope[ACCOUNT_ID] = await self.verifier.authenticate(scope, body)
        except Refused as exc:
            await _refuse(send, exc)
            return
        await self.app(scope, replay(body, receive), send)

    async def authenticate(self, scope: Scope, body: bytes) -> str:
        """Return the caller's account id; Refused when the request is not properly signed."""
        return await self.verifier.authenticate(scope, body)


async def _refuse(send: Send, exc: Refused) -> None:
    body = orjson.dumps({"__type": exc.code, "message": exc.message})
    await respond(send, exc.status, body, str(uuid4()), exc.code, exc.headers)
