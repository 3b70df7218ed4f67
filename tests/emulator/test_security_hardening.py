"""Regressions of the emulator's security hardening (issue 14): store rules on every store
route, uploads bound to their key, the control plane's secret and bind rule, body caps,
handle validation, policy regexes that cannot stall the loop, and /process's loopback
check on resolved addresses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from filestack_async import Security
from filestack_async.emulator import Emulator, EmulatorServer, EmulatorTransport
from filestack_async.emulator.app import IN_PROCESS_URL
from filestack_async.emulator.policy_regex import PatternError, fullmatch
from filestack_async.emulator.server import OpenBindError, check_bind
from filestack_async.emulator.web import MAX_JSON_BODY

from ..policy_routes import APIKEY as POLICY_KEY
from ..policy_routes import ROUTES, Target
from .conftest import APIKEY, MiB, Origin, md5_b64

SECRET = "HARDENING-SECRET"


def sec(**policy: Any) -> Security:
    policy.setdefault("expiry", int(time.time()) + 600)
    return Security(policy, SECRET)


class CountingBody:
    """A streamed request body of ``blocks`` blocks of 64 KiB, counting those pulled."""

    def __init__(self, blocks: int, fill: bytes = b"x", head: bytes = b"") -> None:
        self.blocks, self.fill, self.head = blocks, fill, head
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head:
            yield self.head
        for _ in range(self.blocks):
            self.pulled += 1
            yield self.fill * 65536


@pytest.fixture
async def secured(make_emulator: Callable[..., Emulator]) -> AsyncIterator[Origin]:
    emulator = make_emulator(secret=SECRET)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        yield Origin(emulator, http, IN_PROCESS_URL, "in-process")


@pytest.fixture
async def lenient(make_emulator: Callable[..., Emulator]) -> AsyncIterator[Origin]:
    emulator = make_emulator()
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        yield Origin(emulator, http, IN_PROCESS_URL, "in-process")


# -- 1. maxSize on every store route ------------------------------------------------------


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_max_size_holds_on_every_store_route(secured: Origin, route: str) -> None:
    target = Target(secured.http, secured.base, SECRET)
    store, _ = ROUTES[route]
    r = await store(target, target.security(maxSize=4), b"12345", None, None)
    assert r.status_code == 403, r.text
    assert r.json()["rule"] == "maxSize"
    stored = {f.handle for f in secured.emulator.storage.list_files()}
    assert stored == target.seeded  # nothing new stored


async def test_a_body_past_max_size_is_not_read_to_the_end(secured: Origin) -> None:
    body = CountingBody(10_000)  # 640 MiB if it were all read
    params = {"key": POLICY_KEY, **sec(maxSize=MiB).as_params()}
    r = await secured.http.post(f"{secured.base}/api/store/S3", params=params, content=body)
    assert r.status_code == 403 and r.json()["rule"] == "maxSize"
    assert body.pulled <= MiB // 65536 + 2
    assert not list((secured.emulator.data_dir / "files").iterdir())


async def test_the_store_task_checks_path_and_container(secured: Origin) -> None:
    target = Target(secured.http, secured.base, SECRET)
    store, _ = ROUTES["processing-store"]
    policy = target.security(path="ok/.*", container="good")
    r = await store(target, policy, b"data", "elsewhere/x", None)
    assert r.status_code == 403 and r.json()["rule"] == "path"
    r = await store(target, policy, b"data", "ok/x", "other")
    assert r.status_code == 403 and r.json()["rule"] == "container"
    r = await store(target, policy, b"data", "ok/x", "good")
    assert r.status_code == 200, r.text


# -- 2. upload sessions bound to their key and policy -------------------------------------


async def test_complete_with_only_an_upload_id_is_refused(lenient: Origin) -> None:
    start = await lenient.start(3)
    put = await lenient.put_piece(start, 1, b"abc")
    r = await lenient.complete(start, parts=[{"part_number": 1, "etag": put.headers["etag"]}])
    assert r.status_code == 200, r.text
    bare = {"upload_id": start["upload_id"]}
    again = await lenient.http.post(f"{lenient.base}/multipart/complete", json=bare)
    assert again.status_code == 400, again.text
    assert "handle" not in again.json() and "apikey" in again.json()["error"]


async def test_a_retried_complete_needs_the_policy_with_a_secret(secured: Origin) -> None:
    security = sec(call=["pick"])
    start = await secured.start(3, **security.as_params())
    put = await secured.put_piece(start, 1, b"abc")
    parts = [{"part_number": 1, "etag": put.headers["etag"]}]
    r = await secured.complete(start, parts=parts, **security.as_params())
    assert r.status_code == 200, r.text
    body = {"apikey": APIKEY, "upload_id": start["upload_id"]}
    again = await secured.http.post(f"{secured.base}/multipart/complete", json=body)
    assert again.status_code == 403 and again.json()["rule"] == "required"


async def test_an_upload_started_with_one_key_does_not_go_on_with_another(
    lenient: Origin,
) -> None:
    start = await lenient.start(3)
    other = {**lenient.common(start), "apikey": "ANOTHER-KEY"}
    url = lenient.location(start)
    part = {**other, "part": 1, "size": 3, "md5": md5_b64(b"abc")}
    r = await lenient.http.post(f"{url}/multipart/upload", json=part)
    assert r.status_code == 403 and r.json()["code"] == "WrongApikey", r.text
    put = await lenient.put_piece(start, 1, b"abc")
    parts = [{"part_number": 1, "etag": put.headers["etag"]}]
    r = await lenient.complete(start, parts=parts, apikey="ANOTHER-KEY")
    assert r.status_code == 403 and r.json()["code"] == "WrongApikey", r.text
    r = await lenient.complete(start, parts=parts)
    assert r.status_code == 200, r.text


async def test_a_repeated_complete_is_bound_to_the_key_that_started_the_upload(
    lenient: Origin,
) -> None:
    start = await lenient.start(3)
    put = await lenient.put_piece(start, 1, b"abc")
    parts = [{"part_number": 1, "etag": put.headers["etag"]}]
    first = await lenient.complete(start, parts=parts)
    assert first.status_code == 200, first.text
    r = await lenient.complete(start, parts=parts, apikey="ANOTHER-KEY")
    assert r.status_code == 403 and r.json()["code"] == "WrongApikey", r.text
    assert "handle" not in r.json()
    again = await lenient.complete(start, parts=parts)  # the starting key: the same answer
    assert again.status_code == 200 and again.json()["handle"] == first.json()["handle"]


async def test_commit_with_another_key_or_a_wrong_signature_is_refused(secured: Origin) -> None:
    security = sec(call=["pick"])
    start = await secured.start(3, fii=True, **security.as_params())
    url = secured.location(start)
    chunk = {**secured.common(start), "part": 1, "size": 3, "md5": md5_b64(b"abc")}
    chunk.update(offset=0, fii=True, **security.as_params())
    signed = (await secured.http.post(f"{url}/multipart/upload", json=chunk)).json()
    put = await secured.http.put(signed["url"], content=b"abc", headers=signed["headers"])
    assert put.status_code == 200, put.text
    commit = {**secured.common(start), "part": 1, "size": 3}
    wrong = {**commit, "policy": security.as_params()["policy"], "signature": "0" * 64}
    r = await secured.http.post(f"{url}/multipart/commit", json=wrong)
    assert r.status_code == 403 and r.json()["rule"] == "signature", r.text
    r = await secured.http.post(f"{url}/multipart/commit", json={**commit, "apikey": "OTHER"})
    assert r.status_code == 403 and r.json()["code"] == "WrongApikey", r.text
    # filestack-python sends no policy on commit (protocol reference §2.4): still fine
    r = await secured.http.post(f"{url}/multipart/commit", json=commit)
    assert r.status_code == 200, r.text
    r = await secured.http.post(f"{url}/multipart/commit", json={**commit, **security.as_params()})
    assert r.status_code == 200, r.text


# -- 3. the control plane: secret, bind rule, where the secret comes from -----------------


async def test_the_control_plane_needs_the_secret_in_process(secured: Origin) -> None:
    handle = await Target(secured.http, secured.base, SECRET).seed(b"keep")
    url = f"{secured.base}/_emulator/reset"
    r = await secured.http.post(url)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = await secured.http.post(url, headers={"X-Emulator-Secret": "nope"})
    assert r.status_code == 401
    assert secured.emulator.storage.get_file(handle) is not None
    r = await secured.http.post(url, headers=secured.emulator.control_headers)
    assert r.status_code == 200
    assert secured.emulator.storage.get_file(handle) is None


async def test_a_secret_with_non_ascii_characters_works(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(secret="sécret")
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        url = f"{IN_PROCESS_URL}/_emulator/files"
        good = {b"X-Emulator-Secret": "sécret".encode()}
        assert (await http.get(url, headers=good)).status_code == 200
        assert (await http.get(url, headers={"X-Emulator-Secret": "secret"})).status_code == 401


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.internal"])
def test_listening_beyond_loopback_needs_a_secret_or_allow_open(host: str) -> None:
    with pytest.raises(OpenBindError, match="--allow-open"):
        check_bind(host, secret=None, allow_open=False)
    check_bind(host, secret="s", allow_open=False)
    check_bind(host, secret=None, allow_open=True)


def test_emulator_server_refuses_before_binding() -> None:
    # a documentation address (RFC 5737): even a regression could not listen on it
    with pytest.raises(OpenBindError, match="without a secret"):
        EmulatorServer(host="192.0.2.1")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.8.9.10"])
def test_loopback_needs_no_secret(host: str) -> None:
    check_bind(host, secret=None, allow_open=False)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "filestack_async.cli", "emulator", "--port", "0", *args]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_the_cli_refuses_to_listen_beyond_loopback_without_a_secret(tmp_path: Path) -> None:
    # a documentation address (RFC 5737): even a regression could not listen on it
    with _cli("--host", "192.0.2.1", "--data-dir", str(tmp_path)) as proc:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "without a secret" in err and "--allow-open" in err
    assert "listening" not in out


@pytest.mark.parametrize("source", ["env", "file"])
def test_the_cli_takes_the_secret_from_the_environment_or_a_file(
    tmp_path: Path, source: str
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("FROM-ELSEWHERE\n")
    args = ["--data-dir", str(tmp_path / "data")]
    env = {}
    if source == "env":
        env["FILESTACK_EMULATOR_SECRET"] = "FROM-ELSEWHERE"
    else:
        args += ["--secret-file", str(secret_file)]
    with _cli(*args, env=env) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[-1]
            with httpx.Client(base_url=url, trust_env=False) as http:
                assert http.get("/_emulator/health").json()["secured"] is True
                assert http.get("/_emulator/files").status_code == 401
                auth = {"Authorization": "Bearer FROM-ELSEWHERE"}
                assert http.get("/_emulator/files", headers=auth).status_code == 200
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=20)
    assert "FROM-ELSEWHERE" not in out + err


def test_the_cli_names_an_unreadable_secret_file(tmp_path: Path) -> None:
    with _cli("--secret-file", str(tmp_path / "missing")) as proc:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "cannot read the secret file" in err


# -- 4. bodies: capped, and not read before the key is checked -----------------------------


async def test_a_json_body_over_the_cap_is_413_naming_it(lenient: Origin) -> None:
    big = b'{"apikey": "' + b"x" * (MAX_JSON_BODY + 10) + b'"}'
    for path in ("/multipart/start", "/multipart/upload", "/process", "/_emulator/faults"):
        r = await lenient.http.post(f"{lenient.base}{path}", content=big)
        assert r.status_code == 413, (path, r.text)
        assert str(MAX_JSON_BODY) in r.json()["error"]


async def test_a_chunked_json_body_is_cut_at_the_cap(lenient: Origin) -> None:
    body = CountingBody(5000, head=b'{"apikey": "')  # 320 MiB if it were all read
    r = await lenient.http.post(f"{lenient.base}/multipart/start", content=body)
    assert r.status_code == 413
    assert body.pulled <= MAX_JSON_BODY // 65536 + 2


async def test_a_wrong_key_is_refused_before_the_body_is_read(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(apikeys=frozenset({"RIGHT"}))
    body = CountingBody(1000)
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        r = await http.post(f"{IN_PROCESS_URL}/api/store/S3?key=WRONG", content=body)
    assert r.status_code == 401
    assert body.pulled <= 1


async def _signed_part(origin: Origin, size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    start = await origin.start(size)
    data = b"p" * size
    body = {**origin.common(start), "part": 1, "size": size, "md5": md5_b64(data)}
    r = await origin.http.post(f"{origin.location(start)}/multipart/upload", json=body)
    assert r.status_code == 200, r.text
    return start, r.json()


async def test_a_part_body_is_stopped_at_its_signed_size(lenient: Origin) -> None:
    start, signed = await _signed_part(lenient, MiB)
    body = CountingBody(3200, fill=b"p")  # 200 MiB if it were all read
    r = await lenient.http.put(signed["url"], content=body, headers=signed["headers"])
    assert r.status_code == 400 and r.json()["code"] == "EntityTooLarge", r.text
    assert body.pulled <= MiB // 65536 + 2
    folder = lenient.emulator.data_dir / "uploads" / start["upload_id"]
    assert [p for p in folder.glob("*") if p.stat().st_size] == []  # nothing kept


@pytest.mark.parametrize(("length", "code"), [(MiB + 1, "EntityTooLarge"), (10, "IncompleteBody")])
async def test_a_content_length_other_than_the_signed_size_is_refused_unread(
    lenient: Origin, length: int, code: str
) -> None:
    _, signed = await _signed_part(lenient, MiB)
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        pulled += 1
        yield b"p" * length

    headers = {**signed["headers"], "Content-Length": str(length)}
    r = await lenient.http.put(signed["url"], content=body(), headers=headers)
    assert r.status_code == 400 and r.json()["code"] == code, r.text
    assert pulled == 0


# -- 5. handles validated on every route --------------------------------------------------


@pytest.mark.parametrize("bad", ["%2E%2E", "%2E", "%00", "AAAAAAAAAAAAAAAAAAA%00"])
@pytest.mark.parametrize("method", ["DELETE", "POST"])
async def test_a_bad_handle_is_400_naming_it(lenient: Origin, bad: str, method: str) -> None:
    params = {"key": APIKEY}
    files = {"fileUpload": ("a", b"a")} if method == "POST" else None
    r = await lenient.http.request(
        method, f"{lenient.base}/api/file/{bad}", params=params, files=files
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "BadHandle" and "is not a handle" in r.json()["error"]
    assert (lenient.emulator.data_dir / "files").is_dir()


# -- 6. policy regexes cannot stall the loop ----------------------------------------------


@pytest.mark.timeout(30, method="signal")  # guards the hang this is about (re stops on signals)
def test_a_pathological_pattern_is_matched_in_linear_time() -> None:
    # Python's re needs about 2**60 steps here
    assert fullmatch("(a+)+b", "a" * 60) is False
    assert fullmatch("(a|aa)*c", "a" * 4000) is False
    assert fullmatch("(a+)+b", "a" * 60 + "b") is True


@pytest.mark.parametrize(
    ("pattern", "subject"),
    [("x" * 300, "x"), ("a", "a" * 5000), ("(?=a)a", "a"), ("(a)\\1", "aa"), ("[[:alpha:]]", "a")],
)
def test_patterns_beyond_the_bounds_are_refused_naming_why(pattern: str, subject: str) -> None:
    with pytest.raises(PatternError):
        fullmatch(pattern, subject)


@pytest.mark.timeout(30)  # a guard against the hang this test is about, not a speed check
async def test_a_hostile_policy_does_not_stall_other_requests(secured: Origin) -> None:
    hostile = {"key": POLICY_KEY, "path": "a" * 60, **sec(path="(a+)+b").as_params()}
    answers: dict[str, int] = {}

    async def store_hostile() -> None:
        r = await secured.http.post(f"{secured.base}/api/store/S3", params=hostile, content=b"x")
        answers["hostile"] = r.status_code

    async def health() -> None:
        r = await secured.http.get(f"{secured.base}/_emulator/health")
        answers["health"] = r.status_code

    async with anyio.create_task_group() as group:
        group.start_soon(store_hostile)
        group.start_soon(health)
    assert answers == {"hostile": 403, "health": 200}


async def test_an_unevaluable_pattern_is_refused_naming_the_rule(secured: Origin) -> None:
    query = {"key": POLICY_KEY, "path": "x", **sec(path="(?=x)x").as_params()}
    r = await secured.http.post(f"{secured.base}/api/store/S3", params=query, content=b"x")
    assert r.status_code == 403 and r.json()["rule"] == "path"
    assert "cannot be evaluated" in r.json()["error"]


# -- 7. /process checks the address a name resolves to -------------------------------------


class _NoClient:
    """Stands in for httpx.AsyncClient: any attempt to connect fails the test."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the emulator tried to connect")


async def test_a_localhost_name_resolving_elsewhere_is_refused(
    lenient: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def rebinding(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port))]

    monkeypatch.setattr(anyio, "getaddrinfo", rebinding)
    monkeypatch.setattr(httpx, "AsyncClient", _NoClient)
    body = {
        "apikey": APIKEY,
        "sources": ["http://rebind.localhost:8080/file"],
        "tasks": [{"name": "store", "params": {"location": "S3"}}],
    }
    r = await lenient.http.post(f"{lenient.base}/process", json=body)
    assert r.status_code == 400 and r.json()["code"] == "BadSource", r.text
    assert "10.0.0.1" in r.json()["error"]


async def test_the_fetch_connects_to_the_address_it_checked(
    lenient: Origin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with EmulatorServer(data_dir=tmp_path / "elsewhere") as elsewhere:
        async with httpx.AsyncClient(trust_env=False) as http:
            source = await Target(http, elsewhere.url, SECRET).seed(b"far away")
        resolved: list[str] = []
        real = socket.getaddrinfo

        async def once(host: str, port: int, **kwargs: Any) -> list[Any]:
            resolved.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        def system(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host == "pinned.localhost":  # a second lookup would be the rebinding window
                raise socket.gaierror(socket.EAI_NONAME, "looked up again")
            return real(host, *args, **kwargs)

        monkeypatch.setattr(anyio, "getaddrinfo", once)
        monkeypatch.setattr(socket, "getaddrinfo", system)
        body = {
            "apikey": APIKEY,
            "sources": [f"http://pinned.localhost:{elsewhere.port}/{source}"],
            "tasks": [{"name": "store", "params": {"location": "S3"}}],
        }
        r = await lenient.http.post(f"{lenient.base}/process", json=body)
        assert r.status_code == 200, r.text
        assert resolved == ["pinned.localhost"]
        assert lenient.emulator.storage.read_bytes(r.json()["handle"]) == b"far away"
