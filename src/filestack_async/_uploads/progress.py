"""Progress reporting: bytes written to the connection and bytes the service acknowledged.

`ProgressTracker` counts a part's (or chunk's) body as the transport pulls it, block by
block, to send it (`ProgressTracker.counted`), rewinding what an attempt had counted when
the piece is sent again, and counts the piece as acknowledged once the service accepted it.
"""

from __future__ import annotations

import inspect
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass

import anyio

from .._http import Body

#: seconds of history the rate is measured over
RATE_WINDOW = 5.0


@dataclass(frozen=True)
class UploadProgress:
    """One progress report.

    Attributes:
        bytes_acknowledged: bytes whose part (or chunk) the service has accepted.
            Never decreases: a part that fails and is retried counts only once it
            finally goes through.
        total: the file's size in bytes.
        index: the item's position in the list given to ``upload_many``
            (``None`` for ``upload``).
        intelligent: True while the parts go through intelligent ingestion: from the
            start for ``intelligent=True`` when the service enabled it for the
            upload, from the switch for ``intelligent="fallback"``; False for a
            regular upload (and for an intelligent one the service answered as regular).
        bytes_sent: bytes written to the connection so far, acknowledged or not; it
            goes back when a piece is sent again (its earlier attempt no longer
            counts). ``None`` in a report made by hand.
        rate: bytes per second written over the last few seconds (``None`` until
            there are two measurements).
        eta: seconds until every byte is written at that rate (``None`` without a rate).

    The report with ``bytes_acknowledged == total`` comes exactly once, as the last
    one, after the upload completed.

    Example:
        >>> UploadProgress(512, 1024).fraction
        0.5
    """

    bytes_acknowledged: int
    total: int
    index: int | None = None
    intelligent: bool = False
    bytes_sent: int | None = None
    rate: float | None = None
    eta: float | None = None

    @property
    def fraction(self) -> float:
        """``bytes_acknowledged / total`` (1.0 for an empty total)."""
        return self.bytes_acknowledged / self.total if self.total else 1.0

    @property
    def done(self) -> bool:
        """True for the final report."""
        return self.bytes_acknowledged >= self.total


#: A progress callback: a plain function or a coroutine function taking one `UploadProgress`.
ProgressCallback = Callable[[UploadProgress], Awaitable[None] | None]


class ProgressTracker:
    """Counts sent and acknowledged bytes and calls the user's callback, one call at a time.

    The first report is ``0``; the one that would reach the total is held back until
    `finish` (after ``complete`` succeeded), so an upload that fails never reports
    that it is done. An acknowledgement is always reported; bytes written in between
    are reported at most every ``interval`` seconds.
    """

    def __init__(
        self,
        total: int,
        callback: ProgressCallback | None,
        *,
        index: int | None = None,
        interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.acknowledged = 0
        #: bytes written: acknowledged pieces plus what the current attempts pulled
        self.sent = 0
        self._callback = callback
        self._index = index
        self._interval = interval
        self._clock = clock
        #: the flow the parts go through now (set by the engine and a fallback switch)
        self.intelligent = False
        self._reported = -1
        self._reported_at: float | None = None
        #: bytes the current attempt of each piece in flight has pulled
        self._attempts: dict[Hashable, int] = {}
        self._samples: deque[tuple[float, int]] = deque()
        # one call at a time; without a callback there is nothing to serialise
        self._lock = anyio.Lock() if callback is not None else None

    def resume_from(self, acknowledged: int) -> None:
        """Start from bytes a checkpoint says were acknowledged (and so written)."""
        self.acknowledged = self.sent = acknowledged
        self._attempts.clear()

    async def begin(self) -> None:
        """Report what is acknowledged so far (``0``), so a progress bar can size itself."""
        await self._report(final=False, acknowledged=True)

    def counted(self, key: Hashable, body: Body) -> Body:
        """``body`` (a factory of byte streams) counting each block the transport pulls;
        each new attempt of the piece ``key`` first takes back what the last one counted.
        Without a callback nobody sees the count: ``body`` is returned as it is."""
        if isinstance(body, bytes) or self._callback is None:
            return body

        async def blocks() -> AsyncIterator[bytes | memoryview]:
            self.sent -= self._attempts.get(key, 0)
            self._attempts[key] = 0
            async for block in body():
                yield block
                self._attempts[key] = self._attempts.get(key, 0) + len(block)
                self.sent += len(block)
                await self._report(final=False, acknowledged=False)

        return blocks

    async def advance(self, nbytes: int, key: Hashable | None = None) -> None:
        """Count ``nbytes`` more as acknowledged (the piece ``key``: now fully sent)."""
        self.acknowledged += nbytes
        if key is not None:
            self.sent += nbytes - self._attempts.pop(key, 0)
        else:
            self.sent += nbytes
        await self._report(final=False, acknowledged=True)

    async def finish(self) -> None:
        """Report the total (once), after the upload completed."""
        self.sent = self.total
        await self._report(final=True, acknowledged=True)

    def _rate(self, now: float) -> float | None:
        samples = self._samples
        samples.append((now, self.sent))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        first_at, first_sent = samples[0]
        if now <= first_at:
            return None
        return max(0.0, (self.sent - first_sent) / (now - first_at))

    async def _report(self, *, final: bool, acknowledged: bool) -> None:
        if self._callback is None or self._lock is None:
            return
        if not acknowledged and self._lock.locked():
            return  # a report is being made: a later block reports instead
        async with self._lock:
            value = self.total if final else self.acknowledged
            if not final and value >= self.total:
                return  # the total is reported by `finish` only
            now = self._clock()
            if acknowledged:
                if value <= self._reported:
                    return
            elif not self._due(now):
                return
            # bytes_acknowledged never goes back, even when an upload starts afresh
            value = max(value, self._reported)
            self._reported, self._reported_at = value, now
            rate = self._rate(now)
            sent = min(max(self.sent, 0), self.total)
            eta = (self.total - sent) / rate if rate else (0.0 if final else None)
            report = UploadProgress(
                value, self.total, self._index, self.intelligent, sent, rate, eta
            )
            result = self._callback(report)
            if inspect.isawaitable(result):
                await result

    def _due(self, now: float) -> bool:
        return self._reported_at is None or now - self._reported_at >= self._interval
