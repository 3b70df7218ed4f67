"""The Upload API: start, part URLs, the storage PUT, commit and complete.

Field names and rules follow the protocol reference §3 (regular multipart) and §4
(intelligent ingestion). Part bodies are streamed to disk and hashed in a worker
thread one megabyte at a time (:mod:`.receive`), so memory never holds more than a block
per request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .images import probe_size
from .multipart import Multipart, b64_md5, check_size, multipart_etag
from .receive import receive
from .security import Credentials
from .storage import Piece, StoredFile, Upload, new_handle
from .strict import Checker
from .web import ResetResponse, error, origin, paced, read_json, s3_error

if TYPE_CHECKING:
    from .app import Emulator

_REGION = "us-east-1"
#: S3's messages for the codes the max-chunk fault answers with
_S3_MESSAGES = {
    "RequestTimeout": "Your socket connection to the server was not read from or written "
    "to within the timeout period. Idle connections will be closed.",
    "IncompleteBody": "You did not provide the number of bytes specified by the "
    "Content-Length HTTP header.",
}


class UploadAPI:
    """The ``/multipart/*`` routes and the part PUT."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.model = Multipart(emulator.storage)

    # -- shared checks ------------------------------------------------------------------

    async def _session(self, checker: Checker, body: dict[str, Any]) -> Upload:
        """The upload a body names, checking the echoed ``uri`` and ``region``.

        The upload is bound to the API key that started it: another key is a 403.
        """
        apikey = self.emu.check_apikey(checker, body.get("apikey"))
        upload_id = checker.field(body, "upload_id", str)
        upload = await self.emu.run(self.model.session, checker, apikey, upload_id)
        if body.get("uri") != _uri(upload):
            checker.deviation("field 'uri' does not echo the start response")
        if body.get("region") != _REGION:
            checker.deviation("field 'region' does not echo the start response")
        store = body.get("store")
        if not isinstance(store, dict) or not isinstance(store.get("location"), str):
            checker.deviation("field 'store' must be an object with a 'location'")
        return upload

    def _carried_security(self, body: dict[str, Any]) -> None:
        """Check the policy of a call that may go without one (upload, commit): the
        official SDK sends none there; whatever is sent must be valid (§2.4)."""
        if "policy" in body or "signature" in body:
            self.emu.security(self._credentials(body), call="pick")

    def _store_grant(self, body: dict[str, Any], store: dict[str, Any], size: int) -> None:
        """The store rules of start and complete: the policy, ``maxSize``, path, container."""
        self.emu.store_grant(
            self._credentials(body),
            call="pick",
            size=size,
            path=store.get("path") if isinstance(store.get("path"), str) else None,
            container=store.get("container") if isinstance(store.get("container"), str) else None,
        )

    def _credentials(self, body: dict[str, Any]) -> Credentials:
        policy, signature = body.get("policy"), body.get("signature")
        return Credentials(
            policy if isinstance(policy, str) else None,
            signature if isinstance(signature, str) else None,
        )

    def _token(self, upload_id: str, part: int, offset: int | None, size: int, md5: str) -> str:
        message = f"{upload_id}:{part}:{offset}:{size}:{md5}".encode()
        return hmac.new(self.emu.signing_key, message, hashlib.sha256).hexdigest()

    # -- start ------------------------------------------------------------------------

    async def start(self, request: Request) -> Response:
        """``POST /multipart/start``."""
        checker = self.emu.checker("start")
        body = await read_json(request, checker)
        apikey = self.emu.check_apikey(checker, body.get("apikey"))
        size = checker.field(body, "size", int)
        check_size(checker, size)
        filename = checker.field(body, "filename", str, essential=False, default="unnamed_file")
        mimetype = checker.field(
            body, "mimetype", str, essential=False, default="application/octet-stream"
        )
        store = checker.field(body, "store", dict, essential=False, default={}) or {}
        if not isinstance(store.get("location"), str):
            checker.deviation("field 'store' must have a 'location'")
        fii = body.get("fii", False)
        if not isinstance(fii, bool):
            checker.deviation("field 'fii' must be a boolean")
            fii = bool(fii)
        if faulty := await self.emu.fault("start"):
            return faulty
        self._store_grant(body, store, size)
        upload = await self.emu.run(
            self.model.start,
            apikey=apikey,
            filename=filename or "unnamed_file",
            mimetype=mimetype or "application/octet-stream",
            size=size,
            fii=fii,
            store=store,
        )
        answer: dict[str, Any] = {
            "uri": _uri(upload),
            "region": _REGION,
            "upload_id": upload.upload_id,
            "location_url": request.url.netloc,
            "location_region": _REGION,
        }
        if fii:
            answer["upload_type"] = "intelligent_ingestion"
        return JSONResponse(answer)

    # -- part URLs ----------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        """``POST /multipart/upload``: where (and with which headers) to PUT a part or chunk."""
        checker = self.emu.checker("upload")
        body = await read_json(request, checker)
        upload = await self._session(checker, body)
        part = checker.field(body, "part", int)
        size = checker.field(body, "size", int)
        md5 = body.get("md5")
        offset = self.model.check_part(
            checker, upload, part, size, md5=md5, offset=body.get("offset"), fii=body.get("fii")
        )
        if faulty := await self.emu.fault("upload", f"{part}:{offset}"):
            return faulty
        self._carried_security(body)
        md5_text = md5 if isinstance(md5, str) else ""
        path = f"/_s3/{upload.upload_id}/{part}" + (f"/{offset}" if offset is not None else "")
        query = urlencode(
            {
                "size": size,
                "md5": md5_text,
                "token": self._token(upload.upload_id, part, offset, size, md5_text),
            }
        )
        headers = {"Content-Type": "application/octet-stream"}
        if md5_text:
            headers["Content-MD5"] = md5_text
        headers["x-amz-date"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        return JSONResponse(
            {
                "url": f"{origin(request)}{path}?{query}",
                "headers": headers,
                "location_url": request.url.netloc,
            }
        )

    # -- the storage PUT ------------------------------------------------------------------

    async def put(self, request: Request) -> Response:
        """``PUT /_s3/<upload>/<part>[/<offset>]``: receive one part or chunk."""
        checker = self.emu.checker("put")
        upload_id = str(request.path_params["upload_id"])
        part = _path_int(request.path_params["part"])
        offset_param = request.path_params.get("offset")
        offset = _path_int(offset_param) if offset_param is not None else None
        if part is None or (offset_param is not None and offset is None):
            return error(404, "no such part URL: the part and offset must be integers")
        try:
            size = int(request.query_params.get("size", ""))
        except ValueError:
            return error(403, "this URL was not signed by /multipart/upload", code="AccessDenied")
        md5_text = request.query_params.get("md5", "")
        token = request.query_params.get("token", "")
        expected = self._token(upload_id, part, offset, size, md5_text)
        # bytes: compare_digest refuses str holding non-ASCII characters (TypeError)
        if not hmac.compare_digest(token.encode(), expected.encode()):
            return error(403, "this URL was not signed by /multipart/upload", code="AccessDenied")
        faulty, answer_late = await self.emu.fault_answer_late("put", f"{part}:{offset}:{size}")
        if faulty:
            return faulty
        if self.emu.faults.chunk_too_big(size):
            settings = self.emu.faults.faults
            if settings.chunk_s3_code is not None:
                await _drain(request, size)
                return s3_error(400, settings.chunk_s3_code, _S3_MESSAGES[settings.chunk_s3_code])
            if settings.chunk_status is None:
                return ResetResponse()
            await _drain(request, size)
            status = settings.chunk_status
            return error(status, f"injected fault: chunks over the maximum size fail ({status})")
        header_md5 = request.headers.get("content-md5", "")
        if md5_text and header_md5 != md5_text:
            await _drain(request, size)
            checker.fatal("the Content-MD5 header differs from the md5 sent to /multipart/upload")
        upload = await self.emu.run(self.emu.storage.get_upload, upload_id)
        if upload is None:
            await _drain(request, size)
            checker.fatal("the upload does not exist (completed or unknown)", code="NoSuchUpload")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) != size:
            # refused before reading: nothing of the body is written
            _wrong_length(checker, int(declared), size)
        temp = self.emu.storage.temp_path(upload_id)
        bandwidth = self.emu.bandwidth
        body = request.stream() if bandwidth is None else paced(request.stream(), bandwidth)

        def at_most_signed(received: int) -> None:
            if received > size:  # stop at the signed size: nothing more is read
                _wrong_length(checker, received, size)

        try:
            got = await receive(body, temp, self.emu.run, check=at_most_signed)
            if got.size != size:
                checker.fatal(
                    f"the body has {got.size} bytes but {size} were declared",
                    code="IncompleteBody",
                )
            if md5_text and got.digest != b64_md5(md5_text):
                checker.fatal("the body's MD5 does not match Content-MD5", code="BadDigest")
            etag = f'"{got.md5}"'
            piece = Piece(part, offset or 0, size, got.md5, etag)
            await self.emu.run(self.emu.storage.record_piece, upload_id, piece, temp)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.emu.run(temp.unlink, True)
            raise
        if answer_late:  # an injected delay: the piece is kept, the answer comes late
            await anyio.sleep(answer_late)
        return Response(status_code=200, headers={"ETag": etag})

    # -- commit (intelligent ingestion) ---------------------------------------------------

    async def commit(self, request: Request) -> Response:
        """``POST /multipart/commit``: a part's chunks are all in."""
        checker = self.emu.checker("commit")
        body = await read_json(request, checker)
        upload = await self._session(checker, body)
        part = checker.field(body, "part", int)
        size = checker.field(body, "size", int, essential=False)
        if not upload.fii:
            checker.deviation("commit is only for intelligent-ingestion uploads")
        if size is not None and size != upload.size:
            checker.deviation(
                f"commit 'size' must be the whole file's size {upload.size}, not {size}"
            )
        if faulty := await self.emu.fault("commit", str(part)):
            return faulty
        self._carried_security(body)
        await self.emu.run(self.model.commit, checker, upload, part)
        return JSONResponse({"part": part, "committed": True})

    # -- complete --------------------------------------------------------------------------

    async def complete(self, request: Request) -> Response:
        """``POST /multipart/complete``: assemble the file and store it."""
        checker = self.emu.checker("complete")
        body = await read_json(request, checker)
        upload_id = body.get("upload_id")
        if isinstance(upload_id, str):
            apikey = body.get("apikey")
            if await self.emu.run(self.emu.storage.completed_upload, upload_id) is not None:
                # a retried complete whose first answer was lost: the same checks as a
                # first complete (the upload row is gone), for the key that started it
                apikey = self.emu.check_apikey(checker, apikey)
                stored = await self.emu.run(self.model.finished, apikey, upload_id)
                self.emu.security(self._credentials(body), call="pick")
                if stored is not None:
                    return JSONResponse(upload_answer(stored, origin(request)))
        upload = await self._session(checker, body)
        for name, expected in (
            ("size", upload.size),
            ("filename", upload.filename),
            ("mimetype", upload.mimetype),
        ):
            if body.get(name) != expected:
                checker.deviation(f"field {name!r} differs from the start request")
        if bool(body.get("fii", False)) != upload.fii:
            checker.deviation("field 'fii' differs from the start request")
        if faulty := await self.emu.fault("complete"):
            return faulty
        store = upload.store
        self._store_grant(body, store, upload.size)
        if upload.fii and "parts" in body:
            checker.deviation("an intelligent-ingestion complete has no 'parts' list")
        ordered = await self.emu.run(
            self.model.pieces_to_complete, checker, upload, body.get("parts")
        )
        if self.emu.faults.complete_needs_202(upload.upload_id):
            return JSONResponse({}, status_code=202)
        handle = new_handle()
        workflows = (body.get("store") or {}).get("workflows")
        tags = body.get("upload_tags")
        file = StoredFile(
            handle=handle,
            filename=upload.filename,
            mimetype=upload.mimetype,
            size=upload.size,
            etag=multipart_etag(ordered),
            uploaded=int(time.time() * 1000),
            location=str(store.get("location", "S3")),
            key=f"{handle}_{upload.filename}",
            path=store.get("path"),
            container=store.get("container"),
            upload_tags=tags if isinstance(tags, dict) else None,
            workflows=workflows if isinstance(workflows, list) else None,
        )
        stored = await self.emu.run(self.model.complete, upload, ordered, file)
        first_segment = self.emu.storage.segments(stored)[0][0]
        dims = await self.emu.run(probe_size, first_segment)
        if dims is not None:
            stored.width, stored.height = dims
            await self.emu.run(self.emu.storage.add_file, stored)
        return JSONResponse(upload_answer(stored, origin(request)))


def _wrong_length(checker: Checker, length: int, size: int) -> NoReturn:
    """A part body that is not the size its URL was signed for, as S3 answers it: 400
    ``IncompleteBody`` when shorter, 400 ``EntityTooLarge`` when longer."""
    if length < size:
        checker.fatal(
            f"the body has {length} bytes but {size} were declared", code="IncompleteBody"
        )
    checker.fatal(
        f"the body is longer than the {size} bytes this URL was signed for",
        code="EntityTooLarge",
    )


def _path_int(text: object) -> int | None:
    """A non-negative integer path segment of up to 18 ASCII digits, else ``None``."""
    if not isinstance(text, str) or not (0 < len(text) <= 18) or not text.isascii():
        return None
    return int(text) if text.isdigit() else None


def _uri(upload: Upload) -> str:
    return f"/emulator-bucket/{upload.upload_id}/{upload.filename}"


def upload_answer(file: StoredFile, base: str) -> dict[str, Any]:
    """What complete (and store) answer with."""
    answer: dict[str, Any] = {
        "handle": file.handle,
        "url": f"{base}/{file.handle}",
        "filename": file.filename,
        "size": file.size,
        "mimetype": file.mimetype,
        "status": "Stored",
        "key": file.key,
        "container": file.container or "emulator-bucket",
    }
    if file.upload_tags:
        answer["upload_tags"] = file.upload_tags
    if file.workflows:
        answer["workflows"] = file.workflows
    return answer


async def _drain(request: Request, limit: int) -> None:
    """Read and drop a body we refuse, so the connection stays usable; past ``limit``
    bytes (the signed size) stop reading: the server then closes the connection."""
    read = 0
    async for chunk in request.stream():
        read += len(chunk)
        if read > limit:
            return
