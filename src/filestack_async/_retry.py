"""Pure retry maths: backoff delays, ``Retry-After`` parsing, what is retryable."""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Mapping

from ._config import RetryPolicy

#: Statuses that mean "try again later".
RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})


def is_retryable_status(status_code: int) -> bool:
    """True for 408, 429, 500, 502, 503 and 504."""
    return status_code in RETRYABLE_STATUSES


def backoff_delay(retry: int, policy: RetryPolicy) -> float:
    """Seconds to wait before retry number ``retry`` (0-based), with jitter.

    >>> p = RetryPolicy(random=lambda: 0.0)
    >>> [backoff_delay(n, p) for n in range(6)]
    [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    """
    base = min(policy.max_delay, policy.initial_delay * policy.multiplier**retry)
    return base * (0.5 + 0.5 * policy.random())


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Read how long the service asked us to wait, in seconds.

    Understands ``retry-after-ms``, ``Retry-After`` as seconds, and ``Retry-After``
    as an HTTP date. Header names are matched case-insensitively. Returns ``None``
    when there is no usable value.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0 and value == value:  # rejects NaN
            return value
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no zone information
        when = when.replace(tzinfo=datetime.timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
