"""Pieces every Honcho route uses: pagination parameters and JSON replies."""

from __future__ import annotations

from typing import Any

from mindkeeper.http.deps import Paging as Paging
from mindkeeper.http.responses import JSONBytes


def ok(content: Any) -> JSONBytes:
    """A 200 JSON reply."""
    return JSONBytes(content)
