"""The one module that imports httpx.

Every request of the SDK goes through `HTTPSession.request` (or `.stream`), which
adds the Filestack headers, applies timeouts, retries per the `RetryPolicy`, and
maps httpx errors and error statuses onto the package's exception hierarchy.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import json as jsonlib
import logging
import math
import os
import random
import ssl
import string
import threading
import time
import urllib.request
import weakref
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
import anyio.to_thread
import httpx

from ._config import RetryPolicy, Timeouts
from ._events import EventHook, RetryEvent, configure_logging, emit
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    status_error_class,
)
from ._redact import redact_text, redact_url, redact_value, strip_credentials
from ._retry import backoff_delay, is_retryable_status, parse_retry_after
from ._version import __version__

if TYPE_CHECKING:
    from ._aiohttp import AiohttpPool, AiohttpResponse, FailureKind

logger = logging.getLogger("filestack_async")
#: the attribute of a retry's log record (DEBUG on ``filestack_async``): a tuple of the
#: retry's number (1 for the first), the most retries allowed, and the delay in seconds
RETRY_RECORD = "filestack_retry"

configure_logging()  # FILESTACK_LOG=debug: the package's records to stderr

#: Types that callers may pass as ``transport=`` / ``http_client=``.
AsyncTransport = httpx.AsyncBaseTransport
AsyncHTTPClient = httpx.AsyncClient

USER_AGENT = f"filestack-async/{__version__}"
SOURCE = f"Python-async-{__version__}"
_ALNUM = string.ascii_letters + string.digits
_BODY_PREVIEW = 300

#: A request body: bytes, or a factory giving a fresh async byte stream per attempt.
Body = bytes | Callable[[], AsyncIterable[bytes | memoryview]]

#: Which connection pool sends the requests (see `resolve_backend`).
HTTPBackend = Literal["auto", "aiohttp", "httpx"]
HTTP_BACKENDS: tuple[HTTPBackend, ...] = ("auto", "aiohttp", "httpx")
#: The environment variable read when ``http_backend`` is not given.
HTTP_BACKEND_ENV = "FILESTACK_HTTP_BACKEND"


class Retry(enum.Enum):
    """Which failures a request may be retried on."""

    #: idempotent: transport errors and retryable statuses (408, 429, 5xx)
    ALWAYS = "always"
    #: not idempotent: only when no response arrived (transport errors)
    NO_RESPONSE = "no-response"
    #: never retried
    NEVER = "never"


class _LogRedactor(logging.Filter):
    """Mask credentials in the log records of every logger the HTTP stack writes to.

    Every open session's secrets (API key, app secret, signature, policy), and a
    call's own while it runs, are masked in ``record.msg`` and in ``record.args``
    (strings, bytes, httpx URLs, and tuples/lists such as httpcore's header pairs),
    as are security segments and credential query values. When an argument's own
    ``str()`` would still show a secret, the record is collapsed to its masked text.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: weakref.WeakKeyDictionary[object, tuple[str, ...]] = (
            weakref.WeakKeyDictionary()
        )
        # sessions are made on any thread (the sync facade's loop thread too)
        self._lock = threading.Lock()

    def register(self, owner: object, secrets: tuple[str, ...]) -> None:
        """Mask ``secrets`` while ``owner`` (a session, or a call's token) lives."""
        if secrets:
            with self._lock:
                self._secrets[owner] = secrets

    def unregister(self, owner: object) -> None:
        """Stop masking what ``owner`` registered (its call has ended)."""
        with self._lock:
            self._secrets.pop(owner, None)

    def _known(self) -> list[str]:
        with self._lock:
            groups = list(self._secrets.values())
        return [secret for group in groups for secret in group]

    @staticmethod
    def _arg(value: object, known: list[str]) -> object:
        if isinstance(value, httpx.URL):
            return redact_url(str(value), known)
        return redact_value(value, known)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._mask(record, self._known())
        except Exception:  # never break the application's logging
            record.msg, record.args = "(log record dropped by filestack_async redaction)", ()
        return True

    def _mask(self, record: logging.LogRecord, known: list[str]) -> None:
        args = record.args
        if not args:
            # the message is final text (a format string is left alone: masking a
            # "key=%s" placeholder would break the formatting)
            record.msg = redact_text(str(record.msg), known)
            return
        if isinstance(args, tuple):
            record.args = tuple(self._arg(a, known) for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: self._arg(v, known) for k, v in args.items()}
        message = record.getMessage()
        masked = redact_text(message, known)
        if masked != message:
            record.msg, record.args = masked, ()


#: The loggers of the HTTP stack (and of this package); children are covered too.
_STACK_LOGGERS = ("httpx", "httpcore", "h11", "h2", "hpack", "aiohttp", "filestack_async")
#: Children known today; each gets the filter itself (a parent's filter skips them).
_KNOWN_CHILDREN = (
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.internal",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
)

_LOG_REDACTOR = _LogRedactor()


def _in_stack(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in _STACK_LOGGERS)


def _install_log_redaction() -> None:
    """Mask on every record of the stack's loggers, whatever the handlers.

    A record factory masks each record of those loggers (and of any child made
    later) when it is created; filters on each known logger stay as a second line
    in case the application replaces the factory without chaining to it.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "filestack_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _in_stack(record.name):
            _LOG_REDACTOR.filter(record)
        return record

    factory.filestack_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    for name in (*_STACK_LOGGERS, *_KNOWN_CHILDREN):
        logging.getLogger(name).addFilter(_LOG_REDACTOR)


_install_log_redaction()


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


class Kind(enum.Enum):
    """What a request is for; it sets the redirect policy and the answer cap."""

    #: an API call (Upload API, File API, ``/process``, metadata, storage PUTs): a
    #: redirect is never followed (a 3xx is an error status) and the answer is capped
    #: at ``Timeouts.max_answer_bytes``
    API = "api"
    #: a CDN download of a file or a transformation (GET): redirects are followed,
    #: up to `MAX_REDIRECTS`, to the same origin as they are and to another origin
    #: without credentials; the body is not capped
    DOWNLOAD = "download"


#: Redirects followed at most by one download attempt.
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Bytes of an error body kept (decoded) for its message; the rest is not read.
_ERROR_BODY_CAP = 64 * 1024
#: Headers never sent to another origin on a redirect.
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
#: The codings an API answer may use; the SDK asks for these and decodes them itself.
_API_ACCEPT_ENCODING = "gzip, deflate"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Deadline:
    """The total time one attempt may take: ``total`` seconds, plus one second per
    ``min_rate`` bytes moved (sent or received), from its start."""

    def __init__(self, limits: Timeouts) -> None:
        self._total = limits.total
        self._min_rate = limits.min_rate
        self._start = anyio.current_time()
        self._sent = 0
        self._received = 0
        self._scope: anyio.CancelScope | None = None

    def at(self) -> float:
        """The moment the attempt runs out (infinity when ``total`` is None)."""
        if self._total is None:
            return math.inf
        return self._start + self._total + (self._sent + self._received) / self._min_rate

    def _moved(self) -> None:
        if self._scope is not None:
            self._scope.deadline = self.at()

    def sent(self, count: int) -> None:
        """``count`` more bytes of the request body went out."""
        self._sent += count
        self._moved()

    def received(self, total: int) -> None:
        """``total`` bytes of the answer have arrived so far (raw, on the wire)."""
        self._received = total
        self._moved()

    @contextmanager
    def scope(self) -> Iterator[anyio.CancelScope]:
        """A cancel scope that ends at the deadline, moved on as bytes move."""
        with anyio.CancelScope(deadline=self.at()) as scope:
            self._scope = scope
            try:
                yield scope
            finally:
                self._scope = None


async def _counted(
    body: AsyncIterable[bytes | memoryview], deadline: _Deadline
) -> AsyncIterator[bytes | memoryview]:
    """Pass a request body through, telling ``deadline`` of each piece sent."""
    async for chunk in body:
        yield chunk
        deadline.sent(len(chunk))


class OverCap(Exception):
    """A decoded body passed its cap."""


class BoundedDecoder:
    """Undo an API answer's Content-Encoding (identity, gzip, deflate) into `output`,
    never holding more than ``limit`` bytes (a gzip bomb stops at the cap)."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [
            c.strip().lower()
            for c in content_encoding.split(",")
            if c.strip() and c.strip().lower() != "identity"
        ]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise ValueError(f"unsupported Content-Encoding {content_encoding!r}")
        self._limit = limit
        #: what was decoded so far (at most ``limit`` bytes)
        self.output = bytearray()
        self._zlib: Any = None
        self._raw_fallback = False
        if codings:
            # gzip or a zlib header (deflate as RFC 9110 has it); raw deflate as a fallback
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)
            self._raw_fallback = codings[0] == "deflate"

    def _keep(self, piece: bytes) -> None:
        room = self._limit - len(self.output)
        self.output += piece[:room]
        if len(piece) > room:
            raise OverCap

    def decode(self, data: bytes) -> None:
        """Decode the next raw piece (raises `zlib.error`, or `OverCap` past the limit)."""
        if self._zlib is None:
            self._keep(data)
            return
        original = data
        while data and not self._zlib.eof:
            try:
                piece = self._zlib.decompress(data, self._limit - len(self.output) + 1)
            except zlib.error:
                if not (self._raw_fallback and not self.output and data is original):
                    raise
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._raw_fallback = False
                continue
            self._raw_fallback = False
            self._keep(piece)
            data = self._zlib.unconsumed_tail

    def flush(self) -> None:
        """Decode what the decoder still holds once the body has ended."""
        if self._zlib is not None:
            self._keep(self._zlib.flush(self._limit - len(self.output) + 1))


async def _close(response: httpx.Response) -> None:
    """Close a response even while the caller is being cancelled."""
    with anyio.CancelScope(shield=True):
        await response.aclose()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme))


def _same_origin(current: httpx.URL, target: httpx.URL) -> bool:
    """Same scheme, host and port; an upgrade from http to https on the default ports too."""
    if _origin(current) == _origin(target):
        return True
    return (
        current.host == target.host
        and _origin(current)[::2] == ("http", 80)
        and _origin(target)[::2] == ("https", 443)
    )


def _error(
    err: Exception, method: str, safe_url: str, secrets: tuple[str, ...], during: str = ""
) -> tuple[APIError, bool]:
    """The typed error for an exception of httpx (or of a transport speaking its
    language), and whether a retry may help (transport failures only)."""
    name = type(err).__name__
    detail = _preview(redact_text(str(err), secrets)) or name
    error: APIError
    if isinstance(err, httpx.TimeoutException):
        error = APITimeoutError(
            f"{method} {safe_url} timed out{during} ({name})",
            method=method,
            url=safe_url,
            phase=_timeout_phase(err),
        )
        error.__cause__ = err
        return error, True
    cls: type[APIError] = APIConnectionError
    # TransportError is retried; StreamError, InvalidURL, any other HTTPError are
    # mistakes no retry mends
    retryable = isinstance(err, httpx.TransportError)
    what = f"failed{during}: {name}: {detail}"
    if isinstance(err, httpx.DecodingError):
        cls, what = (
            APIResponseValidationError,
            f"answered with a body that cannot be decoded{during}: {name}: {detail}",
        )
    elif isinstance(err, httpx.TooManyRedirects):
        what = f"was redirected too many times: {detail}"
    error = cls(f"{method} {safe_url} {what}", method=method, url=safe_url)
    error.__cause__ = err
    return error, retryable


#: Every exception of httpx (and of a transport raising httpx's) that a request can raise.
_HTTPX_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL)


@dataclass(frozen=True)
class Response:
    """A finished response: status, headers and the whole body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    method: str
    #: the URL as sent, credentials included: messages use `url`, redacted
    sent_url: str = field(repr=False, compare=False)
    #: strings masked in messages made from the body (a page may echo credentials)
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @functools.cached_property
    def url(self) -> str:
        """The URL, redacted (only worked out when a message needs it)."""
        return redact_url(self.sent_url, self.secrets)

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
        except RecursionError as err:
            raise APIResponseValidationError(
                f"{self.method} {self.url} answered {self.status_code} with JSON nested too deep",
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

    def __init__(
        self,
        response: httpx.Response,
        method: str,
        url: str,
        *,
        deadline: _Deadline | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._response = response
        self._deadline = deadline
        self._secrets = secrets
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
        """Yield the body in pieces (decoded), within the attempt's total deadline.

        Raises:
            APITimeoutError: a read timed out, or the total deadline passed (``phase="total"``).
            APIResponseValidationError: the body cannot be decoded (a broken gzip body).
            APIConnectionError: any other failure of the transport.
        """
        deadline = self._deadline or _Deadline(Timeouts(total=None))
        # pieces as they arrive, so each one moves the deadline on; re-chunked here
        pieces = self._response.aiter_bytes().__aiter__()
        pending = bytearray()
        while True:
            try:
                with deadline.scope() as scope:
                    piece = await pieces.__anext__()
            except StopAsyncIteration:
                break
            except _HTTPX_ERRORS as err:
                during = " while reading the body"
                raise _error(err, self.method, self.url, self._secrets, during)[0] from err
            if scope.cancelled_caught:
                raise APITimeoutError(
                    f"{self.method} {self.url} passed its total deadline while reading the body",
                    method=self.method,
                    url=self.url,
                    phase="total",
                )
            deadline.received(self._response.num_bytes_downloaded)
            if chunk_size is None:
                yield piece
                continue
            pending += piece
            while len(pending) >= chunk_size:
                yield bytes(pending[:chunk_size])
                del pending[:chunk_size]
        if pending:
            yield bytes(pending)


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


# -- the connection pool: aiohttp on asyncio, httpx's own elsewhere ---------------------


def resolve_backend(backend: object, environ: Mapping[str, str] | None = None) -> HTTPBackend:
    """The backend to use: ``backend``, else ``$FILESTACK_HTTP_BACKEND``, else ``"auto"``.

    Raises:
        ConfigurationError: a value that is not ``"auto"``, ``"aiohttp"`` or ``"httpx"``.
    """
    where = "http_backend"
    if backend is None:
        backend = (os.environ if environ is None else environ).get(HTTP_BACKEND_ENV) or "auto"
        where = f"${HTTP_BACKEND_ENV}"
    for known in HTTP_BACKENDS:
        if backend == known and isinstance(backend, str):
            return known
    shown = repr(backend)[:60] if isinstance(backend, str) else type(backend).__name__
    raise ConfigurationError(f"{where} must be 'auto', 'aiohttp' or 'httpx', not {shown}")


def _environment_proxies() -> bool:
    """True when the environment names an HTTP(S) proxy (httpx's transport then handles it)."""
    return any(urllib.request.getproxies().get(key) for key in ("http", "https", "all"))


def _running_on_asyncio() -> bool:
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no asyncio loop runs here (trio)
        return False


def _httpx_failure(kind: FailureKind) -> type[httpx.TransportError]:
    failures: dict[str, type[httpx.TransportError]] = {
        "connect_timeout": httpx.ConnectTimeout,
        "read_timeout": httpx.ReadTimeout,
        "write_timeout": httpx.WriteTimeout,
        "pool_timeout": httpx.PoolTimeout,
        "connect": httpx.ConnectError,
        "read": httpx.ReadError,
        "write": httpx.WriteError,
        "protocol": httpx.RemoteProtocolError,
        "local_protocol": httpx.LocalProtocolError,
        "unsupported": httpx.UnsupportedProtocol,
    }
    return failures[kind]


class _AiohttpBody(httpx.AsyncByteStream):
    """An aiohttp answer's body as httpx reads it: the pieces as they arrived."""

    def __init__(self, answer: AiohttpResponse, request: httpx.Request) -> None:
        self._answer = answer
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        from ._aiohttp import TransportFailure

        try:
            async for chunk in self._answer:
                yield chunk
        except TransportFailure as err:
            raise _httpx_failure(err.kind)(str(err), request=self._request) from err

    async def aclose(self) -> None:
        await self._answer.aclose()


class _AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over an `AiohttpPool` (see docs/architecture.md)."""

    def __init__(self, pool: AiohttpPool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from ._aiohttp import TransportFailure

        timeout = request.extensions.get("timeout", {})
        # aiohttp frames the body itself: chunked exactly when no length is known
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request.headers.raw
            if name.lower() != b"transfer-encoding"
        ]
        length = request.headers.get("content-length")
        body: bytes | AsyncIterable[bytes]
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = cast(AsyncIterable[bytes], request.stream)
        try:
            answer = await self.pool.send(
                request.method,
                str(request.url),
                headers,
                body,
                content_length=int(length) if length and length.isdigit() else None,
                connect=timeout.get("connect"),
                read=timeout.get("read"),
                write=timeout.get("write"),
                pool=timeout.get("pool"),
            )
        except TransportFailure as err:
            raise _httpx_failure(err.kind)(str(err), request=request) from err
        return httpx.Response(
            answer.status,
            headers=list(answer.headers),
            stream=_AiohttpBody(answer, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason.encode()},
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


@dataclass(frozen=True)
class PoolState:
    """What a session's connection pool holds now (for tests that look for leaks)."""

    #: connections carrying a request or an unread answer
    in_use: int
    #: connections open, in use or idle
    open: int


def _load_aiohttp() -> tuple[type[AiohttpPool], ssl.SSLContext]:
    """The aiohttp pool class and httpx's default TLS context (blocking: run in a thread)."""
    from ._aiohttp import AiohttpPool

    return AiohttpPool, httpx.create_ssl_context()


class _DefaultTransport(httpx.AsyncBaseTransport):
    """The pool a session makes: aiohttp on asyncio, httpx's own otherwise.

    Chosen at the first request, since a client may be made outside any event loop.
    """

    def __init__(self, backend: HTTPBackend, limits: httpx.Limits) -> None:
        self._backend = backend
        self._limits = limits
        self._inner: httpx.AsyncBaseTransport | None = None
        self._choosing: anyio.Lock | None = None

    async def _choose(self) -> httpx.AsyncBaseTransport:
        # the first request of a session: importing aiohttp (about 100 ms) and loading
        # the CA certificates for the TLS context (about 30 ms) run in a worker thread,
        # so they never stall the event loop
        if self._choosing is None:
            self._choosing = anyio.Lock()
        async with self._choosing:
            if self._inner is not None:  # another request chose meanwhile
                return self._inner
            on_asyncio = _running_on_asyncio()
            if self._backend == "aiohttp" and not on_asyncio:
                raise ConfigurationError(
                    "http_backend='aiohttp' needs asyncio, and this runs on another event "
                    "loop; use http_backend='auto' or 'httpx'"
                )
            if on_asyncio and self._backend != "httpx":
                pool_class, context = await anyio.to_thread.run_sync(_load_aiohttp)
                inner: httpx.AsyncBaseTransport = _AiohttpTransport(
                    pool_class(
                        max_connections=self._limits.max_connections or 100,
                        ssl_context=lambda: context,
                        keepalive_expiry=self._limits.keepalive_expiry or 5.0,
                    )
                )
            else:
                limits = self._limits
                inner = await anyio.to_thread.run_sync(
                    lambda: httpx.AsyncHTTPTransport(limits=limits)
                )
            self._inner = inner
            return inner

    @property
    def backend(self) -> str | None:
        """``"aiohttp"`` or ``"httpx"`` once the first request chose, else None."""
        if self._inner is None:
            return None
        return "aiohttp" if isinstance(self._inner, _AiohttpTransport) else "httpx"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._inner or await self._choose()
        return await inner.handle_async_request(request)

    def pool_state(self) -> PoolState:
        """What the pool holds now."""
        inner = self._inner
        if isinstance(inner, _AiohttpTransport):
            in_use, open_ = inner.pool.pool_state()
            return PoolState(in_use, open_)
        if isinstance(inner, httpx.AsyncHTTPTransport):
            return _httpx_pool_state(inner)
        return PoolState(0, 0)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def _httpx_pool_state(transport: httpx.AsyncHTTPTransport) -> PoolState:
    # httpx has no public view of its pool; httpcore's connections tell their state
    connections = list(transport._pool.connections)
    return PoolState(
        in_use=sum(1 for c in connections if not (c.is_idle() or c.is_closed())),
        open=sum(1 for c in connections if not c.is_closed()),
    )


@dataclass(frozen=True)
class _Outgoing:
    """What a call sends (the same for each of its attempts)."""

    method: str
    url: str
    params: Mapping[str, str] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    content: Body | None = None
    headers: Mapping[str, str] | None = None
    add_filestack_headers: bool = True


class HTTPSession:
    """One connection pool plus the SDK's request policy.

    Args:
        timeouts: per-request timeouts.
        retry: the retry policy.
        http_client: an ``httpx.AsyncClient`` to use; it is not closed by `aclose`.
        transport: an httpx transport for a client this session creates (tests, emulator).
        max_connections: pool size of a client this session creates.
        secrets: strings to mask in every message (API key, app secret, signature...).
        backend: the pool of a client this session creates (see `resolve_backend`):
            ``"auto"`` is aiohttp on asyncio and httpx's own on trio (or behind a proxy
            named in the environment).
        on_event: called with a `RetryEvent` before each retry (see `_events`).
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
        backend: HTTPBackend | None = None,
        on_event: EventHook | None = None,
    ) -> None:
        chosen = resolve_backend(backend)
        self.on_event = on_event
        if http_client is not None and transport is not None:
            raise ConfigurationError("give http_client= or transport=, not both")
        if backend not in (None, "auto") and (http_client is not None or transport is not None):
            given = "http_client" if http_client is not None else "transport"
            raise ConfigurationError(f"give http_backend= or {given}=, not both")
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
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._default_transport: _DefaultTransport | None = None
        self._given_pool = http_client is not None or transport is not None
        # behind a proxy named in the environment, httpx's own pool (which honours it) is used
        if http_client is None and transport is None:
            if chosen == "aiohttp" or not _environment_proxies():
                transport = self._default_transport = _DefaultTransport(chosen, limits)
        self._client = http_client or httpx.AsyncClient(
            transport=transport,
            timeout=_httpx_timeout(self.timeouts),
            limits=limits,
            follow_redirects=False,
        )
        self._secrets = tuple(s for s in secrets if s)
        #: the session's timeouts as the request extension, built once (read, never changed)
        self._timeout_extension = _httpx_timeout(self.timeouts).as_dict()
        _LOG_REDACTOR.register(self, self._secrets)
        self.closed = False

    @property
    def secrets(self) -> tuple[str, ...]:
        """The strings masked in every message."""
        return self._secrets

    def redact(self, text: str, extra: Iterable[str] = ()) -> str:
        """Mask this session's secrets (and ``extra``) in ``text``."""
        return redact_text(text, (*self._secrets, *extra))

    @property
    def backend(self) -> str | None:
        """The pool in use: ``"aiohttp"`` or ``"httpx"``; None for a given transport or
        client, and until the first request (when ``"auto"`` chooses)."""
        if self._default_transport is not None:
            return self._default_transport.backend
        return None if self._given_pool else "httpx"

    def pool_state(self) -> PoolState | None:
        """What the connection pool holds now, for tests that look for leaks; None for a
        given transport or client, and behind an environment proxy."""
        if self._default_transport is not None:
            return self._default_transport.pool_state()
        return None

    async def aclose(self) -> None:
        """Close the connection pool if this session created it."""
        self.closed = True
        if self._owns_client:
            await self._client.aclose()

    def _build(
        self, outgoing: _Outgoing, *, limits: Timeouts, kind: Kind, deadline: _Deadline
    ) -> httpx.Request:
        all_headers = filestack_headers() if outgoing.add_filestack_headers else {}
        if kind is Kind.API:
            all_headers["Accept-Encoding"] = _API_ACCEPT_ENCODING
        if outgoing.headers:
            all_headers.update(outgoing.headers)
        content = outgoing.content
        body: bytes | AsyncIterable[bytes | memoryview] | None
        body = _counted(content(), deadline) if callable(content) else content
        if outgoing.json is not None:
            body = jsonlib.dumps(outgoing.json).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/json")
        if isinstance(body, bytes):
            deadline.sent(len(body))
        extension = (
            self._timeout_extension if limits is self.timeouts else _httpx_timeout(limits).as_dict()
        )
        extensions = {"timeout": extension}
        return self._client.build_request(
            outgoing.method,
            outgoing.url,
            params=outgoing.params,
            data=outgoing.data,
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
        timeout: Timeouts | None = None,  # noqa: ASYNC109 - limits object, not seconds
        retry: Retry = Retry.ALWAYS,
        redact: Iterable[str] = (),
        accept: Callable[[int], bool] | None = None,
        kind: Kind = Kind.API,
    ) -> Response:
        """Send a request, retrying per policy, and return the whole response.

        Args:
            accept: which statuses count as success (default: 2xx).
            redact: extra strings to mask in error messages and logs (per-call security).
            retry: which failures may be retried (see `Retry`).
            kind: an API call (no redirects, answer capped) or a download (see `Kind`).

        Raises:
            APIStatusError: (a subclass for) an error status, after retries.
            APIConnectionError: a transport failure, after retries.
            APIResponseValidationError: an API answer over its cap, or undecodable.
        """
        extra = tuple(redact)
        outgoing = _Outgoing(
            method, url, params, json, data, content, headers, add_filestack_headers
        )
        async with self._send(
            outgoing,
            timeout=timeout,
            retry=retry,
            redact=extra,
            accept=accept,
            kind=kind,
            stream=False,
        ) as (response, body, _):
            return Response(
                status_code=response.status_code,
                headers=response.headers,
                content=body,
                method=method,
                sent_url=str(response.request.url),
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
        timeout: Timeouts | None = None,  # noqa: ASYNC109 - limits object, not seconds
        retry: Retry = Retry.ALWAYS,
        redact: Iterable[str] = (),
        kind: Kind = Kind.DOWNLOAD,
    ) -> AsyncIterator[StreamResponse]:
        """Send a request and yield a response whose body is read incrementally.

        Retries happen only before the body starts; a failure while reading it
        raises from `StreamResponse.aiter_bytes`. The body is not capped; the
        attempt's total deadline (``Timeouts.total`` plus the bytes moved at
        ``Timeouts.min_rate``) covers it.
        """
        extra = tuple(redact)
        secrets = (*self._secrets, *extra)
        outgoing = _Outgoing(
            method, url, params, headers=headers, add_filestack_headers=add_filestack_headers
        )
        async with self._send(
            outgoing,
            timeout=timeout,
            retry=retry,
            redact=extra,
            accept=None,
            kind=kind,
            stream=True,
        ) as (response, _, deadline):
            yield StreamResponse(
                response,
                method,
                redact_url(str(response.request.url), secrets),
                deadline=deadline,
                secrets=secrets,
            )

    @asynccontextmanager
    async def _send(
        self,
        outgoing: _Outgoing,
        *,
        timeout: Timeouts | None,  # noqa: ASYNC109 - limits object, not seconds
        retry: Retry,
        redact: tuple[str, ...],
        accept: Callable[[int], bool] | None,
        kind: Kind,
        stream: bool,
    ) -> AsyncIterator[tuple[httpx.Response, bytes, _Deadline]]:
        if self.closed:
            raise ConfigurationError("the client is closed; create a new one")
        method, url = outgoing.method, outgoing.url
        policy = self.retry
        limits = timeout or self.timeouts
        secrets = (*self._secrets, *redact)
        is_success = accept or (lambda code: 200 <= code < 300)
        call = _Call()
        _LOG_REDACTOR.register(call, redact)
        waited = 0.0
        attempt = 0
        try:
            while True:
                deadline = _Deadline(limits)
                try:
                    request = self._build(outgoing, limits=limits, kind=kind, deadline=deadline)
                except httpx.InvalidURL as err:
                    raise ConfigurationError(
                        f"cannot send {method} to {redact_url(url, secrets)[:200]!r}: "
                        f"{redact_text(str(err), secrets)}"
                    ) from None
                error: APIError
                retry_after: float | None = None
                try:
                    with deadline.scope() as scope:
                        exchanged = await self._exchange(
                            request,
                            kind=kind,
                            stream=stream,
                            is_success=is_success,
                            limits=limits,
                            deadline=deadline,
                            secrets=secrets,
                        )
                except _HTTPX_ERRORS as err:
                    safe_url = redact_url(str(request.url), secrets)  # only for a message
                    error, retryable = _error(err, method, safe_url, secrets)
                    retryable = retryable and retry is not Retry.NEVER
                else:
                    if scope.cancelled_caught:  # the deadline passed
                        safe_url = redact_url(str(request.url), secrets)
                        error = APITimeoutError(
                            f"{method} {safe_url} took longer than its total deadline "
                            f"({limits.total:g} s plus 1 s per {limits.min_rate:g} bytes moved)",
                            method=method,
                            url=safe_url,
                            phase="total",
                        )
                        # not retried: a server that trickles would trickle again, and
                        # the call has to end within its deadline
                        retryable = False
                    else:
                        response, body = exchanged
                        if is_success(response.status_code):
                            try:
                                yield response, body, deadline
                            finally:
                                await _close(response)
                            return
                        final_url = redact_url(str(response.request.url), secrets)
                        error = self._status_error(method, final_url, response, body, secrets)
                        retry_after = getattr(error, "retry_after", None)
                        retryable = retry is Retry.ALWAYS and is_retryable_status(
                            response.status_code
                        )
                        if retry_after is not None and retry_after > policy.max_retry_after:
                            retryable = False
                error.attempts = attempt + 1
                if not retryable or attempt >= policy.max_retries:
                    raise error
                delay = retry_after if retry_after is not None else backoff_delay(attempt, policy)
                if waited + delay > policy.budget:
                    raise error
                logger.debug(
                    "retrying %s %s in %.2fs (attempt %d): %s",
                    method,
                    error.url,
                    delay,
                    attempt + 1,
                    error.message,
                    extra={RETRY_RECORD: (attempt + 1, policy.max_retries, delay)},
                )
                if self.on_event is not None:
                    what = f"{method} {error.url}" if error.url else method
                    await emit(self.on_event, RetryEvent(what, attempt + 1, delay, error.message))
                await policy.sleep(delay)
                waited += delay
                attempt += 1
        finally:
            _LOG_REDACTOR.unregister(call)

    async def _exchange(
        self,
        request: httpx.Request,
        *,
        kind: Kind,
        stream: bool,
        is_success: Callable[[int], bool],
        limits: Timeouts,
        deadline: _Deadline,
        secrets: tuple[str, ...],
    ) -> tuple[httpx.Response, bytes]:
        """One attempt: send, follow the redirects ``kind`` allows, read the body.

        A streamed success is returned open (its body unread); any other response is
        read (capped as ``kind`` says) and closed.
        """
        hops = 0
        while True:
            # never httpx's own following: a given http_client may have it on
            response = await self._client.send(request, stream=True, follow_redirects=False)
            try:
                target = self._redirect(request, response, kind, secrets, hops)
                if target is not None:
                    await _close(response)
                    request = target
                    hops += 1
                    continue
                code = response.status_code
                if stream and is_success(code):
                    return response, b""
                if not is_success(code):
                    body = await self._read(response, _ERROR_BODY_CAP, deadline, truncate=True)
                elif kind is Kind.API:
                    body = await self._read(response, limits.max_answer_bytes, deadline)
                else:
                    body = await self._read(response, None, deadline)
            except BaseException:
                await _close(response)
                raise
            await _close(response)
            return response, body

    def _redirect(
        self,
        request: httpx.Request,
        response: httpx.Response,
        kind: Kind,
        secrets: tuple[str, ...],
        hops: int,
    ) -> httpx.Request | None:
        """The next request when ``response`` is a redirect to follow, else None.

        Only downloads (GET, HEAD) follow. To the same origin the request goes as
        it is; to another origin without credentials (security segment, ``key``,
        ``policy``, ``signature`` values, Authorization and Cookie headers), and not
        at all if a known secret would still be in it.

        Raises:
            APIConnectionError: past `MAX_REDIRECTS`, or a redirect that is refused.
        """
        location = response.headers.get("location")
        if (
            kind is not Kind.DOWNLOAD
            or request.method not in ("GET", "HEAD")
            or response.status_code not in _REDIRECT_STATUSES
            or not location
        ):
            return None
        method = request.method
        safe_url = redact_url(str(request.url), secrets)
        if hops >= MAX_REDIRECTS:
            raise APIConnectionError(
                f"{method} {safe_url} was redirected more than {MAX_REDIRECTS} times",
                method=method,
                url=safe_url,
            )
        target = request.url.join(location).copy_with(fragment=None)
        if target.scheme not in ("http", "https"):
            raise APIConnectionError(
                f"{method} {safe_url} was redirected to a {target.scheme!r} URL, not http(s)",
                method=method,
                url=safe_url,
            )
        sent = httpx.Headers(request.headers)
        del sent["host"]
        if not _same_origin(request.url, target):
            target = httpx.URL(strip_credentials(str(target)))
            for name in _CREDENTIAL_HEADERS:
                sent.pop(name, None)
            carried = f"{target} {' '.join(sent.values())}"
            if any(secret in carried for secret in secrets if len(secret) >= 4):
                raise APIConnectionError(
                    f"{method} {safe_url} was redirected to another host "
                    f"({target.host}) with a credential in the URL; not followed",
                    method=method,
                    url=safe_url,
                )
        return self._client.build_request(
            method, target, headers=sent, extensions=request.extensions
        )

    async def _read(
        self,
        response: httpx.Response,
        cap: int | None,
        deadline: _Deadline,
        *,
        truncate: bool = False,
    ) -> bytes:
        """Read a whole body; with ``cap``, never more than that on the wire or decoded.

        Past the cap the read stops (and the connection is closed by the caller):
        an error body is kept truncated (``truncate``), an API answer raises.

        Raises:
            APIResponseValidationError: an API answer over ``cap``, or undecodable.
        """
        request = response.request
        method = request.method

        def where() -> str:  # the redacted URL, worked out only for a message
            return redact_url(str(request.url), self._secrets)

        if response.is_stream_consumed and cap is not None:
            # built whole in memory (httpx.MockTransport): nothing left to stream
            if len(response.content) <= cap or truncate:
                return response.content[:cap]
            raise APIResponseValidationError(
                f"{method} {where()} answered with more than {cap} bytes "
                f"(the cap on API answers, Timeouts.max_answer_bytes)",
                method=method,
                url=where(),
            )
        if cap is None:
            pieces: list[bytes] = []
            async for piece in response.aiter_bytes():
                pieces.append(piece)
                deadline.received(response.num_bytes_downloaded)
            return b"".join(pieces)

        def too_large(what: str) -> APIResponseValidationError:
            return APIResponseValidationError(
                f"{method} {where()} answered with more than {cap} bytes {what} "
                f"(the cap on API answers, Timeouts.max_answer_bytes)",
                method=method,
                url=where(),
            )

        length = response.headers.get("content-length", "")
        if not truncate and length.isdigit() and int(length) > cap:
            raise too_large("(its Content-Length)")
        try:
            decoder = BoundedDecoder(response.headers.get("content-encoding", ""), cap)
        except ValueError as err:
            if truncate:
                return b""
            raise APIResponseValidationError(
                f"{method} {where()} answered with {err}", method=method, url=where()
            ) from None
        try:
            async for raw in response.aiter_raw():
                deadline.received(response.num_bytes_downloaded)
                if response.num_bytes_downloaded > cap:
                    if truncate:
                        break
                    raise too_large("on the wire")
                decoder.decode(raw)
            else:
                decoder.flush()
        except OverCap:
            if not truncate:
                raise too_large("once decoded") from None
        except zlib.error as err:
            if not truncate:
                raise APIResponseValidationError(
                    f"{method} {where()} answered with a body that cannot be decoded "
                    f"({response.headers.get('content-encoding')}): {err}",
                    method=method,
                    url=where(),
                ) from None
        return bytes(decoder.output)

    def _status_error(
        self,
        method: str,
        safe_url: str,
        response: httpx.Response,
        content: bytes,
        secrets: tuple[str, ...],
    ) -> APIStatusError:
        text = content.decode("utf-8", errors="replace")
        body = _preview(redact_text(text, secrets))
        request_id = _request_id(response.headers, text)
        retry_after = parse_retry_after(response.headers)
        cls = status_error_class(response.status_code)
        parts = [f"{method} {safe_url} answered {response.status_code}"]
        if response.reason_phrase:
            parts[0] += f" {response.reason_phrase}"
        if 300 <= response.status_code < 400:
            where = response.headers.get("location")
            to = f" to {redact_url(where, secrets)[:200]}" if where else ""
            parts.append(f"redirected{to}; redirects are not followed on API calls")
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


class _Call:
    """A token standing for one call while it runs (its secrets are masked in logs)."""

    __slots__ = ("__weakref__",)
