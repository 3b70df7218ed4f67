"""A proxy example serving a large sparse file from an emulator, in a process of its own.

``python -m tests.examples.proxy_process fastapi|aiohttp SIZE`` starts an emulator on
a loopback port holding one file of SIZE bytes (sparse: zeros, with random marks at its
start, middle and end), serves the example app on another loopback port, prints one
JSON line (``port``, ``handle``, ``marks``, the ``emulator``'s URL) and serves until it is killed. The test
reads the process's memory from ``/proc``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

from filestack_async import Client
from filestack_async.emulator import Emulator, EmulatorServer
from filestack_async.emulator.storage import StoredFile, new_handle

MARK = 4096


def sparse_file(emulator: Emulator, size: int) -> tuple[str, dict[int, str]]:
    """Store a sparse file of ``size`` bytes; its handle and the marks written in it."""
    storage = emulator.storage
    temp = storage.incoming_path()
    marks: dict[int, str] = {}
    with open(temp, "wb") as out:
        out.truncate(size)
        for offset in (0, size // 2, size - MARK):
            data = os.urandom(MARK)
            out.seek(offset)
            out.write(data)
            marks[offset] = data.hex()
    handle = new_handle()
    stored = StoredFile(
        handle=handle,
        filename="big.bin",
        mimetype="application/octet-stream",
        size=size,
        etag=f'"sparse-{handle}"',
        uploaded=int(time.time() * 1000),
        location="S3",
        key=f"{handle}_big.bin",
    )
    storage.store_blob(temp, stored)
    return handle, marks


def main(kind: str, size: int) -> None:
    with EmulatorServer() as emulator_server:
        handle, marks = sparse_file(emulator_server.emulator, size)

        def factory() -> Client:
            return Client("PROXY-KEY", base_url=emulator_server.url)

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        found = {"port": port, "handle": handle, "marks": marks, "emulator": emulator_server.url}
        print(json.dumps(found), flush=True)
        if kind == "fastapi":
            import uvicorn
            from examples.fastapi_download import create_app as fastapi_app

            config = uvicorn.Config(fastapi_app(factory), log_level="warning", lifespan="on")
            uvicorn.Server(config).run(sockets=[listener])
        else:
            from aiohttp import web
            from examples.aiohttp_download import create_app as aiohttp_app

            web.run_app(aiohttp_app(factory), sock=listener, print=None)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
