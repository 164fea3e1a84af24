"""Checking a chat's `response_format` (a JSON Schema), with Honcho v3's rules and messages.

Supported: primitive types, objects with `properties` / `required`, arrays with `items`,
`enum` of strings, integers, booleans or null, `anyOf` / `oneOf`, `$ref` to the root's
`$defs` / `definitions` (not recursive), boolean `additionalProperties`. Other constraint
keywords are hints for the model. Refused (`Invalid response_format: <reason>[ at <path>]`):
`allOf`, `not`, `if` / `then` / `else`, `patternProperties`, a schema as
`additionalProperties`, boolean schemas, unknown types, a root that is not an object schema,
unknown or recursive references, nesting deeper than 20 or more than 500 schema nodes.
"""

from __future__ import annotations

from typing import Any

from mindkeeper.errors import Invalid

MAX_DEPTH = 20
MAX_NODES = 500
TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
REFUSED = ("allOf", "not", "if", "then", "else", "patternProperties")
_PREFIXES = ("#/$defs/", "#/definitions/")


class _Refused(Exception):
    def __init__(self, reason: str, path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def _invalid(reason: str, path: str = "") -> Invalid:
    where = f" at {path}" if path else ""
    return Invalid(f"Invalid response_format: {reason}{where}")


class _Checker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.nodes = 0

    def definition(self, ref: str, path: str) -> tuple[str, Any]:
        for prefix in _PREFIXES:
            if ref.startswith(prefix):
                defs = self.root.get(prefix[2:-1])
                name = ref[len(prefix) :]
                if isinstance(defs, dict) and name in defs:
                    return name, defs[name]
        raise _Refused(f"unresolvable $ref '{ref}'", path)

    def check(self, node: Any, path: str, depth: int, refs: tuple[str, ...]) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(f"schema has more than {MAX_NODES} nodes", path)
        if depth > MAX_DEPTH:
            raise _Refused(f"schema is nested deeper than {MAX_DEPTH} levels", path)
        if isinstance(node, bool):
            raise _Refused("boolean schemas are not supported", path)
        if not isinstance(node, dict):
            raise _Refused("schema must be an object", path)
        for keyword in REFUSED:
            if keyword in node:
                raise _Refused(f"'{keyword}' is not supported", path)
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise _Refused("$ref must be a string", path)
            name, target = self.definition(ref, path)
            if ref in refs:
                raise _Refused(f"recursive $ref '{ref}'", path)
            self.check(target, f"{path}/$ref({name})", depth + 1, (*refs, ref))
        kind = node.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        for k in kinds:
            if not isinstance(k, str) or k not in TYPES:
                raise _Refused(f"unsupported type {k!r}", path)
        extra = node.get("additionalProperties")
        if extra is not None and not isinstance(extra, bool):
            raise _Refused("additionalProperties must be a boolean", path)
        if "enum" in node:
            values = node["enum"]
            if not isinstance(values, list) or not all(
                v is None or isinstance(v, (str, int, bool)) for v in values
            ):
                raise _Refused("enum values must be strings, integers, booleans or null", path)
        properties = node.get("properties")
        if properties is not None:
            if not isinstance(properties, dict):
                raise _Refused("properties must be an object", path)
            for name, child in properties.items():
                self.check(child, f"{path}/properties/{name}", depth + 1, refs)
        if "items" in node:
            self.check(node["items"], f"{path}/items", depth + 1, refs)
        for combinator in ("anyOf", "oneOf"):
            if combinator in node:
                options = node[combinator]
                if not isinstance(options, list) or not options:
                    raise _Refused(f"{combinator} must be a non-empty list", path)
                for i, child in enumerate(options):
                    self.check(child, f"{path}/{combinator}/{i}", depth + 1, refs)


def check(schema: Any) -> dict[str, Any]:
    """Return the schema when the model can be asked for it; Invalid (422) otherwise."""
    if not isinstance(schema, dict):
        raise _invalid("response_format must be a JSON Schema object")
    if schema.get("type") != "object":
        raise _invalid("root schema must have type 'object'")
    checker = _Checker(schema)
    try:
        checker.check(schema, "", 0, ())
        for key in ("$defs", "definitions"):
            defs = schema.get(key)
            if isinstance(defs, dict):
                for name, child in defs.items():
                    checker.check(child, f"/{key}/{name}", 1, (f"#/{key}/{name}",))
    except _Refused as refused:
        raise _invalid(refused.reason, refused.path or "/") from None
    return schema


def extract(text: str) -> str:
    """The JSON document of an answer given for a schema (fences and prose around it
    dropped); the text as it is when it holds none."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        if stripped.lower().startswith("json"):
            stripped = stripped[4:]
        stripped = stripped.strip()
    start, end = stripped.find("{"), stripped.rfind("}")
    return stripped[start : end + 1] if 0 <= start < end else stripped
