"""examples/fastapi_app.py: the lifespan-owned client and the streaming upload endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from examples.fastapi_app import create_app

from filestack_async import Client, UploadConfig
from filestack_async.emulator import EmulatorServer, EmulatorTransport
from filestack_async.testing import EmulatorFactory

MiB = 1024 * 1024


class CountingTransport(EmulatorTransport):
    """The in-process emulator, counting the part PUTs it has answered."""

    puts_done = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "PUT":
            self.puts_done += 1
        return response


async def test_upload_is_streamed_to_filestack_while_the_body_arrives(
    filestack_emulator_factory: EmulatorFactory,
) -> None:
    emulator = filestack_emulator_factory(strict=True)
    transport = CountingTransport(emulator.app)

    def factory() -> Client:
        return Client(
            "APIKEY",
            base_url="http://emulator.invalid",
            transport=transport,
            # multipart even below the one-request threshold: parts go as the body arrives
            upload=UploadConfig(part_size=5 * MiB, multipart_threshold=0),
        )

    app = create_app(factory)
    payload = bytes(range(256)) * (6 * MiB // 256)  # two parts: 5 MiB and 1 MiB

    async def body() -> AsyncIterator[bytes]:
        step = 256 * 1024
        for start in range(0, len(payload) - step, step):
            yield payload[start : start + step]
        # The last piece is only sent once the first part is already stored: an
        # endpoint that read the whole body before uploading would wait forever here.
        with anyio.fail_after(10):
            while transport.puts_done < 1:
                await anyio.sleep(0.01)
        yield payload[len(payload) - step :]

    async with app.router.lifespan_context(app):
        client: Client = app.state.filestack
        assert not client.is_closed
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://app"
        ) as http:
            response = await http.post(
                "/files",
                params={"filename": "blob.bin"},
                content=body(),
                headers={"Content-Length": str(len(payload)), "Content-Type": "image/png"},
            )
            assert response.status_code == 201, response.text
            created = response.json()
            assert created["size"] == len(payload)
            assert await client.filelink(created["handle"]).get_content() == payload

            described = await http.get(f"/files/{created['handle']}")
            assert described.json() == {
                "filename": "blob.bin",
                "mimetype": "image/png",
                "size": len(payload),
            }
            assert (await http.get("/files/AAAAAAAAAAAAAAAAAAAA")).status_code == 404
            assert (await http.post("/files", content=b"")).status_code == 400
    assert app.state.filestack.is_closed  # the lifespan closed it
    assert transport.puts_done == 2
    assert emulator.violations.snapshot() == []


async def test_the_default_client_comes_from_the_environment(
    filestack_emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILESTACK_API_KEY", "MY_KEY")
    monkeypatch.setenv("FILESTACK_BASE_URL", filestack_emulator_server.url)
    from examples.fastapi_app import app

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://app"
        ) as http:
            response = await http.post("/files", content=b"%PDF-1.7 report")
            assert response.status_code == 201
            assert response.json()["url"].startswith(filestack_emulator_server.url)
            handle = response.json()["handle"]
            assert (await http.get(f"/files/{handle}")).json()["size"] == 15
