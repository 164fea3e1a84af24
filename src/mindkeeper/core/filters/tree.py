"""The filter tree: resource specs, column kinds and the immutable condition nodes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TypeAlias


class Kind(enum.Enum):
    """How a column's values compare."""

    TEXT = "text"
    NUMBER = "number"
    TIMESTAMP = "timestamp"
    BOOL = "bool"
    JSON = "json"


class Op(enum.Enum):
    """A comparison."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


@dataclass(frozen=True, slots=True)
class Field:
    """A filterable public key: the logical column it names and how that column compares."""

    column: str
    kind: Kind


@dataclass(frozen=True)
class ResourceSpec:
    """What one resource lets a filter name.

    `name` appears in error details (`Workspace`, `Peer`, `Session`, `Message`, `Document`);
    `fields` maps public keys to logical columns; `absent` lists keys that are accepted names
    but not columns of this resource (`Column '<key>' does not exist on <name>`). Any other
    key is `Column '<key>' is not allowed to be filtered on or does not exist on <name>`,
    or, with `unknown_keys_absent`, `Column '<key>' does not exist on <name>`.
    """

    name: str
    fields: Mapping[str, Field]
    absent: frozenset[str] = field(default_factory=frozenset)
    unknown_keys_absent: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "absent", frozenset(self.absent))


# --- the tree ------------------------------------------------------------------------------

Number: TypeAlias = int | float
Scalar: TypeAlias = str | bool | int | float | datetime


@dataclass(frozen=True, slots=True)
class And:
    """Every item holds."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one item holds."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The item does not hold (SQL NOT: unknown stays unknown)."""

    item: Node


@dataclass(frozen=True, slots=True)
class Never:
    """Matches no row."""


@dataclass(frozen=True, slots=True)
class Compare:
    """`column <op> value`; numbers may exceed 64 bits, timestamps are aware UTC."""

    column: str
    kind: Kind
    op: Op
    value: Scalar


@dataclass(frozen=True, slots=True)
class IsNull:
    """The column is SQL NULL."""

    column: str


@dataclass(frozen=True, slots=True)
class In:
    """`column IN values` (never empty: an empty list parses to `Never`)."""

    column: str
    kind: Kind
    values: tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Substring:
    """A text column contains `text`, ignoring ASCII case; `%` and `_` are literal."""

    column: str
    text: str


@dataclass(frozen=True, slots=True)
class JsonContains:
    """JSONB containment `column @> pattern`; `pattern` is JSON text."""

    column: str
    pattern: str


@dataclass(frozen=True, slots=True)
class KeyNumber:
    """The key's value, read as a number, compares with `value`; rows without one never match."""

    column: str
    key: str
    op: Op
    value: Number


@dataclass(frozen=True, slots=True)
class KeyText:
    """The key's text form compares bytewise with `value`; rows lacking the key never match."""

    column: str
    key: str
    op: Op
    value: str


@dataclass(frozen=True, slots=True)
class KeyIn:
    """The key's text form is one of `values` (never empty)."""

    column: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeySubstring:
    """The key's text form contains `text`, ignoring ASCII case."""

    column: str
    key: str
    text: str


Node: TypeAlias = (
    And
    | Or
    | Not
    | Never
    | Compare
    | IsNull
    | In
    | Substring
    | JsonContains
    | KeyNumber
    | KeyText
    | KeyIn
    | KeySubstring
)


def children(node: Node) -> tuple[Node, ...]:
    """The sub-trees of a logical node; () for a condition."""
    if isinstance(node, And | Or):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    return ()
