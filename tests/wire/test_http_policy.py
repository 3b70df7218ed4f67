"""Retries, Retry-After, error mapping and redaction (DESIGN.md: Retries, Errors)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
import respx

import filestack_async as fa
from filestack_async import Client, RetryPolicy, Security, Timeouts, _http, _redact

from .conftest import APIKEY, CDN, HANDLE, SECURITY, Sleeps

URL = f"{CDN}/{HANDLE}"


@respx.mock
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(client: Client, sleeps: Sleeps, status: int) -> None:
    route = respx.get(URL).mock(side_effect=[httpx.Response(status), httpx.Response(200)])
    await client.filelink(HANDLE).get_content()
    assert route.call_count == 2
    assert sleeps == [0.375]  # 0.5 s * (0.5 + 0.5 * 0.5)


@respx.mock
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, fa.BadRequestError),
        (401, fa.AuthenticationError),
        (403, fa.PermissionDeniedError),
        (404, fa.NotFoundError),
        (413, fa.PayloadTooLargeError),
    ],
)
async def test_client_errors_are_not_retried(
    client: Client, sleeps: Sleeps, status: int, error: type[fa.APIStatusError]
) -> None:
    route = respx.get(URL).respond(status, json={"error": "nope", "c": "req-123"})
    with pytest.raises(error) as caught:
        await client.filelink(HANDLE).get_content()
    assert route.call_count == 1 and sleeps == []
    assert caught.value.status_code == status
    assert caught.value.request_id == "req-123"
    assert "nope" in str(caught.value) and str(status) in str(caught.value)


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadError("reset"), httpx.RemoteProtocolError("eof")],
)
async def test_transport_errors_are_retried(
    client: Client, sleeps: Sleeps, failure: Exception
) -> None:
    route = respx.get(URL).mock(side_effect=[failure, failure, httpx.Response(200)])
    await client.filelink(HANDLE).get_content()
    assert route.call_count == 3
    assert sleeps == [0.375, 0.75]


@respx.mock
@pytest.mark.parametrize(
    ("timeout", "phase"),
    [
        (httpx.ConnectTimeout, "connect"),
        (httpx.WriteTimeout, "write"),
        (httpx.ReadTimeout, "read"),
        (httpx.PoolTimeout, "pool"),
    ],
)
async def test_a_timeout_says_which_phase_timed_out(
    client: Client, sleeps: Sleeps, timeout: type[httpx.TimeoutException], phase: str
) -> None:
    respx.get(URL).mock(side_effect=timeout("slow"))
    with pytest.raises(fa.APITimeoutError) as caught:
        await client.filelink(HANDLE).get_content()
    assert caught.value.phase == phase


@respx.mock
async def test_retries_run_out_into_typed_errors(client: Client, sleeps: Sleeps) -> None:
    respx.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(fa.APITimeoutError, match="timed out"):
        await client.filelink(HANDLE).get_content()
    assert sleeps == [0.375, 0.75, 1.5, 3.0]  # 4 retries by default

    sleeps.clear()
    respx.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(fa.APIConnectionError, match="ConnectError") as caught:
        await client.filelink(HANDLE).get_content()
    assert not isinstance(caught.value, fa.APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)

    respx.get(URL).respond(503)
    with pytest.raises(fa.InternalServerError):
        await client.filelink(HANDLE).get_content()


@respx.mock
async def test_retry_after_seconds_and_date_are_honoured(client: Client, sleeps: Sleeps) -> None:
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503, headers={"Retry-After": date}),
            httpx.Response(429, headers={"retry-after-ms": "1500"}),
            httpx.Response(200),
        ]
    )
    await client.filelink(HANDLE).get_content()
    assert sleeps[0] == 7
    assert 28 <= sleeps[1] <= 30
    assert sleeps[2] == 1.5


@respx.mock
async def test_retry_after_over_the_cap_is_not_waited(client: Client, sleeps: Sleeps) -> None:
    respx.get(URL).respond(429, headers={"Retry-After": "600"})
    with pytest.raises(fa.RateLimitError) as caught:
        await client.filelink(HANDLE).get_content()
    assert caught.value.retry_after == 600
    assert sleeps == []


@respx.mock
async def test_budget_stops_retrying() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(sleep=sleeps, random=lambda: 0.5, budget=10, max_retries=10)
    respx.get(URL).respond(503, headers={"Retry-After": "4"})
    async with Client(APIKEY, retry=policy) as client:
        with pytest.raises(fa.InternalServerError):
            await client.filelink(HANDLE).get_content()
    assert sleeps == [4, 4]


@respx.mock
async def test_disabled_retries(sleeps: Sleeps) -> None:
    route = respx.get(URL).respond(503)
    async with Client(APIKEY, retry=RetryPolicy.disabled()) as client:
        with pytest.raises(fa.InternalServerError):
            await client.filelink(HANDLE).get_content()
    assert route.call_count == 1


@respx.mock
async def test_process_is_retried_only_without_a_response(client: Client, sleeps: Sleeps) -> None:
    route = respx.post(f"{CDN}/process").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(503)]
    )
    with pytest.raises(fa.InternalServerError):
        await client.upload_url("https://example.com/a.png")
    assert route.call_count == 2 and len(sleeps) == 1


@respx.mock
async def test_errors_never_show_credentials(retry_policy: RetryPolicy) -> None:
    sec = Security({"expiry": 1572390000, "call": ["remove"]}, "TOPSECRET-APP-SECRET")
    apikey = "AKEY-VISIBLE-NOWHERE"
    respx.delete(url__startswith="https://www.filestackapi.com/api/file/").respond(
        403,
        json={
            "error": f"bad policy {sec.policy_b64} sig {sec.signature} key {apikey}",
            "apikey": apikey,
        },
    )
    respx.get(url__startswith=CDN).respond(500, text=f"echo {sec.signature} {apikey}")
    async with Client(apikey, retry=RetryPolicy.disabled(), security=sec) as client:
        link = client.filelink(HANDLE)
        with pytest.raises(fa.PermissionDeniedError) as denied:
            await link.delete()
        with pytest.raises(fa.InternalServerError) as failed:
            await link.get_content()
        with pytest.raises(fa.InternalServerError) as failed_transform:
            await client.filelink(HANDLE).get_content(security=SECURITY)
    for error in (denied.value, failed.value, failed_transform.value):
        text = f"{error} {error!r} {error.url} {error.body}"
        for secret in (
            apikey,
            "TOPSECRET-APP-SECRET",
            sec.signature,
            sec.policy_b64,
            SECURITY.signature,
        ):
            assert secret not in text
    assert "403" in str(denied.value) and "bad policy" in str(denied.value)


@respx.mock
async def test_non_json_error_bodies_are_kept_short(client: Client) -> None:
    respx.get(URL).respond(400, text="<html>" + "x" * 5000 + "</html>")
    with pytest.raises(fa.BadRequestError) as caught:
        await client.filelink(HANDLE).get_content()
    assert len(str(caught.value)) < 500


async def test_a_given_http_client_is_used_and_not_closed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=b"ok")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        async with Client(APIKEY, http_client=http) as client:
            assert await client.filelink(HANDLE).get_content() == b"ok"
        assert client.is_closed
        assert not http.is_closed
    assert seen == [URL]


async def test_transport_argument_and_base_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=str(request.url).encode())

    async with Client(
        APIKEY, transport=httpx.MockTransport(handler), base_url="http://emulator.test"
    ) as client:
        assert (
            await client.filelink(HANDLE).get_content() == f"http://emulator.test/{HANDLE}".encode()
        )


async def test_closed_client_refuses_work() -> None:
    client = Client(APIKEY)
    await client.aclose()
    await client.aclose()  # idempotent
    with pytest.raises(fa.ConfigurationError, match="closed"):
        client.filelink(HANDLE)
    with pytest.raises(fa.ConfigurationError, match="closed"):
        async with client:
            pass


async def test_timeouts_are_sent_per_request() -> None:
    captured: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request.extensions["timeout"])
        return httpx.Response(200)

    async with Client(
        APIKEY, transport=httpx.MockTransport(handler), timeout=Timeouts(1, 2, 3, 4)
    ) as client:
        await client.filelink(HANDLE).get_content()
    assert captured == [{"connect": 1, "read": 2, "write": 3, "pool": 4}]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"apikey": ""}, "apikey"),
        ({"apikey": "K", "storage": "s3"}, "unknown storage"),
        ({"apikey": "K", "timeout": -1}, "positive"),
        ({"apikey": "K", "timeout": "10"}, "Timeouts"),
        ({"apikey": "K", "security": {"expiry": 1}}, "Security object"),
        ({"apikey": "K", "base_url": "nowhere"}, "http"),
    ],
)
def test_client_arguments_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(fa.ConfigurationError, match=message):
        Client(**kwargs)  # type: ignore[arg-type]


def test_client_repr_hides_the_key() -> None:
    client = Client("SUPER-SECRET-KEY")
    assert "SUPER-SECRET-KEY" not in repr(client)


async def test_standalone_filelink_uses_a_short_lived_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock:
        route = respx.get(f"http://emu.test/{HANDLE}").respond(200, content=b"alone")
        monkeypatch.setenv("FILESTACK_BASE_URL", "http://emu.test")
        link = fa.Filelink(HANDLE)
        assert await link.get_content() == b"alone"
        assert await link.get_content() == b"alone"
        assert route.call_count == 2


class _BreaksMidway(httpx.AsyncByteStream):
    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b"partial"
        raise httpx.ReadError("reset while reading")


@respx.mock
async def test_a_body_that_breaks_while_read_is_retried(client: Client, sleeps: Sleeps) -> None:
    route = respx.get(URL).mock(
        side_effect=[
            httpx.Response(200, stream=_BreaksMidway()),
            httpx.Response(200, content=b"whole body"),
        ]
    )
    assert await client.filelink(HANDLE).get_content() == b"whole body"
    assert route.call_count == 2 and len(sleeps) == 1


@respx.mock
@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.StreamClosed(), fa.APIConnectionError),
        (httpx.StreamConsumed(), fa.APIConnectionError),
        (httpx.ResponseNotRead(), fa.APIConnectionError),
        (httpx.InvalidURL("bad host"), fa.APIConnectionError),
        (httpx.TooManyRedirects("loop"), fa.APIConnectionError),
        (httpx.DecodingError("bad gzip"), fa.APIResponseValidationError),
        (httpx.HTTPError("something else"), fa.APIConnectionError),
    ],
)
async def test_every_httpx_error_while_sending_is_typed_and_not_retried(
    client: Client, sleeps: Sleeps, failure: Exception, error: type[fa.APIError]
) -> None:
    # what a transport may raise besides TransportError: none used to be caught
    route = respx.get(URL).mock(side_effect=failure)
    with pytest.raises(error) as caught:
        await client.filelink(HANDLE).get_content()
    assert isinstance(caught.value.__cause__, type(failure))
    assert route.call_count == 1 and sleeps == []


class _FailsMidway(httpx.AsyncByteStream):
    def __init__(self, failure: Exception) -> None:
        self.failure = failure

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b"partial"
        raise self.failure


@respx.mock
@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.DecodingError("bad gzip"), fa.APIResponseValidationError),
        (httpx.StreamClosed(), fa.APIConnectionError),
        (httpx.HTTPError("something else"), fa.APIConnectionError),
        (httpx.ReadTimeout("slow"), fa.APITimeoutError),
    ],
)
async def test_every_httpx_error_while_reading_a_download_is_typed(
    client: Client, tmp_path: Path, failure: Exception, error: type[fa.APIError]
) -> None:
    respx.get(URL).mock(return_value=httpx.Response(200, stream=_FailsMidway(failure)))
    with pytest.raises(error, match="while reading the body"):
        await client.filelink(HANDLE).download(tmp_path / "f")
    assert list(tmp_path.iterdir()) == []


@respx.mock
async def test_a_given_http_client_that_follows_redirects_does_not_follow_api_ones() -> None:
    respx.get(f"{CDN}/{HANDLE}/metadata").respond(302, headers={"Location": "https://evil.test/"})
    evil = respx.get("https://evil.test/").respond(200, json={})
    async with httpx.AsyncClient(follow_redirects=True) as http:
        async with Client(APIKEY, http_client=http, retry=RetryPolicy.disabled()) as client:
            with pytest.raises(fa.APIStatusError) as caught:
                await client.filelink(HANDLE).metadata()
    assert caught.value.status_code == 302 and "evil.test" in str(caught.value)
    assert evil.call_count == 0


@respx.mock
async def test_api_calls_ask_for_the_codings_the_sdk_decodes_itself(client: Client) -> None:
    route = respx.get(f"{CDN}/{HANDLE}/metadata").respond(200, json={"size": 1})
    await client.filelink(HANDLE).metadata()
    assert route.calls.last.request.headers["accept-encoding"] == "gzip, deflate"


async def test_a_url_is_redacted_only_when_a_message_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redacting costs a parse and a rebuild of the URL: a request that succeeds skips it."""
    calls: list[str] = []
    real = _redact.redact_url

    def counting(url: str, secrets: Iterable[str] = ()) -> str:
        calls.append(url)
        return real(url, secrets)

    monkeypatch.setattr(_http, "redact_url", counting)
    answers = iter([httpx.Response(200, json={}), httpx.Response(404, text="gone")])
    transport = httpx.MockTransport(lambda request: next(answers))
    session = _http.HTTPSession(transport=transport, secrets=["SECRETKEY"])
    try:
        url = "https://www.filestackapi.com/api/file/H?key=SECRETKEY"
        response = await session.request("GET", url)
        assert calls == []
        assert "SECRETKEY" not in response.url and calls == [url]
        with pytest.raises(fa.NotFoundError) as info:
            await session.request("GET", url)
        assert "SECRETKEY" not in str(info.value)
    finally:
        await session.aclose()
