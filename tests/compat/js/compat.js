'use strict';
/*
 * The unmodified filestack-js (pinned in package-lock.json) against the emulator.
 *
 * Run by tests/compat/test_filestack_js_against_emulator.py:
 *   node compat.js <case> [<case>...]   (no case: every case)
 * with EMULATOR_URL (http://127.0.0.1:<port>), EMULATOR_SECRET and FILESTACK_APIKEY set.
 *
 * filestack-js's Node build sends every request with Node's own http/https modules
 * (build/main/lib/request/adapters/http.js picks `require('https')` for https:// URLs).
 * Like the filestack-python test's transport adapter, https.request is pointed at the
 * emulator's loopback socket over plain HTTP; nothing of filestack-js is changed.
 *
 * Prints one JSON line per case: {"case", "ok", "detail", "violations"}; the
 * violations are the emulator's protocol deviations logged while the case ran.
 */

const http = require('http');
const https = require('https');
const crypto = require('crypto');
const assert = require('assert/strict');

const EMU = new URL(process.env.EMULATOR_URL);
const SECRET = process.env.EMULATOR_SECRET;
const APIKEY = process.env.FILESTACK_APIKEY;
const MiB = 1024 * 1024;

const plainRequest = http.request;

/*
 * Every request filestack-js makes goes to the emulator: https:// ones (its hosts) over
 * plain HTTP, and http:// ones too (the part URLs the emulator hands out), since the
 * adapter passes `host: "127.0.0.1:<port>"` (url.parse's host keeps the port), which
 * Node resolves as a host name; real S3 part URLs carry no port.
 */
function toEmulator(options, callback) {
  const routed = Object.assign({}, options, {
    protocol: 'http:',
    host: undefined,
    hostname: EMU.hostname,
    port: EMU.port,
    agent: undefined,
  });
  return plainRequest(routed, callback);
}
https.request = toEmulator;
http.request = toEmulator;

const filestack = require('filestack-js');

/** One plain request to the emulator (any https:// URL goes to it). */
function send(url, { method = 'GET', headers = {}, body = null } = {}) {
  const parsed = new URL(url);
  return new Promise((resolve, reject) => {
    const req = plainRequest(
      {
        hostname: EMU.hostname,
        port: EMU.port,
        path: parsed.pathname + parsed.search,
        method,
        headers,
      },
      res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      }
    );
    req.on('error', reject);
    req.end(body);
  });
}

const control = { Authorization: `Bearer ${SECRET}` };

async function violations() {
  const res = await send(`${EMU.origin}/_emulator/violations`, { method: 'DELETE', headers: control });
  return JSON.parse(res.body.toString()).violations.map(v => `${v.route}: ${v.message}`);
}

async function setFaults(faults) {
  const res = await send(`${EMU.origin}/_emulator/faults`, {
    method: 'POST',
    headers: Object.assign({ 'Content-Type': 'application/json' }, control),
    body: JSON.stringify(faults),
  });
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString());
}

/** The faults' counts, then no faults. */
async function clearFaults() {
  const state = await send(`${EMU.origin}/_emulator/faults`, { headers: control });
  await send(`${EMU.origin}/_emulator/faults`, { method: 'DELETE', headers: control });
  return JSON.parse(state.body.toString());
}

function security(policy = {}) {
  return filestack.getSecurity(Object.assign({ expiry: Math.floor(Date.now() / 1000) + 600 }, policy), SECRET);
}

function client(policy) {
  return filestack.init(APIKEY, { security: security(policy) });
}

function bytes(size) {
  return crypto.randomBytes(size);
}

async function stored(handle) {
  const sec = security({ call: ['read'] });
  const res = await send(`${EMU.origin}/${handle}?policy=${sec.policy}&signature=${sec.signature}`);
  assert.equal(res.status, 200, `reading ${handle}: ${res.body.toString().slice(0, 200)}`);
  return res.body;
}

async function uploadRoundTrip(size, options) {
  const data = bytes(size);
  const res = await client().upload(data, options, { filename: 'u.bin', location: 's3' });
  assert.equal(res.status, 'Stored', JSON.stringify(res));
  assert.equal(res.size, size);
  assert.ok((await stored(res.handle)).equals(data), 'stored bytes differ');
  return res;
}

/** A 64x48 PNG made by the emulator's own processing (the source of the transform cases). */
let imageHandle = null;
async function image() {
  if (imageHandle) {
    return imageHandle;
  }
  const png = Buffer.from(process.env.TEST_PNG_BASE64, 'base64');
  const res = await client().upload(png, {}, { filename: 'pic.png', mimetype: 'image/png' });
  imageHandle = res.handle;
  return imageHandle;
}

// -- uploads --------------------------------------------------------------------------

const cases = {};

cases['upload-0B'] = async () => {
  // filestack-js refuses an empty file itself, before any request
  // (it rejects with the failed file itself, sending nothing)
  await assert.rejects(client().upload(Buffer.alloc(0), {}, { filename: 'e.bin' }), file => {
    assert.deepEqual([file.status, file.size], ['Failed', 0]);
    return true;
  });
};

for (const [name, size] of [['1B', 1], ['small', 1000], ['one-part', 6 * MiB], ['multi-part', 13 * MiB + 5]]) {
  cases[`upload-regular-${name}`] = () => uploadRoundTrip(size, {});
  cases[`upload-intelligent-${name}`] = () => uploadRoundTrip(size, { intelligent: true });
}

cases['upload-intelligent-chunked'] = () =>
  // a chunk smaller than the 8 MiB part: several chunks per part, then a commit
  uploadRoundTrip(9 * MiB + 7, { intelligent: true, intelligentChunkSize: 1 * MiB });

// filestack-js 4.3.8 never makes a failed chunk smaller: uploadNextChunk() sets the chunk
// to the rest of the part (`chunkSize = part.size - part.offset`) whatever size its retry
// asks for, so against the max-chunk fault it retries the same chunk forever. A reset PUT
// socket, the fault's other form, is an unhandled 'error' event in its Node adapter
// (HttpWritableStream) that ends the process. The failure cases therefore use 500s on
// part PUTs, which it retries (intelligent) or answers by switching (fallback).
const FAILING_PUTS = { seed: 3, rules: [{ route: 'put', error_rate: 0.5, status: 500 }] };

cases['upload-intelligent-retries-failed-chunks'] = async () => {
  await setFaults(FAILING_PUTS);
  try {
    await uploadRoundTrip(17 * MiB, { intelligent: true });
  } finally {
    const state = await clearFaults();
    assert.ok(state.injected['put:500'] >= 1, JSON.stringify(state));
  }
};

cases['upload-fallback-stays-regular'] = () => uploadRoundTrip(17 * MiB, { intelligent: 'fallback' });

cases['upload-fallback-switches'] = async () => {
  // a failed regular part switches filestack-js to intelligent ingestion (chunks with
  // offsets, commits) on the same upload; the complete lists the parts that went regular
  await setFaults(FAILING_PUTS);
  try {
    await uploadRoundTrip(25 * MiB, { intelligent: 'fallback' });
  } finally {
    const state = await clearFaults();
    assert.ok(state.injected['put:500'] >= 1, JSON.stringify(state));
  }
};

cases['upload-no-integrity-regular'] = () => uploadRoundTrip(7 * MiB, { disableIntegrityCheck: true });
cases['upload-no-integrity-intelligent'] = () =>
  uploadRoundTrip(9 * MiB, { intelligent: true, disableIntegrityCheck: true });

cases['upload-store-options'] = async () => {
  const data = bytes(2000);
  const res = await client().upload(data, {}, { filename: 'named.txt', path: '/in/', location: 's3' });
  const meta = await client().metadata(res.handle, { filename: true, path: true, size: true });
  assert.equal(meta.filename, 'named.txt');
  assert.equal(meta.path, '/in/');
  assert.equal(meta.size, 2000);
};

cases['upload-tags'] = async () => {
  const data = bytes(50);
  const up = new filestack.Client(APIKEY, { security: security() });
  const res = await up.upload(data, { tags: { team: 'a' } }, { filename: 't.bin' });
  assert.deepEqual(res.upload_tags || res.uploadTags, { team: 'a' });
};

// -- security -------------------------------------------------------------------------

cases['security-refuses-upload'] = async () => {
  await assert.rejects(client({ call: ['read'] }).upload(bytes(10), {}, { filename: 'x.bin' }));
};

cases['security-wrong-signature'] = async () => {
  const sec = security();
  const bad = filestack.init(APIKEY, { security: { policy: sec.policy, signature: '0'.repeat(64) } });
  await assert.rejects(bad.upload(bytes(10), {}, { filename: 'x.bin' }));
};

cases['security-read-scope'] = async () => {
  const res = await client().upload(bytes(10), {}, { filename: 'x.bin' });
  const other = security({ call: ['read'], handle: 'AAAAAAAAAAAAAAAAAAAA' });
  const link = `${EMU.origin}/${res.handle}?policy=${other.policy}&signature=${other.signature}`;
  assert.equal((await send(link)).status, 403);
};

// -- the file API ---------------------------------------------------------------------

cases['file-metadata-all'] = async () => {
  const data = bytes(3000);
  const c = client();
  const res = await c.upload(data, {}, { filename: 'm.bin' });
  const wanted = {
    size: true, mimetype: true, filename: true, width: true, height: true, uploaded: true,
    writeable: true, cloud: true, sourceUrl: true, md5: true, sha1: true, sha224: true,
    sha256: true, sha384: true, sha512: true, location: true, path: true, container: true,
  };
  const meta = await c.metadata(res.handle, wanted);
  assert.equal(meta.size, 3000);
  assert.equal(meta.md5, crypto.createHash('md5').update(data).digest('hex'));
  assert.equal(meta.sha256, crypto.createHash('sha256').update(data).digest('hex'));
  assert.equal(meta.filename, 'm.bin');
  assert.ok('source_url' in meta, JSON.stringify(meta));
};

cases['file-retrieve-and-download'] = async () => {
  const data = bytes(4000);
  const c = client();
  const res = await c.upload(data, {}, { filename: 'r.bin' });
  const meta = await c.retrieve(res.handle, { metadata: true });
  assert.equal(meta.size, 4000);
  const head = await c.retrieve(res.handle, { head: true });
  assert.equal(Number(head['content-length']), 4000);
  const body = await c.retrieve(res.handle, { dl: true });
  assert.ok(Buffer.from(body).equals(data));
  const down = await c.download(res.handle);
  assert.ok(Buffer.from(down.data).equals(data));
};

cases['file-remove'] = async () => {
  const c = client();
  const res = await c.upload(bytes(100), {}, { filename: 'd.bin' });
  await c.remove(res.handle);
  const sec = security({ call: ['read'] });
  const gone = await send(`${EMU.origin}/${res.handle}?policy=${sec.policy}&signature=${sec.signature}`);
  assert.equal(gone.status, 404);
};

cases['file-remove-metadata'] = async () => {
  const c = client();
  const res = await c.upload(bytes(100), {}, { filename: 'd.bin' });
  await c.removeMetadata(res.handle);
  const sec = security({ call: ['read'] });
  const gone = await send(`${EMU.origin}/${res.handle}?policy=${sec.policy}&signature=${sec.signature}`);
  assert.equal(gone.status, 404);
};

cases['file-preview-url'] = async () => {
  const handle = await image();
  const sec = security({ call: ['read'] });
  // preview() opens a browser window; the URL it opens is built by the same session
  const c = filestack.init(APIKEY, { security: sec });
  // what filestack-js's preview getUrl builds for a handle and a security session
  const url = `https://cdn.filestackcontent.com/preview/security=policy:${sec.policy},signature:${sec.signature}/${handle}`;
  const res = await send(url);
  assert.equal(res.status, 200, res.body.toString().slice(0, 300));
  assert.match(res.headers['content-type'], /text\/html/);
  assert.ok(res.body.toString().includes(handle));
  assert.equal(typeof c.preview, 'function');
};

// -- storeURL -------------------------------------------------------------------------

async function storeFromEmulator(headers) {
  const c = client();
  const source = await c.upload(bytes(500), {}, { filename: 'src.bin' });
  const sec = security({ call: ['read'] });
  const url = `${EMU.origin}/${source.handle}?policy=${sec.policy}&signature=${sec.signature}`;
  const res = await c.storeURL(url, { filename: 'copy.bin', location: 's3' }, undefined, undefined, undefined, headers);
  assert.ok(res.handle, JSON.stringify(res));
  assert.ok((await stored(res.handle)).equals(await stored(source.handle)));
}

cases['store-url'] = () => storeFromEmulator(undefined);
cases['store-url-with-headers'] = () => storeFromEmulator({ 'X-Origin-Token': 'abc' });

// -- transformations ------------------------------------------------------------------

/** Every task filestack-js's transform() can build, with parameters it validates. */
const TRANSFORMS = {
  flip: true,
  flop: true,
  auto_image: true,
  no_metadata: true,
  compress: true,
  enhance: true,
  redeye: true,
  monochrome: true,
  negative: true,
  tags: true,
  sfw: true,
  imagesize: true,
  smart_crop: { mode: 'auto', width: 20, height: 20 },
  metadata: {},
  resize: { width: 32, fit: 'crop' },
  crop: { dim: [0, 0, 10, 10] },
  rotate: { deg: 90, background: 'white' },
  detect_faces: { minsize: 0.2 },
  crop_faces: { mode: 'thumb' },
  pixelate_faces: { faces: 'all' },
  blur_faces: { faces: 'all', blur: 4 },
  rounded_corners: { radius: 10 },
  vignette: { amount: 20 },
  polaroid: { rotate: 10 },
  torn_edges: { spread: [1, 10] },
  shadow: { blur: 4 },
  circle: { background: 'white' },
  border: { width: 2, color: 'red' },
  sharpen: { amount: 3 },
  blur: { amount: 2 },
  blackwhite: { threshold: 50 },
  sepia: { tone: 80 },
  pixelate: { amount: 4 },
  oil_paint: { amount: 4 },
  modulate: { brightness: 120 },
  ascii: { background: 'black' },
  collage: { files: ['AAAAAAAAAAAAAAAAAAAA'], width: 100, height: 100 },
  urlscreenshot: { agent: 'desktop', orientation: 'landscape', device: 'iPhone X' },
  upscale: { noise: 'low' },
  output: { format: 'webp' },
  pjpg: { quality: 80, metadata: false },
  quality: { value: 75 },
  cache: { expiry: 3600 },
  video_convert: { preset: 'h264', audio_codec: 'libfdk_aac', frame_count: 1, aspect_mode: 'preserve', upscale: false },
  watermark: { file: 'AAAAAAAAAAAAAAAAAAAA' },
  partial_blur: { objects: [[0, 0, 10, 10]] },
  partial_pixelate: { objects: [[0, 0, 10, 10]] },
  pdfinfo: true,
  pdfconvert: { pageorientation: 'landscape' },
  fallback: { handle: 'AAAAAAAAAAAAAAAAAAAA', cache: 10 },
  zip: true,
  minify_css: { level: 1 },
  minify_js: { mangle: true },
};

/** Codes a documented 400 of the emulator carries (docs/emulator.md). */
const DOCUMENTED_400 = new Set(['NotImplementedByEmulator', 'ImageProcessingError', 'UnsupportedByEmulator']);

function camel(name) {
  return name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

async function checkAnswer(url, task) {
  const res = await send(url);
  if (res.status === 200) {
    return res;
  }
  let body = {};
  try {
    body = JSON.parse(res.body.toString());
  } catch (err) {
    assert.fail(`${task}: ${res.status} without a JSON error: ${res.body.toString().slice(0, 200)}`);
  }
  const code = body.code || (body.error && body.error.code);
  assert.equal(res.status, 400, `${task}: ${res.status} ${res.body.toString().slice(0, 300)} for ${url}`);
  assert.ok(DOCUMENTED_400.has(code), `${task}: undocumented 400 ${res.body.toString().slice(0, 300)}`);
  assert.ok(res.body.toString().includes(task), `${task}: the 400 does not name the task`);
  return res;
}

for (const [task, params] of Object.entries(TRANSFORMS)) {
  cases[`transform-${task}`] = async () => {
    const handle = await image();
    const c = filestack.init(APIKEY, { security: security({ call: ['read', 'convert', 'store'] }) });
    const options = { [camel(task)]: params };
    for (const b64 of [false, true]) {
      const url = c.transform(handle, options, b64);
      const res = await checkAnswer(url, task);
      if (res.status === 200 && task === 'imagesize') {
        assert.deepEqual(JSON.parse(res.body.toString()), { width: 64, height: 48 });
      }
      if (res.status === 200 && task === 'metadata') {
        const meta = JSON.parse(res.body.toString());
        assert.equal(meta.size, Number(process.env.TEST_PNG_SIZE));
        assert.deepEqual([meta.width, meta.height, meta.mimetype], [64, 48, 'image/png']);
      }
    }
  };
}

cases['transform-chain'] = async () => {
  const handle = await image();
  const c = filestack.init(APIKEY, { security: security({ call: ['read', 'convert'] }) });
  for (const b64 of [false, true]) {
    const url = c.transform(handle, { resize: { width: 16 }, roundedCorners: { radius: 4 }, output: { format: 'png' } }, b64);
    const res = await checkAnswer(url, 'chain');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/png');
  }
};

cases['transform-cache-false'] = async () => {
  const handle = await image();
  const c = filestack.init(APIKEY, { security: security({ call: ['read', 'convert'] }) });
  const url = c.transform(handle, { cache: false, flip: true });
  assert.match(url, /\/cache=false\//);
  assert.equal((await checkAnswer(url, 'cache')).status, 200);
};

cases['transform-url-source'] = async () => {
  const handle = await image();
  const sec = security({ call: ['read', 'convert'] });
  const c = filestack.init(APIKEY, { security: sec });
  // a query string would end the processing path: the source's security is a segment
  const source = `${EMU.origin}/security=p:${sec.policy},s:${sec.signature}/${handle}`;
  for (const b64 of [false, true]) {
    const url = c.transform(source, { resize: { width: 8 } }, b64);
    if (!b64) {
      assert.ok(url.includes(`/"${EMU.origin}/`), url); // filestack-js quotes URL sources
    }
    const res = await checkAnswer(url, 'resize');
    assert.equal(res.status, 200);
  }
};

cases['transform-imagesize-is-not-an-apikey'] = async () => {
  const handle = await image();
  const sec = security({ call: ['read', 'convert'] });
  const res = await send(`${EMU.origin}/imagesize/security=p:${sec.policy},s:${sec.signature}/${handle}`);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { width: 64, height: 48 });
};

// -- runner ---------------------------------------------------------------------------

async function main() {
  const wanted = process.argv.slice(2);
  if (wanted.length === 1 && wanted[0] === '--list') {
    process.stdout.write(JSON.stringify(Object.keys(cases)) + '\n');
    return;
  }
  const names = wanted.length ? wanted : Object.keys(cases);
  for (const name of names) {
    const record = { case: name, ok: true, detail: '' };
    if (!cases[name]) {
      record.ok = false;
      record.detail = 'no such case';
    } else {
      try {
        await cases[name]();
      } catch (err) {
        record.ok = false;
        const response = err && err.response ? ` response ${err.response.status} ${JSON.stringify(err.response.data)}` : '';
        record.detail = `${err && err.stack ? err.stack : err}${response}`.slice(0, 2000);
      }
    }
    record.violations = await violations();
    process.stdout.write(JSON.stringify(record) + '\n');
  }
}

main().catch(err => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
});
