"""filestack-async: the async-first Python SDK for Filestack."""

from ._av import AudioVisual
from ._client import Client
from ._config import Endpoints, RetryPolicy, Timeouts, UploadConfig
from ._context import Context
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConversionError,
    FilestackError,
    InternalServerError,
    LocalFileError,
    NotFoundError,
    PartUploadError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UploadError,
    UploadIncompleteError,
)
from ._filelink import Filelink
from ._security import Security, verify_webhook_signature
from ._transform import Transformation
from ._version import __version__
from .uploads import UploadItem, UploadProgress

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AudioVisual",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "Context",
    "ConversionError",
    "Endpoints",
    "Filelink",
    "FilestackError",
    "InternalServerError",
    "LocalFileError",
    "NotFoundError",
    "PartUploadError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "Security",
    "Timeouts",
    "Transformation",
    "UploadConfig",
    "UploadError",
    "UploadIncompleteError",
    "UploadItem",
    "UploadProgress",
    "__version__",
    "verify_webhook_signature",
]
