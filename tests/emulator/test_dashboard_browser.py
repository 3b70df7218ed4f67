"""The dashboard in a real browser (Debian's headless chromium): a file uploaded through
the SDK appears, a fault flipped on the page makes the next upload retry. A screenshot
is kept in the test's tmp folder (and copied to ``$FILESTACK_ARTIFACTS`` when set)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import anyio
import httpx
import pytest
from PIL import Image

from filestack_async import Client, RetryPolicy, UploadConfig
from filestack_async.emulator import EmulatorServer
from filestack_async.emulator.dashboard import PREFIX
from filestack_async.emulator.receiver import WebhookReceiver

from .webdriver import Browser, missing

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


class NoSleep(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def picture() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (96, 64), (240, 240, 240))
    for x in range(96):
        for y in range(20, 44):
            image.putpixel((x, y), (230, 60 + x, 40))
    image.save(out, "PNG")
    return out.getvalue()


async def test_the_dashboard_live_in_a_browser(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        await dashboard_session(tmp_path, receiver)


async def dashboard_session(tmp_path: Path, receiver: WebhookReceiver) -> None:
    async with EmulatorServer(
        data_dir=tmp_path / "emu", webhooks=(receiver.url,), webhook_retry_scale=0.00001
    ) as server:
        sleeps = NoSleep()
        client = Client(
            "DASHBOARD-KEY",
            base_url=server.url,
            retry=RetryPolicy(sleep=sleeps, random=lambda: 0.5),
            # multipart even for small files, so complete (and its 202) is used
            upload=UploadConfig(multipart_threshold=0),
        )
        with Browser(tmp_path / "profile") as browser:
            await anyio.to_thread.run_sync(browser.get, f"{server.url}{PREFIX}")
            await anyio.to_thread.run_sync(browser.wait_for, "#status")
            assert browser.find("#files tbody tr") is None

            async with client:
                link = await client.upload(
                    content=picture(),
                    store_params={
                        "filename": "<b>cat</b>.png",
                        "mimetype": "image/png",
                        "path": "pets/cat.png",
                        "upload_tags": {"owner": "docs"},
                    },
                )
                row = await anyio.to_thread.run_sync(
                    browser.wait_for, f'#files tr[data-handle="{link.handle}"]'
                )
                text = browser.text(row)
                # the filename is shown as text, never as markup
                assert "<b>cat</b>.png" in text and "pets/cat.png" in text
                assert "owner=docs" in text and "image/png" in text
                loaded = browser.script(
                    "const i = document.querySelector('#files img.thumb');"
                    "return i ? i.complete && i.naturalWidth : 0;"
                )
                assert loaded in (0, 96)  # loading or loaded, never broken markup

                # flip a fault on the page: complete answers 202 once per upload
                area = browser.wait_for("#faults-json")
                browser.type_into(area, '{"complete_202": 1}')
                browser.click(browser.wait_for("#faults-apply"))
                status = browser.wait_for("#faults-status")
                for _ in range(100):
                    if browser.text(status) == "applied":
                        break
                    await anyio.sleep(0.05)
                assert browser.text(status) == "applied"
                assert server.emulator.faults.faults.complete_202 == 1

                receiver.fail_next(1, status=503)
                second = await client.upload(content=b"after the fault")
            # the SDK saw the 202 and asked again: the page shows both answers
            await anyio.to_thread.run_sync(
                browser.wait_for, '#journal tr[data-route="complete"][data-status="202"]'
            )
            await anyio.to_thread.run_sync(
                browser.wait_for, f'#files tr[data-handle="{second.handle}"]'
            )
            completes = server.emulator.journal.entries(route="complete")
            assert [e.status for e in completes] == [200, 202, 200]
            # webhook deliveries and their attempts: the first one fails once, then arrives
            await anyio.to_thread.run_sync(browser.wait_for, "#webhooks tr.delivered")
            # a request that breaks the protocol is highlighted in the journal
            async with httpx.AsyncClient() as http:
                await http.post(f"{server.url}/multipart/start", json={"apikey": "K", "size": 1})
            row = await anyio.to_thread.run_sync(browser.wait_for, "#journal tr.violation")
            assert "field 'filename' is missing" in browser.text(row)
            # let the thumbnail finish loading before the picture is taken
            for _ in range(100):
                if browser.script(
                    "const i = document.querySelector('#files img.thumb');"
                    "return !!i && i.complete && i.naturalWidth > 0;"
                ):
                    break
                await anyio.sleep(0.05)
            shot = browser.screenshot(tmp_path / "dashboard.png")
    with Image.open(shot) as image:
        assert image.size[0] >= 800
    artifacts = os.environ.get("FILESTACK_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "dashboard.png")
