"""Exact requests of audio/video conversion (filestack-protocol.md §8)."""

from __future__ import annotations

import pytest
import respx

from filestack_async import APIResponseValidationError, Client, ConfigurationError
from filestack_async._tasks import parse_task

from .conftest import APIKEY, CDN, HANDLE, SECURITY, Sleeps

SEG = SECURITY.as_url_string()
NEW = "NeWhAnDlEnEwHaNdLe12"
STARTED = {
    "data": {},
    "metadata": {"result": {}, "source": {}},
    "status": "started",
    "timestamp": "1522783969",
    "uuid": "u-42",
}


def sent(route: respx.Route) -> list[str]:
    return [f"{c.request.method} {c.request.url.raw_path.decode()}" for c in route.calls]


@respx.mock
async def test_av_convert_sends_every_parameter_sorted(client: Client) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, json=STARTED)
    av = await client.filelink(HANDLE).av_convert(
        preset="h264",
        width=320,
        height=240,
        aspect_mode="letterbox",
        two_pass=False,
        fps=25,
        video_bitrate=800,
        audio_bitrate=128,
        audio_channels=2,
        audio_sample_rate=44100,
        clip_length="00:00:05",
        clip_offset="00:00:01",
        access="public",
        location="S3",
        filename="out.mp4",
    )
    assert sent(route) == [
        "GET /video_convert=access:public,aspect_mode:letterbox,audio_bitrate:128,"
        "audio_channels:2,audio_sample_rate:44100,clip_length:00:00:05,clip_offset:00:00:01,"
        "filename:out.mp4,fps:25,height:240,location:S3,preset:h264,two_pass:false,"
        f"video_bitrate:800,width:320/{HANDLE}"
    ]
    assert (av.uuid, av.timestamp) == ("u-42", "1522783969")


@respx.mock
async def test_external_source_sends_the_apikey_and_security_signs(client: Client) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, json=STARTED)
    chain = client.transform_external("https://a.io/v.mov")
    await chain.av_convert(preset="webm", security=SECURITY)
    assert sent(route) == [f"GET /{APIKEY}/video_convert=preset:webm/{SEG}/https://a.io/v.mov"]


@respx.mock
async def test_polling_gets_the_same_url_until_completed(client: Client, sleeps: Sleeps) -> None:
    done = {**STARTED, "status": "completed", "data": {"url": f"{CDN}/{NEW}"}}
    route = respx.get(host="cdn.filestackcontent.com")
    route.side_effect = [
        respx.MockResponse(200, json=STARTED),
        respx.MockResponse(200, json={**STARTED, "status": "pending"}),
        respx.MockResponse(200, json=done),
    ]
    av = await client.filelink(HANDLE).resize(width=10).av_convert(preset="mp3")
    link = await av.wait_until_complete(initial_delay=1, jitter=False, clock=lambda: 0.0)
    assert link.handle == NEW and link.apikey == APIKEY
    expected = f"GET /resize=width:10/video_convert=preset:mp3/{HANDLE}"
    assert sent(route) == [expected] * 3
    assert sleeps == [1]  # start, then pending (wait 1 s), then completed


@respx.mock
async def test_answer_without_uuid_is_a_validation_error(client: Client) -> None:
    respx.get(host="cdn.filestackcontent.com").respond(200, json={"status": "started"})
    with pytest.raises(APIResponseValidationError, match="uuid"):
        await client.filelink(HANDLE).av_convert(preset="h264")


async def test_parameters_are_validated_before_any_request(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="video_convert: parameter 'fps'"):
        await client.filelink(HANDLE).av_convert(fps=0)
    with pytest.raises(TypeError):
        await client.filelink(HANDLE).av_convert("h264")  # type: ignore[call-arg]


@respx.mock
async def test_a_parsed_video_convert_task_sends_what_av_convert_sends(client: Client) -> None:
    route = respx.get(host="cdn.filestackcontent.com").respond(200, json=STARTED)
    chain = client.transform_external("https://a.io/v.mov").with_tasks("resize=width:10")
    task = parse_task("video_convert=preset:webm,width:320")
    av = await chain.av_convert_task(task, security=SECURITY)
    await chain.av_convert(preset="webm", width=320, security=SECURITY)
    expected = f"GET /{APIKEY}/resize=width:10/video_convert=preset:webm,width:320/{SEG}/https://a.io/v.mov"
    assert sent(route) == [expected, expected]
    assert av.uuid == "u-42"
    # the conversion polls the same signed URL
    await av.status()
    assert sent(route)[-1] == expected
