"""Local file helpers that keep blocking disk work off the event loop."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import anyio

from ._exceptions import ConfigurationError, LocalFileError

#: Bytes read or written per thread hop.
BLOCK = 1024 * 1024


def check_readable_file(path: str | os.PathLike[str]) -> Path:
    """Return the path if it names a readable regular file, else raise `ConfigurationError`."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError(
            f"filepath must be a str or os.PathLike, not {type(path).__name__}"
        )
    p = Path(path)
    if not p.exists():
        raise ConfigurationError(f"no such file: {os.fspath(p)!r}")
    if p.is_dir():
        raise ConfigurationError(f"{os.fspath(p)!r} is a directory, not a file")
    if not os.access(p, os.R_OK):
        raise ConfigurationError(f"{os.fspath(p)!r} is not readable")
    return p


def check_binary_file_obj(file_obj: object) -> BinaryIO:
    """Return ``file_obj`` if it is a readable binary file object, else raise."""
    return _check_open_binary(file_obj, name="file_obj", method="read", mode="rb")


def check_writable_file_obj(file_obj: object) -> BinaryIO:
    """Return ``file_obj`` if it is an open binary file object we can write to, else raise."""
    return _check_open_binary(file_obj, name="destination", method="write", mode="wb")


def _check_open_binary(file_obj: object, *, name: str, method: str, mode: str) -> BinaryIO:
    """``file_obj`` if it is an open binary file with ``method`` (read/write) usable."""
    text_mode = f"{name} is a text-mode file; open it in binary mode ({mode!r})"
    if isinstance(file_obj, io.TextIOBase):
        raise ConfigurationError(text_mode)
    if not callable(getattr(file_obj, method, None)):
        kinds = "a binary file object" if method == "read" else "a path or a binary file object"
        what = f"have a {method}() method" if method == "read" else f"be {kinds}"
        raise ConfigurationError(f"{name} must {what}, not {type(file_obj).__name__}")
    opened_mode = getattr(file_obj, "mode", mode)
    if isinstance(opened_mode, str) and "b" not in opened_mode:
        raise ConfigurationError(text_mode)
    if getattr(file_obj, "closed", False) is True:
        raise ConfigurationError(f"{name} is closed; pass an open file")
    if not _answers_true(file_obj, "readable" if method == "read" else "writable"):
        purpose = "reading" if method == "read" else "writing"
        raise ConfigurationError(f"{name} is not open for {purpose}; open it with {mode!r}")
    return file_obj  # type: ignore[return-value]


def _answers_true(file_obj: object, method: str) -> bool:
    """``file_obj.<method>()`` (``readable``/``writable``), or True when it has none."""
    check = getattr(file_obj, method, None)
    if not callable(check):
        return True
    try:
        return bool(check())
    except (OSError, ValueError):
        return False


def is_seekable(file_obj: BinaryIO) -> bool:
    """True when the object can seek (and so be read again for a retry)."""
    try:
        return bool(file_obj.seekable())
    except (AttributeError, OSError, ValueError):
        return False


async def iter_path(path: Path, block: int = BLOCK) -> AsyncIterator[bytes]:
    """Yield a file's bytes, reading each block in a worker thread."""
    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(block):
            yield chunk


async def iter_file_obj(file_obj: BinaryIO, block: int = BLOCK) -> AsyncIterator[bytes]:
    """Yield a file object's bytes from its current position, read in a worker thread."""
    while True:
        chunk = await anyio.to_thread.run_sync(file_obj.read, block)
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise ConfigurationError("file_obj.read() returned text; open it in binary mode")
        yield bytes(chunk)


def replayable(
    file_obj: BinaryIO,
) -> Callable[[], AsyncIterable[bytes]]:
    """A body factory that rewinds a seekable file object to where it was at first."""
    start = file_obj.tell()

    async def body() -> AsyncIterator[bytes]:
        await anyio.to_thread.run_sync(file_obj.seek, start)
        async for chunk in iter_file_obj(file_obj):
            yield chunk

    return body


#: The bytes the temporary name adds to the destination's: ``.`` + ``.1a2b3c4d.part``.
_PARTIAL_OVERHEAD = len(".") + len(".00000000.part")


def name_max(folder: Path) -> int:
    """The longest file name (in bytes) ``folder``'s file system takes (255 if unknown)."""
    try:
        value = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer
        return 255
    return value if value > 0 else 255


def partial_path(destination: Path) -> Path:
    """A fresh temporary name beside ``destination``: ``.<name>.<8 hex>.part``.

    The name part is cut (at a character boundary) so the whole stays within the
    folder's `name_max`; the folder stays the same, so the final rename is atomic.
    """
    budget = name_max(destination.parent) - _PARTIAL_OVERHEAD
    stem = destination.name
    while stem and len(os.fsencode(stem)) > budget:
        stem = stem[:-1]
    return destination.parent / f".{stem}.{secrets.token_hex(4)}.part"


def check_destination(destination: str | os.PathLike[str]) -> Path:
    """``destination`` as a Path, if a file can be created there, else `ConfigurationError`."""
    path = Path(destination)
    parent = path.parent
    try:
        if not parent.is_dir():
            raise ConfigurationError(f"the folder {os.fspath(parent)!r} does not exist")
        try:
            length, limit = len(os.fsencode(path.name)), name_max(parent)
        except UnicodeEncodeError:
            raise ConfigurationError(
                "the file name holds characters the file system cannot take (a lone surrogate)"
            ) from None
        if length > limit:
            raise ConfigurationError(
                f"the file name is {length} bytes; the file system takes at most {limit}"
            )
        if path.is_dir():
            raise ConfigurationError(f"{os.fspath(path)!r} is a directory")
    except OSError as err:  # the folder cannot even be looked into
        raise local_file_error(err, path) from err
    return path


def local_file_error(err: OSError, path: str | os.PathLike[str] | None) -> LocalFileError:
    """A `LocalFileError` naming ``path`` (not the temporary name) and the OS's reason."""
    reason = err.strerror or type(err).__name__
    where = f" {os.fspath(path)!r}" if path is not None else " the destination file object"
    return LocalFileError(
        f"could not write{where}: {reason}",
        path=os.fspath(path) if path is not None else None,
        errno=err.errno,
        strerror=err.strerror,
    )


@contextmanager
def atomic_file(destination: Path) -> Iterator[BinaryIO]:
    """Write ``destination`` through a temporary file beside it: flushed to disk (fsync)
    and renamed into place when the block ends.

    On any error (or cancellation, or Ctrl+C) the temporary file is removed and
    ``destination`` is untouched, so no half-written file is ever left there. An
    `OSError` of the file system (a full disk, a read-only folder) is raised as
    `LocalFileError` naming ``destination``, not the temporary name. Blocking: the
    async `AtomicWriter` runs it in worker threads.
    """
    temporary = partial_path(destination)
    try:
        handle = temporary.open("xb")
    except OSError as err:
        raise local_file_error(err, destination) from err
    try:
        try:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(temporary, destination)
        except LocalFileError:
            raise
        except OSError as err:  # writing, flushing, closing or renaming the file
            raise local_file_error(err, destination) from err
    except BaseException:
        with suppress(OSError):  # a close that failed once has closed the file
            handle.close()
        with suppress(OSError):  # gone already, or the folder turned read-only
            temporary.unlink(missing_ok=True)
        raise


class AtomicWriter:
    """`atomic_file` for async code: each file system step runs in a worker thread.

    The rename and the clean-up run shielded, so a cancelled download still removes
    its temporary file.
    """

    def __init__(self, destination: str | os.PathLike[str]) -> None:
        self.destination = check_destination(destination)
        self._writing = atomic_file(self.destination)
        self._file: BinaryIO | None = None
        self.written = 0

    async def __aenter__(self) -> AtomicWriter:
        self._file = await anyio.to_thread.run_sync(self._writing.__enter__)
        return self

    async def write(self, data: bytes) -> None:
        """Append bytes (in a worker thread)."""
        assert self._file is not None
        try:
            await anyio.to_thread.run_sync(self._file.write, data)
        except OSError as err:
            raise local_file_error(err, self.destination) from err
        self.written += len(data)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._writing.__exit__, exc_type, exc, tb)
