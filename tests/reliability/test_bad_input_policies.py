"""Expired, wrongly signed and too narrow policies against a secured emulator.

The SDK cannot know every policy problem before sending (a policy may expire in
flight, the secret may be the wrong one), so the service's 403 must come back as a
`PermissionDeniedError` whose message names the rule that failed, with no secret in
the message or the logs, and without retrying a refusal that cannot change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest

from filestack_async import Client, PermissionDeniedError, Security
from filestack_async.emulator import Emulator
from filestack_async.testing import EmulatorFactory

SECRET = "policy-APP-SECRET-0b7e42"
APIKEY = "PolicyApiKey4Rw"
HANG_LIMIT = 30.0


def policy(**fields: Any) -> Security:
    fields.setdefault("expiry", int(time.time()) + 600)
    return Security(fields, SECRET)


@pytest.fixture
async def secured(
    filestack_emulator_factory: EmulatorFactory,
) -> AsyncIterator[tuple[Emulator, str]]:
    emulator = filestack_emulator_factory(secret=SECRET, strict=True)
    async with emulator.client(APIKEY, security=policy()) as client:
        link = await client.upload(content=b"a stored file", store_params={"path": "ok/"})
    yield emulator, link.handle


Call = Callable[[Client, str], Awaitable[object]]

#: name -> (the security the call is given, the call, the rule the emulator names)
CASES: dict[str, tuple[Callable[[], Security], Call, str]] = {
    "upload with an expired policy": (
        lambda: policy(expiry=int(time.time()) - 60),
        lambda c, h: c.upload(content=b"x"),
        "expired",
    ),
    "download with an expired policy": (
        lambda: policy(expiry=int(time.time()) - 60),
        lambda c, h: c.filelink(h).get_content(),
        "expired",
    ),
    "metadata with an expired policy": (
        lambda: policy(expiry=1572390000),
        lambda c, h: c.filelink(h).metadata(),
        "expired",
    ),
    "a policy without expiry": (
        lambda: Security({"call": ["read"]}, SECRET),
        lambda c, h: c.filelink(h).get_content(),
        "no numeric expiry",
    ),
    "a policy signed with another secret": (
        lambda: Security({"expiry": int(time.time()) + 600}, "another-secret"),
        lambda c, h: c.filelink(h).get_content(),
        "signature does not match",
    ),
    "upload with a read-only policy": (
        lambda: policy(call=["read"]),
        lambda c, h: c.upload(content=b"x"),
        "does not allow",
    ),
    "delete with a read-only policy": (
        lambda: policy(call=["read"]),
        lambda c, h: c.filelink(h).delete(),
        "does not allow",
    ),
    "read with a policy for another handle": (
        lambda: policy(handle="ZZZZZZZZZZZZZZZZZZZZ"),
        lambda c, h: c.filelink(h).get_content(),
        "another handle",
    ),
    "upload over maxSize": (
        lambda: policy(maxSize=4),
        lambda c, h: c.upload(content=b"more than four bytes"),
        "maxSize",
    ),
    "upload to a path the policy does not allow": (
        lambda: policy(path="allowed/.*"),
        lambda c, h: c.upload(content=b"x", store_params={"path": "elsewhere/"}),
        "path",
    ),
    "store a transformation with an expired policy": (
        lambda: policy(expiry=int(time.time()) - 1),
        lambda c, h: c.filelink(h).flip().store(),
        "expired",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_policy_refusals_name_the_rule(
    secured: tuple[Emulator, str], name: str, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, handle = secured
    make_security, call, rule = CASES[name]
    security = make_security()
    caplog.set_level(logging.DEBUG)
    async with emulator.client(APIKEY, security=security) as client:
        with pytest.raises(PermissionDeniedError) as info:
            with anyio.fail_after(HANG_LIMIT):
                await call(client, handle)
    error = info.value
    assert error.status_code == 403
    assert rule in str(error), str(error)
    secrets = (SECRET, security.signature, security.policy_b64, "another-secret")
    texts = [str(error), repr(error), repr(error.args), error.body, str(error.url)]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:300]}"
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert retries == [], "a 403 was retried"
