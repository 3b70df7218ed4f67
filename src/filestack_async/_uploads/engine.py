"""One upload from start to complete, and many uploads at once."""

from __future__ import annotations

import logging
import mimetypes
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import anyio.to_thread

from .._context import Context
from .._events import UploadResumed, emit
from .._exceptions import (
    APIResponseValidationError,
    ConfigurationError,
    FilestackError,
    UploadError,
)
from .._filelink import Filelink
from .._http import Body, HTTPSession
from .._params import handle_in_answer, validate_handle, validate_store_params
from .._security import Security, check_security
from . import intelligent as fii
from . import regular
from .checkpoint import Checkpoint, Journal
from .complete import complete
from .planner import part_size_for, plan_parts
from .progress import ProgressCallback, ProgressTracker
from .protocol import (
    STORE_UNSUPPORTED,
    build_complete_body,
    build_start_body,
    start,
    store,
    store_request,
)
from .resume import (
    Resumable,
    checked_location,
    log_forgotten,
    reopen,
    require_resumable,
    service_forgot,
)
from .sources import BinaryReadable, BytesLike, PartData, Source, make_source
from .state import UploadState

DEFAULT_FILENAME = "unnamed_file"
DEFAULT_MIMETYPE = "application/octet-stream"
#: a one-request body up to this size is sent from one bytes object
WHOLE_BODY = 1024 * 1024

#: ``intelligent=``: regular (False), intelligent ingestion (True), or regular parts
#: that switch to intelligent ingestion when one struggles ("fallback")
Intelligent = bool | Literal["fallback"]

logger = logging.getLogger("filestack_async")


def check_intelligent(intelligent: object) -> Intelligent:
    """Return ``intelligent`` if it is True, False or ``"fallback"``.

    Raises:
        ConfigurationError: anything else.
    """
    if isinstance(intelligent, bool) or intelligent == "fallback":
        return intelligent
    raise ConfigurationError(
        f"intelligent must be True, False or 'fallback', not {intelligent!r:.40}"
    )


async def upload(
    context: Context,
    *,
    filepath: str | os.PathLike[str] | None = None,
    file_obj: BinaryReadable | None = None,
    content: BytesLike | None = None,
    stream: Any = None,
    size: int | None = None,
    store_params: Mapping[str, Any] | None = None,
    intelligent: Intelligent = False,
    security: Security | None = None,
    progress: ProgressCallback | None = None,
    index: int | None = None,
    resume: str | os.PathLike[str] | None = None,
) -> Filelink:
    """Upload one file (see `Client.upload`)."""
    params = validate_store_params(store_params)
    check_security(security)
    if progress is not None and not callable(progress):
        raise ConfigurationError("progress must be a callable taking an UploadProgress")
    mode = check_intelligent(intelligent)
    sec = security or context.security
    source = make_source(
        filepath=filepath, file_obj=file_obj, content=content, stream=stream, size=size
    )
    checkpoint_path = None
    if resume is not None:
        if mode == "fallback":
            raise ConfigurationError(
                "resume= does not work with intelligent='fallback' (an upload that switched "
                "flows midway cannot be checkpointed yet); pass intelligent=True or False"
            )
        require_resumable(source)
        checkpoint_path = await checked_location(resume)
    source.hash_limiter = context.hash_limiter
    async with context.session(sec) as http, source:
        total = source.size
        filename = params.get("filename") or source.default_filename or DEFAULT_FILENAME
        mimetype = params.get("mimetype")
        if not mimetype and source.path_hint:
            mimetype = await _guess_type(source.path_hint)
        job = _Job(
            context,
            http,
            source,
            params,
            sec,
            filename,
            mimetype or DEFAULT_MIMETYPE,
            ProgressTracker(
                total, progress, index=index, interval=context.upload.progress_interval
            ),
        )
        resumed: _Resume | None = None
        if checkpoint_path is not None and total > 0:
            start_body = _start_body(job, mode)
            resumable = await Resumable.prepare(checkpoint_path, context, source, start_body)
            resumed = _Resume(resumable, await resumable.open())
        if total == 0 or (
            (resumed is None or resumed.checkpoint is None)
            and _one_request(context, total, params, mode, sec)
        ):
            source.hashing = False  # the store request carries no MD5
            answer, handle = await _store(job)
        else:
            source.hashing = context.upload.integrity_check
            answer, handle = await _multipart(job, mode, resumed)
    link = Filelink(handle, security=sec, upload_response=answer, context=context)
    await job.tracker.finish()
    return link


@dataclass(frozen=True)
class _Job:
    """One upload's settled inputs, for either flow."""

    context: Context
    http: HTTPSession
    source: Source
    params: dict[str, Any]
    security: Security | None
    filename: str
    mimetype: str
    tracker: ProgressTracker


class _MimeTypes:
    """`mimetypes.guess_type`: the first call in a worker thread (it reads the system's
    type files), later ones inline (a few dictionary lookups, cheaper than a hop)."""

    loaded = False

    @classmethod
    async def guess(cls, path: str) -> str | None:
        if cls.loaded:
            return mimetypes.guess_type(path)[0]
        guessed, _ = await anyio.to_thread.run_sync(mimetypes.guess_type, path)
        cls.loaded = True
        return guessed


_guess_type = _MimeTypes.guess


def _one_request(
    context: Context,
    size: int,
    params: Mapping[str, Any],
    intelligent: Intelligent,
    security: Security | None,
) -> bool:
    """True when a non-empty file goes as one ``/api/store`` request instead of multipart.

    Only below the threshold, for regular uploads whose store params ``/api/store`` can
    carry, and when the policy in effect allows the ``store`` call that request needs
    (multipart needs ``pick``): an app whose policies allow only ``pick`` keeps working.
    """
    return (
        size < context.upload.multipart_threshold
        and not intelligent
        and not any(params.get(key) for key in STORE_UNSUPPORTED)
        and _allows_call(security, "store")
    )


def _allows_call(security: Security | None, call: str) -> bool:
    """True unless the policy lists its calls and ``call`` is not one of them."""
    if security is None:
        return True
    calls = security.policy.get("call")  # a list or tuple (`Security` checks it)
    return calls is None or call in calls


async def _store(job: _Job) -> tuple[dict[str, Any], str]:
    """Store the whole file with one File API request (empty and small files).

    Multipart cannot store an empty file; for a small one, one request instead of four
    is what saves time (docs/uploads.md). The body is the source's one part: read again
    from the source for a retry, or held (sequential sources) until the answer came.
    """
    source = job.source
    request = store_request(
        job.context,
        filename=job.filename,
        mimetype=job.mimetype,
        store_params=job.params,
        security=job.security,
    )
    part = await source.read_part(0, source.size) if source.size else None
    try:
        await job.tracker.begin()
        content = b"" if part is None else await _content(part)
        answer = await store(job.http, request, content, source.size, security=job.security)
    finally:
        if part is not None:
            part.release()
    handle = _handle_of(answer, "/api/store")
    return _as_upload_response(answer, handle), handle


def _start_body(job: _Job, intelligent: Intelligent) -> dict[str, Any]:
    return build_start_body(
        job.context,
        filename=job.filename,
        mimetype=job.mimetype,
        size=job.source.size,
        store_params=job.params,
        security=job.security,
        intelligent=intelligent is not False,
    )


@dataclass
class _Resume:
    """``resume=``: this upload's identity, and the checkpoint to continue from (if any)."""

    resumable: Resumable
    checkpoint: Checkpoint | None


async def _multipart(
    job: _Job, intelligent: Intelligent, resume: _Resume | None = None
) -> tuple[dict[str, Any], str]:
    """Start, send every part, complete; return the complete answer and the handle.

    With ``resume``, an upload in its checkpoint continues (no new start, no
    acknowledged part sent again) and a new one is checkpointed as it goes; an upload
    the service no longer knows starts afresh, once, saying so in a log line.
    """
    try:
        return await _multipart_once(job, intelligent, resume)
    except UploadError as err:
        if resume is None or resume.checkpoint is None or not service_forgot(err):
            raise
        log_forgotten(resume.checkpoint.upload_id, resume.resumable.path)
    await resume.resumable.discard()
    job.tracker.resume_from(0)
    return await _multipart_once(job, intelligent, _Resume(resume.resumable, None))


async def _multipart_once(
    job: _Job, intelligent: Intelligent, resume: _Resume | None
) -> tuple[dict[str, Any], str]:
    """One try of `_multipart`.

    An intelligent (or fallback) start the service does not answer with
    ``upload_type: intelligent_ingestion`` (the app has no intelligent ingestion)
    goes on as a regular upload, and says so in the log (a resumed upload keeps the
    flow its checkpoint was written for).
    """
    context, source, params, sec, tracker = (
        job.context,
        job.source,
        job.params,
        job.security,
        job.tracker,
    )
    total = source.size
    wanted = intelligent is not False
    start_body = _start_body(job, intelligent)
    part_size = part_size_for(total, context.upload.part_size)
    journal: Journal | None = None
    if resume is not None and resume.checkpoint is not None:
        journal = Journal(resume.resumable.path, resume.checkpoint)
        part_size = resume.checkpoint.part_size
        session = reopen(
            resume.checkpoint, context, job.http, start_body, security=sec, path=journal.path
        )
        intelligent = session.intelligent
    else:
        session = await start(context, job.http, start_body, security=sec, intelligent=wanted)
        if wanted and session.start_response.get("upload_type") != "intelligent_ingestion":
            logger.info(
                "upload %s: the service did not enable intelligent ingestion for it (no "
                "upload_type intelligent_ingestion in the start answer); uploading it as "
                "regular multipart",
                session.upload_id,
            )
            intelligent = False
            session.intelligent = False
        if resume is not None:
            journal = resume.resumable.begin(session, part_size)
            await journal.save()  # a run that stops before its first part keeps this upload
    parts = plan_parts(total, part_size)
    state = UploadState(parts_total=len(parts), upload_id=session.upload_id)
    if journal is not None:
        done = journal.checkpoint
        state.parts_done = len(done.etags) + len(done.committed)
        state.bytes_sent = done.acknowledged_bytes()
        tracker.resume_from(state.bytes_sent)
    if resume is not None and resume.checkpoint is not None:
        event = UploadResumed(
            state.upload_id or "",
            os.fspath(resume.resumable.path),
            state.parts_done,
            state.bytes_sent,
        )
        await emit(context.on_event, event)
    tracker.intelligent = intelligent is True
    await tracker.begin()
    etags: list[dict[str, Any]] | None
    if intelligent is True:
        await fii.upload_parts(session, source, parts, state, tracker, journal=journal)
        etags = None
    elif intelligent == "fallback":
        fallback = regular.Fallback(session, tracker)
        etags = await regular.upload_parts(
            session, source, parts, state, tracker, fallback=fallback
        )
        etags = etags or None  # every part went through intelligent ingestion
    else:
        etags = await regular.upload_parts(session, source, parts, state, tracker, journal)
    body = build_complete_body(start_body, session.start_response, params, parts=etags)
    if wanted and not session.intelligent:
        body.pop("fii", None)  # the upload went regular: complete it as one
    try:
        answer = await complete(session, body, state)
        handle = _handle_of(answer)
    except UploadError:
        raise
    except FilestackError as err:
        raise state.error(
            f"upload {state.upload_id}: every part was sent but complete failed: {err}"
        ) from err
    if journal is not None:
        await journal.remove()
    return answer, handle


def _as_upload_response(answer: dict[str, Any], handle: str) -> dict[str, Any]:
    """The store answer plus the keys a multipart complete answer has (``handle``,
    ``mimetype``) when it lacks them, so ``upload_response`` reads the same either way."""
    shaped = {"handle": handle, **answer}
    if "mimetype" not in shaped and isinstance(answer.get("type"), str):
        shaped["mimetype"] = answer["type"]
    return shaped


async def _content(part: PartData) -> Body:
    """The part's bytes in one piece when small (one write, nothing to re-read for a
    retry), else a stream read again from the source for each attempt."""
    body = part.body()
    if isinstance(body, bytes) or part.size > WHOLE_BODY:
        return body
    return b"".join([block async for block in body()])


def _handle_of(answer: dict[str, Any], request: str = "/multipart/complete") -> str:
    try:
        return validate_handle(handle_in_answer(answer))
    except ConfigurationError as err:
        raise APIResponseValidationError(
            f"{request} answered without a usable handle: {err}", method="POST"
        ) from err


@dataclass(frozen=True)
class UploadItem:
    """One file for `Client.upload_many`: exactly one source, plus optional settings.

    ``store_params`` are merged over the call's ``store_params`` (the item's keys win).

    Example:
        >>> items = ["a.jpg", b"raw", UploadItem(content=b"x", store_params={"filename": "x"})]
    """

    filepath: str | os.PathLike[str] | None = None
    file_obj: BinaryReadable | None = None
    content: BytesLike | None = None
    stream: Any = None
    size: int | None = None
    store_params: Mapping[str, Any] | None = None


#: What `Client.upload_many` accepts per file: a path, bytes, an `UploadItem`, or a
#: dict with `UploadItem`'s keys.
UploadManyItem = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | UploadItem | Mapping[str, Any]
)

_ITEM_KEYS = frozenset(UploadItem.__dataclass_fields__)
#: placeholder result, replaced by every worker before upload_many returns
_NOT_RUN = RuntimeError("not uploaded")


def as_item(item: object) -> UploadItem:
    """Turn one ``upload_many`` entry into an `UploadItem`.

    Raises:
        ConfigurationError: the entry is none of the accepted shapes.
    """
    if isinstance(item, UploadItem):
        return item
    if isinstance(item, str | os.PathLike):
        return UploadItem(filepath=item)
    if isinstance(item, bytes | bytearray | memoryview):
        return UploadItem(content=item)
    if isinstance(item, Mapping):
        unknown = set(item) - _ITEM_KEYS
        if unknown:
            raise ConfigurationError(
                f"unknown upload item key(s) {sorted(map(str, unknown))}; "
                f"known: {sorted(_ITEM_KEYS)}"
            )
        return UploadItem(**item)
    raise ConfigurationError(
        f"an upload item must be a path, bytes, an UploadItem or a dict, not {type(item).__name__}"
    )


async def upload_many(
    context: Context,
    items: Iterable[UploadManyItem],
    *,
    concurrency: int = 4,
    intelligent: Intelligent = False,
    store_params: Mapping[str, Any] | None = None,
    security: Security | None = None,
    progress: ProgressCallback | None = None,
) -> list[Filelink | Exception]:
    """Upload many files, ``concurrency`` at a time (see `Client.upload_many`)."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError("concurrency must be an int of at least 1")
    if isinstance(items, str | bytes | bytearray | memoryview | Mapping | UploadItem):
        raise ConfigurationError("items must be a list of files; wrap a single one in a list")
    entries = list(items)
    shared = validate_store_params(store_params)
    results: list[Filelink | Exception] = [_NOT_RUN] * len(entries)
    queue = iter(enumerate(entries))

    async def one(index: int, entry: object) -> Filelink:
        item = as_item(entry)
        params = {**shared, **dict(item.store_params or {})}
        return await upload(
            context,
            filepath=item.filepath,
            file_obj=item.file_obj,
            content=item.content,
            stream=item.stream,
            size=item.size,
            store_params=params,
            intelligent=intelligent,
            security=security,
            progress=progress,
            index=index,
        )

    async def worker() -> None:
        for index, entry in queue:
            try:
                results[index] = await one(index, entry)
            except Exception as err:  # each file's failure is its result
                results[index] = err

    async with anyio.create_task_group() as tg:
        for _ in range(min(concurrency, len(entries))):
            tg.start_soon(worker)
    return results
