"""Streaming downloads on the wire: the Range and If-Range each attempt sends, and what
each answer to a resume means (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx

import filestack_async as fa
from filestack_async import Client

from .conftest import CDN, HANDLE, POLICY, SECURITY, SIGNATURE, Sleeps

URL = f"{CDN}/{HANDLE}"
DATA = bytes(range(256)) * 2400  # 614400 bytes: two and a bit of the stream's 256 KiB pieces
ETAG = '"v1"'


class _Cut(httpx.AsyncByteStream):
    """A body that stops with a read error after ``data``."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.data:
            yield self.data
        raise httpx.ReadError("connection reset mid-body")


def whole(*, etag: str | None = ETAG, cut_after: int | None = None) -> httpx.Response:
    headers = {"Content-Length": str(len(DATA)), "Content-Type": "image/png; q=1"}
    if etag is not None:
        headers["ETag"] = etag
    if cut_after is None:
        return httpx.Response(200, headers=headers, content=DATA)
    return httpx.Response(200, headers=headers, stream=_Cut(DATA[:cut_after]))


def part(
    start: int,
    end: int | None = None,
    *,
    etag: str | None = ETAG,
    total: int = len(DATA),
    cut_after: int | None = None,
) -> httpx.Response:
    last = len(DATA) - 1 if end is None else end
    body = DATA[start : last + 1]
    headers = {
        "Content-Length": str(len(body)),
        "Content-Range": f"bytes {start}-{last}/{total}",
        "Content-Type": "image/png",
    }
    if etag is not None:
        headers["ETag"] = etag
    if cut_after is None:
        return httpx.Response(206, headers=headers, content=body)
    return httpx.Response(206, headers=headers, stream=_Cut(body[:cut_after]))


async def read(client: Client, start: int | None = None, end: int | None = None) -> bytes:
    async with client.filelink(HANDLE).stream(start=start, end=end) as body:
        return b"".join([chunk async for chunk in body])


@respx.mock
async def test_a_whole_file_asks_no_range_and_identity(client: Client) -> None:
    route = respx.get(URL).mock(return_value=whole())
    async with client.filelink(HANDLE).stream() as body:
        assert (body.size, body.length, body.mimetype, body.etag) == (
            len(DATA),
            len(DATA),
            "image/png",
            ETAG,
        )
        assert b"".join([c async for c in body]) == DATA
    sent = route.calls[0].request.headers
    assert "range" not in sent and "if-range" not in sent
    assert sent["accept-encoding"] == "identity"


@respx.mock
@pytest.mark.parametrize(
    ("start", "end", "header"),
    [(5, 9, "bytes=5-9"), (5, None, "bytes=5-"), (None, 9, "bytes=0-9"), (0, 0, "bytes=0-0")],
)
async def test_the_range_sent(
    client: Client, start: int | None, end: int | None, header: str
) -> None:
    first = start or 0
    route = respx.get(URL).mock(return_value=part(first, end))
    got = await read(client, start, end)
    assert got == DATA[first : None if end is None else end + 1]
    assert route.calls[0].request.headers["range"] == header
    assert "if-range" not in route.calls[0].request.headers


@respx.mock
async def test_a_server_that_ignores_range_is_trimmed(client: Client) -> None:
    respx.get(URL).mock(return_value=whole())
    assert await read(client, start=100, end=199) == DATA[100:200]


@respx.mock
async def test_a_cut_resumes_with_range_and_if_range(client: Client, sleeps: Sleeps) -> None:
    route = respx.get(URL).mock(
        side_effect=[whole(cut_after=3000), part(3000, cut_after=5000), part(8000)]
    )
    async with client.filelink(HANDLE).stream() as body:
        got = b"".join([c async for c in body])
        assert body.resumes == 2
    assert got == DATA
    resumes = [call.request.headers for call in route.calls[1:]]
    assert [(h["range"], h["if-range"]) for h in resumes] == [
        ("bytes=3000-", ETAG),
        ("bytes=8000-", ETAG),
    ]
    # progress was made before each cut: each is the first failure in a row
    assert sleeps == [0.375, 0.375]


@respx.mock
async def test_a_cut_range_resumes_inside_the_range(client: Client) -> None:
    route = respx.get(URL).mock(side_effect=[part(100, 4999, cut_after=1000), part(1100, 4999)])
    assert await read(client, start=100, end=4999) == DATA[100:5000]
    assert route.calls[1].request.headers["range"] == "bytes=1100-4999"


@respx.mock
async def test_a_short_body_without_an_error_is_resumed(client: Client) -> None:
    short = httpx.Response(
        200, headers={"Content-Length": str(len(DATA)), "ETag": ETAG}, content=DATA[:10]
    )
    # httpx checks Content-Length on real sockets; a transport may still end early
    short.headers["Content-Length"] = str(len(DATA))
    respx.get(URL).mock(side_effect=[short, part(10)])
    assert await read(client) == DATA


@respx.mock
async def test_another_etag_on_resume_is_content_changed(client: Client, tmp_path: Path) -> None:
    respx.get(URL).mock(side_effect=[whole(cut_after=300_000), part(300_000, etag='"v2"')])
    destination = tmp_path / "file.bin"
    destination.write_bytes(b"previous")
    with pytest.raises(fa.ContentChangedError, match='ETag is now "v2", was "v1"') as caught:
        await client.filelink(HANDLE).download(destination)
    assert "bytes of the first version were delivered, none of another" in str(caught.value)
    assert destination.read_bytes() == b"previous"  # atomic: never a splice
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


@respx.mock
async def test_the_whole_file_again_on_resume_is_content_changed(client: Client) -> None:
    # If-Range did not match: the service sends the new version whole
    respx.get(URL).mock(side_effect=[whole(cut_after=4000), whole(etag='"v2"')])
    with pytest.raises(fa.ContentChangedError, match="answered 200 with the whole file"):
        await client.filelink(HANDLE).get_content()


@respx.mock
async def test_a_resume_answered_without_any_etag_is_tried_again(
    client: Client, sleeps: Sleeps
) -> None:
    # nothing says which version it is (a proxy's answer, a broken reply): not a change,
    # not usable either; the next attempt is (found by the download campaign)
    route = respx.get(URL).mock(
        side_effect=[whole(cut_after=4000), whole(etag=None, cut_after=10), part(4000)]
    )
    assert await read(client) == DATA
    assert route.call_count == 3 and len(sleeps) == 2


@respx.mock
async def test_the_same_version_sent_whole_on_resume_is_skipped_ahead(client: Client) -> None:
    # a server that ignores Range but keeps the ETag: the same bytes, so skip what we have
    respx.get(URL).mock(side_effect=[whole(cut_after=4000), whole()])
    assert await read(client) == DATA


@respx.mock
async def test_another_size_or_a_416_on_resume_is_content_changed(client: Client) -> None:
    respx.get(URL).mock(side_effect=[whole(cut_after=4000), part(4000, total=99999)])
    with pytest.raises(fa.ContentChangedError, match="size is now 99999"):
        await read(client)
    respx.get(URL).mock(side_effect=[whole(cut_after=4000), httpx.Response(416)])
    with pytest.raises(fa.ContentChangedError, match="answered 416"):
        await read(client)


@respx.mock
async def test_without_a_strong_etag_a_delivered_stream_is_not_resumed(client: Client) -> None:
    # a piece was handed out: starting again would give its bytes twice
    route = respx.get(URL).mock(side_effect=[whole(etag='W/"weak"', cut_after=300_000), whole()])
    with pytest.raises(fa.APIConnectionError, match="no strong ETag"):
        await read(client)
    assert route.call_count == 1


@respx.mock
async def test_without_an_etag_get_content_starts_again(client: Client) -> None:
    # get_content keeps the body in memory: it can drop what it had and read it whole
    respx.get(URL).mock(side_effect=[whole(etag=None, cut_after=300_000), whole(etag=None)])
    assert await client.filelink(HANDLE).get_content() == DATA


@respx.mock
async def test_without_an_etag_nothing_handed_out_yet_starts_again(client: Client) -> None:
    respx.get(URL).mock(side_effect=[whole(etag=None, cut_after=4000), whole(etag=None)])
    async with client.filelink(HANDLE).stream() as body:
        assert b"".join([c async for c in body]) == DATA
        assert body.resumes == 1


@respx.mock
async def test_cuts_without_progress_run_the_retry_policy_out(
    client: Client, sleeps: Sleeps
) -> None:
    route = respx.get(URL).mock(
        side_effect=[whole(cut_after=4000), *[part(4000, cut_after=0) for _ in range(5)]]
    )
    with pytest.raises(fa.APIConnectionError, match="mid-body"):
        await read(client)
    # the first cut followed progress; then four more in a row: the policy's four retries
    assert route.call_count == 5 and len(sleeps) == 4


@respx.mock
async def test_a_206_without_content_range_is_a_validation_error(client: Client) -> None:
    respx.get(URL).mock(return_value=httpx.Response(206, content=b"abc"))
    with pytest.raises(fa.APIResponseValidationError, match="without a usable Content-Range"):
        await read(client, start=1)


@respx.mock
async def test_a_start_past_the_end_is_range_not_satisfiable(client: Client) -> None:
    respx.get(URL).mock(
        return_value=httpx.Response(416, headers={"Content-Range": f"bytes */{len(DATA)}"})
    )
    with pytest.raises(fa.RangeNotSatisfiableError, match="start=20000 is past the end"):
        await read(client, start=20000)


@respx.mock
async def test_the_calls_security_signs_the_stream(client: Client) -> None:
    signed = f"{CDN}/{SECURITY.as_url_string()}/{HANDLE}"
    assert POLICY in signed and SIGNATURE in signed
    route = respx.get(signed).mock(return_value=whole())
    async with client.filelink(HANDLE).stream(security=SECURITY) as body:
        assert b"".join([c async for c in body]) == DATA
    # the link's own security when the call gives none
    link = fa.Filelink(HANDLE, security=SECURITY, context=client.context)
    async with link.stream(end=9) as body:
        assert b"".join([c async for c in body]) == DATA[:10]
    assert route.call_count == 2


@respx.mock
async def test_a_stream_is_read_once(client: Client) -> None:
    respx.get(URL).mock(return_value=whole())
    async with client.filelink(HANDLE).stream() as body:
        assert [c async for c in body]
        with pytest.raises(fa.ConfigurationError, match="read once"):
            body.__aiter__()


@respx.mock
async def test_a_transformation_streams_the_same_way(client: Client) -> None:
    url = f"{CDN}/flip/{HANDLE}"
    route = respx.get(url).mock(side_effect=[whole(cut_after=10), part(10)])
    async with client.filelink(HANDLE).flip().stream() as body:
        assert b"".join([c async for c in body]) == DATA
    assert route.calls[1].request.headers["if-range"] == ETAG
