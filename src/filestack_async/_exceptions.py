"""The error hierarchy of filestack-async.

```
FilestackError
├── ConfigurationError (also ValueError)     bad arguments, caught before any I/O
├── APIError
│   ├── APIConnectionError → APITimeoutError  transport failures after retries
│   ├── APIStatusError  .status_code .request_id .retry_after .body
│   │     BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
│   │     NotFoundError 404, PayloadTooLargeError 413,
│   │     RangeNotSatisfiableError 416, RateLimitError 429, InternalServerError 5xx
│   ├── APIResponseValidationError           2xx with a body we cannot use
│   └── ContentChangedError                   the file changed during a resumed download
├── UploadError  .upload_id .parts_done .parts_total .bytes_sent
│   ├── PartUploadError  .part_number .offset .attempts
│   └── UploadIncompleteError                 complete still 202 after its budget
├── CheckpointError  .path .reason           an upload checkpoint cannot be used
├── ConversionError                           AV conversion reported failure
└── LocalFileError (also OSError)  .path      a local file could not be written
```

Every message is built from already-redacted parts: no API key, app secret,
policy, signature or signed URL ever reaches ``str()`` or ``repr()``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "CheckpointError",
    "BadRequestError",
    "ConfigurationError",
    "ContentChangedError",
    "ConversionError",
    "FilestackError",
    "InternalServerError",
    "LocalFileError",
    "NotFoundError",
    "PartUploadError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RangeNotSatisfiableError",
    "RateLimitError",
    "UploadError",
    "UploadIncompleteError",
]


class FilestackError(Exception):
    """Base class of every error this package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes would break the default pickling of exceptions.
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[FilestackError], message: str, state: dict[str, Any]) -> FilestackError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ConfigurationError(FilestackError, ValueError):
    """An argument or setting is wrong; raised before any request is sent."""


class APIError(FilestackError):
    """A request to Filestack failed.

    ``method`` and ``url`` describe the request with every credential removed;
    ``attempts`` is how many times it was sent (1, plus the retries the
    `RetryPolicy` made before giving up).
    """

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.attempts = 1


class APIConnectionError(APIError):
    """The request could not be completed at the transport level (after retries)."""


class APITimeoutError(APIConnectionError):
    """The request timed out (after retries).

    Attributes:
        phase: what timed out, when known: ``"connect"``, ``"write"`` (sending the
            body), ``"read"`` (the body was sent whole; the answer was late) or
            ``"pool"`` (waiting for a free connection); ``None`` otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        phase: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.phase = phase


class APIResponseValidationError(APIError):
    """The service answered with success, but the body is not what the protocol promises."""


class ContentChangedError(APIError):
    """The file changed between two attempts of one download (its ETag moved).

    A download that lost its connection resumes with ``Range`` and ``If-Range``;
    when the service answers with another version, the download stops here rather
    than join the bytes of two versions. What was already delivered came from the
    first version; a path destination is left as it was.
    """


class APIStatusError(APIError):
    """The service answered with an error status (after retries where they apply).

    Attributes:
        status_code: the HTTP status.
        request_id: the service's request id, when it sent one.
        retry_after: seconds the service asked us to wait, when it said so.
        body: the start of the response body, redacted.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        url: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: str = "",
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body


class BadRequestError(APIStatusError):
    """HTTP 400: the service rejected the request's parameters."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key or credentials were not accepted."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the policy or signature does not allow this call."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such file, task or endpoint."""


class PayloadTooLargeError(APIStatusError):
    """HTTP 413: the body is larger than the service accepts."""


class RangeNotSatisfiableError(APIStatusError):
    """HTTP 416: the byte range asked for starts past the end of the file."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests; see ``retry_after``."""


class InternalServerError(APIStatusError):
    """HTTP 5xx: the service failed."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    416: RangeNotSatisfiableError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """Return the most specific `APIStatusError` subclass for an HTTP status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


class UploadError(FilestackError):
    """An upload failed; what was done so far is kept on the error.

    When several parts failed at once, the exception group is the ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        upload_id: str | None = None,
        parts_done: int = 0,
        parts_total: int = 0,
        bytes_sent: int = 0,
    ) -> None:
        super().__init__(message)
        self.upload_id = upload_id
        self.parts_done = parts_done
        self.parts_total = parts_total
        self.bytes_sent = bytes_sent


class PartUploadError(UploadError):
    """One part (or intelligent-ingestion chunk) could not be uploaded."""

    def __init__(
        self,
        message: str,
        *,
        part_number: int,
        offset: int = 0,
        attempts: int = 0,
        upload_id: str | None = None,
        parts_done: int = 0,
        parts_total: int = 0,
        bytes_sent: int = 0,
    ) -> None:
        super().__init__(
            message,
            upload_id=upload_id,
            parts_done=parts_done,
            parts_total=parts_total,
            bytes_sent=bytes_sent,
        )
        self.part_number = part_number
        self.offset = offset
        self.attempts = attempts


class UploadIncompleteError(UploadError):
    """``/multipart/complete`` still answered 202 when its polling budget ran out."""


class CheckpointError(FilestackError):
    """The checkpoint of ``upload(..., resume=PATH)`` cannot be used; nothing was sent.

    Attributes:
        path: the checkpoint file.
        reason: ``"unreadable"`` (the file system refused), ``"corrupt"`` (not a
            checkpoint this SDK wrote: truncated, not JSON, a field out of range),
            ``"version"`` (another format version), ``"other-file"`` (written for
            another file), ``"changed"`` (the source changed since) or
            ``"other-upload"`` (another service, API key, flow or store settings).
    """

    def __init__(self, message: str, *, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class ConversionError(FilestackError):
    """An audio/video conversion reported failure.

    Attributes:
        uuid: the conversion's id.
        status: the last status the service reported.
    """

    def __init__(self, message: str, *, uuid: str | None = None, status: str | None = None) -> None:
        super().__init__(message)
        self.uuid = uuid
        self.status = status


class LocalFileError(FilestackError, OSError):
    """A local file could not be written: a full disk, a read-only folder, a quota.

    Also an `OSError`, so ``except OSError`` keeps catching it; the operating
    system's error is the ``__cause__``. A download that fails this way leaves
    nothing behind (its temporary file is removed) and the destination as it was.

    Attributes:
        path: the file the caller named.
        errno: the operating system's error number (``errno.ENOSPC``...), if any.
        strerror: the operating system's description of it, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        errno: int | None = None,
        strerror: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno
        self.strerror = strerror
        self.filename = path

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_local_file_error,
            (type(self), self.message, self.path, self.errno, self.strerror),
        )


def _rebuild_local_file_error(
    cls: type[LocalFileError],
    message: str,
    path: str | None,
    errno: int | None,
    strerror: str | None,
) -> LocalFileError:
    return cls(message, path=path, errno=errno, strerror=strerror)
