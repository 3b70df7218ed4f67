"""examples/fastapi_download.py and examples/aiohttp_download.py: stored files streamed
out through a web app, ranges passed on, cuts resumed, and a 1 GiB file at flat memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from examples.aiohttp_download import create_app as aiohttp_app
from examples.fastapi_download import create_app as fastapi_app

from filestack_async import Client
from filestack_async.emulator import DownloadCut, EmulatorServer, Faults
from filestack_async.testing import EmulatorFactory

from .proxy_process import MARK

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
ROOT = Path(__file__).resolve().parents[2]
#: the growth of the proxy process's peak memory allowed while it streams 1 GiB
MEMORY_BOUND = 64 * MiB


async def test_fastapi_streams_a_file_out(filestack_emulator_factory: EmulatorFactory) -> None:
    emulator = filestack_emulator_factory(strict=True)
    app = fastapi_app(emulator.client)
    data = os.urandom(MiB + 5)
    async with app.router.lifespan_context(app):
        client: Client = app.state.filestack
        link = await client.upload(content=data, store_params={"mimetype": "video/mp4"})
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://app"
        ) as http:
            whole = await http.get(f"/files/{link.handle}/content")
            assert whole.status_code == 200 and whole.content == data
            assert whole.headers["content-type"] == "video/mp4"
            assert whole.headers["content-length"] == str(len(data))
            part = await http.get(f"/files/{link.handle}/content", headers={"Range": "bytes=10-19"})
            assert part.status_code == 206 and part.content == data[10:20]
            assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
            beyond = await http.get(
                f"/files/{link.handle}/content", headers={"Range": f"bytes={len(data)}-"}
            )
            assert beyond.status_code == 416
            missing = await http.get("/files/AAAAAAAAAAAAAAAAAAAA/content")
            assert missing.status_code == 404
            # a dropped connection to Filestack mid-body: the SDK resumes, the app's
            # client sees one whole body
            emulator.set_faults(
                Faults(seed=2, download_cut=DownloadCut(rate=1.0, offset=200 * KiB))
            )
            resumed = await http.get(f"/files/{link.handle}/content")
            assert resumed.content == data
            assert emulator.faults.injected["cdn:cut"] >= 5
    assert client.is_closed


async def test_aiohttp_streams_a_file_out(filestack_emulator_server: EmulatorServer) -> None:
    def factory() -> Client:
        return Client("APIKEY", base_url=filestack_emulator_server.url)

    app = aiohttp_app(factory)
    data = os.urandom(MiB + 5)
    async with TestServer(app) as server, ClientSession() as http:
        link = await app[aiohttp_filestack_key()].upload(content=data)
        url = server.make_url(f"/files/{link.handle}/content")
        whole = await http.get(url)
        assert whole.status == 200 and await whole.read() == data
        assert whole.headers["Content-Length"] == str(len(data))
        part = await http.get(url, headers={"Range": "bytes=100-"})
        assert part.status == 206 and await part.read() == data[100:]
        assert (await http.get(url, headers={"Range": f"bytes={len(data)}-"})).status == 416
        missing = await http.get(server.make_url("/files/AAAAAAAAAAAAAAAAAAAA/content"))
        assert missing.status == 404
        filestack_emulator_server.emulator.set_faults(
            Faults(seed=4, download_cut=DownloadCut(rate=1.0, offset=300 * KiB))
        )
        assert await (await http.get(url)).read() == data
        assert filestack_emulator_server.emulator.faults.injected["cdn:cut"] >= 3


def aiohttp_filestack_key() -> Any:
    from examples.aiohttp_download import FILESTACK

    return FILESTACK


# -- 1 GiB through a proxy in a process of its own, its memory read from /proc ------------


@dataclass
class Proxy:
    process: subprocess.Popen[str]
    url: str
    handle: str
    emulator: str
    marks: dict[int, bytes]

    def memory(self, field: str) -> int:
        """``VmRSS`` or ``VmHWM`` (the peak) of the proxy process, in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith(field + ":"))
        return int(line.split()[1]) * KiB

    def reset_peak(self) -> bool:
        """Start the peak (``VmHWM``) afresh from now; False where Linux does not allow it."""
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True


@pytest.fixture(params=["fastapi", "aiohttp"])
def proxy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Proxy]:
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the proxy's memory from /proc (Linux)")
    log = (tmp_path / "proxy.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.examples.proxy_process", request.param, str(GiB)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, (tmp_path / "proxy.log").read_text()
        found = json.loads(line)
        yield Proxy(
            process,
            f"http://127.0.0.1:{found['port']}",
            found["handle"],
            found["emulator"],
            {int(k): bytes.fromhex(v) for k, v in found["marks"].items()},
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
        log.close()


def expected_crc(size: int, marks: dict[int, bytes]) -> int:
    """The CRC-32 of the sparse file: zeros, with the marks written in."""
    crc, position, zeros = 0, 0, bytes(MiB)
    for offset in sorted(marks):
        while position < offset:
            step = min(MiB, offset - position)
            crc = zlib.crc32(zeros[:step], crc)
            position += step
        crc = zlib.crc32(marks[offset], crc)
        position += MARK
    while position < size:
        step = min(MiB, size - position)
        crc = zlib.crc32(zeros[:step], crc)
        position += step
    return crc


async def _pieces(response: httpx.Response) -> AsyncIterator[bytes]:
    async for piece in response.aiter_raw():
        yield piece


async def test_a_1_gib_file_streams_through_at_flat_memory(proxy: Proxy) -> None:
    url = f"{proxy.url}/files/{proxy.handle}/content"
    async with httpx.AsyncClient(timeout=60) as http:
        # warm up: the app's pool and every import are in place before the baseline
        first = await http.get(url, headers={"Range": f"bytes=0-{MARK - 1}"})
        assert first.status_code == 206 and first.content == proxy.marks[0]
        # the emulator cuts the proxy's download off now and then: the SDK resumes
        faults = {
            "seed": 7,
            "download_cut": {"rate": 0.5, "offset": 64 * MiB, "max_offset": 400 * MiB},
        }
        set_faults = await http.post(f"{proxy.emulator}/_emulator/faults", json=faults)
        assert set_faults.status_code == 200
        fresh_peak = proxy.reset_peak()
        baseline = proxy.memory("VmRSS") if fresh_peak else proxy.memory("VmHWM")
        crc, received = 0, 0
        async with http.stream("GET", url) as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == str(GiB)
            async for piece in _pieces(response):
                crc = zlib.crc32(piece, crc)
                received += len(piece)
        peak = proxy.memory("VmHWM")
        cuts = (await http.get(f"{proxy.emulator}/_emulator/faults")).json()["injected"]
    assert received == GiB
    assert crc == expected_crc(GiB, proxy.marks)  # byte-exact across the resumes
    assert cuts.get("cdn:cut", 0) >= 1
    growth = peak - baseline
    print(
        f"\n1 GiB proxied: peak RSS growth {growth / MiB:.1f} MiB over {baseline / MiB:.1f} MiB, "
        f"{cuts.get('cdn:cut', 0)} cuts resumed"
    )
    assert growth < MEMORY_BOUND, f"the proxy's memory grew by {growth / MiB:.1f} MiB"
