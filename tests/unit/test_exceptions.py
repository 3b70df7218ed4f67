"""The error hierarchy."""

from __future__ import annotations

import pickle

import pytest

import filestack_async as fa
from filestack_async._exceptions import status_error_class


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, fa.BadRequestError),
        (401, fa.AuthenticationError),
        (403, fa.PermissionDeniedError),
        (404, fa.NotFoundError),
        (413, fa.PayloadTooLargeError),
        (429, fa.RateLimitError),
        (500, fa.InternalServerError),
        (503, fa.InternalServerError),
        (418, fa.APIStatusError),
    ],
)
def test_status_classes(status: int, cls: type[fa.APIStatusError]) -> None:
    assert status_error_class(status) is cls
    assert issubclass(cls, fa.APIStatusError)


def test_tree() -> None:
    assert issubclass(fa.ConfigurationError, ValueError)
    assert issubclass(fa.ConfigurationError, fa.FilestackError)
    assert issubclass(fa.APITimeoutError, fa.APIConnectionError)
    assert issubclass(fa.APIConnectionError, fa.APIError)
    assert issubclass(fa.APIResponseValidationError, fa.APIError)
    assert issubclass(fa.PartUploadError, fa.UploadError)
    assert issubclass(fa.UploadIncompleteError, fa.UploadError)
    assert issubclass(fa.ConversionError, fa.FilestackError)


def test_errors_pickle_with_their_attributes() -> None:
    errors: list[fa.FilestackError] = [
        fa.RateLimitError("slow down", status_code=429, retry_after=3.0, request_id="r1"),
        fa.PartUploadError("boom", part_number=3, offset=10, attempts=2, upload_id="u"),
        fa.ConversionError("bad", uuid="x", status="failed"),
        fa.ConfigurationError("wrong"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.__dict__ == error.__dict__
