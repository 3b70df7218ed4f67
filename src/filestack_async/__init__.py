"""filestack-async: the async-first Python SDK for Filestack.

The public names are imported on first use (module ``__getattr__``), so ``import
filestack_async`` stays cheap and ``from filestack_async import Client`` loads only
what the client needs.
"""

import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._av import AudioVisual
    from ._client import Client
    from ._config import Endpoints, RetryPolicy, Timeouts, UploadConfig
    from ._context import Context
    from ._download import DownloadStream
    from ._events import ChunkSizeChanged, FallbackSwitched, PartDone, RetryEvent, UploadResumed
    from ._exceptions import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CheckpointError,
        ConfigurationError,
        ContentChangedError,
        ConversionError,
        FilestackError,
        InternalServerError,
        LocalFileError,
        NotFoundError,
        PartUploadError,
        PayloadTooLargeError,
        PermissionDeniedError,
        RangeNotSatisfiableError,
        RateLimitError,
        UploadError,
        UploadIncompleteError,
    )
    from ._filelink import Filelink
    from ._security import Security, verify_webhook_signature
    from ._transform import Transformation
    from ._uploads import UploadItem, UploadProgress

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AudioVisual",
    "AuthenticationError",
    "BadRequestError",
    "CheckpointError",
    "ChunkSizeChanged",
    "Client",
    "ConfigurationError",
    "ContentChangedError",
    "Context",
    "ConversionError",
    "DownloadStream",
    "Endpoints",
    "FallbackSwitched",
    "Filelink",
    "FilestackError",
    "InternalServerError",
    "LocalFileError",
    "NotFoundError",
    "PartDone",
    "PartUploadError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RangeNotSatisfiableError",
    "RateLimitError",
    "RetryEvent",
    "RetryPolicy",
    "Security",
    "Timeouts",
    "Transformation",
    "UploadConfig",
    "UploadError",
    "UploadIncompleteError",
    "UploadItem",
    "UploadProgress",
    "UploadResumed",
    "__version__",
    "verify_webhook_signature",
]

#: the module that defines each public name (besides ``__version__``)
_WHERE = {
    "AudioVisual": "._av",
    "Client": "._client",
    "Endpoints": "._config",
    "RetryPolicy": "._config",
    "Timeouts": "._config",
    "UploadConfig": "._config",
    "Context": "._context",
    "ChunkSizeChanged": "._events",
    "FallbackSwitched": "._events",
    "PartDone": "._events",
    "RetryEvent": "._events",
    "UploadResumed": "._events",
    "DownloadStream": "._download",
    "Filelink": "._filelink",
    "Security": "._security",
    "verify_webhook_signature": "._security",
    "Transformation": "._transform",
    "UploadItem": "._uploads",
    "UploadProgress": "._uploads",
    **{
        name: "._exceptions"
        for name in __all__
        if name.endswith("Error") or name in ("FilestackError", "UploadIncompleteError")
    },
}


if not _typing.TYPE_CHECKING:  # type checkers see the imports above, and no catch-all

    def __getattr__(name: str) -> object:
        """Import a public name on first use (then it is an ordinary module attribute)."""
        where = _WHERE.get(name)
        if where is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(where, __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The module's attributes, every public name included before its first use."""
    return sorted(set(globals()) | set(__all__))
