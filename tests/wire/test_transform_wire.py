"""Exact requests of processing calls (filestack-protocol.md §7.3-§7.5), with the reference's
bugs fixed: store is signed and carries the API key; encoded values stay in their segment."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from filestack_async import (
    APIResponseValidationError,
    BadRequestError,
    Client,
    ConfigurationError,
    Filelink,
    Security,
    Transformation,
)

from .conftest import APIKEY, CDN, HANDLE, SECURITY

SEG = SECURITY.as_url_string()
NEW = "NeWhAnDlEnEwHaNdLe12"
OTHER = "ZyXwVuTsRqPoNmLkJiHg"


def sent(route: respx.Route) -> list[str]:
    """The raw request targets (path as sent on the wire, percent-encoding kept)."""
    return [f"{c.request.method} {c.request.url.raw_path.decode()}" for c in route.calls]


@respx.mock
async def test_store_on_a_filelink_chain_posts_with_apikey(client: Client) -> None:
    route = respx.post(host="cdn.filestackcontent.com").respond(
        200, json={"handle": NEW, "url": f"{CDN}/{NEW}", "size": 3}
    )
    link = client.filelink(HANDLE)
    stored = await link.resize(width=10).store(
        filename="f.png",
        location="S3",
        path="/a/b/",
        container="c",
        region="us-east-1",
        access="public",
        base64decode=True,
        workflows=["w1", "w2"],
    )
    assert sent(route) == [
        f"POST /{APIKEY}/resize=width:10/store=access:public,base64decode:true,container:c,"
        "filename:f.png,location:S3,path:%22/a/b/%22,region:us-east-1,workflows:[w1,w2]/"
        f"{HANDLE}"
    ]
    assert isinstance(stored, Filelink) and stored.handle == NEW
    assert stored.apikey == APIKEY
    assert stored.upload_response == {"handle": NEW, "url": f"{CDN}/{NEW}", "size": 3}
    assert route.calls[0].request.content == b""


@respx.mock
async def test_store_is_signed_when_security_is_in_effect(secure_client: Client) -> None:
    route = respx.post(host="cdn.filestackcontent.com").respond(200, json={"url": f"{CDN}/{NEW}"})
    stored = await secure_client.filelink(HANDLE).store()
    assert sent(route) == [f"POST /{APIKEY}/store/{SEG}/{HANDLE}"]
    assert stored.handle == NEW and stored.security is SECURITY


@respx.mock
async def test_store_of_an_external_chain_and_per_call_security(client: Client) -> None:
    route = respx.post(host="cdn.filestackcontent.com").respond(200, json={"handle": NEW})
    chain = client.transform_external("https://a.io/i.png").flip()
    await chain.store(filename="x.png", security=SECURITY)
    assert sent(route) == [f"POST /{APIKEY}/flip/store=filename:x.png/{SEG}/https://a.io/i.png"]
    # the chain itself did not change
    assert chain.url == f"{CDN}/{APIKEY}/flip/https://a.io/i.png"


@respx.mock
async def test_store_answer_without_handle_is_a_validation_error(client: Client) -> None:
    respx.post(host="cdn.filestackcontent.com").respond(200, json={"size": 1})
    with pytest.raises(APIResponseValidationError, match="neither a handle nor a url"):
        await client.filelink(HANDLE).store()


@respx.mock
async def test_store_is_not_retried_after_a_response(client: Client) -> None:
    route = respx.post(host="cdn.filestackcontent.com").respond(500, text="boom")
    with pytest.raises(Exception, match="500"):
        await client.filelink(HANDLE).flip().store()
    assert route.call_count == 1


async def test_store_validates_before_any_request(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="store: parameter 'location'"):
        await client.filelink(HANDLE).store(location="moon")  # type: ignore[arg-type]


@respx.mock
async def test_get_content_and_download(client: Client, tmp_path: Path) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, content=b"x" * 1000)
    chain = client.filelink(HANDLE).rotate(deg=90, exif=False)
    assert await chain.get_content() == b"x" * 1000
    target = tmp_path / "r.jpg"
    assert await chain.download(target) == 1000
    assert target.read_bytes() == b"x" * 1000
    assert await chain.get_content(security=SECURITY) == b"x" * 1000
    assert sent(route) == [
        f"GET /rotate=deg:90,exif:false/{HANDLE}",
        f"GET /rotate=deg:90,exif:false/{HANDLE}",
        f"GET /rotate=deg:90,exif:false/{SEG}/{HANDLE}",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jpg"]


@respx.mock
async def test_failed_download_leaves_no_file(client: Client, tmp_path: Path) -> None:
    respx.get(host="cdn.filestackcontent.com").respond(400, text="bad task")
    target = tmp_path / "out.png"
    with pytest.raises(BadRequestError, match="bad task"):
        await client.filelink(HANDLE).flip().download(target)
    assert list(tmp_path.iterdir()) == []


@respx.mock
async def test_truncated_download_is_an_error_and_leaves_no_file(
    client: Client, tmp_path: Path
) -> None:
    respx.get(host="cdn.filestackcontent.com").respond(
        200, content=b"abc", headers={"content-length": "10"}
    )
    with pytest.raises(Exception, match="3 of 10 bytes"):
        await client.filelink(HANDLE).flip().download(tmp_path / "o")
    assert list(tmp_path.iterdir()) == []


@respx.mock
async def test_debug_puts_the_debug_task_first(client: Client) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, json={"ok": True})
    assert await client.filelink(HANDLE).resize(width=5).debug() == {"ok": True}
    ext = client.transform_external("https://a.io/i.png").flip()
    await ext.debug(security=SECURITY)
    assert sent(route) == [
        f"GET /debug/resize=width:5/{HANDLE}",
        f"GET /{APIKEY}/debug/flip/{SEG}/https://a.io/i.png",
    ]


@respx.mock
async def test_tags_sfw_ocr_on_a_chain_need_security(secure_client: Client) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, json={"sfw": True})
    chain = secure_client.filelink(HANDLE).resize(width=100)
    assert await chain.sfw() == {"sfw": True}
    await chain.tags()
    await chain.ocr()
    assert sent(route) == [
        f"GET /resize=width:100/sfw/{SEG}/{HANDLE}",
        f"GET /resize=width:100/tags/{SEG}/{HANDLE}",
        f"GET /resize=width:100/ocr/{SEG}/{HANDLE}",
    ]
    with pytest.raises(ConfigurationError, match="security is required to call tags"):
        await Transformation(handle=HANDLE).tags()


@respx.mock
async def test_client_zip_streams_to_a_file(client: Client, tmp_path: Path) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, content=b"PK" + b"0" * 98)
    target = tmp_path / "files.zip"
    assert await client.zip(target, [HANDLE, OTHER]) == 100
    assert target.read_bytes().startswith(b"PK")
    await client.zip(tmp_path / "signed.zip", [HANDLE, OTHER], security=SECURITY)
    assert sent(route) == [
        f"GET /{APIKEY}/zip/[{HANDLE},{OTHER}]",
        f"GET /{APIKEY}/zip/{SEG}/[{HANDLE},{OTHER}]",
    ]


async def test_client_zip_validates_files(client: Client, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="non-empty list"):
        await client.zip(tmp_path / "a.zip", [])


@respx.mock
async def test_urlscreenshot_runs_on_get_content(client: Client) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, content=b"\x89PNG")
    shot = client.urlscreenshot("https://example.com/page", mode="window", width=800, delay=500)
    assert await shot.get_content() == b"\x89PNG"
    assert sent(route) == [
        f"GET /{APIKEY}/urlscreenshot=delay:500,mode:window,width:800/https://example.com/page"
    ]


@respx.mock
async def test_quoted_values_and_external_query_are_percent_encoded_on_the_wire(
    client: Client,
) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, content=b"js")
    chain = client.transform_external("https://a.io/app.js?v=2").minify_js(targets="> 1%")
    await chain.get_content()
    (request,) = [c.request for c in route.calls]
    assert request.url.raw_path.decode() == (
        f"/{APIKEY}/minify_js=targets:%22%3E%201%25%22/https://a.io/app.js%3Fv=2"
    )
    assert request.url.query == b""


@respx.mock
async def test_a_standalone_transformation_uses_a_temporary_pool() -> None:
    route = respx.get(f"{CDN}/flip/{HANDLE}").respond(200, content=b"ok")
    assert await Transformation(handle=HANDLE).flip().get_content() == b"ok"
    assert route.call_count == 1


@respx.mock
async def test_errors_never_show_the_apikey_or_signature(secure_client: Client) -> None:
    respx.get(host="cdn.filestackcontent.com").mock(
        return_value=httpx.Response(403, text=f"denied {SECURITY.signature}")
    )
    chain = secure_client.transform_external("https://a.io/i.png").flip()
    with pytest.raises(Exception) as info:
        await chain.get_content()
    message = str(info.value)
    assert APIKEY not in message and SECURITY.signature not in message
    assert SECURITY.policy_b64 not in message


@respx.mock
async def test_dot_segments_of_an_external_url_are_sent_encoded(client: Client) -> None:
    """httpx removes '.' and '..' path segments; the source must reach the service whole."""
    route = respx.get(host="cdn.filestackcontent.com").respond(200, content=b"x")
    chain = client.transform_external("https://a.io/./x/../y.png").flip()
    assert chain.url.endswith("/flip/https://a.io/./x/../y.png")  # .url keeps it as given
    await chain.get_content()
    assert sent(route) == [f"GET /{APIKEY}/flip/https://a.io/%2E/x/%2E%2E/y.png"]


@respx.mock
async def test_a_custom_task_and_the_new_tasks_are_sent_as_rendered(client: Client) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, json={"width": 1})
    link = client.filelink(HANDLE)
    await (
        link.round_corners(radius=4).custom_task("new_task", b=1, a="x y").imagesize().get_content()
    )
    await link.cache(cache=False).pjpg(quality=70).get_content()
    assert sent(route) == [
        f"GET /rounded_corners=radius:4/new_task=b:1,a:%22x%20y%22/imagesize/{HANDLE}",
        f"GET /cache=false/pjpg=quality:70/{HANDLE}",
    ]


@respx.mock
async def test_preview_url_is_the_signed_preview_chain() -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, html="<html></html>")
    link = Filelink(HANDLE, security=Security.create("SECRET", expires_in=600))
    url = link.preview_url("https://a.io/s.css")
    assert url.startswith(
        'https://cdn.filestackcontent.com/preview=css:"https://a.io/s.css"/security='
    )
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 200
    assert sent(route)[0].startswith("GET /preview=css:%22https://a.io/s.css%22/security=p:")


def test_preview_url_with_a_ready_made_policy_sends_it_as_it_is() -> None:
    made = Security.create("SECRET", expires_in=600)
    ready = Security.from_signature(made.policy_b64, made.signature)
    url = Filelink(HANDLE, security=ready).preview_url()
    assert url.endswith(f"/preview/{ready.as_url_string()}/{HANDLE}")
