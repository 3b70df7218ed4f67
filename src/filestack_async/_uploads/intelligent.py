"""Intelligent ingestion (FII): parts concurrently, chunks in order inside a part, adaptive size.

For each part: send chunks at offsets within the part (``/multipart/upload`` with
``offset`` and ``fii: true``, then the PUT), then ``/multipart/commit`` the part.

The chunk size lives in one `ChunkSizer` per upload (never shared between
uploads). A chunk whose PUT fails with a connection error, a connect or write
timeout or 408 is retried at the same offset with half the size (after the retry
backoff), down to ``min_chunk_size``, where it is retried at that size up to the
policy's ``max_retries`` before the upload ends with `PartUploadError`. A chunk
whose whole body was sent but whose answer did not come in time (a read timeout)
may still be stored by the service later, so it is retried with the same offset
*and size*: a late copy then holds the same bytes as the retry instead of
overlapping the smaller chunks that would follow. 5xx and 429 are retried at the
same size after the backoff or ``Retry-After``. S3's 400 ``RequestTimeout`` and
``IncompleteBody`` count as a timeout (the chunk halves), its 403
``RequestTimeTooSkewed`` and an expired URL get a fresh URL at the same size
(`storage_errors`). Other 4xx answers are not retried.
``/multipart/upload`` failures are retried by the HTTP layer and never shrink the
chunk. After a run of successful chunks the size doubles again, up to where it
started.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._events import ChunkSizeChanged, PartDone, RetryEvent, emit
from .._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    PartUploadError,
)
from .._http import Retry
from .._retry import backoff_delay
from .checkpoint import Journal
from .planner import ChunkSizer, Part
from .pool import run_parts
from .progress import ProgressTracker
from .protocol import UploadSession
from .sources import PartData, Source
from .state import UploadState
from .storage_errors import StorageVerdict, storage_verdict


async def upload_parts(
    session: UploadSession,
    source: Source,
    parts: Sequence[Part],
    state: UploadState,
    progress: ProgressTracker,
    sizer: ChunkSizer | None = None,
    journal: Journal | None = None,
) -> None:
    """Upload and commit every part in intelligent-ingestion mode.

    With a ``journal`` (a resumed or resumable upload), committed parts are skipped,
    a part in progress continues after its last acknowledged chunk, and every chunk
    and commit is written to the journal as soon as the service acknowledged it.
    """
    config = session.context.upload
    chunks = sizer or new_sizer(session)
    committed = set(journal.checkpoint.committed) if journal is not None else set()

    async def prepare(part: Part) -> PartData:
        return await source.read_part(part.offset, part.size)

    async def send(part: Part, data: PartData) -> None:
        await send_part(session, part, data, chunks, state, progress, journal=journal)

    await run_parts(
        [part for part in parts if part.number not in committed],
        prepare=prepare,
        send=send,
        state=state,
        concurrency=config.concurrency,
        limiter=session.context.part_limiter,
        ordered=not source.random_access,
    )


async def send_part(
    session: UploadSession,
    part: Part,
    data: PartData,
    chunks: ChunkSizer,
    state: UploadState,
    progress: ProgressTracker,
    *,
    journal: Journal | None = None,
) -> None:
    """Send one part's chunks in order, release ``data``, then commit the part.

    With a ``journal``, the part continues after its last acknowledged chunk, and each
    chunk and the commit are written to it as soon as the service acknowledged them.
    """
    try:
        offset = journal.checkpoint.chunks.get(part.number, 0) if journal is not None else 0
        while offset < part.size:
            offset += await _send_chunk(session, part, data, offset, chunks, state, progress)
            if journal is not None:
                await journal.chunk_acknowledged(part.number, offset)
    finally:
        data.release()
    await session.commit(part.number)
    if journal is not None:
        await journal.part_committed(part.number)
    state.part_done()
    await emit(
        session.context.on_event,
        PartDone(
            state.upload_id or "", part.number, part.size, state.parts_done, state.parts_total
        ),
    )


def new_sizer(session: UploadSession) -> ChunkSizer:
    """The chunk sizer of one upload, from its `UploadConfig`."""
    config = session.context.upload
    return ChunkSizer(config.intelligent_chunk_size, config.min_chunk_size)


async def _send_chunk(
    session: UploadSession,
    part: Part,
    data: PartData,
    offset: int,
    chunks: ChunkSizer,
    state: UploadState,
    progress: ProgressTracker,
) -> int:
    """Send one chunk at ``offset`` within the part, adapting to failures; return its size.

    * ``/multipart/upload`` is an ordinary idempotent API call: the HTTP layer retries
      it; if it still fails, the upload fails (its failure says nothing about the
      link's bandwidth, so it never shrinks the chunk).
    * The PUT failing with a connection error, a connect or write timeout or 408
      halves the chunk (the link is struggling) and retries at the same offset after
      a backoff. A read timeout (the body was sent whole, the answer is late) keeps
      the size for every retry at this offset, as that attempt may still be stored.
    * S3's 400 ``RequestTimeout``/``IncompleteBody`` count as a write timeout (halve);
      its 403 ``RequestTimeTooSkewed`` or an expired URL retry at the same size with a
      fresh URL (every attempt asks ``/multipart/upload`` again).
    * 5xx and 429 retry at the same size after the backoff (or ``Retry-After``).
    * Retries that cannot shrink (5xx, 429, or a chunk already at the floor) are
      bounded by the retry policy's ``max_retries``; then `PartUploadError`.
    * Other 4xx answers end the upload at once.
    """
    policy = session.context.retry
    attempts = 0
    retries = 0
    #: the size every retry at this offset must keep, once an attempt may have been stored
    pinned: int | None = None
    while True:
        size = pinned or chunks.next_chunk(part.size - offset)
        attempts += 1
        md5 = await data.md5(offset, size) if session.integrity_check else None
        try:
            url, headers = await session.part_url(
                part.number, size, md5, offset=offset, retry=Retry.ALWAYS
            )
        except APIError as err:
            raise _chunk_error(part, offset, attempts, err, "no upload URL") from err
        wait: float | None = None
        try:
            body = progress.counted((part.number, offset), data.body(offset, size))
            await session.put(url, headers, body, size, retry=Retry.NEVER)
        except APIStatusError as err:
            status = err.status_code
            verdict = storage_verdict(err)
            if verdict is None and status != 408 and status != 429 and status < 500:
                raise _chunk_error(part, offset, attempts, err, "not retryable") from err
            timed_out = status == 408 or verdict is StorageVerdict.SLOW_LINK
            shrink = timed_out and pinned is None
            wait = err.retry_after
            error: Exception = err
        except APIConnectionError as err:
            if _maybe_delivered(err):
                pinned = size
                shrink = False
            else:
                shrink = pinned is None
            error = err
        else:
            before = chunks.size
            chunks.after_success()
            await _size_changed(session, state, part, before, chunks.size)
            state.add_bytes(size)
            await progress.advance(size, (part.number, offset))
            return size
        before = chunks.size
        shrunk = shrink and chunks.after_failure(size) is not None
        await _size_changed(session, state, part, before, chunks.size)
        if not shrunk:
            retries += 1
            at_floor = shrink and size <= chunks.floor
            if retries > policy.max_retries:
                why = (
                    f"failed at the minimum chunk size ({chunks.floor} bytes)"
                    if at_floor
                    else "retries exhausted"
                )
                raise _chunk_error(part, offset, attempts, error, why) from error
            if wait is not None and wait > policy.max_retry_after:
                raise _chunk_error(
                    part, offset, attempts, error, "asked to wait too long"
                ) from error
        delay = wait if wait is not None else backoff_delay(min(attempts - 1, 8), policy)
        what = f"PUT part {part.number} chunk at offset {offset}"
        await emit(session.context.on_event, RetryEvent(what, attempts, delay, str(error)))
        await policy.sleep(delay)


async def _size_changed(
    session: UploadSession, state: UploadState, part: Part, before: int, after: int
) -> None:
    if after != before:
        event = ChunkSizeChanged(state.upload_id or "", part.number, before, after)
        await emit(session.context.on_event, event)


def _maybe_delivered(err: APIConnectionError) -> bool:
    """True when the failed PUT's body reached the service whole and may still be stored.

    That is a read timeout: the whole body was sent and the answer was late.
    """
    return isinstance(err, APITimeoutError) and err.phase == "read"


def _chunk_error(
    part: Part, offset: int, attempts: int, cause: Exception, why: str
) -> PartUploadError:
    return PartUploadError(
        f"part {part.number}, chunk at offset {offset} within the part: {why} after "
        f"{attempts} attempt(s); last error: {cause}",
        part_number=part.number,
        offset=offset,
        attempts=attempts,
    )
