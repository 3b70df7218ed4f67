"""examples/webhook_app.py end to end: an SDK upload to the emulator, the webhook the
emulator signs and sends, received over a real socket and verified by the app with
the SDK, for the same handle; a forged or stale webhook is refused."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from examples.webhook_app import create_app, handle_of
from fastapi import FastAPI

from filestack_async import Client
from filestack_async.emulator import EmulatorServer
from filestack_async.testing import EmulatorFactory

SECRET = "EXAMPLE-WEBHOOK-SECRET"


class Served:
    """A FastAPI app on a loopback port (uvicorn in a thread)."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/filestack/webhooks"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Served:
        self.thread.start()
        while not self.server.started:
            assert self.thread.is_alive(), "the example app did not start"
            self.thread.join(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def receiver() -> Iterator[tuple[Served, list[dict[str, Any]], threading.Event]]:
    seen: list[dict[str, Any]] = []
    arrived = threading.Event()

    def on_event(event: dict[str, Any]) -> None:
        seen.append(event)
        arrived.set()

    with Served(create_app(SECRET, on_event)) as served:
        yield served, seen, arrived


def wait(arrived: threading.Event) -> None:
    assert arrived.wait(30), "no webhook reached the example app within 30 s"


@pytest.mark.parametrize("kind", ["in-process", "socket"])
async def test_an_upload_reaches_the_app_verified(
    kind: str,
    tmp_path: Path,
    filestack_emulator_factory: EmulatorFactory,
    receiver: tuple[Served, list[dict[str, Any]], threading.Event],
) -> None:
    served, seen, arrived = receiver
    settings: dict[str, Any] = {"webhooks": (served.url,), "webhook_secret": SECRET}
    if kind == "in-process":
        emulator = filestack_emulator_factory(**settings)
        async with emulator.client() as client:
            link = await client.upload(content=b"a file for the webhook")
            await anyio.to_thread.run_sync(wait, arrived)
    else:
        async with EmulatorServer(data_dir=tmp_path / "emu", **settings) as server:
            async with Client("KEY", base_url=server.url) as client:
                link = await client.upload(content=b"a file for the webhook")
                await anyio.to_thread.run_sync(wait, arrived)
    [event] = seen
    assert event["action"] == "fp.upload"
    assert handle_of(event) == link.handle
    async with httpx.AsyncClient() as http:
        listed = (await http.get(served.url.replace("webhooks", "events"))).json()
    assert listed == [{"action": "fp.upload", "handle": link.handle, "id": event["id"]}]


async def test_forged_and_stale_webhooks_are_refused(
    receiver: tuple[Served, list[dict[str, Any]], threading.Event],
) -> None:
    from filestack_async._security import webhook_signature

    served, seen, _ = receiver
    body = '{"action": "fp.delete", "id": 1, "timestamp": 1, "text": {"url": "u/HANDLE"}}'
    now = str(int(time.time()))
    async with httpx.AsyncClient() as http:
        forged = await http.post(
            served.url, content=body, headers={"FS-Signature": "0" * 64, "FS-Timestamp": now}
        )
        stale_stamp = str(int(time.time()) - 3600)
        stale = await http.post(
            served.url,
            content=body,
            headers={
                "FS-Signature": webhook_signature(SECRET, body, stale_stamp),
                "FS-Timestamp": stale_stamp,
            },
        )
        unsigned = await http.post(served.url, content=body)
        good = await http.post(
            served.url,
            content=body,
            headers={"FS-Signature": webhook_signature(SECRET, body, now), "FS-Timestamp": now},
        )
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 400)
    assert "FS-Signature header is missing" in unsigned.json()["detail"]
    assert good.status_code == 200 and [e["action"] for e in seen] == ["fp.delete"]
