"""The dashboard over HTTP: the page and its data, who may see it, thumbnails and the
fault form (the browser test is test_dashboard_browser.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from PIL import Image

from filestack_async import Security
from filestack_async.emulator.app import IN_PROCESS_URL
from filestack_async.emulator.dashboard import ACTION_HEADER, COOKIE, PREFIX

from .teamkit import KINDS, team

SECRET = "DASHBOARD-APP-SECRET"
MiB = 1024 * 1024


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("kind", KINDS)
async def test_the_page_and_its_data(kind: str, tmp_path: Path) -> None:
    async with team(kind, tmp_path) as t:
        page = await t.http.get(f"{t.base}{PREFIX}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None and f'<script nonce="{nonce.group(1)}">' in page.text
        assert "default-src 'none'" in policy and page.headers["x-frame-options"] == "DENY"
        # nothing from anywhere else: no CDN, works offline
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)
        link = await t.client.upload(
            content=png(),
            store_params={
                "filename": "dot.png",
                "mimetype": "image/png",
                "upload_tags": {"k": "v"},
            },
        )
        state = (await t.http.get(f"{t.base}{PREFIX}/state")).json()
        [file] = state["files"]
        assert (file["handle"], file["filename"], file["mimetype"]) == (
            link.handle,
            "dot.png",
            "image/png",
        )
        assert file["upload_tags"] == {"k": "v"} and "segments" not in file
        assert [e["route"] for e in state["journal"]] == ["start", "upload", "put", "complete"]
        assert state["faults"]["complete_202"] == 0
        thumb = await t.http.get(f"{t.base}{PREFIX}/thumb/{link.handle}")
        assert thumb.status_code == 200 and thumb.content == png()
        assert thumb.headers["x-content-type-options"] == "nosniff"
        assert "/_emulator/dashboard" not in str([e["path"] for e in state["journal"]])


async def test_uploads_in_progress_show_their_parts(tmp_path: Path) -> None:
    async with team("in-process", tmp_path) as t:
        start = await t.http.post(
            f"{t.base}/multipart/start",
            json={
                "apikey": "K",
                "filename": "big.bin",
                "mimetype": "x/y",
                "size": 12 * MiB,
                "store": {"location": "S3"},
            },
        )
        started = start.json()
        common = {k: started[k] for k in ("uri", "region", "upload_id")}
        import base64
        import hashlib

        part = b"p" * (5 * MiB)
        target = await t.http.post(
            f"{t.base}/multipart/upload",
            json={
                "apikey": "K",
                **common,
                "store": {"location": "S3"},
                "part": 1,
                "size": len(part),
                "md5": base64.b64encode(hashlib.md5(part).digest()).decode(),
            },
        )
        put = await t.http.put(target.json()["url"], content=part, headers=target.json()["headers"])
        assert put.status_code == 200
        [upload] = (await t.http.get(f"{t.base}{PREFIX}/state")).json()["uploads"]
    assert upload["filename"] == "big.bin" and upload["parts_done"] == 1
    assert upload["parts_total"] == 3 and upload["received"] == 5 * MiB
    # the upload id is a capability: only its start is shown
    assert upload["upload_id"].endswith("…") and started["upload_id"] not in str(upload)


async def test_the_fault_form(tmp_path: Path) -> None:
    async with team("in-process", tmp_path) as t:
        url = f"{t.base}{PREFIX}/faults"
        body = '{"complete_202": 1}'
        r = await t.http.post(url, content=body)
        assert r.status_code == 400 and ACTION_HEADER in r.json()["error"]
        r = await t.http.post(url, content="{nope", headers={ACTION_HEADER: "1"})
        assert r.status_code == 400 and "bad fault settings" in r.json()["error"]
        r = await t.http.post(url, content='{"colour": 1}', headers={ACTION_HEADER: "1"})
        assert r.status_code == 400 and "unknown fault settings" in r.json()["error"]
        r = await t.http.post(url, content=body, headers={ACTION_HEADER: "1"})
        assert r.status_code == 200 and t.emulator.faults.faults.complete_202 == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_with_a_secret_the_page_needs_it(kind: str, tmp_path: Path) -> None:
    security = Security.create(SECRET, expires_in=600)
    async with team(kind, tmp_path, secret=SECRET, security=security) as t:
        page = f"{t.base}{PREFIX}"
        r = await t.http.get(page)
        assert r.status_code == 401 and 'name="secret"' in r.text and SECRET not in r.text
        for path in ("/state", "/thumb/AAAAAAAAAAAAAAAAAAAA"):
            assert (await t.http.get(f"{page}{path}")).status_code == 401
        r = await t.http.post(f"{page}/faults", content="{}", headers={ACTION_HEADER: "1"})
        assert r.status_code == 401
        r = await t.http.post(f"{page}/login", data={"secret": "wrong"})
        assert r.status_code == 401 and "that is not the emulator" in r.text
        assert COOKIE not in r.headers.get("set-cookie", "")
        r = await t.http.post(f"{page}/login", data={"secret": SECRET})
        assert r.status_code == 303 and r.headers["location"] == PREFIX
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and SECRET not in cookie
        token = r.cookies[COOKIE]
        r = await t.http.get(f"{page}/state", headers={"Cookie": f"{COOKIE}={token}"})
        assert r.status_code == 200
        r = await t.http.get(f"{page}/state", headers={"Cookie": f"{COOKIE}={'0' * 64}"})
        assert r.status_code == 401
        r = await t.http.get(page, headers=t.emulator.control_headers)
        assert r.status_code == 200  # the control plane's header works too
        # the cookie opens the dashboard only, not the rest of the control plane
        r = await t.http.get(f"{t.base}/_emulator/files", headers={"Cookie": f"{COOKIE}={token}"})
        assert r.status_code == 401


async def test_without_a_secret_only_loopback_clients_see_it(tmp_path: Path) -> None:
    async with team("in-process", tmp_path) as t:
        transport = httpx.ASGITransport(t.emulator.app, client=("192.0.2.7", 50000))
        async with httpx.AsyncClient(transport=transport) as remote:
            for path in ("", "/state", "/thumb/AAAAAAAAAAAAAAAAAAAA"):
                r = await remote.get(f"{IN_PROCESS_URL}{PREFIX}{path}")
                assert r.status_code == 403 and "only to loopback clients" in r.text
            r = await remote.post(
                f"{IN_PROCESS_URL}{PREFIX}/faults", content="{}", headers={ACTION_HEADER: "1"}
            )
            assert r.status_code == 403


async def test_thumbnails_are_images_only(tmp_path: Path) -> None:
    async with team("in-process", tmp_path) as t:
        text = await t.client.upload(
            content=b"<svg onload=alert(1)>",
            store_params={"filename": "a.txt", "mimetype": "text/html"},
        )
        r = await t.http.get(f"{t.base}{PREFIX}/thumb/{text.handle}")
        assert r.status_code == 404
        r = await t.http.get(f"{t.base}{PREFIX}/thumb/..%2F..%2Fetc")
        assert r.status_code in (400, 404)


async def test_the_dashboard_can_be_turned_off(tmp_path: Path) -> None:
    async with team("in-process", tmp_path, dashboard=False) as t:
        r = await t.http.get(f"{t.base}{PREFIX}")
        assert r.status_code != 200 and "<script" not in r.text
