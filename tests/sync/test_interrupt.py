"""Ctrl+C during a blocking call cancels the task on the loop thread and returns promptly."""

from __future__ import annotations

import _thread
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from filestack_async import UploadConfig
from filestack_async.sync import Client

from ._fake import BASE, CONTENT, HANDLE, FakeFilestack

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals are delivered to the main thread",
)


@pytest.fixture(autouse=True)
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl+C raises KeyboardInterrupt, as in an interactive Python, even when this run
    inherited SIGINT ignored (a job started in the background by a non-interactive shell)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def send_sigint() -> None:
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


INTERRUPTS: dict[str, Callable[[], None]] = {"interrupt_main": _thread.interrupt_main}
if hasattr(signal, "pthread_kill"):
    INTERRUPTS["SIGINT"] = send_sigint


def interrupt_when(event: threading.Event, interrupt: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        if event.wait(10):
            interrupt()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("how", sorted(INTERRUPTS))
@pytest.mark.parametrize("hang", ["put", "api-store"], ids=["multipart", "one-request"])
def test_ctrl_c_during_an_upload_cancels_it(fake: FakeFilestack, how: str, hang: str) -> None:
    # the storage PUT of the part (multipart), or the one store request, waits until cancelled
    fake.hang.add(hang)
    threshold = 0 if hang == "put" else UploadConfig().multipart_threshold
    with Client(
        "APIKEY",
        base_url=BASE,
        transport=fake.transport(),
        upload=UploadConfig(multipart_threshold=threshold),
    ) as client:
        _interrupt_the_upload(client, fake, how)


def _interrupt_the_upload(client: Client, fake: FakeFilestack, how: str) -> None:
    interrupter = interrupt_when(fake.hanging, INTERRUPTS[how])
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        client.upload(content=b"x" * 100_000)
    assert time.monotonic() - started < 5
    interrupter.join()
    assert fake.cancelled.is_set(), "the upload task on the loop thread was not cancelled"
    assert "complete" not in fake.requests
    fake.hang.clear()
    # the client is still usable, and the loop thread is not stuck
    assert client.filelink(HANDLE).get_content() == CONTENT
    assert client.upload(content=b"after").get_content() == b"after"


def test_ctrl_c_during_a_download_cancels_it(
    client: Client, fake: FakeFilestack, tmp_path: Path
) -> None:
    fake.hang.add("get")
    interrupter = interrupt_when(fake.hanging, _thread.interrupt_main)
    with pytest.raises(KeyboardInterrupt):
        client.filelink(HANDLE).download(tmp_path / "file.bin")
    interrupter.join()
    assert fake.cancelled.is_set()
    assert list(tmp_path.iterdir()) == []  # the temporary file was removed
