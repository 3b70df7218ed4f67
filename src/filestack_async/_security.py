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
import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ._config import SECRET_ENV
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

#: How long a URL from ``signed_url()`` stays valid by default, in seconds (one hour).
SIGNED_URL_EXPIRES_IN = 3600

#: How far in the future a webhook's ``FS-Timestamp`` may be (clock skew), in seconds.
WEBHOOK_MAX_SKEW = 300.0

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")

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

    _secret: str | None

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
            expiry = time.time() + _check_expires_in(expires_in)
        assert expiry is not None
        if not _is_finite_number(expiry):
            raise ConfigurationError(
                f"expiry must be unix seconds (a finite int or float), not {_what(expiry)}"
            )
        if call is not None:
            _check_call_list(call)
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

    @classmethod
    def from_env(
        cls,
        *,
        expires_in: float = 3600.0,
        call: Sequence[str] | None = None,
        handle: str | None = None,
        path: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Security:
        """`create` with the app secret read from ``$FILESTACK_APP_SECRET``.

        For a client that signs, as the command line does:
        ``Client(security=Security.from_env(call=["pick", "read"]))`` (the API key
        comes from ``$FILESTACK_API_KEY``). ``environ`` replaces ``os.environ``.

        Raises:
            ConfigurationError: the variable is unset or empty, or a field is invalid.
        """
        if environ is not None and not isinstance(environ, Mapping):
            raise ConfigurationError(
                f"environ must be a mapping of variables, not {type(environ).__name__}"
            )
        env = os.environ if environ is None else environ
        secret = env.get(SECRET_ENV)
        if not secret:
            raise ConfigurationError(f"${SECRET_ENV} is not set: it must hold the app secret")
        return cls.create(secret, expires_in=expires_in, call=call, handle=handle, path=path)

    @classmethod
    def from_signature(cls, policy_b64: str, signature: str) -> Security:
        """A ready-made policy and its signature, without the app secret.

        For a process that is handed a signed policy (by a backend that holds the
        secret) and must not hold the secret itself. Such a Security is sent exactly
        as given: ``signed_url()`` puts this very policy in the URL, so the URL grants
        whatever the policy grants, until its expiry.

        Example:
            >>> sec = Security.from_signature(
            ...     "eyJjYWxsIjogWyJyZWFkIl0sICJleHBpcnkiOiAxNTcyMzkwMDAwfQ==",
            ...     "9f0b9c9cb04c60796b72070eba0f9c61268c4384feaf4313d2702654f5d0df08",
            ... )
            >>> sec.policy, sec.has_secret
            ({'call': ['read'], 'expiry': 1572390000}, False)
        """
        if not isinstance(policy_b64, str) or not policy_b64:
            raise ConfigurationError("policy_b64 must be a non-empty string (the encoded policy)")
        if policy_b64 != policy_b64.strip() or not policy_b64.isascii():
            raise ConfigurationError("policy_b64 must be base64 text without spaces")
        if not isinstance(signature, str) or not _HEX64.fullmatch(signature):
            raise ConfigurationError("the signature must be 64 hexadecimal characters")
        policy = decode_policy(policy_b64)
        validate_policy(policy)
        security = object.__new__(cls)
        security._policy = policy
        security._policy_b64 = policy_b64
        security._signature = signature.lower()
        security._secret = None
        return security

    @property
    def has_secret(self) -> bool:
        """True when this Security holds the app secret (and so can sign new policies)."""
        return self._secret is not None

    def narrowed(
        self,
        call: Sequence[str],
        *,
        handle: str | None = None,
        url: str | None = None,
        expires_in: float = SIGNED_URL_EXPIRES_IN,
        now: float | None = None,
    ) -> Security:
        """A new policy, signed with the same secret, that grants no more than this one.

        It allows only ``call``, on ``handle`` (one file) or ``url`` (this exact
        external URL) when given, for ``expires_in`` seconds (never past this
        policy's own expiry); every other field of this policy is kept. This is the
        policy ``signed_url()`` puts in a URL.

        Raises:
            ConfigurationError: this Security has no secret (`from_signature`), an
                argument is invalid, or this policy does not allow what is asked
                (a call it lacks, another handle, a URL its ``url`` pattern refuses,
                or it has already expired).

        Example:
            >>> sec = Security.create("SECRET", expiry=4102444800)
            >>> read = sec.narrowed(["read"], handle="AbCdEfGhIjKlMnOpQrSt", now=1700000000)
            >>> read.policy == {
            ...     "call": ["read"], "expiry": 1700003600, "handle": "AbCdEfGhIjKlMnOpQrSt"
            ... }
            True
        """
        if self._secret is None:
            raise ConfigurationError(
                "narrowing a policy needs the app secret: this Security was made "
                "from a ready-made policy and signature, and is sent as it is"
            )
        _check_call_list(call)
        if not call:
            raise ConfigurationError("call must name at least one call, such as ['read']")
        validate_policy({"call": call})
        seconds = _check_expires_in(expires_in)
        if now is not None and not _is_finite_number(now):
            raise ConfigurationError(f"now must be unix seconds, not {_what(now)}")
        current = time.time() if now is None else float(now)
        parent = self._policy
        allowed = parent.get("call")
        granted = set(allowed) if isinstance(allowed, list) else POLICY_CALLS - {"exif"}
        missing = [c for c in call if c not in granted]
        if missing:
            raise ConfigurationError(
                f"this policy does not allow the call(s) {missing!r}; a narrowed policy "
                "(such as a signed URL's) never grants more than the policy it comes from"
            )
        policy: dict[str, Any] = {**parent, "call": list(dict.fromkeys(call))}
        if handle is not None:
            if not isinstance(handle, str) or not handle:
                raise ConfigurationError("handle must be a non-empty string")
            if parent.get("handle") not in (None, handle):
                raise ConfigurationError("this policy is for another handle")
            policy["handle"] = handle
        if url is not None:
            if not isinstance(url, str) or not url:
                raise ConfigurationError("url must be a non-empty string")
            pattern = parent.get("url")
            if isinstance(pattern, str) and not _regex_allows(pattern, url):
                raise ConfigurationError("the URL does not match this policy's url pattern")
            policy["url"] = f"^{re.escape(url)}$"
        expiry = math.ceil(current + seconds)
        ceiling = parent.get("expiry")
        if isinstance(ceiling, int):
            if ceiling <= current:
                raise ConfigurationError("this policy has expired; create a new one")
            expiry = min(expiry, ceiling)
        policy["expiry"] = expiry
        return Security(policy, self._secret)

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
        found = (self._secret, self._signature, self._policy_b64)
        return tuple(s for s in found if s is not None)

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
        if self._secret is None:
            return (Security.from_signature, (self._policy_b64, self._signature))
        return (Security, (self._policy, self._secret))


def check_security(security: object) -> Security | None:
    """Return ``security`` when it is a `Security` or None (the one check of a
    ``security=`` argument, wherever one is taken).

    Raises:
        ConfigurationError: ``security`` is something else (a dict, a string, ...).
    """
    if security is not None and not isinstance(security, Security):
        raise ConfigurationError("security must be a Security object")
    return security


def url_security(
    security: Security,
    *,
    call: Sequence[str] | None,
    default_call: Sequence[str],
    handle: str | None = None,
    url: str | None = None,
    expires_in: float | None = None,
) -> Security:
    """The Security a URL handed to someone else carries (``signed_url()``).

    With the app secret: a policy of its own, `Security.narrowed` to ``call`` (else
    ``default_call``) on ``handle``/``url`` for ``expires_in`` seconds (default
    `SIGNED_URL_EXPIRES_IN`). Without it (`Security.from_signature`): ``security``
    as given; ``call`` and ``expires_in`` then raise, as they cannot be honoured.
    """
    if not security.has_secret:
        if call is not None or expires_in is not None:
            raise ConfigurationError(
                "call= and expires_in= need a Security that holds the app secret; this "
                "one is a ready-made policy (from_signature) and goes into the URL as it is"
            )
        return security
    return security.narrowed(
        default_call if call is None else call,
        handle=handle,
        url=url,
        expires_in=SIGNED_URL_EXPIRES_IN if expires_in is None else expires_in,
    )


#: the largest ``expires_in`` (about 3,000 years): larger ones overflow as unix times
_MAX_SECONDS = 1e11


def _check_expires_in(expires_in: object) -> float:
    """``expires_in`` as seconds, if it is a positive finite number not past `_MAX_SECONDS`."""
    if not _is_finite_number(expires_in):
        raise ConfigurationError(
            f"expires_in must be a finite number of seconds, not {_what(expires_in)}"
        )
    seconds = cast(float, expires_in)
    if seconds <= 0:
        raise ConfigurationError(
            "expires_in must be a positive number of seconds (the policy would already be expired)"
        )
    if seconds > _MAX_SECONDS:  # compared before any float(): a huge int would overflow
        raise ConfigurationError(
            f"expires_in must be at most {_MAX_SECONDS:.0e} seconds (about 3,000 years)"
        )
    return float(seconds)


def _check_call_list(call: object) -> None:
    if isinstance(call, str):
        raise ConfigurationError("call must be a list of strings, such as ['read']")
    if not isinstance(call, (list, tuple)):
        raise ConfigurationError(
            f"call must be a list of strings, such as ['read'], not {type(call).__name__}"
        )


def _regex_allows(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False


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
    """Compute the ``FS-Signature`` Filestack sends with a webhook.

    Raises:
        ConfigurationError: the secret, body or timestamp is not valid Unicode text
            (a lone surrogate) or the body bytes are not UTF-8.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as err:
        raise ConfigurationError("the webhook body is not UTF-8") from err
    key = _utf8(secret, "the webhook secret")
    message = _utf8(timestamp, "the FS-Timestamp header") + b"." + _utf8(text, "the webhook body")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"{what} is not valid Unicode text (it holds a lone surrogate)"
        ) from None


def verify_webhook_signature(
    secret: str,
    body: str | bytes,
    headers: Mapping[str, str],
    *,
    max_age: float | None = None,
    max_skew: float = WEBHOOK_MAX_SKEW,
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
        max_age: when given, also reject (``False``) a timestamp older than this many
            seconds, one more than ``max_skew`` seconds in the future, and one that
            is not a finite number (``NaN``, ``Infinity``).
        max_skew: how far ahead of ``now`` a timestamp may be, for clocks that
            disagree (default `WEBHOOK_MAX_SKEW`, 5 minutes); used with ``max_age``.
        now: the current time (for tests).

    Raises:
        ConfigurationError: an argument is of the wrong type, a header is missing,
            or the secret, body or a header is not valid text (a lone surrogate,
            a body that is not UTF-8).

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
    if not _is_finite_number(max_skew) or max_skew < 0:
        raise ConfigurationError(
            f"max_skew must be a finite number of seconds, at least 0, not {_what(max_skew)}"
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
    stamp = str(timestamp)
    expected = webhook_signature(secret, body, stamp)
    given = _utf8(str(signature), "the FS-Signature header").lower()
    matches = hmac.compare_digest(expected.encode("ascii"), given)
    if matches and max_age is not None:
        try:
            sent = float(stamp)
        except ValueError:
            return False
        if not _is_finite_number(sent):
            return False
        current = time.time() if now is None else now
        return -max_skew <= current - sent <= max_age
    return matches
