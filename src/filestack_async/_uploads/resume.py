"""Resuming an upload from its checkpoint: what the engine does with ``resume=PATH``.

`Resumable` gathers what identifies this upload (the source, the store settings,
the service and API key); `Resumable.open` reads an existing checkpoint and refuses
one for another file or upload, `Resumable.begin` makes the checkpoint of a fresh
upload. `service_forgot` tells an upload the service no longer knows (expired or
aborted), which starts afresh instead of failing.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread

from .._context import Context
from .._exceptions import APIError, APIStatusError, CheckpointError, ConfigurationError
from .._http import HTTPSession
from .._security import Security
from .checkpoint import (
    Checkpoint,
    Flow,
    Journal,
    SourceIdentity,
    apikey_fingerprint,
    check_location,
    identify,
    load,
    mismatch,
    remove,
)
from .protocol import UploadSession, open_session
from .sources import Source

if sys.version_info < (3, 11):  # pragma: no cover - the backport anyio depends on
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]

logger = logging.getLogger("filestack_async.uploads")


async def checked_location(resume: object) -> Path:
    """``resume=`` as a Path (its folder must exist), checked in a worker thread.

    Raises:
        ConfigurationError: not a path, a folder, or a folder that does not exist.
    """
    return await anyio.to_thread.run_sync(check_location, resume)


def require_resumable(source: Source) -> None:
    """Refuse ``resume=`` for a source a later run cannot read again.

    Raises:
        ConfigurationError: ``content=``, a stream or a non-seekable file object.
    """
    if not source.resumable:
        raise ConfigurationError(
            "resume= needs a source a later run can read again: filepath= or a seekable "
            f"file_obj=, not {type(source).__name__.removesuffix('Source').lower() or 'this'}"
            " (upload it without resume=)"
        )


@dataclass
class Resumable:
    """This call's side of the checkpoint: where it is and what it must match."""

    path: Path
    flow: Flow
    service: str
    apikey_sha256: str
    settings: dict[str, Any]
    source: SourceIdentity

    @classmethod
    async def prepare(
        cls, path: Path, context: Context, source: Source, start_body: dict[str, Any]
    ) -> Resumable:
        """Identify the opened ``source`` (hashing both ends in a worker thread)."""
        identity = await anyio.to_thread.run_sync(
            identify, source.read_at, source.size, source.modified_ns(), source.identity_name
        )
        settings = {key: start_body[key] for key in ("filename", "mimetype", "store")}
        if start_body.get("fii"):
            settings["fii"] = True  # asked for intelligent ingestion (the service may not)
        return cls(
            path=path,
            flow="intelligent" if start_body.get("fii") else "regular",
            service=context.endpoints.upload,
            apikey_sha256=apikey_fingerprint(context.apikey or ""),
            # as the file will hold it (tuples become lists), so a later run compares equal
            settings=json.loads(json.dumps(settings)),
            source=identity,
        )

    async def open(self) -> Checkpoint | None:
        """The checkpoint to continue from, or ``None`` when there is none.

        Raises:
            CheckpointError: unreadable, not a checkpoint this SDK wrote, or one for
                another file, a changed source or another upload.
        """
        checkpoint = await anyio.to_thread.run_sync(load, self.path)
        if checkpoint is None:
            return None
        flow = self.flow
        if flow == "intelligent" and _went_regular(checkpoint):
            flow = "regular"  # the service did not enable intelligent ingestion for it
        refused = mismatch(
            checkpoint,
            self.path,
            flow=flow,
            service=self.service,
            apikey_sha256=self.apikey_sha256,
            settings=self.settings,
            source=self.source,
        )
        if refused is not None:
            raise refused
        return checkpoint

    def begin(self, session: UploadSession, part_size: int) -> Journal:
        """The journal of a freshly started upload (nothing acknowledged yet)."""
        checkpoint = Checkpoint(
            flow="intelligent" if session.intelligent else "regular",
            service=self.service,
            apikey_sha256=self.apikey_sha256,
            start_response=dict(session.start_response),
            part_size=part_size,
            settings=self.settings,
            source=self.source,
        )
        return Journal(self.path, checkpoint)

    async def discard(self) -> None:
        """Remove the checkpoint (the service no longer knows its upload)."""
        await anyio.to_thread.run_sync(remove, self.path)


def _went_regular(checkpoint: Checkpoint) -> bool:
    """True for a checkpoint of an intelligent upload the service answered as regular."""
    return (
        checkpoint.flow == "regular"
        and checkpoint.settings.get("fii") is True
        and checkpoint.start_response.get("upload_type") != "intelligent_ingestion"
    )


def reopen(
    checkpoint: Checkpoint,
    context: Context,
    http: HTTPSession,
    start_body: dict[str, Any],
    *,
    security: Security | None,
    path: Path,
) -> UploadSession:
    """The session of a checkpointed upload, without a new ``/multipart/start``.

    Raises:
        CheckpointError: its ``location_url`` (or ``uri``...) is not usable.
    """
    try:
        return open_session(
            context,
            http,
            start_body,
            dict(checkpoint.start_response),
            security=security,
            intelligent=checkpoint.flow == "intelligent",
        )
    except APIError as err:
        shown = os.fspath(path)
        raise CheckpointError(
            f"the upload checkpoint {shown!r} cannot be used: {err}; delete it to start the "
            "upload afresh",
            path=shown,
            reason="corrupt",
        ) from None


#: S3's error code for an upload id it does not know (aborted, completed or expired)
_NO_SUCH_UPLOAD = "NoSuchUpload"


def service_forgot(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the service no longer knows the upload.

    That is an answer with S3's ``NoSuchUpload`` code (400 or 404), or a 404 from an
    Upload API call. What the real service answers for an expired upload is not
    documented (docs/uploads.md); these are the answers S3 and the emulator give.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, APIStatusError) and _forgotten(current):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return False


def _forgotten(error: APIStatusError) -> bool:
    if error.status_code not in (400, 404):
        return False
    if _NO_SUCH_UPLOAD in error.body or _NO_SUCH_UPLOAD in error.message:
        return True
    return error.status_code == 404 and "/multipart/" in (error.url or "")


def log_forgotten(upload_id: str, path: Path) -> None:
    """Say (at WARNING) that a checkpointed upload starts afresh, and why."""
    logger.warning(
        "upload %s from checkpoint %s: the service no longer knows this upload (expired or "
        "aborted); starting it afresh, every part is sent again",
        upload_id,
        os.fspath(path),
    )
