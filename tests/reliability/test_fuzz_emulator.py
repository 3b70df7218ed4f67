"""Fuzzing the emulator's HTTP surface in-process.

Random processing paths (task strings valid and not, security segments, handles,
unicode, percent-encoding, huge parameters), random JSON and raw bodies to the
``/multipart/*`` endpoints, random part PUTs (headers, query, bodies), File API,
metadata and ``Range`` requests: the emulator (faults off) never answers 5xx and
never raises; a 4xx carries a reason (a JSON ``error`` or text). Afterwards the
emulator still serves a normal upload and download.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import httpx
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from filestack_async.emulator import Emulator, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL
from filestack_async.testing import EmulatorFactory

from .conftest import Campaign, fuzz_settings
from .fuzz_strategies import CHAIN_SPECS, GRAMMAR_CHARS_QUOTE, text_values, valid_params

T = TypeVar("T")
APIKEY = "EMULATOR-APIKEY"
_SEGMENT_SAFE = "/:,=[]@!$&'()*+;-._~"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Target:
    """An emulator, its stored files and a way to send it one request."""

    emulator: Emulator
    image: str
    text: str
    text_bytes: bytes
    statuses: Counter[int] = field(default_factory=Counter)

    def run(self, call: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        async def main() -> T:
            transport = EmulatorTransport(self.emulator.app)
            async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL) as http:
                return await call(http)

        return anyio.run(main)

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def call(http: httpx.AsyncClient) -> httpx.Response:
            response = await http.request(method, url, **kwargs)
            await response.aread()
            return response

        response = self.run(call)
        check_answer(response)
        self.statuses[response.status_code] += 1
        return response


def check_answer(response: httpx.Response) -> None:
    """No 5xx; a 4xx says why (a JSON ``error`` or some text)."""
    request = response.request
    assert response.status_code < 500, (request.method, str(request.url)[:300], response.text)
    if response.status_code >= 400 and request.method != "HEAD":
        if response.headers.get("content-type", "").startswith("application/json"):
            assert response.json().get("error"), response.text
        else:
            assert response.content.strip() or response.status_code in (405, 416), response


def _make_target(factory: EmulatorFactory) -> Target:
    emulator = factory(max_image_pixels=2_000_000)
    text_bytes = b"fuzz text file\n" * 100

    async def upload(http: httpx.AsyncClient) -> tuple[str, str]:
        async with emulator.client() as client:
            image = await client.upload(
                content=_png(), store_params={"filename": "i.png", "mimetype": "image/png"}
            )
            text = await client.upload(content=text_bytes, store_params={"filename": "t.txt"})
        return image.handle, text.handle

    target = Target(emulator, "", "", text_bytes)
    target.image, target.text = target.run(upload)
    return target


def _still_works(target: Target) -> None:
    """After the campaign a normal upload and download still succeed, with no fault on."""

    async def round_trip(http: httpx.AsyncClient) -> bytes:
        async with target.emulator.client() as client:
            link = await client.upload(content=b"after the fuzz" * 1000)
            return await link.get_content()

    assert target.run(round_trip) == b"after the fuzz" * 1000
    print(f"\nstatuses: {dict(sorted(target.statuses.items()))}")


# -- processing URLs -------------------------------------------------------------------


@st.composite
def task_segments(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:  # a valid task with valid parameters, as the SDK sends it
        spec = draw(st.sampled_from(CHAIN_SPECS))
        from filestack_async._tasks import build_task

        return quote(build_task(spec.name, draw(valid_params(spec))).render(), safe=_SEGMENT_SAFE)
    if kind == 1:  # a known task with random parameter text
        spec = draw(st.sampled_from(CHAIN_SPECS))
        key = draw(st.sampled_from([*spec._by_name, "x", ""]))
        value = draw(st.text(st.one_of(GRAMMAR_CHARS_QUOTE, st.characters()), max_size=20))
        return f"{spec.name}={key}:{value}"
    if kind == 2:  # huge parameters
        size = draw(st.sampled_from([100, 5000, 20000]))
        filler = draw(st.sampled_from(["9", "[", "]", "[1,", "a", '"', "%", "é"]))
        name = draw(st.sampled_from(["resize=w:", "crop=dim:", "partial_blur=objects:", "x="]))
        return name + filler * size
    if kind == 3:  # security segments, well-formed or not
        policy = draw(
            st.one_of(
                st.just(base64.urlsafe_b64encode(b'{"expiry": 1}').decode()),
                st.text(max_size=30),
                st.binary(max_size=30).map(lambda b: base64.urlsafe_b64encode(b).decode()),
            )
        )
        signature = draw(
            st.one_of(st.text(max_size=70), st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
        )
        return f"security=p:{policy},s:{signature}"
    if kind == 4:
        return draw(st.sampled_from(["debug", "store", "flip", "video_convert", "output=f:png"]))
    return draw(text_values(0, 16))


def _sources(target: Target) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([target.image, target.text]),
        st.from_regex(r"[A-Za-z0-9]{20}", fullmatch=True),
        st.sampled_from(
            [
                f"{IN_PROCESS_URL}/{target.image}",
                "https://example.com/x.png",
                "http://127.0.0.1:9/x",
                f"[{target.image},{target.text}]",
                "src://alias/path",
                "http://[::1/x",
                "http://127.0.0.1:99999/x",
                "http://localhost:0/x",
                "https://user:pw@127.0.0.1:1/x?y#z",
                "ftp://127.0.0.1/x",
                "",
                "%",
                "%00",
                "..",
                "😀",
            ]
        ),
        text_values(1, 30),
    )


def test_random_processing_paths(
    campaign: Campaign, filestack_emulator_factory: EmulatorFactory
) -> None:
    target = _make_target(filestack_emulator_factory)

    @fuzz_settings(campaign, database=None)
    @given(
        data=st.data(),
        apikey=st.one_of(st.none(), st.just(APIKEY), text_values(1, 10)),
        tasks=st.lists(task_segments(), max_size=4),
        method=st.sampled_from(["GET", "GET", "HEAD", "POST"]),
        safe=st.sampled_from([_SEGMENT_SAFE + '%"', _SEGMENT_SAFE, "/", ""]),
        query=st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(["policy", "signature", "dl", "cache"]), st.text(max_size=10)
            ),
        ),
    )
    def check(
        data: st.DataObject,
        apikey: str | None,
        tasks: list[str],
        method: str,
        safe: str,
        query: dict[str, str] | None,
    ) -> None:
        source = data.draw(_sources(target))
        segments = ([apikey] if apikey else []) + tasks + [source]
        path = (
            quote("/".join(segments), safe=safe)
            if safe != _SEGMENT_SAFE + '%"'
            else "/".join(segments)
        )
        try:
            url = httpx.URL(str(httpx.URL(f"{IN_PROCESS_URL}/{path}", params=query)))
        except httpx.InvalidURL:
            return  # not a URL any client could send (httpx refuses URLs over 64 KiB)
        target.send(method, str(url))

    check()
    _still_works(target)


# -- the Upload API ---------------------------------------------------------------------

json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.integers(0, 20_000_000),
        st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30, 5 * 1024**4 + 1]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(["S3", "us-east-1", APIKEY, "", "1", "x" * 2000]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = [
    "apikey",
    "upload_id",
    "uri",
    "region",
    "part",
    "size",
    "md5",
    "offset",
    "fii",
    "store",
    "parts",
    "filename",
    "mimetype",
    "policy",
    "signature",
    "upload_tags",
    "part_number",
]


def test_random_multipart_bodies(
    campaign: Campaign, filestack_emulator_factory: EmulatorFactory
) -> None:
    target = _make_target(filestack_emulator_factory)
    real = target.send(
        "POST",
        "/multipart/start",
        json={
            "apikey": APIKEY,
            "filename": "f",
            "mimetype": "a/b",
            "size": 10,
            "store": {"location": "S3"},
        },
    ).json()
    real_fii = target.send(
        "POST",
        "/multipart/start",
        json={"apikey": APIKEY, "filename": "f", "size": 10, "fii": True, "store": {}},
    ).json()
    ids = st.sampled_from([real["upload_id"], real_fii["upload_id"], "nope", ""])

    @st.composite
    def bodies(draw: st.DrawFn) -> dict[str, Any]:
        base: dict[str, Any] = draw(
            st.sampled_from(
                [
                    {},
                    {
                        "apikey": APIKEY,
                        "uri": real["uri"],
                        "region": "us-east-1",
                        "store": {"location": "S3"},
                    },
                ]
            )
        )
        body = dict(base)
        body["upload_id"] = draw(ids)
        for name in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=8)):
            body[name] = draw(json_values)
        if draw(st.booleans()):
            body["parts"] = draw(
                st.lists(
                    st.fixed_dictionaries(
                        {"part_number": json_values, "etag": json_values},
                        optional={"size": json_values},
                    ),
                    max_size=4,
                )
            )
        return body

    valid = _valid_bodies(target)

    @st.composite
    def mutated(draw: st.DrawFn, endpoint: str) -> dict[str, Any]:
        """A body that works, with one to three fields removed or replaced."""
        body = dict(draw(st.sampled_from(valid[endpoint])))
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(sorted({*body, *FIELDS})))
            if draw(st.booleans()) and name in body:
                del body[name]
            else:
                body[name] = draw(json_values)
        return body

    # "\ud800" escapes decode to strings no UTF-8 answer or SQLite row can hold
    surrogate_bodies = st.builds(
        lambda body, field, text: {**body, field: text},
        st.sampled_from(valid["start"] + valid["upload"] + valid["complete"]),
        st.sampled_from(["apikey", "filename", "mimetype", "upload_id", "upload_tags", "store"]),
        st.sampled_from(["\ud800", "a\udfffb", {"k": "\ud800"}, ["\udc80"]]),
    )
    raw_bodies = st.one_of(
        st.binary(max_size=200),
        st.sampled_from([b"", b"[]", b"null", b"1" * 5000, b'{"a":' * 2000, b"\xff\xfe", b"{}"]),
    )

    @fuzz_settings(campaign, database=None)
    @given(
        endpoint=st.sampled_from(["start", "upload", "commit", "complete"]),
        body=st.one_of(bodies(), json_values, surrogate_bodies),
        raw=st.one_of(st.none(), raw_bodies),
        content_type=st.sampled_from(
            ["application/json", "text/plain", "", "multipart/form-data; boundary=x"]
        ),
        data=st.data(),
    )
    def check(
        endpoint: str, body: Any, raw: bytes | None, content_type: str, data: st.DataObject
    ) -> None:
        if raw is None and data.draw(st.booleans()):
            body = data.draw(mutated(endpoint))
        content = raw if raw is not None else json.dumps(body).encode()
        headers = {"content-type": content_type} if content_type else {}
        target.send("POST", f"/multipart/{endpoint}", content=content, headers=headers)

    check()
    _still_works(target)


def _valid_bodies(target: Target) -> dict[str, list[dict[str, Any]]]:
    """Bodies each endpoint accepts, for a regular and an intelligent upload of 10 bytes."""
    data = b"0123456789"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    bodies: dict[str, list[dict[str, Any]]] = {
        e: [] for e in ("start", "upload", "commit", "complete")
    }
    for fii in (False, True):
        start_body = {
            "apikey": APIKEY,
            "filename": "f.bin",
            "mimetype": "application/octet-stream",
            "size": 10,
            "store": {"location": "S3"},
            **({"fii": True} if fii else {}),
        }
        start = target.send("POST", "/multipart/start", json=start_body).json()
        common = {**start_body, "uri": start["uri"], "region": start["region"]}
        common["upload_id"] = start["upload_id"]
        part = {**common, "part": 1, "size": 10, "md5": md5}
        if fii:
            part["offset"] = 0
        answer = target.send("POST", "/multipart/upload", json=part).json()
        etag = target.send("PUT", answer["url"], content=data, headers=answer["headers"])
        bodies["start"].append(start_body)
        bodies["upload"].append(part)
        if fii:
            commit = {**common, "part": 1}
            bodies["commit"].append(commit)
            target.send("POST", "/multipart/commit", json=commit)
            bodies["complete"].append(common)
        else:
            parts = [{"part_number": 1, "etag": etag.headers["etag"]}]
            bodies["complete"].append({**common, "parts": parts})
    bodies["commit"].append(bodies["upload"][0])
    return bodies


def test_random_part_puts(campaign: Campaign, filestack_emulator_factory: EmulatorFactory) -> None:
    """PUTs to signed and forged part URLs with random bodies, headers and queries."""
    target = _make_target(filestack_emulator_factory)
    data = b"0123456789"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()

    def signed(fii: bool) -> dict[str, Any]:
        start = target.send(
            "POST",
            "/multipart/start",
            json={
                "apikey": APIKEY,
                "filename": "f",
                "size": 10,
                "fii": fii,
                "store": {"location": "S3"},
            },
        ).json()
        body = {
            "apikey": APIKEY,
            "uri": start["uri"],
            "region": start["region"],
            "upload_id": start["upload_id"],
            "store": {"location": "S3"},
            "part": 1,
            "size": 10,
            "md5": md5,
            **({"offset": 0, "fii": True} if fii else {}),
        }
        answer: dict[str, Any] = target.send("POST", "/multipart/upload", json=body).json()
        return answer

    targets = [signed(False), signed(True)]
    numbers = st.one_of(st.integers(0, 20000).map(str), st.sampled_from(["9" * 5000, "-1", "x"]))

    @fuzz_settings(campaign, database=None)
    @given(
        which=st.sampled_from(targets),
        forge=st.one_of(
            st.none(),
            st.tuples(numbers, numbers),
            st.dictionaries(st.sampled_from(["size", "md5", "token"]), st.text(max_size=12)),
        ),
        body=st.one_of(st.just(data), st.binary(max_size=40)),
        headers=st.dictionaries(
            st.sampled_from(["content-md5", "content-type", "x-amz-date", "range", "expect"]),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
            max_size=3,
        ),
        keep_headers=st.booleans(),
    )
    def check(
        which: dict[str, Any],
        forge: tuple[str, str] | dict[str, str] | None,
        body: bytes,
        headers: dict[str, str],
        keep_headers: bool,
    ) -> None:
        url = httpx.URL(which["url"])
        if isinstance(forge, tuple):
            upload_id = url.path.split("/")[2]
            url = url.copy_with(path=f"/_s3/{upload_id}/{forge[0]}/{forge[1]}")
        elif isinstance(forge, dict):
            url = url.copy_merge_params(forge)
        sent = {**(which["headers"] if keep_headers else {}), **headers}
        try:
            httpx.Request("PUT", url, headers=sent)
        except (httpx.InvalidURL, UnicodeEncodeError, ValueError):
            return
        target.send("PUT", str(url), content=body, headers=sent)

    check()
    _still_works(target)


# -- File API, metadata and ranges -----------------------------------------------------


def test_random_file_api_and_metadata_requests(
    campaign: Campaign, filestack_emulator_factory: EmulatorFactory
) -> None:
    target = _make_target(filestack_emulator_factory)
    handles = st.one_of(
        st.sampled_from([target.image, target.text]),
        st.from_regex(r"[A-Za-z0-9]{20}", fullmatch=True),
        text_values(1, 25).map(lambda t: quote(t, safe="")),
    )
    queries = st.dictionaries(
        st.sampled_from(
            [
                "size",
                "md5",
                "sha256",
                "width",
                "exif",
                "policy",
                "signature",
                "key",
                "nope",
                "base64decode",
                "dl",
                "filename",
                "mimetype",
                "location",
                "uploaded",
            ]
        ),
        st.sampled_from(["true", "false", "TRUE", "", "x", APIKEY, "\u00e9"]),
        max_size=5,
    )
    bodies = st.one_of(
        st.none(),
        st.binary(max_size=100).map(lambda b: ("files", {"fileUpload": ("f.bin", b)})),
        st.binary(max_size=100).map(lambda b: ("files", {"other": ("f.bin", b)})),
        st.text(max_size=40).map(lambda t: ("data", {"url": t})),
        st.binary(max_size=100).map(lambda b: ("content", b)),
    )

    @fuzz_settings(campaign, database=None)
    @given(
        method=st.sampled_from(["GET", "HEAD", "POST", "DELETE"]),
        metadata=st.booleans(),
        via_file_api=st.booleans(),
        handle=handles,
        query=queries,
        body=bodies,
        content_type=st.sampled_from([None, "application/x-www-form-urlencoded", "text/plain"]),
    )
    def check(
        method: str,
        metadata: bool,
        via_file_api: bool,
        handle: str,
        query: dict[str, str],
        body: tuple[str, Any] | None,
        content_type: str | None,
    ) -> None:
        if method == "DELETE" and handle in (target.image, target.text):
            return  # keep the files the other examples read
        if method == "POST" and handle in (target.image, target.text) and "key" in query:
            pass
        prefix = "/api/file/" if via_file_api or method in ("POST", "DELETE") else "/"
        url = prefix + handle + ("/metadata" if metadata and method == "GET" else "")
        kwargs: dict[str, Any] = {"params": query}
        if body is not None and method == "POST":
            kwargs[body[0]] = body[1]
            if content_type and body[0] == "content":
                kwargs["headers"] = {"content-type": content_type}
        response = target.send(method, url, **kwargs)
        if response.status_code == 200 and metadata and method == "GET":
            assert isinstance(response.json(), dict)

    check()
    _still_works(target)


def test_random_range_headers(
    campaign: Campaign, filestack_emulator_factory: EmulatorFactory
) -> None:
    """Any ``Range`` header: the whole file (200), the exact slice it names (206), or 416."""
    target = _make_target(filestack_emulator_factory)
    size = len(target.text_bytes)
    numbers = st.one_of(
        st.integers(0, size + 10).map(str), st.sampled_from(["", "-1", "9" * 5000, " 3", "x"])
    )
    specs = st.one_of(
        st.builds(lambda a, b: f"{a}-{b}", numbers, numbers),
        st.text(st.sampled_from("bytes=-,0123456789 ;"), max_size=20),
    )
    headers = st.one_of(
        st.builds(
            lambda unit, spec: f"{unit}={spec}",
            st.sampled_from(["bytes", "BYTES", "items", " bytes"]),
            specs,
        ),
        st.builds(lambda a, b: f"bytes={a},{b}", specs, specs),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    )

    @fuzz_settings(campaign, database=None)
    @given(header=headers, method=st.sampled_from(["GET", "HEAD"]), file_api=st.booleans())
    def check(header: str, method: str, file_api: bool) -> None:
        url = ("/api/file/" if file_api else "/") + target.text
        response = target.send(method, url, headers={"range": header})
        assert response.status_code in (200, 206, 416), response.status_code
        if response.status_code == 416:
            assert response.headers["content-range"] == f"bytes */{size}"
        if method == "HEAD":
            return
        if response.status_code == 200:
            assert response.content == target.text_bytes
        elif response.status_code == 206:
            unit, _, spec = response.headers["content-range"].partition(" ")
            span, _, total = spec.partition("/")
            first, _, last = span.partition("-")
            assert unit == "bytes" and int(total) == size
            assert response.content == target.text_bytes[int(first) : int(last) + 1]
            assert int(response.headers["content-length"]) == len(response.content)

    check()


def test_random_process_and_control_requests(
    campaign: Campaign, filestack_emulator_factory: EmulatorFactory
) -> None:
    """``POST /process`` with random JSON bodies, and random fault settings posted to the
    control plane (each switched off again at once)."""
    target = _make_target(filestack_emulator_factory)
    valid = {
        "apikey": APIKEY,
        "sources": [f"{IN_PROCESS_URL}/{target.text}"],
        "tasks": [{"name": "store", "params": {"filename": "copy.txt", "location": "S3"}}],
    }
    sources = st.one_of(
        st.sampled_from(
            [
                f"{IN_PROCESS_URL}/{target.image}",
                f"{IN_PROCESS_URL}/security=p:x,s:y/{target.text}",
                "http://[::1/x",
                "http://127.0.0.1:99999/x",
                "https://example.com/x",
                "http://localhost:0/x",
            ]
        ),
        text_values(0, 20),
        json_values,
    )
    params = st.dictionaries(
        st.sampled_from(
            ["filename", "location", "path", "container", "access", "base64decode", "workflows"]
        ),
        json_values,
        max_size=4,
    )
    tasks = st.lists(
        st.one_of(
            st.builds(
                lambda name, p: {"name": name, "params": p},
                st.sampled_from(["store", "security", "resize", ""]),
                params,
            ),
            json_values,
        ),
        max_size=3,
    )

    @fuzz_settings(campaign, scale=0.5, database=None)
    @given(
        body=st.one_of(
            st.builds(
                lambda src, t, key: {**valid, "sources": src, "tasks": t, "apikey": key},
                st.lists(sources, max_size=2),
                tasks,
                st.sampled_from([APIKEY, "", None, 5]),
            ),
            st.builds(lambda t: {**valid, "tasks": t}, tasks),
            json_values,
        )
    )
    def check_process(body: Any) -> None:
        target.send("POST", "/process", json=body)

    check_process()

    rule_keys = st.sampled_from(
        [
            "route",
            "error_rate",
            "status",
            "retry_after",
            "retry_after_rate",
            "reset_rate",
            "delay_rate",
            "delay",
            "x",
        ]
    )
    fault_values = st.one_of(
        json_values,
        st.lists(st.one_of(st.dictionaries(rule_keys, json_values, max_size=4), json_values)),
        st.dictionaries(st.sampled_from(["latency", "bandwidth", "x"]), json_values),
    )
    fault_keys = st.sampled_from(
        [
            "seed",
            "rules",
            "max_chunk_size",
            "chunk_status",
            "chunk_s3_code",
            "complete_202",
            "network",
            "x",
        ]
    )

    @fuzz_settings(campaign, scale=0.5, database=None)
    @given(
        settings_json=st.one_of(st.dictionaries(fault_keys, fault_values, max_size=4), json_values)
    )
    def check_faults(settings_json: Any) -> None:
        target.send("POST", "/_emulator/faults", json=settings_json)
        target.send("DELETE", "/_emulator/faults")

    check_faults()
    target.send("POST", "/_emulator/faults", content=b"[" * 100_000)
    _still_works(target)


def _image(mode: str, size: tuple[int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    image = Image.new(
        mode, size, 120 if mode in ("L", "P", "1") else (10, 200, 30, 128)[: len(mode)]
    )
    image.save(out, fmt)
    return out.getvalue()


def test_random_image_chains_on_stored_images(
    campaign: Campaign, filestack_emulator_factory: EmulatorFactory
) -> None:
    """Chains of the image tasks the emulator runs, with random valid parameters, on images
    of several modes, formats and odd sizes (1x1, 1x40): a result, or a 400 naming the task."""
    from filestack_async import BadRequestError, Filelink
    from filestack_async._tasks import TASKS
    from filestack_async.emulator.processing import IMPLEMENTED

    emulator = filestack_emulator_factory(max_image_pixels=2_000_000)
    kinds = [
        ("RGB", (24, 16), "PNG"),
        ("RGBA", (9, 7), "PNG"),
        ("L", (1, 1), "PNG"),
        ("P", (1, 40), "GIF"),
        ("RGB", (40, 1), "JPEG"),
        ("1", (5, 5), "BMP"),
        ("RGB", (3, 3), "WEBP"),
        ("RGB", (2, 2), "TIFF"),
        ("LA", (4, 4), "PNG"),
    ]
    specs = [TASKS[name] for name in sorted(IMPLEMENTED)]
    outcomes: Counter[str] = Counter()

    async def upload_all() -> list[str]:
        async with emulator.client() as client:
            links = [await client.upload(content=_image(*kind)) for kind in kinds]
        return [link.handle for link in links]

    handles = anyio.run(upload_all)

    @fuzz_settings(campaign, database=None)
    @given(
        handle=st.sampled_from(handles),
        chain=st.lists(
            st.sampled_from(specs).flatmap(
                lambda spec: st.tuples(st.just(spec), valid_params(spec))
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def check(handle: str, chain: list[tuple[Any, dict[str, Any]]]) -> None:
        async def run() -> None:
            async with emulator.client() as client:
                t: Any = Filelink(handle, context=client.context)
                for spec, params in chain:
                    t = getattr(t, spec.method)(**params)
                try:
                    content = await t.get_content()
                except BadRequestError as err:
                    assert err.status_code == 400 and str(err)
                    outcomes["400"] += 1
                    return
                assert content
                outcomes["200"] += 1

        anyio.run(run)

    check()
    print(f"\nimage chains: {dict(outcomes)}")
    assert outcomes["200"]  # the campaign did run chains, not only refusals
