"""The File API (store, overwrite, delete) and ``/process`` (store a file fetched from a URL)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .fetch import Fetched, discard, fetch
from .images import probe_size, sniff_mimetype
from .receive import receive
from .security import Credentials, Denied, StoreGrant, query_credentials
from .storage import StoredFile, new_handle
from .strict import Checker, ProtocolError
from .upload_api import upload_answer
from .web import (
    MAX_JSON_BODY,
    capped_request,
    error,
    loads_strict,
    origin,
    paced,
    read_capped,
    require_handle,
    too_large,
)

if TYPE_CHECKING:
    from .app import Emulator

_BLOCK = 1024 * 1024
#: what a multipart form may hold beyond its file (boundaries, headers, small fields)
FORM_SLACK = 64 * 1024


def _over_max_size(limit: int) -> Denied:
    return Denied("maxSize", f"the file is more than the policy's maxSize ({limit} bytes)")


#: where ``POST /api/store/<location>`` can store
STORE_LOCATIONS = ("S3", "gcs", "azure", "rackspace", "dropbox")


class FileAPI:
    """``POST /api/store/<location>``, ``POST|DELETE /api/file/<handle>`` and ``POST /process``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    async def overwrite(self, request: Request) -> Response:
        """Replace a file's bytes (multipart ``fileUpload`` or form field ``url``)."""
        handle = require_handle(str(request.path_params["handle"]))
        if faulty := await self.emu.fault("file"):
            return faulty
        grant = self.emu.store_grant(
            query_credentials(request.query_params),
            call="write",
            required=True,
            handle=handle,
            path=None,
            container=None,
        )
        existing = await self.emu.run(self.emu.storage.get_file, handle)
        if existing is None:
            return error(404, f"file {handle} not found")
        decode = request.query_params.get("base64decode", "false").lower() == "true"
        incoming = await self._incoming(request, raw_body=False, grant=grant, decode=decode)
        if isinstance(incoming, Response):
            return incoming
        try:
            if decode:
                incoming = await self.emu.run(_decode_base64, incoming)
            grant.admit(incoming.size)
            sniffed = await self.emu.run(sniff_mimetype, incoming.path)
            dims = await self.emu.run(probe_size, incoming.path)
            updated = dataclasses.replace(
                existing,
                size=incoming.size,
                etag=f'"{incoming.md5}"',
                md5=incoming.md5,
                mimetype=sniffed or existing.mimetype,
                width=dims[0] if dims else None,
                height=dims[1] if dims else None,
            )
            await self.emu.run(
                self.emu.storage.store_blob, incoming.path, updated, replace_only=True
            )
        finally:
            await discard(incoming.path)
        return JSONResponse(
            {
                "url": f"{origin(request)}/{handle}",
                "handle": handle,
                "mimetype": updated.mimetype,
                "size": updated.size,
                "filename": updated.filename,
                "isWriteable": True,
            }
        )

    async def store(self, request: Request) -> Response:
        """``POST /api/store/<location>?key=...``: store the request's file as a new handle.

        The file is a multipart ``fileUpload`` field, a form field ``url`` to fetch, or
        the raw body; ``filename``, ``mimetype``, ``path``, ``container``, ``access``,
        ``base64decode``, ``policy`` and ``signature`` come in the query. Answers like
        Filestack: ``{url, size, type, filename, key[, container]}`` where ``url`` is
        ``<origin>/api/file/<handle>``. An empty file is stored like any other.
        """
        checker = self.emu.checker("store")
        location = str(request.path_params["location"])
        if location not in STORE_LOCATIONS:
            checker.fatal(f"unknown store location {location!r}; known: {STORE_LOCATIONS}")
        query = request.query_params
        self.emu.check_apikey(checker, query.get("key"))
        if faulty := await self.emu.fault("store"):
            return faulty
        path = query.get("path") or None
        container = query.get("container") or None
        grant = self.emu.store_grant(
            query_credentials(query), call="store", path=path, container=container
        )
        decode = query.get("base64decode", "false").lower() == "true"
        incoming = await self._incoming(request, raw_body=True, grant=grant, decode=decode)
        if isinstance(incoming, Response):
            return incoming
        try:
            if decode:
                incoming = await self.emu.run(_decode_base64, incoming)
            grant.admit(incoming.size)
            handle = new_handle()
            filename = query.get("filename") or incoming.filename
            mimetype = query.get("mimetype") or await self._mimetype(incoming)
            file = StoredFile(
                handle=handle,
                filename=filename,
                mimetype=mimetype,
                size=incoming.size,
                etag=f'"{incoming.md5}"',
                md5=incoming.md5,
                uploaded=int(time.time() * 1000),
                location=location,
                key=path or f"{handle}_{filename}",
                path=path,
                container=container,
            )
            await self._store_new(incoming.path, file)
        finally:
            await discard(incoming.path)
        answer: dict[str, Any] = {
            "url": f"{origin(request)}/api/file/{handle}",
            "size": file.size,
            "type": file.mimetype,
            "filename": file.filename,
            "key": file.key,
        }
        if container:
            answer["container"] = container
        return JSONResponse(answer)

    async def _store_new(self, path: Path, file: StoredFile) -> None:
        """Keep the received file at ``path`` as ``file`` (with its image size, if any)."""
        dims = await self.emu.run(probe_size, path)
        if dims is not None:
            file.width, file.height = dims
        await self.emu.run(self.emu.storage.store_blob, path, file)

    async def _incoming(
        self, request: Request, *, raw_body: bool, grant: StoreGrant, decode: bool
    ) -> Fetched | Response:
        """The request's file: a multipart ``fileUpload``, a form ``url`` to fetch, or
        (with ``raw_body``) the body itself; an error response when there is none.

        Reading stops as soon as the file passes the policy's ``maxSize`` (unless
        ``decode``: the size that counts is then the decoded one, checked after).
        """
        limit = None if decode else grant.max_size
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            if limit is not None:
                request = capped_request(request, limit + FORM_SLACK, _over_max_size(limit))
            return await self._from_form(request, limit)
        if content_type.startswith("application/x-www-form-urlencoded"):
            form_request = capped_request(
                request, MAX_JSON_BODY, too_large("form body", MAX_JSON_BODY)
            )
            form = await form_request.form()
            url = form.get("url")
            await form.close()
            if not isinstance(url, str) or not url:
                return error(400, "the form has no 'url' field")
            return await fetch(self.emu, url, request.url.netloc, limit=limit)
        if raw_body:
            return await self._from_body(request, content_type, limit)
        return error(400, "send the file as multipart 'fileUpload' or a form field 'url'")

    async def _receive(
        self, blocks: AsyncIterator[bytes], limit: int | None
    ) -> tuple[Path, int, str]:
        """Write ``blocks`` to a new incoming file; its path, size and MD5 (hex).

        Past ``limit`` bytes, stop reading and refuse (the policy's ``maxSize``). The
        network profile's bandwidth applies, as it does to part PUTs.
        """
        temp = self.emu.storage.incoming_path()

        def within(received: int) -> None:
            if limit is not None and received > limit:
                raise _over_max_size(limit)

        got = await receive(paced(blocks, self.emu.bandwidth), temp, self.emu.run, check=within)
        return temp, got.size, got.md5

    async def _from_body(self, request: Request, content_type: str, limit: int | None) -> Fetched:
        declared = request.headers.get("content-length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            raise _over_max_size(limit)  # refused before reading
        temp, size, md5 = await self._receive(request.stream(), limit)
        mimetype = content_type.split(";", 1)[0].strip() or "text/plain"
        return Fetched(temp, size, mimetype, "file", md5)

    async def _from_form(self, request: Request, limit: int | None) -> Fetched:
        form = await request.form()
        try:
            upload = form.get("fileUpload")
            if not isinstance(upload, UploadFile):
                raise ProtocolError("the multipart body has no 'fileUpload' file field")
            temp, size, md5 = await self._receive(_blocks_of(upload), limit)
            return Fetched(temp, size, "application/octet-stream", upload.filename or "file", md5)
        finally:
            await form.close()

    async def _mimetype(self, fetched: Fetched) -> str:
        sniffed: str | None = await self.emu.run(sniff_mimetype, fetched.path)
        return sniffed or fetched.mimetype

    async def delete(self, request: Request) -> Response:
        """Delete a file (needs ``key``, and a policy allowing ``remove``)."""
        handle = require_handle(str(request.path_params["handle"]))
        if faulty := await self.emu.fault("file"):
            return faulty
        checker = self.emu.checker("file")
        self.emu.check_apikey(checker, request.query_params.get("key"))
        self.emu.security(
            query_credentials(request.query_params), call="remove", required=True, handle=handle
        )
        if not await self.emu.run(self.emu.storage.delete_file, handle):
            return error(404, f"file {handle} not found")
        return PlainTextResponse("success")

    async def process(self, request: Request) -> Response:
        """``POST /process``: store a file fetched from ``sources[0]``."""
        checker = self.emu.checker("process")
        try:
            body = loads_strict(await read_capped(request, what="JSON body"))
        except ValueError as err:
            checker.fatal(f"the body is not JSON: {err}")
        if not isinstance(body, dict):
            checker.fatal("the body must be a JSON object")
        self.emu.check_apikey(checker, body.get("apikey"))
        sources = checker.field(body, "sources", list)
        tasks = checker.field(body, "tasks", list)
        if len(sources) != 1:
            checker.fatal("'sources' must hold exactly one URL")
        source, origin_headers = _source(checker, sources[0])
        store: dict[str, Any] = {}
        credentials = Credentials()
        for task in tasks:
            if not isinstance(task, dict) or not isinstance(task.get("params", {}), dict):
                checker.fatal("each task must be an object with 'name' and 'params'")
            if task.get("name") == "store":
                store = dict(task.get("params") or {})
            elif task.get("name") == "security":
                params = task.get("params") or {}
                credentials = Credentials(params.get("policy"), params.get("signature"))
            else:
                checker.fatal(f"the emulator's /process does not run the {task.get('name')!r} task")
        if faulty := await self.emu.fault("process"):
            return faulty
        decode = store.get("base64decode") is True
        grant = self.emu.store_grant(
            credentials,
            call="store",
            url=source,
            path=_text(store.get("path")),
            container=_text(store.get("container")),
        )
        limit = None if decode else grant.max_size
        fetched = await fetch(
            self.emu, source, request.url.netloc, limit=limit, headers=origin_headers
        )
        try:
            if decode:
                fetched = await self.emu.run(_decode_base64, fetched)
            grant.admit(fetched.size)
            handle = new_handle()
            filename = str(store.get("filename") or fetched.filename)
            workflows = store.get("workflows")
            tags = body.get("upload_tags")
            file = StoredFile(
                handle=handle,
                filename=filename,
                mimetype=await self._mimetype(fetched),
                size=fetched.size,
                etag=f'"{fetched.md5}"',
                md5=fetched.md5,
                uploaded=int(time.time() * 1000),
                location=str(store.get("location") or "S3"),
                key=f"{handle}_{filename}",
                path=_text(store.get("path")),
                container=_text(store.get("container")),
                upload_tags=tags if isinstance(tags, dict) else None,
                workflows=workflows if isinstance(workflows, list) else None,
                source_url=source,
            )
            await self._store_new(fetched.path, file)
        finally:
            await discard(fetched.path)
        answer = upload_answer(file, origin(request))
        answer["type"] = file.mimetype
        return JSONResponse(answer)


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _source(checker: Checker, item: object) -> tuple[str, dict[str, str] | None]:
    """A ``/process`` source: a URL, or ``{"source": url, "headers": {...}}`` (the origin
    headers of a private source, filestack-js ``storeURL(..., headers)``)."""
    if isinstance(item, str):
        return item, None
    if not isinstance(item, dict) or not isinstance(item.get("source"), str):
        checker.fatal("a source must be a URL or an object with a 'source' URL")
    headers = item.get("headers")
    if headers is None:
        return item["source"], None
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        checker.fatal("a source's 'headers' must be an object of strings")
    if any(_CONTROL_CHARS.search(k + v) for k, v in headers.items()):
        checker.fatal("a source's headers must not hold control characters")
    unknown = set(item) - {"source", "headers"}
    if unknown:
        checker.deviation(f"unknown source field(s) {sorted(unknown)}")
    return item["source"], dict(headers)


def _decode_base64(fetched: Fetched) -> Fetched:
    raw = fetched.path.read_bytes()
    try:
        data = base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError) as err:
        raise ProtocolError(f"base64decode: the content is not base64 ({err})") from None
    fetched.path.write_bytes(data)
    digest = hashlib.md5(data).hexdigest()
    return dataclasses.replace(fetched, size=len(data), md5=digest)


async def _blocks_of(upload: UploadFile) -> AsyncIterator[bytes]:
    """The bytes of a form's file field, a block at a time."""
    while block := await upload.read(_BLOCK):
        yield block
