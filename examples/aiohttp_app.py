"""An aiohttp service that stores uploads in Filestack, the client owned by a cleanup context.

`filestack_client` is an aiohttp *cleanup context*: the code before ``yield`` runs at
startup, the code after it at shutdown, so the one `Client` (and its connection pool)
lives exactly as long as the app. Handlers find it under the `FILESTACK` app key.

``POST /files`` streams the request body to Filestack (``request.content`` read a chunk
at a time, with the declared ``Content-Length`` as the size), so a large upload is never
held in memory. ``GET /files/{handle}`` returns its metadata.

Run it (against the emulator, started with ``filestack-async emulator --port 8700``)::

    FILESTACK_API_KEY=MY_KEY FILESTACK_BASE_URL=http://127.0.0.1:8700 \\
        python -m examples.aiohttp_app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from filestack_async import Client, FilestackError, NotFoundError

FILESTACK = web.AppKey("filestack", Client)
ClientFactory = Callable[[], Client]


def client_from_env() -> Client:
    """The production client: ``FILESTACK_API_KEY``, and ``FILESTACK_BASE_URL`` if set."""
    return Client(os.environ["FILESTACK_API_KEY"])


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(256 * 1024):
        yield chunk


async def upload(request: web.Request) -> web.Response:
    size = request.content_length
    if size is None:
        raise web.HTTPLengthRequired(text="send a Content-Length header")
    if size == 0:
        raise web.HTTPBadRequest(text="the body is empty")
    store_params = {
        "filename": request.query.get("filename", "upload.bin"),
        "mimetype": request.content_type,  # aiohttp's default is application/octet-stream
    }
    try:
        link = await request.app[FILESTACK].upload(
            stream=_body(request), size=size, store_params=store_params
        )
    except FilestackError as exc:  # messages never contain the API key or secrets
        raise web.HTTPBadGateway(text=f"storing the file failed: {exc}") from exc
    return web.json_response({"handle": link.handle, "url": link.url, "size": size}, status=201)


async def describe(request: web.Request) -> web.Response:
    link = request.app[FILESTACK].filelink(request.match_info["handle"])
    try:
        metadata = await link.metadata(["filename", "mimetype", "size"])
    except NotFoundError as exc:
        raise web.HTTPNotFound(text="no such file") from exc
    return web.json_response(metadata)


def create_app(client_factory: ClientFactory = client_from_env) -> web.Application:
    """The app; tests pass a factory returning a client bound to an emulator."""

    async def filestack_client(app: web.Application) -> AsyncIterator[None]:
        async with client_factory() as client:
            app[FILESTACK] = client
            yield  # the app serves requests here; the client closes at shutdown

    app = web.Application()
    app.cleanup_ctx.append(filestack_client)
    app.router.add_post("/files", upload)
    app.router.add_get("/files/{handle}", describe)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
