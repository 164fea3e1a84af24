"""Token counting with OpenAI's o200k_base encoding, from the vocabulary the `bpe-openai`
package carries (no download). The encoding loads on first use (about a second)."""

from __future__ import annotations

import threading
import warnings
from typing import Any


class O200kTokenCounter:
    """Counts o200k_base tokens; thread-safe lazy load."""

    def __init__(self) -> None:
        self._encoding: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._encoding is None:
                # Its loader (run at import) still uses importlib.resources' legacy API.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    import bpe_openai  # type: ignore[import-untyped]

                    self._encoding = bpe_openai.get_encoding("o200k_base")
        return self._encoding

    def count(self, text: str) -> int:
        """Return the number of tokens of `text` (special-token text counts as plain text)."""
        if not text:
            return 0
        encoding = self._encoding if self._encoding is not None else self._load()
        return len(encoding.encode_ordinary(text))
