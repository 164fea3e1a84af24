"""Token counting with OpenAI's o200k_base encoding, from the vocabulary the `bpe-openai`
package carries (no download).

Importing the package and building the encoding takes a few seconds, so it happens once per
process, in a background thread started with the server (`warm`); a count asked for before
that finishes waits for it.

A count asks the package's native tokenizer for the number of tokens, which gives the
length of `encode_ordinary` without building the token list in Python (a third of the
time). Texts that path does not take as they are (unpaired surrogates, which the encoder
replaces first; a million characters or more; more tokens than the encoder's limit) go
through `encode_ordinary`, so every count, and every refusal, is the encoder's.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_encoding: Any = None
_native_count: Callable[[str], int] | None = None
_token_limit = 0

#: `encode_ordinary` refuses texts of this many characters or more.
_MAX_CHARS = 1_000_000


def _load() -> Any:
    global _encoding, _native_count, _token_limit
    with _lock:
        if _encoding is None:
            # Its loader (run at import) still uses importlib.resources' legacy API.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import bpe_openai  # type: ignore[import-untyped]
                from bpe_openai import _bindings
                from bpe_openai.configuration import (  # type: ignore[import-untyped]
                    DEFAULT_CHUNK_LIMIT,
                )

                encoding = bpe_openai.get_encoding("o200k_base")
                # The tokenizer `get_encoding` wraps (the native side builds it once).
                _native_count = _bindings.tokenizer_for_encoding("o200k_base").count
                _token_limit = int(DEFAULT_CHUNK_LIMIT)
                _encoding = encoding
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
        native = _native_count
        if native is not None and len(text) < _MAX_CHARS:
            try:
                tokens = native(text)
            except UnicodeEncodeError:
                pass
            else:
                if tokens <= _token_limit:
                    return tokens
        return len(encoding.encode_ordinary(text))
