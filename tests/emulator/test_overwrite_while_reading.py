"""Over a socket: a download that started before an overwrite (or a delete) gets the
whole version it started with, under that version's ETag, even when that version is a
multipart file kept as segments."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest

from filestack_async.emulator import EmulatorServer, Faults, NetworkProfile

from .conftest import APIKEY, MiB, Origin

POLICY = {
    "policy": base64.urlsafe_b64encode(b'{"expiry": 4102444800}').decode(),
    "signature": "a" * 64,
}


@pytest.mark.parametrize("change", ["overwrite", "delete"])
async def test_a_download_in_flight_keeps_its_version(tmp_path: Path, change: str) -> None:
    data = os.urandom(6 * MiB)
    async with EmulatorServer(data_dir=tmp_path / "data") as server:
        async with httpx.AsyncClient(timeout=30) as http:
            origin = Origin(server.emulator, http, server.url, "socket")
            answer = await origin.upload_regular(data)  # two parts: kept as two segments
            handle = answer["handle"]
            # paced delivery, so the body is still being sent when the file changes
            server.emulator.set_faults(Faults(network=NetworkProfile(bandwidth=8 * MiB)))
            url = f"{server.url}/{handle}"
            received = bytearray()
            async with http.stream("GET", url) as response:
                etag = response.headers["etag"]
                chunks = response.aiter_raw()
                received += await chunks.__anext__()
                assert len(received) < len(data)
                if change == "overwrite":
                    files = {"fileUpload": ("x.bin", b"new bytes", "application/octet-stream")}
                    r = await http.post(
                        f"{server.url}/api/file/{handle}", params=POLICY, files=files
                    )
                    assert r.status_code == 200, r.text
                else:
                    r = await http.delete(
                        f"{server.url}/api/file/{handle}", params={"key": APIKEY, **POLICY}
                    )
                    assert r.status_code == 200, r.text
                async for chunk in chunks:
                    received += chunk
            assert bytes(received) == data
            assert etag.endswith('-2"')  # the multipart version's ETag
            server.emulator.set_faults(Faults())
            after = await http.get(url)
            if change == "overwrite":
                assert after.content == b"new bytes" and after.headers["etag"] != etag
            else:
                assert after.status_code == 404
        files_dir = server.emulator.data_dir / "files"
        expected = 1 if change == "overwrite" else 0
        assert len(list(files_dir.iterdir())) == expected  # the old version is gone
