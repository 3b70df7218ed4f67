"""Regular multipart: each part is hashed, given a signed URL, PUT, and its ETag kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._events import PartDone, emit
from .._exceptions import APIResponseValidationError
from .._http import Retry
from .checkpoint import Journal
from .planner import Part
from .pool import run_parts
from .progress import ProgressTracker
from .protocol import UploadSession
from .sources import PartData, Source
from .state import UploadState


async def upload_parts(
    session: UploadSession,
    source: Source,
    parts: Sequence[Part],
    state: UploadState,
    progress: ProgressTracker,
    journal: Journal | None = None,
) -> list[dict[str, Any]]:
    """Upload every part through the pool; return ``[{part_number, etag}]`` in order.

    The part POST and PUT are idempotent, so both are retried per the client's
    `RetryPolicy`; a PUT retry re-reads the part's range from the source (or
    resends the held bytes of a sequential source). With a ``journal`` (a resumed
    or resumable upload), the parts it holds an ETag for are not sent again, and
    each new ETag is written to it as soon as it arrives.
    """
    etags: dict[int, str] = dict(journal.checkpoint.etags) if journal is not None else {}

    async def prepare(part: Part) -> PartData:
        return await source.read_part(part.offset, part.size)

    async def send(part: Part, data: PartData) -> None:
        try:
            md5 = await data.md5()
            url, headers = await session.part_url(part.number, part.size, md5, retry=Retry.ALWAYS)
            body = progress.counted(part.number, data.body())
            etag = await session.put(url, headers, body, part.size, retry=Retry.ALWAYS)
        finally:
            data.release()
        if not etag:
            raise APIResponseValidationError(
                f"the storage PUT of part {part.number} answered without an ETag header",
                method="PUT",
            )
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
