"""Client: one connection pool, the API key and defaults, and the entry points."""

from __future__ import annotations

import enum
import os
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import anyio

from . import _uploads
from ._config import APIKEY_ENV, DEFAULT_TOTAL, Endpoints, RetryPolicy, Timeouts, UploadConfig
from ._context import Context
from ._events import EventHook, check_hook
from ._exceptions import APIResponseValidationError, ConfigurationError
from ._filelink import Filelink, filelink_from_answer
from ._http import AsyncHTTPClient, AsyncTransport, HTTPBackend, HTTPSession, Retry
from ._params import (
    handle_in_answer,
    header_secrets,
    validate_origin_headers,
    validate_storage,
    validate_store_params,
)
from ._security import Security, check_security
from ._tasks import build_task, check_apikey
from ._transform import Transformation
from ._uploads import (
    BinaryReadable,
    ProgressCallback,
    UploadManyItem,
    check_intelligent,
    hashing_threads,
)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


class Client:
    """The async Filestack client. One client owns one connection pool.

    Use it as an async context manager, or call `aclose` when done. A client given
    an ``http_client`` uses that ``httpx.AsyncClient`` and does not close it.

    Args:
        apikey: your Filestack API key; when omitted or None, ``$FILESTACK_API_KEY``.
            A client without a key can do what needs none (downloads, metadata,
            signed URLs, transformations of a handle); uploads, ``upload_url``,
            ``delete`` and processing an external URL raise `ConfigurationError`.
        storage: default storage location (``S3``, ``gcs``, ``azure``, ``rackspace``, ``dropbox``).
        security: default `Security` for calls that need or accept one.
        base_url: one origin for every service (the emulator); also read from
            ``$FILESTACK_BASE_URL``. Nothing switches to it silently.
        cname: your custom domain: the CDN and Upload API move to ``cdn.<cname>``
            and ``upload.<cname>``.
        timeout: per-request `Timeouts`, or one number of seconds for the four phases
            (the total deadline is then at least that number too).
        retry: the `RetryPolicy`.
        upload: upload tuning (`UploadConfig`).
        http_client: an ``httpx.AsyncClient`` to use instead of creating one.
        transport: an httpx transport for the client created here (tests, the
            in-process emulator).
        http_backend: the connection pool of the client created here: ``"auto"``
            (aiohttp on asyncio, httpx's own on trio), ``"aiohttp"`` or ``"httpx"``;
            also read from ``$FILESTACK_HTTP_BACKEND``, else ``"auto"``.
        on_event: a plain function or coroutine function called with each event of
            this client's calls, for logging or counting: `RetryEvent`,
            `ChunkSizeChanged`, `PartDone`, `UploadResumed`.

    Example:
        >>> async with Client("APIKEY", base_url="http://127.0.0.1:8700") as client:
        ...     link = await client.upload_url("http://127.0.0.1:8700/AbCdEfGhIjKlMnOpQrSt")
    """

    def __init__(
        self,
        apikey: str | None = None,
        *,
        storage: str = "S3",
        security: Security | None = None,
        base_url: str | None = None,
        cname: str | None = None,
        timeout: Timeouts | float | None = None,
        retry: RetryPolicy | None = None,
        upload: UploadConfig | None = None,
        http_client: AsyncHTTPClient | None = None,
        transport: AsyncTransport | None = None,
        http_backend: HTTPBackend | None = None,
        on_event: EventHook | None = None,
    ) -> None:
        if apikey is None:
            apikey = os.environ.get(APIKEY_ENV) or None
        if apikey is not None:
            check_apikey(apikey)
        hook = check_hook(on_event)
        check_security(security)
        if isinstance(timeout, bool):
            raise ConfigurationError("timeout must be seconds or a Timeouts object")
        if isinstance(timeout, (int, float)):
            if timeout <= 0:
                raise ConfigurationError("timeout must be a positive number of seconds")
            # the total deadline never cuts an attempt shorter than one of its phases
            timeouts = Timeouts(
                timeout, timeout, timeout, timeout, total=max(DEFAULT_TOTAL, float(timeout))
            )
        elif timeout is None or isinstance(timeout, Timeouts):
            timeouts = timeout or Timeouts()
        else:
            raise ConfigurationError("timeout must be seconds or a Timeouts object")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigurationError("retry must be a RetryPolicy")
        if upload is not None and not isinstance(upload, UploadConfig):
            raise ConfigurationError("upload must be an UploadConfig")
        upload_config = upload or UploadConfig()
        endpoints = Endpoints.resolve(base_url=base_url, cname=cname)
        secrets = [*([apikey] if apikey else []), *(security.secrets() if security else ())]
        self._http = HTTPSession(
            timeouts=timeouts,
            retry=retry or RetryPolicy(),
            http_client=http_client,
            transport=transport,
            max_connections=max(32, 2 * upload_config.max_parts_in_flight),
            secrets=secrets,
            backend=http_backend,
            on_event=hook,
        )
        self._context = Context(
            endpoints=endpoints,
            apikey=apikey,
            storage=validate_storage(storage),
            security=security,
            timeouts=timeouts,
            retry=self._http.retry,
            upload=upload_config,
            http=self._http,
            part_limiter=anyio.CapacityLimiter(upload_config.max_parts_in_flight),
            on_event=hook,
            hash_limiter=anyio.CapacityLimiter(hashing_threads()),
        )
        self._state = _State.UNOPENED

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        if self._state is _State.CLOSED:
            raise ConfigurationError("this client is closed; create a new one")
        self._state = _State.OPENED
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless it was given as ``http_client``)."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        with anyio.CancelScope(shield=True):
            await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        """True once `aclose` has run."""
        return self._state is _State.CLOSED

    def _check_open(self) -> None:
        if self._state is _State.CLOSED:
            raise ConfigurationError("this client is closed; create a new one")

    def _require_apikey(self, action: str) -> None:
        if not self._context.apikey:
            raise ConfigurationError(
                f"{action} needs an API key: pass Client(apikey=...) or set ${APIKEY_ENV}"
            )

    # -- settings ----------------------------------------------------------------------

    @property
    def apikey(self) -> str:
        """The API key."""
        return self._context.apikey or ""

    @property
    def storage(self) -> str:
        """The default storage location."""
        return self._context.storage

    @property
    def security(self) -> Security | None:
        """The default security."""
        return self._context.security

    @property
    def endpoints(self) -> Endpoints:
        """The base URLs in use."""
        return self._context.endpoints

    @property
    def context(self) -> Context:
        """Settings and connection pool, shared with the objects this client makes."""
        return self._context

    def __repr__(self) -> str:
        return f"<Client storage={self.storage!r} cdn={self.endpoints.cdn!r}>"

    # -- entry points ------------------------------------------------------------------

    def filelink(self, handle: str, *, security: Security | None = None) -> Filelink:
        """A `Filelink` for an existing handle that uses this client's pool and defaults."""
        self._check_open()
        return Filelink(handle, security=security, context=self._context)

    async def upload_url(
        self,
        url: str,
        store_params: Mapping[str, Any] | None = None,
        *,
        security: Security | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Filelink:
        """Store a file that Filestack fetches from ``url`` (the ``/process`` store request).

        ``headers`` are sent by the service to the origin when it fetches ``url`` (for
        a private source, e.g. ``{"Authorization": "Bearer ..."}``); their values are
        masked in this SDK's messages and logs. The returned Filelink keeps the
        service's answer as ``upload_response``.

        Raises:
            ConfigurationError: a bad URL, store parameter (``mimetype`` and ``alt``
                cannot be set here: the service detects the type, and a fetched file
                takes no alt text) or header.

        Example:
            >>> await client.upload_url("https://example.com/private.png",
            ...                         headers={"Authorization": "Bearer TOKEN"})
        """
        self._check_open()
        self._require_apikey("upload_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "src://")):
            raise ConfigurationError("url must be an http(s) URL or a src://alias/path")
        params = validate_store_params(store_params)
        for key, why in (
            ("mimetype", "the service detects the type of a fetched file"),
            ("alt", "alt text goes with uploads (Client.upload), not fetched files"),
        ):
            if key in params:
                raise ConfigurationError(
                    f"store parameter {key!r} is not accepted by upload_url; {why}"
                )
        origin_headers = validate_origin_headers(headers)
        check_security(security)
        sec = security or self.security
        upload_tags = params.pop("upload_tags", None)
        store = {**params, "location": params.get("location", self.storage)}
        tasks: list[dict[str, Any]] = [{"name": "store", "params": store}]
        if sec is not None:
            tasks.append({"name": "security", "params": sec.as_params()})
        source: str | dict[str, Any] = url
        if origin_headers:
            source = {"source": url, "headers": origin_headers}
        payload: dict[str, Any] = {"apikey": self.apikey, "sources": [source], "tasks": tasks}
        if upload_tags:
            payload["upload_tags"] = upload_tags
        response = await self._http.request(
            "POST",
            f"{self.endpoints.cdn}/process",
            json=payload,
            retry=Retry.NO_RESPONSE,
            redact=(*(sec.secrets() if sec else ()), *header_secrets(origin_headers)),
        )
        body = response.json_object()
        handle = handle_in_answer(body)
        if not handle:
            raise APIResponseValidationError(
                "the /process answer has no handle", method="POST", url=response.url
            )
        return filelink_from_answer(
            handle,
            what="the /process answer",
            method="POST",
            url=response.url,
            security=sec,
            upload_response=body,
            context=self._context,
        )

    # -- transformations ---------------------------------------------------------------

    def transform_external(self, url: str) -> Transformation:
        """A `Transformation` of a file at an http(s) URL or a storage alias ``src://alias/path``.

        Example:
            >>> client.transform_external("https://example.com/a.png").resize(width=100).url
            'https://cdn.filestackcontent.com/APIKEY/resize=width:100/https://example.com/a.png'
        """
        self._check_open()
        if url is None:
            raise ConfigurationError(
                "external_url must be an http(s) URL or a storage alias src://alias/path, not None"
            )
        return Transformation(external_url=url, context=self._context)

    def transform_handles(self, handles: Sequence[str]) -> Transformation:
        """A `Transformation` of several files, for ``zip``, ``pdfcreate`` and ``animate``.

        Example:
            >>> client.transform_handles([h1, h2]).pdfcreate().url  # doctest: +SKIP
            'https://cdn.filestackcontent.com/APIKEY/pdfcreate/[h1,h2]'
        """
        self._check_open()
        if handles is None:
            raise ConfigurationError("handles must be a non-empty list of handles or URLs")
        return Transformation(handles=handles, context=self._context)

    def urlscreenshot(
        self,
        url: str,
        agent: Literal["desktop", "mobile"] | None = None,
        mode: Literal["all", "window"] | None = None,
        width: int | None = None,
        height: int | None = None,
        delay: int | None = None,
    ) -> Transformation:
        """A `Transformation` that screenshots the web page at ``url`` (nothing is sent yet).

        Example:
            >>> client.urlscreenshot("https://example.com", agent="desktop", width=1024).url
            'https://cdn.filestackcontent.com/APIKEY/urlscreenshot=agent:desktop,width:1024/https://example.com'
        """
        task = build_task(
            "urlscreenshot",
            {"agent": agent, "mode": mode, "width": width, "height": height, "delay": delay},
        )
        return self.transform_external(url).with_tasks((task,))

    async def zip(
        self,
        destination_path: str | os.PathLike[str],
        files: Sequence[str],
        security: Security | None = None,
    ) -> int:
        """Download ``files`` (handles) as one zip archive to ``destination_path``.

        The archive is streamed to a temporary file renamed into place when complete.
        Returns the number of bytes written.
        """
        archive = self.transform_handles(files).zip()
        return await archive.download(destination_path, security=security)

    # -- uploads -----------------------------------------------------------------------

    async def upload(
        self,
        *,
        filepath: str | os.PathLike[str] | None = None,
        file_obj: BinaryReadable | None = None,
        content: bytes | bytearray | memoryview | None = None,
        stream: AsyncIterable[bytes] | None = None,
        size: int | None = None,
        store_params: Mapping[str, Any] | None = None,
        intelligent: bool | Literal["fallback"] = False,
        security: Security | None = None,
        progress: ProgressCallback | None = None,
        resume: str | os.PathLike[str] | None = None,
    ) -> Filelink:
        """Upload one file through the multipart Upload API and return its `Filelink`.

        Give exactly one source: ``filepath``; ``file_obj`` (binary, seekable or not);
        ``content`` (bytes-like); or ``stream`` (an async iterable of bytes) with its
        ``size``, or without it to have it copied to a temporary file first. A
        non-seekable ``file_obj`` also takes ``size=`` to stream it without a copy.

        Parts go ``UploadConfig.concurrency`` at a time (and at most
        ``max_parts_in_flight`` across the client); path and seekable sources are
        hashed and then streamed from the source, so memory stays flat. With
        ``intelligent=True`` the intelligent-ingestion flow is used, with a chunk size
        that adapts to failures; with ``intelligent="fallback"`` parts go the regular
        way until one fails as a struggling link fails, then that part and the rest go
        through intelligent ingestion. When the service does not enable intelligent
        ingestion for the upload (its start answer has no ``upload_type:
        intelligent_ingestion``), the upload goes on as regular (logged at INFO;
        progress reports ``intelligent=False``). ``progress`` (sync or async) receives
        `UploadProgress` reports; the returned Filelink carries the security used.

        ``resume`` names a checkpoint file (its folder must exist): the upload writes
        what the service acknowledged to it as it goes (atomically, after every part)
        and removes it on success. The same call after a crash, a cancellation or a
        failure continues the upload: no acknowledged part is sent again. It needs a
        ``filepath`` or a seekable ``file_obj``; a changed source, or a checkpoint of
        another file or upload, is refused (`CheckpointError`); an upload the service
        no longer knows starts afresh (said in a WARNING log record).

        Raises:
            ConfigurationError: not exactly one source, an unreadable file, a text-mode
                file object, bad store params or size (before any request); an empty
                file with ``region``, ``workflows``, ``upload_tags`` or ``alt`` (empty
                files are stored with one ``/api/store`` request, which takes none of them).
            APIError: the start request failed.
            UploadError: anything failing after start (`PartUploadError` for a chunk
                that failed at the minimum size, `UploadIncompleteError` when complete
                kept answering 202); upload id and progress are on the error.
            CheckpointError: the ``resume`` checkpoint is unreadable, corrupt, or for
                another file or upload, or the source changed since it was written.

        Example:
            >>> link = await client.upload(filepath="big.mp4", store_params={"path": "v/"})
            >>> link = await client.upload(filepath="big.mp4", resume="big.mp4.upload")
        """
        self._check_open()
        self._require_apikey("upload")
        return await _uploads.upload(
            self._context,
            filepath=filepath,
            file_obj=file_obj,
            content=content,
            stream=stream,
            size=size,
            store_params=store_params,
            intelligent=intelligent,
            security=security,
            progress=progress,
            resume=resume,
        )

    async def upload_many(
        self,
        items: Iterable[UploadManyItem],
        *,
        concurrency: int = 4,
        intelligent: bool | Literal["fallback"] = False,
        store_params: Mapping[str, Any] | None = None,
        security: Security | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[Filelink | Exception]:
        """Upload many files, ``concurrency`` files at a time; one result per item, in order.

        Each item is a path, a bytes-like object, an `UploadItem`, or a dict with
        `UploadItem`'s keys (``filepath``, ``file_obj``, ``content``, ``stream``,
        ``size``, ``store_params``; an item's store params are merged over the
        call's). A result is the `Filelink`, or the exception that item failed with;
        one failure does not stop the others. Progress reports carry the item's
        ``index``. Cancellation stops every upload.

        Example:
            >>> results = await client.upload_many(["a.jpg", b"raw", UploadItem(...)])
            >>> failed = [r for r in results if isinstance(r, Exception)]
        """
        self._check_open()
        if isinstance(items, (str, bytes, bytearray, memoryview)) or not isinstance(
            items, Iterable
        ):
            raise ConfigurationError(
                "items must be a list of files (paths, bytes, UploadItem or dicts), "
                f"not {type(items).__name__}; wrap a single one in a list"
            )
        self._require_apikey("upload_many")
        check_security(security)
        check_intelligent(intelligent)
        if progress is not None and not callable(progress):
            raise ConfigurationError("progress must be a callable taking an UploadProgress")
        return await _uploads.upload_many(
            self._context,
            items,
            concurrency=concurrency,
            intelligent=intelligent,
            store_params=store_params,
            security=security,
            progress=progress,
        )
