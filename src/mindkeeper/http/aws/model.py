"""botocore service models as routing tables: operations with their method, URI template,
success status and modelled errors, loaded from the installed botocore.

`Router` matches a request on its raw path: the path is split on `/` first and each segment is
percent-decoded afterwards, so a label holding `/`, `:` or `#` (sent as `%2F`, `%3A`, `%23`)
stays one segment. A trailing slash is optional on every route and nothing is redirected.
Literal segments win over labels (`/memories/create` is CreateMemory, not a memory id).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import botocore.session  # type: ignore[import-untyped]

#: Error code when no operation matches a method and path (what Smithy servers answer).
UNKNOWN_OPERATION = "UnknownOperationException"

_LABEL = re.compile(r"^\{([A-Za-z0-9_]+)\+?\}$")
#: An unencoded ARN split at its `/` (`arn:…:memory` then the id) is joined back.
_ARN_HEAD = re.compile(r"arn:[^/]*:[a-z-]+")


@functools.cache
def service_model(service: str) -> Any:
    """The botocore ServiceModel of an installed service (loaded once per process)."""
    return botocore.session.get_session().get_service_model(service)


@dataclass(frozen=True, slots=True)
class Operation:
    """One modelled operation and where it lives on the wire."""

    service: str
    name: str
    method: str
    #: Path segments; a label is `{name}`.
    template: tuple[str, ...]
    status: int
    #: Modelled error codes and their HTTP statuses.
    errors: dict[str, int] = field(compare=False)
    model: Any = field(repr=False, compare=False)

    @property
    def input(self) -> Any:
        """The input structure shape (None when the operation takes nothing)."""
        return self.model.input_shape

    @property
    def output(self) -> Any:
        """The output structure shape (None when it returns nothing)."""
        return self.model.output_shape


def operation(service: str, name: str) -> Operation:
    """Build the routing entry of one operation from the service model."""
    model = service_model(service).operation_model(name)
    http = model.http
    path = str(http["requestUri"]).split("?", 1)[0]
    parts = path.split("/")[1:]
    if len(parts) > 1 and parts[-1] == "":
        parts = parts[:-1]
    return Operation(
        service=service,
        name=name,
        method=str(http["method"]).upper(),
        template=tuple(parts),
        status=int(http.get("responseCode", 200)),
        errors={
            e.name: int(e.metadata.get("error", {}).get("httpStatusCode", 400))
            for e in model.error_shapes
        },
        model=model,
    )


def segments(raw_path: str) -> list[str]:
    """Split a raw (still percent-encoded) path into decoded segments.

    A trailing slash is dropped (`/memories/` reads as `/memories`); an ARN sent unencoded
    (`arn:aws:…:memory/<id>`) is joined back into one segment.
    """
    raw = raw_path.split("?", 1)[0].split("/")[1:]
    if len(raw) > 1 and raw[-1] == "":
        raw = raw[:-1]
    decoded = [unquote(part) for part in raw]
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


class NoRoute(Exception):
    """No modelled operation matches the request."""


class Router:
    """Finds the operation of a (method, path) among a set of operations."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self.operations = list(operations)
        # Literal segments before labels, so `/memories/create` is not read as a memory id.
        self._ordered = sorted(
            self.operations,
            key=lambda op: tuple(1 if _LABEL.match(s) else 0 for s in op.template),
        )

    def match(self, method: str, parts: Sequence[str]) -> tuple[Operation, dict[str, str]]:
        """Return the operation and its decoded path labels; NoRoute when nothing matches."""
        for op in self._ordered:
            if op.method != method or len(op.template) != len(parts):
                continue
            labels: dict[str, str] = {}
            for expected, actual in zip(op.template, parts, strict=True):
                label = _LABEL.match(expected)
                if label is not None:
                    labels[label.group(1)] = actual
                elif expected != actual:
                    break
            else:
                return op, labels
        raise NoRoute(f"No operation matches {method} /{'/'.join(parts)}")
