"""Set-based statements over many ids: IN lists of bounded length."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

CHUNK = 5000  # ids per statement (well under SQLite's bound-parameter limit)


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    """`ids` in lists of at most CHUNK."""
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])
