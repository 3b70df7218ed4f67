"""Security policies, their signatures, and webhook signature checks.

Pure code (no I/O): the SDK and the emulator both use it, so the emulator checks
signatures exactly the way the SDK makes them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ._exceptions import ConfigurationError

#: The ``call`` values Filestack documents for a policy.
POLICY_CALLS: frozenset[str] = frozenset(
    {
        "pick",
        "read",
        "stat",
        "write",
        "writeUrl",
        "store",
        "convert",
        "remove",
        "exif",
        "runWorkflow",
    }
)

# key -> accepted Python types (bool is excluded from ints explicitly below)
_POLICY_FIELDS: dict[str, tuple[type, ...]] = {
    "expiry": (int,),
    "call": (list, tuple),
    "handle": (str,),
    "url": (str,),
    "maxSize": (int,),
    "minSize": (int,),
    "path": (str,),
    "container": (str,),
}


def encode_policy(policy: Mapping[str, Any]) -> str:
    """Encode a policy the way the official Python SDK does.

    JSON with sorted keys and the default ``", "``/``": "`` separators, then
    URL-safe base64 with its ``=`` padding kept.

    >>> encode_policy({"expiry": 123})
    'eyJleHBpcnkiOiAxMjN9'
    """
    text = json.dumps(dict(policy), sort_keys=True, allow_nan=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def sign(policy_b64: str, secret: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of an encoded policy under ``secret``."""
    return hmac.new(secret.encode("utf-8"), policy_b64.encode("ascii"), hashlib.sha256).hexdigest()


def signature_matches(policy_b64: str, signature: str, secret: str) -> bool:
    """Check a policy's signature in constant time."""
    try:
        expected = sign(policy_b64, secret)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("utf-8"))


def decode_policy(policy_b64: str) -> dict[str, Any]:
    """Decode a base64 policy (URL-safe or standard alphabet, padded or not).

    Raises:
        ConfigurationError: the text is not base64 of a JSON object.
    """
    text = policy_b64.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as err:
        raise ConfigurationError("the policy is not base64-encoded JSON") from err
    if not isinstance(value, dict):
        raise ConfigurationError("the policy must decode to a JSON object")
    return value


def validate_policy(policy: Mapping[str, Any]) -> None:
    """Check the known policy fields' types; unknown keys are allowed (Filestack may add some).

    Raises:
        ConfigurationError: naming the field and what it should be.
    """
    if not isinstance(policy, Mapping):
        raise ConfigurationError(f"a policy must be a mapping, not {type(policy).__name__}")
    for key, value in policy.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"policy keys must be strings, not {type(key).__name__}")
        expected = _POLICY_FIELDS.get(key)
        if expected is None:
            continue
        if isinstance(value, bool) or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise ConfigurationError(
                f"policy field {key!r} must be {names}, not {type(value).__name__}"
            )
        if isinstance(value, int) and value < 0:
            raise ConfigurationError(f"policy field {key!r} must not be negative")
        if key == "call":
            calls = cast(Sequence[object], value)
            unknown = [c for c in calls if not isinstance(c, str) or c not in POLICY_CALLS]
            if unknown:
                allowed = ", ".join(sorted(POLICY_CALLS))
                raise ConfigurationError(
                    f"policy field 'call' has unknown values {unknown!r}; allowed: {allowed}"
                )


class Security:
    """A signed security policy.

    The app secret and the signature are never shown by ``repr()`` or ``str()``.

    Example:
        >>> sec = Security({"expiry": 1572390000, "call": ["read"]}, "SECRET")
        >>> sec.policy_b64
        'eyJjYWxsIjogWyJyZWFkIl0sICJleHBpcnkiOiAxNTcyMzkwMDAwfQ=='
        >>> sec
        Security(policy={'expiry': 1572390000, 'call': ['read']})
    """

    __slots__ = ("_policy", "_policy_b64", "_secret", "_signature")

    def __init__(self, policy: Mapping[str, Any], secret: str) -> None:
        if not isinstance(secret, str) or not secret:
            raise ConfigurationError("the app secret must be a non-empty string")
        try:
            secret.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigurationError("the app secret must be valid Unicode text") from None
        validate_policy(policy)
        self._policy: dict[str, Any] = dict(policy)
        self._secret = secret
        try:
            self._policy_b64 = encode_policy(self._policy)
        except (TypeError, ValueError) as err:
            raise ConfigurationError(
                f"the policy cannot be encoded as JSON: {type(err).__name__}: {err}"
            ) from None
        self._signature = sign(self._policy_b64, secret)

    @classmethod
    def create(
        cls,
        secret: str,
        *,
        expiry: int | float | None = None,
        expires_in: float | None = None,
        call: Sequence[str] | None = None,
        handle: str | None = None,
        url: str | None = None,
        max_size: int | None = None,
        min_size: int | None = None,
        path: str | None = None,
        container: str | None = None,
    ) -> Security:
        """Build a policy from the common fields, validated.

        Give either ``expiry`` (unix seconds) or ``expires_in`` (seconds from now).

        Example:
            >>> sec = Security.create("SECRET", expiry=1572390000, call=["read"])
            >>> sec.policy == {"expiry": 1572390000, "call": ["read"]}
            True
        """
        if (expiry is None) == (expires_in is None):
            raise ConfigurationError("give exactly one of expiry= or expires_in=")
        if expires_in is not None:
            if not _is_finite_number(expires_in):
                raise ConfigurationError(
                    f"expires_in must be a finite number of seconds, not {_what(expires_in)}"
                )
            if expires_in <= 0:
                raise ConfigurationError(
                    "expires_in must be a positive number of seconds "
                    "(the policy would already be expired)"
                )
            if expires_in > _MAX_SECONDS:
                raise ConfigurationError(
                    f"expires_in must be at most {_MAX_SECONDS:.0e} seconds (about 3,000 years)"
                )
            expiry = time.time() + expires_in
        assert expiry is not None
        if not _is_finite_number(expiry):
            raise ConfigurationError(
                f"expiry must be unix seconds (a finite int or float), not {_what(expiry)}"
            )
        if isinstance(call, str):
            raise ConfigurationError("call must be a list of strings, such as ['read']")
        if call is not None and not isinstance(call, (list, tuple)):
            raise ConfigurationError(
                f"call must be a list of strings, such as ['read'], not {type(call).__name__}"
            )
        policy: dict[str, Any] = {"expiry": int(expiry)}
        optional: dict[str, Any] = {
            "call": list(call) if call is not None else None,
            "handle": handle,
            "url": url,
            "maxSize": max_size,
            "minSize": min_size,
            "path": path,
            "container": container,
        }
        policy.update({k: v for k, v in optional.items() if v is not None})
        security = cls(policy, secret)  # checks every field's type before they are compared
        if max_size is not None and min_size is not None and min_size > max_size:
            raise ConfigurationError("min_size must not be larger than max_size")
        return security

    @property
    def policy(self) -> dict[str, Any]:
        """A copy of the policy."""
        return dict(self._policy)

    @property
    def policy_b64(self) -> str:
        """The policy as the service receives it (URL-safe base64, padded)."""
        return self._policy_b64

    @property
    def signature(self) -> str:
        """The policy's HMAC-SHA256 signature (lowercase hex). Treat it as a secret."""
        return self._signature

    @property
    def expiry(self) -> float | None:
        """The policy's ``expiry`` (unix seconds), if it has one."""
        value = self._policy.get("expiry")
        return float(value) if isinstance(value, (int, float)) else None

    def is_expired(self, now: float | None = None, *, leeway: float = 0.0) -> bool:
        """True when the policy's expiry has passed (``leeway`` seconds early)."""
        if now is not None and not _is_finite_number(now):
            raise ConfigurationError(f"now must be unix seconds, not {_what(now)}")
        if not _is_finite_number(leeway):
            raise ConfigurationError(f"leeway must be a number of seconds, not {_what(leeway)}")
        expiry = self.expiry
        if expiry is None:
            return False
        current = time.time() if now is None else now
        return current + leeway >= expiry

    def as_url_string(self) -> str:
        """The processing-URL task: ``security=p:<policy>,s:<signature>``."""
        return f"security=p:{self._policy_b64},s:{self._signature}"

    def as_params(self) -> dict[str, str]:
        """The policy and signature as query parameters or JSON fields."""
        return {"policy": self._policy_b64, "signature": self._signature}

    def secrets(self) -> tuple[str, ...]:
        """The strings that must be kept out of messages and logs."""
        return (self._secret, self._signature, self._policy_b64)

    def __repr__(self) -> str:
        return f"Security(policy={self._policy!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Security):
            return NotImplemented
        return hmac.compare_digest(self._signature, other._signature) and (
            self._policy_b64 == other._policy_b64
        )

    def __hash__(self) -> int:
        return hash(self._policy_b64)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Security, (self._policy, self._secret))


#: the largest ``expires_in`` (about 3,000 years): larger ones overflow as unix times
_MAX_SECONDS = 1e11


def _is_finite_number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


def _what(value: object) -> str:
    """How a bad value is named in a message: a float as itself, anything else by type."""
    return repr(value) if isinstance(value, float) else type(value).__name__


def webhook_signature(secret: str, body: str | bytes, timestamp: str) -> str:
    """Compute the ``FS-Signature`` Filestack sends with a webhook."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    message = f"{timestamp}.{text}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_webhook_signature(
    secret: str,
    body: str | bytes,
    headers: Mapping[str, str],
    *,
    max_age: float | None = None,
    now: float | None = None,
) -> bool:
    """Check a webhook's ``FS-Signature`` header against its body.

    Returns ``True`` when the signature matches and ``False`` when it does not
    (compared in constant time). Unlike ``filestack-python``, which returns a
    ``(bool, dict)`` tuple, bad arguments raise `ConfigurationError`.

    Args:
        secret: the webhook secret from the developer portal.
        body: the raw request body, exactly as received.
        headers: the request headers (looked up case-insensitively).
        max_age: when given, also reject a timestamp older than this many seconds.
        now: the current time (for tests).

    Example:
        >>> ok = verify_webhook_signature("webhook-secret", raw_body, request.headers)
    """
    if not isinstance(secret, str) or not secret:
        raise ConfigurationError("the webhook secret must be a non-empty string")
    if not isinstance(body, (str, bytes)):
        raise ConfigurationError(
            f"the webhook body must be str or bytes, not {type(body).__name__}"
        )
    if not isinstance(headers, Mapping):
        raise ConfigurationError(f"headers must be a mapping, not {type(headers).__name__}")
    if max_age is not None and not _is_finite_number(max_age):
        raise ConfigurationError(
            f"max_age must be a finite number of seconds, not {_what(max_age)}"
        )
    if now is not None and not _is_finite_number(now):
        raise ConfigurationError(f"now must be unix seconds, not {_what(now)}")
    lowered = {str(k).lower(): v for k, v in headers.items()}
    signature = lowered.get("fs-signature")
    timestamp = lowered.get("fs-timestamp")
    if signature is None:
        raise ConfigurationError("the FS-Signature header is missing")
    if timestamp is None:
        raise ConfigurationError("the FS-Timestamp header is missing")
    try:
        expected = webhook_signature(secret, body, str(timestamp))
    except UnicodeDecodeError as err:
        raise ConfigurationError("the webhook body is not UTF-8") from err
    matches = hmac.compare_digest(expected.encode("ascii"), str(signature).lower().encode("utf-8"))
    if matches and max_age is not None:
        try:
            sent = float(timestamp)
        except ValueError:
            return False
        current = time.time() if now is None else now
        return current - sent <= max_age
    return matches
