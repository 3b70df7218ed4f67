"""Downloads racing overwrites, over a real loopback socket.

A few files are overwritten again and again, each time with a version of another size
and other bytes, while many clients download them whole and by ``Range``. Every answer
must be one version: a 200 holds exactly the bytes of the version its ETag names, a
206 exactly the slice its ``Content-Range`` names of that version (whose size it
states), a 416 that version's size, and no body is cut short. Each file starts as a
multipart upload kept as segments, so segmented versions are overwritten too.
The figures are printed; mismatches and errors must be zero, and once every reader is
done only the current version of each file is left on disk.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx

from filestack_async.emulator import EmulatorServer

from ..emulator.conftest import Origin
from .conftest import Campaign

KiB = 1024
MiB = 1024 * KiB
POLICY = {
    "policy": base64.urlsafe_b64encode(b'{"expiry": 4102444800}').decode(),
    "signature": "a" * 64,
}


@dataclass(frozen=True)
class Scale:
    files: int
    overwrites: int  # per file
    readers: int
    max_size: int


QUICK = Scale(files=4, overwrites=12, readers=12, max_size=384 * KiB)
FULL = Scale(files=8, overwrites=60, readers=48, max_size=3 * MiB)


@dataclass
class Tally:
    """What the readers saw."""

    versions: dict[str, bytes] = field(default_factory=dict)  # ETag -> bytes
    by_status: dict[int, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bytes_read: int = 0

    def report(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_status.items()))
        return (
            f"overwrite race: {len(self.versions)} versions written, answers {statuses}, "
            f"{self.bytes_read / MiB:.1f} MiB read, mismatches {len(self.mismatches)}, "
            f"errors {len(self.errors)}"
        )


def _content(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


async def _multipart(origin: Origin, data: bytes) -> tuple[str, str]:
    """Store ``data`` as a multipart upload of 5 MiB parts; its handle and ETag."""
    handle = str((await origin.upload_regular(data))["handle"])
    head = await origin.http.head(f"{origin.base}/{handle}")
    return handle, head.headers["etag"]


def _check(tally: Tally, response: httpx.Response, body: bytes, wanted: str | None) -> None:
    status = response.status_code
    tally.by_status[status] = tally.by_status.get(status, 0) + 1
    etag = response.headers.get("etag", "")
    version = tally.versions.get(etag)
    what = f"{status} {wanted or 'whole'} etag={etag}"
    if version is None:
        tally.mismatches.append(f"{what}: the ETag names no version written")
        return
    if status == 200:
        if body != version:
            tally.mismatches.append(f"{what}: {len(body)} bytes, not that version's")
    elif status == 206:
        unit, _, spec = response.headers.get("content-range", "").partition(" ")
        span, _, total = spec.partition("/")
        first, _, last = span.partition("-")
        if unit != "bytes" or int(total) != len(version):
            tally.mismatches.append(f"{what}: Content-Range {spec} is not that version's size")
        elif body != version[int(first) : int(last) + 1]:
            tally.mismatches.append(f"{what}: the slice {span} is not that version's")
    elif status == 416:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        if total != str(len(version)):
            tally.mismatches.append(f"{what}: 416 for size {total}, not that version's")
    else:
        tally.mismatches.append(f"{what}: unexpected status")
    tally.bytes_read += len(body)


async def test_downloads_racing_overwrites_get_one_whole_version(
    campaign: Campaign, tmp_path: Path
) -> None:
    scale = FULL if campaign.full else QUICK
    rng = random.Random(1414)
    tally = Tally()
    async with EmulatorServer(data_dir=tmp_path / "race") as server:
        # idle connections are let go well before the server's own 5 s keep-alive ends
        # them: a request sent on a connection the server is closing is reset (ECONNRESET,
        # a ReadError), a race of raw HTTP clients, not an answer of the emulator's
        limits = httpx.Limits(max_connections=scale.readers + scale.files + 4, keepalive_expiry=1.0)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            origin = Origin(server.emulator, http, server.url, "socket")
            handles = []
            for _ in range(scale.files):
                first = _content(rng, 5 * MiB + rng.randint(1, 64 * KiB))
                handle, etag = await _multipart(origin, first)
                tally.versions[etag] = first
                handles.append(handle)
            writing = len(handles)

            async def writer(handle: str, seed: int) -> None:
                nonlocal writing
                wrng = random.Random(seed)
                try:
                    for _ in range(scale.overwrites):
                        data = _content(wrng, wrng.randint(0, scale.max_size))
                        tally.versions[f'"{hashlib.md5(data).hexdigest()}"'] = data
                        files = {"fileUpload": ("v.bin", data, "application/octet-stream")}
                        r = await http.post(
                            f"{server.url}/api/file/{handle}", params=POLICY, files=files
                        )
                        if r.status_code != 200:
                            tally.errors.append(f"overwrite {r.status_code}: {r.text[:100]}")
                finally:
                    writing -= 1

            async def reader(seed: int) -> None:
                rrng = random.Random(seed)
                while writing:
                    handle = rrng.choice(handles)
                    headers = {}
                    roll = rrng.random()
                    if roll < 0.4:
                        start = rrng.randint(0, scale.max_size)
                        headers["Range"] = f"bytes={start}-{start + rrng.randint(0, 256 * KiB)}"
                    elif roll < 0.5:
                        headers["Range"] = f"bytes=-{rrng.randint(1, 64 * KiB)}"
                    try:
                        async with http.stream(
                            "GET", f"{server.url}/{handle}", headers=headers
                        ) as response:
                            body = await response.aread()
                    except httpx.HTTPError as err:
                        tally.errors.append(f"GET {headers}: {type(err).__name__}: {err}")
                        continue
                    _check(tally, response, body, headers.get("Range"))

            async with anyio.create_task_group() as group:
                for index, handle in enumerate(handles):
                    group.start_soon(writer, handle, 100 + index)
                for index in range(scale.readers):
                    group.start_soon(reader, 1000 + index)
            # every reader let go: only the current version of each file is left on disk
            left = sorted(p.name for p in (server.emulator.data_dir / "files").iterdir())
            assert len(left) == len(handles), left
    print(tally.report())
    for line in (tally.mismatches + tally.errors)[:10]:
        print("  ", line)
    assert tally.mismatches == [] and tally.errors == []
    assert tally.by_status.get(200, 0) > 0 and tally.by_status.get(206, 0) > 0
