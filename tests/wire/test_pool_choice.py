"""Which HTTP pool a client uses: aiohttp on asyncio, httpx's own on trio, what is asked for,
and a user's transport above all; respx intercepts whichever it is."""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any, Literal

import anyio
import httpx
import pytest
import respx

import filestack_async as fa
from filestack_async import Client, RetryPolicy

from .conftest import APIKEY, CDN, HANDLE

URL = f"{CDN}/{HANDLE}"


def refused_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.mark.trio
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_auto_is_aiohttp_on_asyncio_and_httpx_on_trio(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FILESTACK_HTTP_BACKEND")

    async def body() -> None:
        async with Client(APIKEY, base_url=refused_url(), retry=RetryPolicy.disabled()) as client:
            assert client.context.http is not None
            assert client.context.http.backend is None  # chosen at the first request
            with pytest.raises(fa.APIConnectionError):
                await client.filelink(HANDLE).get_content()
            expected = "aiohttp" if backend == "asyncio" else "httpx"
            assert client.context.http.backend == expected

    anyio.run(body, backend=backend)


@pytest.mark.trio
def test_aiohttp_asked_for_on_trio_is_a_configuration_error() -> None:
    async def body() -> None:
        async with Client(APIKEY, base_url=refused_url(), http_backend="aiohttp") as client:
            with pytest.raises(fa.ConfigurationError, match="needs asyncio"):
                await client.filelink(HANDLE).get_content()

    anyio.run(body, backend="trio")


async def test_the_parameter_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, http_backend: str
) -> None:
    other: Literal["aiohttp", "httpx"] = "httpx" if http_backend == "aiohttp" else "aiohttp"
    async with Client(
        APIKEY, base_url=refused_url(), retry=RetryPolicy.disabled(), http_backend=other
    ) as client:
        with pytest.raises(fa.APIConnectionError):
            await client.filelink(HANDLE).get_content()
        assert client.context.http is not None and client.context.http.backend == other


@pytest.mark.parametrize("bad", ["requests", "", "AIOHTTP", 3])
def test_a_bad_backend_is_refused_naming_it(bad: object) -> None:
    with pytest.raises(fa.ConfigurationError, match="http_backend must be 'auto', 'aiohttp' or"):
        Client(APIKEY, http_backend=bad)  # type: ignore[arg-type]


def test_a_bad_backend_in_the_environment_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FILESTACK_HTTP_BACKEND", "curl")
    with pytest.raises(fa.ConfigurationError, match=r"\$FILESTACK_HTTP_BACKEND .*'curl'"):
        Client(APIKEY)


def test_a_backend_and_a_transport_are_not_both_given() -> None:
    with pytest.raises(fa.ConfigurationError, match="http_backend= or transport="):
        Client(
            APIKEY,
            http_backend="aiohttp",
            transport=httpx.MockTransport(lambda request: httpx.Response(200)),
        )


async def test_a_given_transport_is_used_as_is() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=b"mine")

    async with Client(APIKEY, transport=httpx.MockTransport(handler)) as client:
        assert await client.filelink(HANDLE).get_content() == b"mine"
        assert client.context.http is not None and client.context.http.backend is None
    assert seen == [URL]


async def test_respx_using_httpx_intercepts_the_aiohttp_pool() -> None:
    with respx.mock(using="httpx") as router:
        route = router.get(URL).respond(200, content=b"mocked")
        async with Client(APIKEY, http_backend="aiohttp") as client:
            assert await client.filelink(HANDLE).get_content() == b"mocked"
    assert route.call_count == 1


async def test_the_pool_is_set_up_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, http_backend: str
) -> None:
    # importing aiohttp and loading CA certificates took 100-200 ms on the loop at a
    # session's first request (the benchmark's lag watchdog caught it)
    loop_thread = threading.current_thread()
    setup_threads: list[threading.Thread] = []
    real_context = httpx.create_ssl_context
    real_init = httpx.AsyncHTTPTransport.__init__

    def context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        setup_threads.append(threading.current_thread())
        return real_context(*args, **kwargs)

    def init(self: httpx.AsyncHTTPTransport, *args: Any, **kwargs: Any) -> None:
        setup_threads.append(threading.current_thread())
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", context)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "__init__", init)
    async with Client(APIKEY, base_url=refused_url(), retry=RetryPolicy.disabled()) as client:
        with pytest.raises(fa.APIConnectionError):
            await client.filelink(HANDLE).get_content()
        assert client.context.http is not None
        assert client.context.http.backend == http_backend
    assert setup_threads and loop_thread not in setup_threads


async def test_concurrent_first_requests_share_one_pool(http_backend: str) -> None:
    async with Client(APIKEY, base_url=refused_url(), retry=RetryPolicy.disabled()) as client:
        http = client.context.http
        assert http is not None

        async def one() -> None:
            with pytest.raises(fa.APIConnectionError):
                await client.filelink(HANDLE).get_content()

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(one)
        assert http.backend == http_backend
        state = http.pool_state()
        assert state is not None and state.open == 0
