"""Progress reporting: bytes the service acknowledged, out of the total."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio


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
    """Counts acknowledged bytes and calls the user's callback, in order, one call at a time.

    The first report is ``0``; the one that would reach the total is held back until
    `finish` (after ``complete`` succeeded), so an upload that fails never reports
    that it is done.
    """

    def __init__(
        self, total: int, callback: ProgressCallback | None, *, index: int | None = None
    ) -> None:
        self.total = total
        self.acknowledged = 0
        self._callback = callback
        self._index = index
        #: the flow the parts go through now (set by the engine and a fallback switch)
        self.intelligent = False
        self._reported = -1
        # one call at a time; without a callback there is nothing to serialise
        self._lock = anyio.Lock() if callback is not None else None

    async def begin(self) -> None:
        """Report ``0`` of the total, so a progress bar can size itself."""
        await self._report(final=False)

    async def advance(self, nbytes: int) -> None:
        """Count ``nbytes`` more as acknowledged and report if that is news."""
        self.acknowledged += nbytes
        await self._report(final=False)

    async def finish(self) -> None:
        """Report the total (once), after the upload completed."""
        await self._report(final=True)

    async def _report(self, *, final: bool) -> None:
        if self._callback is None or self._lock is None:
            return
        async with self._lock:
            value = self.total if final else self.acknowledged
            if (value >= self.total and not final) or value <= self._reported:
                return
            self._reported = value
            result = self._callback(
                UploadProgress(value, self.total, self._index, self.intelligent)
            )
            if inspect.isawaitable(result):
                await result
