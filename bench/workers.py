"""One measured client run, in its own process: ``python -m bench.workers '<json spec>'``.

Prints one JSON line: wall seconds, bytes, peak RSS over the baseline taken just
before the upload starts (``ru_maxrss``), CPU seconds of this process (all threads)
during the upload and, for our SDK, event-loop lag. Clients:

* ``sdk``: `filestack_async.Client` with the defaults (8 MiB parts, 8 in flight);
* ``ideal``: the same protocol on raw httpx with no SDK layers (parts read into
  memory, MD5 in a worker thread, no retries, no progress, no validation): the limit;
* ``reference``: filestack-python 4.0.0, routed to the emulator by a transport
  adapter that rewrites its ``https://`` URLs;
* ``httpx`` and ``httpx-aiohttp``: small files only (mode ``many``): the four requests
  of a regular upload (start, upload, the storage PUT, complete) per file, ``concurrency``
  files at once, on a bare ``httpx.AsyncClient`` or on ``httpx_aiohttp.HttpxAiohttpClient``
  (httpx over aiohttp), with the SDK's pool size; nothing else.

The SDK takes ``"upload": {field: value}`` in the spec for its `UploadConfig`. In the
small-file modes every client uploads one file first, untimed (imports, first connection),
so the figures are per file in steady state.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import resource
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
PART = 8 * MiB
CONCURRENCY = 8
POOL = 32  # connections: the SDK's default pool size
LAG_STALL = 0.040  # a tick this late gets the main thread's stack recorded


def rss_kib() -> int:
    """Peak RSS of this process so far (KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Pipe(io.RawIOBase):
    """A non-seekable reader over a file (what a pipe or socket looks like)."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "rb", buffering=0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        return self._f.readinto(buffer) or 0

    def close(self) -> None:
        self._f.close()
        super().close()


class LagMonitor:
    """Measures event-loop lag with a 10 ms ticker; a watchdog thread records where the
    main thread is whenever a tick is more than `LAG_STALL` late."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.stalls: Counter[str] = Counter()
        self._last = time.perf_counter()
        self._running = True
        self._main = threading.main_thread().ident
        self._watchdog = threading.Thread(target=self._watch, daemon=True)

    async def tick(self, stop: Any) -> None:
        """The ticker task (run it next to the upload until ``stop`` is set)."""
        import anyio

        self._watchdog.start()
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                await anyio.sleep(0.010)
                self._last = time.perf_counter()
                self.lags.append(self._last - t0 - 0.010)
        finally:
            self._running = False

    def _watch(self) -> None:
        captured_for = 0.0
        while self._running:
            time.sleep(0.020)
            last = self._last
            if time.perf_counter() - last > LAG_STALL and captured_for != last:
                captured_for = last
                frame = sys._current_frames().get(self._main or 0)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-6:]
                    where = " < ".join(
                        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack)
                    )
                    self.stalls[where] += 1

    def summary(self) -> dict[str, Any]:
        """Max and 99th percentile lag (ms) and the commonest stacks seen during stalls."""
        lags = sorted(self.lags) or [0.0]
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        return {
            "max_lag_ms": lags[-1] * 1000,
            "p99_lag_ms": p99 * 1000,
            "median_lag_ms": statistics.median(lags) * 1000,
            "ticks": len(self.lags),
            "stalls": [[where, n] for where, n in self.stalls.most_common(5)],
        }


async def _timed(work: Callable[[], Awaitable[int]], monitor: LagMonitor | None) -> dict[str, Any]:
    import anyio

    baseline = rss_kib()
    cpu0 = cpu_seconds()
    started = time.perf_counter()
    stop = anyio.Event()
    nbytes = 0
    async with anyio.create_task_group() as tg:
        if monitor is not None:
            tg.start_soon(monitor.tick, stop)
        nbytes = await work()
        stop.set()
    result: dict[str, Any] = {
        "seconds": time.perf_counter() - started,
        "cpu_s": cpu_seconds() - cpu0,
        "bytes": nbytes,
        "rss_over_baseline_mib": (rss_kib() - baseline) / 1024,
    }
    if monitor is not None:
        result.update(monitor.summary())
    return result


async def run_sdk(spec: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Our SDK: one file (path or pipe source), many small files, or concurrent uploads."""
    from filestack_async import Client, UploadConfig

    base, path, mode, size = spec["base"], spec["path"], spec["mode"], int(spec["size"])
    intelligent = spec.get("flow") == "intelligent"
    count = int(spec.get("count", 1))
    config = UploadConfig(**spec["upload"]) if spec.get("upload") else None
    async with Client("APIKEY", base_url=base, upload=config) as client:

        async def work() -> int:
            import anyio

            if mode == "path":
                await client.upload(filepath=path, intelligent=intelligent)
                return size
            if mode == "pipe":
                with Pipe(path) as pipe:
                    await client.upload(file_obj=pipe, size=size, intelligent=intelligent)
                return size
            if mode == "many":
                results = await client.upload_many(
                    [data] * count, concurrency=int(spec["concurrency"]), intelligent=intelligent
                )
                failed = [r for r in results if isinstance(r, Exception)]
                if failed:
                    raise RuntimeError(f"{len(failed)} uploads failed: {failed[:3]}")
                return size * count
            if mode == "concurrent":
                async with anyio.create_task_group() as tg:
                    for _ in range(count):
                        tg.start_soon(lambda: client.upload(filepath=path, intelligent=intelligent))
                return size * count
            raise ValueError(mode)

        if mode == "many":  # warm-up, not measured: first imports, first connection
            await client.upload_many([data], concurrency=1, intelligent=intelligent)
        return await _timed(work, LagMonitor())


def _start_body(size: int) -> dict[str, Any]:
    return {"apikey": "APIKEY", "filename": "f", "mimetype": "application/octet-stream",
            "size": size, "store": {"location": "S3"}}  # fmt: skip


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def run_bare(spec: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Bare httpx (or httpx over aiohttp): ``count`` small regular uploads, N at once."""
    import anyio
    import httpx

    base, count, n = spec["base"], int(spec["count"]), int(spec["concurrency"])
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    if spec["client"] == "httpx-aiohttp":
        from httpx_aiohttp import HttpxAiohttpClient

        http: httpx.AsyncClient = HttpxAiohttpClient(limits=limits, timeout=120)
    else:
        http = httpx.AsyncClient(limits=limits, timeout=120)

    async def one() -> None:
        start_body = _start_body(len(data))
        start = (await http.post(f"{base}/multipart/start", json=start_body)).json()
        loc = f"http://{start['location_url']}"
        common = {k: start[k] for k in ("uri", "region", "upload_id")}
        body = {"apikey": "APIKEY", **common, "store": {"location": "S3"}, "part": 1,
                "size": len(data), "md5": _md5_b64(data)}  # fmt: skip
        signed = (await http.post(f"{loc}/multipart/upload", json=body)).json()
        put = await http.put(signed["url"], content=data, headers=signed["headers"])
        put.raise_for_status()
        complete = {**start_body, **{k: v for k, v in start.items() if k != "location_url"},
                    "parts": [{"part_number": 1, "etag": put.headers["etag"]}]}  # fmt: skip
        done = await http.post(f"{loc}/multipart/complete", json=complete)
        done.raise_for_status()
        if done.status_code != 200 or "handle" not in done.json():
            raise RuntimeError(f"complete answered {done.status_code}: {done.text[:200]}")

    async def work() -> int:
        remaining = iter(range(count))

        async def worker() -> None:
            for _ in remaining:
                await one()

        async with anyio.create_task_group() as tg:
            for _ in range(n):
                tg.start_soon(worker)
        return len(data) * count

    async with http:
        await one()  # warm-up, not measured
        return await _timed(work, None)


async def run_ideal(spec: dict[str, Any]) -> dict[str, Any]:
    """The limit: the same protocol, part size and concurrency on raw httpx."""
    import anyio
    import anyio.to_thread
    import httpx

    base, path, size = spec["base"], spec["path"], int(spec["size"])
    intelligent = spec.get("flow") == "intelligent"
    fd = os.open(path, os.O_RDONLY)
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)

    def read_and_hash(offset: int, length: int) -> tuple[bytes, str]:
        data = os.pread(fd, length, offset)
        return data, _md5_b64(data)

    async with httpx.AsyncClient(limits=limits, timeout=120) as http:

        async def work() -> int:
            start_body = _start_body(size)
            if intelligent:
                start_body["fii"] = True
            start = (await http.post(f"{base}/multipart/start", json=start_body)).json()
            loc = f"http://{start['location_url']}"
            common = {k: start[k] for k in ("uri", "region", "upload_id")}
            limiter = anyio.Semaphore(CONCURRENCY)
            etags: dict[int, str] = {}

            async def part(number: int, offset: int) -> None:
                async with limiter:
                    length = min(PART, size - offset)
                    data, md5 = await anyio.to_thread.run_sync(read_and_hash, offset, length)
                    body: dict[str, Any] = {
                        "apikey": "APIKEY", **common, "store": {"location": "S3"},
                        "part": number, "size": length, "md5": md5}  # fmt: skip
                    if intelligent:
                        body.update({"offset": 0, "fii": True})
                    signed = (await http.post(f"{loc}/multipart/upload", json=body)).json()
                    put = await http.put(signed["url"], content=data, headers=signed["headers"])
                    put.raise_for_status()
                    if intelligent:
                        commit = {"apikey": "APIKEY", **common, "store": {"location": "S3"},
                                  "part": number, "size": size}  # fmt: skip
                        (await http.post(f"{loc}/multipart/commit", json=commit)).raise_for_status()
                    else:
                        etags[number] = put.headers["etag"]

            async with anyio.create_task_group() as tg:
                for index, offset in enumerate(range(0, size, PART)):
                    tg.start_soon(part, index + 1, offset)
            complete = {**start_body, **common}
            if not intelligent:
                complete.update({k: v for k, v in start.items() if k != "location_url"})
                complete["parts"] = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
            while True:
                done = await http.post(f"{loc}/multipart/complete", json=complete)
                done.raise_for_status()
                if done.status_code == 200:
                    return size
                await anyio.sleep(0.05)  # 202: still assembling

        try:
            return await _timed(work, None)
        finally:
            os.close(fd)


def run_reference(spec: dict[str, Any]) -> dict[str, Any]:
    """filestack-python 4.0.0: one file, small files in a loop, or in a thread pool."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit, urlunsplit

    from requests.adapters import HTTPAdapter

    base, path, mode = spec["base"], spec["path"], spec["mode"]
    intelligent = spec.get("flow") == "intelligent"
    count = int(spec.get("count", 1))
    target = urlsplit(base).netloc
    original = HTTPAdapter.send

    def send(self: HTTPAdapter, request: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url)
        if parts.scheme == "https":
            request.url = urlunsplit(("http", target, parts.path, parts.query, parts.fragment))
        return original(self, request, **kwargs)

    HTTPAdapter.send = send  # type: ignore[method-assign,assignment]
    import filestack

    client = filestack.Client("APIKEY")
    size = os.path.getsize(path)
    data = Path(path).read_bytes() if mode in ("loop", "pool") else b""
    if data:
        client.upload(file_obj=io.BytesIO(data))  # warm-up, not measured
    baseline = rss_kib()
    cpu0 = cpu_seconds()
    started = time.perf_counter()
    if mode == "loop":
        for _ in range(count):
            client.upload(file_obj=io.BytesIO(data))
        size *= count
    elif mode == "pool":
        with ThreadPoolExecutor(max_workers=int(spec["concurrency"])) as pool:
            list(pool.map(lambda _: client.upload(file_obj=io.BytesIO(data)), range(count)))
        size *= count
    else:
        client.upload(filepath=path, intelligent=intelligent)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_s": cpu_seconds() - cpu0,
        "bytes": size,
        "rss_over_baseline_mib": (rss_kib() - baseline) / 1024,
    }


def main(argv: list[str]) -> None:
    """Run the client the JSON spec names and print its figures as one JSON line."""
    import anyio

    spec: dict[str, Any] = json.loads(argv[0])
    spec["size"] = os.path.getsize(spec["path"])
    who = spec["client"]
    if who == "sdk":
        data = Path(spec["path"]).read_bytes() if spec["mode"] == "many" else b""
        result = anyio.run(run_sdk, spec, data)
    elif who == "ideal":
        result = anyio.run(run_ideal, spec)
    elif who in ("httpx", "httpx-aiohttp"):
        result = anyio.run(run_bare, spec, Path(spec["path"]).read_bytes())
    elif who == "reference":
        result = run_reference(spec)
    else:
        raise SystemExit(f"unknown client {who!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
