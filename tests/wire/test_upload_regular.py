"""Every request of a regular multipart upload (filestack-protocol.md §3), field by field."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from filestack_async import (
    APIResponseValidationError,
    Client,
    InternalServerError,
    RetryPolicy,
    Security,
    UploadError,
    UploadIncompleteError,
)

from ._upload_fake import HANDLE, LOCATION, STORAGE, UPLOAD, FakeUploadAPI, md5_b64
from .conftest import APIKEY, MULTIPART, POLICY, SECURITY, SIGNATURE, Sleeps

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]

MiB = 1024 * 1024
MULTIPART_5 = replace(MULTIPART, part_size=5 * MiB)
FILESTACK_HEADERS = ("Filestack-Source", "Filestack-Trace-Id", "Filestack-Trace-Span")


def data_of(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def fake() -> FakeUploadAPI:
    return FakeUploadAPI()


@pytest.fixture
async def small_parts(retry_policy: RetryPolicy) -> AsyncIterator[Client]:
    async with Client(APIKEY, retry=retry_policy, upload=MULTIPART_5) as c:
        yield c


@respx.mock
async def test_every_request_of_a_regular_upload(
    fake: FakeUploadAPI, retry_policy: RetryPolicy, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    data = data_of(12 * MiB + 7)
    path = tmp_path / "movie.mp4"
    path.write_bytes(data)
    store_params = {
        "path": "videos/",
        "container": "bkt",
        "region": "us-west-2",
        "access": "public",
        "workflows": ["wf1", "wf2"],
        "upload_tags": {"k": "v"},
    }
    async with Client(
        APIKEY,
        storage="gcs",
        security=SECURITY,
        retry=retry_policy,
        upload=MULTIPART_5,
    ) as client:
        link = await client.upload(filepath=path, store_params=store_params)

    start_body: dict[str, Any] = {
        "apikey": APIKEY,
        "filename": "movie.mp4",
        "mimetype": "video/mp4",
        "size": len(data),
        "store": {
            "location": "gcs",
            "path": "videos/",
            "region": "us-west-2",
            "container": "bkt",
            "access": "public",
        },
        "policy": POLICY,
        "signature": SIGNATURE,
    }
    (start,) = fake.of("start")
    assert str(start.url) == f"{UPLOAD}/multipart/start"
    assert json.loads(start.content) == start_body
    assert "Filestack-Upload-Region" not in start.headers
    assert start.headers["Content-Type"] == "application/json"

    slices = [(1, 0, 5 * MiB), (2, 5 * MiB, 5 * MiB), (3, 10 * MiB, 2 * MiB + 7)]
    uploads = sorted(fake.bodies("upload"), key=lambda b: b["part"])
    assert uploads == [
        {
            "apikey": APIKEY,
            "uri": "/bucket/key/file",
            "region": "us-east-1",
            "upload_id": "UPID",
            "store": {"location": "gcs"},
            "part": number,
            "size": size,
            "md5": md5_b64(data[offset : offset + size]),
            "policy": POLICY,
            "signature": SIGNATURE,
        }
        for number, offset, size in slices
    ]
    for request in fake.of("upload"):
        assert str(request.url) == f"https://{LOCATION}/multipart/upload"
        assert request.headers["Filestack-Upload-Region"] == "eu-west-1"
        assert "Filestack-Trace-Id" in request.headers

    puts = sorted(fake.of("put"), key=lambda r: str(r.url))
    assert [str(r.url) for r in puts] == [
        f"{STORAGE}/UPID/{n}/0?X-Amz-Signature=SIGNED" for n, _, _ in slices
    ]
    for request, (number, offset, size) in zip(puts, slices, strict=True):
        assert request.content == data[offset : offset + size]
        assert request.headers["Authorization"] == f"AWS4-HMAC-SHA256 part={number}"
        assert request.headers["Content-MD5"] == md5_b64(data[offset : offset + size])
        assert request.headers["x-amz-date"] == "20240101T000000Z"
        assert request.headers["Content-Length"] == str(size)
        for name in (*FILESTACK_HEADERS, "Filestack-Upload-Region", "Content-Type"):
            assert name not in request.headers

    (complete,) = fake.of("complete")
    assert str(complete.url) == f"https://{LOCATION}/multipart/complete"
    assert complete.headers["Filestack-Upload-Region"] == "eu-west-1"
    assert json.loads(complete.content) == {
        **start_body,
        "store": {**start_body["store"], "workflows": ["wf1", "wf2"]},
        "uri": "/bucket/key/file",
        "region": "us-east-1",
        "upload_id": "UPID",
        "location_region": "eu-west-1",
        "upload_type": "regular",
        "parts": [{"part_number": n, "etag": f'"etag-{n}-0"'} for n, _, _ in slices],
        "upload_tags": {"k": "v"},
    }
    assert fake.of("commit") == []
    assert fake.assembled() == data
    assert link.handle == HANDLE
    assert link.security == SECURITY
    assert link.upload_response is not None and link.upload_response["status"] == "Stored"


@respx.mock
async def test_per_call_security_wins_and_is_kept_on_the_filelink(
    fake: FakeUploadAPI, retry_policy: RetryPolicy
) -> None:
    fake.install(respx.mock)
    other = Security({"expiry": 1655992432, "call": ["write"]}, "another-secret")
    async with Client(APIKEY, security=SECURITY, retry=retry_policy, upload=MULTIPART) as client:
        link = await client.upload(content=b"hello world!", security=other)
    for kind in ("start", "upload", "complete"):
        for body in fake.bodies(kind):
            assert body["policy"] == other.policy_b64
            assert body["signature"] == other.signature
    assert link.security == other


@respx.mock
async def test_without_security_no_policy_is_sent_and_defaults_apply(
    fake: FakeUploadAPI, client: Client
) -> None:
    fake.location_region = None
    fake.install(respx.mock)
    link = await client.upload(content=b"hello world!")
    (start,) = fake.bodies("start")
    assert start == {
        "apikey": APIKEY,
        "filename": "unnamed_file",
        "mimetype": "application/octet-stream",
        "size": 12,
        "store": {"location": "S3"},
    }
    (upload,) = fake.bodies("upload")
    assert upload["md5"] == "/D/5joxqDTCH1RXARz+Gdw=="
    assert upload["size"] == 12 and upload["part"] == 1
    for kind in ("upload", "complete"):
        for request in fake.of(kind):
            assert "Filestack-Upload-Region" not in request.headers
            assert "policy" not in json.loads(request.content)
    (complete,) = fake.bodies("complete")
    assert "upload_tags" not in complete and "workflows" not in complete["store"]
    assert link.security is None


@respx.mock
async def test_store_params_name_type_and_location(fake: FakeUploadAPI, client: Client) -> None:
    fake.install(respx.mock)
    await client.upload(
        content=b"x",
        store_params={"filename": "n.txt", "mimetype": "text/x-custom", "location": "azure"},
    )
    (start,) = fake.bodies("start")
    assert start["filename"] == "n.txt"
    assert start["mimetype"] == "text/x-custom"
    assert start["store"] == {"location": "azure"}
    (upload,) = fake.bodies("upload")
    assert upload["store"] == {"location": "S3"}  # the client's storage, per the reference


@respx.mock
async def test_mimetype_is_guessed_from_the_path(
    fake: FakeUploadAPI, client: Client, tmp_path: Path
) -> None:
    fake.install(respx.mock)
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG....")
    await client.upload(filepath=str(path))
    (start,) = fake.bodies("start")
    assert (start["filename"], start["mimetype"]) == ("photo.png", "image/png")


@respx.mock
async def test_location_url_that_is_a_full_url_is_used_as_is(client: Client) -> None:
    fake = FakeUploadAPI(location_url="http://uploads.example.test:8080")
    fake.install(respx.mock)
    await client.upload(content=b"abc")
    assert str(fake.of("upload")[0].url) == "http://uploads.example.test:8080/multipart/upload"
    assert str(fake.of("complete")[0].url) == "http://uploads.example.test:8080/multipart/complete"


@pytest.mark.parametrize("missing", ["uri", "region", "upload_id", "location_url"])
@respx.mock
async def test_start_answer_without_a_required_field(missing: str, client: Client) -> None:
    answer = {"uri": "/u", "region": "r", "upload_id": "U", "location_url": LOCATION}
    del answer[missing]
    respx.post(f"{UPLOAD}/multipart/start").respond(200, json=answer)
    with pytest.raises(APIResponseValidationError, match=missing):
        await client.upload(content=b"abc")
    assert len(respx.calls) == 1


@respx.mock
async def test_start_is_not_retried_once_a_response_arrived(
    fake: FakeUploadAPI, client: Client, sleeps: Sleeps
) -> None:
    fake.install(respx.mock)
    fake.inject("start", 500)
    with pytest.raises(InternalServerError):
        await client.upload(content=b"abc")
    assert len(fake.of("start")) == 1 and sleeps == []
    assert fake.of("upload") == []


@respx.mock
async def test_start_is_retried_when_no_response_arrived(
    fake: FakeUploadAPI, client: Client, sleeps: Sleeps
) -> None:
    fake.install(respx.mock)
    fake.inject("start", httpx.ConnectError, httpx.ReadTimeout)
    link = await client.upload(content=b"abc")
    assert link.handle == HANDLE
    assert len(fake.of("start")) == 3 and sleeps == [0.375, 0.75]


@respx.mock
async def test_complete_202_is_polled_with_backoff(
    fake: FakeUploadAPI, client: Client, sleeps: Sleeps
) -> None:
    fake.complete_202s = 2
    fake.install(respx.mock)
    link = await client.upload(content=b"abc")
    bodies = fake.bodies("complete")
    assert len(bodies) == 3 and bodies[0] == bodies[1] == bodies[2]
    assert sleeps == [0.375, 0.75]  # min(8, 0.5 * 2**n) * (0.5 + 0.5 * 0.5)
    assert link.handle == HANDLE


@respx.mock
async def test_complete_202_honours_retry_after(
    fake: FakeUploadAPI, client: Client, sleeps: Sleeps
) -> None:
    fake.install(respx.mock)
    fake.inject("complete", lambda r: httpx.Response(202, headers={"Retry-After": "3"}, json={}))
    await client.upload(content=b"abc")
    assert sleeps == [3.0]


@respx.mock
async def test_complete_202_past_its_budget(fake: FakeUploadAPI, sleeps: Sleeps) -> None:
    fake.complete_202s = 1000
    fake.install(respx.mock)
    policy = RetryPolicy(sleep=sleeps, random=lambda: 0.5)
    async with Client(
        APIKEY, retry=policy, upload=replace(MULTIPART, complete_budget=10)
    ) as client:
        with pytest.raises(UploadIncompleteError) as info:
            await client.upload(content=b"abc")
    assert info.value.upload_id == "UPID"
    assert info.value.parts_done == info.value.parts_total == 1
    assert info.value.bytes_sent == 3
    assert sum(sleeps) <= 10
    assert len(fake.of("complete")) == len(sleeps) + 1


@respx.mock
async def test_a_put_without_etag_fails_the_upload(fake: FakeUploadAPI, client: Client) -> None:
    fake.install(respx.mock)
    fake.inject("put", lambda r: httpx.Response(200))
    with pytest.raises(UploadError, match="without an ETag") as info:
        await client.upload(content=b"abc")
    assert isinstance(info.value.__cause__, BaseExceptionGroup)
    assert isinstance(info.value.__cause__.exceptions[0], APIResponseValidationError)
    assert fake.of("complete") == []


@respx.mock
async def test_complete_without_handle_is_an_upload_error(client: Client) -> None:
    fake = FakeUploadAPI()
    fake.install(respx.mock)
    fake.inject("complete", lambda r: httpx.Response(200, json={"status": "Stored"}))
    with pytest.raises(UploadError, match="handle") as info:
        await client.upload(content=b"abc")
    assert isinstance(info.value.__cause__, APIResponseValidationError)
    assert info.value.upload_id == "UPID"


@respx.mock
async def test_alt_text_and_workflow_dicts_go_on_complete(
    fake: FakeUploadAPI, retry_policy: RetryPolicy
) -> None:
    fake.install(respx.mock)
    params = {"alt": "a red bicycle", "workflows": ["w1", {"id": "w2"}]}
    # a small file with alt text goes multipart: /api/store takes no alt
    async with Client(APIKEY, retry=retry_policy) as client:
        await client.upload(content=b"tiny", store_params=params)
    complete = fake.bodies("complete")[0]
    assert complete["alt"] == "a red bicycle"
    assert complete["store"]["workflows"] == ["w1", {"id": "w2"}]
    assert "alt" not in fake.bodies("start")[0]
    assert fake.assembled() == b"tiny"
