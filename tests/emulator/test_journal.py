"""The request journal: every request served, secrets masked, read by tests and the
control plane, optionally written as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filestack_async import Security
from filestack_async.emulator import Emulator, EmulatorConfig
from filestack_async.emulator.journal import (
    JournalError,
    RequestJournal,
    mask_path,
    mask_query,
    route_of,
)

from .teamkit import KINDS, eventually, team

MiB = 1024 * 1024
SECRET = "JOURNAL-APP-SECRET"


@pytest.mark.parametrize("kind", KINDS)
async def test_journal_shows_what_an_sdk_upload_sent(kind: str, tmp_path: Path) -> None:
    async with team(kind, tmp_path) as t:
        data = b"j" * (20 * MiB)
        link = await t.client.upload(content=data, store_params={"filename": "j.bin"})
        journal = t.emulator.journal
        # one start, three parts (8 + 8 + 4 MiB: an upload call and a PUT each), one complete
        assert journal.counts(route=("start", "upload", "put", "complete")) == {
            "start": 1,
            "upload": 3,
            "put": 3,
            "complete": 1,
        }
        puts = journal.entries(route="put")
        assert sorted(e.request_bytes for e in puts) == [4 * MiB, 8 * MiB, 8 * MiB]
        assert all(e.status == 200 and e.method == "PUT" for e in puts)
        [complete] = journal.entries(route="complete")
        assert complete.status == 200 and complete.response_bytes > 0
        assert complete.trace_id is not None and complete.trace_id.count("-") == 1
        assert journal.entries(trace_id=complete.trace_id) == [complete]
        assert journal.entries(violations=True) == []
        # a read of the file is journaled too; control-plane requests are not
        assert await link.get_content() == data
        assert await eventually(lambda: journal.routes()[-1] == "cdn")
        r = await t.http.get(f"{t.base}/_emulator/files")
        assert r.status_code == 200
        assert "control" not in journal.routes()


@pytest.mark.parametrize("kind", KINDS)
async def test_journal_over_the_control_plane_with_filters(kind: str, tmp_path: Path) -> None:
    security = Security.create(SECRET, expires_in=600)
    async with team(kind, tmp_path, secret=SECRET, security=security) as t:
        await t.client.upload(content=b"abc")
        headers = t.emulator.control_headers
        r = await t.http.get(f"{t.base}/_emulator/journal")
        assert r.status_code == 401  # the secret protects it like the rest
        await t.client.upload(content=b"x" * (9 * MiB))
        counts = {"store": 1, "start": 1, "upload": 2, "put": 2, "complete": 1}
        assert t.emulator.journal.counts() == counts
        r = await t.http.get(f"{t.base}/_emulator/journal?route=start", headers=headers)
        assert r.status_code == 200
        [entry] = r.json()["entries"]
        assert entry["route"] == "start" and entry["status"] == 200
        r = await t.http.get(f"{t.base}/_emulator/journal?limit=1", headers=headers)
        assert [e["route"] for e in r.json()["entries"]] == ["complete"]
        r = await t.http.get(f"{t.base}/_emulator/journal?route=put&method=PUT", headers=headers)
        assert [e["request_bytes"] for e in r.json()["entries"]] in ([8 * MiB, MiB], [MiB, 8 * MiB])
        r = await t.http.get(f"{t.base}/_emulator/journal?colour=red", headers=headers)
        assert r.status_code == 400 and "unknown journal filter 'colour'" in r.json()["error"]
        r = await t.http.get(f"{t.base}/_emulator/journal?status=abc", headers=headers)
        assert r.status_code == 400 and "status must be" in r.json()["error"]
        r = await t.http.delete(f"{t.base}/_emulator/journal", headers=headers)
        assert r.json() == {"entries": []} and t.emulator.journal.entries() == []


@pytest.mark.parametrize("kind", KINDS)
async def test_a_violation_is_noted_on_the_request_that_made_it(kind: str, tmp_path: Path) -> None:
    async with team(kind, tmp_path) as t:
        # lenient: served, and the deviation is on the entry; then a fatal one (400)
        r = await t.http.post(f"{t.base}/multipart/start", json={"apikey": "K", "size": 3})
        assert r.status_code == 200
        r = await t.http.post(f"{t.base}/multipart/start", json={"size": 3})
        assert r.status_code == 400
        lenient, fatal = t.emulator.journal.entries()
        assert lenient.route == "start" and lenient.status == 200
        assert lenient.violations and "filename" in lenient.violations[0]
        assert fatal.status == 400 and "apikey" in fatal.violations[0]
        assert t.emulator.journal.entries(violations=True) == [lenient, fatal]
        assert t.emulator.journal.entries(violations=True, status=400) == [fatal]


async def test_secrets_in_paths_and_queries_are_masked(tmp_path: Path) -> None:
    async with team("in-process", tmp_path, secret=SECRET) as t:
        policy, signature = "eyJjYWxsIjpbInJlYWQiXX0=", "f" * 64
        await t.http.get(f"{t.base}/HANDLEHANDLEHANDLE12?policy={policy}&signature={signature}")
        await t.http.get(f"{t.base}/resize=w:10/security=p:{policy},s:{signature}/HANDLEHANDLE")
        await t.http.get(f"{t.base}/APIKEY1234567890ab/resize=w:10/https://x.localhost/a.png")
        await t.http.get(f"{t.base}/api/file/HANDLEHANDLEHANDLE12?key=MYKEY&policy={policy}")
        paths = [e.path for e in t.emulator.journal.entries()]
        text = json.dumps(paths)
        for secret in (policy, signature, "APIKEY1234567890ab", "MYKEY", "eyJjYWxs"):
            assert secret not in text, paths
        assert paths[1] == "/resize=w:10/security=***/HANDLEHANDLE"
        assert paths[2].startswith("/***/resize=w:10/")


def test_mask_and_route_units() -> None:
    assert mask_query("size=3&token=abc&md5=x") == "size=3&token=%2A%2A%2A&md5=x".replace(
        "%2A%2A%2A", "***"
    )
    assert mask_query("") == ""
    assert mask_path("/_s3/up/1") == "/_s3/up/1"
    assert mask_path("/HANDLEHANDLEHANDLE12") == "/HANDLEHANDLEHANDLE12"
    assert route_of("POST", "/multipart/complete") == "complete"
    assert route_of("PUT", "/_s3/u/1/0") == "put"
    assert route_of("GET", "/api/file/H/metadata") == "metadata"
    assert route_of("GET", "/resize=w:1/H") == "processing"
    assert route_of("GET", "/H") == "cdn"


def test_the_ring_is_bounded_and_the_file_gets_every_entry(tmp_path: Path) -> None:
    lines = tmp_path / "journal.jsonl"
    journal = RequestJournal(capacity=3, file=lines)
    journal.open()
    for number in range(5):
        journal.record(
            method="GET",
            path=f"/{number}",
            route="cdn",
            status=200,
            duration_ms=1.0,
            request_bytes=0,
            response_bytes=number,
            trace_id=None,
        )
    journal.close()
    assert [e.path for e in journal.entries()] == ["/2", "/3", "/4"]
    assert journal.entries(since=3)[0].id == 4
    written = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [w["path"] for w in written] == [f"/{n}" for n in range(5)]


async def test_journal_file_from_the_config(tmp_path: Path) -> None:
    lines = tmp_path / "ci" / "journal.jsonl"
    lines.parent.mkdir()
    async with team("socket", tmp_path, journal_file=lines) as t:
        await t.client.upload(content=b"hello")
    routes = [json.loads(line)["route"] for line in lines.read_text().splitlines()]
    assert routes == ["store"]  # a small file goes to /api/store in one request


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"journal_size": 0}, "capacity must be a positive integer"),
        ({"journal_file": Path("/nonexistent-dir/j.jsonl")}, "cannot open the journal file"),
    ],
)
def test_bad_journal_settings_are_named(settings: dict[str, object], message: str) -> None:
    with pytest.raises(JournalError, match=message):
        Emulator(EmulatorConfig(**settings))  # type: ignore[arg-type]


async def test_reset_clears_the_journal(tmp_path: Path) -> None:
    async with team("in-process", tmp_path) as t:
        await t.http.get(f"{t.base}/HANDLEHANDLEHANDLE12")
        assert len(t.emulator.journal.entries()) == 1
        await t.http.post(f"{t.base}/_emulator/reset")
        assert t.emulator.journal.entries() == []


def test_a_bad_webhook_setting_leaves_no_journal_file_open(tmp_path: Path) -> None:
    from filestack_async.emulator.webhooks import WebhookError

    lines = tmp_path / "journal.jsonl"
    with pytest.raises(WebhookError, match="is not loopback"):
        Emulator(EmulatorConfig(journal_file=lines, webhooks=("http://example.com/",)))
    assert not lines.exists()  # refused before the file was opened (nothing to leak)
