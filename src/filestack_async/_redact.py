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
