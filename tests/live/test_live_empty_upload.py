"""Against the real Filestack service: an empty file is stored through ``/api/store``.

Runs only when FILESTACK_API_KEY is set (FILESTACK_APP_SECRET too if the app enforces
security; then the stored file is deleted afterwards). This is what shows whether the
service accepts an empty ``fileUpload`` field, which docs/uploads.md lists as unverified.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from filestack_async import Client, Security

pytestmark = pytest.mark.live


@pytest.fixture
async def live_client() -> AsyncIterator[Client]:
    secret = os.environ.get("FILESTACK_APP_SECRET")
    security = Security.create(secret, expires_in=600) if secret else None
    async with Client(os.environ["FILESTACK_API_KEY"], security=security) as client:
        yield client


@pytest.mark.parametrize("intelligent", [False, True], ids=["regular", "intelligent"])
async def test_an_empty_file_is_stored(live_client: Client, intelligent: bool) -> None:
    link = await live_client.upload(
        content=b"", intelligent=intelligent, store_params={"filename": "empty.txt"}
    )
    try:
        assert link.upload_response is not None
        assert link.upload_response.get("size") == 0
        assert await link.get_content() == b""
    finally:
        if live_client.security is not None:
            await link.delete()
