"""The documentation site as a reader gets it: built with ``mkdocs build --strict``,
crawled for broken links and stray files, and every page rendered in a real headless
browser (Debian's chromium) that must show no error and cut off no code sample.

The browser part skips, with the reason, when chromium is not installed
(``nox -s tests`` installs Debian's package when it can; nothing downloads a browser).
"""

from __future__ import annotations

import functools
import html
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_NAMES = ("chromium", "chromium-browser")
#: what a built site may hold besides pages (folders with an index.html)
SITE_FILES = {"404.html", "index.html", "objects.inv", "sitemap.xml", "sitemap.xml.gz"}
SITE_FOLDERS = {"assets", "search", "stylesheets"}
#: text that means a page shows an error instead of its content
ERROR_TEXT = re.compile(
    r"Traceback \(most recent call last\)|^\s*:::|mkdocstrings|Could not collect|"
    r"\bNameError\b|\bSyntaxError\b",
    re.M,
)


# -- the site ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as ``nox -s docs`` builds it (``--strict``: a warning fails)."""
    folder = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def pages(site: Path) -> list[Path]:
    """Every HTML page of the site."""
    return sorted(p for p in site.rglob("*.html") if "assets" not in p.parts)


class _Links(HTMLParser):
    """Collects a page's link targets and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for name in ("href", "src"):
            value = values.get(name)
            if value and not (tag == "link" and values.get("rel") in ("canonical", "alternate")):
                self.targets.append(value)


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _resolve(site: Path, page: Path, target: str) -> tuple[Path, str] | None:
    """The file a relative link points to, and its fragment; None for external links."""
    url, fragment = urldefrag(target)
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or target.startswith(("mailto:", "javascript:")):
        return None
    if not url:
        return page, fragment
    path = (site / unquote(parts.path).lstrip("/")) if url.startswith("/") else None
    path = path or (page.parent / unquote(parts.path))
    path = path.resolve()
    if path.is_dir() or url.endswith("/"):
        path = path / "index.html"
    return path, fragment


def broken_links(site: Path) -> list[str]:
    """``page: target`` for every relative link to a missing file or anchor."""
    ids: dict[Path, set[str]] = {}
    broken: list[str] = []
    for page in pages(site):
        for target in _parse(page).targets:
            resolved = _resolve(site, page, target)
            if resolved is None:
                continue
            path, fragment = resolved
            where = f"{page.relative_to(site)}: {target}"
            if not path.is_file() or site.resolve() not in path.parents:
                broken.append(where)
            elif fragment and path.suffix == ".html":
                if path not in ids:
                    ids[path] = _parse(path).ids
                if unquote(fragment) not in ids[path]:
                    broken.append(where)
    return broken


def test_the_site_links_only_to_what_it_has(site: Path) -> None:
    assert broken_links(site) == []


def test_the_crawler_finds_a_broken_link_and_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="a/">ok</a><a href="a/#there">ok</a><a href="missing/">no</a>'
        '<a href="a/#nowhere">no</a><a href="https://example.com/x">external</a>'
    )
    (tmp_path / "a" / "index.html").write_text('<h2 id="there">there</h2>')
    assert broken_links(tmp_path) == ["index.html: missing/", "index.html: a/#nowhere"]


def test_the_site_holds_no_stray_files(site: Path) -> None:
    stray = sorted(
        entry.name
        for entry in site.iterdir()
        if entry.name not in SITE_FILES | SITE_FOLDERS
        and not (entry.is_dir() and (entry / "index.html").is_file())
    )
    assert stray == []  # such as the docs' generator scripts or the benchmark JSON
    assert not [p for p in site.rglob("*.py")]


def test_the_reference_lists_each_class_once_in_its_table_of_contents(site: Path) -> None:
    page = (site / "reference" / "index.html").read_text(encoding="utf-8")
    # material writes the table of contents twice (the sidebar's, and the mobile menu's)
    tocs = page.split('class="md-nav md-nav--secondary"')[1:]
    assert tocs
    for toc in tocs:
        top = re.findall(r'<a href="#filestack_async\.(\w+)" class="md-nav__link">', toc)
        for name in ("Client", "Filelink", "Transformation", "AudioVisual", "Security"):
            assert top.count(name) == 1, (name, top)


#: a code fence Markdown did not understand, shown as text (an info string superfences
#: refuses, such as ```python no-run: the marker must be ```python {.no-run})
UNRENDERED_FENCE = re.compile(r"<p>```|<p><code>(python|bash|json|text)[^<]*\n")


def test_no_page_shows_an_error_in_its_html(site: Path) -> None:
    shown = {
        str(page.relative_to(site)): match.group(0)
        for page in pages(site)
        if (match := ERROR_TEXT.search(_article_text(page.read_text(encoding="utf-8"))))
    }
    assert shown == {}


def test_every_code_fence_renders_as_code(site: Path) -> None:
    unrendered = {
        str(page.relative_to(site)): match.group(0)
        for page in pages(site)
        if (match := UNRENDERED_FENCE.search(page.read_text(encoding="utf-8")))
    }
    assert unrendered == {}


def _article_text(html: str) -> str:
    """The text of the page's article (what the reader reads), tags removed."""
    start = html.find("<article")
    end = html.find("</article>", start)
    body = html[start:end] if start >= 0 else html
    return re.sub(r"<[^>]+>", "", body)


# -- in a real browser ---------------------------------------------------------------------

#: injected first into every page served to the browser: records script errors and, once
#: loaded, code blocks wider than their box (a sample cut off behind a scroll bar)
PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
window.addEventListener("load", function () {
  var cut = [];
  document.querySelectorAll(".md-content pre > code").forEach(function (c) {
    if (c.scrollWidth > c.clientWidth + 1) { cut.push(c.textContent.slice(0, 60)); }
  });
  var article = document.querySelector("article");
  window.__probe = {
    errors: window.__errors, cut: cut, title: document.title,
    text: article ? article.innerText : null
  };
});
</script>"""

#: the page the browser opens: it loads each page of the site in a 1280 px wide frame, in
#: turn, and writes what the probes saw into its own DOM as JSON
HARNESS = """<html><head><meta charset="utf-8"></head><body><pre id="results"></pre>
<script>
var pages = PAGES, results = {}, index = 0;
function next() {
  if (index >= pages.length) {
    document.getElementById("results").textContent = JSON.stringify(results);
    return;
  }
  var page = pages[index++], frame = document.createElement("iframe");
  frame.style.width = "1280px"; frame.style.height = "900px";
  frame.onload = function () {
    setTimeout(function () {
      var probe = frame.contentWindow.__probe;
      results[page] = probe || {missing: true};
      frame.remove();
      next();
    }, 200);
  };
  frame.src = page;
  document.body.appendChild(frame);
}
next();
</script></body></html>"""


def chromium() -> str | None:
    """Debian's chromium, if installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class _ProbingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, with `PROBE` at the start of every page's ``<head>`` and the
    harness at ``/__harness__`` (``pages`` lists what it loads)."""

    pages: tuple[str, ...] = ()

    def send_head(self):  # type: ignore[no-untyped-def]
        if self.path == "/__harness__":
            body = HARNESS.replace("PAGES", json.dumps(list(self.pages))).encode()
        else:
            path = Path(self.translate_path(self.path))
            if path.is_dir():
                path = path / "index.html"
            if path.suffix != ".html" or not path.is_file():
                return super().send_head()
            body = path.read_bytes().replace(b"<head>", b"<head>" + PROBE.encode(), 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def serve(folder: Path, paths: list[str]) -> Iterator[str]:
    """``folder`` over loopback HTTP (the browser refuses frames on file://)."""
    handler_class = type("Handler", (_ProbingHandler,), {"pages": tuple(paths)})
    handler = functools.partial(handler_class, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def render_all(browser: str, folder: Path, paths: list[str], profile: Path) -> dict[str, Any]:
    """What the probe saw on each page of ``paths``, rendered by headless chromium."""
    with serve(folder, paths) as origin:
        result = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",  # as root in a container; the pages are ours, over loopback
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                f"--user-data-dir={profile}",
                "--window-size=1400,1000",
                "--virtual-time-budget=120000",
                "--dump-dom",
                f"{origin}/__harness__",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    match = re.search(r'<pre id="results">(.*?)</pre>', result.stdout, re.S)
    assert match and match.group(1), "the browser did not finish the pages: " + result.stdout[-500:]
    found: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return found


def problems_of(results: dict[str, Any]) -> dict[str, dict[str, object]]:
    """Per page: script errors, code cut off, no article, a 404, an error shown."""
    problems: dict[str, dict[str, object]] = {}
    for page, probe in results.items():
        found: dict[str, object] = {}
        if probe.get("missing"):
            found["never loaded"] = True
        else:
            if probe["errors"]:
                found["script errors"] = probe["errors"]
            if probe["cut"]:
                found["code cut off"] = probe["cut"]
            if probe["text"] is None:
                found["no article"] = True
            elif match := ERROR_TEXT.search(probe["text"]):
                found["error text"] = match.group(0)
            if page != "/404.html" and probe["title"].startswith("404"):
                found["not found"] = True
        if found:
            problems[page] = found
    return problems


def test_every_page_renders_in_chromium_without_an_error(site: Path, tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    paths = ["/" + p.relative_to(site).as_posix().removesuffix("index.html") for p in pages(site)]
    results = render_all(browser, site, paths, tmp_path / "profile")
    assert sorted(results) == sorted(paths)
    assert problems_of(results) == {}


def test_the_browser_check_sees_a_cut_off_sample_and_a_script_error(tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    (tmp_path / "bad").mkdir()
    long_line = "x = 1  # " + "a comment that goes on " * 20
    (tmp_path / "bad" / "index.html").write_text(
        "<html><head><title>bad</title></head><body><div class='md-content'><article>"
        f"<pre style='width:300px'><code style='white-space:pre;display:block;overflow:auto'>"
        f"{long_line}</code></pre>Traceback (most recent call last)</article></div>"
        "<script>undefinedFunction();</script></body></html>"
    )
    (tmp_path / "good.html").write_text("<html><head></head><body><article>ok</article></body>")
    results = render_all(browser, tmp_path, ["/bad/", "/good.html", "/gone/"], tmp_path / "p")
    problems = problems_of(results)
    assert set(problems) == {"/bad/", "/gone/"}
    bad = problems["/bad/"]
    assert "undefinedFunction" in str(bad["script errors"])
    assert "a comment that goes on" in str(bad["code cut off"])
    assert bad["error text"] == "Traceback (most recent call last)"
