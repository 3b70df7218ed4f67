"""Client CPU per request of `HTTPSession` on each HTTP pool, at 1, 4, 16 and 64 in flight.

A minimal HTTP/1.1 server runs in a child process on loopback (so its CPU is not the
client's); the client alternates a small JSON POST and a 64 KiB PUT, like an upload's
requests, and reports its own process CPU time per request. A quick look, not the
benchmark (that is ``nox -s bench``)::

    python scripts/measure_pool_cpu.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from filestack_async import RetryPolicy
from filestack_async._http import HTTPSession, Retry

ANSWER = b'{"ok":true}'
BODY = b"x" * 65536


async def serve(port: int) -> None:
    """Answer every request with a small JSON body, keeping connections alive."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def session(backend: str) -> HTTPSession:
    """A session on ``backend``; ``httpx-aiohttp``: that package's transport, for comparison."""
    if backend == "httpx-aiohttp":
        import httpx_aiohttp  # type: ignore[import-not-found,unused-ignore]

        return HTTPSession(retry=RetryPolicy.disabled(), transport=httpx_aiohttp.AiohttpTransport())
    return HTTPSession(retry=RetryPolicy.disabled(), backend=backend)  # type: ignore[arg-type]


async def measure(url: str, backend: str, in_flight: int, requests: int) -> float:
    """Milliseconds of client CPU per request."""
    http = session(backend)
    try:
        for _ in range(8):  # warm up: connections, TLS-free pool, imports
            await http.request("POST", f"{url}/warm", json={"a": 1})
        queue = iter(range(requests))

        async def worker() -> None:
            for index in queue:
                if index % 2:
                    await http.request("PUT", f"{url}/part", content=BODY, retry=Retry.NEVER)
                else:
                    await http.request("POST", f"{url}/api", json={"n": index})

        began = time.process_time()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return 1000 * (time.process_time() - began) / requests
    finally:
        await http.aclose()


async def main(requests: int) -> None:
    port = 18000 + (int(time.time()) % 1000)
    child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", str(port))
    try:
        await asyncio.sleep(1.0)
        url = f"http://127.0.0.1:{port}"
        backends = ["httpx", "aiohttp"]
        try:
            import httpx_aiohttp  # type: ignore[import-not-found,unused-ignore]  # noqa: F401

            backends.append("httpx-aiohttp")
        except ImportError:
            pass
        out = sys.stdout
        out.write("CPU ms per request\n")
        out.write("in flight | " + " | ".join(f"{b:>13}" for b in backends) + "\n")
        for in_flight in (1, 4, 16, 64):
            figures = [await measure(url, b, in_flight, requests) for b in backends]
            out.write(f"{in_flight:9} | " + " | ".join(f"{f:13.2f}" for f in figures) + "\n")
            out.flush()
    finally:
        child.terminate()
        await child.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))  # noqa: TID251 - a script's own loop
    else:
        asyncio.run(main(args.requests))  # noqa: TID251 - a script's own loop
