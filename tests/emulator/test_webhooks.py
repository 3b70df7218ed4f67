"""Webhooks: the service's events, signed as it signs them, delivered off the request
path, retried on its schedule (scaled), bounded, and only to loopback by default."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from filestack_async import Security, verify_webhook_signature
from filestack_async.emulator import Emulator, EmulatorConfig
from filestack_async.emulator.config import DEFAULT_WEBHOOK_SECRET
from filestack_async.emulator.receiver import WebhookReceiver
from filestack_async.emulator.webhooks import (
    RETRY_DELAYS,
    WebhookDispatcher,
    WebhookError,
    check_url,
)

from .teamkit import KINDS, team

SECRET = "WEBHOOK-APP-SECRET"
#: 5 min, 30 min, 12 h become 3 ms, 18 ms, 0.43 s
FAST = 0.00001


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def wait_settled(emulator: Emulator) -> None:
    assert emulator.webhooks.wait_idle(30), "deliveries still running after 30 s"


@pytest.mark.parametrize("kind", KINDS)
async def test_an_sdk_upload_sends_a_signed_fp_upload(
    kind: str, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with team(kind, tmp_path, webhooks=(receiver.url,)) as t:
        link = await t.client.upload(content=b"hook me", store_params={"filename": "h.txt"})
        [hook] = await anyio.to_thread.run_sync(receiver.wait_for, 1)
    assert hook.path == "/webhooks"
    assert hook.headers["content-type"] == "application/json"
    assert verify_webhook_signature(DEFAULT_WEBHOOK_SECRET, hook.body, hook.headers, max_age=60)
    assert not verify_webhook_signature("another-secret", hook.body, hook.headers)
    payload = hook.payload
    assert set(payload) == {"id", "action", "timestamp", "text"}
    assert payload["action"] == "fp.upload" and isinstance(payload["id"], int)
    text = payload["text"]
    assert text["url"] == f"{t.base}/{link.handle}"
    assert text["url"].rsplit("/", 1)[1] == link.handle
    assert (text["filename"], text["size"], text["status"]) == ("h.txt", 7, "Stored")
    assert text["type"] == "text/plain" or text["type"].startswith("application/")


async def test_signed_with_the_app_secret_when_set(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    security = Security.create(SECRET, expires_in=600)
    async with team(
        "socket", tmp_path, secret=SECRET, webhooks=(receiver.url,), security=security
    ) as t:
        await t.client.upload(content=b"x")
        [hook] = await anyio.to_thread.run_sync(receiver.wait_for, 1)
    assert verify_webhook_signature(SECRET, hook.body, hook.headers)
    assert not verify_webhook_signature(DEFAULT_WEBHOOK_SECRET, hook.body, hook.headers)


async def test_overwrite_and_delete_events(tmp_path: Path, receiver: WebhookReceiver) -> None:
    security = Security.create(SECRET, expires_in=600)
    async with team(
        "in-process",
        tmp_path,
        secret=SECRET,
        webhook_secret="SEPARATE-WEBHOOK-SECRET",
        security=security,
    ) as t:
        link = await t.client.upload(content=b"one")
        t.emulator.webhooks.add(receiver.url, events=["fp.overwrite", "fp.delete"])
        await link.overwrite(content=b"two!")
        await t.client.upload(content=b"not wanted")
        await link.delete()
        hooks = await anyio.to_thread.run_sync(receiver.wait_for, 2)
        wait_settled(t.emulator)
    assert [h.payload["action"] for h in hooks] == ["fp.overwrite", "fp.delete"]
    overwrite, delete = (h.payload["text"] for h in hooks)
    assert overwrite["size"] == 4 and overwrite["isWriteable"] is True
    assert overwrite["url"].endswith(f"/{link.handle}")
    assert delete == {"url": overwrite["url"]}
    for hook in hooks:
        assert verify_webhook_signature("SEPARATE-WEBHOOK-SECRET", hook.body, hook.headers)
    assert len(receiver.received) == 2  # the second upload (fp.upload) was not wanted


async def test_a_video_conversion_sends_fp_converse(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    from .test_processing_av import sample_video

    async with team("in-process", tmp_path, webhooks=(receiver.url,)) as t:
        link = await t.client.upload(content=sample_video(1), store_params={"filename": "v.mp4"})
        converted = await link.av_convert(preset="h264", width=32)
        output = await converted.wait_until_complete(60, initial_delay=0.01, max_delay=0.05)
        hooks = await anyio.to_thread.run_sync(receiver.wait_for, 2)
    actions = [h.payload["action"] for h in hooks]
    assert actions == ["fp.upload", "fp.converse"]
    link_text = hooks[1].payload["text"]["link"]
    assert link_text["handle"] == output.handle and link_text["mimetype"] == "video/mp4"


async def test_failed_deliveries_are_retried_on_the_scaled_schedule(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    receiver.fail_next(2, status=503)
    async with team("socket", tmp_path, webhooks=(receiver.url,), webhook_retry_scale=FAST) as t:
        await t.client.upload(content=b"retry me")
        hooks = await anyio.to_thread.run_sync(receiver.wait_for, 3)
        wait_settled(t.emulator)
        [delivery] = t.emulator.webhooks.deliveries()
    assert [a.status for a in delivery.attempts] == [503, 503, 200]
    assert delivery.state == "delivered"
    # the same event each time (same id and body), each signed with its own timestamp
    assert len({h.body for h in hooks}) == 1
    assert all(verify_webhook_signature(DEFAULT_WEBHOOK_SECRET, h.body, h.headers) for h in hooks)


async def test_a_receiver_that_keeps_failing_is_given_up_after_three_retries(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    receiver.status = 500
    async with team(
        "in-process", tmp_path, webhooks=(receiver.url,), webhook_retry_scale=FAST
    ) as t:
        await t.client.upload(content=b"never")
        await anyio.to_thread.run_sync(receiver.wait_for, 1 + len(RETRY_DELAYS))
        wait_settled(t.emulator)
        [delivery] = t.emulator.webhooks.deliveries()
    assert [a.status for a in delivery.attempts] == [500] * 4
    assert delivery.state == "failed" and delivery.reason == "the receiver answered 500"


async def test_a_hanging_receiver_holds_up_no_upload_and_is_bounded(tmp_path: Path) -> None:
    with WebhookReceiver(hang=True) as hanging, WebhookReceiver() as healthy:
        async with team(
            "socket",
            tmp_path,
            webhooks=(hanging.url, healthy.url),
            webhook_timeout=0.5,
            webhook_retry_scale=FAST,
        ) as t:
            # the upload's answer does not wait for the receiver that never answers
            link = await t.client.upload(content=b"slow receiver")
            assert await link.get_content() == b"slow receiver"
            [hook] = await anyio.to_thread.run_sync(healthy.wait_for, 1)
            wait_settled(t.emulator)
            stuck = [d for d in t.emulator.webhooks.deliveries() if d.url == hanging.url]
    assert hook.payload["text"]["url"].endswith(link.handle)
    [delivery] = stuck
    assert delivery.state == "failed" and len(delivery.attempts) == 4
    assert {a.error for a in delivery.attempts} == {"the receiver did not answer within 0.5 s"}


async def test_a_refused_connection_is_recorded_and_retried(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with team(
        "in-process",
        tmp_path,
        webhooks=(f"http://127.0.0.1:{port}/hook",),
        webhook_retry_scale=FAST,
    ) as t:
        await t.client.upload(content=b"x")
        wait_settled(t.emulator)
        [delivery] = t.emulator.webhooks.deliveries()
    assert delivery.state == "failed"
    assert [a.error for a in delivery.attempts] == ["the receiver refused the connection"] * 4


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/hook", "'example.com' is not loopback"),
        ("http://10.0.0.1/hook", "'10.0.0.1' is not loopback"),
        ("http://[::ffff:10.0.0.1]/hook", "is not loopback"),
        ("ftp://127.0.0.1/hook", "must be http:// or https://"),
        ("http://user:pw@127.0.0.1/hook", "must not carry a user name"),
        ("http://127.0.0.1:99999/hook", "port is not valid"),
        ("http://127.0.0.1/a b", "no spaces"),
        ("", "non-empty string"),
        (None, "non-empty string"),
    ],
)
def test_bad_webhook_urls_are_refused_with_the_cause(url: Any, message: str) -> None:
    with pytest.raises(WebhookError, match=message):
        check_url(url)
    with pytest.raises(WebhookError, match=message):
        Emulator(EmulatorConfig(webhooks=(url,)))


def test_a_name_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(WebhookError, match=re.escape("'receiver.localhost' does not resolve")):
        check_url("http://receiver.localhost:8000/hook")


async def test_a_name_that_later_resolves_beyond_loopback_is_not_reached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    real = socket.getaddrinfo
    port = int(receiver.url.split(":")[2].split("/")[0])
    async with team("in-process", tmp_path, webhook_retry_scale=FAST) as t:
        t.emulator.webhooks.add(f"http://localhost:{port}/webhooks")

        def rebound(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host == "localhost":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebound)
        await t.client.upload(content=b"x")
        wait_settled(t.emulator)
        [delivery] = t.emulator.webhooks.deliveries()
    assert receiver.received == []
    assert delivery.state == "failed"
    assert "resolves to 10.1.2.3, not a loopback address" in str(delivery.attempts[0].error)


def test_remote_urls_need_the_explicit_flag() -> None:
    hooks = WebhookDispatcher("k", origin=lambda: "http://e", allow_remote=True)
    assert hooks.add("http://10.0.0.1:9/hook").url == "http://10.0.0.1:9/hook"
    hooks.close()


def test_the_queue_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import filestack_async.emulator.webhooks as webhooks

    monkeypatch.setattr(webhooks, "MAX_PENDING", 3)
    with WebhookReceiver(hang=True) as hanging:
        hooks = WebhookDispatcher("k", origin=lambda: "http://e", timeout=30)
        hooks.add(hanging.url)
        made = [d for _ in range(10) for d in hooks.emit("fp.delete", {"url": "u"})]
        states = [d.state for d in made]
        hooks.close()
    assert states.count("dropped") == 7
    assert {d.reason for d in made if d.state == "dropped"} == {
        "more than 3 deliveries were waiting"
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"webhook_retry_scale": 0}, "webhook_retry_scale must be a positive number"),
        ({"webhook_timeout": -1}, "webhook_timeout must be a positive number"),
        ({"webhook_timeout": float("inf")}, "webhook_timeout must be finite"),
        ({"webhook_secret": ""}, None),  # empty: falls back to the default secret
    ],
)
def test_bad_webhook_settings(settings: dict[str, Any], message: str | None) -> None:
    if message is None:
        Emulator(EmulatorConfig(**settings)).close()
        return
    with pytest.raises(WebhookError, match=message):
        Emulator(EmulatorConfig(**settings))


@pytest.mark.parametrize("kind", KINDS)
async def test_webhooks_over_the_control_plane(
    kind: str, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    security = Security.create(SECRET, expires_in=600)
    async with team(kind, tmp_path, secret=SECRET, security=security) as t:
        url = f"{t.base}/_emulator/webhooks"
        headers = t.emulator.control_headers
        assert (await t.http.get(url)).status_code == 401
        r = await t.http.post(
            url, json={"url": receiver.url, "events": ["fp.upload"]}, headers=headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["targets"] == [{"url": receiver.url, "events": ["fp.upload"]}]
        for body, message in [
            ({"url": "http://example.com/"}, "is not loopback"),
            ({"url": receiver.url, "events": ["fp.nothing"]}, "unknown webhook events"),
            ({"url": receiver.url, "colour": 1}, "send {"),
            ([1], "send {"),
        ]:
            r = await t.http.post(url, json=body, headers=headers)
            assert r.status_code == 400 and message in r.json()["error"], r.text
        link = await t.client.upload(content=b"via control")
        await anyio.to_thread.run_sync(receiver.wait_for, 1)
        await anyio.to_thread.run_sync(wait_settled, t.emulator)
        r = await t.http.get(url, headers=headers)
        [delivery] = r.json()["deliveries"]
        assert delivery["state"] == "delivered" and delivery["action"] == "fp.upload"
        assert delivery["payload"]["text"]["url"].endswith(link.handle)
        assert [a["status"] for a in delivery["attempts"]] == [200]
        assert SECRET not in r.text
        r = await t.http.delete(url, params={"url": "http://127.0.0.1:1/none"}, headers=headers)
        assert r.status_code == 404
        r = await t.http.delete(url, params={"url": receiver.url}, headers=headers)
        assert r.json()["targets"] == []


def test_the_dispatcher_hides_its_secret() -> None:
    hooks = WebhookDispatcher("TOP-SECRET-KEY", origin=lambda: "http://e")
    assert "TOP-SECRET-KEY" not in repr(hooks)
    hooks.close()


async def test_the_fixture_we_ship(
    filestack_emulator: Emulator,
    filestack_client: Any,
    filestack_webhook_receiver: WebhookReceiver,
) -> None:
    filestack_emulator.webhooks.add(filestack_webhook_receiver.url)
    link = await filestack_client.upload(content=b"fixture")
    [hook] = await anyio.to_thread.run_sync(filestack_webhook_receiver.wait_for, 1)
    assert json.loads(hook.body)["text"]["url"].endswith(link.handle)
    assert isinstance(httpx.URL(hook.payload["text"]["url"]).host, str)
