"""A client that goes away in the middle of a PUT body (a cancelled upload) gets no
traceback in the server log: the emulator answers 499 to nobody and keeps no piece."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from filestack_async.emulator import Emulator, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL

from .conftest import APIKEY, md5_b64


async def test_a_put_cut_short_by_the_client(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(strict=True)
    data = b"x" * 100_000
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        start = (
            await http.post(
                f"{IN_PROCESS_URL}/multipart/start",
                json={
                    "apikey": APIKEY,
                    "filename": "f.bin",
                    "mimetype": "application/octet-stream",
                    "size": len(data),
                    "store": {"location": "S3"},
                },
            )
        ).json()
        common = {k: start[k] for k in ("uri", "region", "upload_id")}
        answer = (
            await http.post(
                f"{IN_PROCESS_URL}/multipart/upload",
                json={
                    "apikey": APIKEY,
                    **common,
                    "store": {"location": "S3"},
                    "part": 1,
                    "size": len(data),
                    "md5": md5_b64(data),
                },
            )
        ).json()
    url = urlsplit(answer["url"])
    headers = [(k.lower().encode(), v.encode()) for k, v in answer["headers"].items()]
    headers.append((b"content-length", str(len(data)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "root_path": "",
        "headers": [(b"host", url.netloc.encode()), *headers],
        "server": ("emulator", 80),
        "client": ("127.0.0.1", 5000),
    }
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": data[:1000], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await emulator.app(scope, receive, send)  # raised ClientDisconnect before the fix
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    assert emulator.storage.pieces(start["upload_id"]) == []
    assert [v.message for v in emulator.violations.snapshot()] == []
