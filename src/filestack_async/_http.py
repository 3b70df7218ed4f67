"""The one module that imports httpx.

Every request of the SDK goes through `HTTPSession.request` (or `.stream`), which
adds the Filestack headers, applies timeouts, retries per the `RetryPolicy`, and
maps httpx errors and error statuses onto the package's exception hierarchy.
"""

from __future__ import annotations

import enum
import json as jsonlib
import logging
import random
import string
import threading
import time
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from ._config import RetryPolicy, Timeouts
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    status_error_class,
)
from ._redact import redact_text, redact_url
from ._retry import backoff_delay, is_retryable_status, parse_retry_after
from ._version import __version__

logger = logging.getLogger("filestack_async")

#: Types that callers may pass as ``transport=`` / ``http_client=``.
AsyncTransport = httpx.AsyncBaseTransport
AsyncHTTPClient = httpx.AsyncClient

USER_AGENT = f"filestack-async/{__version__}"
SOURCE = f"Python-async-{__version__}"
_ALNUM = string.ascii_letters + string.digits
_BODY_PREVIEW = 300

#: A request body: bytes, or a factory giving a fresh async stream of bytes-like blocks
#: (bytes or memoryviews, which every httpx transport sends as they are) per attempt.
Body = bytes | Callable[[], AsyncIterable[bytes | memoryview]]


class Retry(enum.Enum):
    """Which failures a request may be retried on."""

    #: idempotent: transport errors and retryable statuses (408, 429, 5xx)
    ALWAYS = "always"
    #: not idempotent: only when no response arrived (transport errors)
    NO_RESPONSE = "no-response"
    #: never retried
    NEVER = "never"


class _RedactHttpxLog(logging.Filter):
    """Mask credentials in httpx's own log lines (``HTTP Request: GET <url> ...``).

    Installed once on the ``httpx`` logger: URLs lose their security segment and
    credential query values, and every open session's secrets (API key, app secret,
    signature, policy) are masked.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: weakref.WeakKeyDictionary[object, tuple[str, ...]] = (
            weakref.WeakKeyDictionary()
        )
        # sessions are made on any thread (the sync facade's loop thread too)
        self._lock = threading.Lock()

    def register(self, owner: object, secrets: tuple[str, ...]) -> None:
        """Mask ``secrets`` while ``owner`` (a session) lives."""
        if secrets:
            with self._lock:
                self._secrets[owner] = secrets

    def _known(self) -> list[str]:
        with self._lock:
            groups = list(self._secrets.values())
        return [secret for group in groups for secret in group]

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            known = self._known()
            record.args = tuple(
                redact_url(str(a), known)
                if isinstance(a, httpx.URL)
                else redact_text(a, known)
                if isinstance(a, str)
                else a
                for a in args
            )
        return True


_HTTPX_LOG_FILTER = _RedactHttpxLog()
logging.getLogger("httpx").addFilter(_HTTPX_LOG_FILTER)


def _random_id(length: int = 10) -> str:
    # trace ids only tell requests apart in the service's logs: no secret, so no OS
    # entropy per character (the module's generator is reseeded in forked children)
    return "".join(random.choices(_ALNUM, k=length))


def filestack_headers() -> dict[str, str]:
    """A fresh set of the headers Filestack expects on API calls (new trace ids each time)."""
    return {
        "User-Agent": USER_AGENT,
        "Filestack-Source": SOURCE,
        "Filestack-Trace-Id": f"{int(time.time())}-{_random_id()}",
        "Filestack-Trace-Span": f"pyasyncsdk-{_random_id()}",
    }


def _httpx_timeout(t: Timeouts) -> httpx.Timeout:
    return httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)


@dataclass(frozen=True)
class Response:
    """A finished response: status, headers and the whole body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    method: str
    url: str  # redacted
    #: strings masked in messages made from the body (a page may echo credentials)
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            APIResponseValidationError: the body is not JSON.
        """
        try:
            return jsonlib.loads(self.content)
        except ValueError as err:
            raise APIResponseValidationError(
                f"{self.method} {self.url} answered {self.status_code} with a body that is not "
                f"JSON: {_preview(redact_text(self.text, self.secrets))!r}",
                method=self.method,
                url=self.url,
            ) from err

    def json_object(self, *required: str) -> dict[str, Any]:
        """The body as a JSON object that has every key in ``required``.

        Raises:
            APIResponseValidationError: not an object, or a required key is missing.
        """
        value = self.json()
        if not isinstance(value, dict):
            raise APIResponseValidationError(
                f"{self.method} {self.url} answered with JSON that is not an object",
                method=self.method,
                url=self.url,
            )
        missing = [key for key in required if key not in value]
        if missing:
            raise APIResponseValidationError(
                f"{self.method} {self.url} answered without the field(s) {', '.join(missing)}",
                method=self.method,
                url=self.url,
            )
        return value


class StreamResponse:
    """A response whose body is read incrementally with `aiter_bytes`."""

    def __init__(self, response: httpx.Response, method: str, url: str) -> None:
        self._response = response
        self.method = method
        self.url = url

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (case-insensitive)."""
        return self._response.headers

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Yield the body in pieces; transport failures become `APIConnectionError`."""
        try:
            async for chunk in self._response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.TimeoutException as err:
            raise APITimeoutError(
                f"{self.method} {self.url} timed out while reading the body",
                method=self.method,
                url=self.url,
                phase="read",
            ) from err
        except httpx.TransportError as err:
            raise APIConnectionError(
                f"{self.method} {self.url} failed while reading the body: {type(err).__name__}",
                method=self.method,
                url=self.url,
            ) from err


def _timeout_phase(err: httpx.TimeoutException) -> str | None:
    """Which phase of a request timed out (see `APITimeoutError.phase`)."""
    phases: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
        (httpx.ConnectTimeout, "connect"),
        (httpx.WriteTimeout, "write"),
        (httpx.ReadTimeout, "read"),
        (httpx.PoolTimeout, "pool"),
    )
    return next((phase for cls, phase in phases if isinstance(err, cls)), None)


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _BODY_PREVIEW else text[:_BODY_PREVIEW] + "…"


def _request_id(headers: Mapping[str, str], body: str) -> str | None:
    for name in (
        "x-request-id",
        "x-filestack-request-id",
        "filestack-request-id",
        "x-amz-request-id",
    ):
        if headers.get(name):
            return headers[name]
    try:
        value = jsonlib.loads(body)
    except ValueError:
        return None
    if isinstance(value, dict):
        for key in ("c", "request_id", "requestId"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return None


class HTTPSession:
    """One connection pool plus the SDK's request policy.

    Args:
        timeouts: per-request timeouts.
        retry: the retry policy.
        http_client: an ``httpx.AsyncClient`` to use; it is not closed by `aclose`.
        transport: an httpx transport for a client this session creates (tests, emulator).
        max_connections: pool size of a client this session creates.
        secrets: strings to mask in every message (API key, app secret, signature...).
    """

    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 32,
        secrets: Iterable[str] = (),
    ) -> None:
        if http_client is not None and transport is not None:
            raise ConfigurationError("give http_client= or transport=, not both")
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ConfigurationError(
                f"http_client must be an httpx.AsyncClient, not {type(http_client).__name__}"
            )
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigurationError(
                "transport must be an httpx async transport (httpx.AsyncBaseTransport), "
                f"not {type(transport).__name__}"
            )
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            transport=transport,
            timeout=_httpx_timeout(self.timeouts),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=True,
        )
        self._secrets = tuple(s for s in secrets if s)
        _HTTPX_LOG_FILTER.register(self, self._secrets)
        self.closed = False

    @property
    def secrets(self) -> tuple[str, ...]:
        """The strings masked in every message."""
        return self._secrets

    def redact(self, text: str, extra: Iterable[str] = ()) -> str:
        """Mask this session's secrets (and ``extra``) in ``text``."""
        return redact_text(text, (*self._secrets, *extra))

    async def aclose(self) -> None:
        """Close the connection pool if this session created it."""
        self.closed = True
        if self._owns_client:
            await self._client.aclose()

    def _build(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        data: Mapping[str, str] | None,
        content: Body | None,
        headers: Mapping[str, str] | None,
        add_filestack_headers: bool,
        timeout: Timeouts | None,
    ) -> httpx.Request:
        all_headers: dict[str, str] = filestack_headers() if add_filestack_headers else {}
        if headers:
            all_headers.update(headers)
        body: bytes | AsyncIterable[bytes | memoryview] | None
        body = content() if callable(content) else content
        if json is not None:
            body = jsonlib.dumps(json).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/json")
        extensions = {"timeout": _httpx_timeout(timeout or self.timeouts).as_dict()}
        return self._client.build_request(
            method,
            url,
            params=params,
            data=data,
            # httpx types body blocks as bytes; its transports take any bytes-like block
            content=cast("bytes | AsyncIterable[bytes] | None", body),
            headers=all_headers,
            extensions=extensions,
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        content: Body | None = None,
        headers: Mapping[str, str] | None = None,
        add_filestack_headers: bool = True,
        timeout: Timeouts | None = None,
        retry: Retry = Retry.ALWAYS,
        redact: Iterable[str] = (),
        accept: Callable[[int], bool] | None = None,
    ) -> Response:
        """Send a request, retrying per policy, and return the whole response.

        Args:
            accept: which statuses count as success (default: 2xx).
            redact: extra strings to mask in error messages (per-call security).
            retry: which failures may be retried (see `Retry`).

        Raises:
            APIStatusError: (a subclass for) an error status, after retries.
            APIConnectionError: a transport failure, after retries.
        """
        extra = tuple(redact)
        async with self._send(
            method,
            url,
            params=params,
            json=json,
            data=data,
            content=content,
            headers=headers,
            add_filestack_headers=add_filestack_headers,
            timeout=timeout,
            retry=retry,
            redact=extra,
            accept=accept,
            stream=False,
        ) as response:
            return Response(
                status_code=response.status_code,
                headers=response.headers,
                content=response.content,
                method=method,
                url=redact_url(str(response.request.url), (*self._secrets, *extra)),
                secrets=(*self._secrets, *extra),
            )

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        add_filestack_headers: bool = True,
        timeout: Timeouts | None = None,
        retry: Retry = Retry.ALWAYS,
        redact: Iterable[str] = (),
    ) -> AsyncIterator[StreamResponse]:
        """Send a request and yield a response whose body is read incrementally.

        Retries happen only before the body starts; a failure while reading it
        raises `APIConnectionError` from `StreamResponse.aiter_bytes`.
        """
        extra = tuple(redact)
        async with self._send(
            method,
            url,
            params=params,
            json=None,
            data=None,
            content=None,
            headers=headers,
            add_filestack_headers=add_filestack_headers,
            timeout=timeout,
            retry=retry,
            redact=extra,
            accept=None,
            stream=True,
        ) as response:
            yield StreamResponse(
                response, method, redact_url(str(response.request.url), (*self._secrets, *extra))
            )

    @asynccontextmanager
    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        data: Mapping[str, str] | None,
        content: Body | None,
        headers: Mapping[str, str] | None,
        add_filestack_headers: bool,
        timeout: Timeouts | None,
        retry: Retry,
        redact: tuple[str, ...],
        accept: Callable[[int], bool] | None,
        stream: bool,
    ) -> AsyncIterator[httpx.Response]:
        if self.closed:
            raise ConfigurationError("the client is closed; create a new one")
        policy = self.retry
        secrets = (*self._secrets, *redact)
        is_success = accept or (lambda code: 200 <= code < 300)
        waited = 0.0
        attempt = 0
        while True:
            try:
                request = self._build(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    content=content,
                    headers=headers,
                    add_filestack_headers=add_filestack_headers,
                    timeout=timeout,
                )
            except httpx.InvalidURL as err:
                raise ConfigurationError(
                    f"cannot send {method} to {redact_url(url, secrets)[:200]!r}: "
                    f"{redact_text(str(err), secrets)}"
                ) from None
            safe_url = redact_url(str(request.url), secrets)
            error: APIError
            retry_after: float | None = None
            try:
                response = await self._client.send(request, stream=True)
                try:
                    if not stream or not is_success(response.status_code):
                        await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
            except httpx.TimeoutException as err:
                error = APITimeoutError(
                    f"{method} {safe_url} timed out ({type(err).__name__})",
                    method=method,
                    url=safe_url,
                    phase=_timeout_phase(err),
                )
                error.__cause__ = err
                retryable = retry is not Retry.NEVER
            except httpx.TransportError as err:
                detail = redact_text(str(err), secrets) or type(err).__name__
                error = APIConnectionError(
                    f"{method} {safe_url} failed: {type(err).__name__}: {_preview(detail)}",
                    method=method,
                    url=safe_url,
                )
                error.__cause__ = err
                retryable = retry is not Retry.NEVER
            else:
                if is_success(response.status_code):
                    try:
                        yield response
                    finally:
                        await response.aclose()
                    return
                await response.aclose()
                error = self._status_error(method, safe_url, response, secrets)
                retry_after = getattr(error, "retry_after", None)
                retryable = retry is Retry.ALWAYS and is_retryable_status(response.status_code)
                if retry_after is not None and retry_after > policy.max_retry_after:
                    retryable = False
            if not retryable or attempt >= policy.max_retries:
                raise error
            delay = retry_after if retry_after is not None else backoff_delay(attempt, policy)
            if waited + delay > policy.budget:
                raise error
            logger.debug(
                "retrying %s %s in %.2fs (attempt %d): %s",
                method,
                safe_url,
                delay,
                attempt + 1,
                error.message,
            )
            await policy.sleep(delay)
            waited += delay
            attempt += 1

    def _status_error(
        self, method: str, safe_url: str, response: httpx.Response, secrets: tuple[str, ...]
    ) -> APIStatusError:
        try:
            text = response.text
        except Exception:  # undecodable or unread body
            text = ""
        body = _preview(redact_text(text, secrets))
        request_id = _request_id(response.headers, text)
        retry_after = parse_retry_after(response.headers)
        cls = status_error_class(response.status_code)
        parts = [f"{method} {safe_url} answered {response.status_code}"]
        if response.reason_phrase:
            parts[0] += f" {response.reason_phrase}"
        if request_id:
            parts.append(f"request id {request_id}")
        if body:
            parts.append(body)
        return cls(
            ": ".join(parts),
            status_code=response.status_code,
            method=method,
            url=safe_url,
            request_id=request_id,
            retry_after=retry_after,
            body=body,
        )
