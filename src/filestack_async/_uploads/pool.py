"""The sliding-window part pool.

``concurrency`` workers per upload each take the next part as soon as they finish
one (no waves), and every part in flight also holds a token of the client-wide
`anyio.CapacityLimiter`. The first failure cancels the other parts and surfaces as
one `UploadError` whose ``__cause__`` is the exception group; cancellation from
outside is never caught or wrapped.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio
import anyio.lowlevel

from .._exceptions import PartUploadError
from .planner import Part
from .state import UploadState

if sys.version_info < (3, 11):  # pragma: no cover - the backport anyio depends on
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]

T = TypeVar("T")


class _Feeder(Generic[T]):
    """Hands out parts in order; for sequential sources it also reads them in order."""

    def __init__(
        self, parts: Sequence[Part], prepare: Callable[[Part], Awaitable[T]], ordered: bool
    ) -> None:
        self._parts = iter(parts)
        self._prepare = prepare
        self._ordered = ordered
        self._lock = anyio.Lock()
        #: an ordered prepare failed: the source cannot give the parts after it
        self._broken = False

    async def next(self) -> tuple[Part, T] | None:
        async with self._lock:
            part = None if self._broken else next(self._parts, None)
            if part is None:
                return None
            if self._ordered:
                try:
                    return part, await self._prepare(part)
                except BaseException:
                    self._broken = True  # the other workers stop; this error is the upload's
                    raise
        return part, await self._prepare(part)


async def run_parts(
    parts: Sequence[Part],
    *,
    prepare: Callable[[Part], Awaitable[T]],
    send: Callable[[Part, T], Awaitable[None]],
    state: UploadState,
    concurrency: int,
    limiter: anyio.CapacityLimiter | None,
    ordered: bool = False,
) -> None:
    """Run ``prepare`` then ``send`` for every part, ``concurrency`` at a time.

    Args:
        prepare: get a part ready (read/hash). With ``ordered=True`` parts are
            prepared strictly in order, one at a time (sequential sources).
        send: upload a prepared part; it must release what ``prepare`` held.
        limiter: client-wide limit on parts in flight (held from prepare to the end of send).

    Raises:
        UploadError: the first failure, with the exception group as ``__cause__``
            (a `PartUploadError` keeps its part, offset and attempts).
    """
    feeder = _Feeder(parts, prepare, ordered)

    async def take_and_send() -> bool:
        item = await feeder.next()
        if item is None:
            return False
        part, prepared = item
        try:
            await send(part, prepared)
        except Exception:
            if state.failed_part is None:
                state.failed_part = part.number
            raise
        return True

    async def worker() -> None:
        while True:
            if limiter is None:
                more = await take_and_send()
            else:
                async with limiter:
                    more = await take_and_send()
            if not more:
                return

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(min(concurrency, len(parts))):
                tg.start_soon(worker)
    except BaseExceptionGroup as group:
        raise await _as_upload_error(group, state) from group


async def _as_upload_error(
    group: BaseExceptionGroup[BaseException], state: UploadState
) -> BaseException:
    """The one error to raise for a failed pool; re-raises a group that must not be wrapped."""
    errors = _leaves(group)
    real = [e for e in errors if not isinstance(e, anyio.get_cancelled_exc_class())]
    if not real or any(not isinstance(e, Exception) for e in real):
        raise group  # cancellation, KeyboardInterrupt, SystemExit: never wrapped
    # Being cancelled from outside at the same moment wins over the part error.
    await anyio.lowlevel.checkpoint_if_cancelled()
    first = real[0]
    where = f" at part {state.failed_part}" if state.failed_part is not None else ""
    upload = f"upload {state.upload_id}" if state.upload_id else "upload"
    message = (
        f"{upload} failed{where} ({state.parts_done} of {state.parts_total} parts done, "
        f"{state.bytes_sent} bytes sent): {first}"
    )
    if isinstance(first, PartUploadError):
        return PartUploadError(
            message,
            part_number=first.part_number,
            offset=first.offset,
            attempts=first.attempts,
            upload_id=state.upload_id,
            parts_done=state.parts_done,
            parts_total=state.parts_total,
            bytes_sent=state.bytes_sent,
        )
    return state.error(message)


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            found.extend(_leaves(exc))
        else:
            found.append(exc)
    return found
