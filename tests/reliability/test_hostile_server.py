"""The hostile-server campaign (issue 14): the SDK against a server that tries to hurt it.

Every case runs over a real loopback socket (`hostile.HostileServer`): redirects
that would carry the credentials to another host, gzip bombs, endless and trickling
bodies, answers that make httpx (or the JSON parser) raise something untyped, and
secrets in the debug logs of every logger. Clients come from the ``make_client``
fixture, so the same cases run on whichever transport it is given.
"""

from __future__ import annotations

import gzip
import itertools
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import filestack_async as fa
from filestack_async import Client, RetryPolicy, Security, Timeouts, UploadConfig
from filestack_async._http import MAX_REDIRECTS, Kind
from filestack_async.emulator import EmulatorServer

from .hostile import (
    HostileServer,
    Received,
    answer,
    chunked,
    delayed,
    gzip_bomb,
    head,
    redirect,
    trickle,
)

APIKEY = "HostileApiKey8Zq2x"
SECRET = "hostile-APP-SECRET-93c1d"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
SECURITY = Security(
    {
        "expiry": 4102444800,
        "call": ["pick", "read", "stat", "write", "store", "convert", "remove"],
    },
    SECRET,
)
#: must never reach another host, a message or a log record
SECRETS = (APIKEY, SECRET, SECURITY.signature, SECURITY.policy_b64)
#: a signature of any policy (signed_url may sign one of its own) in a URL
SIGNATURE_IN_URL = re.compile(r"(s:|signature=)[0-9a-f]{64}")
MiB = 1024 * 1024
JSON = {"Content-Type": "application/json"}

ClientFactory = Callable[..., Client]


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """The server the client is pointed at (CDN, File API and Upload API)."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def elsewhere() -> Iterator[HostileServer]:
    """Another origin (another port): what a redirect may lure credentials to."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def make_client(hostile: HostileServer) -> ClientFactory:
    """A secured client on ``hostile``, no retries; keyword arguments go to `Client`.

    This is the one place clients are made: run the campaign on another transport
    by giving it here (``transport=``/``http_client=``).
    """

    def make(**options: Any) -> Client:
        options.setdefault("retry", RetryPolicy.disabled())
        options.setdefault("security", SECURITY)
        return Client(APIKEY, base_url=hostile.url, **options)

    return make


def assert_no_credentials(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "security=" not in text
    assert not SIGNATURE_IN_URL.search(text)
    assert "policy=" not in text


def assert_clean_error(error: BaseException) -> None:
    text = f"{error} {error!r} {getattr(error, 'url', '')} {getattr(error, 'body', '')}"
    for secret in SECRETS:
        assert secret not in text


async def eventually(condition: Callable[[], bool]) -> bool:
    """Poll ``condition`` (the server runs in its own threads) for a few seconds."""
    for _ in range(200):
        if condition():
            return True
        await anyio.sleep(0.05)
    return condition()


# -- redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "threshold"),
    [("/multipart/start", 0), ("/api/store/S3", 8 * 1024 * 1024)],
    ids=["multipart", "one-request"],
)
async def test_an_upload_api_redirect_to_another_host_is_not_followed(
    hostile: HostileServer,
    elsewhere: HostileServer,
    make_client: ClientFactory,
    route: str,
    threshold: int,
) -> None:
    hostile.route(route, redirect(307, f"{elsewhere.url}{route}"))
    async with make_client(upload=UploadConfig(multipart_threshold=threshold)) as client:
        with pytest.raises(fa.APIStatusError) as caught:
            await client.upload(content=b"hello")
    assert caught.value.status_code == 307
    assert "not followed" in str(caught.value)
    assert elsewhere.received == []
    assert_clean_error(caught.value)


async def test_an_overwrite_from_a_file_is_not_redirected(
    hostile: HostileServer, elsewhere: HostileServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    # httpx followed the 307 and raised StreamConsumed re-sending the file's stream
    source = tmp_path / "new.bin"
    source.write_bytes(b"new content")
    hostile.route(f"/api/file/{HANDLE}", redirect(307, f"{elsewhere.url}/api/file/{HANDLE}"))
    async with make_client() as client:
        with pytest.raises(fa.APIStatusError) as caught:
            await client.filelink(HANDLE).overwrite(filepath=source)
    assert caught.value.status_code == 307
    assert elsewhere.received == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_metadata_redirect_is_an_error_status(
    hostile: HostileServer, elsewhere: HostileServer, make_client: ClientFactory, status: int
) -> None:
    hostile.route(f"/{HANDLE}/metadata", redirect(status, f"{elsewhere.url}/{HANDLE}/metadata"))
    async with make_client() as client:
        with pytest.raises(fa.APIStatusError) as caught:
            await client.filelink(HANDLE).metadata()
    assert caught.value.status_code == status
    assert elsewhere.received == []


async def test_a_download_redirect_to_another_host_drops_the_credentials(
    hostile: HostileServer, elsewhere: HostileServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    def luring(request: Received) -> str:
        # echo the signed path, and add every credential the client has, as a query
        query = f"policy={SECURITY.policy_b64}&signature={SECURITY.signature}&key={APIKEY}"
        return f"{elsewhere.url}{request.target}?{query}&dl=true"

    hostile.route("/", redirect(302, luring))
    elsewhere.route("/", answer(200, b"the body, from elsewhere"))
    async with make_client() as client:
        link = client.filelink(HANDLE)
        assert await link.get_content() == b"the body, from elsewhere"
        assert await link.download(tmp_path / "f") == len(b"the body, from elsewhere")
        chain = link.resize(width=10)
        assert await chain.get_content() == b"the body, from elsewhere"
    assert "security=" in hostile.text_received()  # the signed request went to its host
    assert [r.target for r in elsewhere.received[:2]] == [f"/{HANDLE}?dl=true"] * 2
    assert len(elsewhere.received) == 3
    assert_no_credentials(elsewhere.text_received())


async def test_a_same_origin_download_redirect_keeps_the_signed_url(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    hostile.route("/moved/", answer(200, b"same origin"))
    hostile.route("/", redirect(302, lambda r: f"/moved{r.target}"))
    async with make_client() as client:
        assert await client.filelink(HANDLE).get_content() == b"same origin"
    moved = [r for r in hostile.received if r.target.startswith("/moved/")]
    assert len(moved) == 1 and "/security=" in moved[0].target


async def test_a_redirect_loop_is_a_typed_error(
    hostile: HostileServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    # httpx raised its own TooManyRedirects after 20 hops
    hostile.route("/", redirect(302, lambda r: r.target))
    async with make_client() as client:
        with pytest.raises(fa.APIConnectionError, match="redirected more than") as caught:
            await client.filelink(HANDLE).get_content()
        assert len(hostile.received) == MAX_REDIRECTS + 1
        with pytest.raises(fa.APIConnectionError, match="redirected more than"):
            await client.filelink(HANDLE).download(tmp_path / "f")
    assert not (tmp_path / "f").exists()
    assert_clean_error(caught.value)


@pytest.mark.parametrize("location", ["http://[::1", "ftp://127.0.0.1/file", "http://:0/x"])
async def test_a_redirect_to_an_unusable_location_is_a_typed_error(
    hostile: HostileServer, make_client: ClientFactory, location: str
) -> None:
    hostile.route("/", redirect(302, location))
    async with make_client() as client:
        with pytest.raises(fa.APIConnectionError):
            await client.filelink(HANDLE).get_content()


async def test_a_redirect_that_still_carries_a_secret_is_refused(
    hostile: HostileServer, elsewhere: HostileServer, make_client: ClientFactory
) -> None:
    # the API key in a path segment (the external-URL form) is no query value to strip
    hostile.route("/", redirect(302, f"{elsewhere.url}/{APIKEY}/resize=w:10/{HANDLE}"))
    async with make_client() as client:
        with pytest.raises(fa.APIConnectionError, match="not followed") as caught:
            await client.filelink(HANDLE).get_content()
    assert elsewhere.received == []
    assert_clean_error(caught.value)


# -- unbounded answers ------------------------------------------------------------------


async def test_a_gzip_bomb_stops_at_the_cap(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    # 64 MiB of valid JSON in about 64 KiB of gzip: inflated whole before
    bomb = gzip_bomb(64 * MiB)
    assert len(bomb) < 1 * MiB
    hostile.route(f"/{HANDLE}/metadata", answer(200, bomb, {"Content-Encoding": "gzip", **JSON}))
    async with make_client() as client:
        with pytest.raises(fa.APIResponseValidationError, match="max_answer_bytes") as caught:
            await client.filelink(HANDLE).metadata()
    assert "once decoded" in str(caught.value)


async def test_a_gzip_bomb_in_an_error_body_keeps_a_preview_only(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    bomb = gzip_bomb(64 * MiB)
    hostile.route(f"/{HANDLE}/metadata", answer(500, bomb, {"Content-Encoding": "gzip"}))
    async with make_client() as client:
        with pytest.raises(fa.InternalServerError) as caught:
            await client.filelink(HANDLE).metadata()
    assert len(caught.value.body) < 1000 and caught.value.body.startswith('{"x": "000')


def _endless_json() -> Iterator[bytes]:
    # 64 MiB before it ends (so the unfixed client ends too, and fails the test)
    yield b'{"x": "'
    yield from itertools.repeat(b"a" * 65536, 1024)
    yield b'"}'


async def test_an_endless_answer_is_cut_off_at_the_cap(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    hostile.route(f"/{HANDLE}/metadata", chunked(_endless_json, headers=JSON))
    async with make_client(timeout=Timeouts(max_answer_bytes=256 * 1024)) as client:
        with pytest.raises(fa.APIResponseValidationError, match="262144 bytes on the wire"):
            await client.filelink(HANDLE).metadata()
    # the client hung up: it did not read the rest
    assert await eventually(lambda: bool(hostile.hung_up))


async def test_an_endless_error_body_is_cut_off(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    hostile.route(f"/{HANDLE}/metadata", chunked(_endless_json, status=503))
    async with make_client() as client:
        with pytest.raises(fa.InternalServerError) as caught:
            await client.filelink(HANDLE).metadata()
    assert caught.value.status_code == 503
    assert await eventually(lambda: bool(hostile.hung_up))


async def test_a_content_length_over_the_cap_is_refused_before_reading(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    def promise_a_gigabyte(request: Received, write: Callable[[bytes], None]) -> None:
        write(head(200, {"Content-Length": str(1024 * MiB), **JSON}) + b'{"x": "')
        hostile.stopping.wait(30)

    hostile.route(f"/{HANDLE}/metadata", promise_a_gigabyte)
    async with make_client(timeout=Timeouts(read=2)) as client:
        with pytest.raises(fa.APIResponseValidationError, match="Content-Length"):
            await client.filelink(HANDLE).metadata()


async def test_downloads_are_not_capped(
    hostile: HostileServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB
    hostile.route("/", answer(200, body))
    async with make_client(timeout=Timeouts(max_answer_bytes=64 * 1024)) as client:
        link = client.filelink(HANDLE)
        assert await link.get_content() == body
        assert await link.download(tmp_path / "f") == len(body)


# -- answers that made something untyped escape -------------------------------------------


async def test_a_broken_gzip_body_is_a_validation_error(
    hostile: HostileServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    broken = gzip.compress(b'{"size": 4}')[:-12] + b"garbage!" * 4
    hostile.route(f"/{HANDLE}/metadata", answer(200, broken, {"Content-Encoding": "gzip"}))
    hostile.route("/", answer(200, b"not gzip at all", {"Content-Encoding": "gzip"}))
    async with make_client() as client:
        link = client.filelink(HANDLE)
        with pytest.raises(fa.APIResponseValidationError, match="cannot be decoded"):
            await link.metadata()
        with pytest.raises(fa.APIResponseValidationError, match="cannot be decoded"):
            await link.download(tmp_path / "f")
        with pytest.raises(fa.APIResponseValidationError, match="cannot be decoded"):
            await link.get_content()
    assert list(tmp_path.iterdir()) == []


async def test_an_answer_of_another_encoding_is_refused(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    hostile.route(f"/{HANDLE}/metadata", answer(200, b"\x00\x01", {"Content-Encoding": "br"}))
    async with make_client() as client:
        with pytest.raises(fa.APIResponseValidationError, match="Content-Encoding"):
            await client.filelink(HANDLE).metadata()


async def test_a_deflate_answer_is_read(hostile: HostileServer, make_client: ClientFactory) -> None:
    import zlib

    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(b'{"size": 4}') + raw.flush()
    hostile.route(f"/{HANDLE}/metadata", answer(200, raw_deflate, {"Content-Encoding": "deflate"}))
    async with make_client() as client:
        assert await client.filelink(HANDLE).metadata() == {"size": 4}


async def test_json_nested_too_deep_is_a_validation_error(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    hostile.route(f"/{HANDLE}/metadata", answer(200, b"[" * 200_000, JSON))
    async with make_client() as client:
        with pytest.raises(fa.APIResponseValidationError, match="nested too deep"):
            await client.filelink(HANDLE).metadata()


# -- slow bodies and the total deadline ----------------------------------------------------


async def test_a_trickling_answer_hits_the_total_deadline(
    hostile: HostileServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    # one byte every 50 ms: never idle for the read timeout (5 s), so only a total ends it
    body = b'{"size": 4, "pad": "' + b"x" * 200 + b'"}'
    hostile.route(f"/{HANDLE}/metadata", trickle(body, 0.05, headers=JSON))
    hostile.route("/", trickle(body, 0.05))
    async with make_client(timeout=Timeouts(read=5, total=0.3)) as client:
        link = client.filelink(HANDLE)
        with pytest.raises(fa.APITimeoutError) as caught:
            await link.metadata()
        assert caught.value.phase == "total"
        with pytest.raises(fa.APITimeoutError) as during_download:
            await link.download(tmp_path / "f")
        assert during_download.value.phase == "total"
    assert list(tmp_path.iterdir()) == []
    assert "total deadline" in str(caught.value)


async def test_a_late_answer_hits_the_total_deadline_and_is_not_retried(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    hostile.route(f"/{HANDLE}/metadata", delayed(1.0, answer(200, b"{}", JSON)))
    hostile.route("/warm", answer(200, b"{}", JSON))
    policy = RetryPolicy(max_retries=1, sleep=no_wait)
    async with make_client(timeout=Timeouts(read=5, total=0.2), retry=policy) as client:
        # the session's first request also sets up its pool (on a loaded machine that alone
        # can outlast 0.2 s), so warm it first: the late answer is then what runs out
        http = client.context.http
        assert http is not None
        for _ in range(20):
            try:
                await http.request("GET", f"{hostile.url}/warm")
                break
            except fa.APITimeoutError:
                continue
        warm = len(hostile.received)
        with pytest.raises(fa.APITimeoutError) as caught:
            await client.filelink(HANDLE).metadata()
    assert caught.value.phase == "total"
    assert sleeps == []  # a trickling server would trickle again
    assert len(hostile.received) == warm + 1  # one metadata request, not retried
    assert "/metadata" in hostile.received[-1].raw()


async def test_the_deadline_grows_with_the_bytes_sent(
    hostile: HostileServer, make_client: ClientFactory
) -> None:
    # an answer later than `total` is fine when the request moved enough bytes to earn it:
    # 256 KiB at min_rate 1 KiB/s earns 256 s beyond total; an empty body earns nothing
    hostile.route("/part", delayed(1.0, answer(200, b"", {"ETag": '"e"'})))
    limits = Timeouts(read=5, total=0.2, min_rate=1024)
    async with make_client(timeout=limits) as client:
        http = client.context.http
        assert http is not None
        sent = await http.request("PUT", f"{hostile.url}/part", content=b"x" * 256 * 1024)
        assert sent.headers["etag"] == '"e"'
        with pytest.raises(fa.APITimeoutError) as caught:
            await http.request("PUT", f"{hostile.url}/part", content=b"")
    assert caught.value.phase == "total"


async def test_a_download_moving_faster_than_min_rate_outlives_total(
    hostile: HostileServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    # the body takes 1.6 s, past the 1 s total, and still arrives: every byte earns a
    # second (the margins are wide so that a loaded machine cannot make it fail)
    body = b"y" * 80
    hostile.route("/", trickle(body, 0.02))
    limits = Timeouts(read=5, total=1.0, min_rate=1.0)
    async with make_client(timeout=limits) as client:
        assert await client.filelink(HANDLE).download(tmp_path / "f") == len(body)
        http = client.context.http
        assert http is not None
        got = await http.request("GET", f"{hostile.url}/{HANDLE}", kind=Kind.DOWNLOAD)
        assert got.content == body


# -- secrets in every logger ------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[_Capture]:
    """Every record of every logger at DEBUG, on the root logger."""
    root = logging.getLogger()
    handler = _Capture()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _assert_logs_clean(records: list[logging.LogRecord]) -> None:
    leaks = [
        (r.name, r.getMessage()[:200])
        for r in records
        if any(s in r.getMessage() for s in SECRETS) or SIGNATURE_IN_URL.search(r.getMessage())
    ]
    assert leaks == []


async def test_no_secret_in_any_log_record_of_a_real_session(
    captured: _Capture, tmp_path: Path, hostile: HostileServer, http_backend: str | None
) -> None:
    async with EmulatorServer(data_dir=tmp_path / "emu", secret=SECRET) as server:
        async with Client(APIKEY, base_url=server.url, security=SECURITY) as client:
            link = await client.upload(content=b"a secret-free body" * 100)
            assert await link.get_content() == b"a secret-free body" * 100
            await link.download(tmp_path / "copy")
            await link.metadata(["size"])
            await link.overwrite(content=b"replaced")
            await link.delete()
    # a hostile answer echoing the credentials in its headers (httpcore logs them)
    echo = answer(200, b"{}", {"X-Echo": f"sig {SECURITY.signature} key {APIKEY}", **JSON})
    hostile.route(f"/{HANDLE}/metadata", echo)
    async with Client(APIKEY, base_url=hostile.url, security=SECURITY) as client:
        await client.filelink(HANDLE).metadata()
    names = {r.name for r in captured.records}
    # httpx logs every request whatever the pool; httpcore only when it is the pool
    expected = {"httpx"}
    if http_backend == "httpx":
        expected |= {"httpcore.http11", "httpcore.connection"}
    assert expected <= names
    _assert_logs_clean(captured.records)


async def test_every_logger_of_the_stack_is_masked_even_ones_made_later(
    captured: _Capture,
) -> None:
    sig = SECURITY.signature
    async with Client(APIKEY, security=SECURITY):
        for name in ("aiohttp.client", "aiohttp.internal", "httpcore.made_later", "hpack.hpack"):
            log = logging.getLogger(name)
            log.debug("headers %r", [(b"Authorization", sig.encode()), (b"X-Key", APIKEY.encode())])
            log.debug("url %s and %s", f"https://x/?signature={sig}", (SECRET, 1))
            log.debug(f"preformatted {SECURITY.policy_b64}")
            log.debug("mapping %(key)s", {"key": APIKEY})
            log.debug(b"bytes message " + SECRET.encode())
        logging.getLogger("filestack_async._uploads.later").debug("key=%s", APIKEY)
    ours = [
        r
        for r in captured.records
        if r.name.startswith(("aiohttp", "httpcore", "hpack", "filestack"))
    ]
    assert len(ours) == 21
    _assert_logs_clean(captured.records)
