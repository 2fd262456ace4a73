"""Per-address limit of public writes, counted in this process: no database, no lock.

Fixed one-minute windows, as the contract's "per minute" reads: an address gets
`per_minute` writes in each calendar minute, then 429 until the minute ends. The check and the
count are one step of the event loop, so concurrent requests cannot slip past it. One busy
address is normal traffic here (a mobile carrier's NAT), so the default is generous; with
several intake instances behind a load balancer an address may get up to `instances x
per_minute`.

Why not MongoDB: FerretDB v1 does not isolate concurrent updates, so an `$inc` upsert on a
window document needed a lock, and that lock turned a burst from one address into 500s
(docs/benchmarks.md). Why not the `limits` package: its in-memory storage takes an asyncio lock
per key and scans every key to expire them, and keeps any number of keys; here memory is
bounded by `max_addresses`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# Addresses beyond `max_addresses` in one minute share this count (a flood from that many
# addresses must not grow memory without bound).
OVERFLOW = "(overflow)"


class AddressLimiter:
    def __init__(
        self,
        *,
        per_minute: int,
        max_addresses: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute = per_minute
        self._max = max_addresses
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, address: str) -> int:
        """Count one write; 0 when allowed, else the seconds until the window ends."""
        now = self._clock()
        window = int(now // 60)
        if window != self._window:
            self._window = window
            self._counts = {}
        counts = self._counts
        key = address if address in counts or len(counts) < self._max else OVERFLOW
        n = counts.get(key, 0) + 1
        counts[key] = n
        if n <= self.per_minute:
            return 0
        return max(1, math.ceil((window + 1) * 60 - now))

    @property
    def addresses(self) -> int:
        """How many addresses the current window counts."""
        return len(self._counts)
