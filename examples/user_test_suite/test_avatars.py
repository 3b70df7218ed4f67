"""A user's tests of ``avatars.py``, run against the emulator through the shipped fixtures."""

from __future__ import annotations

import io

import pytest
from avatars import Avatar, delete_avatar, save_avatar
from PIL import Image

from filestack_async import Client, ConfigurationError, RetryPolicy, Security
from filestack_async import sync as filestack_sync
from filestack_async.emulator import Emulator, EmulatorServer, Faults, RouteFault
from filestack_async.testing import EmulatorFactory


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.asyncio  # needed in strict mode (the default), harmless in auto
async def test_the_avatar_and_a_square_thumbnail_are_stored(filestack_client: Client) -> None:
    image = png(300, 200)
    avatar = await save_avatar(filestack_client, "u1", image)

    assert await filestack_client.filelink(avatar.original).get_content() == image
    thumbnail = await filestack_client.filelink(avatar.thumbnail).get_content()
    with Image.open(io.BytesIO(thumbnail)) as thumb:
        assert thumb.size == (64, 64)


@pytest.mark.asyncio
async def test_files_land_in_the_users_folder(
    filestack_emulator: Emulator, filestack_client: Client
) -> None:
    avatar = await save_avatar(filestack_client, "u42", png(80, 80))

    stored = {f.handle: f for f in filestack_emulator.storage.list_files()}
    assert set(stored) == {avatar.original, avatar.thumbnail}
    assert {f.path for f in stored.values()} == {"avatars/u42/"}


@pytest.mark.asyncio
async def test_deleting_needs_a_policy_that_allows_remove(
    filestack_emulator_factory: EmulatorFactory,
) -> None:
    emulator = filestack_emulator_factory(secret="APP-SECRET", strict=True)
    security = Security.create(
        "APP-SECRET",
        expires_in=600,
        call=["pick", "convert", "store", "remove"],  # what save and delete do
        path="avatars/.*",
    )
    async with emulator.client(security=security) as client:
        avatar = await save_avatar(client, "u7", png(100, 100))
        await delete_avatar(client, avatar)
    assert emulator.storage.list_files() == []
    assert emulator.violations.snapshot() == []

    async with emulator.client() as unsigned:  # no security at all
        with pytest.raises(ConfigurationError, match="security"):
            await delete_avatar(unsigned, Avatar("A" * 20, "B" * 20))


@pytest.mark.asyncio
async def test_saving_survives_a_flaky_connection(
    filestack_emulator_factory: EmulatorFactory,
) -> None:
    # a small file is stored with one request; half of them lose their connection
    flaky = Faults(seed=1, rules=(RouteFault("store", reset_rate=0.5),))
    emulator = filestack_emulator_factory(faults=flaky)
    fast_retries = RetryPolicy(max_retries=8, initial_delay=0.001, max_delay=0.01)
    async with emulator.client(retry=fast_retries) as client:
        avatar = await save_avatar(client, "u9", png(64, 64))
        assert await client.filelink(avatar.original).get_content() == png(64, 64)
    assert emulator.faults.injected["store:reset"] >= 1  # the retries really were needed


def test_sync_code_reaches_the_emulator_over_a_socket(
    filestack_emulator_server: EmulatorServer,
) -> None:
    with filestack_sync.Client("MY_KEY", base_url=filestack_emulator_server.url) as client:
        link = client.upload(content=b"report", store_params={"filename": "r.txt"})
        assert client.filelink(link.handle).metadata(["filename"]) == {"filename": "r.txt"}
