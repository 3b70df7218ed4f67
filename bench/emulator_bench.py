"""The emulator's own cost: CPU seconds per GiB received and peak RSS for a 1 GiB upload.

The emulator runs as ``filestack-async emulator`` in a subprocess on a free loopback
port; a minimal raw-httpx client (8 MiB parts, 8 in flight, parts read from a file)
uploads 1 GiB through the regular multipart flow. CPU time and peak RSS (VmHWM) of
the emulator process come from /proc.

    python bench/emulator_bench.py            # 1 GiB, 3 runs
    python bench/emulator_bench.py --quick    # 256 MiB, 1 run
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
PART = 8 * MiB
IN_FLIGHT = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def upload(base: str, path: Path, size: int) -> float:
    import anyio
    import httpx

    def read(offset: int, length: int) -> tuple[bytes, str]:
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read(length)
        return data, base64.b64encode(hashlib.md5(data).digest()).decode()

    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=32)) as http:
        began = time.perf_counter()
        start = (
            await http.post(
                f"{base}/multipart/start",
                json={
                    "apikey": "BENCH",
                    "filename": "f",
                    "mimetype": "application/octet-stream",
                    "size": size,
                    "store": {"location": "S3"},
                },
            )
        ).json()
        common = {k: start[k] for k in ("uri", "region", "upload_id")}
        location = f"http://{start['location_url']}"
        etags: dict[int, str] = {}
        limiter = anyio.Semaphore(IN_FLIGHT)

        async def part(number: int, offset: int) -> None:
            async with limiter:
                length = min(PART, size - offset)
                data, md5 = await anyio.to_thread.run_sync(read, offset, length)
                body = {"apikey": "BENCH", "part": number, "size": length, "md5": md5,
                        "store": {"location": "S3"}, **common}  # fmt: skip
                target = (await http.post(f"{location}/multipart/upload", json=body)).json()
                r = await http.put(target["url"], content=data, headers=target["headers"])
                r.raise_for_status()
                etags[number] = r.headers["etag"]

        async with anyio.create_task_group() as tg:
            for number, offset in enumerate(range(0, size, PART), start=1):
                tg.start_soon(part, number, offset)
        parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
        complete = {**start, "apikey": "BENCH", "filename": "f", "size": size,
                    "mimetype": "application/octet-stream", "store": {"location": "S3"},
                    "parts": parts}  # fmt: skip
        complete.pop("location_url")
        r = await http.post(f"{location}/multipart/complete", json=complete)
        r.raise_for_status()
        return time.perf_counter() - began


def run_once(size: int, workdir: Path) -> dict[str, Any]:
    import anyio

    source = workdir / f"source-{size}.bin"
    if not source.exists():
        with source.open("wb") as f:
            block = os.urandom(MiB)
            for _ in range(size // MiB):
                f.write(block)
    port = free_port()
    data = tempfile.mkdtemp(prefix="emu-bench-", dir=workdir)
    command = [sys.executable, "-m", "filestack_async.cli", "emulator", "--port", str(port),
               "--data-dir", data]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the "listening on" line
        base = f"http://127.0.0.1:{port}"
        cpu_before = cpu_seconds(process.pid)
        elapsed = anyio.run(upload, base, source, size)
        cpu = cpu_seconds(process.pid) - cpu_before
        rss = peak_rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait(20)
        subprocess.run(["rm", "-rf", data], check=False)
    gib = size / (1024 * MiB)
    return {"MiB/s": size / MiB / elapsed, "cpu_s_per_gib": cpu / gib, "peak_rss_mib": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    size = 256 * MiB if args.quick else 1024 * MiB
    runs = 1 if args.quick else 3
    workdir = Path(args.dir)
    print(f"emulator, one {size // MiB} MiB regular upload, {os.cpu_count()} cores")
    print("| run | throughput | emulator CPU per GiB | emulator peak RSS |")
    print("|---|---|---|---|")
    for run in range(1, runs + 1):
        r = run_once(size, workdir)
        print(
            f"| {run} | {r['MiB/s']:.0f} MiB/s | {r['cpu_s_per_gib']:.2f} CPU-s | "
            f"{r['peak_rss_mib']:.0f} MiB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
