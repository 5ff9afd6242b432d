"""How long to wait before retrying a sync that failed for a reason that may pass.

Exponential backoff with full jitter (a random delay between 0 and the exponential
bound): when a venue's Wi-Fi comes back, fifty tablets must not all retry in the same
second. Capped at 5 minutes (docs/sync-protocol.md, "Retries").
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

DEFAULT_CAP = 300.0
# 2**64 seconds is far past any cap; stop the exponent there so floats never overflow.
_MAX_EXPONENT = 64


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Return the seconds a Retry-After header asks to wait, or None if absent or unreadable.

    The header holds either delay-seconds or an HTTP date (RFC 9110, 10.2.3).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # float() also reads "nan" and "inf"; neither is a delay.
        return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None  # RFC 9110 dates are always GMT; a zone-less one is not such a date
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


class Backoff:
    """Compute retry delays; counts attempts itself unless told which attempt this is."""

    def __init__(
        self,
        base: float = 1.0,
        cap: float = DEFAULT_CAP,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ):
        if base <= 0 or cap <= 0:
            raise ValueError("base and cap must be positive")
        self.base = base
        self.cap = cap
        self._rand = rand
        self._clock = clock
        self.attempt = 0

    def next_delay(self, attempt: int | None = None, retry_after: str | None = None) -> float:
        """Return seconds to wait before retry number attempt (0 for the first retry).

        Without attempt, uses and advances this object's own count. A Retry-After
        header is a lower bound, but the result never exceeds the cap.
        """
        if attempt is None:
            attempt = self.attempt
            self.attempt += 1
        exponent = min(max(0, attempt), _MAX_EXPONENT)
        bound = min(self.cap, self.base * 2.0**exponent)
        delay = self._rand() * bound
        asked = parse_retry_after(retry_after, now=self._clock())
        if asked is not None:
            delay = max(delay, asked)
        return min(delay, self.cap)

    def reset(self) -> None:
        """Start counting attempts from 0 again, after a success."""
        self.attempt = 0
