"""A minimal Upload API server for the upload benchmarks, used when the emulator is absent.

It speaks the multipart protocol (start, upload, the storage PUT, commit, complete),
checks every PUT body against the MD5 it signed, counts bytes and discards them.
``--wan`` adds 40 ms to every request and caps each request body at 16 MiB/s.

Run: ``python bench/upload_server.py --port 8765 [--wan]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import time
from typing import Any

import anyio

Scope = dict[str, Any]
_ids = itertools.count(1)


async def _body(receive: Any) -> bytes:
    out = bytearray()
    while True:
        message = await receive()
        out += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(out)


async def _send_json(
    send: Any, status: int, payload: Any, headers: list[Any] | None = None
) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


def make_app(*, wan: bool = False, delay: float = 0.040, rate: float = 16 * 1024 * 1024) -> Any:
    """The ASGI app. ``wan`` adds ``delay`` per request and caps bodies at ``rate`` bytes/s."""
    stats = {"bytes": 0, "puts": 0}

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if wan:
            await anyio.sleep(delay)
        path, method = scope["path"], scope["method"]
        host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode()
        if method == "PUT" and path.startswith("/s3/"):
            digest = hashlib.md5()
            started = time.monotonic()
            got = 0
            while True:
                message = await receive()
                chunk = message.get("body", b"")
                digest.update(chunk)
                got += len(chunk)
                if wan:
                    ahead = got / rate - (time.monotonic() - started)
                    if ahead > 0:
                        await anyio.sleep(ahead)
                if not message.get("more_body"):
                    break
            expected = dict(scope["headers"]).get(b"content-md5", b"").decode()
            if base64.b64encode(digest.digest()).decode() != expected:
                await _send_json(send, 400, {"error": "BadDigest"})
                return
            stats["bytes"] += got
            stats["puts"] += 1
            etag = f'"{digest.hexdigest()}"'.encode()
            await _send_json(send, 200, {}, [(b"etag", etag)])
            return
        body = json.loads(await _body(receive) or b"{}")
        if path == "/multipart/start":
            upload_id = f"U{next(_ids)}"
            await _send_json(
                send,
                200,
                {"uri": f"/b/{upload_id}", "region": "local", "upload_id": upload_id,
                 "location_url": host},
            )  # fmt: skip
        elif path == "/multipart/upload":
            url = f"http://{host}/s3/{body['upload_id']}/{body['part']}/{body.get('offset', 0)}"
            await _send_json(send, 200, {"url": url, "headers": {"Content-MD5": body["md5"]}})
        elif path == "/multipart/commit":
            await _send_json(send, 200, {})
        elif path == "/multipart/complete":
            handle = (body["upload_id"] + "x" * 20)[:20]
            await _send_json(send, 200, {"handle": handle, "url": f"http://{host}/{handle}"})
        elif path == "/_stats":
            await _send_json(send, 200, stats)
        else:
            await _send_json(send, 404, {"error": path})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--wan", action="store_true")
    args = parser.parse_args()
    uvicorn.run(make_app(wan=args.wan), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
