"""An aiohttp service that serves stored files, streaming them out of Filestack.

``GET /files/{handle}/content`` opens ``filelink.stream()`` and writes its body to an
aiohttp ``StreamResponse`` a piece at a time: the size, type and ETag are known before
the first byte (so the headers are prepared at once), and a large file never sits in
the service's memory. A connection to Filestack lost mid-body is resumed by the SDK. A
single ``Range: bytes=a-b`` header is passed on and answered 206.

Run it (against the emulator, started with ``filestack-async emulator --port 8700``)::

    FILESTACK_API_KEY=MY_KEY FILESTACK_BASE_URL=http://127.0.0.1:8700 \\
        python -m examples.aiohttp_download
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from examples._ranges import requested_range
from filestack_async import Client, ConfigurationError, NotFoundError, RangeNotSatisfiableError

FILESTACK = web.AppKey("filestack", Client)
ClientFactory = Callable[[], Client]


def client_from_env() -> Client:
    """The production client: ``FILESTACK_API_KEY``, and ``FILESTACK_BASE_URL`` if set."""
    return Client(os.environ["FILESTACK_API_KEY"])


async def content(request: web.Request) -> web.StreamResponse:
    start, end = requested_range(request.headers.get("Range"))
    try:
        link = request.app[FILESTACK].filelink(request.match_info["handle"])
        stream = link.stream(start=start, end=end)
        async with stream as body:
            response = web.StreamResponse(status=206 if start is not None else 200)
            response.content_type = body.mimetype or "application/octet-stream"
            if body.length is not None:
                response.content_length = body.length
            if body.etag:
                response.headers["ETag"] = body.etag
            response.headers["Accept-Ranges"] = "bytes"
            if start is not None:
                response.headers["Content-Range"] = f"bytes {body.start}-{body.end}/{body.size}"
            await response.prepare(request)  # the headers go out before the first byte
            async for piece in body:
                await response.write(piece)
            await response.write_eof()
            return response
    except ConfigurationError as exc:  # not a handle
        raise web.HTTPBadRequest(text=str(exc)) from exc
    except NotFoundError as exc:
        raise web.HTTPNotFound(text="no such file") from exc
    except RangeNotSatisfiableError as exc:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": "bytes */*"}) from exc


def create_app(client_factory: ClientFactory = client_from_env) -> web.Application:
    """The app; tests pass a factory returning a client bound to an emulator."""

    async def filestack_client(app: web.Application) -> AsyncIterator[None]:
        async with client_factory() as client:
            app[FILESTACK] = client
            yield  # the app serves requests here; the client closes at shutdown

    app = web.Application()
    app.cleanup_ctx.append(filestack_client)
    app.router.add_get("/files/{handle}/content", content)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), port=8000)
