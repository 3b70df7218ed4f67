"""Every way of storing a file in the emulator, driven with a policy, for the store-rule tests.

Each route stores ``data`` at ``path`` in ``container`` (where the route has them) under
the policy given, and returns the response that decides: the complete of a multipart
upload, the answer of ``/api/store``, an overwrite, ``/process`` or a processing URL
ending in ``store``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from filestack_async import Security

APIKEY = "POLICY-KEY"


@dataclass
class Target:
    """An emulator with a secret, reached by ``http`` at ``base``."""

    http: httpx.AsyncClient
    base: str
    secret: str
    #: the files `seed` stored
    seeded: set[str] = field(default_factory=set)

    def security(self, **policy: Any) -> Security:
        """A policy signed with the emulator's secret (expiring in 10 minutes)."""
        policy.setdefault("expiry", int(time.time()) + 600)
        return Security(policy, self.secret)

    async def seed(self, data: bytes) -> str:
        """A stored file holding ``data`` (stored under an unrestricted policy); its handle."""
        params = {"key": APIKEY, **self.security().as_params()}
        r = await self.http.post(f"{self.base}/api/store/S3", params=params, content=data)
        assert r.status_code == 200, r.text
        handle = str(r.json()["url"]).rsplit("/", 1)[-1]
        self.seeded.add(handle)
        return handle

    def read_url(self, handle: str) -> str:
        """``handle``'s URL carrying a read policy (a source for ``/process``)."""
        params = self.security(call=["read"], handle=handle).as_params()
        return f"{self.base}/{handle}?policy={params['policy']}&signature={params['signature']}"

    async def handles(self, control: dict[str, str]) -> set[str]:
        """The handles stored now (through the control plane)."""
        r = await self.http.get(f"{self.base}/_emulator/files", headers=control)
        assert r.status_code == 200, r.text
        return {f["handle"] for f in r.json()["files"]}

    async def content(self, handle: str) -> bytes:
        """The bytes stored under ``handle``."""
        r = await self.http.get(self.read_url(handle))
        assert r.status_code == 200, r.text
        return r.content


Route = Callable[[Target, Security, bytes, "str | None", "str | None"], Awaitable[httpx.Response]]


def _placed(path: str | None, container: str | None, **fields: str) -> dict[str, Any]:
    """``fields`` with the ``path`` and ``container`` that are given."""
    given = {"path": path, "container": container}
    return {**fields, **{name: value for name, value in given.items() if value is not None}}


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def multipart(
    target: Target, security: Security, data: bytes, path: str | None, container: str | None
) -> httpx.Response:
    """``/multipart/start``, one part, ``/multipart/complete``."""
    store = _placed(path, container, location="S3")
    start_body = {
        "apikey": APIKEY,
        "filename": "f.bin",
        "mimetype": "application/octet-stream",
        "size": len(data),
        "store": store,
        **security.as_params(),
    }
    r = await target.http.post(f"{target.base}/multipart/start", json=start_body)
    if r.status_code != 200:
        return r
    start = r.json()
    echo = {"uri": start["uri"], "region": start["region"], "upload_id": start["upload_id"]}
    part = {
        "apikey": APIKEY,
        **echo,
        "store": {"location": "S3"},
        "part": 1,
        "size": len(data),
        "md5": _md5_b64(data),
    }
    r = await target.http.post(f"{target.base}/multipart/upload", json=part)
    assert r.status_code == 200, r.text
    signed = r.json()
    put = await target.http.put(signed["url"], content=data, headers=signed["headers"])
    assert put.status_code == 200, put.text
    complete = {
        **start_body,
        **echo,
        "location_region": start["location_region"],
        "parts": [{"part_number": 1, "etag": put.headers["etag"]}],
    }
    return await target.http.post(f"{target.base}/multipart/complete", json=complete)


def _store_query(security: Security, path: str | None, container: str | None) -> dict[str, str]:
    return _placed(path, container, key=APIKEY, **security.as_params())


async def store_body(
    target: Target, security: Security, data: bytes, path: str | None, container: str | None
) -> httpx.Response:
    """``POST /api/store/S3`` with the file as the raw body."""
    query = _store_query(security, path, container)
    return await target.http.post(f"{target.base}/api/store/S3", params=query, content=data)


async def store_form(
    target: Target, security: Security, data: bytes, path: str | None, container: str | None
) -> httpx.Response:
    """``POST /api/store/S3`` with the file as a multipart ``fileUpload`` field."""
    query = _store_query(security, path, container)
    return await target.http.post(
        f"{target.base}/api/store/S3", params=query, files={"fileUpload": ("f.bin", data)}
    )


async def overwrite(
    target: Target, security: Security, data: bytes, path: str | None, container: str | None
) -> httpx.Response:
    """``POST /api/file/<handle>`` replacing a stored file (it has no path or container)."""
    handle = await target.seed(b"old")
    return await target.http.post(
        f"{target.base}/api/file/{handle}",
        params=security.as_params(),
        files={"fileUpload": ("f.bin", data)},
    )


async def process(
    target: Target, security: Security, data: bytes, path: str | None, container: str | None
) -> httpx.Response:
    """``POST /process``: store a copy of a stored file, fetched by URL."""
    source = await target.seed(data)
    params = _placed(path, container, location="S3")
    body = {
        "apikey": APIKEY,
        "sources": [target.read_url(source)],
        "tasks": [
            {"name": "store", "params": params},
            {"name": "security", "params": security.as_params()},
        ],
    }
    return await target.http.post(f"{target.base}/process", json=body)


async def processing_store(
    target: Target, security: Security, data: bytes, path: str | None, container: str | None
) -> httpx.Response:
    """A processing URL ending in ``store`` (``/security=.../store=.../<handle>``)."""
    source = await target.seed(data)
    params = [f"{name}:{json.dumps(value)}" for name, value in (("container", container),
              ("path", path)) if value is not None]  # fmt: skip
    store = "store" + ("=" + ",".join(params) if params else "")
    given = security.as_params()
    segment = f"security=p:{given['policy']},s:{given['signature']}"
    return await target.http.post(f"{target.base}/{segment}/{quote(store, safe=':=,/')}/{source}")


#: every store route, and whether it stores at a path and container of the request's
ROUTES: dict[str, tuple[Route, bool]] = {
    "multipart": (multipart, True),
    "store-body": (store_body, True),
    "store-form": (store_form, True),
    "overwrite": (overwrite, False),
    "process": (process, True),
    "processing-store": (processing_store, True),
}
