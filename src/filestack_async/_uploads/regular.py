"""Regular multipart: each part is hashed, given a signed URL, PUT, and its ETag kept.

With a `Fallback` (``intelligent="fallback"``) the parts start the regular way, each
PUT sent once; the first part whose PUT fails the way a struggling link fails (a
connection error or timeout, 408, 429, 5xx, S3's 400 ``RequestTimeout`` or
``IncompleteBody``) switches the upload to intelligent ingestion: that part is sent
again in chunks and committed, and so is every part after it (as filestack-js does).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .._events import FallbackSwitched, PartDone, RetryEvent, emit
from .._exceptions import APIConnectionError, APIError, APIResponseValidationError, APIStatusError
from .._http import Retry
from .._retry import backoff_delay, is_retryable_status
from . import intelligent as fii
from .checkpoint import Journal
from .planner import ChunkSizer, Part
from .pool import run_parts
from .progress import ProgressTracker
from .protocol import UploadSession
from .sources import PartData, Source
from .state import UploadState
from .storage_errors import StorageVerdict, storage_error, storage_verdict

logger = logging.getLogger("filestack_async")


class Fallback:
    """The mode of one ``intelligent="fallback"`` upload: regular until a part struggles."""

    def __init__(self, session: UploadSession, progress: ProgressTracker) -> None:
        self.switched = False
        self.chunks: ChunkSizer = fii.new_sizer(session)
        self._progress = progress

    def switch(self, upload_id: str, part: int, err: APIError) -> bool:
        """Send this part and every later one through intelligent ingestion; True the
        first time (the switch), False once switched."""
        if self.switched:
            return False
        self.switched = True
        self._progress.intelligent = True
        logger.info(
            "upload %s: part %d failed the regular way (%s); switching to intelligent ingestion",
            upload_id,
            part,
            type(err).__name__,
        )
        return True


def struggled(err: APIError) -> bool:
    """True for a PUT failure that says the link struggled (fallback switches on it)."""
    if isinstance(err, APIConnectionError):
        return True
    if isinstance(err, APIStatusError):
        return (
            is_retryable_status(err.status_code) or storage_verdict(err) is StorageVerdict.SLOW_LINK
        )
    return False


async def upload_parts(
    session: UploadSession,
    source: Source,
    parts: Sequence[Part],
    state: UploadState,
    progress: ProgressTracker,
    journal: Journal | None = None,
    *,
    fallback: Fallback | None = None,
) -> list[dict[str, Any]]:
    """Upload every part through the pool; return ``[{part_number, etag}]`` in order
    (only the parts that went the regular way, with a `Fallback` that switched).

    The part POST and PUT are idempotent, so both are retried per the client's
    `RetryPolicy`; a PUT retry re-reads the part's range from the source (or
    resends the held bytes of a sequential source). S3's 400 ``RequestTimeout`` and
    ``IncompleteBody`` retry the part; its 403 ``RequestTimeTooSkewed`` and an
    expired URL ask for a fresh URL first. With a ``journal`` (a resumed or
    resumable upload), the parts it holds an ETag for are not sent again, and each
    new ETag is written to it as soon as it arrives.
    """
    etags: dict[int, str] = dict(journal.checkpoint.etags) if journal is not None else {}

    async def prepare(part: Part) -> PartData:
        return await source.read_part(part.offset, part.size)

    async def send(part: Part, data: PartData) -> None:
        try:
            if fallback is not None and fallback.switched:
                await fii.send_part(session, part, data, fallback.chunks, state, progress)
                return
            try:
                etag = await _send_part(session, part, data, progress, once=fallback is not None)
            except APIError as err:
                if fallback is None or not struggled(err):
                    raise
                if fallback.switch(session.upload_id, part.number, err):
                    event = FallbackSwitched(session.upload_id, part.number, err.message)
                    await emit(session.context.on_event, event)
                await fii.send_part(session, part, data, fallback.chunks, state, progress)
                return
        finally:
            data.release()
        etags[part.number] = etag
        if journal is not None:
            await journal.part_acknowledged(part.number, etag)
        state.part_done()
        state.add_bytes(part.size)
        await progress.advance(part.size, part.number)
        await emit(
            session.context.on_event,
            PartDone(state.upload_id or "", part.number, part.size, state.parts_done, len(parts)),
        )

    await run_parts(
        [part for part in parts if part.number not in etags],
        prepare=prepare,
        send=send,
        state=state,
        concurrency=session.context.upload.concurrency,
        limiter=session.context.part_limiter,
        ordered=not source.random_access,
    )
    return [{"part_number": number, "etag": etags[number]} for number in sorted(etags)]


async def _send_part(
    session: UploadSession, part: Part, data: PartData, progress: ProgressTracker, *, once: bool
) -> str:
    """Get a signed URL and PUT the part; return its ETag.

    ``once``: the PUT is not retried on a struggling link (fallback mode switches
    instead); a stale URL is still replaced.
    """
    policy = session.context.retry
    md5 = await data.md5() if session.integrity_check else None
    retries = 0
    while True:
        url, headers = await session.part_url(part.number, part.size, md5, retry=Retry.ALWAYS)
        try:
            etag = await session.put(
                url,
                headers,
                progress.counted(part.number, data.body()),
                part.size,
                retry=Retry.NEVER if once else Retry.ALWAYS,
            )
        except APIStatusError as err:
            verdict = storage_verdict(err)
            if verdict is None or (once and verdict is StorageVerdict.SLOW_LINK):
                raise
            if retries >= policy.max_retries:
                raise
            delay = backoff_delay(retries, policy)
            retries += 1
            code, _ = storage_error(err.body)
            what = f"PUT part {part.number} (the storage answered {err.status_code} {code})"
            await emit(session.context.on_event, RetryEvent(what, retries, delay, err.message))
            await policy.sleep(delay)
            continue
        if not etag:
            raise APIResponseValidationError(
                f"the storage PUT of part {part.number} answered without an ETag header",
                method="PUT",
            )
        return etag
