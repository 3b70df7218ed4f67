"""Policy and signature checks, where Filestack makes them (protocol reference §2)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigurationError
from .._security import decode_policy, signature_matches
from .policy_regex import PatternError, fullmatch

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class Denied(Exception):
    """A request the policy does not allow; the message names the rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Credentials:
    """The policy and signature a request carried (either may be missing)."""

    policy: str | None = None
    signature: str | None = None

    @property
    def given(self) -> bool:
        """True when the request carried either field."""
        return bool(self.policy or self.signature)


def query_credentials(params: Mapping[str, str]) -> Credentials:
    """The ``policy`` and ``signature`` of a query string."""
    return Credentials(params.get("policy"), params.get("signature"))


def _regex_allows(rule: str, pattern: str, value: str) -> bool:
    """Match a policy pattern without backtracking (`policy_regex`), within its bounds."""
    try:
        return fullmatch(pattern, value)
    except PatternError as err:
        raise Denied(rule, f"the policy's {rule} pattern cannot be evaluated: {err}") from None


def _check_size(policy: Mapping[str, Any], size: int) -> None:
    max_size, min_size = policy.get("maxSize"), policy.get("minSize")
    if isinstance(max_size, int) and not isinstance(max_size, bool) and size > max_size:
        raise Denied("maxSize", f"{size} bytes is more than the policy's maxSize")
    if isinstance(min_size, int) and not isinstance(min_size, bool) and size < min_size:
        raise Denied("minSize", f"{size} bytes is less than the policy's minSize")


@dataclass(frozen=True)
class StoreGrant:
    """What a checked policy lets one store request write.

    Every route that stores a file gets one from `check_store` before it reads the
    file, then calls `admit` with the size it is about to store.
    """

    #: the enforced policy (``None`` when the emulator has no secret)
    policy: Mapping[str, Any] | None = None

    @property
    def max_size(self) -> int | None:
        """The policy's ``maxSize`` (a body can be cut off there), or ``None``."""
        value = None if self.policy is None else self.policy.get("maxSize")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def admit(self, size: int) -> None:
        """Refuse a file of ``size`` bytes outside the policy's ``maxSize``/``minSize``.

        Raises:
            Denied: naming the rule.
        """
        if self.policy is not None:
            _check_size(self.policy, size)


def check_store(
    secret: str | None,
    credentials: Credentials,
    *,
    call: str,
    path: str | None,
    container: str | None,
    size: int | None = None,
    **rules: Any,
) -> StoreGrant:
    """The one security check of every route that stores a file (see `check`).

    ``path`` and ``container`` are where the file goes (``None``: the default);
    ``size``, when already known, is checked now, else by `StoreGrant.admit`.

    Raises:
        Denied: naming the rule that failed.
    """
    policy = check(
        secret, credentials, call=call, size=size, path=path, container=container, **rules
    )
    return StoreGrant(policy if secret is not None else None)


def check(
    secret: str | None,
    credentials: Credentials,
    *,
    call: str,
    required: bool = False,
    handle: str | None = None,
    size: int | None = None,
    path: str | None = None,
    container: str | None = None,
    url: str | None = None,
    now: float | None = None,
) -> dict[str, Any] | None:
    """Check a request's security; return the decoded policy (or ``None`` when absent).

    With a ``secret``, every call needs a valid signature and the policy's rules
    (``expiry``, ``call``, ``handle``, ``maxSize``/``minSize``, ``path``,
    ``container``, ``url``) are enforced. Without one, only calls that always need
    security (``required``) must carry it, and what is given must be well formed.

    Raises:
        Denied: naming the rule that failed.
    """
    if not credentials.given:
        if secret is not None or required:
            raise Denied("required", f"security is required: the {call!r} call needs a policy")
        return None
    if not credentials.policy or not credentials.signature:
        raise Denied("malformed", "both policy and signature are required")
    if not _HEX64.fullmatch(credentials.signature):
        raise Denied("malformed", "the signature is not 64 hex characters")
    try:
        policy = decode_policy(credentials.policy)
    except ConfigurationError:
        raise Denied("malformed", "the policy is not base64-encoded JSON") from None
    if secret is None:
        return policy
    if not signature_matches(credentials.policy, credentials.signature, secret):
        raise Denied("signature", "the signature does not match the policy")
    expiry = policy.get("expiry")
    if not isinstance(expiry, (int, float)) or isinstance(expiry, bool):
        raise Denied("expiry", "the policy has no numeric expiry")
    if (time.time() if now is None else now) >= expiry:
        raise Denied("expiry", "the policy has expired")
    calls = policy.get("call")
    if calls is not None:
        allowed = calls if isinstance(calls, list) else [calls]
        if call not in allowed:
            raise Denied("call", f"the policy does not allow the {call!r} call")
    if handle is not None and "handle" in policy and policy["handle"] != handle:
        raise Denied("handle", "the policy is for another handle")
    if size is not None:
        _check_size(policy, size)
    if isinstance(policy.get("path"), str) and path is not None:
        if not _regex_allows("path", policy["path"], path):
            raise Denied("path", "the store path does not match the policy's path")
    if isinstance(policy.get("container"), str) and container is not None:
        if not _regex_allows("container", policy["container"], container):
            raise Denied("container", "the container does not match the policy's container")
    if isinstance(policy.get("url"), str) and url is not None:
        if not _regex_allows("url", policy["url"], url):
            raise Denied("url", "the source URL does not match the policy's url")
    return policy
