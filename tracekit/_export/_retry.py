"""When to retry an HTTP export, and how long to wait: pure decisions, no I/O.

Retried: connection errors and timeouts, 408, 429 and every 5xx -- with exponential
backoff and full jitter, honouring ``Retry-After`` (seconds or an HTTP date) when the
server sends one. Every other 4xx means the server will never take this request as
it is: the batch is set aside with the reason, never retried in a loop. 401/403 are
their own kind: the data is fine but the credentials are not, so the batch is kept
for a resend once they are fixed.
"""

from __future__ import annotations

import dataclasses
import enum
import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = ["Backoff", "Verdict", "classify", "retry_after_seconds"]

RETRYABLE_STATUS = frozenset({408, 429})


class Verdict(enum.Enum):
    """What to do with a request after one attempt."""

    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # transient: try again after a pause
    AUTH = "auth"  # 401/403: keep the batch, the credentials need fixing
    REJECT = "reject"  # any other 4xx (and 1xx/3xx): set aside with the reason


def classify(status: int | None) -> Verdict:
    """Map an HTTP status (``None`` for a connection error or timeout) to a :class:`Verdict`.

    >>> classify(503), classify(429), classify(400), classify(None)
    (<Verdict.RETRY: 'retry'>, <Verdict.RETRY: 'retry'>, <Verdict.REJECT: 'reject'>, <Verdict.RETRY: 'retry'>)
    """
    if status is None or status >= 500 or status in RETRYABLE_STATUS:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status in (401, 403):
        return Verdict.AUTH
    return Verdict.REJECT


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None, cap: float = 300.0) -> float | None:
    """The server's ``Retry-After`` in seconds (delta or HTTP date), capped; ``None`` if absent or bad.

    >>> retry_after_seconds({"Retry-After": "3"})
    3.0
    """
    value = None
    for key, item in headers.items():
        if key.lower() == "retry-after":
            value = item.strip()
            break
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


@dataclasses.dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits ``uniform(0, min(cap, base * 2**n))``,
    but never less than ``floor`` (so that a tight loop cannot hammer a server).

    >>> b = Backoff(base=0.5, cap=8.0, rng=random.Random(1))
    >>> 0.0 <= b.delay(0) <= 0.5 and b.delay(10) <= 8.0
    True
    """

    base: float = 0.5
    cap: float = 8.0
    floor: float = 0.05
    rng: random.Random = dataclasses.field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``; ``Retry-After`` wins when given."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 30)))
        return max(self.floor, self.rng.uniform(0.0, ceiling))
