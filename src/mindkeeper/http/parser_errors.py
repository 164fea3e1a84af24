"""The HTTP protocol the server runs: uvicorn's httptools protocol, with AWS-shaped refusals.

Requests that the HTTP parser itself refuses (a URL beyond 65,535 bytes, a method it does not
know, control characters in a header, a malformed chunk, ...) never reach the application:
uvicorn answers them with a plain-text 400 and closes the connection. On the Bedrock surface
(`/sessions`, `/tags`) and AgentCore Memory (`/memories`) botocore could not parse that, so
`AwsShapedHttpToolsProtocol` answers there in the AWS error shape instead (`x-amzn-ErrorType`
and `{"message": ...}`, the connection still closed): UnknownOperationException (404) for an
unknown method, as the dispatchers answer methods no operation uses, and ValidationException
(400) for the rest.

The path is read from the first bytes of the refused request. The plain-text answer stays
where that is not possible or not wanted: other paths (as upstream Honcho answers); a request
whose start was not seen (it followed another one in the same read, when pipelined, or its
method ran past the first `HEAD_BYTES`); and a refusal while an earlier response is still
being written, which a new response cannot interrupt.

Run it with `uvicorn.run(..., http=PROTOCOL)`.
"""

from __future__ import annotations

import re
import sys
from typing import Any
from uuid import uuid4

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from mindkeeper.http.bedrock import errors
from mindkeeper.http.bedrock.dispatch import owns

#: The import string uvicorn accepts as its `http` setting.
PROTOCOL = "mindkeeper.http.parser_errors:AwsShapedHttpToolsProtocol"
#: How much of a request's start is kept to find its path.
HEAD_BYTES = 1024

_REQUEST_TARGET = re.compile(
    rb"[\r\n]*[^ \r\n]* +(?:[A-Za-z][A-Za-z0-9+.-]*://[^/ \r\n]*)?([^ ?#\r\n]*)"
)
_PRINTABLE = re.compile(r"[^ -~]")


def request_path(head: bytes) -> str | None:
    """The path of the request line at the start of `head` (origin or absolute form)."""
    match = _REQUEST_TARGET.match(head)
    if match is None or not match.group(1).startswith(b"/"):
        return None
    return match.group(1).decode("latin-1")


def memories(path: str) -> bool:
    """True for the AgentCore Memory paths (/memories…), which answer in the same shape."""
    return path == "/memories" or path.startswith(("/memories/", "/memories?"))


def _reason(exc: BaseException | None) -> str:
    """The parser's reason for a refusal, as printable ASCII."""
    if isinstance(exc, httptools.HttpParserCallbackError) and exc.__context__ is not None:
        exc = exc.__context__  # e.g. the URL parser's "url is too long: ..."
    text = str(exc) if exc is not None else ""
    return _PRINTABLE.sub("?", text)[:200] or "malformed request"


def refusal(exc: BaseException | None) -> tuple[int, str, bytes]:
    """Status, AWS error code and body for a request the parser refused."""
    reason = _reason(exc)
    if isinstance(exc, httptools.HttpParserInvalidMethodError):
        code = errors.UNKNOWN_OPERATION
        message = f"No operation matches the request method ({reason})"
    else:
        code = errors.VALIDATION
        message = f"1 validation error detected: Invalid HTTP request received ({reason})"
    return errors.STATUS[code], code, orjson.dumps({"__type": code, "message": message})


class AwsShapedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; parser refusals on the AWS surfaces in AWS shape."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head = b""
        self._head_known = True  # `_head` starts where the current request starts
        self._idle = True  # no request begun since the last one completed
        self._completed_here = False  # a request completed during the current read
        self._cycle_at_begin: Any = None

    def data_received(self, data: bytes) -> None:
        """Keep the start of the current request, then parse as uvicorn does."""
        if self._idle:
            self._head = bytes(data[:HEAD_BYTES])
            self._head_known = True
        elif len(self._head) < HEAD_BYTES:
            self._head += data[: HEAD_BYTES - len(self._head)]
        self._completed_here = False
        super().data_received(data)

    def on_message_begin(self) -> None:
        """A request starts; its bytes are known only if it started this read."""
        if self._completed_here:
            self._head_known = False
        self._idle = False
        self._cycle_at_begin = self.cycle
        super().on_message_begin()

    def on_message_complete(self) -> None:
        """A request's body is complete; the next bytes start another one."""
        self._idle = True
        self._completed_here = True
        super().on_message_complete()

    def _can_answer(self) -> bool:
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return True
        # The refused request's own cycle (started at its headers) may not have answered yet.
        return cycle is not self._cycle_at_begin and not cycle.response_started

    def send_400_response(self, msg: str) -> None:
        """Answer a refused request; in the AWS shape under /sessions, /tags and /memories."""
        path = request_path(self._head) if self._head_known else None
        if path is None or not (owns(path) or memories(path)) or not self._can_answer():
            super().send_400_response(msg)
            return
        # uvicorn calls this from its `except httptools.HttpParserError` block.
        status, code, body = refusal(sys.exc_info()[1])
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"x-amzn-requestid: " + str(uuid4()).encode() + b"\r\n",
                b"x-amzn-errortype: " + code.encode() + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
