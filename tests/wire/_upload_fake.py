"""A fake Upload API over respx for the upload wire tests.

It answers start, upload, the storage PUT, commit and complete like the service,
records every request, checks each PUT body against the ``Content-MD5`` it issued,
stores the bytes by (part, offset), and can inject failures per request kind.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

UPLOAD = "https://upload.filestackapi.com"
LOCATION = "upload-eu-west-1.filestackapi.com"
STORAGE = "https://s3.fake"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"

#: An injected failure: an HTTP status, an exception (type or instance), or a callable
#: deciding per request (returning ``None`` to let it through).
Fault = (
    None
    | int
    | type[httpx.TransportError]
    | Exception
    | Callable[[httpx.Request], httpx.Response | None]
)


def s3_error(
    status: int, code: str, message: str = ""
) -> Callable[[httpx.Request], httpx.Response]:
    """An injected answer the way S3 gives it: an XML ``Error`` document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>"
    )
    return lambda _: httpx.Response(status, text=body, headers={"Content-Type": "application/xml"})


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@dataclass
class FakeUploadAPI:
    """Install with `install(router)`; inspect `requests`, `stored` and the assembled file."""

    location_url: str = LOCATION
    location_region: str | None = "eu-west-1"
    extra_start: dict[str, Any] = field(default_factory=dict)
    #: whether a start with ``fii: true`` is answered ``upload_type: intelligent_ingestion``
    #: (the app has intelligent ingestion); every other start is ``upload_type: regular``
    fii_enabled: bool = True
    complete_202s: int = 0
    requests: list[tuple[str, httpx.Request]] = field(default_factory=list)
    #: PUT bodies per upload id, keyed by (part, offset); offset is 0 for regular parts
    stored: dict[str, dict[tuple[int, int], bytes]] = field(default_factory=dict)
    starts: int = 0
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    put_sizes: list[tuple[int, int, int]] = field(default_factory=list)
    #: consulted on every request of a kind (before queued faults); may return a response
    hooks: dict[str, Callable[[httpx.Request], httpx.Response | None]] = field(default_factory=dict)

    # -- helpers ---------------------------------------------------------------------

    def bodies(self, kind: str) -> list[dict[str, Any]]:
        """The JSON bodies of every request of one kind, in order."""
        return [json.loads(r.content) for k, r in self.requests if k == kind]

    def of(self, kind: str) -> list[httpx.Request]:
        return [r for k, r in self.requests if k == kind]

    def assembled(self, upload_id: str = "UPID") -> bytes:
        """The file as the storage would assemble it: parts in order, chunks by offset.

        The first upload's id is ``UPID``, later ones ``UPID-2``, ``UPID-3``...
        """
        parts: dict[int, dict[int, bytes]] = {}
        for (part, offset), data in self.stored.get(upload_id, {}).items():
            parts.setdefault(part, {})[offset] = data
        out = bytearray()
        for part in sorted(parts):
            expected = 0
            for offset in sorted(parts[part]):
                assert offset == expected, f"gap or overlap in part {part} at {offset}"
                out += parts[part][offset]
                expected += len(parts[part][offset])
        return bytes(out)

    def inject(self, kind: str, *faults: Fault) -> None:
        """Queue failures for the next requests of ``kind`` (upload, put, commit, complete)."""
        self.faults.setdefault(kind, []).extend(faults)

    def _fault(self, kind: str, request: httpx.Request) -> httpx.Response | None:
        hook = self.hooks.get(kind)
        if hook is not None:
            answer = hook(request)
            if answer is not None:
                return answer
        queue = self.faults.get(kind)
        if not queue:
            return None
        fault = queue.pop(0)
        if fault is None:
            return None
        if isinstance(fault, int):
            return httpx.Response(fault, json={"error": f"injected {fault}"})
        if isinstance(fault, Exception):
            raise fault
        if isinstance(fault, type):
            raise fault("injected", request=request)
        return fault(request)

    # -- routes ----------------------------------------------------------------------

    def install(self, router: respx.MockRouter) -> None:
        base = (
            self.location_url
            if self.location_url.startswith("http")
            else f"https://{self.location_url}"
        )
        router.post(f"{UPLOAD}/multipart/start").mock(side_effect=self._start)
        router.post(f"{base}/multipart/upload").mock(side_effect=self._upload)
        router.post(f"{base}/multipart/commit").mock(side_effect=self._commit)
        router.post(f"{base}/multipart/complete").mock(side_effect=self._complete)
        router.put(url__startswith=STORAGE).mock(side_effect=self._put)

    def _start(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(("start", request))
        self.starts += 1
        fault = self._fault("start", request)
        if fault is not None:
            return fault
        fii = json.loads(request.content).get("fii") is True and self.fii_enabled
        answer: dict[str, Any] = {
            "uri": "/bucket/key/file",
            "region": "us-east-1",
            "upload_id": "UPID" if self.starts == 1 else f"UPID-{self.starts}",
            "location_url": self.location_url,
            "upload_type": "intelligent_ingestion" if fii else "regular",
            **self.extra_start,
        }
        if self.location_region:
            answer["location_region"] = self.location_region
        return httpx.Response(200, json=answer)

    def _upload(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(("upload", request))
        fault = self._fault("upload", request)
        if fault is not None:
            return fault
        body = json.loads(request.content)
        offset = body.get("offset", 0)
        url = f"{STORAGE}/{body['upload_id']}/{body['part']}/{offset}?X-Amz-Signature=SIGNED"
        headers = {"Authorization": f"AWS4-HMAC-SHA256 part={body['part']}"}
        if "md5" in body:  # signed without one when the request has none
            headers["Content-MD5"] = body["md5"]
        headers["x-amz-date"] = "20240101T000000Z"
        return httpx.Response(200, json={"url": url, "headers": headers, "location_url": "x"})

    def _put(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(("put", request))
        upload_id, part_text, offset_text = request.url.path.strip("/").split("/")
        part, offset = int(part_text), int(offset_text)
        self.put_sizes.append((part, offset, len(request.content)))
        fault = self._fault("put", request)
        if fault is not None:
            return fault
        data = request.content
        if "Content-MD5" in request.headers and md5_b64(data) != request.headers["Content-MD5"]:
            return httpx.Response(400, text="BadDigest")
        if int(request.headers["Content-Length"]) != len(data):
            return httpx.Response(400, text="IncompleteBody")
        self.stored.setdefault(upload_id, {})[(part, offset)] = data
        return httpx.Response(200, headers={"ETag": f'"etag-{part}-{offset}"'})

    def _commit(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(("commit", request))
        return self._fault("commit", request) or httpx.Response(200, json={})

    def _complete(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(("complete", request))
        fault = self._fault("complete", request)
        if fault is not None:
            return fault
        if self.complete_202s > 0:
            self.complete_202s -= 1
            return httpx.Response(202, json={})
        return httpx.Response(
            200,
            json={
                "handle": HANDLE,
                "url": f"https://cdn.filestackcontent.com/{HANDLE}",
                "size": len(self.assembled(json.loads(request.content)["upload_id"])),
                "status": "Stored",
            },
        )
