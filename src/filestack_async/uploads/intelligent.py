"""Intelligent ingestion (FII): parts concurrently, chunks in order inside a part, adaptive size.

For each part: send chunks at offsets within the part (``/multipart/upload`` with
``offset`` and ``fii: true``, then the PUT), then ``/multipart/commit`` the part.

The chunk size lives in one `ChunkSizer` per upload (never shared between
uploads). A chunk that fails with a connection error, a timeout, 408 or a 5xx is
retried at the same offset with half the size (after the retry backoff), down to
``min_chunk_size``; a chunk failing at that size ends the upload with
`PartUploadError`. 429 is retried at the same size after the time the service
asks for. Other 4xx answers are not retried. After a run of successful chunks the
size doubles again, up to where it started.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._exceptions import APIConnectionError, APIStatusError, PartUploadError
from .._http import Retry
from .._retry import backoff_delay
from .planner import ChunkSizer, Part
from .pool import UploadState, run_parts
from .progress import ProgressTracker
from .protocol import UploadSession
from .sources import PartData, Source


async def upload_parts(
    session: UploadSession,
    source: Source,
    parts: Sequence[Part],
    state: UploadState,
    progress: ProgressTracker,
    sizer: ChunkSizer | None = None,
) -> None:
    """Upload and commit every part in intelligent-ingestion mode."""
    config = session.context.upload
    chunks = sizer or ChunkSizer(config.intelligent_chunk_size, config.min_chunk_size)

    async def prepare(part: Part) -> PartData:
        return await source.read_part(part.offset, part.size)

    async def send(part: Part, data: PartData) -> None:
        try:
            offset = 0
            while offset < part.size:
                offset += await _send_chunk(session, part, data, offset, chunks, state, progress)
        finally:
            data.release()
        await session.commit(part.number)
        state.part_done()

    await run_parts(
        parts,
        prepare=prepare,
        send=send,
        state=state,
        concurrency=config.concurrency,
        limiter=session.context.part_limiter,
        ordered=not source.random_access,
    )


async def _send_chunk(
    session: UploadSession,
    part: Part,
    data: PartData,
    offset: int,
    chunks: ChunkSizer,
    state: UploadState,
    progress: ProgressTracker,
) -> int:
    """Send one chunk at ``offset`` within the part, shrinking on failure; return its size."""
    policy = session.context.retry
    attempts = 0
    rate_limited = 0
    while True:
        size = chunks.next_chunk(part.size - offset)
        attempts += 1
        try:
            md5 = await data.md5(offset, size)
            url, headers = await session.part_url(
                part.number, size, md5, offset=offset, retry=Retry.NEVER
            )
            await session.put(url, headers, data.body(offset, size), size, retry=Retry.NEVER)
        except APIStatusError as err:
            status = err.status_code
            if status == 429:
                rate_limited += 1
                wait = err.retry_after
                if rate_limited > policy.max_retries or (
                    wait is not None and wait > policy.max_retry_after
                ):
                    raise _chunk_error(part, offset, attempts, err, "rate limited") from err
                if wait is None:
                    wait = backoff_delay(rate_limited - 1, policy)
                await policy.sleep(wait)
                continue
            if status != 408 and status < 500:
                raise _chunk_error(part, offset, attempts, err, "not retryable") from err
            error: Exception = err
        except APIConnectionError as err:
            error = err
        else:
            chunks.after_success()
            state.add_bytes(size)
            await progress.advance(size)
            return size
        if chunks.after_failure(size) is None:
            raise _chunk_error(
                part,
                offset,
                attempts,
                error,
                f"failed at the minimum chunk size ({chunks.floor} bytes)",
            ) from error
        await policy.sleep(backoff_delay(min(attempts - 1, 8), policy))


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
