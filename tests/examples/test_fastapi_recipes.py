"""The FastAPI recipes of docs/async.md: the app's lifespan with an in-process emulator
(the app called through ``httpx.ASGITransport``), and ``UploadFile``
(examples/fastapi_uploadfile.py)."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from examples.fastapi_uploadfile import create_app
from fastapi import FastAPI

from filestack_async import Client
from filestack_async.emulator import Emulator

MiB = 1024 * 1024
DOCS = Path(__file__).resolve().parents[2] / "docs" / "async.md"


# --8<-- [start:lifespan]
@pytest_asyncio.fixture
async def app_client(filestack_emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, its Filestack client bound to the in-process
    emulator, called in-process too: no socket anywhere."""
    app = create_app(filestack_emulator.client)
    async with app.router.lifespan_context(app):  # opens the app's client; closes it after
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            yield http


@pytest.mark.asyncio
async def test_an_avatar_form_upload_is_stored(
    app_client: httpx.AsyncClient, filestack_emulator: Emulator
) -> None:
    image = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000
    answer = await app_client.post("/avatars", files={"upload": ("me.png", image, "image/png")})
    assert answer.status_code == 201
    (stored,) = filestack_emulator.storage.list_files()
    assert (stored.handle, stored.path, stored.filename) == (
        answer.json()["handle"],
        "avatars/",
        "me.png",
    )
    assert filestack_emulator.storage.read_bytes(stored.handle) == image


# --8<-- [end:lifespan]


@dataclass
class Opened:
    client: Client | None = None


async def test_the_lifespan_opens_one_client_and_closes_it(filestack_emulator: Emulator) -> None:
    seen = Opened()

    def factory() -> Client:
        seen.client = filestack_emulator.client()
        return seen.client

    app: FastAPI = create_app(factory)
    async with app.router.lifespan_context(app):
        assert seen.client is app.state.filestack and not seen.client.is_closed
    assert seen.client is not None and seen.client.is_closed


async def test_a_file_bigger_than_the_spool_goes_through_the_multipart_upload(
    app_client: httpx.AsyncClient, filestack_emulator: Emulator
) -> None:
    # beyond UploadFile's 1 MiB in memory (spooled to disk) and beyond the one-request
    # threshold: read from the spooled file part by part
    data = bytes(range(256)) * (9 * MiB // 256)
    answer = await app_client.post(
        "/avatars", files={"upload": ("big.bin", data, "application/octet-stream")}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["size"] == len(data)
    assert filestack_emulator.storage.read_bytes(answer.json()["handle"]) == data
    assert filestack_emulator.violations.snapshot() == []


async def test_a_request_without_the_file_is_refused_before_filestack(
    app_client: httpx.AsyncClient, filestack_emulator: Emulator
) -> None:
    answer = await app_client.post("/avatars", data={"other": "field"})
    assert answer.status_code == 422
    assert filestack_emulator.storage.list_files() == []


def test_the_docs_show_the_recipes_as_tested() -> None:
    page = DOCS.read_text(encoding="utf-8")
    source = Path(__file__).read_text(encoding="utf-8")
    start, end = "# --8<-- [start:lifespan]\n", "# --8<-- [end:lifespan]"
    block = source[source.index(start) + len(start) : source.index(end)].strip()
    assert block in page, "docs/async.md lacks the lifespan recipe as tested"
    recipe = (DOCS.parents[1] / "examples" / "fastapi_uploadfile.py").read_text(encoding="utf-8")
    endpoint = recipe[recipe.index("    @app.post") : recipe.index("    return app")]
    assert textwrap.dedent(endpoint).strip() in page, (
        "docs/async.md lacks the UploadFile endpoint as tested"
    )
