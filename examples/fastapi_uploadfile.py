"""A FastAPI endpoint taking a form upload (``UploadFile``) and storing it in Filestack.

``UploadFile`` is the easy way (a browser form, ``curl -F``), at a cost in memory and disk:
Starlette parses the whole multipart body before the handler runs, keeping each file in
a ``SpooledTemporaryFile`` (in memory up to 1 MiB, then in a temporary file on disk), so
the service holds or writes every byte before the upload to Filestack starts. Handing
``upload.file`` to ``client.upload(file_obj=...)`` then streams it from that spool
(seekable: hashed and read part by part in a worker thread, memory stays flat). For
big files, prefer the raw-body endpoint of ``examples/fastapi_app.py``, which uploads
the parts while the body is still arriving and keeps nothing on disk.

The client lives in the lifespan, as in ``examples/fastapi_app.py``; tests hand
``create_app`` a factory returning a client bound to an in-process emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, UploadFile

from filestack_async import Client, FilestackError

ClientFactory = Callable[[], Client]


def create_app(client_factory: ClientFactory = Client) -> FastAPI:
    """The app; ``Client()`` reads ``FILESTACK_API_KEY`` (and ``FILESTACK_BASE_URL``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with client_factory() as client:  # one pool for the app's lifetime
            app.state.filestack = client
            yield

    app = FastAPI(title="avatars", lifespan=lifespan)

    @app.post("/avatars", status_code=201)
    async def store_avatar(request: Request, upload: UploadFile) -> dict[str, Any]:
        client: Client = request.app.state.filestack
        store_params = {
            "filename": upload.filename or "avatar.bin",
            "mimetype": upload.content_type or "application/octet-stream",
            "path": "avatars/",
        }
        try:
            link = await client.upload(file_obj=upload.file, store_params=store_params)
        except FilestackError as exc:  # messages never contain the API key or secrets
            raise HTTPException(502, f"storing the file failed: {exc}") from exc
        finally:
            await upload.close()
        answer = link.upload_response or {}
        return {
            "handle": link.handle,
            "size": answer.get("size"),
            "filename": answer.get("filename"),
        }

    return app
