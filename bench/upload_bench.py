"""Upload benchmarks: our SDK vs a minimal ideal client vs filestack-python 4.0.0.

Every client talks to the same local server on a free loopback port, started here in a
subprocess: the project's emulator (``filestack-async emulator``, with
``--wan-profile`` for the WAN cases), or with ``--stand-in`` `upload_server.py` (the
multipart protocol with MD5 checks, bytes discarded). Each measurement runs in its
own Python process so peak RSS is its own.

    python bench/upload_bench.py                # everything (about 5 minutes on 2 cores)
    python bench/upload_bench.py --quick        # smaller sizes
    python bench/upload_bench.py --only loopback

Figures are printed as a Markdown table (paste into docs/performance.md).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024
PART = 8 * MiB
CONCURRENCY = 8


# -- the server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(*, wan: bool, emulator: bool) -> Iterator[str]:
    port = free_port()
    if emulator:
        command = [sys.executable, "-m", "filestack_async.cli", "emulator", "--port", str(port)]
        if wan:
            command.append("--wan-profile")
    else:
        command = [sys.executable, str(HERE / "upload_server.py"), "--port", str(port)]
        if wan:
            command.append("--wan")
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def make_file(size: int, directory: Path) -> Path:
    path = directory / f"data-{size}.bin"
    if not path.exists() or path.stat().st_size != size:
        block = os.urandom(MiB)
        with open(path, "wb") as f:
            for _ in range(size // MiB):
                f.write(block)
            f.write(block[: size % MiB])
    return path


# -- workers (each in its own process) ---------------------------------------------------


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


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


async def _ticker(lags: list[float], stop: Any) -> None:
    import anyio

    while not stop.is_set():
        t0 = time.perf_counter()
        await anyio.sleep(0.010)
        lags.append(time.perf_counter() - t0 - 0.010)


async def run_sdk(
    base: str, path: str, *, kind: str, count: int, size: int, data: bytes
) -> dict[str, Any]:
    import anyio

    from filestack_async import Client, UploadConfig

    config = UploadConfig(part_size=PART, concurrency=CONCURRENCY)
    async with Client("APIKEY", base_url=base, upload=config) as client:
        baseline = rss_kib()
        lags: list[float] = []
        stop = anyio.Event()
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_ticker, lags, stop)
            if kind == "path":
                await client.upload(filepath=path)
            elif kind == "pipe":
                with Pipe(path) as pipe:
                    await client.upload(file_obj=pipe, size=size)
            elif kind == "many":
                results = await client.upload_many([data] * count, concurrency=16)
                assert not [r for r in results if isinstance(r, Exception)], results[:3]
                size *= count
            stop.set()
        elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "bytes": size,
        "rss_over_baseline_mib": (rss_kib() - baseline) / 1024,
        "max_lag_ms": max(lags) * 1000 if lags else 0.0,
    }


async def run_ideal(base: str, path: str, size: int) -> dict[str, Any]:
    """Same protocol, part size and concurrency, raw httpx; parts read into memory."""
    import anyio
    import anyio.to_thread
    import httpx

    fd = os.open(path, os.O_RDONLY)
    limiter = anyio.Semaphore(CONCURRENCY)
    etags: dict[int, str] = {}
    baseline = rss_kib()
    started = time.perf_counter()

    def read_and_hash(offset: int, length: int) -> tuple[bytes, str]:
        data = os.pread(fd, length, offset)
        return data, base64.b64encode(hashlib.md5(data).digest()).decode()

    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        start = (await http.post(f"{base}/multipart/start", json={
            "apikey": "APIKEY", "filename": "f", "mimetype": "application/octet-stream",
            "size": size, "store": {"location": "S3"}})).json()  # fmt: skip
        loc = f"http://{start['location_url']}"
        common = {k: start[k] for k in ("uri", "region", "upload_id")}

        async def part(number: int, offset: int) -> None:
            async with limiter:
                data, md5 = await anyio.to_thread.run_sync(
                    read_and_hash, offset, min(PART, size - offset)
                )
                signed = (await http.post(f"{loc}/multipart/upload", json={
                    "apikey": "APIKEY", **common, "store": {"location": "S3"},
                    "part": number, "size": len(data), "md5": md5})).json()  # fmt: skip
                put = await http.put(signed["url"], content=data, headers=signed["headers"])
                put.raise_for_status()
                etags[number] = put.headers["etag"]

        async with anyio.create_task_group() as tg:
            for index, offset in enumerate(range(0, size, PART)):
                tg.start_soon(part, index + 1, offset)
        parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
        done = await http.post(f"{loc}/multipart/complete", json={
            "apikey": "APIKEY", "filename": "f", "mimetype": "application/octet-stream",
            "size": size, "store": {"location": "S3"}, **common, "parts": parts})  # fmt: skip
        done.raise_for_status()
    os.close(fd)
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "bytes": size,
        "rss_over_baseline_mib": (rss_kib() - baseline) / 1024,
    }


def run_reference(base: str, path: str, *, kind: str, count: int) -> dict[str, Any]:
    """filestack-python 4.0.0; a transport adapter rewrites its https URLs to the local server."""
    from urllib.parse import urlsplit, urlunsplit

    from requests.adapters import HTTPAdapter

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
    baseline = rss_kib()
    started = time.perf_counter()
    if kind == "many":
        data = Path(path).read_bytes()
        for _ in range(count):
            client.upload(file_obj=io.BytesIO(data))
        size *= count
    else:
        client.upload(filepath=path)
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "bytes": size,
        "rss_over_baseline_mib": (rss_kib() - baseline) / 1024,
    }


def worker(args: list[str]) -> None:
    import anyio

    who, base, path, kind, count = args[0], args[1], args[2], args[3], int(args[4])
    size = os.path.getsize(path)
    data = Path(path).read_bytes() if kind == "many" else b""
    if who == "sdk":
        result = anyio.run(
            lambda: run_sdk(base, path, kind=kind, count=count, size=size, data=data)
        )
    elif who == "ideal":
        result = anyio.run(lambda: run_ideal(base, path, size))
    else:
        result = run_reference(base, path, kind=kind, count=count)
    print(json.dumps(result))


def measure(who: str, base: str, path: Path, kind: str = "path", count: int = 1) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", who, base, str(path), kind, str(count)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["mib_s"] = result["bytes"] / MiB / result["seconds"]
    print(f"  {who:9} {kind:5} {result['bytes'] / MiB:8.0f} MiB  {result['seconds']:7.2f} s  "
          f"{result['mib_s']:7.1f} MiB/s  RSS +{result['rss_over_baseline_mib']:.0f} MiB"
          + (f"  max loop lag {result['max_lag_ms']:.1f} ms" if "max_lag_ms" in result else ""),
          flush=True)  # fmt: skip
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller files")
    parser.add_argument("--only", choices=["loopback", "memory", "wan"], action="append")
    parser.add_argument(
        "--stand-in",
        action="store_true",
        help="use bench/upload_server.py (bytes discarded) instead of the emulator",
    )
    parser.add_argument("--big", action="store_true", help="also a 4 GiB path source")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where test files go")
    args = parser.parse_args()
    only = set(args.only or ["loopback", "memory", "wan"])
    directory = Path(args.dir)
    gib = 256 * MiB if args.quick else 1024 * MiB
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}", flush=True)
    rows: list[str] = []
    if "loopback" in only:
        path = make_file(gib, directory)
        print(f"loopback, {gib // MiB} MiB regular upload, part 8 MiB, concurrency 8:")
        with server(wan=False, emulator=not args.stand_in) as base:
            for who in ("ideal", "sdk", "reference", "ideal", "sdk"):
                r = measure(who, base, path)
                rows.append(f"| loopback {gib // MiB} MiB | {who} | {r['mib_s']:.0f} MiB/s | "
                            f"{r['rss_over_baseline_mib']:.0f} MiB | "
                            f"{r.get('max_lag_ms', float('nan')):.1f} ms |")  # fmt: skip
    if "memory" in only:
        sizes = [256 * MiB] + ([4096 * MiB] if args.big else [])
        print("peak RSS over baseline:")
        with server(wan=False, emulator=not args.stand_in) as base:
            for size in sizes:
                path = make_file(size, directory)
                for kind in ("path", "pipe"):
                    r = measure("sdk", base, path, kind)
                    rows.append(f"| memory {size // MiB} MiB {kind} | sdk | {r['mib_s']:.0f} MiB/s"
                                f" | {r['rss_over_baseline_mib']:.0f} MiB | "
                                f"{r['max_lag_ms']:.1f} ms |")  # fmt: skip
    if "wan" in only:
        size = 64 * MiB if args.quick else 256 * MiB
        path = make_file(size, directory)
        small = make_file(64 * 1024, directory)
        count = 100 if args.quick else 500
        print("WAN profile (+40 ms per request, 16 MiB/s per request body):")
        with server(wan=True, emulator=not args.stand_in) as base:
            for who in ("sdk", "reference"):
                r = measure(who, base, path)
                rows.append(f"| WAN {size // MiB} MiB | {who} | {r['mib_s']:.1f} MiB/s | "
                            f"{r['rss_over_baseline_mib']:.0f} MiB | - |")  # fmt: skip
            for who in ("sdk", "reference"):
                r = measure(who, base, small, "many", count)
                rows.append(f"| WAN {count} x 64 KiB | {who} | {r['seconds']:.1f} s total | "
                            f"{r['rss_over_baseline_mib']:.0f} MiB | - |")  # fmt: skip
    print("\n| scenario | client | throughput | peak RSS over baseline | max loop lag |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
