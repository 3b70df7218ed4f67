"""A minimal W3C WebDriver client for Debian's chromium and chromedriver (over
loopback HTTP, no extra package; nothing is ever downloaded)."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: W3C's key for an element reference in answers
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def missing() -> str | None:
    """Why the browser cannot run here, or None."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (Debian's chromium / chromium-driver packages)"
    return None


class Browser:
    """Headless chromium driven through chromedriver on a loopback port."""

    def __init__(self, profile: Path, *, width: int = 1280, height: int = 1500) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.driver = subprocess.Popen(
            [CHROMEDRIVER, f"--port={port}", "--allowed-ips=127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        self.session = ""
        try:
            self._wait_ready()
            options = {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    f"--window-size={width},{height}",
                    f"--user-data-dir={profile}",
                ],
            }
            answer = self._call(
                "POST",
                "/session",
                {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}},
            )
            self.session = answer["sessionId"]
        except BaseException:
            self.close()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.http.get("/status").json()["value"]["ready"]:
                    return
            except (httpx.TransportError, ValueError, KeyError):
                pass
            if self.driver.poll() is not None:
                raise RuntimeError("chromedriver exited")
            time.sleep(0.05)
        raise RuntimeError("chromedriver did not become ready within 30 s")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        value = response.json()["value"]
        if response.status_code != 200:
            raise RuntimeError(f"webdriver {path}: {value}")
        return value

    def _session(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def get(self, url: str) -> None:
        """Open ``url``."""
        self._session("POST", "/url", {"url": url})

    def find(self, css: str) -> str | None:
        """The first element matching ``css`` (its reference), or None."""
        found = self._session("POST", "/elements", {"using": "css selector", "value": css})
        if not found:
            return None
        return str(found[0][ELEMENT])

    def wait_for(self, css: str, timeout: float = 30) -> str:
        """The first element matching ``css`` once there is one (the page refreshes itself)."""
        deadline = time.monotonic() + timeout
        while True:
            element = self.find(css)
            if element is not None:
                return element
            if time.monotonic() > deadline:
                raise AssertionError(f"no {css!r} on the page within {timeout:g} s")
            time.sleep(0.1)

    def text(self, element: str) -> str:
        """An element's rendered text."""
        return str(self._session("GET", f"/element/{element}/text"))

    def click(self, element: str) -> None:
        """Click an element."""
        self._session("POST", f"/element/{element}/click", {})

    def type_into(self, element: str, text: str) -> None:
        """Replace a field's text by typing ``text`` into it."""
        self._session("POST", f"/element/{element}/clear", {})
        self._session("POST", f"/element/{element}/value", {"text": text})

    def script(self, source: str) -> Any:
        """Run JavaScript in the page; its return value."""
        return self._session("POST", "/execute/sync", {"script": source, "args": []})

    def screenshot(self, target: Path) -> Path:
        """Save a PNG of the window to ``target``."""
        target.write_bytes(base64.b64decode(self._session("GET", "/screenshot")))
        return target

    def close(self) -> None:
        """End the session and stop chromedriver (the process this object started)."""
        try:
            if self.session:
                self._call("DELETE", f"/session/{self.session}")
        except (httpx.HTTPError, RuntimeError):
            pass
        finally:
            self.http.close()
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
