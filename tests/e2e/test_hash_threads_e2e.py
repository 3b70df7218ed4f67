"""A client hashes parts in at most `hashing_threads()` worker threads at once.

More hashing threads than half the cores took the event loop's core away from it: with
eight parts in flight, eight threads hashed 8 MiB each at once and the loop woke up to
60 ms late (docs/performance.md, event-loop lag). These tests count the MD5 objects alive
at once in the upload's hashing code, for every kind of part that is hashed in a thread.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from filestack_async import UploadConfig
from filestack_async._uploads import hashing_threads, sources
from filestack_async.testing import EmulatorFactory

MiB = 1024 * 1024


class _CountingMD5:
    """Stands in for `hashlib`: counts worker-thread hashers between creation and digest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alive = 0
        self.most = 0
        self.made = 0

    def md5(self, data: Any = b"") -> Any:
        real = hashlib.md5(data)
        if threading.current_thread() is threading.main_thread():
            return real  # a small piece hashed on the event loop: no worker thread
        counter = self
        with self._lock:
            self.alive += 1
            self.made += 1
            self.most = max(self.most, self.alive)

        class Hasher:
            def update(self, more: Any) -> None:
                time.sleep(0.002)  # long enough for hashers in other threads to overlap
                real.update(more)

            def digest(self) -> bytes:
                with counter._lock:
                    counter.alive -= 1
                return real.digest()

        if data:
            time.sleep(0.002)
        return Hasher()


def test_half_the_cores_and_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, threads in [(None, 1), (1, 1), (2, 1), (3, 1), (8, 4), (64, 32)]:
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert hashing_threads() == threads


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
@pytest.mark.parametrize("kind", ["path", "bytes", "file_obj", "pipe"])
async def test_parts_are_hashed_in_one_thread_on_two_cores(
    filestack_emulator_factory: EmulatorFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    intelligent: bool,
    kind: str,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    counting = _CountingMD5()
    monkeypatch.setattr(sources, "hashlib", SimpleNamespace(md5=counting.md5))
    data = os.urandom(6 * 5 * MiB + 123)
    path = tmp_path / "big.bin"
    path.write_bytes(data)

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, target: Any) -> int:
            return self._data.readinto(target)

    sources_by_kind: dict[str, dict[str, Any]] = {
        "path": {"filepath": path},
        "bytes": {"content": data},
        "file_obj": {"file_obj": io.BytesIO(data)},
        "pipe": {"file_obj": Pipe(), "size": len(data)},
    }
    kwargs = sources_by_kind[kind]
    config = UploadConfig(
        part_size=5 * MiB, concurrency=8, intelligent_chunk_size=MiB, multipart_threshold=0
    )
    emulator = filestack_emulator_factory(strict=True)
    async with emulator.client(upload=config) as client:
        link = await client.upload(**kwargs, intelligent=intelligent)
        assert await link.get_content() == data
    assert counting.made >= 6  # the six whole parts (or their chunks) were hashed in threads
    assert counting.most == 1
