"""S3's XML error answers on part and chunk PUTs, and what each one makes the upload do."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from filestack_async import Client, PartUploadError, RetryPolicy, UploadConfig, UploadError

from ._upload_fake import FakeUploadAPI
from .conftest import APIKEY

MiB = 1024 * 1024


def s3_error(
    status: int, code: str, message: str = ""
) -> Callable[[httpx.Request], httpx.Response]:
    """An injected answer the way S3 gives it: an XML ``Error`` document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>"
    )
    return lambda _: httpx.Response(status, text=body, headers={"Content-Type": "application/xml"})


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


def data_of(size: int) -> bytes:
    return random.Random(13).randbytes(size)


@pytest.fixture
def fake() -> FakeUploadAPI:
    return FakeUploadAPI()


@pytest.fixture
def make_client(retry_policy: RetryPolicy) -> Any:
    def make(**kwargs: Any) -> Client:
        config = UploadConfig(**{"concurrency": 1, "multipart_threshold": 0, **kwargs})
        return Client(APIKEY, retry=retry_policy, upload=config)

    return make


# -- intelligent ingestion ---------------------------------------------------------------


@pytest.mark.parametrize(("status", "code", "message"), SLOW_LINK)
@respx.mock
async def test_a_slow_link_answer_halves_the_chunk(
    fake: FakeUploadAPI, make_client: Any, status: int, code: str, message: str
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(status, code, message))
    data = data_of(2 * MiB)
    async with make_client(intelligent_chunk_size=2 * MiB) as client:
        await client.upload(content=data, intelligent=True)
    assert fake.put_sizes == [(1, 0, 2 * MiB), (1, 0, MiB), (1, MiB, MiB)]
    assert fake.assembled() == data


@pytest.mark.parametrize(("status", "code", "message"), STALE_URL)
@respx.mock
async def test_a_stale_url_answer_gets_a_fresh_url_for_the_same_chunk(
    fake: FakeUploadAPI, make_client: Any, status: int, code: str, message: str
) -> None:
    fake.install(respx.mock)
    fake.inject("put", s3_error(status, code, message))
    data = data_of(2 * MiB)
    async with make_client(intelligent_chunk_size=2 * MiB) as client:
        await client.upload(content=data, intelligent=True)
    assert fake.put_sizes == [(1, 0, 2 * MiB), (1, 0, 2 * MiB)]
    uploads = fake.bodies("upload")
    assert [(b["part"], b["offset"], b["size"]) for b in uploads] == [(1, 0, 2 * MiB)] * 2
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
