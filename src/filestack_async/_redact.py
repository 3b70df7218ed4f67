"""Keep credentials out of messages, reprs and logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Query keys whose values are credentials (Filestack's and presigned storage URLs').
_SECRET_KEY = re.compile(
    r"(^|[-_])(key|apikey|api_key|policy|signature|sig|token|credential|secret|auth\w*)$"
    r"|^x-amz-|^x-goog-",
    re.IGNORECASE,
)
_SECURITY_SEGMENT = re.compile(r"security=[^/\s\"']*", re.IGNORECASE)
_JSON_FIELD = re.compile(r'("(?:apikey|policy|signature|secret)"\s*:\s*)"[^"]*"', re.IGNORECASE)
_QUERY_FIELD = re.compile(
    r"((?:^|[?&\s])(?:key|apikey|policy|signature)=)[^&\s\"']*", re.IGNORECASE
)


def _is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY.search(name))


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """Return ``url`` with credential query values and security segments masked.

    >>> redact_url("https://cdn.example/security=p:abc,s:def/HANDLE?policy=x&size=true")
    'https://cdn.example/security=***/HANDLE?policy=%2A%2A%2A&size=true'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url, secrets)
    query = [
        (k, MASK if _is_secret_key(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    path = _SECURITY_SEGMENT.sub(f"security={MASK}", parts.path)
    rebuilt = urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))
    return redact_text(rebuilt, secrets)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values and credential-looking fields in free text."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _SECURITY_SEGMENT.sub(f"security={MASK}", text)
    text = _JSON_FIELD.sub(rf'\g<1>"{MASK}"', text)
    return _QUERY_FIELD.sub(rf"\g<1>{MASK}", text)


#: Query keys dropped from a URL before a request leaves for another origin.
_CREDENTIAL_QUERY_KEYS = frozenset({"key", "apikey", "api_key", "policy", "signature"})
_SECURITY_PATH_SEGMENT = re.compile(r"^security=", re.IGNORECASE)


def strip_credentials(url: str) -> str:
    """Return ``url`` without Filestack credentials: no ``security=...`` path segment and
    no ``key``/``apikey``/``policy``/``signature`` query value (for a redirect to another host).

    >>> strip_credentials("https://b.example/security=p:x,s:y/H?policy=x&signature=y&dl=true")
    'https://b.example/H?dl=true'
    """
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if not _SECURITY_PATH_SEGMENT.match(s)]
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _CREDENTIAL_QUERY_KEYS
    ]
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), urlencode(query), ""))


def redact_value(value: object, secrets: Iterable[str] = ()) -> object:
    """Mask credentials in one log argument, keeping its type where it is plain data.

    Strings and bytes are masked (bytes as Latin-1, so every byte survives), tuples
    and lists (httpcore logs headers as a list of ``(bytes, bytes)`` pairs) and dict
    values element by element; any other object is left as it is.
    """
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, (bytes, bytearray)):
        return redact_text(bytes(value).decode("latin-1"), secrets).encode("latin-1")
    if isinstance(value, tuple):
        return tuple(redact_value(v, secrets) for v in value)
    if isinstance(value, list):
        return [redact_value(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v, secrets) for k, v in value.items()}
    return value
