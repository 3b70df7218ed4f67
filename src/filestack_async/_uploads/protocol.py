"""The Upload API requests, field for field (filestack-protocol.md §3 and §4).

`start` opens an upload and returns an `UploadSession`, which then sends the part
requests (``/multipart/upload``, the storage PUT, ``/multipart/commit``) to the
start response's ``location_url``.

Choices beyond the reference SDK (see docs/uploads.md):

* ``policy``/``signature`` go on every Upload API call (start, upload, commit,
  complete), as filestack-js sends them, not only on start and complete;
* ``Filestack-Upload-Region: <location_region>`` goes on every call after start
  when the start response has ``location_region``;
* an empty file, which multipart cannot store, and a small one (below
  ``UploadConfig.multipart_threshold``) go to the File API's store endpoint instead
  (`store_request`, `store`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._context import Context
from .._exceptions import APIResponseValidationError, ConfigurationError
from .._form import FileForm, file_form
from .._http import Body, HTTPSession, Retry
from .._params import STORAGES
from .._security import Security

#: store parameters that go into ``store`` on start and complete
STORE_KEYS: tuple[str, ...] = ("path", "location", "region", "container", "access")


def build_start_body(
    context: Context,
    *,
    filename: str,
    mimetype: str,
    size: int,
    store_params: Mapping[str, Any],
    security: Security | None,
    intelligent: bool,
) -> dict[str, Any]:
    """The ``/multipart/start`` body.

    Example:
        >>> from filestack_async import Endpoints
        >>> body = build_start_body(Context(Endpoints(), apikey="K"), filename="a.txt",
        ...                         mimetype="text/plain", size=3, store_params={"path": "p/"},
        ...                         security=None, intelligent=False)
        >>> body["store"]
        {'location': 'S3', 'path': 'p/'}
    """
    body: dict[str, Any] = {
        "apikey": context.apikey,
        "filename": filename,
        "mimetype": mimetype,
        "size": size,
    }
    if intelligent:
        body["fii"] = True
    store: dict[str, Any] = {"location": context.storage}
    store.update({key: store_params[key] for key in STORE_KEYS if key in store_params})
    body["store"] = store
    if security is not None:
        body.update(security.as_params())
    return body


def build_complete_body(
    start_body: Mapping[str, Any],
    start_response: Mapping[str, Any],
    store_params: Mapping[str, Any],
    *,
    parts: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The ``/multipart/complete`` body.

    Regular (``parts`` given): the start body, every start-response key except
    ``location_url``, and the parts in ascending order. Intelligent (``parts=None``):
    the start body plus ``uri``, ``region`` and ``upload_id``. Both add
    ``store.workflows`` and top-level ``upload_tags`` and ``alt`` when given.
    """
    body = dict(start_body)
    body["store"] = dict(start_body["store"])
    if parts is None:
        body.update({key: start_response[key] for key in ("uri", "region", "upload_id")})
    else:
        body.update({k: v for k, v in start_response.items() if k != "location_url"})
        body["parts"] = sorted(parts, key=lambda p: int(p["part_number"]))
    if store_params.get("workflows"):
        body["store"]["workflows"] = list(store_params["workflows"])
    if store_params.get("upload_tags"):
        body["upload_tags"] = dict(store_params["upload_tags"])
    if store_params.get("alt"):
        body["alt"] = store_params["alt"]
    return body


@dataclass
class UploadSession:
    """An open upload: where its requests go and the fields every one of them echoes."""

    context: Context
    http: HTTPSession
    security: Security | None
    intelligent: bool
    start_body: dict[str, Any]
    start_response: dict[str, Any]
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def upload_id(self) -> str:
        """The upload's id (from the start response)."""
        return str(self.start_response["upload_id"])

    @property
    def integrity_check(self) -> bool:
        """Whether parts and chunks carry their MD5 (`UploadConfig.integrity_check`)."""
        return self.context.upload.integrity_check

    @property
    def redact(self) -> tuple[str, ...]:
        """Per-call secrets to mask in messages."""
        return self.security.secrets() if self.security is not None else ()

    def _common(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "apikey": self.context.apikey,
            "uri": self.start_response["uri"],
            "region": self.start_response["region"],
            "upload_id": self.start_response["upload_id"],
            "store": {"location": self.context.storage},
        }
        if self.security is not None:
            body.update(self.security.as_params())
        return body

    def part_body(
        self, part: int, size: int, md5: str | None, offset: int | None
    ) -> dict[str, Any]:
        """The ``/multipart/upload`` body for a part (``offset=None``) or an FII chunk.

        ``md5=None`` (``integrity_check=False``) sends no ``md5``: the service then
        signs a PUT without ``Content-MD5``.
        """
        body = self._common()
        body.update({"part": part, "size": size})
        if md5 is not None:
            body["md5"] = md5
        if offset is not None:
            body.update({"offset": offset, "fii": True})
        return body

    def commit_body(self, part: int) -> dict[str, Any]:
        """The ``/multipart/commit`` body: ``size`` is the whole file's size."""
        body = self._common()
        body.update({"part": part, "size": self.start_body["size"]})
        return body

    async def part_url(
        self,
        part: int,
        size: int,
        md5: str | None,
        *,
        offset: int | None = None,
        retry: Retry,
    ) -> tuple[str, dict[str, str]]:
        """Ask for the signed URL and headers to PUT a part (or chunk at ``offset``) to."""
        response = await self.http.request(
            "POST",
            f"{self.base_url}/multipart/upload",
            json=self.part_body(part, size, md5, offset),
            headers=self.headers,
            retry=retry,
            redact=self.redact,
        )
        answer = response.json_object("url", "headers")
        url, headers = answer["url"], answer["headers"]
        if (
            not isinstance(url, str)
            or not url.startswith(("http://", "https://"))
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url)
        ):
            raise APIResponseValidationError(
                "/multipart/upload answered without a usable url", method="POST", url=response.url
            )
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise APIResponseValidationError(
                "/multipart/upload answered with headers that are not a string map",
                method="POST",
                url=response.url,
            )
        return url, headers

    async def put(
        self, url: str, headers: Mapping[str, str], body: Body, size: int, *, retry: Retry
    ) -> str | None:
        """PUT bytes to storage with exactly the headers ``/multipart/upload`` gave.

        Returns the ``ETag`` header verbatim (quotes kept), or ``None`` when there is none.
        """
        sent = dict(headers)
        if not isinstance(body, bytes) and not any(k.lower() == "content-length" for k in sent):
            sent["Content-Length"] = str(size)
        response = await self.http.request(
            "PUT",
            url,
            content=body,
            headers=sent,
            add_filestack_headers=False,
            retry=retry,
            redact=self.redact,
        )
        return response.headers.get("etag")

    async def commit(self, part: int) -> None:
        """Commit an intelligent-ingestion part once all its chunks are in."""
        await self.http.request(
            "POST",
            f"{self.base_url}/multipart/commit",
            json=self.commit_body(part),
            headers=self.headers,
            retry=Retry.ALWAYS,
            redact=self.redact,
        )


async def start(
    context: Context,
    http: HTTPSession,
    start_body: dict[str, Any],
    *,
    security: Security | None,
    intelligent: bool,
) -> UploadSession:
    """Send ``/multipart/start`` (retried only when no response arrived).

    Raises:
        APIResponseValidationError: the answer lacks ``uri``, ``region``,
            ``upload_id`` or ``location_url``, one of the first three is not a
            non-empty string, or ``location_url`` is unusable.
    """
    response = await http.request(
        "POST",
        f"{context.endpoints.upload}/multipart/start",
        json=start_body,
        retry=Retry.NO_RESPONSE,
        redact=security.secrets() if security is not None else (),
    )
    answer = response.json_object("uri", "region", "upload_id", "location_url")
    return open_session(
        context,
        http,
        start_body,
        answer,
        security=security,
        intelligent=intelligent,
        url=response.url,
    )


def open_session(
    context: Context,
    http: HTTPSession,
    start_body: dict[str, Any],
    answer: dict[str, Any],
    *,
    security: Security | None,
    intelligent: bool,
    url: str | None = None,
) -> UploadSession:
    """The `UploadSession` a start answer opens (fresh from ``start``, or from a checkpoint).

    Raises:
        APIResponseValidationError: ``uri``, ``region`` or ``upload_id`` is not a
            non-empty string, or ``location_url`` is unusable.
    """
    try:
        base_url = context.endpoints.location_url(answer["location_url"])
    except ConfigurationError as err:
        raise APIResponseValidationError(
            f"/multipart/start answered with an unusable location_url: {err}",
            method="POST",
            url=url,
        ) from err
    for key in ("uri", "region", "upload_id"):
        # echoed on every later call: a value of another shape would only fail there
        if not isinstance(answer[key], str) or not answer[key]:
            raise APIResponseValidationError(
                f"/multipart/start answered with {key!r} that is not a non-empty string "
                f"({type(answer[key]).__name__})",
                method="POST",
                url=url,
            )
    headers: dict[str, str] = {}
    region = answer.get("location_region")
    if isinstance(region, str) and region:
        headers["Filestack-Upload-Region"] = region
    return UploadSession(
        context=context,
        http=http,
        security=security,
        intelligent=intelligent,
        start_body=start_body,
        start_response=answer,
        base_url=base_url,
        headers=headers,
    )


#: store parameters ``/api/store`` has no query parameter for: a file stored with any of
#: them goes multipart (an empty one, which multipart cannot store, is refused)
STORE_UNSUPPORTED: tuple[str, ...] = ("region", "workflows", "upload_tags", "alt")


@dataclass(frozen=True)
class StoreRequest:
    """The File API store call for one file: where it goes and the multipart frame around
    the file's bytes."""

    url: str
    query: dict[str, str]
    form: FileForm


def store_request(
    context: Context,
    *,
    filename: str,
    mimetype: str,
    store_params: Mapping[str, Any],
    security: Security | None,
) -> StoreRequest:
    """The File API store request for one file (empty or small).

    ``POST {api}/store/{location}?key=...&filename=...&mimetype=...[&path&container
    &access&policy&signature]`` with a multipart body whose one field, ``fileUpload``,
    is the file (protocol reference §5, File API store).

    Raises:
        ConfigurationError: a store parameter ``/api/store`` cannot take
            (`STORE_UNSUPPORTED`) or an unknown location.

    Example:
        >>> from filestack_async import Endpoints
        >>> request = store_request(
        ...     Context(Endpoints(), apikey="K"), filename="e.txt", mimetype="text/plain",
        ...     store_params={"path": "p/e.txt"}, security=None)
        >>> request.url
        'https://www.filestackapi.com/api/store/S3'
        >>> sorted(request.query.items())
        [('filename', 'e.txt'), ('key', 'K'), ('mimetype', 'text/plain'), ('path', 'p/e.txt')]
    """
    given = [key for key in STORE_UNSUPPORTED if store_params.get(key)]
    if given:
        raise ConfigurationError(
            "an empty file (0 bytes) is stored through the File API's /api/store, which "
            f"takes no {', '.join(repr(k) for k in given)}; leave them out for empty files"
        )
    location = store_params.get("location") or context.storage
    if location not in STORAGES:
        raise ConfigurationError(
            f"/api/store can only store to one of {', '.join(STORAGES)}, not {location!r}"
        )
    query: dict[str, str] = {
        "key": context.apikey or "",
        "filename": filename,
        "mimetype": mimetype,
    }
    for key in ("path", "container", "access"):
        if store_params.get(key):
            query[key] = str(store_params[key])
    if security is not None:
        query.update(security.as_params())
    return StoreRequest(
        url=f"{context.endpoints.api}/store/{location}",
        query=query,
        form=file_form(filename, mimetype),
    )


async def store(
    http: HTTPSession,
    request: StoreRequest,
    content: Body,
    size: int,
    *,
    security: Security | None,
) -> dict[str, Any]:
    """Store one file of ``size`` bytes with one File API request; return the answer.

    Retried only when no response arrived: a store is not idempotent (each one makes a
    new file), as ``/multipart/start`` (each one opens a new upload) is not.

    Raises:
        APIResponseValidationError: the answer has no ``url`` (nor ``handle``).
    """
    response = await http.request(
        "POST",
        request.url,
        params=request.query,
        content=request.form.body(content),
        headers=request.form.headers(size),
        retry=Retry.NO_RESPONSE,
        redact=security.secrets() if security is not None else (),
    )
    answer = response.json_object()
    if not isinstance(answer.get("url"), str) and not isinstance(answer.get("handle"), str):
        raise APIResponseValidationError(
            "/api/store answered without a url", method="POST", url=response.url
        )
    return answer
