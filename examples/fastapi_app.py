"""A FastAPI service that stores uploads in Filestack, streaming them through.

One async `Client` (one connection pool) lives as long as the app: it is opened in the
lifespan and shared by every request. ``POST /files`` hands the request body to
``client.upload(stream=..., size=...)`` as it arrives, so a 2 GiB upload never sits in
the service's memory: parts go to Filestack while the rest of the body is still coming.

Run it (against the emulator, started with ``filestack-async emulator --port 8700``)::

    FILESTACK_API_KEY=MY_KEY FILESTACK_BASE_URL=http://127.0.0.1:8700 \\
        uvicorn examples.fastapi_app:app --port 8000
    curl -T photo.jpg -H 'Content-Type: image/jpeg' 'http://127.0.0.1:8000/files?filename=photo.jpg'

Without ``FILESTACK_BASE_URL`` the client talks to the real Filestack.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from filestack_async import Client, FilestackError, NotFoundError

ClientFactory = Callable[[], Client]


def client_from_env() -> Client:
    """The production client: ``FILESTACK_API_KEY``, and ``FILESTACK_BASE_URL`` if set."""
    return Client(os.environ["FILESTACK_API_KEY"])


def create_app(client_factory: ClientFactory = client_from_env) -> FastAPI:
    """The app; tests pass a factory returning a client bound to an emulator."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with client_factory() as client:  # closed when the app shuts down
            app.state.filestack = client
            yield

    app = FastAPI(title="uploads", lifespan=lifespan)

    @app.post("/files", status_code=201)
    async def upload(request: Request, filename: str = "upload.bin") -> dict[str, Any]:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise HTTPException(411, "send a Content-Length header")
        size = int(length)
        if size == 0:
            raise HTTPException(400, "the body is empty")
        client: Client = request.app.state.filestack
        store_params = {
            "filename": filename,
            "mimetype": request.headers.get("content-type", "application/octet-stream"),
        }
        try:
            # request.stream() yields the body as it arrives; with its size known, the
            # SDK cuts it into parts and uploads each one as soon as it is complete.
            link = await client.upload(
                stream=request.stream(), size=size, store_params=store_params
            )
        except FilestackError as exc:  # messages never contain the API key or secrets
            raise HTTPException(502, f"storing the file failed: {exc}") from exc
        return {"handle": link.handle, "url": link.url, "size": size}

    @app.get("/files/{handle}")
    async def describe(request: Request, handle: str) -> dict[str, Any]:
        client: Client = request.app.state.filestack
        try:
            return await client.filelink(handle).metadata(["filename", "mimetype", "size"])
        except NotFoundError as exc:
            raise HTTPException(404, "no such file") from exc

    return app


app = create_app()
