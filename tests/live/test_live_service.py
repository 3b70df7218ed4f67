"""Against the real Filestack service: runs only when FILESTACK_API_KEY is set.

Optional: FILESTACK_APP_SECRET (for overwrite/delete and signed calls) and
FILESTACK_LIVE_SOURCE_URL (a public file to store; a small default is used).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from filestack_async import Client, Security

pytestmark = pytest.mark.live

SOURCE_URL = os.environ.get(
    "FILESTACK_LIVE_SOURCE_URL", "https://www.python.org/static/img/python-logo.png"
)


@pytest.fixture
async def live_client() -> AsyncIterator[Client]:
    secret = os.environ.get("FILESTACK_APP_SECRET")
    security = Security.create(secret, expires_in=600) if secret else None
    async with Client(os.environ["FILESTACK_API_KEY"], security=security) as client:
        yield client


async def test_store_from_url_read_and_delete(live_client: Client) -> None:
    link = await live_client.upload_url(SOURCE_URL)
    try:
        content = await link.get_content()
        assert content
        meta = await link.metadata(["size", "mimetype"])
        assert meta["size"] == len(content)
    finally:
        if live_client.security is not None:
            await link.delete()
