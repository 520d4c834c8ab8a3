"""Counters that lock an address (or an email) for a while after too many attempts, kept in the
shared cache (Redis in production, the database cache when embedded; never a process's memory,
so every web process counts together).

Times are compared with stored timestamps, not left to the cache's expiry alone, so a lock lasts
exactly its window however the backend rounds expiries (and tests can move the clock)."""

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

SLACK_SECONDS = 60  # keys outlive their window a little; the stored times decide


@dataclass(frozen=True)
class AttemptLimit:
    """At most ``limit`` attempts per ``window_seconds`` for one identity (an address, an
    email); the attempt that reaches the limit locks the identity for ``lock_seconds``."""

    name: str
    limit: int
    window_seconds: int
    lock_seconds: int

    def _key(self, kind: str, ident: str) -> str:
        return f"attempt-limit:{self.name}:{kind}:{ident}"

    def locked_for(self, ident: str) -> int:
        """Seconds the identity stays locked (0: not locked)."""
        until = cache.get(self._key("lock", ident))
        return max(0, math.ceil(until - time.time())) if until is not None else 0

    def hit(self, ident: str) -> bool:
        """Count one attempt; True when it locked the identity (at most once per lock)."""
        now = time.time()
        start_key, count_key = self._key("start", ident), self._key("count", ident)
        keep = self.window_seconds + SLACK_SECONDS
        start = cache.get(start_key)
        if start is None or start + self.window_seconds <= now:
            cache.set_many({start_key: now, count_key: 0}, timeout=keep)
            start = now
        try:
            count = cache.incr(count_key)  # atomic on Redis
        except ValueError:  # gone between the two calls
            cache.set(count_key, 1, timeout=keep)
            count = 1
        # the database cache's incr() stores with the default timeout: give the window's back
        cache.touch(count_key, math.ceil(start + keep - now))
        if count < self.limit:
            return False
        cache.set(self._key("lock", ident), now + self.lock_seconds, timeout=self.lock_seconds + SLACK_SECONDS)
        cache.delete_many([start_key, count_key])
        return True

    def reset(self, ident: str) -> None:
        cache.delete_many([self._key(kind, ident) for kind in ("lock", "start", "count")])
