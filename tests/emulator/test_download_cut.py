"""The CDN's If-Range, and the download-cut fault: seeded cuts mid-body, over a socket
and in-process, set in code or through the control plane."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx
import pytest

from filestack_async.emulator import DownloadCut, Emulator, FaultConfigError, Faults
from filestack_async.emulator.app import IN_PROCESS_URL
from filestack_async.emulator.faults import FaultInjector

from .conftest import Origin

KiB = 1024


async def stored(origin: Origin, data: bytes) -> str:
    return str((await origin.upload_regular(data))["handle"])


async def test_if_range_with_the_current_etag_gives_the_range(origin: Origin) -> None:
    data = os.urandom(50 * KiB)
    url = f"{origin.base}/{await stored(origin, data)}"
    etag = (await origin.http.get(url)).headers["etag"]
    ranged = await origin.http.get(url, headers={"Range": "bytes=100-", "If-Range": etag})
    assert ranged.status_code == 206 and ranged.content == data[100:]
    assert ranged.headers["content-range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    assert ranged.headers["etag"] == etag and ranged.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("validator", ['"another"', 'W/"weak"', "Wed, 21 Oct 2015 07:28:00 GMT"])
async def test_if_range_that_does_not_match_gives_the_whole_file(
    origin: Origin, validator: str
) -> None:
    data = os.urandom(10 * KiB)
    url = f"{origin.base}/{await stored(origin, data)}"
    whole = await origin.http.get(url, headers={"Range": "bytes=100-", "If-Range": validator})
    assert whole.status_code == 200 and whole.content == data
    assert "content-range" not in whole.headers


async def test_a_range_past_the_end_is_416_with_the_size(origin: Origin) -> None:
    url = f"{origin.base}/{await stored(origin, b'0123456789')}"
    beyond = await origin.http.get(url, headers={"Range": "bytes=10-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == "bytes */10"


async def test_cut_downloads_stop_mid_body(origin: Origin) -> None:
    data = os.urandom(300 * KiB)
    url = f"{origin.base}/{await stored(origin, data)}"
    origin.emulator.set_faults(Faults(download_cut=DownloadCut(rate=1.0, offset=100 * KiB)))
    received = bytearray()
    with pytest.raises(httpx.TransportError):
        async with origin.http.stream("GET", url) as response:
            assert response.headers["content-length"] == str(len(data))
            async for piece in response.aiter_raw():
                received += piece
    assert bytes(received) == data[: 100 * KiB]
    # a range is cut the same way, counted from its own first byte
    part = bytearray()
    with pytest.raises(httpx.TransportError):
        async with origin.http.stream("GET", url, headers={"Range": "bytes=1000-"}) as response:
            assert response.status_code == 206
            async for piece in response.aiter_raw():
                part += piece
    assert bytes(part) == data[1000 : 1000 + 100 * KiB]
    # a body not longer than the offset is whole
    short = await origin.http.get(url, headers={"Range": "bytes=0-99"})
    assert short.content == data[:100]
    assert origin.emulator.faults.injected["cdn:cut"] == 2


def test_cuts_are_seeded_and_fall_between_the_offsets() -> None:
    faults = Faults(seed=11, download_cut=DownloadCut(rate=0.5, offset=10, max_offset=1000))

    def draws(injector: FaultInjector) -> list[int | None]:
        return [injector.download_cut_at(f"5000:bytes={n}-", 5000) for n in range(40)]

    first = draws(FaultInjector(faults))
    assert first == draws(FaultInjector(faults))  # the same seed: the same cuts
    assert first != draws(FaultInjector(Faults(seed=12, download_cut=faults.download_cut)))
    cuts = [at for at in first if at is not None]
    assert 8 <= len(cuts) <= 32 and all(10 <= at <= 1000 for at in cuts)
    injector = FaultInjector(Faults(download_cut=DownloadCut(rate=1.0, offset=500)))
    assert injector.download_cut_at("k", 500) is None  # not longer than the offset: whole
    assert injector.download_cut_at("k", 501) == 500
    assert injector.injected["cdn:cut"] == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"rate": 1.5}, "rate must be between 0 and 1"),
        ({"rate": 0.5, "offset": -1}, "offset must be a non-negative int"),
        ({"rate": 0.5, "offset": 10, "max_offset": 5}, "max_offset must be an int >= offset"),
        ({"rate": 0.5, "offset": True}, "offset must be a non-negative int"),
    ],
)
def test_bad_cut_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        DownloadCut(**settings)  # type: ignore[arg-type]


async def test_the_control_plane_sets_and_shows_the_cut(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator()
    from filestack_async.emulator import EmulatorTransport

    async with httpx.AsyncClient(transport=EmulatorTransport(emulator.app)) as http:
        url = f"{IN_PROCESS_URL}/_emulator/faults"
        cut = {"rate": 0.25, "offset": 100, "max_offset": 200}
        answer = await http.post(url, json={"seed": 3, "download_cut": cut})
        assert answer.status_code == 200, answer.text
        assert answer.json()["faults"]["download_cut"] == cut
        assert emulator.faults.faults.download_cut == DownloadCut(0.25, 100, 200)
        bad = await http.post(url, json={"download_cut": {"rate": 2}})
        assert bad.status_code == 400 and "rate must be between 0 and 1" in bad.text
        unknown = await http.post(url, json={"download_cut": {"speed": 2}})
        assert unknown.status_code == 400
        cleared = await http.delete(url)
        assert cleared.json()["faults"]["download_cut"] is None
