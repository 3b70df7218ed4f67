"""Validation of user-supplied values: handles, storage names and store parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ._exceptions import ConfigurationError

#: Storage locations accepted by ``Client(storage=...)`` (as the official SDK spells them).
STORAGES: tuple[str, ...] = ("S3", "gcs", "azure", "rackspace", "dropbox")

_HANDLE = re.compile(r"[A-Za-z0-9]{20}")
HANDLE_LENGTH = 20

MAX_UPLOAD_TAGS = 10
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256

# key -> (accepted types, description for messages)
_STORE_PARAM_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "filename": ((str,), "a string"),
    "mimetype": ((str,), "a string"),
    "location": ((str,), "a string"),
    "path": ((str,), "a string"),
    "container": ((str,), "a string"),
    "region": ((str,), "a string"),
    "access": ((str,), "'public' or 'private'"),
    "base64decode": ((bool,), "a bool"),
    "workflows": ((list, tuple), "a list of workflow ids (strings or {'id': ...} dicts)"),
    "upload_tags": ((Mapping,), "a dict of string keys to string values"),
    "alt": ((str,), "a string (the file's alt text)"),
}

#: Every store parameter name, in the order they are documented.
STORE_PARAMS: tuple[str, ...] = tuple(_STORE_PARAM_TYPES)


def validate_handle(handle: object) -> str:
    """Return ``handle`` if it looks like a Filestack handle (20 letters and digits).

    Raises:
        ConfigurationError: naming what is wrong with it.
    """
    if not isinstance(handle, str):
        raise ConfigurationError(f"a file handle must be a string, not {type(handle).__name__}")
    if not _HANDLE.fullmatch(handle):
        if "/" in handle:
            hint = "; pass the handle (the last path segment of a file URL), not a URL"
        else:
            hint = ""
        raise ConfigurationError(
            f"{handle[:40]!r} is not a Filestack handle: a handle is "
            f"{HANDLE_LENGTH} letters and digits{hint}"
        )
    return handle


def handle_in_url(url: str) -> str:
    """The last path segment of a file URL (``https://cdn.filestackcontent.com/<handle>``);
    unchecked, so an answer's caller says whose fault a bad one is."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def handle_in_answer(answer: Mapping[str, Any]) -> object:
    """The handle a service answer names, unchecked: its ``handle``, else the last path
    segment of its ``url`` (``None`` or ``""`` when it names none; validate it with
    `validate_handle`)."""
    handle = answer.get("handle")
    url = answer.get("url")
    if not handle and isinstance(url, str):
        return handle_in_url(url)
    return handle


def validate_storage(storage: object) -> str:
    """Return ``storage`` if it is a storage Filestack knows (case-sensitive, as the service)."""
    if storage not in STORAGES:
        raise ConfigurationError(
            f"unknown storage {storage!r}; use one of {', '.join(STORAGES)} "
            "(S3 in capitals, the others lower-case)"
        )
    return str(storage)


def validate_store_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check store parameters and return a validated copy (the caller's dict is never changed).

    Raises:
        ConfigurationError: for an unknown key, a value of the wrong type, or upload
            tags over the service's limits (10 keys, keys up to 128 and values up
            to 256 characters).
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ConfigurationError(f"store_params must be a dict, not {type(params).__name__}")
    result: dict[str, Any] = {}
    for key, value in params.items():
        spec = _STORE_PARAM_TYPES.get(key)
        if spec is None:
            raise ConfigurationError(
                f"unknown store parameter {key!r}; known ones: {', '.join(STORE_PARAMS)}"
            )
        types, description = spec
        if value is None:
            continue
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise ConfigurationError(
                f"store parameter {key!r} must be {description}, not {type(value).__name__}"
            )
        if key == "access" and value not in ("public", "private"):
            raise ConfigurationError("store parameter 'access' must be 'public' or 'private'")
        if key in ("filename", "location", "mimetype") and not value:
            raise ConfigurationError(f"store parameter {key!r} must not be empty")
        if key == "workflows":
            value = _validate_workflows(cast(Sequence[object], value))
        if key == "upload_tags":
            value = _validate_tags(value)
        if not _encodable(value):
            raise ConfigurationError(
                f"store parameter {key!r} must be valid Unicode text (no lone surrogates)"
            )
        result[key] = value
    return result


def _validate_workflows(workflows: Sequence[object]) -> list[str | dict[str, str]]:
    """Workflow ids as the service takes them: ``"id"`` or ``{"id": "id"}`` (copied)."""
    checked: list[str | dict[str, str]] = []
    for workflow in workflows:
        if isinstance(workflow, str) and workflow:
            checked.append(workflow)
        elif (
            isinstance(workflow, Mapping)
            and set(workflow) == {"id"}
            and isinstance(workflow["id"], str)
            and workflow["id"]
        ):
            checked.append({"id": workflow["id"]})
        else:
            raise ConfigurationError(
                "store parameter 'workflows' must be a list of workflow ids: non-empty "
                f"strings or {{'id': ...}} dicts, not {type(workflow).__name__}"
            )
    return checked


def _encodable(value: object) -> bool:
    """True when every string in ``value`` can be sent as UTF-8 (JSON bodies, URLs)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, Mapping):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_encodable(v) for v in value)
    return True


def _validate_tags(tags: Mapping[Any, Any]) -> dict[str, str]:
    if len(tags) > MAX_UPLOAD_TAGS:
        raise ConfigurationError(
            f"upload_tags has {len(tags)} keys; Filestack allows at most {MAX_UPLOAD_TAGS}"
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigurationError("upload_tags keys and values must be strings")
        if not key or len(key) > MAX_TAG_KEY:
            raise ConfigurationError(
                f"upload_tags keys must be 1 to {MAX_TAG_KEY} characters, not {len(key)}"
            )
        if len(value) > MAX_TAG_VALUE:
            raise ConfigurationError(
                f"upload_tags value for {key!r} is {len(value)} characters; at most {MAX_TAG_VALUE}"
            )
    return dict(tags)


#: an HTTP header name (RFC 9110 token)
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: characters a header value cannot hold (line breaks, NUL and other controls but tab)
_HEADER_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: header values at least this long are masked in messages and logs (shorter ones
#: would mask ordinary words)
_SECRET_VALUE_MIN = 8


def validate_origin_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Check headers for the service to send to a source's origin; return a copy.

    Raises:
        ConfigurationError: not a dict of strings, a name that is not a header name,
            or a value with a line break or control character.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigurationError(
            f"headers must be a dict of header names to values, not {type(headers).__name__}"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ConfigurationError(f"headers: {str(name)[:40]!r} is not an HTTP header name")
        if not isinstance(value, str):
            raise ConfigurationError(
                f"headers: the value of {name!r} must be a string, not {type(value).__name__}"
            )
        if _HEADER_VALUE_BAD.search(value) or not _encodable(value):
            raise ConfigurationError(
                f"headers: the value of {name!r} holds a line break or control character"
            )
        checked[name] = value
    return checked


def header_secrets(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The header values to mask in messages and logs (they may be credentials)."""
    return tuple(v for v in headers.values() if len(v) >= _SECRET_VALUE_MIN)
