"""AudioVisual polling: backoff schedule, completion, failure, timeout, cancellation.

The service is an in-memory httpx.MockTransport; sleeps and the clock are fakes,
so nothing waits.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest

from filestack_async import (
    AudioVisual,
    Client,
    ConfigurationError,
    ConversionError,
    Filelink,
    RetryPolicy,
    Security,
)

from ..fakes import FakeTime

HANDLE = "AbCdEfGhIjKlMnOpQrSt"
NEW = "NeWhAnDlEnEwHaNdLe12"
CDN = "https://cdn.filestackcontent.com"
SECURITY = Security({"expiry": 1572390000, "call": ["read", "convert"]}, "SECRET")


class Service:
    """Answers each conversion poll with the next payload of a script."""

    def __init__(self, *statuses: dict[str, Any]) -> None:
        self.script = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        payload = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        body = {"uuid": "u-1", "timestamp": "1522783969", "data": {}, **payload}
        return httpx.Response(200, content=json.dumps(body).encode())


def started() -> dict[str, Any]:
    return {"status": "started"}


def completed() -> dict[str, Any]:
    return {"status": "completed", "data": {"url": f"{CDN}/{NEW}", "duration": 1}}


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake: FakeTime) -> Callable[..., Client]:
    def make(service: Service, random: float = 0.0, **kwargs: Any) -> Client:
        policy = RetryPolicy(sleep=fake.sleep, random=lambda: random)
        return Client("APIKEY", transport=httpx.MockTransport(service), retry=policy, **kwargs)

    return make


@pytest.fixture
async def converting(
    make_client: Callable[..., Client],
) -> AsyncIterator[Callable[[Service], Any]]:
    clients: list[Client] = []

    async def start(service: Service, **kwargs: Any) -> AudioVisual:
        client = make_client(service, **kwargs)
        clients.append(client)
        return await client.filelink(HANDLE).av_convert(preset="h264", width=320)

    yield start
    for client in clients:
        await client.aclose()


async def test_av_convert_returns_uuid_timestamp_and_url(converting: Any) -> None:
    service = Service(started())
    av = await converting(service)
    assert (av.uuid, av.timestamp) == ("u-1", "1522783969")
    assert av.url == f"{CDN}/video_convert=preset:h264,width:320/{HANDLE}"
    assert str(service.requests[0].url) == av.url
    assert av.last_payload is not None and av.last_payload["status"] == "started"
    assert repr(av) == "<AudioVisual uuid='u-1' status='started'>"


async def test_status_asks_again_and_keeps_the_payload(converting: Any) -> None:
    service = Service(started(), {"status": "pending"}, completed())
    av = await converting(service)
    assert await av.status() == "pending"
    assert await av.status() == "completed"
    assert av.last_payload is not None and av.last_payload["data"]["duration"] == 1
    assert len(service.requests) == 3


async def test_backoff_doubles_up_to_the_cap_without_jitter(
    converting: Any, fake: FakeTime
) -> None:
    service = Service(*([started()] * 7), completed())
    av = await converting(service)
    link = await av.wait_until_complete(
        initial_delay=1, max_delay=8, jitter=False, clock=fake.clock
    )
    assert isinstance(link, Filelink) and link.handle == NEW
    assert fake.sleeps == [1, 2, 4, 8, 8, 8]
    assert len(service.requests) == 1 + 7


async def test_jitter_scales_each_wait_by_the_policy_random(
    converting: Any, fake: FakeTime
) -> None:
    service = Service(*([started()] * 4), completed())
    av = await converting(service, random=0.5)
    await av.wait_until_complete(initial_delay=2, max_delay=5, clock=fake.clock)
    assert fake.sleeps == [1.5, 3.0, 3.75]


async def test_timeout_raises_after_the_last_allowed_poll(converting: Any, fake: FakeTime) -> None:
    service = Service(started())
    av = await converting(service)
    with pytest.raises(
        TimeoutError, match=r"u-1 not complete after 10 s \(last status 'started'\)"
    ):
        await av.wait_until_complete(
            timeout=10, initial_delay=1, max_delay=4, jitter=False, clock=fake.clock
        )
    assert fake.sleeps == [1, 2, 4, 3]  # the last wait is cut to the deadline
    assert len(service.requests) == 1 + 5


async def test_failed_conversion_raises_with_the_service_message(
    converting: Any, fake: FakeTime
) -> None:
    service = Service(started(), {"status": "failed", "error": "unsupported codec"})
    av = await converting(service)
    with pytest.raises(ConversionError, match="u-1 failed: unsupported codec") as info:
        await av.wait_until_complete(clock=fake.clock)
    assert info.value.uuid == "u-1" and info.value.status == "failed"


async def test_failure_message_is_found_in_nested_fields(converting: Any) -> None:
    service = Service(started(), {"status": "failed", "data": {"error": {"message": "bad"}}})
    av = await converting(service)
    with pytest.raises(ConversionError, match="failed: bad"):
        await av.to_filelink()


async def test_progress_receives_every_payload_sync_or_async(
    converting: Any, fake: FakeTime
) -> None:
    seen: list[str] = []
    service = Service(started(), started(), completed())
    av = await converting(service)
    await av.wait_until_complete(clock=fake.clock, progress=lambda p: seen.append(p["status"]))
    assert seen == ["started", "completed"]

    async def record(payload: dict[str, Any]) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append("async " + payload["status"])

    await av.wait_until_complete(clock=fake.clock, progress=record)
    assert seen[-1] == "async completed"


async def test_cancellation_stops_polling_promptly(make_client: Callable[..., Client]) -> None:
    service = Service(started())
    polled = anyio.Event()

    async def never(seconds: float) -> None:
        await anyio.Event().wait()  # until cancelled

    client = Client(
        "APIKEY",
        transport=httpx.MockTransport(service),
        retry=RetryPolicy(sleep=never, random=lambda: 0.0),
    )
    async with client:
        av = await client.filelink(HANDLE).av_convert(preset="h264")
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: av.wait_until_complete(progress=lambda _: polled.set()))
            await polled.wait()
            tg.cancel_scope.cancel()
    assert len(service.requests) == 2  # the start, then one poll; nothing after


async def test_to_filelink_needs_a_completed_conversion(converting: Any) -> None:
    service = Service(started(), started(), completed())
    av = await converting(service)
    with pytest.raises(ConversionError, match="not complete yet"):
        await av.to_filelink()
    link = await av.to_filelink()
    assert link.handle == NEW
    assert link.upload_response is not None and link.upload_response["status"] == "completed"


async def test_completed_without_url_is_a_validation_error(converting: Any) -> None:
    from filestack_async import APIResponseValidationError

    service = Service(started(), {"status": "completed", "data": {}})
    av = await converting(service)
    with pytest.raises(APIResponseValidationError, match=r"without data\.url"):
        await av.to_filelink()


async def test_bad_arguments(converting: Any) -> None:
    av = await converting(Service(started()))
    with pytest.raises(ConfigurationError, match="must not be negative"):
        await av.wait_until_complete(timeout=-1)
    with pytest.raises(ConfigurationError, match=r"video_convert: parameter .aspect_mode."):
        await Filelink(HANDLE).av_convert(aspect_mode="stretch")  # type: ignore[arg-type]


async def test_security_signs_start_and_polls_and_carries_to_the_result(
    make_client: Callable[..., Client], fake: FakeTime
) -> None:
    service = Service(started(), completed())
    async with make_client(service, security=SECURITY) as client:
        av = await client.filelink(HANDLE).av_convert(preset="webm")
        link = await av.wait_until_complete(clock=fake.clock)
    signed = f"{CDN}/video_convert=preset:webm/{SECURITY.as_url_string()}/{HANDLE}"
    assert [str(r.url) for r in service.requests] == [signed, signed]
    assert av.url == f"{CDN}/video_convert=preset:webm/{HANDLE}"  # unsigned, as the reference
    assert link.security is SECURITY and link.apikey == "APIKEY"


async def test_an_audiovisual_rebuilt_from_a_saved_url_polls_it_signed() -> None:
    service = Service(completed())
    url = f"{CDN}/KEY/video_convert=preset:h264/https://a.io/v.mp4"
    av = AudioVisual(url, "u-1", "1", security=SECURITY)
    assert av.apikey == "KEY" and av.security is SECURITY
    async with Client("KEY", transport=httpx.MockTransport(service)) as client:
        av = AudioVisual(url, "u-1", "1", security=SECURITY, context=client.context)
        link = await av.to_filelink()
    assert link.handle == NEW
    assert str(service.requests[0].url) == (
        f"{CDN}/KEY/video_convert=preset:h264/{SECURITY.as_url_string()}/https://a.io/v.mp4"
    )
    with pytest.raises(ConfigurationError, match="http\\(s\\) URL"):
        AudioVisual("nope", "u", "t")
