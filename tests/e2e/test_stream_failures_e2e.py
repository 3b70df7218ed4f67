"""A user's stream that raises or ends early fails the upload with an error naming the
cause (which exception, at which byte of how many), never the SDK's internal
``RuntimeError('sequential source read at ...')`` anywhere in the cause chain."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from starlette.requests import ClientDisconnect  # what request.stream() raises

from filestack_async import Client, UploadError

MiB = 1024 * 1024
SIZE = 40 * MiB


def _every_error(err: BaseException) -> list[BaseException]:
    """``err``, its causes and contexts, and the members of every group among them."""
    found: list[BaseException] = []
    todo = [err]
    while todo:
        current = todo.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        todo.extend(getattr(current, "exceptions", ()))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return found


def _no_internal_error(err: BaseException) -> None:
    for inner in _every_error(err):
        assert not isinstance(inner, RuntimeError), repr(inner)
        assert "sequential source" not in str(inner)


async def _blocks(count: int, failure: Exception | None) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * (3 * MiB)
    if failure is not None:
        raise failure


async def test_a_stream_that_raises_names_the_exception_and_the_byte(
    filestack_client: Client,
) -> None:
    stream = _blocks(5, ConnectionResetError("peer went away"))
    with pytest.raises(UploadError) as raised:
        await filestack_client.upload(stream=stream, size=SIZE)
    message = str(raised.value)
    assert message.endswith(
        f"the stream raised ConnectionResetError: peer went away at byte {15 * MiB} of {SIZE}"
    )
    assert raised.value.__cause__ is not None  # the task group, holding only the real error
    _no_internal_error(raised.value)


async def test_a_stream_that_ends_early_says_so(filestack_client: Client) -> None:
    with pytest.raises(UploadError) as raised:
        await filestack_client.upload(stream=_blocks(5, None), size=SIZE)
    assert str(raised.value).endswith(
        f"the stream ended after {15 * MiB} bytes, but size={SIZE} was declared"
    )
    _no_internal_error(raised.value)


async def test_a_body_whose_sender_disconnects_gives_a_reason(filestack_client: Client) -> None:
    with pytest.raises(UploadError) as raised:
        await filestack_client.upload(stream=_blocks(2, ClientDisconnect()), size=SIZE)
    assert str(raised.value).endswith(
        "the stream raised ClientDisconnect (the client sending the body disconnected) "
        f"at byte {6 * MiB} of {SIZE}"
    )
    _no_internal_error(raised.value)


async def test_an_unseekable_file_that_raises_names_it(filestack_client: Client) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.given = 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if self.given >= 10 * MiB:
                raise OSError(5, "Input/output error")
            count = min(len(buffer), MiB)
            buffer[:count] = b"p" * count
            self.given += count
            return count

    with pytest.raises(UploadError) as raised:
        await filestack_client.upload(file_obj=Pipe(), size=SIZE)
    assert str(raised.value).endswith(
        f"file_obj raised OSError: [Errno 5] Input/output error at byte {10 * MiB} of {SIZE}"
    )
    _no_internal_error(raised.value)


async def test_a_stream_of_unknown_size_that_raises_names_the_byte(
    filestack_client: Client,
) -> None:
    with pytest.raises(UploadError, match=r"^the stream raised ValueError: bad block at byte "):
        await filestack_client.upload(stream=_blocks(1, ValueError("bad block")))
    with pytest.raises(UploadError) as raised:
        await filestack_client.upload(stream=_blocks(1, ValueError("bad block")))
    assert (
        str(raised.value)
        == f"the stream raised ValueError: bad block at byte {3 * MiB} (no size= declared)"
    )
