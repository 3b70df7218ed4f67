"""The unmodified filestack-python 4.0.0 client against the emulator in strict mode.

It hard-codes ``https://`` hosts (upload, CDN, File API and ``https://{location_url}``);
a requests transport adapter, mounted for the duration of a test, sends every
``https://`` request to the emulator's loopback socket instead. Nothing of the
client itself is changed.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import filestack
import filestack.uploads.intelligent_ingestion as fii
import pytest
import requests
from filestack.exceptions import FilestackHTTPError

from filestack_async.emulator import EmulatorServer

SECRET = "COMPAT-SECRET"
MiB = 1024 * 1024


class ToEmulator(requests.adapters.HTTPAdapter):
    """Sends https:// requests, whatever their host, to the emulator over plain HTTP."""

    def __init__(self, netloc: str) -> None:
        super().__init__()
        self.netloc = netloc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        request.url = urlunsplit(("http", self.netloc, parts.path, parts.query, parts.fragment))
        request.headers["Host"] = self.netloc
        return super().send(request, **kwargs)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with EmulatorServer(data_dir=tmp_path / "data", strict=True, secret=SECRET) as server:
        adapter = ToEmulator(f"127.0.0.1:{server.port}")
        original = requests.Session.get_adapter

        def get_adapter(self: requests.Session, url: str) -> requests.adapters.BaseAdapter:
            if url.lower().startswith("https://"):
                return adapter
            return original(self, url)

        monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)
        monkeypatch.setattr(fii, "CHUNK_SIZE", 8 * MiB)  # its chunk size is a process global
        try:
            yield server
        finally:
            adapter.close()
        assert [v.message for v in server.emulator.violations.snapshot()] == []


def security(**policy: Any) -> Any:
    policy.setdefault("expiry", int(time.time()) + 600)
    return filestack.Security(policy, SECRET)


def stored_bytes(server: EmulatorServer, handle: str) -> bytes:
    return server.emulator.storage.read_bytes(handle)


@pytest.mark.parametrize(
    "size",
    [1, 5 * MiB - 1, 5 * MiB, 10 * MiB, 10 * MiB + 3],
    ids=["1B", "part-1", "one-part", "two-parts", "two-parts+3"],
)
def test_regular_upload_by_path(server: EmulatorServer, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    client = filestack.Client("APIKEY", security=security())
    link = client.upload(filepath=str(path), store_params={"filename": "u.bin", "path": "/in/"})
    assert stored_bytes(server, link.handle) == data
    assert link.upload_response["size"] == size


@pytest.mark.parametrize(
    "size", [3, 8 * MiB, 8 * MiB + 1, 17 * MiB], ids=["3B", "one-part", "part+1", "three-parts"]
)
def test_intelligent_upload(server: EmulatorServer, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    client = filestack.Client("APIKEY", security=security())
    link = client.upload(filepath=str(path), intelligent=True)
    assert stored_bytes(server, link.handle) == data


def test_intelligent_upload_survives_chunk_failures(server: EmulatorServer, tmp_path: Path) -> None:
    from filestack_async.emulator import Faults

    server.emulator.set_faults(Faults(max_chunk_size=3 * MiB))
    data = os.urandom(9 * MiB)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    link = filestack.Client("APIKEY", security=security()).upload(
        filepath=str(path), intelligent=True
    )
    assert stored_bytes(server, link.handle) == data
    assert server.emulator.faults.injected["put:too-big"] >= 1
    assert fii.CHUNK_SIZE == 2 * MiB  # it halved 8 -> 4 -> 2 MiB


def test_file_obj_upload(server: EmulatorServer) -> None:
    data = os.urandom(6 * MiB + 11)
    link = filestack.Client("APIKEY", security=security()).upload(file_obj=io.BytesIO(data))
    assert stored_bytes(server, link.handle) == data


def test_zero_byte_upload_gets_a_clear_400(server: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with pytest.raises(FilestackHTTPError, match="empty upload cannot be completed"):
        filestack.Client("APIKEY", security=security()).upload(filepath=str(path))
    # the rejection is the protocol's answer, not a deviation of the client
    server.emulator.violations.clear()


def test_read_metadata_overwrite_delete(server: EmulatorServer, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    sec = security()
    link = filestack.Client("APIKEY", security=sec).upload(file_obj=io.BytesIO(data))
    reader = filestack.Filelink(link.handle, apikey="APIKEY", security=sec)
    assert reader.get_content() == data
    target = tmp_path / "down.bin"
    assert reader.download(str(target)) == len(data)
    assert target.read_bytes() == data
    meta = reader.metadata(["size", "md5", "filename"])
    assert meta == {
        "size": len(data),
        "md5": hashlib.md5(data).hexdigest(),
        "filename": "unnamed_file",
    }
    source = tmp_path / "new.bin"
    source.write_bytes(b"replacement bytes")
    reader.overwrite(filepath=str(source))
    assert reader.get_content() == b"replacement bytes"
    reader.delete()
    with pytest.raises(FilestackHTTPError, match="not found"):
        reader.get_content()


def test_security_rejections_reach_the_reference_client(server: EmulatorServer) -> None:
    read_only = security(call=["read"])
    with pytest.raises(FilestackHTTPError, match="does not allow the 'pick' call"):
        filestack.Client("APIKEY", security=read_only).upload(file_obj=io.BytesIO(b"x" * 10))
    server.emulator.violations.clear()
