"""Attacks on the SDK itself (issue 14): what a signed URL hands over, hostile file systems, webhooks.

* **Signed URL scope.** A client holds the app secret with a policy that allows
  everything. Whoever is given the URL of one file (``signed_url()``) lifts its policy
  and signature and tries every other way in, over a real loopback socket: other
  handles, the query-parameter form, metadata, delete, overwrite, transformations,
  store, uploads. Only reading that one file works. A property test then draws random
  app policies and random widenings: the URL's policy never allows more than what was
  asked, nor more than the app policy, as the emulator's own checker judges it.
* **Local files.** Random file names up to the folder's NAME_MAX bytes (any script)
  download; longer ones are refused before any request. A disk that fills up after a
  random number of bytes, a folder that refuses files (a read-only mode, or sysfs,
  which refuses even root) and the command line's ``download`` each end in a
  `LocalFileError` with nothing left behind and the old file untouched.
* **Webhooks.** Random text (lone surrogates included) as secret, body and timestamp
  only ever gives ``True``/``False`` or `ConfigurationError`; timestamps in the future
  beyond the skew, ``NaN`` and ``Infinity`` are refused under ``max_age``.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx
from hypothesis import assume, given
from hypothesis import strategies as st

from filestack_async import (
    Client,
    ConfigurationError,
    LocalFileError,
    PermissionDeniedError,
    Security,
    verify_webhook_signature,
)
from filestack_async._files import name_max
from filestack_async._security import POLICY_CALLS
from filestack_async.cli import main
from filestack_async.emulator import EmulatorServer
from filestack_async.emulator.security import Credentials, Denied, check
from tests.fakes import fill_disk_after
from tests.images import quadrants

from .conftest import Campaign, fuzz_settings

SECRET = "attacks-app-secret"
APIKEY = "ATTACKS-APIKEY"
HANDLE = "AbCdEfGhIjKlMnOpQrSt"
OTHER = "ZyXwVuTsRqPoNmLkJiHg"
CDN = "https://cdn.filestackcontent.com"


def _lift(url: str) -> tuple[str, str]:
    """The policy and signature a signed URL carries, as its holder can read them."""
    match = re.search(r"/security=p:([^,/]+),s:([0-9a-f]{64})/", url)
    assert match is not None, url
    return match[1], match[2]


# -- signed URL scope ----------------------------------------------------------------------


async def test_the_holder_of_a_signed_url_reads_that_file_and_nothing_else(tmp_path: Path) -> None:
    app = Security.create(SECRET, expires_in=86400)  # the app's whole power
    async with EmulatorServer(data_dir=tmp_path / "emu", secret=SECRET, strict=True) as server:
        async with Client(APIKEY, base_url=server.url, security=app) as client:
            mine = await client.upload(content=quadrants())
            theirs = await client.upload(content=quadrants(fmt="JPEG"))
            cdn, api = client.endpoints.cdn, client.endpoints.api
            signed = {"file": mine.signed_url(), "chain": mine.flip().signed_url()}
            async with httpx.AsyncClient(trust_env=False) as http:
                for kind, url in signed.items():
                    policy, signature = _lift(url)
                    seg = f"security=p:{policy},s:{signature}"
                    query = {"policy": policy, "signature": signature}
                    own = await http.get(url)
                    assert own.status_code == 200 and own.content, kind
                    attacks = {
                        "another handle": http.get(url.replace(mine.handle, theirs.handle)),
                        "another handle, query form": http.get(
                            f"{cdn}/{theirs.handle}", params=query
                        ),
                        "File API read of another": http.get(
                            f"{api}/file/{theirs.handle}", params=query
                        ),
                        "metadata": http.get(f"{cdn}/{mine.handle}/metadata", params=query),
                        "delete own": http.delete(
                            f"{api}/file/{mine.handle}", params={"key": APIKEY, **query}
                        ),
                        "delete another": http.delete(
                            f"{api}/file/{theirs.handle}", params={"key": APIKEY, **query}
                        ),
                        "overwrite own": http.post(
                            f"{api}/file/{mine.handle}",
                            params=query,
                            files={"fileUpload": ("x", b"taken over")},
                        ),
                        "store a copy": http.post(f"{cdn}/{APIKEY}/store/{seg}/{mine.handle}"),
                        "transform another": http.get(f"{cdn}/flip/{seg}/{theirs.handle}"),
                    }
                    if kind == "file":  # a file's URL reads; it does not transform
                        attacks["transform own"] = http.get(f"{cdn}/flip/{seg}/{mine.handle}")
                    for name, request in attacks.items():
                        response = await request
                        assert response.status_code == 403, (kind, name, response.text)
                    lifted = Security.from_signature(policy, signature)
                    async with Client(APIKEY, base_url=server.url, security=lifted) as holder:
                        with pytest.raises(PermissionDeniedError):
                            await holder.upload(content=b"uploaded with a read URL")
            assert await theirs.get_content() == quadrants(fmt="JPEG")
            assert await mine.get_content() == quadrants()


#: the calls a narrowed policy may ask for (exif must be explicit in the app policy too)
CALLS = sorted(POLICY_CALLS)


@st.composite
def app_policies(draw: st.DrawFn) -> Security:
    """A policy an app might hold: some calls (or all), maybe bound to a handle, some fields."""
    policy: dict[str, Any] = {"expiry": draw(st.integers(1_700_000_100, 1_800_000_000))}
    if draw(st.booleans()):
        policy["call"] = draw(st.lists(st.sampled_from(CALLS), unique=True, max_size=6))
    if draw(st.booleans()):
        policy["handle"] = draw(st.sampled_from([HANDLE, OTHER]))
    if draw(st.booleans()):
        policy["maxSize"] = draw(st.integers(0, 10**9))
    if draw(st.booleans()):
        policy["path"] = draw(st.sampled_from(["uploads/.*", "a"]))
    return Security(policy, SECRET)


def test_a_narrowed_policy_never_allows_more_than_asked_or_than_its_parent(
    campaign: Campaign,
) -> None:
    now = 1_700_000_000

    @fuzz_settings(campaign, 2)
    @given(
        app=app_policies(),
        asked=st.lists(st.sampled_from(CALLS), unique=True, min_size=1, max_size=5),
        expires_in=st.one_of(st.integers(1, 10**8), st.floats(0.001, 1e8)),
    )
    def check_one(app: Security, asked: list[str], expires_in: float) -> None:
        try:
            narrow = app.narrowed(asked, handle=HANDLE, expires_in=expires_in, now=now)
        except ConfigurationError as err:
            parent = app.policy
            granted = parent.get("call", [c for c in CALLS if c != "exif"])
            assert (any(c not in granted for c in asked) and "does not allow" in str(err)) or (
                parent.get("handle") == OTHER and "another handle" in str(err)
            )
            return
        policy = narrow.policy
        assert policy["expiry"] <= app.policy["expiry"]
        assert policy["expiry"] <= now + expires_in + 1
        for key in ("maxSize", "path"):
            assert policy.get(key) == app.policy.get(key)
        credentials = Credentials(narrow.policy_b64, narrow.signature)
        for call in CALLS:
            for handle in (HANDLE, OTHER):
                try:
                    check(SECRET, credentials, call=call, handle=handle, now=now)
                    allowed = True
                except Denied:
                    allowed = False
                assert allowed == (call in asked and handle == HANDLE), (call, handle)
                if allowed:  # and the app policy allowed it as well
                    check(SECRET, Credentials(app.policy_b64, app.signature), call=call, now=now)

    check_one()


# -- local files ---------------------------------------------------------------------------

BODY = os.urandom(6000)
#: characters a file name may hold on any POSIX file system (no '/', NUL or surrogate)
NAME_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="/\x00")


async def _download_with_respx(target: Path) -> int:
    with respx.mock:
        respx.get(f"{CDN}/{HANDLE}").respond(200, content=BODY)
        async with Client(APIKEY) as client:
            return await client.filelink(HANDLE).download(target)


@st.composite
def file_names(draw: st.DrawFn) -> str:
    """Names of random characters, most of them near the usual NAME_MAX (255 bytes)."""
    pattern = draw(st.text(NAME_CHARS, min_size=1, max_size=8))
    size = draw(st.one_of(st.integers(1, 300), st.integers(236, 262)))
    name = pattern * (size // len(os.fsencode(pattern)) + 1)
    while len(os.fsencode(name)) > size:
        name = name[:-1]
    return name or pattern


def test_any_legal_file_name_downloads_and_longer_ones_are_refused(campaign: Campaign) -> None:
    @fuzz_settings(campaign, 0.5)
    @given(name=file_names())
    def check_one(name: str) -> None:
        assume(name not in (".", ".."))
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / name
            if len(os.fsencode(name)) > name_max(Path(folder)):
                with pytest.raises(ConfigurationError, match="file name is"):
                    anyio.run(_download_with_respx, target)
                assert os.listdir(folder) == []
                return
            assert anyio.run(_download_with_respx, target) == len(BODY)
            assert target.read_bytes() == BODY and os.listdir(folder) == [name]

    check_one()


def test_a_disk_that_fills_up_anywhere_leaves_nothing_behind(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    @fuzz_settings(campaign, 0.5)
    @given(capacity=st.integers(0, len(BODY) - 1))
    def check_one(capacity: int) -> None:
        with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "photo.jpg"
            target.write_bytes(b"the old photo")
            fill_disk_after(patch, capacity)
            with pytest.raises(LocalFileError) as caught:
                anyio.run(_download_with_respx, target)
            assert caught.value.errno == errno.ENOSPC and caught.value.path == str(target)
            assert os.listdir(folder) == ["photo.jpg"]
            assert target.read_bytes() == b"the old photo"

    check_one()


def _refusing_folders(tmp: Path) -> list[Path]:
    """Folders where creating a file fails for whoever runs the tests."""
    found = []
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        (locked / "probe").open("xb").close()
    except OSError:
        found.append(locked)  # not root: the mode is enough
    sysfs = Path("/sys/kernel")
    if sys.platform.startswith("linux") and sysfs.is_dir():
        try:
            (sysfs / ".filestack-probe").open("xb").close()
        except OSError:
            found.append(sysfs)  # refuses files even to root
    return found


async def test_a_folder_that_refuses_files_is_a_local_file_error(tmp_path: Path) -> None:
    folders = _refusing_folders(tmp_path)
    if not folders:
        pytest.skip("no folder here refuses files to this user")
    try:
        for folder in folders:
            target = folder / "download.bin"
            with pytest.raises(LocalFileError, match=re.escape(str(target))) as caught:
                await _download_with_respx(target)
            assert caught.value.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
            assert not target.exists()
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_the_command_line_download_takes_long_names_and_survives_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(BODY)
    with EmulatorServer(data_dir=tmp_path / "emu") as server:
        where = ["--base-url", server.url, "--apikey", APIKEY]
        assert main(["upload", str(source), "--json", *where]) == 0
        handle = json.loads(capsys.readouterr().out)[0]["handle"]
        folder = tmp_path / "out"
        folder.mkdir()
        long_name = "é" * 125  # 250 bytes
        assert main(["download", handle, str(folder / long_name), *where]) == 0, (
            capsys.readouterr().err
        )
        assert (folder / long_name).read_bytes() == BODY
        assert os.listdir(folder) == [long_name]
        capsys.readouterr()
        fill_disk_after(monkeypatch, 1000)
        assert main(["download", handle, str(folder / long_name), *where]) == 8
        err = capsys.readouterr().err
        assert "LocalFileError" in err and os.strerror(errno.ENOSPC) in err
        assert os.listdir(folder) == [long_name] and (folder / long_name).read_bytes() == BODY


# -- webhooks ------------------------------------------------------------------------------

#: any text, half of it holding a lone surrogate (which hypothesis leaves out by default)
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        "{}{}{}".format,
        st.text(max_size=20),
        st.characters(categories=["Cs"]),
        st.text(max_size=20),
    ),
)


def _sign(secret: str, body: str, timestamp: str) -> str:
    message = f"{timestamp}.{body}".encode("utf-8", "surrogatepass")
    key = secret.encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def test_webhook_text_of_any_kind_gives_a_bool_or_a_configuration_error(
    campaign: Campaign,
) -> None:
    @fuzz_settings(campaign)
    @given(secret=ANY_TEXT, body=ANY_TEXT, timestamp=ANY_TEXT, signature=ANY_TEXT)
    def check_one(secret: str, body: str, timestamp: str, signature: str) -> None:
        for given_signature in (signature, _sign(secret, body, timestamp)):
            headers = {"FS-Signature": given_signature, "FS-Timestamp": timestamp}
            try:
                result = verify_webhook_signature(secret, body, headers, max_age=300, now=1e9)
            except ConfigurationError as err:
                assert "valid Unicode" in str(err) or "non-empty" in str(err)
                continue
            assert isinstance(result, bool)

    check_one()


def test_webhook_timestamps_outside_the_window_are_refused(campaign: Campaign) -> None:
    now = 1_700_000_000

    @fuzz_settings(campaign)
    @given(
        offset=st.one_of(
            st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**12), 10**12)
        ),
        form=st.sampled_from(["{}", "{!r}", "{:e}"]),
        skew=st.integers(0, 600),
    )
    def check_one(offset: float, form: str, skew: int) -> None:
        sent = now + offset  # offset > 0: in the future
        timestamp = form.format(sent)
        headers = {"FS-Signature": _sign("whsec", "{}", timestamp), "FS-Timestamp": timestamp}
        accepted = verify_webhook_signature(
            "whsec", "{}", headers, max_age=3600, max_skew=skew, now=now
        )
        parsed = float(timestamp)
        inside = parsed == parsed and -3600 <= parsed - now <= skew
        assert accepted == inside, (timestamp, skew)

    check_one()


def test_a_surrogate_in_a_downloaded_name_cannot_be_written_but_is_typed(tmp_path: Path) -> None:
    """A name the file system cannot encode is refused as a typed error, not UnicodeError."""
    with pytest.raises((ConfigurationError, LocalFileError)):
        anyio.run(_download_with_respx, tmp_path / "bad\ud800name")
    assert os.listdir(tmp_path) == []
