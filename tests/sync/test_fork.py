"""After os.fork() the child gets a fresh loop thread; the parent's client raises a clear error."""

from __future__ import annotations

import os
import time
import traceback
import warnings
from collections.abc import Callable

import pytest

from filestack_async import FilestackError
from filestack_async.sync import Client, Filelink, ForkedProcessError

from ._fake import BASE, CONTENT, HANDLE, FakeFilestack

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def run_in_child(child: Callable[[], None]) -> tuple[int, str]:
    """Fork; run ``child`` in the child; return its exit code and what it wrote."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process may deadlock; that
        # is the situation under test
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            child()
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(write)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the child process hung")
        time.sleep(0.05)
    with os.fdopen(read, "rb") as pipe:
        output = pipe.read().decode()
    return os.waitstatus_to_exitcode(status), output


def test_child_gets_a_clear_error_and_can_open_a_new_client(fake: FakeFilestack) -> None:
    with Client("APIKEY", base_url=BASE, transport=fake.transport()) as client:
        link = client.filelink(HANDLE)
        assert link.get_content() == CONTENT  # the loop thread runs in the parent

        def child() -> None:
            for call in (link.get_content, lambda: client.upload(content=b"x")):
                try:
                    call()
                except ForkedProcessError as exc:
                    assert isinstance(exc, FilestackError)
                    assert "forked" in str(exc) and "new Client" in str(exc)
                else:
                    raise AssertionError("no ForkedProcessError")
            client.close()  # only marks it closed: no I/O on the parent's loop
            assert client.is_closed
            with Client("APIKEY", base_url=BASE, transport=fake.transport()) as fresh:
                assert fresh.filelink(HANDLE).get_content() == CONTENT
                assert fresh.upload(content=b"child").get_content() == b"child"

        code, output = run_in_child(child)
        assert code == 0, output
        # the parent is unaffected
        assert link.get_content() == CONTENT
        assert not client.is_closed


def test_standalone_objects_work_in_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    with Client("APIKEY", base_url=BASE) as client:
        assert client.filelink(HANDLE).url.endswith(HANDLE)

        def child() -> None:
            link = Filelink(HANDLE)
            assert link.resize(width=10).url.endswith(f"resize=width:10/{HANDLE}")
            try:
                link.get_content(security=object())  # type: ignore[arg-type]
            except FilestackError as exc:  # a ConfigurationError before any request
                assert "security" in str(exc)
            else:
                raise AssertionError("no error")

        code, output = run_in_child(child)
        assert code == 0, output
