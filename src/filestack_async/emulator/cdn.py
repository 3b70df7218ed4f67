"""The CDN: file delivery (with ``Range``), metadata, and processing URLs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .._exceptions import ConfigurationError
from .._filelink import METADATA_ATTRIBUTES
from .._params import validate_handle
from .._tasks import ParsedPath, parse_path
from .processing import run_processing
from .security import Credentials
from .storage import Reading
from .web import cut_off, error, file_response

if TYPE_CHECKING:
    from .app import Emulator

#: what metadata returns when no attribute is asked for (Filestack's defaults)
DEFAULT_ATTRIBUTES = (
    "size",
    "mimetype",
    "filename",
    "uploaded",
    "writeable",
    "location",
    "path",
    "container",
)
_HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


def _is_handle(text: str) -> bool:
    try:
        validate_handle(text)
    except ConfigurationError:
        return False
    return True


class CDN:
    """``GET /<handle>``, ``/<handle>/metadata`` and processing paths."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    async def dispatch(self, request: Request) -> Response:
        """Route a CDN path to delivery, metadata or processing."""
        path: str = request.path_params["path"]
        segments = path.split("/")
        query = Credentials(
            request.query_params.get("policy"), request.query_params.get("signature")
        )
        if len(segments) == 1 and _is_handle(segments[0]):
            return await self.deliver(request, segments[0], query)
        if len(segments) == 2 and segments[1] == "metadata" and _is_handle(segments[0]):
            return await self.metadata(request, segments[0], query)
        try:
            parsed = parse_path(path)
        except ConfigurationError as err:
            return error(400, f"bad processing URL: {err}")
        if parsed.apikey and "=" in parsed.apikey:
            name = parsed.apikey.partition("=")[0]
            return error(400, f"unknown processing task {name!r}", code="UnknownTask")
        credentials = Credentials(parsed.policy, parsed.signature) if parsed.policy else query
        if not parsed.tasks and len(parsed.sources) == 1 and _is_handle(parsed.source):
            return await self.deliver(request, parsed.source, credentials)
        return await self.process(request, parsed, credentials)

    async def file_api_read(self, request: Request) -> Response:
        """``GET /api/file/<handle>[/metadata]``: the File API's download and metadata."""
        handle = str(request.path_params["handle"])
        if not _is_handle(handle):
            return error(400, f"{handle[:40]!r} is not a handle")
        query = Credentials(
            request.query_params.get("policy"), request.query_params.get("signature")
        )
        if request.url.path.endswith("/metadata"):
            return await self.metadata(request, handle, query)
        return await self.deliver(request, handle, query)

    async def _open(self, handle: str) -> Reading | None:
        """The file's current version, held until closed (an overwrite changes neither
        the metadata nor the bytes a request got)."""
        return await self.emu.run(self.emu.storage.open_file, handle)

    async def deliver(self, request: Request, handle: str, credentials: Credentials) -> Response:
        """Stream a stored file."""
        if request.method == "POST":
            return error(405, "POST a file URL only with a processing task such as store")
        if faulty := await self.emu.fault("cdn"):
            return faulty
        self.emu.security(credentials, call="read", handle=handle)
        reading = await self._open(handle)
        if reading is None:
            return error(404, f"file {handle} not found")
        file = reading.file
        disposition = "attachment" if request.query_params.get("dl") == "true" else "inline"
        response = file_response(
            request,
            reading.segments,
            size=file.size,
            media_type=file.mimetype,
            etag=file.etag,
            bandwidth=self.emu.bandwidth,
            extra_headers={
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(file.filename)}"
            },
            on_close=reading.close,
        )
        return self._maybe_cut(request, response, file.size)

    def _maybe_cut(self, request: Request, response: Response, size: int) -> Response:
        """``response`` cut off mid-body when the download-cut fault says so."""
        if not isinstance(response, StreamingResponse):
            return response
        length = int(response.headers.get("content-length", "0"))
        wanted = request.headers.get("range", "")
        # stable facts only (the size and the range asked for), so a seed repeats
        at = self.emu.faults.download_cut_at(f"{size}:{wanted}", length)
        return response if at is None else cut_off(response, at)

    async def metadata(self, request: Request, handle: str, credentials: Credentials) -> Response:
        """``GET /<handle>/metadata?size=true&...``."""
        if faulty := await self.emu.fault("metadata"):
            return faulty
        wanted = [
            name
            for name, value in request.query_params.items()
            if name not in ("policy", "signature") and value.lower() == "true"
        ]
        unknown = [name for name in wanted if name not in METADATA_ATTRIBUTES]
        if unknown:
            checker = self.emu.checker("metadata")
            checker.deviation(f"unknown metadata attribute(s) {unknown}")
            wanted = [name for name in wanted if name not in unknown]
        self.emu.security(credentials, call="exif" if "exif" in wanted else "stat", handle=handle)
        reading = await self._open(handle)
        if reading is None:
            return error(404, f"file {handle} not found")
        try:
            answer: dict[str, Any] = {}
            for name in wanted or DEFAULT_ATTRIBUTES:
                answer[name] = await self._attribute(reading, name)
        finally:
            await self.emu.run(reading.close)
        return JSONResponse(answer)

    async def _attribute(self, reading: Reading, name: str) -> Any:
        file = reading.file
        if name in _HASHES:
            if name == "md5" and file.md5:
                return file.md5
            value = await self.emu.run(reading.hexdigest, name)
            if name == "md5":
                await self.emu.run(self.emu.storage.set_md5, file, value)
            return value
        values: dict[str, Any] = {
            "size": file.size,
            "mimetype": file.mimetype,
            "filename": file.filename,
            "width": file.width,
            "height": file.height,
            "uploaded": file.uploaded,
            "writeable": True,
            "cloud": False,
            "source_url": file.source_url,
            "location": file.location,
            "path": file.path,
            "container": file.container or "emulator-bucket",
            "key": file.key,
            "exif": {},
        }
        return values.get(name)

    async def process(
        self, request: Request, parsed: ParsedPath, credentials: Credentials
    ) -> Response:
        """A processing URL: tasks applied to a source."""
        if faulty := await self.emu.fault("processing"):
            return faulty
        names = [task.name for task in parsed.tasks]
        external = not all(_is_handle(s) for s in parsed.sources)
        if (external or len(parsed.sources) > 1) and not parsed.apikey:
            return error(400, "an API key segment is required for URL or multi-file sources")
        if parsed.apikey:
            self.emu.check_apikey(self.emu.checker("processing"), parsed.apikey)
        call = "store" if "store" in names else "convert"
        handle = parsed.sources[0] if not external and len(parsed.sources) == 1 else None
        self.emu.security(
            credentials, call=call, handle=handle, url=None if handle else parsed.source
        )
        started = time.monotonic()
        response = await run_processing(self.emu, request, parsed)
        response.headers["X-Emulator-Processing-Seconds"] = f"{time.monotonic() - started:.3f}"
        length = int(response.headers.get("content-length", "0"))
        return self._maybe_cut(request, response, length)
