"""`AgentCoreSurface`: a pure ASGI wrapper serving Amazon Bedrock AgentCore Memory, both
planes (`bedrock-agentcore`, `bedrock-agentcore-control`), on `/memories…` and on the
`/tags/{arn}` requests meant for it.

`/tags` is shared with the Bedrock sessions surface: a request belongs here when its SigV4
credential is scoped to `bedrock-agentcore` or, unsigned, when its ARN names the
`bedrock-agentcore` service; everything else passes through to the wrapped app.

Every request is routed by the service models (`http/aws/model.py`) on its raw path, its body
limited to `agentcore_max_body_bytes` (a larger body is a ValidationException), its signature
checked for the signing service `bedrock-agentcore` (which selects the account), its members
parsed and validated by the operation's input shape, and its answer shaped by the output
shape. Handlers only map the parsed members to one use case.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote
from uuid import uuid4

import orjson

from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.http.agentcore import control, errors, events, records
from mindkeeper.http.agentcore.context import Context, Handler
from mindkeeper.http.agentcore.ids import Home
from mindkeeper.http.aws.model import NoRoute, Operation, Router, operation, segments
from mindkeeper.http.aws.shapes import parse_request, shape_response
from mindkeeper.http.aws.sigv4 import (
    Refused,
    SigV4Verifier,
    credential_service,
    header_map,
    raw_path,
)
from mindkeeper.http.aws.wire import WireError, respond, respond_error
from mindkeeper.http.limits import ASGIApp, Receive, Scope, Send
from mindkeeper.http.ratelimit import TokenBuckets

DATA_PLANE = "bedrock-agentcore"
CONTROL_PLANE = "bedrock-agentcore-control"
SIGNING_NAME = "bedrock-agentcore"

HANDLERS: dict[tuple[str, str], Handler] = {
    (DATA_PLANE, "CreateEvent"): events.create_event,
    (DATA_PLANE, "GetEvent"): events.get_event,
    (DATA_PLANE, "ListEvents"): events.list_events,
    (DATA_PLANE, "DeleteEvent"): events.delete_event,
    (DATA_PLANE, "ListSessions"): events.list_sessions,
    (DATA_PLANE, "ListActors"): events.list_actors,
    (DATA_PLANE, "IngestData"): events.ingest_data,
    (DATA_PLANE, "RetrieveMemoryRecords"): records.retrieve_memory_records,
    (DATA_PLANE, "ListMemoryRecords"): records.list_memory_records,
    (DATA_PLANE, "GetMemoryRecord"): records.get_memory_record,
    (DATA_PLANE, "DeleteMemoryRecord"): records.delete_memory_record,
    (DATA_PLANE, "BatchCreateMemoryRecords"): records.batch_create_memory_records,
    (DATA_PLANE, "BatchUpdateMemoryRecords"): records.batch_update_memory_records,
    (DATA_PLANE, "BatchDeleteMemoryRecords"): records.batch_delete_memory_records,
    (DATA_PLANE, "StartMemoryExtractionJob"): records.start_memory_extraction_job,
    (DATA_PLANE, "ListMemoryExtractionJobs"): records.list_memory_extraction_jobs,
    (CONTROL_PLANE, "CreateMemory"): control.create_memory,
    (CONTROL_PLANE, "GetMemory"): control.get_memory,
    (CONTROL_PLANE, "ListMemories"): control.list_memories,
    (CONTROL_PLANE, "UpdateMemory"): control.update_memory,
    (CONTROL_PLANE, "DeleteMemory"): control.delete_memory,
    (CONTROL_PLANE, "TagResource"): control.tag_resource,
    (CONTROL_PLANE, "UntagResource"): control.untag_resource,
    (CONTROL_PLANE, "ListTagsForResource"): control.list_tags_for_resource,
}


def build_router() -> Router:
    """The routes of every operation served here, from the installed service models."""
    return Router(operation(service, name) for service, name in HANDLERS)


def owns(scope: Scope) -> bool:
    """True for /memories… and for /tags/{arn} requests meant for AgentCore."""
    path = raw_path(scope)
    if path == "/memories" or path.startswith("/memories/"):
        return True
    if not path.startswith("/tags/"):
        return False
    service = credential_service(scope)
    if service is not None:
        return service == SIGNING_NAME
    return ":bedrock-agentcore:" in unquote(path)


class TooLarge(Exception):
    """The request body passes the size limit."""


class AgentCoreSurface:
    """Serves AgentCore Memory; passes every other request to the wrapped app."""

    def __init__(self, app: ASGIApp, runtime: Runtime, settings: Settings) -> None:
        self.app = app
        self.router = build_router()
        limiter = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.verifier = SigV4Verifier(
            runtime, settings, limiter, SIGNING_NAME, "ThrottledException"
        )
        self.max_body = settings.agentcore_max_body_bytes
        self.partition = settings.bedrock_partition
        self.region = settings.bedrock_region
        self.runtime = runtime
        self.max_memories = settings.agentcore_max_memories
        self.default = self._context(settings.bedrock_account_id)

    def _context(self, account: str) -> Context:
        return Context(self.runtime, Home(self.partition, self.region, account), self.max_memories)

    def context_for(self, account: str) -> Context:
        """The handler context of an account (the default account's is built once)."""
        return self.default if account == self.default.account else self._context(account)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not owns(scope):
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body:
                        raise TooLarge
                except ValueError:
                    pass
                break
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, route, parse, run one operation and answer in the AWS shape."""
        request_id = str(uuid4())
        op: Operation | None = None
        try:
            body = await self._body(scope, receive)
            if body is None:
                return
            account = await self.verifier.authenticate(scope, body)
            method = str(scope["method"]).upper()
            op, labels = self.router.match(method, segments(raw_path(scope)))
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"), True)
            params = parse_request(op.input, labels, query, header_map(scope), body)
            reply = await HANDLERS[(op.service, op.name)](self.context_for(account), params)
            content = b""
            if op.output is not None and op.status != 204:
                content = orjson.dumps(shape_response(op.output, reply.body or {}))
        except Refused as exc:
            error = WireError(exc.code, exc.message, exc.status)
            error.headers = exc.headers
            await respond_error(send, error, request_id)
            return
        except TooLarge:
            message = f"1 validation error detected: Request body exceeds {self.max_body} bytes"
            error = WireError("ValidationException", message, 400)
            error.headers = [(b"connection", b"close")]
            await respond_error(send, error, request_id)
            return
        except NoRoute as exc:
            await respond_error(send, errors.unknown_operation(str(exc)), request_id)
            return
        except Exception as exc:  # every failure becomes an AWS error response
            await respond_error(send, errors.safely_render(op, exc), request_id)
            return
        await respond(send, op.status, content, request_id)
