"""Transformation as a value: immutability, equality, sources and URLs (no I/O)."""

from __future__ import annotations

import copy
import re
import time

import pytest

from filestack_async import Client, ConfigurationError, Filelink, Security, Transformation
from filestack_async._security import decode_policy

CDN = "https://cdn.filestackcontent.com"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
OTHER = "ZyXwVuTsRqPoNmLkJiHg"
_MADE = Security({"expiry": 1572390000, "call": ["read", "convert"]}, "SECRET")
#: a ready-made policy (no secret): signed URLs carry it as it is, so URLs can be compared
SECURITY = Security.from_signature(_MADE.policy_b64, _MADE.signature)
SEG = SECURITY.as_url_string()


def test_task_methods_return_new_objects_and_leave_the_original_unchanged() -> None:
    base = Transformation(handle=HANDLE)
    resized = base.resize(width=10)
    flipped = resized.flip()
    assert base.tasks == ()
    assert [t.render() for t in resized.tasks] == ["resize=width:10"]
    assert [t.render() for t in flipped.tasks] == ["resize=width:10", "flip"]
    assert resized.url == f"{CDN}/resize=width:10/{HANDLE}"


def test_a_transformation_cannot_be_mutated() -> None:
    t = Transformation(handle=HANDLE)
    with pytest.raises(AttributeError, match="immutable"):
        t._tasks = ()
    with pytest.raises(AttributeError):
        t.anything = 1
    with pytest.raises(AttributeError):
        del t._source


def test_equal_chains_compare_and_hash_equal() -> None:
    a = Filelink(HANDLE).resize(height=5, width=4).flip()
    b = Transformation(handle=HANDLE).resize(width=4, height=5).flip()
    assert a == b and hash(a) == hash(b)
    assert a != b.flop()
    assert a != Transformation(handle=OTHER).resize(width=4, height=5).flip()
    assert len({a, b, b.flop()}) == 2
    assert a != "not a transformation"
    assert copy.copy(a) == a


def test_repr_shows_the_chain_and_never_a_secret() -> None:
    t = Transformation(
        "SECRETKEY", external_url="https://x.io/a.png?token=hidden", security=SECURITY
    ).resize(width=3)
    text = repr(t)
    assert text == "<Transformation resize=width:3 on https://x.io/a.png>"
    for secret in ("SECRETKEY", "hidden", SECURITY.signature, SECURITY.policy_b64):
        assert secret not in text
    assert repr(Transformation(handles=[HANDLE, OTHER], apikey="K")) == (
        "<Transformation (no tasks) on 2 files>"
    )


def test_filelink_tasks_start_a_chain_on_the_handle_with_its_security() -> None:
    link = Filelink(HANDLE, security=SECURITY)
    t = link.sepia(tone=80)
    assert isinstance(t, Transformation)
    assert t.handle == HANDLE and t.security is SECURITY
    assert t.url == f"{CDN}/sepia=tone:80/{HANDLE}"
    assert t.signed_url() == f"{CDN}/sepia=tone:80/{SEG}/{HANDLE}"


def test_signed_url_needs_security() -> None:
    t = Transformation(handle=HANDLE).flip()
    with pytest.raises(ConfigurationError, match="security is required to sign a URL"):
        t.signed_url()
    assert t.signed_url(SECURITY) == f"{CDN}/flip/{SEG}/{HANDLE}"


def test_external_sources_carry_the_apikey() -> None:
    t = Transformation("KEY", external_url="https://a.io/i.png").flip()
    assert t.url == f"{CDN}/KEY/flip/https://a.io/i.png"
    assert t.signed_url(SECURITY) == f"{CDN}/KEY/flip/{SEG}/https://a.io/i.png"
    alias = Transformation("KEY", external_url="src://my-s3/folder/i.png").flip()
    assert alias.url == f"{CDN}/KEY/flip/src://my-s3/folder/i.png"
    assert alias.external_url == "src://my-s3/folder/i.png"


def test_query_and_fragment_of_an_external_url_stay_in_the_source() -> None:
    t = Transformation("KEY", external_url="https://a.io/i.png?size=2#x")
    assert t.url == f"{CDN}/KEY/https://a.io/i.png%3Fsize=2%23x"


def test_multi_file_sources_render_as_a_bracketed_list() -> None:
    t = Transformation("KEY", handles=[HANDLE, OTHER]).pdfcreate(engine="mupdf")
    assert t.url == f"{CDN}/KEY/pdfcreate=engine:mupdf/[{HANDLE},{OTHER}]"
    assert t.handles == (HANDLE, OTHER) and t.handle is None and t.external_url is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "exactly one of"),
        ({"handle": HANDLE, "external_url": "https://a.io"}, "exactly one of"),
        ({"handle": "short"}, "is not a Filestack handle"),
        ({"external_url": "ftp://a.io/x", "apikey": "K"}, "http\\(s\\) URL or a storage alias"),
        ({"external_url": "https://a.io/a b", "apikey": "K"}, "spaces"),
        ({"external_url": "https://a.io/x"}, "API key is required"),
        ({"handles": [HANDLE]}, "API key is required"),
        ({"handles": [], "apikey": "K"}, "non-empty list"),
        ({"handles": "AbCdEfGhIjKlMnOpQrSt", "apikey": "K"}, "non-empty list"),
        ({"handles": ["a,b"], "apikey": "K"}, "without commas"),
        ({"handle": HANDLE, "security": "policy"}, "Security object"),
        ({"handle": HANDLE, "apikey": " "}, "non-empty string"),
    ],
)
def test_bad_sources_are_rejected(kwargs: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        Transformation(**kwargs)  # type: ignore[arg-type]


def test_properties() -> None:
    t = Transformation("K", handle=HANDLE, security=SECURITY)
    assert (t.apikey, t.security, t.handle) == ("K", SECURITY, HANDLE)
    assert t.context.apikey == "K"


async def test_client_constructors() -> None:
    async with Client("APIKEY") as client:
        ext = client.transform_external("https://example.com/a.png").resize(width=100)
        assert ext.url == f"{CDN}/APIKEY/resize=width:100/https://example.com/a.png"
        shot = client.urlscreenshot("https://example.com", agent="desktop", width=1024)
        assert (
            shot.url == f"{CDN}/APIKEY/urlscreenshot=agent:desktop,width:1024/https://example.com"
        )
        many = client.transform_handles([HANDLE, OTHER]).animate(delay=100, loop=0)
        assert many.url == f"{CDN}/APIKEY/animate=delay:100,loop:0/[{HANDLE},{OTHER}]"
        # a Filelink of the client keeps the API key for store but not in plain URLs
        chained = client.filelink(HANDLE).flip()
        assert chained.apikey == "APIKEY"
        assert chained.url == f"{CDN}/flip/{HANDLE}"
        with pytest.raises(ConfigurationError, match="urlscreenshot: parameter 'agent'"):
            client.urlscreenshot("https://example.com", agent="tablet")  # type: ignore[arg-type]


async def test_closed_client_refuses_new_chains() -> None:
    client = Client("APIKEY")
    await client.aclose()
    with pytest.raises(ConfigurationError, match="closed"):
        client.transform_external("https://example.com/a.png")


def test_values_with_separators_are_quoted_in_url_and_encoded_on_the_wire() -> None:
    t = Transformation(handle=HANDLE).minify_js(targets="> 1%, not dead")
    assert t.url == f'{CDN}/minify_js=targets:"> 1%, not dead"/{HANDLE}'
    assert t.request_url() == f"{CDN}/minify_js=targets:%22%3E%201%25,%20not%20dead%22/{HANDLE}"


def _url_policy(url: str) -> dict[str, object]:
    """The policy a signed URL carries, decoded."""
    segment = next(part for part in url.split("/") if part.startswith("security=p:"))
    policy_b64 = segment.removeprefix("security=p:").split(",s:")[0]
    return decode_policy(policy_b64)


APP = Security.create("SECRET", expires_in=30 * 86400)  # the app's whole power, for a month


def _expires_in(policy: dict[str, object], before: float) -> float:
    expiry = policy["expiry"]
    assert isinstance(expiry, int)
    return expiry - before


def test_a_chain_signed_with_the_secret_reads_and_converts_its_handle_only() -> None:
    before = time.time()
    url = Transformation(handle=HANDLE, security=APP).resize(width=10).signed_url()
    assert url.startswith(f"{CDN}/resize=width:10/security=p:") and url.endswith(HANDLE)
    policy = _url_policy(url)
    assert {k: v for k, v in policy.items() if k != "expiry"} == {
        "call": ["read", "convert"],
        "handle": HANDLE,
    }
    assert 3599 <= _expires_in(policy, before) <= 3600 + (time.time() - before) + 1
    no_tasks = _url_policy(Transformation(handle=HANDLE, security=APP).signed_url())
    assert no_tasks["call"] == ["read"]


def test_a_chain_on_an_external_url_is_bound_to_that_url() -> None:
    source = "https://a.io/i.png"
    url = Transformation("KEY", external_url=source, security=APP).flip().signed_url()
    policy = _url_policy(url)
    assert policy["call"] == ["read", "convert"] and "handle" not in policy
    pattern = policy["url"]
    assert isinstance(pattern, str)
    assert re.fullmatch(pattern, source) and not re.fullmatch(pattern, source + "x")


def test_a_chain_on_several_files_gets_the_calls_and_lifetime_but_no_handle() -> None:
    t = Transformation(handles=[HANDLE, OTHER], apikey="KEY", security=APP).zip()
    policy = _url_policy(t.signed_url())
    assert policy["call"] == ["read", "convert"] and "handle" not in policy


def test_chain_signed_url_can_be_widened_and_shortened() -> None:
    before = time.time()
    t = Transformation(handle=HANDLE, security=APP).flip()
    policy = _url_policy(t.signed_url(call=["read", "convert", "stat"], expires_in=600))
    assert policy["call"] == ["read", "convert", "stat"]
    assert 599 <= _expires_in(policy, before) <= 600 + (time.time() - before) + 1
    with pytest.raises(ConfigurationError, match="need a Security that holds the app secret"):
        t.signed_url(SECURITY, expires_in=600)
    with pytest.raises(ConfigurationError, match="call must be a list"):
        t.signed_url(call="read")
