"""A FastAPI service that serves stored files, streaming them out of Filestack.

``GET /files/{handle}/content`` opens ``filelink.stream()`` and hands its body to a
``StreamingResponse``: the size, type and ETag are known before the first byte, so the
headers go out at once, and the bytes pass through a piece at a time, so a 2 GiB file
never sits in the service's memory. A connection to Filestack lost mid-body is resumed
by the SDK where it stopped; the browser sees one unbroken body. A single
``Range: bytes=a-b`` header is passed on (``stream(start=a, end=b)``) and answered 206.

Run it (against the emulator, started with ``filestack-async emulator --port 8700``)::

    FILESTACK_API_KEY=MY_KEY FILESTACK_BASE_URL=http://127.0.0.1:8700 \\
        uvicorn examples.fastapi_download:app --port 8000
    curl -o out.bin http://127.0.0.1:8000/files/HANDLE/content
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse

from examples._ranges import requested_range
from filestack_async import (
    Client,
    ConfigurationError,
    DownloadStream,
    NotFoundError,
    RangeNotSatisfiableError,
)

ClientFactory = Callable[[], Client]


def client_from_env() -> Client:
    """The production client: ``FILESTACK_API_KEY``, and ``FILESTACK_BASE_URL`` if set."""
    return Client(os.environ["FILESTACK_API_KEY"])


def create_app(client_factory: ClientFactory = client_from_env) -> FastAPI:
    """The app; tests pass a factory returning a client bound to an emulator."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with client_factory() as client:  # one pool, closed when the app shuts down
            app.state.filestack = client
            yield

    app = FastAPI(title="downloads", lifespan=lifespan)

    @app.get("/files/{handle}/content")
    async def content(request: Request, handle: str) -> StreamingResponse:
        client: Client = request.app.state.filestack
        start, end = requested_range(request.headers.get("range"))
        # the stream stays open after this handler returns: the response's body closes it
        opened = AsyncExitStack()
        try:
            link = client.filelink(handle)
            body: DownloadStream = await opened.enter_async_context(
                link.stream(start=start, end=end)
            )
        except ConfigurationError as exc:  # not a handle
            raise HTTPException(400, str(exc)) from exc
        except NotFoundError as exc:
            raise HTTPException(404, "no such file") from exc
        except RangeNotSatisfiableError as exc:
            raise HTTPException(
                416, "range not satisfiable", headers={"Content-Range": "bytes */*"}
            ) from exc

        async def pieces() -> AsyncIterator[bytes]:
            try:
                async for piece in body:
                    yield piece
            finally:
                await opened.aclose()

        headers = {"Accept-Ranges": "bytes"}
        if body.length is not None:
            headers["Content-Length"] = str(body.length)
        if body.etag:
            headers["ETag"] = body.etag
        status = 200
        if start is not None and body.size is not None:
            status = 206
            headers["Content-Range"] = f"bytes {body.start}-{body.end}/{body.size}"
        return StreamingResponse(
            pieces(),
            status_code=status,
            media_type=body.mimetype or "application/octet-stream",
            headers=headers,
        )

    return app


app = create_app()
