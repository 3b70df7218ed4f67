"""The security campaign, over a real socket against an emulator with a secret:

* the policy's store rules (``maxSize``, ``path``, ``container``) on every way of
  storing a file: for each route a violation of each rule is refused with a 403 naming
  it and stores nothing, and a request within the policy is stored;
* the control plane: every control route without the secret, with a wrong one and
  with the right one (in either header).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from filestack_async.emulator import EmulatorServer

from ..policy_routes import ROUTES, Target

SECRET = "CAMPAIGN-SECRET"
MAX_SIZE = 64


@dataclass
class Secured:
    target: Target
    server: EmulatorServer


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Secured]:
    async with EmulatorServer(data_dir=tmp_path / "emulator", secret=SECRET, strict=True) as srv:
        async with httpx.AsyncClient(trust_env=False) as http:
            yield Secured(Target(http, srv.url, SECRET), srv)


#: (case, size, path, container, the rule that refuses it or None)
CASES = [
    ("within", MAX_SIZE, "ok/a.bin", "good-1", None),
    ("maxSize", MAX_SIZE + 1, "ok/a.bin", "good-1", "maxSize"),
    ("path", 10, "evil/a.bin", "good-1", "path"),
    ("container", 10, "ok/a.bin", "bad", "container"),
]


#: every route with every case it applies to (an overwrite has no path or container)
MATRIX = [
    pytest.param(route, *case, id=f"{route}-{case[0]}")
    for route, (_, places) in sorted(ROUTES.items())
    for case in CASES
    if places or case[4] not in ("path", "container")
]


@pytest.mark.parametrize(("route", "case", "size", "path", "container", "rule"), MATRIX)
async def test_store_rules_hold_on_every_store_route(
    secured: Secured,
    route: str,
    case: str,
    size: int,
    path: str,
    container: str,
    rule: str | None,
) -> None:
    store, _ = ROUTES[route]
    target = secured.target
    control = secured.server.control_headers
    security = target.security(maxSize=MAX_SIZE, path="ok/.*", container="good-.*")
    data = bytes(range(256))[:size]
    before = await target.handles(control)
    r = await store(target, security, data, path, container)
    new = await target.handles(control) - before - target.seeded
    if rule is None:
        assert r.status_code == 200, r.text
        # a new file holds the data (an overwrite changes its file in place)
        (handle,) = target.seeded if route == "overwrite" else new
        assert await target.content(handle) == data
    else:
        assert r.status_code == 403, r.text
        assert r.json()["rule"] == rule
        assert new == set()  # nothing was stored
        if route == "overwrite":
            (handle,) = target.seeded
            assert await target.content(handle) == b"old"


CONTROL_ROUTES = [
    ("POST", "/_emulator/reset"),
    ("GET", "/_emulator/files"),
    ("GET", "/_emulator/faults"),
    ("POST", "/_emulator/faults"),
    ("DELETE", "/_emulator/faults"),
    ("GET", "/_emulator/violations"),
    ("DELETE", "/_emulator/violations"),
]


@pytest.mark.parametrize(("method", "path"), CONTROL_ROUTES)
async def test_the_control_plane_needs_the_secret(secured: Secured, method: str, path: str) -> None:
    target = secured.target
    handle = await target.seed(b"keep me")
    body = b'{"seed": 7}' if method == "POST" and path.endswith("faults") else None
    url = f"{target.base}{path}"
    refused_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer WRONG"},
        {"Authorization": f"Basic {SECRET}"},
        {"X-Emulator-Secret": "WRONG"},
        {"X-Emulator-Secret": SECRET[:-1]},
        {"Authorization": f"Bearer {SECRET}x"},
    ]
    for headers in refused_headers:
        r = await target.http.request(method, url, headers=headers, content=body)
        assert r.status_code == 401, (headers, r.text)
        assert "secret" in r.json()["error"]
        assert SECRET not in r.text
    # nothing was done: the file is still there and no fault is set
    assert secured.server.emulator.faults.faults.seed == 0
    assert await target.content(handle) == b"keep me"
    for headers in ({"Authorization": f"Bearer {SECRET}"}, {"X-Emulator-Secret": SECRET}):
        r = await target.http.request(method, url, headers=headers, content=body)
        assert r.status_code == 200, r.text
    # health stays open (a liveness probe), and says it is secured
    health = await target.http.get(f"{target.base}/_emulator/health")
    assert health.status_code == 200 and health.json()["secured"] is True
