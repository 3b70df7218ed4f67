"""Fixtures for wire tests: a client whose retries record their delays instead of sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from filestack_async import Client, RetryPolicy, Security, UploadConfig

APIKEY = "APIKEY"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
SECURITY = Security({"expiry": 1572390000, "call": ["read"]}, "SECRET")
POLICY = SECURITY.policy_b64
SIGNATURE = SECURITY.signature
CDN = "https://cdn.filestackcontent.com"
API = "https://www.filestackapi.com/api"
#: every non-empty upload multipart: the tests of the multipart flow use small bodies
#: (tests/wire/test_upload_small.py covers the one-request path below the threshold)
MULTIPART = UploadConfig(multipart_threshold=0)


class Sleeps(list[float]):
    """Records each requested delay instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry_policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, random=lambda: 0.5)


@pytest.fixture
async def client(retry_policy: RetryPolicy) -> AsyncIterator[Client]:
    async with Client(APIKEY, retry=retry_policy, upload=MULTIPART) as c:
        yield c


@pytest.fixture
async def secure_client(retry_policy: RetryPolicy) -> AsyncIterator[Client]:
    async with Client(APIKEY, retry=retry_policy, security=SECURITY, upload=MULTIPART) as c:
        yield c
