"""The Honcho v3 filter language: parse a `filters` JSON object into a small immutable tree.

Surface-neutral and free of SQL: a surface declares each resource's filterable keys with a
`ResourceSpec`, calls `parse_filters`, and hands the tree to the storage layer, which
compiles it for the database at hand (`mindkeeper.storage.filters`). Every mistake in a
filter raises `mindkeeper.errors.Invalid` with upstream's wording; nothing else escapes.

The language (a filter is an object; its entries are ANDed):

* `AND` / `OR` / `NOT`: lists of sub-filters; `NOT [a, b]` is `not a and not b`; an empty
  list adds no condition; at most 5 levels of nesting.
* a plain column: a scalar is equality, `null` is IS NULL, `"*"` adds no condition, a list
  is `{"in": [...]}`, an object holds operators (`gte lte gt lt ne in contains icontains`),
  ANDed. `gte lte gt lt ne` need a number, except on timestamps (ISO-8601 strings, naive
  means UTC). `contains`/`icontains` are case-insensitive substring tests on text.
* a JSON column (`metadata`): `{"contains": value}` and a bare scalar or list are JSONB
  containment of the whole value; an object without operators holds one condition per
  key: a value is containment of `{key: value}`, an object of operators compares the
  key's text form (numerically when the operand is numeric, lexically otherwise).

Where upstream (Honcho v3.0.12) answers 500, this module answers `Invalid` instead:

* an object with no known operator on a plain column (`{"id": {"regex": "x"}}`);
* an entry of `AND`/`OR`/`NOT` that is not an object (`{"AND": ["x"]}`);
* equality on a timestamp column without an operator (`{"created_at": "2024-01-01"}`);
* operators a column cannot take: `gte lte gt lt ne` with a number on a text or boolean
  column, `contains`/`icontains` on a number, timestamp or boolean column, any operator
  but `contains` on a JSON column as a whole, a non-string value for a text column, a
  non-boolean value for a boolean column;
* a non-number, non-string operand of `gte lte gt lt ne` (`null`, a list, an object),
  NaN anywhere a number is expected, a list or object given to `contains`/`icontains`
  or inside a metadata `in` list;
* hostile input: values nested deeper than 32 levels, more than 10 000 values in one
  filter, strings with lone surrogates, integers too long to print.

Other choices where upstream fails or is undefined:

* `contains` on a JSON column other than metadata (e.g. `source_ids`) is JSONB
  containment, as on metadata (upstream answers 500); `{"source_ids": {"contains": "x"}}`
  therefore matches a list holding `"x"`;
* NUL characters are removed from every string of a filter, as they are from stored text;
* NaN, infinities and integers too long to print (over 4 300 digits) inside a containment
  value make that condition match nothing; integers beyond 64 bits compare exactly;
* a metadata `in` list compares booleans as `true`/`false` (upstream compares `True`) and
  skips `null` entries; an `in` list on a column skips `null` entries;
* `gte`/`ne`/... on a boolean column: `ne` with `true`/`false` is accepted.

Mirrored upstream quirks: `{"created_at": {"in": []}}` adds no condition (on other columns
an empty `in` matches nothing); `ne`/`gt`/... with a non-numeric string on a text column is
rejected (`Invalid numeric value`), so text not-equal is spelled with `NOT`; a metadata key
named like an operator cannot be addressed per key.
"""

from mindkeeper.core.filters.parse import LOGICAL_OPERATORS, MAX_DEPTH, OPERATORS, parse_filters
from mindkeeper.core.filters.tree import (
    And,
    Compare,
    Field,
    In,
    IsNull,
    JsonContains,
    KeyIn,
    KeyNumber,
    KeySubstring,
    KeyText,
    Kind,
    Never,
    Node,
    Not,
    Number,
    Op,
    Or,
    ResourceSpec,
    Scalar,
    Substring,
    children,
)
from mindkeeper.core.filters.values import MAX_VALUE_DEPTH, MAX_VALUES, parse_datetime

__all__ = [
    "LOGICAL_OPERATORS",
    "MAX_DEPTH",
    "MAX_VALUES",
    "MAX_VALUE_DEPTH",
    "OPERATORS",
    "And",
    "Compare",
    "Field",
    "In",
    "IsNull",
    "JsonContains",
    "KeyIn",
    "KeyNumber",
    "KeySubstring",
    "KeyText",
    "Kind",
    "Never",
    "Node",
    "Not",
    "Number",
    "Op",
    "Or",
    "ResourceSpec",
    "Scalar",
    "Substring",
    "children",
    "parse_datetime",
    "parse_filters",
]
