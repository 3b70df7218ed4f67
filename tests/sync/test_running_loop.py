"""Jupyter/IPython: the calling thread already runs an event loop.

The facade never runs work on the caller's loop (no ``asyncio.run``), so the call
works; it blocks that loop, which a once-per-process RuntimeWarning points out.
"""

from __future__ import annotations

import asyncio
import warnings

import pytest

from filestack_async import _portal
from filestack_async.sync import Client

from ._fake import BASE, CONTENT, HANDLE, FakeFilestack


async def test_works_inside_a_running_asyncio_loop_and_warns_once(fake: FakeFilestack) -> None:
    asyncio.get_running_loop()  # this test's own loop runs in this thread, like a notebook's
    with pytest.warns(RuntimeWarning, match="runs an event loop") as caught:
        client = Client("APIKEY", base_url=BASE, transport=fake.transport())
    assert len(caught) == 1
    assert caught[0].filename == __file__  # points at the caller, not at the SDK
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once per process: no second warning
            assert client.filelink(HANDLE).get_content() == CONTENT
            assert client.upload(content=b"abc").get_content() == b"abc"
    finally:
        client.close()


async def test_the_warning_is_shown_once_per_process(fake: FakeFilestack) -> None:
    _portal._warned_running_loop = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Client("APIKEY", base_url=BASE, transport=fake.transport()) as client:
            assert client.filelink(HANDLE).get_content() == CONTENT


def test_no_warning_without_a_running_loop(client: Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.filelink(HANDLE).get_content() == CONTENT


def test_works_inside_trio(fake: FakeFilestack) -> None:
    trio = pytest.importorskip("trio")

    async def main() -> bytes:
        with Client("APIKEY", base_url=BASE, transport=fake.transport()) as client:
            return client.filelink(HANDLE).get_content()

    with pytest.warns(RuntimeWarning, match="runs an event loop"):
        assert trio.run(main) == CONTENT
