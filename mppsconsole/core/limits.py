"""Resource limits of the SCP, and the per-peer association rate limiter.

Pure decisions only: the network layer asks, and does the refusing. A console
on a hospital network must keep serving its modalities when one peer
misbehaves (a retry loop, a scanner, a sender of huge objects), so every
resource a peer can make us spend has a bound with a clear refusal.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Limits:
    """The ``[limits]`` table of the settings file; 0 switches a limit off."""

    #: Associations served at once; one more is rejected (transient, local limit exceeded).
    max_associations: int = 64
    #: New associations per minute from one peer address (a token bucket: bursts
    #: up to this many, then this many per minute); more are rejected (transient).
    associations_per_minute: int = 1000
    #: Largest C-STORE data set; a bigger one is aborted while it arrives, before
    #: it is buffered (pynetdicom holds a message in memory until it is complete).
    max_store_bytes: int = 1024 * MIB
    #: Largest data set of any other request (N-CREATE, N-SET, C-FIND, N-ACTION):
    #: 16 MiB is an MPPS referencing ~100,000 images.
    max_request_bytes: int = 16 * MIB
    #: Seconds a peer may stay silent (before its association request, or inside an
    #: association) before we abort it.
    idle_timeout: int = 60


#: (key, lowest allowed value) of every setting of the table, in file order.
LIMIT_FIELDS: tuple[tuple[str, int], ...] = (
    ("max_associations", 1),
    ("associations_per_minute", 0),
    ("max_store_bytes", 0),
    ("max_request_bytes", 0),
    ("idle_timeout", 1),
)


class RateLimiter:
    """Token buckets per key: ``per_minute`` tokens, refilled continuously.

    ``clock`` is injectable so tests can move time; the table of buckets stays
    bounded because full buckets (peers quiet for a minute) are forgotten.
    """

    #: Forget full buckets once this many peers are tracked.
    PRUNE_AT = 4096

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.per_minute), now))
        return min(float(self.per_minute), tokens + (now - at) * self.per_minute / 60.0)

    def allow(self, key: str) -> bool:
        """Take a token for ``key``; False when its bucket is empty (always True if off)."""
        if self.per_minute <= 0:
            return True
        with self._lock:
            now = self._clock()
            tokens = self._level(key, now)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.PRUNE_AT:
                self._buckets = {
                    k: v for k, v in self._buckets.items() if self._level(k, now) < self.per_minute
                }
            return allowed

    def tracked(self) -> int:
        """How many peers have a bucket (for tests of the pruning)."""
        with self._lock:
            return len(self._buckets)
