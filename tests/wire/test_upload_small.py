"""A file below ``UploadConfig.multipart_threshold`` is one ``POST /api/store/<location>``."""

from __future__ import annotations

import io
import mimetypes
import random
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from filestack_async import (
    APIConnectionError,
    APIResponseValidationError,
    Client,
    InternalServerError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    Security,
    UploadConfig,
    UploadError,
    UploadProgress,
)
from filestack_async._uploads import engine

from ..fakes import FormFile, Unseekable, form_file
from ._upload_fake import FakeUploadAPI
from .conftest import API, APIKEY, HANDLE, SECURITY

THRESHOLD = 1000
#: a policy that allows the store call (the conftest's allows only "read")
STORING = Security({"expiry": 1572390000, "call": ["pick", "store"]}, "SECRET")
SMALL = UploadConfig(multipart_threshold=THRESHOLD)
MiB = 1024 * 1024

# routes that a test's path does not take stay uncalled
pytestmark = pytest.mark.respx(assert_all_called=False)


def data_of(size: int, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(size)


def store_answer(size: int, filename: str = "unnamed_file") -> dict[str, Any]:
    """What Filestack's store call answers."""
    return {
        "url": f"https://cdn.filestackcontent.com/{HANDLE}",
        "size": size,
        "type": "application/octet-stream",
        "filename": filename,
        "key": f"{HANDLE}_{filename}",
    }


def sent_file(request: httpx.Request) -> FormFile:
    """The ``fileUpload`` field of a store request, checked against its Content-Length."""
    assert int(request.headers["content-length"]) == len(request.content)
    form = form_file(request.headers["content-type"], request.content)
    assert form.field == "fileUpload"
    return form


@pytest.fixture
async def small(retry_policy: RetryPolicy) -> AsyncIterator[Client]:
    async with Client(APIKEY, retry=retry_policy, upload=SMALL) as c:
        yield c


@pytest.fixture
def store_route(respx_mock: respx.MockRouter) -> respx.Route:
    route = respx_mock.post(f"{API}/store/S3")
    route.side_effect = lambda request: httpx.Response(
        200, json=store_answer(len(sent_file(request).data))
    )
    return route


@pytest.fixture
def fake(respx_mock: respx.MockRouter) -> FakeUploadAPI:
    service = FakeUploadAPI()
    service.install(respx_mock)
    return service


async def test_below_the_threshold_the_exact_request(
    small: Client, store_route: respx.Route, fake: FakeUploadAPI
) -> None:
    data = data_of(THRESHOLD - 1)
    link = await small.upload(content=data)
    assert store_route.call_count == 1 and fake.requests == []
    request = store_route.calls[0].request
    assert request.method == "POST"
    assert str(request.url).split("?")[0] == f"{API}/store/S3"
    assert list(request.url.params.multi_items()) == [
        ("key", APIKEY),
        ("filename", "unnamed_file"),
        ("mimetype", "application/octet-stream"),
    ]
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "filestack-trace-id" in request.headers
    assert sent_file(request) == FormFile(
        "fileUpload", "unnamed_file", "application/octet-stream", data
    )
    assert link.handle == HANDLE
    # the service's answer, plus the keys a multipart complete answer has
    assert link.upload_response == {
        **store_answer(len(data)),
        "handle": HANDLE,
        "mimetype": "application/octet-stream",
    }


@pytest.mark.parametrize("size", [THRESHOLD, THRESHOLD + 1])
async def test_at_and_above_the_threshold_multipart(
    small: Client, store_route: respx.Route, fake: FakeUploadAPI, size: int
) -> None:
    data = data_of(size)
    link = await small.upload(content=data)
    assert store_route.call_count == 0
    assert [kind for kind, _ in fake.requests] == ["start", "upload", "put", "complete"]
    assert fake.assembled() == data and link.handle == HANDLE


async def test_threshold_zero_is_always_multipart(
    retry_policy: RetryPolicy, store_route: respx.Route, fake: FakeUploadAPI
) -> None:
    async with Client(
        APIKEY, retry=retry_policy, upload=replace(SMALL, multipart_threshold=0)
    ) as c:
        await c.upload(content=b"x")
        assert store_route.call_count == 0 and fake.starts == 1
        await c.upload(content=b"")  # empty files still go to the store call
    assert store_route.call_count == 1 and fake.starts == 1


async def test_security_and_store_params_go_in_the_query(
    retry_policy: RetryPolicy, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(f"{API}/store/gcs").mock(
        return_value=httpx.Response(200, json=store_answer(5, "a.txt"))
    )
    params = {
        "filename": "a.txt",
        "mimetype": "text/plain",
        "location": "gcs",
        "path": "dir/a.txt",
        "container": "bucket",
        "access": "public",
    }
    async with Client(APIKEY, retry=retry_policy, security=STORING, upload=SMALL) as c:
        link = await c.upload(content=b"hello", store_params=params)
    request = route.calls[0].request
    assert dict(request.url.params) == {
        "key": APIKEY,
        "filename": "a.txt",
        "mimetype": "text/plain",
        "path": "dir/a.txt",
        "container": "bucket",
        "access": "public",
        "policy": STORING.policy_b64,
        "signature": STORING.signature,
    }
    assert sent_file(request) == FormFile("fileUpload", "a.txt", "text/plain", b"hello")
    assert link.security == STORING


async def test_per_call_security_wins(retry_policy: RetryPolicy, store_route: respx.Route) -> None:
    other = Security({"expiry": 1655992432, "call": ["pick", "store"]}, "another-secret")
    async with Client(APIKEY, retry=retry_policy, security=SECURITY, upload=SMALL) as c:
        link = await c.upload(content=b"x", security=other)
    params = store_route.calls[0].request.url.params
    assert (params["policy"], params["signature"]) == (other.policy_b64, other.signature)
    assert link.security == other


@pytest.mark.parametrize(
    "params",
    [{"region": "us-west-2"}, {"workflows": ["wf1"]}, {"upload_tags": {"k": "v"}}],
    ids=["region", "workflows", "upload_tags"],
)
async def test_store_params_the_store_call_cannot_carry_go_multipart(
    small: Client, store_route: respx.Route, fake: FakeUploadAPI, params: dict[str, Any]
) -> None:
    await small.upload(content=b"small", store_params=params)
    assert store_route.call_count == 0
    assert [kind for kind, _ in fake.requests] == ["start", "upload", "put", "complete"]
    complete = fake.bodies("complete")[0]
    key, value = next(iter(params.items()))
    assert (complete if key == "upload_tags" else complete["store"])[key] == value


async def test_intelligent_ingestion_goes_multipart(
    small: Client, store_route: respx.Route, fake: FakeUploadAPI
) -> None:
    await small.upload(content=b"small", intelligent=True)
    assert store_route.call_count == 0
    assert fake.bodies("start")[0]["fii"] is True


@pytest.mark.parametrize(
    ("calls", "one_request"),
    [(None, True), (["pick", "store"], True), (("store",), True), (["pick"], False)],
    ids=["every call", "pick and store", "store", "pick only"],
)
async def test_a_policy_without_the_store_call_goes_multipart(
    retry_policy: RetryPolicy,
    store_route: respx.Route,
    fake: FakeUploadAPI,
    calls: Any,
    one_request: bool,
) -> None:
    policy: dict[str, Any] = {"expiry": 4102444800}
    if calls is not None:
        policy["call"] = calls
    security = Security(policy, "SECRET")
    async with Client(APIKEY, retry=retry_policy, security=security, upload=SMALL) as c:
        await c.upload(content=b"x")
    assert store_route.call_count == (1 if one_request else 0)
    assert fake.starts == (0 if one_request else 1)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 100):
        yield data[start : start + 100]


@pytest.mark.parametrize(
    "kind",
    [
        *("bytes", "bytearray", "memoryview", "path", "file_obj"),
        *("unseekable+size", "stream+size", "stream", "unseekable"),
    ],
)
async def test_every_source_kind_is_sent_byte_exact(
    small: Client, store_route: respx.Route, tmp_path: Path, kind: str
) -> None:
    data = data_of(THRESHOLD - 1, seed=len(kind))
    path = tmp_path / "small.bin"
    path.write_bytes(data)
    sources: dict[str, dict[str, Any]] = {
        "bytes": {"content": data},
        "bytearray": {"content": bytearray(data)},
        "memoryview": {"content": memoryview(data)},
        "path": {"filepath": path},
        "file_obj": {"file_obj": io.BytesIO(data)},
        "unseekable+size": {"file_obj": Unseekable(data), "size": len(data)},
        "stream+size": {"stream": _chunks(data), "size": len(data)},
        "stream": {"stream": _chunks(data)},
        "unseekable": {"file_obj": Unseekable(data)},
    }
    await small.upload(**sources[kind])
    assert store_route.call_count == 1
    assert sent_file(store_route.calls[0].request).data == data


async def test_a_path_gives_its_name_and_guessed_type(
    small: Client, store_route: respx.Route, tmp_path: Path
) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG not really")
    await small.upload(filepath=path)
    request = store_route.calls[0].request
    assert request.url.params["filename"] == "photo.png"
    assert request.url.params["mimetype"] == "image/png"
    assert sent_file(request) == FormFile(
        "fileUpload", "photo.png", "image/png", b"\x89PNG not really"
    )


@pytest.mark.parametrize("sent", [500, 700], ids=["shorter", "longer"])
async def test_a_stream_that_is_not_its_declared_size_sends_nothing(
    small: Client, store_route: respx.Route, sent: int
) -> None:
    with pytest.raises(UploadError, match="declared"):
        await small.upload(stream=_chunks(data_of(sent)), size=600)
    assert store_route.call_count == 0


async def test_a_body_of_many_blocks_is_streamed_with_its_length(
    retry_policy: RetryPolicy, store_route: respx.Route, tmp_path: Path
) -> None:
    data = data_of(2 * MiB + 3)
    path = tmp_path / "two-blocks.bin"
    path.write_bytes(data)
    config = UploadConfig(multipart_threshold=4 * MiB)
    async with Client(APIKEY, retry=retry_policy, upload=config) as c:
        await c.upload(filepath=path)
        await c.upload(stream=_chunks(data), size=len(data))
    for call in store_route.calls:
        assert sent_file(call.request).data == data


@pytest.mark.parametrize("source", ["bytes", "path", "stream+size"])
async def test_retried_when_no_answer_arrived_with_the_same_body(
    small: Client, store_route: respx.Route, tmp_path: Path, source: str
) -> None:
    data = data_of(THRESHOLD - 1)
    path = tmp_path / "retried.bin"
    path.write_bytes(data)
    answer = httpx.Response(200, json=store_answer(len(data)))
    store_route.side_effect = [httpx.ConnectError("down"), httpx.ReadTimeout("late"), answer]
    sources: dict[str, dict[str, Any]] = {
        "bytes": {"content": data},
        "path": {"filepath": path},
        "stream+size": {"stream": _chunks(data), "size": len(data)},
    }
    kwargs = sources[source]
    assert (await small.upload(**kwargs)).handle == HANDLE
    assert store_route.call_count == 3
    assert [sent_file(call.request).data for call in store_route.calls] == [data] * 3


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, InternalServerError), (500, InternalServerError), (429, RateLimitError)],
)
async def test_never_retried_once_an_answer_arrived(
    small: Client, store_route: respx.Route, status: int, error: type[Exception]
) -> None:
    # a store makes a new file each time: after any answer, a second one could store twice
    store_route.side_effect = None
    store_route.return_value = httpx.Response(status, json={"error": "busy"})
    with pytest.raises(error):
        await small.upload(content=b"once")
    assert store_route.call_count == 1


async def test_no_answer_after_every_retry(
    small: Client, store_route: respx.Route, retry_policy: RetryPolicy
) -> None:
    store_route.side_effect = httpx.ConnectError("down")
    with pytest.raises(APIConnectionError):
        await small.upload(content=b"x")
    assert store_route.call_count == retry_policy.max_retries + 1


async def test_progress_reports_begin_and_finish(small: Client, store_route: respx.Route) -> None:
    seen: list[UploadProgress] = []
    await small.upload(content=b"12345", progress=seen.append)
    assert [(p.bytes_acknowledged, p.total, p.index) for p in seen] == [(0, 5, None), (5, 5, None)]
    many: list[UploadProgress] = []
    await small.upload_many([b"ab", b"cde"], progress=many.append, concurrency=1)
    assert [(p.bytes_acknowledged, p.total, p.index) for p in many] == [
        (0, 2, 0),
        (2, 2, 0),
        (0, 3, 1),
        (3, 3, 1),
    ]


async def test_a_failed_store_never_reports_done(small: Client, store_route: respx.Route) -> None:
    store_route.side_effect = None
    store_route.return_value = httpx.Response(400, json={"error": "bad"})
    seen: list[UploadProgress] = []
    with pytest.raises(Exception, match="400"):
        await small.upload(content=b"12345", progress=seen.append)
    assert [p.bytes_acknowledged for p in seen] == [0]


async def test_an_answer_without_a_usable_handle(small: Client, store_route: respx.Route) -> None:
    store_route.side_effect = None
    store_route.return_value = httpx.Response(200, json={"size": 5})
    with pytest.raises(APIResponseValidationError, match="/api/store answered without"):
        await small.upload(content=b"12345")
    store_route.return_value = httpx.Response(200, json={"url": "https://cdn/not-a-handle"})
    with pytest.raises(APIResponseValidationError, match="without a usable handle"):
        await small.upload(content=b"12345")


async def test_no_secret_in_the_error(
    retry_policy: RetryPolicy, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(f"{API}/store/S3").mock(
        return_value=httpx.Response(403, text=f"denied for {STORING.signature} and {APIKEY}")
    )
    async with Client(APIKEY, retry=retry_policy, security=STORING, upload=SMALL) as c:
        with pytest.raises(PermissionDeniedError) as info:
            await c.upload(content=b"x")
    message = str(info.value)
    assert "403" in message
    for secret in (STORING.signature, STORING.policy_b64, APIKEY, "SECRET"):
        assert secret not in message


async def test_only_the_first_type_guess_hops_to_a_thread(
    small: Client, store_route: respx.Route, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first guess loads the system's type files (blocking); later ones are lookups."""
    threads: list[bool] = []
    real = mimetypes.guess_type

    def spy(url: str, strict: bool = True) -> tuple[str | None, str | None]:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(url, strict)

    monkeypatch.setattr(engine._MimeTypes, "loaded", False)
    monkeypatch.setattr(mimetypes, "guess_type", spy)
    for name in ("a.png", "b.txt", "c.json"):
        (tmp_path / name).write_bytes(b"x")
        await small.upload(filepath=tmp_path / name)
    assert threads == [False, True, True]
    sent = [call.request.url.params["mimetype"] for call in store_route.calls]
    assert sent == ["image/png", "text/plain", "application/json"]
