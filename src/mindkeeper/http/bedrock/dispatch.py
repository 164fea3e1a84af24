"""`BedrockSurface`: a pure ASGI wrapper serving /sessions… and /tags… as Bedrock Agent Runtime.

Requests act for the account `SigV4Guard` put in the scope (`ACCOUNT_ID`), else for the
configured `bedrock_account_id`; every session lookup is scoped by that account.

Routing uses the raw path (`scope["raw_path"]`): a session ARN arrives as one percent-encoded
segment (`%3A`, `%2F`) and must not be split at its decoded `/`. Both slash variants of every
modelled path are accepted and nothing is ever redirected. Other paths go to the wrapped app.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote
from uuid import uuid4

import orjson

from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.http.aws.sigv4 import raw_path
from mindkeeper.http.aws.wire import respond
from mindkeeper.http.bedrock import errors, operations
from mindkeeper.http.bedrock.arn import Home
from mindkeeper.http.bedrock.operations import Context, Handler, Request
from mindkeeper.http.bedrock.sigv4 import ACCOUNT_ID
from mindkeeper.http.limits import ASGIApp, Receive, Scope, Send, read_body

PREFIXES = ("/sessions", "/tags")
LABEL = "{}"

ROUTES: dict[tuple[str, ...], dict[str, Handler]] = {
    ("sessions",): {"PUT": operations.create_session, "POST": operations.list_sessions},
    ("sessions", LABEL): {
        "GET": operations.get_session,
        "PUT": operations.update_session,
        "DELETE": operations.delete_session,
        "PATCH": operations.end_session,
    },
    ("sessions", LABEL, "invocations"): {
        "PUT": operations.create_invocation,
        "POST": operations.list_invocations,
    },
    ("sessions", LABEL, "invocationSteps"): {
        "PUT": operations.put_invocation_step,
        "POST": operations.list_invocation_steps,
    },
    ("sessions", LABEL, "invocationSteps", LABEL): {"POST": operations.get_invocation_step},
    ("tags", LABEL): {
        "POST": operations.tag_resource,
        "DELETE": operations.untag_resource,
        "GET": operations.list_tags_for_resource,
    },
}

_ARN_HEAD = re.compile(r"arn:[^/]*:session")


def owns(path: str) -> bool:
    """True for /sessions and /tags and anything below them."""
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


def segments(path: str) -> list[str]:
    """Split a raw path into decoded segments (keeping a trailing empty one).

    An ARN sent unencoded (`arn:…:session/<uuid>`) is rejoined into one segment.
    """
    decoded = [unquote(p) for p in path.split("/")[1:]]
    out: list[str] = []
    i = 0
    while i < len(decoded):
        part = decoded[i]
        if i > 0 and _ARN_HEAD.fullmatch(part) and i + 1 < len(decoded):
            part = f"{part}/{decoded[i + 1]}"
            i += 1
        out.append(part)
        i += 1
    return out


def _find(parts: list[str]) -> tuple[dict[str, Handler], tuple[str, ...]] | None:
    """The methods of the route shaped like `parts`, and its labels."""
    for shape, methods in ROUTES.items():
        if len(shape) == len(parts) and all(
            s == LABEL or s == p for s, p in zip(shape, parts, strict=True)
        ):
            return methods, tuple(p for s, p in zip(shape, parts, strict=True) if s == LABEL)
    return None


def route(method: str, parts: list[str]) -> tuple[Handler, tuple[str, ...]]:
    """Return the handler and path labels; UnknownOperationException when nothing matches.

    A trailing slash is optional on every route; when the path without it matches nothing,
    the trailing empty segment is tried as an (empty, hence invalid) label.
    """
    candidates = [parts[:-1], parts] if len(parts) > 1 and parts[-1] == "" else [parts]
    for candidate in candidates:
        found = _find(candidate)
        if found is None:
            continue
        methods, labels = found
        handler = methods.get(method)
        if handler is None:
            break
        return handler, labels
    raise errors.WireError(
        errors.UNKNOWN_OPERATION, f"No operation matches {method} /{'/'.join(parts)}"
    )


class BedrockSurface:
    """Serves the session-management API on /sessions and /tags; passes the rest through."""

    def __init__(self, app: ASGIApp, runtime: Runtime, settings: Settings) -> None:
        self.app = app
        home = Home(
            settings.bedrock_partition, settings.bedrock_region, settings.bedrock_account_id
        )
        self.context = Context(runtime, home, settings.bedrock_default_page_size)

    def context_for(self, scope: Scope) -> Context:
        """The handler context for the caller's account (set in the scope by `SigV4Guard`)."""
        account = scope.get(ACCOUNT_ID)
        home = self.context.home
        if not account or account == home.account_id:
            return self.context
        caller = Home(home.partition, home.region, str(account))
        return Context(self.context.runtime, caller, self.context.default_page_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not owns(raw_path(scope)):
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route, run one operation and answer; errors in the AWS error shape."""
        request_id = str(uuid4())
        method = str(scope["method"]).upper()
        try:
            handler, labels = route(method, segments(raw_path(scope)))
            body = await read_body(receive)
            if body is None:
                return
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"), True)
            request = Request(method, labels, query, body)
            reply = await handler(self.context_for(scope), request)
        except Exception as exc:  # every failure becomes an AWS error response
            status, code, payload = errors.render(exc)
            await respond(send, status, payload, request_id, code)
            return
        content = b"" if reply.body is None else orjson.dumps(reply.body)
        await respond(send, reply.status, content, request_id)
