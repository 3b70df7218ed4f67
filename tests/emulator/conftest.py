"""Fixtures: the emulator reached in-process and over a loopback socket, and a raw protocol client."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from filestack_async.emulator import Emulator, EmulatorServer, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL

APIKEY = "EMULATOR-KEY"
MiB = 1024 * 1024


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@dataclass
class Origin:
    """An emulator and an httpx client that reaches it (in-process or over a socket)."""

    emulator: Emulator
    http: httpx.AsyncClient
    base: str
    kind: str

    async def start(self, size: int, **extra: Any) -> dict[str, Any]:
        body = {
            "apikey": APIKEY,
            "filename": "f.bin",
            "mimetype": "application/octet-stream",
            "size": size,
            "store": {"location": "S3"},
            **extra,
        }
        r = await self.http.post(f"{self.base}/multipart/start", json=body)
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        answer["_start"] = body
        return answer

    def common(self, start: dict[str, Any]) -> dict[str, Any]:
        return {
            "apikey": APIKEY,
            "uri": start["uri"],
            "region": start["region"],
            "upload_id": start["upload_id"],
            "store": {"location": "S3"},
        }

    def location(self, start: dict[str, Any]) -> str:
        scheme = self.base.split("://")[0]
        return f"{scheme}://{start['location_url']}"

    async def put_piece(
        self, start: dict[str, Any], part: int, data: bytes, offset: int | None = None
    ) -> httpx.Response:
        body = {**self.common(start), "part": part, "size": len(data), "md5": md5_b64(data)}
        if offset is not None:
            body.update(offset=offset, fii=True)
        r = await self.http.post(f"{self.location(start)}/multipart/upload", json=body)
        assert r.status_code == 200, r.text
        target = r.json()
        return await self.http.put(target["url"], content=data, headers=target["headers"])

    async def complete(self, start: dict[str, Any], **extra: Any) -> httpx.Response:
        body = {
            **start["_start"],
            **{k: v for k, v in start.items() if k not in ("location_url", "_start")},
        }
        body.update(extra)
        return await self.http.post(f"{self.location(start)}/multipart/complete", json=body)

    async def commit(self, start: dict[str, Any], part: int, size: int) -> httpx.Response:
        body = {**self.common(start), "part": part, "size": size}
        return await self.http.post(f"{self.location(start)}/multipart/commit", json=body)

    async def upload_regular(self, data: bytes, part_size: int = 5 * MiB) -> dict[str, Any]:
        start = await self.start(len(data))
        parts = []
        for number, offset in enumerate(range(0, len(data), part_size), start=1):
            r = await self.put_piece(start, number, data[offset : offset + part_size])
            assert r.status_code == 200, r.text
            parts.append({"part_number": number, "etag": r.headers["etag"]})
        r = await self.complete(start, parts=parts)
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer


@pytest.fixture
def make_emulator(filestack_emulator_factory: Callable[..., Emulator]) -> Callable[..., Emulator]:
    """Emulators with given settings (the fixture we ship to users), closed after the test."""
    return filestack_emulator_factory


@pytest.fixture(params=["in-process", "socket"])
async def origin(
    request: pytest.FixtureRequest, make_emulator: Callable[..., Emulator], tmp_path: Path
) -> AsyncIterator[Origin]:
    """The same emulator behaviour checked both ways."""
    if request.param == "in-process":
        emulator = make_emulator(strict=True)
        async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
            yield Origin(emulator, http, IN_PROCESS_URL, "in-process")
    else:
        async with EmulatorServer(data_dir=tmp_path / "socket", strict=True) as server:
            async with httpx.AsyncClient() as http:
                yield Origin(server.emulator, http, server.url, "socket")
