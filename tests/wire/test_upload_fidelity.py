"""Issue 13's upload side, every request as sent: S3's XML error answers on part and
chunk PUTs, ``intelligent="fallback"``, capability detection from ``upload_type``, and
``UploadConfig(integrity_check=False)``."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from filestack_async import (
    Client,
    ConfigurationError,
    PartUploadError,
    RetryPolicy,
    UploadConfig,
    UploadError,
    UploadProgress,
)
from filestack_async._uploads import sources

from ._upload_fake import FakeUploadAPI, md5_b64, s3_error
from .conftest import APIKEY, POLICY, SECURITY, SIGNATURE

MiB = 1024 * 1024

COMMON = {
    "apikey": APIKEY,
    "uri": "/bucket/key/file",
    "region": "us-east-1",
    "upload_id": "UPID",
    "store": {"location": "S3"},
    "policy": POLICY,
    "signature": SIGNATURE,
}


def data_of(size: int) -> bytes:
    return random.Random(7).randbytes(size)


SLOW_LINK = [
    (400, "RequestTimeout", "Your socket connection to the server was not read from or "
     "written to within the timeout period. Idle connections will be closed."),
    (400, "IncompleteBody", "You did not provide the number of bytes specified by the "
     "Content-Length HTTP header."),
]  # fmt: skip
STALE_URL = [
    (403, "RequestTimeTooSkewed", "The difference between the request time and the "
     "current time is too large."),
    (403, "AccessDenied", "Request has expired"),
]  # fmt: skip
FATAL = [
    (400, "InvalidArgument", "Invalid Argument"),
    (403, "AccessDenied", "Access Denied"),
    (403, "SignatureDoesNotMatch", "The request signature we calculated does not match"),
    (400, "RequestTimeout-ish", "not S3's code"),
]


@pytest.fixture
def fake() -> FakeUploadAPI:
    return FakeUploadAPI()


@pytest.fixture
def make_client(retry_policy: RetryPolicy) -> Any:
    def make(**kwargs: Any) -> Client:
        config = UploadConfig(
            **{"concurrency": 1, "multipart_threshold": 0, "part_size": 5 * MiB, **kwargs}
        )
        return Client(APIKEY, retry=retry_policy, security=SECURITY, upload=config)

    return make


# -- fallback ------------------------------------------------------------------------------


@respx.mock
async def test_fallback_switches_at_the_first_struggling_part(
    fake: FakeUploadAPI, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.install(respx.mock)
    # part 1 goes the regular way; part 2's PUT breaks once: it and part 3 go intelligent
    fake.inject("put", None, httpx.ReadError)
    data = data_of(12 * MiB)
    reports: list[UploadProgress] = []
    caplog.set_level(logging.INFO, logger="filestack_async")
    async with make_client(intelligent_chunk_size=4 * MiB) as client:
        await client.upload(content=data, intelligent="fallback", progress=reports.append)
    start = fake.bodies("start")[0]
    assert start["fii"] is True
    part1 = data[: 5 * MiB]
    assert fake.bodies("upload") == [
        # regular part requests: no offset, no fii (as filestack-js sends them)
        {**COMMON, "part": 1, "size": 5 * MiB, "md5": md5_b64(part1)},
        {**COMMON, "part": 2, "size": 5 * MiB, "md5": md5_b64(data[5 * MiB : 10 * MiB])},
        # the switch: part 2 again in chunks, then part 3
        {**COMMON, "part": 2, "size": 4 * MiB, "offset": 0, "fii": True,
         "md5": md5_b64(data[5 * MiB : 9 * MiB])},
        {**COMMON, "part": 2, "size": MiB, "offset": 4 * MiB, "fii": True,
         "md5": md5_b64(data[9 * MiB : 10 * MiB])},
        {**COMMON, "part": 3, "size": 2 * MiB, "offset": 0, "fii": True,
         "md5": md5_b64(data[10 * MiB :])},
    ]  # fmt: skip
    assert [b["part"] for b in fake.bodies("commit")] == [2, 3]
    complete = fake.bodies("complete")[0]
    assert complete["fii"] is True
    assert complete["parts"] == [{"part_number": 1, "etag": '"etag-1-0"'}]
    assert fake.assembled() == data
    assert any("switching to intelligent ingestion" in r.getMessage() for r in caplog.records)
    # the reports say which flow the bytes went through
    assert reports[0].intelligent is False
    assert reports[-1].intelligent is True and reports[-1].done


@pytest.mark.parametrize(
    "failure",
    [
        503,
        408,
        429,
        httpx.ConnectError,
        httpx.WriteTimeout,
        httpx.ReadTimeout,
        s3_error(*SLOW_LINK[0]),
        s3_error(*SLOW_LINK[1]),
    ],
    ids=[
        "503",
        "408",
        "429",
        "connect",
        "write-timeout",
        "read-timeout",
        *[c for _, c, _ in SLOW_LINK],
    ],
)
@respx.mock
async def test_fallback_sends_each_regular_put_once(
    fake: FakeUploadAPI, make_client: Any, failure: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("put", failure)  # a regular upload would retry this PUT; fallback switches
    data = data_of(5 * MiB)
    async with make_client(intelligent_chunk_size=8 * MiB) as client:
        await client.upload(content=data, intelligent="fallback")
    assert [(b["part"], b.get("offset")) for b in fake.bodies("upload")] == [(1, None), (1, 0)]
    complete = fake.bodies("complete")[0]
    assert complete["fii"] is True and "parts" not in complete  # every part went FII
    assert fake.assembled() == data


@respx.mock
async def test_fallback_that_never_struggles_completes_with_every_part(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    data = data_of(6 * MiB)
    async with make_client() as client:
        await client.upload(content=data, intelligent="fallback")
    assert fake.of("commit") == []
    complete = fake.bodies("complete")[0]
    assert complete["fii"] is True
    assert [p["part_number"] for p in complete["parts"]] == [1, 2]
    assert fake.assembled() == data


@pytest.mark.parametrize(("status", "code", "message"), STALE_URL)
@respx.mock
async def test_fallback_gets_a_fresh_url_for_a_stale_one_without_switching(
    fake: FakeUploadAPI, make_client: Any, status: int, code: str, message: str
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(status, code, message))
    data = data_of(5 * MiB)
    async with make_client() as client:
        await client.upload(content=data, intelligent="fallback")
    assert [(b["part"], b.get("offset")) for b in fake.bodies("upload")] == [(1, None)] * 2
    assert fake.of("commit") == []
    assert fake.bodies("complete")[0]["parts"] == [{"part_number": 1, "etag": '"etag-1-0"'}]


@respx.mock
async def test_fallback_does_not_switch_on_a_refused_put(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    fake.inject("put", 400)
    async with make_client() as client:
        with pytest.raises(UploadError, match="400"):
            await client.upload(content=data_of(5 * MiB), intelligent="fallback")
    assert len(fake.of("put")) == 1 and fake.of("commit") == []


# -- capability detection ------------------------------------------------------------------


@pytest.mark.parametrize("mode", [True, "fallback"])
@respx.mock
async def test_an_app_without_intelligent_ingestion_uploads_regular(
    fake: FakeUploadAPI, make_client: Any, caplog: pytest.LogCaptureFixture, mode: Any
) -> None:
    fake.fii_enabled = False
    fake.install(respx.mock)
    fake.inject("put", httpx.ReadError)  # retried as regular: no switch once locked
    data = data_of(6 * MiB)
    reports: list[UploadProgress] = []
    caplog.set_level(logging.INFO, logger="filestack_async")
    async with make_client() as client:
        await client.upload(content=data, intelligent=mode, progress=reports.append)
    assert fake.bodies("start")[0]["fii"] is True
    assert fake.bodies("upload") == [
        {**COMMON, "part": 1, "size": 5 * MiB, "md5": md5_b64(data[: 5 * MiB])},
        {**COMMON, "part": 2, "size": MiB, "md5": md5_b64(data[5 * MiB :])},
    ]
    assert [(part, offset) for part, offset, _ in fake.put_sizes] == [(1, 0), (1, 0), (2, 0)]
    assert fake.of("commit") == []
    complete = fake.bodies("complete")[0]
    assert "fii" not in complete
    assert [p["part_number"] for p in complete["parts"]] == [1, 2]
    assert fake.assembled() == data
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("uploading it as regular multipart" in m for m in messages)
    assert reports and not any(r.intelligent for r in reports)


@respx.mock
async def test_an_intelligent_upload_the_service_enabled_reports_it(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    fake.install(respx.mock)
    reports: list[UploadProgress] = []
    async with make_client() as client:
        await client.upload(content=data_of(6 * MiB), intelligent=True, progress=reports.append)
    assert reports and all(r.intelligent for r in reports)


@pytest.mark.parametrize("bad", ["yes", "Fallback", 1, None, 0.0])
@respx.mock(assert_all_called=False)
async def test_intelligent_takes_only_true_false_or_fallback(make_client: Any, bad: Any) -> None:
    async with make_client() as client:
        with pytest.raises(ConfigurationError, match="True, False or 'fallback'"):
            await client.upload(content=b"x", intelligent=bad)
        with pytest.raises(ConfigurationError, match="True, False or 'fallback'"):
            await client.upload_many([b"x"], intelligent=bad)


# -- integrity_check=False -----------------------------------------------------------------


class _NoMD5:
    """Stands in for hashlib in the sources module: any MD5 fails the test."""

    def md5(self, *args: object) -> Any:
        raise AssertionError("an MD5 was computed with integrity_check=False")


@pytest.fixture
def no_md5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "hashlib", _NoMD5())


SHAPES: dict[str, Callable[[bytes, Path], dict[str, Any]]] = {
    "content": lambda data, path: {"content": data},
    "filepath": lambda data, path: {"filepath": path},
    "unseekable": lambda data, path: {"file_obj": _Unseekable(data), "size": len(data)},
}


class _Unseekable:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def read(self, n: int = -1) -> bytes:
        n = len(self._data) if n < 0 else n
        block, self._data = bytes(self._data[:n]), self._data[n:]
        return block

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return True


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mode", [False, True, "fallback"])
@respx.mock
async def test_no_integrity_check_sends_no_md5_and_computes_none(
    fake: FakeUploadAPI, make_client: Any, no_md5: None, tmp_path: Path, shape: str, mode: Any
) -> None:
    fake.install(respx.mock)
    if mode == "fallback":
        fake.inject("put", None, httpx.ReadError)  # part 2 switches
    data = data_of(6 * MiB + 5)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    async with make_client(integrity_check=False, intelligent_chunk_size=MiB) as client:
        await client.upload(**SHAPES[shape](data, path), intelligent=mode)
    assert fake.bodies("upload")
    assert all("md5" not in body for body in fake.bodies("upload"))
    assert all("Content-MD5" not in put.headers for put in fake.of("put"))
    assert fake.assembled() == data


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_the_one_request_store_computes_no_md5(
    no_md5: None, retry_policy: RetryPolicy, tmp_path: Path, shape: str
) -> None:
    data = b"small file"
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with respx.mock:
        route = respx.post("https://www.filestackapi.com/api/store/S3").respond(
            200, json={"url": "https://cdn.filestackcontent.com/AbCdEfGhIjKlMnOpQrSt"}
        )
        async with Client(APIKEY, retry=retry_policy) as client:
            await client.upload(**SHAPES[shape](data, path))
    assert data in route.calls.last.request.content


@pytest.mark.parametrize("bad", [0, 1, "no", None])
def test_integrity_check_takes_a_bool(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="integrity_check must be True or False"):
        UploadConfig(integrity_check=bad)


# -- S3's error answers -------------------------------------------------------------------


# -- intelligent ingestion ---------------------------------------------------------------


HALVED = [(1, 0, 2 * MiB), (1, 0, MiB), (1, MiB, MiB)]  # a slow link: the chunk halves
SAME_SIZE = [(1, 0, 2 * MiB), (1, 0, 2 * MiB)]  # a stale URL: a fresh one, same chunk


@pytest.mark.parametrize(
    ("status", "code", "message", "puts"),
    [(*answer, HALVED) for answer in SLOW_LINK] + [(*answer, SAME_SIZE) for answer in STALE_URL],
)
@respx.mock
async def test_an_intelligent_chunk_adapts_to_what_s3_said(
    fake: FakeUploadAPI,
    make_client: Any,
    status: int,
    code: str,
    message: str,
    puts: list[tuple[int, int, int]],
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(status, code, message))
    data = data_of(2 * MiB)
    async with make_client(intelligent_chunk_size=2 * MiB) as client:
        await client.upload(content=data, intelligent=True)
    assert fake.put_sizes == puts
    # every attempt asked /multipart/upload for its URL
    uploads = fake.bodies("upload")
    assert [(b["part"], b["offset"], b["size"]) for b in uploads] == puts
    assert fake.assembled() == data


@pytest.mark.parametrize(("status", "code", "message"), FATAL)
@respx.mock
async def test_other_storage_errors_end_an_intelligent_upload_at_once(
    fake: FakeUploadAPI, make_client: Any, status: int, code: str, message: str
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(status, code, message))
    async with make_client(intelligent_chunk_size=2 * MiB) as client:
        with pytest.raises(PartUploadError, match="not retryable"):
            await client.upload(content=data_of(2 * MiB), intelligent=True)
    assert len(fake.put_sizes) == 1
    assert fake.of("commit") == [] and fake.of("complete") == []


@respx.mock
async def test_a_url_that_keeps_going_stale_is_bounded_by_the_retry_policy(
    fake: FakeUploadAPI, make_client: Any, retry_policy: RetryPolicy
) -> None:
    fake.install(respx.mock)
    fake.inject("put", *[s3_error(403, "RequestTimeTooSkewed")] * 20)
    async with make_client(intelligent_chunk_size=2 * MiB) as client:
        with pytest.raises(PartUploadError, match="retries exhausted"):
            await client.upload(content=data_of(2 * MiB), intelligent=True)
    assert len(fake.put_sizes) == retry_policy.max_retries + 1


@respx.mock
async def test_a_json_error_naming_a_slow_link_code_is_not_read_as_s3s(
    fake: FakeUploadAPI, make_client: Any
) -> None:
    # only S3's XML Error document counts; a JSON body mentioning the word stays a 400
    fake.inject("put", lambda _: httpx.Response(400, json={"Code": "RequestTimeout"}))
    fake.install(respx.mock)
    async with make_client(intelligent_chunk_size=2 * MiB) as client:
        with pytest.raises(PartUploadError, match="not retryable"):
            await client.upload(content=data_of(2 * MiB), intelligent=True)


# -- regular multipart -------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code", "message"), SLOW_LINK + STALE_URL)
@respx.mock
async def test_a_regular_part_is_sent_again_with_a_fresh_url(
    fake: FakeUploadAPI, make_client: Any, status: int, code: str, message: str
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(status, code, message))
    data = data_of(6 * MiB)
    async with make_client(part_size=5 * MiB) as client:
        link = await client.upload(content=data)
    assert [(part, size) for part, _, size in fake.put_sizes] == [
        (1, 5 * MiB),
        (1, 5 * MiB),
        (2, MiB),
    ]
    assert [b["part"] for b in fake.bodies("upload")] == [1, 1, 2]
    assert fake.assembled() == data
    assert link.upload_response is not None


@pytest.mark.parametrize(("status", "code", "message"), FATAL)
@respx.mock
async def test_other_storage_errors_end_a_regular_upload(
    fake: FakeUploadAPI, make_client: Any, status: int, code: str, message: str
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(status, code, message))
    async with make_client(part_size=5 * MiB) as client:
        with pytest.raises(UploadError, match=code):
            await client.upload(content=data_of(6 * MiB))
    assert len(fake.put_sizes) == 1
    assert fake.of("complete") == []


@respx.mock
async def test_regular_retries_of_a_slow_link_are_bounded(
    fake: FakeUploadAPI, make_client: Any, retry_policy: RetryPolicy
) -> None:
    fake.install(respx.mock)
    fake.inject("put", *[s3_error(400, "RequestTimeout")] * 20)
    async with make_client(part_size=5 * MiB) as client:
        with pytest.raises(UploadError, match="RequestTimeout"):
            await client.upload(content=data_of(5 * MiB))
    assert len(fake.put_sizes) == retry_policy.max_retries + 1
