"""examples/aiohttp_app.py over a real loopback socket, its client talking to the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from examples.aiohttp_app import FILESTACK, create_app

from filestack_async import Client
from filestack_async.emulator import EmulatorServer

MiB = 1024 * 1024


async def test_upload_and_metadata_through_the_app(
    filestack_emulator_server: EmulatorServer,
) -> None:
    def factory() -> Client:
        return Client("APIKEY", base_url=filestack_emulator_server.url)

    app = create_app(factory)
    payload = bytes(range(256)) * (9 * MiB // 256)  # two 8 MiB-default parts

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), MiB):
            yield payload[start : start + MiB]

    async with TestServer(app) as server, ClientSession() as http:
        response = await http.post(
            server.make_url("/files?filename=clip.bin"),
            data=body(),
            headers={"Content-Length": str(len(payload)), "Content-Type": "video/mp4"},
        )
        assert response.status == 201, await response.text()
        created = await response.json()
        client = app[FILESTACK]
        assert await client.filelink(created["handle"]).get_content() == payload

        described = await http.get(server.make_url(f"/files/{created['handle']}"))
        assert await described.json() == {
            "filename": "clip.bin",
            "mimetype": "video/mp4",
            "size": len(payload),
        }
        missing = await http.get(server.make_url("/files/AAAAAAAAAAAAAAAAAAAA"))
        assert missing.status == 404
        empty = await http.post(server.make_url("/files"), data=b"")
        assert empty.status == 400
    assert client.is_closed  # the cleanup context closed it at shutdown
