"""Exact requests of the File API and CDN calls (filestack-protocol.md §6)."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

import filestack_async as fa
from filestack_async import Client, ConfigurationError, Filelink, Security
from filestack_async._security import decode_policy, encode_policy, sign

from .conftest import API, APIKEY, CDN, HANDLE, POLICY, SECURITY, SIGNATURE

SIGNED = f"{CDN}/security=p:{POLICY},s:{SIGNATURE}/{HANDLE}"


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)


def test_urls_need_no_io() -> None:
    ready_made = Security.from_signature(POLICY, SIGNATURE)  # no secret: sent as it is
    link = Filelink(HANDLE, security=ready_made)
    assert link.url == f"{CDN}/{HANDLE}"
    assert link.signed_url() == SIGNED
    made = Security({"expiry": 1}, "x")
    other = Security.from_signature(made.policy_b64, made.signature)
    assert link.signed_url(other) == f"{CDN}/{other.as_url_string()}/{HANDLE}"
    assert repr(link) == f"<Filelink {HANDLE}>"
    with pytest.raises(ConfigurationError, match="security is required to sign a URL"):
        Filelink(HANDLE).signed_url()


def _url_credentials(url: str) -> tuple[dict[str, object], str]:
    """The policy (decoded) and the signature a signed CDN URL carries."""
    match = re.fullmatch(rf"{re.escape(CDN)}/security=p:([^,/]+),s:([0-9a-f]{{64}})/{HANDLE}", url)
    assert match is not None, url
    return decode_policy(match[1]), match[2]


def test_signed_url_with_the_secret_signs_a_read_policy_for_the_handle() -> None:
    app = Security.create("SECRET", expires_in=30 * 86400)  # every call, for a month
    link = Filelink(HANDLE, security=app)
    before = time.time()
    policy, signature = _url_credentials(link.signed_url())
    expiry = policy.pop("expiry")
    assert policy == {"call": ["read"], "handle": HANDLE}
    assert isinstance(expiry, int) and before + 3599 <= expiry <= time.time() + 3601
    assert signature == sign(encode_policy({**policy, "expiry": expiry}), "SECRET")
    assert signature != app.signature


def test_signed_url_widened_on_request_but_never_past_the_links_policy() -> None:
    app = Security.create("SECRET", expires_in=600, call=["read", "stat", "remove"])
    link = Filelink(HANDLE, security=app)
    policy, _ = _url_credentials(link.signed_url(call=["read", "stat"], expires_in=86400))
    assert policy == {"call": ["read", "stat"], "handle": HANDLE, "expiry": app.policy["expiry"]}
    with pytest.raises(ConfigurationError, match="does not allow"):
        link.signed_url(call=["read", "pick"])


@respx.mock
async def test_the_sdks_own_requests_still_send_the_links_policy(client: Client) -> None:
    """Only URLs handed out are narrowed; a download sends the policy it was given."""
    app = Security.create("SECRET", expires_in=600, call=["read", "stat"])
    route = respx.get(f"{CDN}/{app.as_url_string()}/{HANDLE}").respond(200, content=b"ok")
    link = client.filelink(HANDLE, security=app)
    assert await link.get_content() == b"ok"
    assert await link.download(io.BytesIO()) == 2
    assert route.call_count == 2


@respx.mock
async def test_get_content_unsigned_and_signed(client: Client) -> None:
    plain = respx.get(f"{CDN}/{HANDLE}").respond(200, content=b"data")
    signed = respx.get(SIGNED).respond(200, content=b"secret data")
    link = client.filelink(HANDLE)
    assert await link.get_content() == b"data"
    assert await link.get_content(security=SECURITY) == b"secret data"
    assert plain.call_count == 1 and signed.call_count == 1


@respx.mock
async def test_filestack_headers_are_fresh_on_every_request(client: Client) -> None:
    route = respx.get(f"{CDN}/{HANDLE}").respond(200, content=b"x")
    link = client.filelink(HANDLE)
    await link.get_content()
    await link.get_content()
    first, second = (call.request.headers for call in route.calls)
    assert first["User-Agent"] == f"filestack-async/{fa.__version__}"
    assert first["Filestack-Source"] == f"Python-async-{fa.__version__}"
    assert re.fullmatch(r"\d{10}-[A-Za-z0-9]{10}", first["Filestack-Trace-Id"])
    assert re.fullmatch(r"pyasyncsdk-[A-Za-z0-9]{10}", first["Filestack-Trace-Span"])
    assert first["Filestack-Trace-Id"] != second["Filestack-Trace-Id"]
    assert first["Filestack-Trace-Span"] != second["Filestack-Trace-Span"]


@respx.mock
async def test_download_streams_to_a_path(client: Client, tmp_path: Path) -> None:
    body = bytes(range(256)) * 5000
    respx.get(f"{CDN}/{HANDLE}").respond(200, content=body)
    target = tmp_path / "out.bin"
    assert await client.filelink(HANDLE).download(target) == len(body)
    assert target.read_bytes() == body
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


@respx.mock
async def test_download_to_a_file_object(client: Client) -> None:
    respx.get(SIGNED).respond(200, content=b"abc")
    buffer = io.BytesIO()
    assert await client.filelink(HANDLE, security=SECURITY).download(buffer) == 3
    assert buffer.getvalue() == b"abc"


class _BreaksMidway(httpx.AsyncByteStream):
    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b"x" * 1000
        raise httpx.ReadError("connection reset by peer")


@respx.mock
async def test_download_interrupted_mid_stream_leaves_no_file(
    client: Client, tmp_path: Path
) -> None:
    respx.get(f"{CDN}/{HANDLE}").mock(
        return_value=httpx.Response(200, headers={"Content-Length": "5000"}, stream=_BreaksMidway())
    )
    target = tmp_path / "out.bin"
    with pytest.raises(fa.APIConnectionError, match="reading the body"):
        await client.filelink(HANDLE).download(target)
    assert list(tmp_path.iterdir()) == []


@respx.mock
async def test_download_short_body_leaves_no_file_and_keeps_old_one(
    client: Client, tmp_path: Path
) -> None:
    respx.get(f"{CDN}/{HANDLE}").mock(
        return_value=httpx.Response(200, headers={"Content-Length": "10"}, content=b"12345")
    )
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises((fa.APIConnectionError, httpx.RemoteProtocolError)):
        await client.filelink(HANDLE).download(target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


@respx.mock
async def test_download_error_status_leaves_no_file(client: Client, tmp_path: Path) -> None:
    respx.get(f"{CDN}/{HANDLE}").respond(404, json={"error": "not found"})
    with pytest.raises(fa.NotFoundError):
        await client.filelink(HANDLE).download(tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


async def test_download_to_a_missing_folder_is_a_configuration_error(
    client: Client, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        await client.filelink(HANDLE).download(tmp_path / "nope" / "x")


@respx.mock
async def test_metadata_query(client: Client) -> None:
    route = respx.get(f"{CDN}/{HANDLE}/metadata").respond(200, json={"size": 3})
    link = client.filelink(HANDLE)
    assert await link.metadata() == {"size": 3}
    assert query(route.calls.last.request) == {}
    await link.metadata(["size", "filename"], security=SECURITY)
    assert query(route.calls.last.request) == {
        "size": ["true"],
        "filename": ["true"],
        "policy": [POLICY],
        "signature": [SIGNATURE],
    }
    with pytest.raises(ConfigurationError, match="unknown metadata attribute 'colour'"):
        await link.metadata(["colour"])


@respx.mock
async def test_metadata_non_json_is_a_validation_error(client: Client) -> None:
    respx.get(f"{CDN}/{HANDLE}/metadata").respond(200, text="<html>oops</html>")
    with pytest.raises(fa.APIResponseValidationError, match="not JSON"):
        await client.filelink(HANDLE).metadata()


@respx.mock
@pytest.mark.parametrize("task", ["tags", "sfw", "ocr"])
async def test_intelligence_calls(client: Client, task: str) -> None:
    route = respx.get(f"{CDN}/{task}/security=p:{POLICY},s:{SIGNATURE}/{HANDLE}").respond(
        200, json={task: True}
    )
    link = client.filelink(HANDLE)
    assert await getattr(link, task)(security=SECURITY) == {task: True}
    assert route.call_count == 1
    with pytest.raises(ConfigurationError, match=f"security is required to call {task}"):
        await getattr(link, task)()


@respx.mock
async def test_delete(client: Client) -> None:
    route = respx.delete(f"{API}/file/{HANDLE}").respond(200, text="success")
    await client.filelink(HANDLE).delete(security=SECURITY)
    assert query(route.calls.last.request) == {
        "key": [APIKEY],
        "policy": [POLICY],
        "signature": [SIGNATURE],
    }


async def test_delete_needs_key_and_security(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="security is required to delete"):
        await client.filelink(HANDLE).delete()
    with pytest.raises(ConfigurationError, match="API key is required"):
        await Filelink(HANDLE, security=SECURITY).delete()


@respx.mock
async def test_remove_metadata_deletes_with_skip_storage(client: Client) -> None:
    route = respx.delete(f"{API}/file/{HANDLE}").respond(200, text="success")
    await client.filelink(HANDLE).remove_metadata(security=SECURITY)
    request = route.calls.last.request
    assert request.method == "DELETE" and request.content == b""
    assert query(request) == {
        "key": [APIKEY],
        "policy": [POLICY],
        "signature": [SIGNATURE],
        "skip_storage": ["true"],
    }
    await Filelink(HANDLE, security=SECURITY).remove_metadata(apikey="OTHERKEY")
    assert query(route.calls.last.request)["key"] == ["OTHERKEY"]


async def test_remove_metadata_needs_key_and_security(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="security is required to remove a file's"):
        await client.filelink(HANDLE).remove_metadata()
    with pytest.raises(ConfigurationError, match="API key is required to remove a file's"):
        await Filelink(HANDLE, security=SECURITY).remove_metadata()


@respx.mock
async def test_overwrite_by_url(client: Client) -> None:
    route = respx.post(f"{API}/file/{HANDLE}").respond(200, json={"handle": HANDLE})
    link = client.filelink(HANDLE, security=SECURITY)
    assert await link.overwrite(url="https://example.com/new.png") is link
    request = route.calls.last.request
    assert query(request) == {
        "policy": [POLICY],
        "signature": [SIGNATURE],
        "base64decode": ["false"],
    }
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"url": ["https://example.com/new.png"]}


def _multipart_file(request: httpx.Request) -> tuple[str, bytes]:
    content_type = request.headers["Content-Type"]
    boundary = content_type.split("boundary=")[1].encode()
    body = request.content
    parts = [p for p in body.split(b"--" + boundary) if p.strip() not in (b"", b"--")]
    assert len(parts) == 1
    head, _, data = parts[0].partition(b"\r\n\r\n")
    assert data.endswith(b"\r\n")
    return head.decode(), data[:-2]


@respx.mock
@pytest.mark.parametrize("kind", ["filepath", "file_obj", "content", "unseekable"])
async def test_overwrite_by_file(client: Client, tmp_path: Path, kind: str) -> None:
    route = respx.post(f"{API}/file/{HANDLE}").respond(200, json={})
    payload = b"new bytes \x00\xff" * 1000
    path = tmp_path / "new.bin"
    path.write_bytes(payload)
    link = client.filelink(HANDLE)
    if kind == "filepath":
        await link.overwrite(filepath=path, security=SECURITY, base64decode=True)
    elif kind == "file_obj":
        with path.open("rb") as f:
            await link.overwrite(file_obj=f, security=SECURITY, base64decode=True)
    elif kind == "content":
        await link.overwrite(content=payload, security=SECURITY, base64decode=True)
    else:

        class Unseekable(io.RawIOBase):
            def __init__(self) -> None:
                self._inner = io.BytesIO(payload)

            def readable(self) -> bool:
                return True

            def read(self, n: int = -1) -> bytes:
                return self._inner.read(n)

        await link.overwrite(file_obj=Unseekable(), security=SECURITY, base64decode=True)  # type: ignore[arg-type]
    request = route.calls.last.request
    assert query(request)["base64decode"] == ["true"]
    head, data = _multipart_file(request)
    assert 'name="fileUpload"' in head
    assert "Content-Type: application/octet-stream" in head
    assert data == payload


@respx.mock
async def test_overwrite_file_name_cannot_end_its_quoted_header(
    client: Client, tmp_path: Path
) -> None:
    """A backslash in the file name would escape the closing quote of ``filename="..."``."""
    route = respx.post(f"{API}/file/{HANDLE}").respond(200, json={})
    path = tmp_path / 'a"b\\'
    path.write_bytes(b"x")
    await client.filelink(HANDLE).overwrite(filepath=path, security=SECURITY)
    head, data = _multipart_file(route.calls.last.request)
    assert 'filename="a_b_"\r\n' in head and data == b"x"


@respx.mock
async def test_overwrite_retries_replay_the_file(
    client: Client, tmp_path: Path, sleeps: list[float]
) -> None:
    route = respx.post(f"{API}/file/{HANDLE}").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={})]
    )
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789")
    with path.open("rb") as f:
        f.read(2)  # the upload starts from the current position
        await client.filelink(HANDLE).overwrite(file_obj=f, security=SECURITY)
    assert route.call_count == 2
    assert [_multipart_file(c.request)[1] for c in route.calls] == [b"23456789"] * 2
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"url": "https://x", "content": b"x"}, "exactly one of"),
        ({"url": "ftp://x"}, "http"),
        ({"content": b"x", "base64decode": "yes"}, "base64decode must be a bool"),
        ({"filepath": "/definitely/not/here"}, "no such file"),
        ({"file_obj": io.StringIO("text")}, "text-mode"),
    ],
)
async def test_overwrite_bad_arguments(
    client: Client, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        await client.filelink(HANDLE).overwrite(security=SECURITY, **kwargs)  # type: ignore[arg-type]


async def test_overwrite_needs_security(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="security is required to overwrite"):
        await client.filelink(HANDLE).overwrite(content=b"x")


@respx.mock
async def test_upload_url_process_request(client: Client) -> None:
    route = respx.post(f"{CDN}/process").respond(
        200, json={"handle": HANDLE, "url": f"{CDN}/{HANDLE}", "size": 3}
    )
    link = await client.upload_url(
        "https://ex.com/i.png",
        {"path": "x/", "workflows": ["w"], "base64decode": False, "location": "gcs"},
        security=SECURITY,
    )
    assert link.handle == HANDLE
    assert link.security == SECURITY
    assert link.upload_response == {"handle": HANDLE, "url": f"{CDN}/{HANDLE}", "size": 3}
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "apikey": APIKEY,
        "sources": ["https://ex.com/i.png"],
        "tasks": [
            {
                "name": "store",
                "params": {
                    "path": "x/",
                    "workflows": ["w"],
                    "base64decode": False,
                    "location": "gcs",
                },
            },
            {"name": "security", "params": {"policy": POLICY, "signature": SIGNATURE}},
        ],
    }


@respx.mock
async def test_upload_url_defaults_and_tags(secure_client: Client) -> None:
    route = respx.post(f"{CDN}/process").respond(200, json={"url": f"{CDN}/{HANDLE}"})
    link = await secure_client.upload_url("https://ex.com/a", {"upload_tags": {"k": "v"}})
    assert link.handle == HANDLE and link.security == SECURITY
    body = json.loads(route.calls.last.request.content)
    assert body["tasks"][0] == {"name": "store", "params": {"location": "S3"}}
    assert body["tasks"][1]["name"] == "security"
    assert body["upload_tags"] == {"k": "v"}


@respx.mock
async def test_upload_url_with_origin_headers_and_workflow_dicts(client: Client) -> None:
    route = respx.post(f"{CDN}/process").respond(200, json={"handle": HANDLE})
    origin = {"Authorization": "Bearer origin-token-123", "X-Tenant": "t1"}
    await client.upload_url(
        "https://private.example.com/a.png",
        {"workflows": ["w1", {"id": "w2"}]},
        headers=origin,
    )
    assert json.loads(route.calls.last.request.content) == {
        "apikey": APIKEY,
        "sources": [{"source": "https://private.example.com/a.png", "headers": origin}],
        "tasks": [
            {"name": "store", "params": {"workflows": ["w1", {"id": "w2"}], "location": "S3"}}
        ],
    }
    # no headers (or none given): the source is the plain URL
    await client.upload_url("https://ex.com/b.png", headers={})
    assert json.loads(route.calls.last.request.content)["sources"] == ["https://ex.com/b.png"]


@respx.mock
async def test_origin_header_values_are_masked_in_errors(client: Client) -> None:
    token = "Bearer origin-token-123"
    respx.post(f"{CDN}/process").respond(400, json={"error": f"bad source header {token}"})
    with pytest.raises(fa.BadRequestError) as info:
        await client.upload_url("https://ex.com/a", headers={"Authorization": token})
    assert "origin-token-123" not in str(info.value) and "origin-token-123" not in info.value.body


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("Authorization: x", "headers must be a dict"),
        ({"Bad Name": "x"}, "is not an HTTP header name"),
        ({"": "x"}, "is not an HTTP header name"),
        ({1: "x"}, "is not an HTTP header name"),
        ({"X-A": 1}, "must be a string, not int"),
        ({"X-A": "a\r\nInjected: yes"}, "line break or control character"),
        ({"X-A": "\ud800"}, "line break or control character"),
    ],
)
async def test_upload_url_bad_headers(client: Client, headers: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        await client.upload_url("https://ex.com/a", headers=headers)  # type: ignore[arg-type]


@respx.mock
async def test_upload_url_without_handle_is_a_validation_error(client: Client) -> None:
    respx.post(f"{CDN}/process").respond(200, json={"status": "ok"})
    with pytest.raises(fa.APIResponseValidationError, match="no handle"):
        await client.upload_url("https://ex.com/a")


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        ("ex.com/a", None, "http"),
        ("https://ex.com/a", {"mimetype": "image/png"}, "mimetype"),
        ("https://ex.com/a", {"alt": "a cat"}, "'alt' is not accepted by upload_url"),
        ("https://ex.com/a", {"nope": 1}, "unknown store parameter"),
    ],
)
async def test_upload_url_bad_arguments(
    client: Client, url: str, params: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        await client.upload_url(url, params)
