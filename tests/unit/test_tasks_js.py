"""The catalogue's additions from filestack-js and the service's docs (issue 13)."""

from __future__ import annotations

import base64
import json

import pytest

from filestack_async import ConfigurationError, Filelink, Security
from filestack_async._tasks import CustomTask, build_task, custom_task, parse_path, parse_task

HANDLE = "AbCdEfGhIjKlMnOpQrSt"


def test_round_corners_keeps_its_name_and_sends_rounded_corners() -> None:
    url = Filelink(HANDLE).round_corners(radius=4).url
    assert url == f"https://cdn.filestackcontent.com/rounded_corners=radius:4/{HANDLE}"
    with pytest.raises(ConfigurationError, match="unknown processing task 'round_corners'"):
        parse_task("round_corners=radius:4")


@pytest.mark.parametrize(
    ("segment", "params"),
    [
        ("cache=false", {"cache": False}),
        ("cache=true", {"cache": True}),
        ("cache=expiry:3600", {"expiry": 3600}),
    ],
)
def test_cache_has_the_short_form(segment: str, params: dict[str, object]) -> None:
    task = parse_task(segment)
    assert task.as_dict() == params
    assert task.render() == segment
    assert build_task("cache", params).render() == segment


def test_the_js_options_render() -> None:
    link = Filelink(HANDLE)
    assert link.pjpg(quality=50, metadata=False).url.endswith(
        f"/pjpg=metadata:false,quality:50/{HANDLE}"
    )
    assert link.blur_faces(faces="all", blur=4).url.endswith(
        f"/blur_faces=blur:4,faces:all/{HANDLE}"
    )
    assert link.imagesize().url.endswith(f"/imagesize/{HANDLE}")
    assert link.metadata_task(p=["size", "md5"]).url.endswith(f"/metadata=p:[size,md5]/{HANDLE}")
    assert (
        build_task("urlscreenshot", {"orientation": "landscape", "device": "iPhone X"}).render()
        == 'urlscreenshot=device:"iPhone X",orientation:landscape'
    )
    assert (
        build_task("video_convert", {"audio_codec": "libfdk_aac", "frame_count": 3}).render()
        == "video_convert=audio_codec:libfdk_aac,frame_count:3"
    )
    assert parse_task("fallback=handle:x,cache:5").as_dict() == {"file": "x", "cache": 5}


@pytest.mark.parametrize(
    ("task", "params", "message"),
    [
        ("video_convert", {"audio_codec": "opus"}, "audio_codec"),
        ("urlscreenshot", {"orientation": "diagonal"}, "orientation"),
        ("metadata", {"p": ["colour"]}, "'p'"),
        ("pjpg", {"quality": 101}, "quality"),
    ],
)
def test_the_new_parameters_are_validated(
    task: str, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_task(task, params)


def test_a_quoted_url_source_loses_its_quotes() -> None:
    parsed = parse_path('/KEY/resize=width:5/"https://a.io/x,y.png"')
    assert parsed.source == "https://a.io/x,y.png"
    assert parsed.sources == ("https://a.io/x,y.png",)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_the_base64_form_parses_to_the_same_tasks() -> None:
    tasks = [
        {"name": "resize", "params": {"width": 5}},
        {"name": "cache", "params": False},
        {"name": "flip"},
        {"name": "security", "params": {"policy": "P", "signature": "S"}},
    ]
    parsed = parse_path(f"/KEY/b64/{_b64(json.dumps(tasks))}/b64://{_b64('https://a.io/x.png')}")
    assert [t.render() for t in parsed.tasks] == ["resize=width:5", "cache=false", "flip"]
    assert (parsed.apikey, parsed.policy, parsed.signature) == ("KEY", "P", "S")
    assert parsed.source == "https://a.io/x.png"
    assert parse_path(f"/b64/{_b64(json.dumps(tasks[:1]))}/{HANDLE}").apikey is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/KEY/b64/%%%/b64://eA", "not base64"),
        (f"/KEY/b64/{_b64('nope')}/h", "not JSON"),
        (f"/KEY/b64/{_b64('{}')}/h", "JSON list"),
        (f"/KEY/b64/{_b64('[1]')}/h", "needs a 'name'"),
        (f"/KEY/b64/{_b64(json.dumps([{'name': 'fly'}]))}/h", "unknown processing task"),
        (f"/KEY/b64/{_b64('[]')}", "needs tasks and a source"),
    ],
)
def test_a_bad_base64_form_is_a_configuration_error(path: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_path(path)


def test_a_custom_task_is_rendered_as_given_and_marked_unvalidated() -> None:
    task = custom_task("zz_new", {"b": 2, "a": "x/y", "c": [1, [2, True]], "skip": None})
    assert isinstance(task, CustomTask)
    assert not task.validated and build_task("flip").validated
    assert task.render() == 'zz_new=b:2,a:"x/y",c:[1,[2,true]]'
    chain = Filelink(HANDLE).flip().custom_task("resize", width=99999)  # not range-checked
    assert chain.url.endswith(f"/flip/resize=width:99999/{HANDLE}")


def test_preview_url_signed_and_unsigned() -> None:
    assert Filelink(HANDLE).preview_url("https://a.io/s.css") == (
        f'https://cdn.filestackcontent.com/preview=css:"https://a.io/s.css"/{HANDLE}'
    )
    signed = Filelink(HANDLE, security=Security.create("SECRET", expires_in=60)).preview_url()
    assert signed.startswith("https://cdn.filestackcontent.com/preview/security=p:")
    policy = signed.split("security=p:")[1].split(",")[0]
    decoded = json.loads(base64.urlsafe_b64decode(policy + "=" * (-len(policy) % 4)))
    assert decoded["call"] == ["read"] and decoded["handle"] == HANDLE
    with pytest.raises(ConfigurationError, match="expires_in needs security"):
        Filelink(HANDLE).preview_url(expires_in=5)
