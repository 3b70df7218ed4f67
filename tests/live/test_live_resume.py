"""Against the real Filestack service: a resumed upload, and an upload id it does not know.

Runs only when FILESTACK_API_KEY is set (FILESTACK_APP_SECRET too if the app enforces
security; the stored files are then deleted afterwards). docs/uploads.md lists what these
show as unverified: that the service keeps an unfinished upload between two runs and
completes it from the ETags of parts sent by both, and what it answers for an upload id it
no longer knows (the SDK starts afresh only on a 404 or S3's ``NoSuchUpload``).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from filestack_async import Client, Security, UploadConfig, UploadProgress

pytestmark = pytest.mark.live

MiB = 1024 * 1024
CONFIG = UploadConfig(part_size=5 * MiB, concurrency=1, multipart_threshold=0)


@pytest.fixture
async def live_client() -> AsyncIterator[Client]:
    secret = os.environ.get("FILESTACK_APP_SECRET")
    security = Security.create(secret, expires_in=600) if secret else None
    async with Client(os.environ["FILESTACK_API_KEY"], security=security, upload=CONFIG) as client:
        yield client


async def _stopped_after_one_part(client: Client, path: Path, checkpoint: Path) -> None:
    with anyio.CancelScope() as scope:

        def stop(report: UploadProgress) -> None:
            if report.bytes_acknowledged >= 5 * MiB:
                scope.cancel()

        await client.upload(filepath=path, resume=checkpoint, progress=stop)
    assert json.loads(checkpoint.read_bytes())["parts"]


@pytest.mark.parametrize("forget", [False, True], ids=["resumed", "unknown-upload-id"])
async def test_a_resumed_upload_completes_byte_exact(
    live_client: Client, tmp_path: Path, forget: bool
) -> None:
    data = random.Random(3).randbytes(12 * MiB)
    path = tmp_path / "resume.bin"
    path.write_bytes(data)
    checkpoint = tmp_path / "resume.checkpoint"
    await _stopped_after_one_part(live_client, path, checkpoint)
    if forget:  # an id the service never issued: it must answer so that the SDK starts afresh
        saved = json.loads(checkpoint.read_bytes())
        saved["upload_id"] = saved["start_response"]["upload_id"] = "filestack-async-unknown-id"
        checkpoint.write_text(json.dumps(saved))
    link = await live_client.upload(filepath=path, resume=checkpoint)
    try:
        assert await link.get_content() == data
        assert not checkpoint.exists()
    finally:
        if live_client.security is not None:
            await link.delete()
