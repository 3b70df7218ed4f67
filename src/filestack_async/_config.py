"""Configuration values: where to send requests, timeouts, retries and upload tuning.

All are frozen dataclasses: build one, pass it to `Client`, and use
``dataclasses.replace`` to derive variants.
"""

from __future__ import annotations

import inspect
import os
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio

from ._exceptions import ConfigurationError

MiB = 1024 * 1024

#: The environment variable that points every host at one origin (the emulator).
BASE_URL_ENV = "FILESTACK_BASE_URL"
#: The environment variable `Client` reads the API key from when none is given.
APIKEY_ENV = "FILESTACK_API_KEY"
#: The environment variable `Security.from_env` reads the app secret from.
SECRET_ENV = "FILESTACK_APP_SECRET"

DEFAULT_API_URL = "https://www.filestackapi.com/api"
DEFAULT_CDN_URL = "https://cdn.filestackcontent.com"
DEFAULT_UPLOAD_URL = "https://upload.filestackapi.com"


#: The default of `Timeouts.total`, seconds per attempt: above pool + connect + read
#: (100 s), so it never cuts what the per-phase limits let finish, and far beyond any
#: API answer of the service (the slowest take seconds).
DEFAULT_TOTAL = 120.0


_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f]")


def _check_int(name: str, value: object, minimum: int) -> None:
    """Raise unless ``value`` is an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {value}")


def _check_seconds(name: str, value: object, *, positive: bool) -> None:
    """Raise unless ``value`` is a real number of seconds (> 0, or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if value != value:  # NaN
        raise ConfigurationError(f"{name} must be a number of seconds, not NaN")
    if positive and value <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {value}")
    if value < 0:
        raise ConfigurationError(f"{name} must not be negative, not {value}")


def _origin(url: str, what: str) -> str:
    if not isinstance(url, str):
        raise ConfigurationError(f"{what} must be a string URL, not {type(url).__name__}")
    if _UNPRINTABLE.search(url):
        raise ConfigurationError(f"{what} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as err:
        raise ConfigurationError(f"{what} is not a valid URL: {err}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{what} must be an http(s) URL such as http://127.0.0.1:8700")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{what} must not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Endpoints:
    """The three base URLs the SDK talks to.

    By default these are Filestack's real hosts. ``Endpoints.single_origin(url)``
    points all three at one server, as the emulator serves them: the File API under
    ``/api``, the CDN and the Upload API at the root.

    Example:
        >>> Endpoints.single_origin("http://127.0.0.1:8700").api
        'http://127.0.0.1:8700/api'
    """

    api: str = DEFAULT_API_URL
    cdn: str = DEFAULT_CDN_URL
    upload: str = DEFAULT_UPLOAD_URL

    def __post_init__(self) -> None:
        for name in ("api", "cdn", "upload"):
            object.__setattr__(self, name, _origin(getattr(self, name), f"the {name} URL"))

    @classmethod
    def single_origin(cls, base_url: str) -> Endpoints:
        """All three services on one origin (the emulator's layout)."""
        base = _origin(base_url, "base_url")
        return cls(api=f"{base}/api", cdn=base, upload=base)

    @classmethod
    def with_cname(cls, cname: str) -> Endpoints:
        """The CNAME form: ``cdn.<cname>`` and ``upload.<cname>``; the File API is unchanged."""
        if not isinstance(cname, str):
            raise ConfigurationError(f"cname must be a string, not {type(cname).__name__}")
        if not cname or "/" in cname or ":" in cname or cname.strip() != cname:
            raise ConfigurationError("cname must be a bare domain such as 'example.com'")
        return cls(cdn=f"https://cdn.{cname}", upload=f"https://upload.{cname}")

    @classmethod
    def resolve(
        cls,
        base_url: str | None = None,
        cname: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Endpoints:
        """Pick: ``base_url``, else ``cname``, else ``$FILESTACK_BASE_URL``, else the real hosts."""
        if base_url is not None and cname is not None:
            raise ConfigurationError("give base_url= or cname=, not both")
        if base_url is not None:
            return cls.single_origin(base_url)
        if cname is not None:
            return cls.with_cname(cname)
        if environ is not None and not isinstance(environ, Mapping):
            raise ConfigurationError(
                f"environ must be a mapping of variables, not {type(environ).__name__}"
            )
        env = os.environ if environ is None else environ
        from_env = env.get(BASE_URL_ENV)
        if from_env:
            return cls.single_origin(from_env)
        return cls()

    def location_url(self, location: str) -> str:
        """Turn ``location_url`` from ``/multipart/start`` into a base URL.

        The service sends a bare host (``upload-eu-west-1.filestackapi.com``); it is
        used with the scheme of the upload base URL. A full URL is accepted as is.
        """
        if not isinstance(location, str):
            raise ConfigurationError(
                f"location_url must be a host name string, not {type(location).__name__}"
            )
        if not location.strip():
            raise ConfigurationError("location_url is empty")
        location = location.strip().rstrip("/")
        if location.startswith(("http://", "https://")):
            return _origin(location, "location_url")
        scheme = urlsplit(self.upload).scheme
        return _origin(f"{scheme}://{location}", "location_url")


@dataclass(frozen=True)
class Timeouts:
    """Per-request limits: timeouts in seconds (``None`` disables one) and the answer cap.

    ``connect``, ``read``, ``write`` and ``pool`` are httpx's per-phase limits;
    ``read`` and ``write`` are inactivity limits, so a slow but moving transfer
    does not time out.

    ``total`` bounds each attempt of a request as a whole (connect, send, the
    answer's headers and its body): a server that trickles one byte a second
    cannot hold a call forever. The attempt may take ``total`` seconds plus one
    second per ``min_rate`` bytes it moved (sent or received), so a transfer that
    averages at least ``min_rate`` bytes a second never reaches it, however large.
    Past it: `APITimeoutError` with ``phase="total"``, not retried (other failures'
    retries are attempts of their own, each with a fresh deadline).

    ``max_answer_bytes`` caps an API answer (JSON from the Upload API, File API,
    ``/process``, metadata...) both as received and after gzip/deflate decoding;
    a larger one raises `APIResponseValidationError` as soon as the cap is passed.
    Downloads (``get_content``, ``download``) are not capped.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    write: float | None = 60.0
    pool: float | None = 30.0
    total: float | None = DEFAULT_TOTAL
    min_rate: float = 16 * 1024
    max_answer_bytes: int = 4 * MiB

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "pool", "total"):
            value = getattr(self, name)
            if value is not None:
                _check_seconds(f"the {name} timeout", value, positive=True)
        value = self.min_rate
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(
                f"min_rate must be a number of bytes per second, not {type(value).__name__}"
            )
        if not 0 < value < float("inf"):
            raise ConfigurationError(
                f"min_rate must be a positive, finite number of bytes per second, not {value}"
            )
        _check_int("max_answer_bytes", self.max_answer_bytes, 1024)


async def _default_sleep(seconds: float) -> None:
    """Wait with anyio (works on asyncio and trio)."""
    await anyio.sleep(seconds)


class _CheckedSleep:
    """A policy's ``sleep``, checked to return an awaitable when called."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[[float], Awaitable[None]]) -> None:
        self.function = function

    def __call__(self, seconds: float) -> Awaitable[None]:
        waiting = self.function(seconds)
        if not inspect.isawaitable(waiting):
            raise ConfigurationError(
                "RetryPolicy.sleep must be an async callable: it returned "
                f"{type(waiting).__name__}, not an awaitable"
            )
        return waiting

    def __repr__(self) -> str:
        return repr(self.function)


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried.

    Retry ``n`` (0-based) waits ``min(max_delay, initial_delay * multiplier**n)``
    times a random factor in ``[0.5, 1.0)``, unless the service sent
    ``Retry-After`` (honoured up to ``max_retry_after`` seconds). An operation
    stops retrying once ``budget`` seconds of waiting would be exceeded.

    ``random`` and ``sleep`` can be replaced, so tests never wait.
    """

    max_retries: int = 4
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 8.0
    budget: float = 120.0
    max_retry_after: float = 120.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    sleep: Callable[[float], Awaitable[None]] = field(
        default=_default_sleep, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _check_int("max_retries", self.max_retries, 0)
        for name in ("initial_delay", "max_delay", "budget", "max_retry_after"):
            _check_seconds(name, getattr(self, name), positive=False)
        _check_seconds("multiplier", self.multiplier, positive=True)
        if self.multiplier < 1:
            raise ConfigurationError(f"multiplier must be at least 1, not {self.multiplier}")
        if not callable(self.random):
            raise ConfigurationError("random must be a callable returning a float in [0, 1)")
        if not callable(self.sleep) or inspect.isbuiltin(self.sleep):
            raise ConfigurationError(
                "sleep must be an async callable taking seconds (such as anyio.sleep; "
                "time.sleep would block the event loop)"
            )
        if not isinstance(self.sleep, _CheckedSleep):
            object.__setattr__(self, "sleep", _CheckedSleep(self.sleep))

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """No retries at all."""
        return cls(max_retries=0)


@dataclass(frozen=True)
class UploadConfig:
    """Tuning for uploads.

    Attributes:
        multipart_threshold: files of at least this many bytes go multipart; smaller
            ones (above 0) are stored with one File API request (docs/uploads.md).
            ``0``: every non-empty file goes multipart.
        part_size: bytes per part (at least 5 MiB; grown so no file needs over 10,000 parts).
        concurrency: parts in flight per upload.
        max_parts_in_flight: parts in flight across the whole client.
        intelligent_chunk_size: first chunk size for intelligent ingestion.
        min_chunk_size: intelligent ingestion fails below this chunk size.
        complete_budget: seconds to keep polling ``/multipart/complete`` while it answers 202.
        progress_interval: the least seconds between two progress reports of bytes
            written (acknowledgements and the final report are never held back).
        integrity_check: send each part's (and chunk's) MD5 so the storage checks it.
            ``False`` skips MD5 entirely (no ``md5`` field, no ``Content-MD5``
            header): hashing is the largest share of an upload's CPU, and TCP and
            TLS already check the bytes in transit.
    """

    part_size: int = 8 * MiB
    concurrency: int = 8
    max_parts_in_flight: int = 16
    intelligent_chunk_size: int = 8 * MiB
    min_chunk_size: int = 32 * 1024
    complete_budget: float = 120.0
    multipart_threshold: int = 8 * MiB
    progress_interval: float = 0.25
    integrity_check: bool = True

    def __post_init__(self) -> None:
        _check_int("multipart_threshold", self.multipart_threshold, 0)
        _check_seconds("progress_interval", self.progress_interval, positive=False)
        if not isinstance(self.integrity_check, bool):
            raise ConfigurationError(
                f"integrity_check must be True or False, not {type(self.integrity_check).__name__}"
            )
        for name in (
            "part_size",
            "concurrency",
            "max_parts_in_flight",
            "intelligent_chunk_size",
            "min_chunk_size",
        ):
            _check_int(name, getattr(self, name), 1)
        _check_seconds("complete_budget", self.complete_budget, positive=False)
        if self.part_size < 5 * MiB:
            raise ConfigurationError("part_size must be at least 5 MiB (5242880 bytes)")
        if self.part_size > 5 * 1024 * MiB:
            raise ConfigurationError("part_size must be at most 5 GiB")
        if self.min_chunk_size > self.intelligent_chunk_size:
            raise ConfigurationError("need 0 < min_chunk_size <= intelligent_chunk_size")
