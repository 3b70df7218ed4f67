"""Calling the sync client from its own loop thread (a progress callback) raises, never hangs."""

from __future__ import annotations

from typing import Any

import pytest

from filestack_async import UploadProgress
from filestack_async.sync import Client, LoopThreadError, SyncUsageError

from ._fake import BASE, CONTENT, HANDLE, FakeFilestack


def test_calls_from_a_progress_callback_raise(client: Client, fake: FakeFilestack) -> None:
    errors: list[BaseException] = []
    urls: list[str] = []

    def callback(progress: UploadProgress) -> None:
        urls.append(client.filelink(HANDLE).url)  # no I/O: fine on any thread
        for action in (
            lambda: client.filelink(HANDLE).get_content(),
            lambda: client.upload(content=b"nested"),
            lambda: Client("APIKEY", base_url=BASE, transport=fake.transport()),
            client.close,
        ):
            try:
                action()
            except BaseException as exc:  # collected, checked below
                errors.append(exc)

    link = client.upload(content=b"data", progress=callback)
    assert link.get_content() == b"data"
    assert urls and all(u.endswith(HANDLE) for u in urls)
    assert errors and all(isinstance(e, LoopThreadError) for e in errors)
    assert all(isinstance(e, SyncUsageError) and isinstance(e, RuntimeError) for e in errors)
    assert "progress callback" in str(errors[0])
    assert not client.is_closed
    assert client.filelink(HANDLE).get_content() == CONTENT


def test_an_error_raised_in_the_callback_fails_the_upload(client: Client) -> None:
    def callback(progress: Any) -> None:
        client.filelink(HANDLE).metadata()

    with pytest.raises(LoopThreadError):
        client.upload(content=b"data", progress=callback)
    assert client.filelink(HANDLE).get_content() == CONTENT
