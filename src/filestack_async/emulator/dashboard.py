"""The dashboard: one server-rendered page under ``/_emulator/dashboard``.

It shows, refreshed every second by a little inline JavaScript (no build step, no
assets from anywhere else, so it works offline): the stored files (thumbnails of
images, size, mimetype, path, upload tags), uploads in progress, the request journal
(violations highlighted), webhook deliveries and their attempts, and the fault
settings, which it can replace.

Who may see it: without an app secret, only clients on loopback (an emulator bound
beyond loopback without a secret serves it to nobody else); with a secret, a
request carrying it (as the rest of the control plane) or the browser cookie the
page's sign-in form sets (an HMAC of the secret, never the secret itself).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import html
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .config import FaultConfigError, Faults
from .control import control_authorized
from .fetch import is_loopback_host
from .strict import ProtocolError
from .web import error, loads_strict, read_capped, require_handle

if TYPE_CHECKING:
    from .app import Emulator

PREFIX = "/_emulator/dashboard"
COOKIE = "filestack_emulator_dashboard"
#: the header the page's own requests that change something carry (a cross-site form
#: cannot send it, and a cross-site script needs a preflight the emulator never grants)
ACTION_HEADER = "X-Filestack-Dashboard"
#: journal entries the page shows (the newest)
JOURNAL_ROWS = 200
#: the largest image served as a thumbnail
MAX_THUMBNAIL = 20 * 1024 * 1024


def session_token(secret: str) -> str:
    """The cookie value that stands for the secret (an HMAC of it, not the secret)."""
    key = secret.encode("utf-8")
    return hmac.new(key, b"filestack-emulator-dashboard", hashlib.sha256).hexdigest()


class Dashboard:
    """The dashboard's routes for one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def routes(self) -> list[BaseRoute]:
        """The page, its sign-in, its data, thumbnails and the fault form."""
        return [
            Route(PREFIX, self.page, methods=["GET"]),
            Route(f"{PREFIX}/login", self.login, methods=["POST"]),
            Route(f"{PREFIX}/state", self.state, methods=["GET"]),
            Route(f"{PREFIX}/thumb/{{handle}}", self.thumbnail, methods=["GET"]),
            Route(f"{PREFIX}/faults", self.faults, methods=["POST"]),
        ]

    # -- who may see it ------------------------------------------------------------

    def allowed(self, request: Request) -> bool:
        """True when this request may see the dashboard (see the module docs)."""
        secret = self.emu.config.secret
        if secret is None:
            client = request.client
            return client is None or is_loopback_host(client.host)
        if control_authorized(secret, request.headers):
            return True
        given = request.cookies.get(COOKIE, "")
        expected = session_token(secret).encode()
        return hmac.compare_digest(given.encode("latin-1", "replace"), expected)

    def _refusal(self) -> Response:
        if self.emu.config.secret is None:
            return error(
                403,
                "the dashboard is served only to loopback clients when the emulator has no secret",
                code="Forbidden",
            )
        return error(401, "the dashboard needs the emulator's secret", code="Unauthorized")

    # -- routes --------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        """``GET``: the page, or the sign-in form when a secret is set and not given."""
        if not self.allowed(request):
            if self.emu.config.secret is None:
                return self._refusal()
            return HTMLResponse(_login_page(), status_code=401, headers=_security_headers(None))
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(_PAGE.replace("{nonce}", nonce), headers=_security_headers(nonce))

    async def login(self, request: Request) -> Response:
        """``POST`` the form's ``secret``: the session cookie, and back to the page."""
        secret = self.emu.config.secret
        if secret is None:
            return RedirectResponse(PREFIX, status_code=303)
        try:
            raw = await read_capped(request, limit=8192, what="sign-in form")
        except ProtocolError as err:
            return error(err.status, err.message)
        given = parse_qs(raw.decode("latin-1")).get("secret", [""])[0]
        if not hmac.compare_digest(given.encode("latin-1", "replace"), secret.encode("utf-8")):
            return HTMLResponse(
                _login_page("that is not the emulator's secret"),
                status_code=401,
                headers=_security_headers(None),
            )
        response = RedirectResponse(PREFIX, status_code=303)
        response.set_cookie(
            COOKIE, session_token(secret), httponly=True, samesite="strict", path="/_emulator"
        )
        return response

    async def state(self, request: Request) -> Response:
        """``GET``: everything the page shows, as JSON."""
        if not self.allowed(request):
            return self._refusal()
        emu = self.emu
        files = await emu.run(emu.storage.list_files)
        uploads = await emu.run(emu.storage.uploads_in_progress)
        for upload in uploads:  # an upload id lets anyone add parts: show its start only
            upload["upload_id"] = upload["upload_id"][:8] + "…"
        return JSONResponse(
            {
                "files": [
                    {
                        k: v
                        for k, v in dataclasses.asdict(f).items()
                        if k not in ("segments", "source_url")
                    }
                    for f in files
                ],
                "uploads": uploads,
                "journal": [e.to_json() for e in emu.journal.entries()[-JOURNAL_ROWS:]],
                "webhooks": {
                    "targets": [t.to_json() for t in emu.webhooks.targets],
                    "deliveries": [d.to_json() for d in emu.webhooks.deliveries()],
                },
                "faults": emu.faults.faults.to_json(),
                "injected": dict(emu.faults.injected),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def thumbnail(self, request: Request) -> Response:
        """``GET``: a stored image's bytes, for the page's thumbnails."""
        if not self.allowed(request):
            return self._refusal()
        try:
            handle = require_handle(request.path_params["handle"])
        except ProtocolError as err:
            return error(err.status, err.message)
        file = await self.emu.run(self.emu.storage.get_file, handle)
        if file is None or not file.mimetype.startswith("image/") or file.size > MAX_THUMBNAIL:
            return error(404, "no image of that handle")
        try:
            content = await self.emu.run(self.emu.storage.read_bytes, handle)
        except FileNotFoundError:
            return error(404, "no image of that handle")
        # served as an image only, never sniffed into anything else (an SVG's scripts
        # do not run in an <img>)
        return Response(
            content,
            media_type=file.mimetype,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "no-store",
            },
        )

    async def faults(self, request: Request) -> Response:
        """``POST`` the fault settings (the shape of ``GET /_emulator/faults``)."""
        if not self.allowed(request):
            return self._refusal()
        if request.headers.get(ACTION_HEADER) != "1":
            return error(400, f"the dashboard's own requests carry {ACTION_HEADER}: 1")
        try:
            faults = Faults.from_json(loads_strict(await read_capped(request)))
        except ProtocolError as err:
            return error(err.status, err.message)
        except (ValueError, FaultConfigError) as err:
            return error(400, f"bad fault settings: {err}")
        self.emu.set_faults(faults)
        return JSONResponse({"faults": faults.to_json(), "injected": {}})


def _security_headers(nonce: str | None) -> dict[str, str]:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src {script}; style-src 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def _login_page(problem: str = "") -> str:
    note = f'<p class="problem">{html.escape(problem)}</p>' if problem else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Filestack emulator: sign in</title><link rel="icon" href="data:,">
<style>body{{font:15px system-ui,sans-serif;margin:3em}} .problem{{color:#b00}}</style></head>
<body><h1>Filestack emulator</h1><p>This emulator has a secret: give it to see the dashboard.</p>
{note}<form method="post" action="{PREFIX}/login">
<input type="password" name="secret" autocomplete="current-password" aria-label="secret">
<button type="submit">Sign in</button></form></body></html>"""


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Filestack emulator</title>
<link rel="icon" href="data:,">
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.violation td { background: #fde2e2; } tr.failed td { background: #fff1d6; }
tr.delivered td { background: #e6f6e6; }
img.thumb { max-width: 64px; max-height: 48px; display: block; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
textarea { width: 100%; height: 9em; font-family: ui-monospace, monospace; }
.muted { color: #777; } .bar { background: #eee; width: 120px; height: 8px; }
.bar > div { background: #2a7; height: 8px; }
#status { float: right; }
</style></head>
<body>
<h1>Filestack emulator <span id="status" class="muted">loading…</span></h1>
<h2>Stored files (<span id="file-count">0</span>)</h2>
<table id="files"><thead><tr><th></th><th>handle</th><th>filename</th><th>size</th>
<th>mimetype</th><th>path</th><th>tags</th></tr></thead><tbody></tbody></table>
<h2>Uploads in progress</h2>
<table id="uploads"><thead><tr><th>upload</th><th>filename</th><th>parts</th><th>bytes</th>
<th></th></tr></thead><tbody></tbody></table>
<h2>Request journal <span class="muted">(newest first; violations in red)</span></h2>
<table id="journal"><thead><tr><th>#</th><th>method</th><th>route</th><th>path</th>
<th>status</th><th>ms</th><th>in</th><th>out</th><th>trace id</th><th>violation</th></tr>
</thead><tbody></tbody></table>
<h2>Webhook deliveries</h2>
<p id="webhook-targets" class="muted"></p>
<table id="webhooks"><thead><tr><th>#</th><th>action</th><th>url</th><th>state</th>
<th>attempts</th></tr></thead><tbody></tbody></table>
<h2>Faults</h2>
<p class="muted">The settings of <code>POST /_emulator/faults</code>; injected so far:
<span id="injected" class="mono"></span></p>
<textarea id="faults-json" spellcheck="false"></textarea>
<p><button id="faults-apply">Apply</button> <button id="faults-clear">No faults</button>
<span id="faults-status" class="muted"></span></p>
<script nonce="{nonce}">
"use strict";
const base = "/_emulator/dashboard";
let editing = false;
function cell(row, text, cls) {
  const td = document.createElement("td");
  if (text instanceof Node) td.appendChild(text);
  else td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function fill(id, items, render) {
  const body = document.querySelector("#" + id + " tbody");
  const rows = items.map(render);
  body.replaceChildren(...rows);
}
function size(n) {
  if (n < 1024) return n + " B";
  if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
  return (n / 1048576).toFixed(1) + " MiB";
}
function render(state) {
  document.getElementById("file-count").textContent = state.files.length;
  fill("files", state.files.slice().reverse(), f => {
    const tr = document.createElement("tr");
    tr.dataset.handle = f.handle;
    let thumb = "";
    if (f.mimetype.startsWith("image/")) {
      thumb = document.createElement("img");
      thumb.className = "thumb"; thumb.alt = ""; thumb.loading = "lazy";
      thumb.src = base + "/thumb/" + encodeURIComponent(f.handle);
    }
    cell(tr, thumb); cell(tr, f.handle, "mono"); cell(tr, f.filename);
    cell(tr, size(f.size), "num"); cell(tr, f.mimetype); cell(tr, f.path || "");
    const tags = Object.entries(f.upload_tags || {}).map(([k, v]) => k + "=" + v);
    cell(tr, tags.join(", "));
    return tr;
  });
  fill("uploads", state.uploads, u => {
    const tr = document.createElement("tr");
    cell(tr, u.upload_id, "mono"); cell(tr, u.filename);
    cell(tr, u.parts_done + (u.parts_total ? " of " + u.parts_total : ""), "num");
    cell(tr, size(u.received) + " of " + size(u.size), "num");
    const bar = document.createElement("div"); bar.className = "bar";
    const done = document.createElement("div");
    done.style.width = (u.size ? Math.min(100, 100 * u.received / u.size) : 0) + "%";
    bar.appendChild(done); cell(tr, bar);
    return tr;
  });
  fill("journal", state.journal.slice().reverse(), e => {
    const tr = document.createElement("tr");
    tr.dataset.route = e.route; tr.dataset.status = e.status;
    if (e.violations.length) tr.className = "violation";
    else if (e.error || e.status >= 400 || e.status === 202) tr.className = "failed";
    cell(tr, e.id, "num"); cell(tr, e.method); cell(tr, e.route); cell(tr, e.path, "mono");
    cell(tr, e.error ? "reset" : e.status, "num"); cell(tr, e.duration_ms.toFixed(1), "num");
    cell(tr, e.request_bytes, "num"); cell(tr, e.response_bytes, "num");
    cell(tr, e.trace_id || "", "mono"); cell(tr, e.violations.join("; "));
    return tr;
  });
  const targets = state.webhooks.targets.map(
    t => t.url + (t.events ? " (" + t.events.join(", ") + ")" : ""));
  document.getElementById("webhook-targets").textContent =
    targets.length ? "Targets: " + targets.join(", ") : "No webhook targets configured.";
  fill("webhooks", state.webhooks.deliveries.slice().reverse(), d => {
    const tr = document.createElement("tr");
    tr.className = d.state === "delivered" ? "delivered" : d.state === "pending" ? "" : "failed";
    cell(tr, d.id, "num"); cell(tr, d.action); cell(tr, d.url, "mono");
    cell(tr, d.state + (d.reason && d.state !== "delivered" ? ": " + d.reason : ""));
    cell(tr, d.attempts.map(a => a.status == null ? a.error : a.status).join(" → "));
    return tr;
  });
  document.getElementById("injected").textContent = JSON.stringify(state.injected);
  if (!editing) {
    document.getElementById("faults-json").value = JSON.stringify(state.faults, null, 2);
  }
}
async function refresh() {
  try {
    const r = await fetch(base + "/state", {cache: "no-store", credentials: "same-origin"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    document.getElementById("status").textContent = "live";
  } catch (err) {
    document.getElementById("status").textContent = "disconnected (" + err.message + ")";
  }
}
async function setFaults(text) {
  const status = document.getElementById("faults-status");
  try {
    const r = await fetch(base + "/faults", {
      method: "POST", credentials: "same-origin", body: text,
      headers: {"Content-Type": "application/json", "X-Filestack-Dashboard": "1"}});
    const answer = await r.json();
    status.textContent = r.ok ? "applied" : answer.error;
    if (r.ok) editing = false;
  } catch (err) { status.textContent = err.message; }
  refresh();
}
const area = document.getElementById("faults-json");
area.addEventListener("input", () => { editing = true; });
document.getElementById("faults-apply").addEventListener("click", () => setFaults(area.value));
document.getElementById("faults-clear").addEventListener("click", () => {
  editing = false;
  setFaults("{}");
});
refresh();
setInterval(refresh, 1000);
</script>
</body></html>
"""
