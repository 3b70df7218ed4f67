"""Malformed service answers and error statuses, for every call that reads an answer.

A fake service (an httpx ``MockTransport``) answers every request like Filestack,
except the one request a test breaks: an HTML page (200 and 500), truncated JSON,
an empty 200, a JSON array, missing fields, fields of the wrong type, or a
401/403/404/413/429 status. Each call must end with the documented typed error
(docs/errors.md) whose message names the cause, within a generous time limit,
without a secret in the message, and after retrying only what may be retried.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest

from filestack_async import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    Client,
    ConfigurationError,
    Filelink,
    FilestackError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    Security,
    UploadConfig,
    UploadError,
)

from .conftest import Sleeps

SECRET = "malformed-APP-SECRET-c41d7a"
APIKEY = "MalformedApiKey9Zk"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
SECURITY = Security({"expiry": 4102444800}, SECRET)
SECRETS = (SECRET, SECURITY.signature, SECURITY.policy_b64, APIKEY)
CDN = "https://cdn.filestackcontent.com"
STORAGE = "https://s3.fake"
DATA = b"0123456789" * 10
HANG_LIMIT = 30.0

#: An error page that echoes the request's credentials, as some proxies do.
HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    f"<p>upstream failed for key={APIKEY}&policy={SECURITY.policy_b64}"
    f"&signature={SECURITY.signature} secret={SECRET}</p></body></html>"
)


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _json(answer: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=answer)


class Service:
    """Answers like Filestack; ``broken[kind]`` replaces the answer to one kind of request."""

    def __init__(self) -> None:
        self.broken: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.counts: dict[str, int] = {}
        #: a conversion was started (later video_convert requests ask its status)
        self.av_started = False

    def kind(self, request: httpx.Request) -> str:
        path = request.url.path
        if request.url.host == "s3.fake":
            return "put"
        if path.startswith("/multipart/"):
            return path.removeprefix("/multipart/")
        if path.startswith("/api/file/"):
            return "file"
        if path == "/process":
            return "process"
        if path.endswith("/metadata"):
            return "metadata"
        if "video_convert" in path:
            return "av_status" if self.av_started else "av_start"
        for task in ("store", "sfw", "tags", "ocr", "debug"):
            if f"/{task}" in path:
                return task
        return "content"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        kind = self.kind(request)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind in self.broken:
            return self.broken[kind](request)
        return self.answer(kind, request)

    def answer(self, kind: str, request: httpx.Request) -> httpx.Response:
        stored = {"handle": HANDLE, "url": f"{CDN}/{HANDLE}", "size": len(DATA)}
        if kind == "start":
            body = json.loads(request.content)
            answer = {
                "uri": "/bucket/key",
                "region": "us-east-1",
                "upload_id": "UPID",
                "location_url": "upload.filestackapi.com",
            }
            if body.get("fii"):
                answer["upload_type"] = "intelligent_ingestion"
            return _json(answer)
        if kind == "upload":
            body = json.loads(request.content)
            url = f"{STORAGE}/{body['part']}/{body.get('offset', 0)}"
            return _json({"url": url, "headers": {"Content-MD5": body["md5"]}})
        if kind == "put":
            return httpx.Response(200, headers={"ETag": '"etag"'})
        if kind == "commit":
            return _json({})
        if kind in ("complete", "process", "store"):
            return _json(stored)
        if kind == "metadata":
            return _json({"size": len(DATA), "mimetype": "text/plain"})
        if kind == "av_start":
            self.av_started = True
            return _json({"uuid": "conversion-1", "timestamp": "1700000000"})
        if kind == "av_status":
            return _json({"status": "completed", "data": {"url": f"{CDN}/{HANDLE}"}})
        if kind in ("sfw", "tags", "ocr", "debug"):
            return _json({kind: True})
        if kind == "file":
            return httpx.Response(200, text="success")
        return httpx.Response(200, content=DATA)


@dataclass
class World:
    client: Client
    service: Service
    sleeps: Sleeps


@pytest.fixture
async def world() -> AsyncIterator[World]:
    service = Service()
    sleeps = Sleeps()
    policy = RetryPolicy(sleep=sleeps, random=lambda: 0.5)
    transport = httpx.MockTransport(service)
    # multipart for every non-empty file: the table checks each multipart request's answers
    upload = UploadConfig(multipart_threshold=0)
    async with Client(
        APIKEY, security=SECURITY, retry=policy, transport=transport, upload=upload
    ) as client:
        yield World(client, service, sleeps)


async def _av_status(client: Client) -> object:
    conversion = await client.filelink(HANDLE).av_convert(preset="h264")
    return await conversion.status()


async def _av_wait(client: Client) -> object:
    conversion = await client.filelink(HANDLE).av_convert(preset="h264")
    return await conversion.wait_until_complete(timeout=5, initial_delay=0.01)


#: name -> (the request kind whose answer the call reads, the call)
CALLS: dict[str, tuple[str, Callable[[Client], Awaitable[object]]]] = {
    "upload: start": ("start", lambda c: c.upload(content=DATA)),
    "upload: part URL": ("upload", lambda c: c.upload(content=DATA)),
    "upload: complete": ("complete", lambda c: c.upload(content=DATA)),
    "intelligent upload: start": ("start", lambda c: c.upload(content=DATA, intelligent=True)),
    "intelligent upload: chunk URL": (
        "upload",
        lambda c: c.upload(content=DATA, intelligent=True),
    ),
    "intelligent upload: complete": (
        "complete",
        lambda c: c.upload(content=DATA, intelligent=True),
    ),
    "upload_url (/process)": ("process", lambda c: c.upload_url("https://a.io/x.png")),
    "Filelink.metadata": ("metadata", lambda c: c.filelink(HANDLE).metadata()),
    "Transformation.store": ("store", lambda c: c.filelink(HANDLE).resize(width=5).store()),
    "Filelink.av_convert": ("av_start", lambda c: c.filelink(HANDLE).av_convert(preset="h264")),
    "AudioVisual.status": ("av_status", _av_status),
    "AudioVisual.wait_until_complete": ("av_status", _av_wait),
    "Filelink.sfw": ("sfw", lambda c: c.filelink(HANDLE).sfw()),
    "Filelink.tags": ("tags", lambda c: c.filelink(HANDLE).tags()),
    "Filelink.ocr": ("ocr", lambda c: c.filelink(HANDLE).ocr()),
    "Transformation.sfw": ("sfw", lambda c: c.filelink(HANDLE).flip().sfw()),
    "Transformation.debug": ("debug", lambda c: c.filelink(HANDLE).flip().debug()),
}

#: Calls that do not read a JSON answer (for the status matrix only).
PLAIN_CALLS: dict[str, tuple[str, Callable[[Client], Awaitable[object]]]] = {
    "Filelink.get_content": ("content", lambda c: c.filelink(HANDLE).get_content()),
    "Filelink.overwrite": ("file", lambda c: c.filelink(HANDLE).overwrite(content=b"x")),
    "Filelink.delete": ("file", lambda c: c.filelink(HANDLE).delete()),
    "intelligent upload: commit": ("commit", lambda c: c.upload(content=DATA, intelligent=True)),
    "upload: storage PUT": ("put", lambda c: c.upload(content=DATA)),
}


def _wrong_types(kind: str) -> dict[str, Any]:
    """An answer with the right keys holding values of the wrong type."""
    answers: dict[str, dict[str, Any]] = {
        "start": {"uri": 1, "region": ["us"], "upload_id": {}, "location_url": 42},
        "upload": {"url": 17, "headers": ["Content-MD5"]},
        "complete": {"handle": 123, "url": False},
        "process": {"handle": ["AbCdEfGhIjKlMnOpQrSt"], "url": 5},
        "store": {"handle": 7, "url": None},
        "av_start": {"uuid": {"id": 1}, "timestamp": "1"},
        "av_status": {"status": 3, "data": "done"},
    }
    return answers.get(kind, {"unexpected": True})


#: name -> (answer factory, fragment the error chain names)
MALFORMED: dict[str, tuple[Callable[[str], httpx.Response], str]] = {
    "an HTML page with 200": (
        lambda kind: httpx.Response(200, text=HTML, headers={"Content-Type": "text/html"}),
        "not JSON",
    ),
    "truncated JSON (200)": (
        lambda kind: httpx.Response(200, text='{"handle": "AbCdE'),
        "not JSON",
    ),
    "an empty 200": (lambda kind: httpx.Response(200, content=b""), "not JSON"),
    "a JSON array (200)": (lambda kind: httpx.Response(200, json=[1, 2]), "not an object"),
    "a JSON string (200)": (lambda kind: httpx.Response(200, json="ok"), "not an object"),
    "missing fields (200)": (lambda kind: httpx.Response(200, json={}), ""),
    "fields of the wrong type (200)": (
        lambda kind: httpx.Response(200, json=_wrong_types(kind)),
        "",
    ),
}

#: The fields a "missing fields" or "wrong types" error may name, per request kind.
FIELD: dict[str, tuple[str, ...]] = {
    "start": ("uri", "region", "upload_id", "location_url"),
    "upload": ("url",),
    "complete": ("handle",),
    "process": ("handle",),
    "store": ("handle",),
    "av_start": ("uuid",),
    "av_status": ("status",),
}

#: Calls whose answer may be any JSON object (the SDK returns it as sent).
FREE_FORM = {
    "Filelink.metadata",
    "Filelink.sfw",
    "Filelink.tags",
    "Filelink.ocr",
    "Transformation.sfw",
    "Transformation.debug",
}


def chain_of(error: BaseException) -> list[BaseException]:
    """The error and its causes, outermost first (exception groups are opened)."""
    found: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if current in found:
            continue
        found.append(current)
        grouped = getattr(current, "exceptions", None)  # an exception group
        if isinstance(grouped, tuple):
            pending.extend(e for e in grouped if isinstance(e, BaseException))
        linked = current.__cause__
        if linked is None and not current.__suppress_context__:
            linked = current.__context__  # shown by tracebacks unless suppressed
        if linked is not None:
            pending.append(linked)
    return found


def assert_no_secret(error: BaseException, records: list[logging.LogRecord]) -> None:
    texts: list[str] = []
    for item in chain_of(error):
        texts += [str(item), repr(item), repr(item.args)]
        if isinstance(item, FilestackError):
            texts += [str(value) for value in vars(item).values()]
    texts += [record.getMessage() for record in records]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"a secret leaked into: {text[:300]}"


async def run(world: World, call: Callable[[Client], Awaitable[object]]) -> BaseException:
    """Await the call (within the hang limit) and return what it raised."""
    with pytest.raises(Exception) as info:
        with anyio.fail_after(HANG_LIMIT):
            await call(world.client)
    return info.value


def assert_typed(error: BaseException, allowed: tuple[type[BaseException], ...]) -> None:
    """The error is one the docs promise for this call."""
    assert isinstance(error, allowed), f"{type(error).__name__}: {error}"


def _expect_for_malformed(name: str) -> tuple[type[BaseException], ...]:
    # after /multipart/start succeeded, failures are UploadErrors carrying progress
    if name.startswith(("upload:", "intelligent upload:")) and not name.endswith("start"):
        return (UploadError,)
    return (APIResponseValidationError,)


@pytest.mark.parametrize("shape", list(MALFORMED))
@pytest.mark.parametrize("name", list(CALLS))
async def test_malformed_answer(
    world: World, name: str, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    kind, call = CALLS[name]
    answer, fragment = MALFORMED[shape]
    if name in FREE_FORM and shape in ("missing fields (200)", "fields of the wrong type (200)"):
        world.service.broken[kind] = lambda request: answer(kind)
        with anyio.fail_after(HANG_LIMIT):
            result = await call(world.client)
        assert isinstance(result, dict)  # returned as the service sent it
        return
    caplog.set_level(logging.DEBUG)
    world.service.broken[kind] = lambda request: answer(kind)
    error = await run(world, call)
    assert_typed(error, _expect_for_malformed(name))
    validation = [e for e in chain_of(error) if isinstance(e, APIResponseValidationError)]
    assert validation, f"no APIResponseValidationError behind {error!r}"
    names = (fragment,) if fragment else FIELD[kind]
    assert any(name in str(validation[0]) for name in names), str(validation[0])
    assert_no_secret(error, caplog.records)


async def test_html_error_page_500_is_an_internal_server_error_retried_then_raised(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world.service.broken["metadata"] = lambda r: httpx.Response(
        500, text=HTML, headers={"Content-Type": "text/html"}
    )
    error = await run(world, lambda c: c.filelink(HANDLE).metadata())
    assert type(error) is InternalServerError
    assert error.status_code == 500
    assert "Bad Gateway" in str(error)
    assert world.service.counts["metadata"] == 5  # 1 + max_retries
    assert_no_secret(error, caplog.records)


@pytest.mark.parametrize("name", list(CALLS) + list(PLAIN_CALLS))
async def test_html_500_for_every_call(
    world: World, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    kind, call = {**CALLS, **PLAIN_CALLS}[name]
    caplog.set_level(logging.DEBUG)
    world.service.broken[kind] = lambda r: httpx.Response(500, text=HTML)
    error = await run(world, call)
    statuses = [e for e in chain_of(error) if isinstance(e, APIStatusError)]
    assert statuses and type(statuses[0]) is InternalServerError, repr(error)
    assert isinstance(error, (InternalServerError, UploadError))
    assert_no_secret(error, caplog.records)


STATUSES: dict[int, type[APIStatusError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


@pytest.mark.parametrize("status", list(STATUSES))
@pytest.mark.parametrize("name", list(CALLS) + list(PLAIN_CALLS))
async def test_error_statuses(
    world: World, name: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    kind, call = {**CALLS, **PLAIN_CALLS}[name]
    caplog.set_level(logging.DEBUG)
    world.service.broken[kind] = lambda r: httpx.Response(
        status, json={"error": f"status {status} for {kind}", "signature": SECURITY.signature}
    )
    error = await run(world, call)
    statuses = [e for e in chain_of(error) if isinstance(e, APIStatusError)]
    assert statuses, repr(error)
    assert type(statuses[0]) is STATUSES[status]
    assert statuses[0].status_code == status
    assert f"status {status} for {kind}" in str(statuses[0])
    if kind in ("start",):
        assert type(error) is STATUSES[status]  # nothing started: not an UploadError
    assert_no_secret(error, caplog.records)


async def test_429_without_retry_after_backs_off_then_raises(world: World) -> None:
    world.service.broken["metadata"] = lambda r: httpx.Response(429, text="slow down")
    error = await run(world, lambda c: c.filelink(HANDLE).metadata())
    assert type(error) is RateLimitError
    assert error.retry_after is None
    assert world.service.counts["metadata"] == 5
    assert world.sleeps == [0.375, 0.75, 1.5, 3.0]  # backoff, random factor 0.75


async def test_429_with_retry_after_waits_as_told_then_raises(world: World) -> None:
    world.service.broken["sfw"] = lambda r: httpx.Response(
        429, text="slow down", headers={"Retry-After": "7"}
    )
    error = await run(world, lambda c: c.filelink(HANDLE).sfw())
    assert type(error) is RateLimitError
    assert error.retry_after == 7
    assert world.sleeps == [7, 7, 7, 7]


async def test_429_with_a_long_retry_after_is_not_waited_for(world: World) -> None:
    world.service.broken["metadata"] = lambda r: httpx.Response(
        429, headers={"Retry-After": "3600"}
    )
    error = await run(world, lambda c: c.filelink(HANDLE).metadata())
    assert type(error) is RateLimitError
    assert error.retry_after == 3600
    assert world.sleeps == []
    assert world.service.counts["metadata"] == 1


async def test_429_then_success_is_retried(world: World) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"})])
    world.service.broken["metadata"] = lambda r: next(
        answers, httpx.Response(200, json={"size": 1})
    )
    assert await world.client.filelink(HANDLE).metadata() == {"size": 1}
    assert world.sleeps == [1]


async def test_process_429_is_not_retried(world: World) -> None:
    """/process is not idempotent: an answered 429 is raised at once."""
    world.service.broken["process"] = lambda r: httpx.Response(429, headers={"Retry-After": "1"})
    error = await run(world, lambda c: c.upload_url("https://a.io/x.png"))
    assert type(error) is RateLimitError
    assert world.service.counts["process"] == 1


async def test_a_garbage_commit_answer_is_ignored(world: World) -> None:
    """The commit answer carries nothing the SDK needs, so any 200 body is fine."""
    world.service.broken["commit"] = lambda r: httpx.Response(200, text="<html>ok</html>")
    link = await world.client.upload(content=DATA, intelligent=True)
    assert link.handle == HANDLE


async def test_a_non_handle_in_a_store_answer_is_a_validation_error(world: World) -> None:
    world.service.broken["store"] = lambda r: _json({"handle": "not a handle!", "url": ""})
    error = await run(world, lambda c: c.filelink(HANDLE).flip().store())
    assert type(error) is APIResponseValidationError
    assert "the store answer has no usable handle" in str(error)


async def test_a_non_handle_in_a_completed_conversion_is_a_validation_error(
    world: World,
) -> None:
    world.service.broken["av_status"] = lambda r: _json(
        {"status": "completed", "data": {"url": f"{CDN}/not-a-handle"}}
    )
    error = await run(world, _av_wait)
    assert type(error) is APIResponseValidationError
    assert "data.url has no usable handle" in str(error)


async def test_a_standalone_filelink_maps_statuses_too() -> None:
    """A Filelink made on its own (no client) goes through the same error mapping."""
    link = Filelink(HANDLE)
    assert link.url == f"{CDN}/{HANDLE}"
    service = Service()
    service.broken["metadata"] = lambda r: httpx.Response(404, text="no such file")
    transport = httpx.MockTransport(service)
    async with Client(APIKEY, transport=transport) as client:
        error = await run(World(client, service, Sleeps()), lambda c: c.filelink(HANDLE).metadata())
    assert type(error) is NotFoundError
    assert "no such file" in str(error)


async def test_a_sleep_that_is_not_async_is_a_configuration_error() -> None:
    """A RetryPolicy.sleep returning no awaitable is named when the first retry waits."""
    service = Service()
    service.broken["metadata"] = lambda r: httpx.Response(503)
    policy = RetryPolicy(sleep=lambda seconds: None)  # type: ignore[arg-type,return-value]
    async with Client(APIKEY, retry=policy, transport=httpx.MockTransport(service)) as client:
        error = await run(World(client, service, Sleeps()), lambda c: c.filelink(HANDLE).metadata())
    assert type(error) is ConfigurationError
    assert "RetryPolicy.sleep must be an async callable" in str(error)
    assert service.counts["metadata"] == 1


async def test_start_fields_of_the_wrong_type_with_a_usable_location(world: World) -> None:
    world.service.broken["start"] = lambda r: _json(
        {"uri": 1, "region": ["us"], "upload_id": {}, "location_url": "upload.filestackapi.com"}
    )
    error = await run(world, lambda c: c.upload(content=DATA))
    assert type(error) is APIResponseValidationError


async def test_a_part_url_httpx_cannot_send_is_a_typed_error(world: World) -> None:
    """A URL httpx refuses to build (a control character) never leaks httpx.InvalidURL."""
    world.service.broken["upload"] = lambda r: _json(
        {"url": f"{STORAGE}/1/0\x00", "headers": {"Content-MD5": "x"}}
    )
    error = await run(world, lambda c: c.upload(content=DATA))
    assert type(error) is UploadError
    chain = chain_of(error)
    assert any(
        isinstance(e, APIResponseValidationError)
        and "/multipart/upload answered without a usable url" in str(e)
        for e in chain
    ), [str(e) for e in chain]
    assert not any(
        isinstance(e, httpx.HTTPError | httpx.InvalidURL | ConfigurationError) for e in chain
    )
