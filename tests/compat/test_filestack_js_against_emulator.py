"""The unmodified filestack-js 4.3.8 (from npm) in Node against the emulator in strict mode.

``tests/compat/js/`` holds the Node script and its pinned lockfile. The packages are
installed with ``npm ci`` into a cache folder outside the repository
(``FILESTACK_JS_CACHE``, default ``~/.cache/filestack-async/compat-js/<lockfile hash>``),
once per lockfile. The script routes filestack-js's https:// requests to the emulator's
loopback socket (as the filestack-python test does with a transport adapter) and
reports each case as a JSON line, with the protocol deviations the emulator logged.

Skipped, with the reason, when ``node`` or ``npm`` is missing or the install fails;
``FILESTACK_COMPAT_JS=require`` (CI) turns those skips into failures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from filestack_async.emulator import EmulatorServer
from tests.images import quadrants

HERE = Path(__file__).parent / "js"
SECRET = "COMPAT-JS-SECRET"
APIKEY = "JSCOMPATKEY"
PNG = quadrants(64, 48)
MiB = 1024 * 1024
TRANSFORMS = (
    "flip flop auto_image no_metadata compress enhance redeye monochrome negative tags sfw "
    "imagesize smart_crop metadata resize crop rotate detect_faces crop_faces pixelate_faces "
    "blur_faces rounded_corners vignette polaroid torn_edges shadow circle border sharpen blur "
    "blackwhite sepia pixelate oil_paint modulate ascii collage urlscreenshot upscale output "
    "pjpg quality cache video_convert watermark partial_blur partial_pixelate pdfinfo "
    "pdfconvert fallback zip minify_css minify_js"
).split()
CASES = [
    "upload-0B",
    *(
        f"upload-{mode}-{size}"
        for size in ("1B", "small", "one-part", "multi-part")
        for mode in ("regular", "intelligent")
    ),
    "upload-intelligent-chunked",
    "upload-intelligent-retries-failed-chunks",
    "upload-fallback-stays-regular",
    "upload-fallback-switches",
    "upload-no-integrity-regular",
    "upload-no-integrity-intelligent",
    "upload-store-options",
    "upload-tags",
    "security-refuses-upload",
    "security-wrong-signature",
    "security-read-scope",
    "file-metadata-all",
    "file-retrieve-and-download",
    "file-remove",
    "file-remove-metadata",
    "file-preview-url",
    "store-url",
    "store-url-with-headers",
    *(f"transform-{task}" for task in TRANSFORMS),
    "transform-chain",
    "transform-cache-false",
    "transform-url-source",
    "transform-imagesize-is-not-an-apikey",
]
#: cases whose refusals are the protocol's answer (logged, not a deviation of the client)
REFUSED = {"security-refuses-upload", "security-wrong-signature", "security-read-scope"}


def _unavailable(reason: str) -> None:
    if os.environ.get("FILESTACK_COMPAT_JS") == "require":
        pytest.fail(f"filestack-js compatibility run required but unavailable: {reason}")
    pytest.skip(reason)


def _cache_dir() -> Path:
    lock = (HERE / "package-lock.json").read_bytes()
    default = Path.home() / ".cache" / "filestack-async" / "compat-js"
    root = Path(os.environ.get("FILESTACK_JS_CACHE", default))
    return root / hashlib.sha256(lock).hexdigest()[:16]


def _install() -> Path:
    """The folder holding node_modules for the pinned lockfile (installed once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed for the filestack-js compatibility run")
    folder = _cache_dir()
    if (folder / "node_modules" / "filestack-js" / "package.json").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE / name, folder / name)
    done = subprocess.run(
        [str(npm), "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(folder / "node_modules", ignore_errors=True)
        _unavailable(f"npm ci failed: {done.stderr.strip()[-300:]}")
    return folder


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, object]]]:
    folder = _install()
    data = tmp_path_factory.mktemp("js-compat") / "data"
    with EmulatorServer(data_dir=data, strict=True, secret=SECRET) as server:
        env = {
            **os.environ,
            "NODE_PATH": str(folder / "node_modules"),
            "EMULATOR_URL": f"http://127.0.0.1:{server.port}",
            "EMULATOR_SECRET": SECRET,
            "FILESTACK_APIKEY": APIKEY,
            "TEST_PNG_BASE64": base64.b64encode(PNG).decode(),
            "TEST_PNG_SIZE": str(len(PNG)),
        }
        done = subprocess.run(
            [shutil.which("node") or "node", str(HERE / "compat.js"), *CASES],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    yield {str(r["case"]): r for r in records}


def test_the_script_knows_every_case() -> None:
    script = (HERE / "compat.js").read_text()
    for task in TRANSFORMS:
        assert f"  {task}: " in script, task


@pytest.mark.parametrize("case", CASES)
def test_filestack_js(results: dict[str, dict[str, object]], case: str) -> None:
    record = results.get(case)
    assert record is not None, f"the script did not report {case}"
    assert record["ok"], record["detail"]
    if case not in REFUSED:
        assert record["violations"] == [], record["violations"]
