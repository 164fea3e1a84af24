"""Token counting with OpenAI's o200k_base encoding, from the vocabulary the `bpe-openai`
package carries (no download).

Importing the package and building the encoding takes a few seconds, so it happens once per
process, in a background thread started with the server (`warm`); a count asked for before
that finishes waits for it.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

_lock = threading.Lock()
_encoding: Any = None


def _load() -> Any:
    global _encoding
    with _lock:
        if _encoding is None:
            # Its loader (run at import) still uses importlib.resources' legacy API.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import bpe_openai  # type: ignore[import-untyped]

                _encoding = bpe_openai.get_encoding("o200k_base")
    return _encoding


class O200kTokenCounter:
    """Counts o200k_base tokens with the process's one encoding."""

    def warm(self) -> None:
        """Load the encoding in a daemon thread unless it is loaded."""
        if _encoding is None:
            threading.Thread(target=_load, name="o200k-load", daemon=True).start()

    def count(self, text: str) -> int:
        """Return the number of tokens of `text` (special-token text counts as plain text)."""
        if not text:
            return 0
        encoding = _encoding if _encoding is not None else _load()
        return len(encoding.encode_ordinary(text))
