"""Caches of the executor: bounded in entries and in estimated bytes, keyed by digests."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any


class ByteBudgetLRU:
    """A least-recently-used cache bounded in entries and in (estimated) bytes.

    Keys are digests (16 bytes, whatever the document or variables); an entry estimated larger
    than `max_entry_bytes` is not kept at all, so a few huge documents cannot push out the many
    small ones, nor hold the memory of a worker."""

    def __init__(self, *, max_entries: int, max_bytes: int, max_entry_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.bytes = 0  # the estimated size of everything kept
        self._entries: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> Any:
        """Return the value kept for `key` (None if there is none), now the most recently used."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def remember(self, key: bytes, value: Any, size: int) -> Any:
        """Keep `value` (about `size` bytes) unless it is too large; return it."""
        size += ENTRY_OVERHEAD
        if size > self.max_entry_bytes:
            return value
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._entries[key] = (value, size)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped
        return value


# per entry: the key, the OrderedDict slot, the tuple
ENTRY_OVERHEAD = 200
# a parsed and validated document takes about 14 times its source's bytes (graphql-core's AST,
# every token kept for locations): measured on documents of 1 to 170 KB
DOCUMENT_BYTES_PER_CHAR = 16


def digest(*parts: str) -> bytes:
    """Return a 16-byte digest of `parts` (kept as a cache key instead of the text itself)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.digest()
