"""An empty file (0 bytes) is stored with one ``POST /api/store/<location>``, never multipart."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from filestack_async import (
    APIConnectionError,
    APIResponseValidationError,
    Client,
    ConfigurationError,
    InternalServerError,
    UploadError,
    UploadProgress,
)

from ..fakes import form_file
from .conftest import API, APIKEY, HANDLE, POLICY, SIGNATURE

STORE_ANSWER = {
    "url": f"{API}/file/{HANDLE}",
    "size": 0,
    "type": "text/plain",
    "filename": "empty.txt",
    "key": f"{HANDLE}_empty.txt",
}


async def _nothing() -> AsyncIterator[bytes]:
    empty: tuple[bytes, ...] = ()
    for block in empty:
        yield block


async def _one_byte() -> AsyncIterator[bytes]:
    yield b"x"


def _form_file(request: httpx.Request) -> tuple[str, str, bytes]:
    """The ``fileUpload`` field's file name, content type and bytes."""
    form = form_file(request.headers["content-type"], request.content)
    assert form.field == "fileUpload"
    return form.filename, form.content_type, form.data


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
@respx.mock
async def test_an_empty_file_is_one_store_request(
    client: Client, tmp_path: Path, intelligent: bool
) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    route = respx.post(f"{API}/store/S3").mock(return_value=httpx.Response(200, json=STORE_ANSWER))
    seen: list[UploadProgress] = []
    link = await client.upload(filepath=path, intelligent=intelligent, progress=seen.append)
    # the service's answer, plus the keys a multipart complete answer has
    assert link.handle == HANDLE
    assert link.upload_response == {**STORE_ANSWER, "handle": HANDLE, "mimetype": "text/plain"}
    assert len(respx.calls) == 1 and route.call_count == 1
    request = route.calls[0].request
    assert request.method == "POST"
    assert dict(request.url.params) == {
        "key": APIKEY,
        "filename": "empty.txt",
        "mimetype": "text/plain",
    }
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "filestack-trace-id" in request.headers
    assert _form_file(request) == ("empty.txt", "text/plain", b"")
    assert [(p.bytes_acknowledged, p.total) for p in seen] == [(0, 0)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": b""},
        {"file_obj": io.BytesIO()},
        {"stream": "nothing"},
        {"stream": "nothing", "size": 0},
    ],
    ids=["bytes", "file_obj", "stream", "stream+size"],
)
@respx.mock
async def test_every_empty_source_kind(client: Client, kwargs: dict[str, Any]) -> None:
    if "stream" in kwargs:
        kwargs = {**kwargs, "stream": _nothing()}
    route = respx.post(f"{API}/store/S3").mock(return_value=httpx.Response(200, json=STORE_ANSWER))
    link = await client.upload(**kwargs)
    assert link.handle == HANDLE and route.call_count == 1 and len(respx.calls) == 1
    assert route.calls[0].request.url.params["filename"] == "unnamed_file"
    assert route.calls[0].request.url.params["mimetype"] == "application/octet-stream"


@respx.mock
async def test_store_params_and_security_go_in_the_query(secure_client: Client) -> None:
    route = respx.post(f"{API}/store/gcs").mock(return_value=httpx.Response(200, json=STORE_ANSWER))
    params = {
        "filename": "e.bin",
        "mimetype": "application/x-empty",
        "location": "gcs",
        "path": "dir/e.bin",
        "container": "bucket",
        "access": "private",
    }
    await secure_client.upload(content=b"", store_params=params)
    assert dict(route.calls[0].request.url.params) == {
        "key": APIKEY,
        "filename": "e.bin",
        "mimetype": "application/x-empty",
        "path": "dir/e.bin",
        "container": "bucket",
        "access": "private",
        "policy": POLICY,
        "signature": SIGNATURE,
    }
    assert _form_file(route.calls[0].request)[1] == "application/x-empty"


@pytest.mark.parametrize("key", ["region", "workflows", "upload_tags"])
@respx.mock
async def test_store_params_the_store_endpoint_cannot_take(client: Client, key: str) -> None:
    value: Any = {"region": "us-east-1", "workflows": ["w"], "upload_tags": {"a": "b"}}[key]
    with pytest.raises(ConfigurationError, match=f"takes no '{key}'"):
        await client.upload(content=b"", store_params={key: value})
    assert len(respx.calls) == 0


@respx.mock
async def test_a_stream_declared_empty_that_is_not(client: Client) -> None:
    with pytest.raises(UploadError, match="more than the 0 bytes declared"):
        await client.upload(stream=_one_byte(), size=0)
    assert len(respx.calls) == 0


@respx.mock
async def test_a_quirky_filename_cannot_break_the_form(client: Client) -> None:
    route = respx.post(f"{API}/store/S3").mock(return_value=httpx.Response(200, json=STORE_ANSWER))
    await client.upload(content=b"", store_params={"filename": 'a"b\r\nX-Evil: 1.txt'})
    request = route.calls[0].request
    assert request.url.params["filename"] == 'a"b\r\nX-Evil: 1.txt'
    assert _form_file(request)[0] == "a_b__X-Evil: 1.txt"


@respx.mock
async def test_retried_only_when_no_answer_arrived(client: Client) -> None:
    route = respx.post(f"{API}/store/S3").mock(
        side_effect=[httpx.ConnectError("down"), httpx.Response(200, json=STORE_ANSWER)]
    )
    assert (await client.upload(content=b"")).handle == HANDLE
    assert route.call_count == 2
    route.side_effect = [httpx.Response(503, json={"error": "busy"})]
    with pytest.raises(InternalServerError):
        await client.upload(content=b"")
    assert route.call_count == 3
    route.side_effect = httpx.ConnectError("down")
    with pytest.raises(APIConnectionError):
        await client.upload(content=b"")


@respx.mock
async def test_an_answer_without_a_handle(client: Client) -> None:
    respx.post(f"{API}/store/S3").mock(return_value=httpx.Response(200, json={"size": 0}))
    with pytest.raises(APIResponseValidationError, match="/api/store answered without"):
        await client.upload(content=b"")
