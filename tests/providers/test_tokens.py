"""o200k_base token counts, as Honcho v3's `token_count`."""

from __future__ import annotations

from mindkeeper.providers.tokens import O200kTokenCounter


def test_counts_match_o200k_base() -> None:
    counter = O200kTokenCounter()
    counter.warm()  # a count during or after the background load gives the same answer
    assert counter.count("") == 0
    assert counter.count("hello world") == 2
    # Special-token text is counted as plain text, never refused.
    assert counter.count("<|endoftext|>") > 1
    assert O200kTokenCounter().count("hello world") == 2
