"""Run every row of the bad-input table, on the async API and on the sync facade.

Each row must raise exactly its documented exception type, with the message fragment
that names the cause, before any request is sent, within a generous time limit, and
without the app secret, the signature or the policy in ``str``, ``repr``, ``args`` or
any log record.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest

import filestack_async
from filestack_async import Client
from filestack_async import sync as fsync

from .test_bad_input_table import APIKEY, AV_URL, HANDLE, ROWS, SECRETS, SECURITY, Env, Row

#: Seconds after which a row counts as hanging (generous: nothing here does I/O).
HANG_LIMIT = 20.0


class Recorder:
    """A transport handler that records each request and fails it (none should be sent)."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return httpx.Response(599, text="a bad-input row sent a request")


def assert_no_secret(error: BaseException, records: list[logging.LogRecord]) -> None:
    """No secret in the error's text, repr, args, its causes, or any log record."""
    texts = []
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args)]
        seen = seen.__cause__ or seen.__context__
    texts += [record.getMessage() for record in records]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"a secret leaked into: {text[:200]}"


def check(row: Row, error: BaseException, requests: list[str]) -> None:
    """The error is exactly the row's type and names the cause; nothing was sent."""
    assert type(error) is row.error, f"{row.id}: got {type(error).__name__}: {error}"
    assert row.match in str(error), f"{row.id}: {row.match!r} not in {str(error)!r}"
    assert requests == [], f"{row.id} sent {requests}"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[Env, Recorder]]:
    recorder = Recorder()
    async with Client(APIKEY, security=SECURITY, transport=httpx.MockTransport(recorder)) as client:
        link = client.filelink(HANDLE)
        av = filestack_async.AudioVisual(
            AV_URL, "uuid-1", "1", security=SECURITY, context=client.context
        )
        environment = Env(filestack_async, client, link, link.resize(width=10), av, tmp_path)
        yield environment, recorder
        environment.close()


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
async def test_bad_input(
    row: Row, env: tuple[Env, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    environment, recorder = env
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception) as info:
        with anyio.fail_after(HANG_LIMIT):
            result = row.call(environment)
            if inspect.isawaitable(result):
                await result
    check(row, info.value, recorder.requests)
    assert_no_secret(info.value, caplog.records)


#: Rows whose method has a twin in filestack_async.sync (the same class is shared otherwise).
SYNC_OWNERS = ("Client", "Filelink", "Transformation", "AudioVisual", "UploadItem")
SYNC_ROWS = [row for row in ROWS if row.method.split(".")[0] in SYNC_OWNERS and row.sync]


@pytest.fixture(scope="module")
def sync_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, Recorder]]:
    recorder = Recorder()
    tmp = tmp_path_factory.mktemp("sync-bad-input")
    with fsync.Client(APIKEY, security=SECURITY, transport=httpx.MockTransport(recorder)) as client:
        link = client.filelink(HANDLE)
        av = fsync.AudioVisual(AV_URL, "uuid-1", "1", security=SECURITY, context=client.context)
        environment = Env(fsync, client, link, link.resize(width=10), av, tmp)
        yield environment, recorder
        environment.close()


@pytest.mark.parametrize("row", SYNC_ROWS, ids=[row.id for row in SYNC_ROWS])
def test_sync_twin_raises_the_same(
    row: Row, sync_env: tuple[Env, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    environment, recorder = sync_env
    recorder.requests.clear()
    caplog.set_level(logging.DEBUG)

    def call() -> None:
        result = row.call(environment)
        assert not inspect.isawaitable(result), "a sync twin returned an awaitable"

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(call)
        with pytest.raises(Exception) as info:
            future.result(timeout=HANG_LIMIT)
    check(row, info.value, recorder.requests)
    assert_no_secret(info.value, caplog.records)
