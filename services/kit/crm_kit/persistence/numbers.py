"""Human sequence numbers (an order's `SO-2026-000123`) taken in blocks, so
a sequence every writer shares costs one chain append per block, not one per
number.

A sequence is a kit `Chain`: link n is a block `{first, size}` of numbers
first .. first + size - 1, the next block starting where the previous one
ended. Inserting the link is the claim, so every number has one owner and
none is handed out twice, across threads, processes and replicas. A process
hands out its block's numbers in order, then takes the next block.

Measured on FerretDB (32 writers on one chain): 75 appends/s on one key
against 585 on distinct keys; a number a call made the shared chain the
bottleneck of order creation. The price, as with a database sequence's
cache (PostgreSQL's CACHE): numbers are unique and increase within a
process, but replicas interleave their blocks and the rest of a block dies
with its process (gaps). A link written before blocks existed holds one
number (the link's own), so older chains continue where they were.
"""

from __future__ import annotations

import threading

from crm_kit.persistence.chain import Chain

DEFAULT_BLOCK = 20


class NumberBlocks:
    def __init__(self, chain: Chain, block_size: int = DEFAULT_BLOCK):
        if block_size < 1:
            raise ValueError("block_size must be at least 1")
        self.chain = chain
        self.block_size = block_size
        self._lock = threading.Lock()
        self._free: dict[str, list[int]] = {}  # key -> numbers of this process's block, next first

    def take(self, key: str) -> int:
        """The next number of sequence `key` for this process."""
        with self._lock:
            free = self._free.get(key)
            if not free:
                first, size = self._claim(key, self.block_size)
                free = self._free[key] = list(range(first, first + size))
            return free.pop(0)

    def take_run(self, key: str, count: int) -> list[int]:
        """`count` consecutive numbers in one block of their own (a bulk import's)."""
        if count < 1:
            return []
        first, size = self._claim(key, count)
        return list(range(first, first + size))

    def _claim(self, key: str, size: int) -> tuple[int, int]:
        def block(n: int, previous: dict | None) -> dict:
            if previous is None:
                return {"first": 1, "size": size}
            # A link from before blocks holds one number: its own (n - 1).
            return {"first": previous.get("first", n - 1) + previous.get("size", 1), "size": size}

        _n, link = self.chain.append(key, block)
        return link["first"], link["size"]
