"""The sync client in a plain script: every kind of call, the twins it returns, lifecycle."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

import filestack_async
from filestack_async import ConfigurationError, NotFoundError, UploadProgress
from filestack_async.sync import AudioVisual, Client, Filelink, Security, Transformation

from ._fake import BASE, CONTENT, HANDLE, FakeFilestack
from .conftest import portal_threads

SECURITY = Security({"expiry": 4102444800}, "SECRET")


def test_reads_a_file(client: Client, tmp_path: Path) -> None:
    link = client.filelink(HANDLE)
    assert isinstance(link, Filelink)
    assert link.url == f"{BASE}/{HANDLE}"
    assert link.handle == HANDLE
    assert link.get_content() == CONTENT
    assert link.metadata(["size"]) == {"size": len(CONTENT), "filename": "f.txt"}
    assert link.download(tmp_path / "out.bin") == len(CONTENT)
    assert (tmp_path / "out.bin").read_bytes() == CONTENT
    buffer = io.BytesIO()
    assert link.download(buffer) == len(CONTENT)
    assert buffer.getvalue() == CONTENT


def test_errors_are_the_async_ones(client: Client) -> None:
    with pytest.raises(NotFoundError):
        client.filelink("Missing0000000000000").get_content()
    with pytest.raises(ConfigurationError):
        client.filelink("bad handle")


def test_upload_with_progress_returns_a_sync_filelink(client: Client, fake: FakeFilestack) -> None:
    reports: list[UploadProgress] = []
    link = client.upload(content=b"x" * 1000, progress=reports.append)
    assert isinstance(link, Filelink)
    assert link.upload_response is not None
    assert link.get_content() == b"x" * 1000
    assert [r.bytes_acknowledged for r in reports] == [0, 1000]


def test_upload_many_maps_filelinks_and_keeps_errors(client: Client, tmp_path: Path) -> None:
    missing = tmp_path / "missing.bin"
    results = client.upload_many([b"one", missing, b"three"])
    assert isinstance(results[0], Filelink) and isinstance(results[2], Filelink)
    assert isinstance(results[1], ConfigurationError)
    assert results[2].get_content() == b"three"


def test_upload_url(client: Client) -> None:
    link = client.upload_url("https://example.com/a.png")
    assert isinstance(link, Filelink)
    assert link.get_content() == b"fetched from https://example.com/a.png"


def test_transformations_chain_and_store(client: Client) -> None:
    chain = client.filelink(HANDLE).resize(width=100).flip()
    assert isinstance(chain, Transformation)
    assert chain.url == f"{BASE}/resize=width:100/flip/{HANDLE}"
    assert chain == client.filelink(HANDLE).resize(width=100).flip()
    assert hash(chain) == hash(client.filelink(HANDLE).resize(width=100).flip())
    assert chain.get_content() == CONTENT
    stored = chain.store(path="/thumbs/")
    assert isinstance(stored, Filelink)
    assert stored.get_content() == CONTENT + b" (transformed)"
    external = client.transform_external("https://example.com/a.png").rotate(deg=90)
    assert isinstance(external, Transformation)
    assert "rotate=deg:90" in external.url
    assert isinstance(client.urlscreenshot("https://example.com"), Transformation)
    assert isinstance(client.transform_handles([HANDLE, HANDLE]).zip(), Transformation)


def test_audio_visual_waits_and_returns_a_filelink(client: Client) -> None:
    av = client.filelink(HANDLE).av_convert(preset="h264")
    assert isinstance(av, AudioVisual)
    assert av.uuid == "UUID1"
    assert av.status() == "started"
    seen: list[str] = []
    video = av.wait_until_complete(
        initial_delay=0, jitter=False, progress=lambda p: seen.append(p["status"])
    )
    assert isinstance(video, Filelink)
    assert video.get_content() == b"converted video"
    assert seen == ["completed"]
    assert av.last_payload is not None and av.last_payload["status"] == "completed"


def test_overwrite_and_delete_need_security(client: Client, fake: FakeFilestack) -> None:
    link = client.filelink(HANDLE)
    with pytest.raises(ConfigurationError, match="security is required"):
        link.delete()
    assert link.overwrite(content=b"new", security=SECURITY) is not None
    assert fake.files[HANDLE] == b"overwritten"
    link.delete(security=SECURITY)
    assert HANDLE not in fake.files


def test_properties_mirror_the_async_client(fake: FakeFilestack) -> None:
    with Client(
        "APIKEY", base_url=BASE, storage="gcs", security=SECURITY, transport=fake.transport()
    ) as c:
        assert c.apikey == "APIKEY"
        assert c.storage == "gcs"
        assert c.security is SECURITY
        assert c.endpoints.cdn == BASE
        assert c.context.apikey == "APIKEY"
        assert repr(c).startswith("<Client")
        assert not c.is_closed
        assert c.filelink(HANDLE).signed_url().startswith(f"{BASE}/security=")


def test_bad_arguments_raise_and_release_the_loop_thread() -> None:
    with pytest.raises(ConfigurationError, match="apikey"):
        Client("")
    assert not portal_threads()


def test_close_is_idempotent_and_stops_the_loop_thread(fake: FakeFilestack) -> None:
    client = Client("APIKEY", base_url=BASE, transport=fake.transport())
    link = client.filelink(HANDLE)
    assert portal_threads()
    client.close()
    client.close()
    assert client.is_closed
    assert not portal_threads()
    with pytest.raises(ConfigurationError, match="closed"):
        link.get_content()
    with pytest.raises(ConfigurationError, match="closed"):
        client.filelink(HANDLE)
    with pytest.raises(ConfigurationError, match="closed"), client:
        pass


def test_clients_share_one_loop_thread(fake: FakeFilestack) -> None:
    with Client("A", base_url=BASE, transport=fake.transport()) as one:
        with Client("B", base_url=BASE, transport=fake.transport()) as two:
            assert len(portal_threads()) == 1
            assert two.filelink(HANDLE).get_content() == CONTENT
        assert len(portal_threads()) == 1
        assert one.filelink(HANDLE).get_content() == CONTENT
    assert not portal_threads()


def test_standalone_objects_lease_per_call(
    fake: FakeFilestack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILESTACK_BASE_URL", BASE)
    # a standalone Filelink opens its own pool per call; point it at the fake
    import httpx

    original = httpx.AsyncClient.__init__

    def with_fake(self: httpx.AsyncClient, *args: object, **kwargs: object) -> None:
        kwargs["transport"] = fake.transport()
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.AsyncClient, "__init__", with_fake)
    link = Filelink(HANDLE)
    assert link.get_content() == CONTENT
    assert not portal_threads()
    chain = Transformation("APIKEY", external_url="https://example.com/a.png").flip()
    assert chain.url == f"{BASE}/APIKEY/flip/https://example.com/a.png"
    av = AudioVisual(
        f"{BASE}/video_convert=preset:h264/{HANDLE}", "UUID1", "1", transformation=None
    )
    assert av.status() == "started"
    assert not portal_threads()


def test_no_finalizer_methods() -> None:
    for cls in (Client, Filelink, Transformation, AudioVisual):
        assert not hasattr(cls, "__del__")


def test_unclosed_client_warns_when_collected(fake: FakeFilestack) -> None:
    import gc

    client = Client("APIKEY", base_url=BASE, transport=fake.transport())
    lease = client._runner
    with pytest.warns(ResourceWarning, match="unclosed"):
        del client
        gc.collect()
    lease.release()  # what close() would have done; a collected client cannot do it


def test_the_sync_module_exports_the_twins() -> None:
    import filestack_async.sync as sync

    assert sync.Client.__module__ != filestack_async.Client.__module__
    assert set(sync.__all__) >= {"Client", "Filelink", "Transformation", "AudioVisual"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Filelink(HANDLE).resize(width=3).url.endswith(f"resize=width:3/{HANDLE}")
