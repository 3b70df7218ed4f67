"""The client works on asyncio and on trio.

Each test is a plain function that runs its body with ``anyio.run`` on each
backend: pytest-asyncio is the suite's one async test plugin, and it runs on
asyncio only.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
import sniffio

import filestack_async as fa
from filestack_async import Client, RetryPolicy

from .conftest import HANDLE, SECURITY, Sleeps

#: every test here runs once per event loop
pytestmark = [pytest.mark.trio, pytest.mark.parametrize("backend", ["asyncio", "trio"])]


def _handler(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/metadata"):
        return httpx.Response(200, json={"size": 4})
    if "flaky" in request.headers.get("x-test", ""):
        return httpx.Response(503)
    return httpx.Response(200, content=b"body")


def test_file_api_on_each_backend(backend: str, tmp_path: Path) -> None:
    async def body() -> None:
        assert sniffio.current_async_library() == backend
        transport = httpx.MockTransport(_handler)
        async with Client("K", transport=transport, base_url="http://e.test") as c:
            link = c.filelink(HANDLE, security=SECURITY)
            assert await link.get_content() == b"body"
            assert await link.metadata(["size"]) == {"size": 4}
            assert await link.download(tmp_path / "f") == 4
            assert (tmp_path / "f").read_bytes() == b"body"

    anyio.run(body, backend=backend)


def test_retries_use_the_injected_sleep_on_each_backend(backend: str) -> None:
    sleeps = Sleeps()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503 if calls < 3 else 200, content=b"ok")

    async def body() -> None:
        assert sniffio.current_async_library() == backend
        policy = RetryPolicy(sleep=sleeps, random=lambda: 0.0)
        async with Client("K", transport=httpx.MockTransport(handler), retry=policy) as c:
            assert await c.filelink(HANDLE).get_content() == b"ok"

    anyio.run(body, backend=backend)
    assert sleeps == [0.25, 0.5]


def test_default_sleep_really_waits_on_each_backend(backend: str) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503 if calls == 1 else 200, headers={"retry-after-ms": "1"})

    async def body() -> None:
        assert sniffio.current_async_library() == backend
        async with Client("K", transport=httpx.MockTransport(handler)) as c:
            await c.filelink(HANDLE).get_content()

    anyio.run(body, backend=backend)
    assert calls == 2


def test_cancellation_is_not_wrapped(backend: str) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(10)
        return httpx.Response(200)

    async def body() -> None:
        assert sniffio.current_async_library() == backend
        async with Client("K", transport=httpx.MockTransport(handler)) as c:
            with anyio.move_on_after(0.05) as scope:
                await c.filelink(HANDLE).get_content()
            assert scope.cancelled_caught
            with pytest.raises(fa.ConfigurationError):
                await c.filelink(HANDLE).metadata(["nope"])

    anyio.run(body, backend=backend)
