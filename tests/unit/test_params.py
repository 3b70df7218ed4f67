"""Handle, storage and store-parameter validation."""

from __future__ import annotations

from typing import Any

import pytest

from filestack_async import ConfigurationError
from filestack_async._params import (
    STORAGES,
    validate_handle,
    validate_storage,
    validate_store_params,
)


def test_valid_handle() -> None:
    assert validate_handle("AbCdEfGhIjKlMnOpQrSt") == "AbCdEfGhIjKlMnOpQrSt"


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        ("short", "20 letters and digits"),
        ("AbCdEfGhIjKlMnOpQrSt1", "20 letters and digits"),
        ("AbCdEfGhIjKlMnOpQr/t", "not a URL"),
        ("https://cdn.filestackcontent.com/AbCdEfGhIjKlMnOpQrSt", "not a URL"),
        ("AbCdEfGhIjKlMnOpQr t", "20 letters and digits"),
        (None, "must be a string"),
        (12345678901234567890, "must be a string"),
    ],
)
def test_invalid_handles(handle: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        validate_handle(handle)


@pytest.mark.parametrize("storage", STORAGES)
def test_known_storages(storage: str) -> None:
    assert validate_storage(storage) == storage


@pytest.mark.parametrize("storage", ["s3", "GCS", "ftp", "", None])
def test_unknown_storages(storage: object) -> None:
    with pytest.raises(ConfigurationError, match="unknown storage"):
        validate_storage(storage)


def test_store_params_round_trip_and_copy() -> None:
    params: dict[str, Any] = {
        "filename": "a.txt",
        "mimetype": "text/plain",
        "location": "gcs",
        "path": "dir/",
        "container": "bucket",
        "region": "us-west-2",
        "access": "public",
        "base64decode": True,
        "workflows": ("wf1", "wf2"),
        "upload_tags": {"k": "v"},
    }
    checked = validate_store_params(params)
    assert checked == {**params, "workflows": ["wf1", "wf2"]}
    checked["upload_tags"]["k"] = "changed"
    assert params["upload_tags"] == {"k": "v"}
    assert validate_store_params(None) == {}
    assert validate_store_params({"path": None}) == {}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"colour": "red"}, "unknown store parameter 'colour'"),
        ({"filename": 3}, "'filename' must be a string"),
        ({"filename": ""}, "must not be empty"),
        ({"access": "world"}, "'public' or 'private'"),
        ({"base64decode": "yes"}, "'base64decode' must be a bool"),
        ({"workflows": "wf1"}, "list of workflow id"),
        ({"workflows": ["wf1", 2]}, "list of workflow ids: non-empty strings or .*not int"),
        ({"workflows": [""]}, "non-empty strings or"),
        ({"workflows": [{"id": ""}]}, "non-empty strings or"),
        ({"workflows": [{"id": "w", "name": "x"}]}, "'id': ...} dicts, not dict"),
        ({"workflows": [{"ID": "w"}]}, "'id': ...} dicts, not dict"),
        ({"workflows": [{"id": 3}]}, "'id': ...} dicts, not dict"),
        ({"alt": 3}, "'alt' must be a string"),
        ({"upload_tags": ["a"]}, "dict of string keys"),
        ({"upload_tags": {str(i): "v" for i in range(11)}}, "at most 10"),
        ({"upload_tags": {"k" * 129: "v"}}, "1 to 128 characters"),
        ({"upload_tags": {"k": "v" * 257}}, "at most 256"),
        ({"upload_tags": {"k": 1}}, "must be strings"),
        ({"location": True}, "'location' must be a string"),
    ],
)
def test_bad_store_params(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        validate_store_params(params)


def test_workflows_take_ids_and_id_dicts_and_alt_text() -> None:
    given: dict[str, Any] = {"workflows": ["w1", {"id": "w2"}], "alt": "a red bicycle"}
    checked = validate_store_params(given)
    assert checked == {"workflows": ["w1", {"id": "w2"}], "alt": "a red bicycle"}
    checked["workflows"][1]["id"] = "changed"  # a copy: the caller's dict is untouched
    assert given["workflows"][1] == {"id": "w2"}


def test_store_params_must_be_a_mapping() -> None:
    with pytest.raises(ConfigurationError, match="must be a dict"):
        validate_store_params([("path", "x")])  # type: ignore[arg-type]


def test_tag_limits_are_inclusive() -> None:
    tags = {f"{i}" * 128 if i == 0 else str(i): "v" * 256 for i in range(10)}
    assert validate_store_params({"upload_tags": tags})["upload_tags"] == tags
