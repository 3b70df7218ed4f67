"""A small in-memory Filestack for the sync facade tests, served through httpx.MockTransport.

It answers the calls the facade is tested with: file content and metadata, the
upload flow (start, upload, storage PUT, complete), the File API store of small files,
``/process`` (upload_url),
store and video_convert on the CDN, overwrite and delete. ``hang`` makes one kind
of request wait until it is cancelled (recording that it was), for Ctrl+C tests.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field

import anyio
import httpx

from ..fakes import form_file

BASE = "http://fake.test"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
CONTENT = b"hello from the fake service"


def new_handle(number: int) -> str:
    return f"New{number:017d}"


@dataclass
class FakeFilestack:
    """The service state; `transport()` serves it."""

    files: dict[str, bytes] = field(default_factory=lambda: {HANDLE: CONTENT})
    requests: list[str] = field(default_factory=list)
    #: request kinds ("put", "start", "get"...) that wait until cancelled
    hang: set[str] = field(default_factory=set)
    hanging: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    parts: dict[str, bytes] = field(default_factory=dict)
    polls: int = 0
    #: the threads requests were handled on
    threads: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _store(self, data: bytes) -> str:
        with self._lock:
            handle = new_handle(len(self.files))
            self.files[handle] = data
        return handle

    async def _maybe_hang(self, kind: str) -> None:
        if kind not in self.hang:
            return
        self.hanging.set()
        try:
            await anyio.sleep(3600)
        except anyio.get_cancelled_exc_class():
            self.cancelled.set()
            raise

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = self._kind(request)
        self.requests.append(kind)
        self.threads.add(threading.get_ident())
        await self._maybe_hang(kind)
        if kind == "start":
            upload_id = f"UP{len(self.requests)}"
            return httpx.Response(
                200,
                json={"uri": "/b/k", "region": "r", "upload_id": upload_id, "location_url": BASE},
            )
        if kind == "upload":
            body = json.loads(request.content)
            url = f"{BASE}/storage/{body['upload_id']}/{body['part']}"
            return httpx.Response(200, json={"url": url, "headers": {"X-Part": str(body["part"])}})
        if kind == "put":
            data = await request.aread()
            self.parts[path] = data
            return httpx.Response(200, headers={"ETag": hashlib.md5(data).hexdigest()})
        if kind == "complete":
            body = json.loads(request.content)
            prefix = f"/storage/{body['upload_id']}/"
            chunks = sorted(
                (int(p[len(prefix) :]), d) for p, d in self.parts.items() if p.startswith(prefix)
            )
            handle = self._store(b"".join(d for _, d in chunks))
            return httpx.Response(200, json={"handle": handle, "url": f"{BASE}/{handle}"})
        if kind == "process":
            handle = self._store(
                b"fetched from " + json.loads(request.content)["sources"][0].encode()
            )
            return httpx.Response(200, json={"handle": handle, "url": f"{BASE}/{handle}"})
        if kind == "api-store":
            form = form_file(request.headers["content-type"], request.content)
            assert form.field == "fileUpload"
            handle = self._store(form.data)
            return httpx.Response(200, json={"url": f"{BASE}/api/file/{handle}", "size": 0})
        if kind == "store":
            source = path.rsplit("/", 1)[-1]
            handle = self._store(self.files.get(source, b"") + b" (transformed)")
            return httpx.Response(200, json={"handle": handle, "url": f"{BASE}/{handle}"})
        if kind == "video_convert":
            self.polls += 1
            if self.polls < 3:
                return httpx.Response(
                    200, json={"uuid": "UUID1", "timestamp": "1", "status": "started"}
                )
            handle = self._store(b"converted video")
            return httpx.Response(
                200,
                json={"uuid": "UUID1", "status": "completed", "data": {"url": f"{BASE}/{handle}"}},
            )
        if kind == "metadata":
            handle = path.split("/")[1]
            return httpx.Response(200, json={"size": len(self.files[handle]), "filename": "f.txt"})
        if kind == "delete":
            self.files.pop(path.rsplit("/", 1)[-1], None)
            return httpx.Response(200, json={})
        if kind == "overwrite":
            self.files[path.rsplit("/", 1)[-1]] = b"overwritten"
            return httpx.Response(200, json={})
        handle = path.rsplit("/", 1)[-1]
        if handle not in self.files:
            return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(200, content=self.files[handle])

    @staticmethod
    def _kind(request: httpx.Request) -> str:
        path = request.url.path
        if path.startswith("/multipart/"):
            return path.split("/")[2]
        if path.startswith("/storage/"):
            return "put"
        if path == "/process":
            return "process"
        if path.startswith("/api/store/"):
            return "api-store"
        if path.startswith("/api/file/"):
            return "delete" if request.method == "DELETE" else "overwrite"
        if path.endswith("/metadata"):
            return "metadata"
        if "store=" in path or path.rstrip("/").split("/")[-2:-1] == ["store"]:
            return "store"
        if "video_convert" in path:
            return "video_convert"
        return "get"
