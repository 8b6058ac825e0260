// The demo's static file server (web/server.mjs): MIME types, isolation headers, Range,
// conditional requests, path safety and the files mount, against a temp directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createDemoServer, parseRange } from '../../web/server.mjs';

const SERVER_SCRIPT = fileURLToPath(new URL('../../web/server.mjs', import.meta.url));

const CLIP = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));  // 1000 distinct-ish bytes
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const SECRET = 'top secret, outside every mount';
const MODEL = Buffer.from('not really onnx');

let root;
let server;
let base;
let port;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sf-web-'));
  const www = join(root, 'www');
  await mkdir(join(www, 'sub'), { recursive: true });
  await mkdir(join(root, 'assets'));
  await Promise.all([
    writeFile(join(www, 'index.html'), '<!doctype html><title>root</title>'),
    writeFile(join(www, 'app.mjs'), 'export const x = 1;\n'),
    writeFile(join(www, 'core.wasm'), WASM),
    writeFile(join(www, 'clip.mp4'), CLIP),
    writeFile(join(www, 'data.unknownext'), 'x'),
    writeFile(join(www, 'sub', 'index.html'), '<p>sub index</p>'),
    writeFile(join(www, 'assets.txt'), 'from www'),
    writeFile(join(root, 'assets', 'a.txt'), 'from assets'),
    writeFile(join(root, 'secret.txt'), SECRET),
    writeFile(join(root, 'model.onnx'), MODEL),
  ]);
  server = await createDemoServer({
    mounts: [
      { prefix: '/', dir: www },
      { prefix: '/assets/', dir: join(root, 'assets') },
      { prefix: '/models/', files: { 'tiny.onnx': join(root, 'model.onnx') } },
    ],
  });
  port = server.address().port;
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  server.closeAllConnections();  // fetch keeps connections alive
  await new Promise((ok) => server.close(ok));
  await rm(root, { recursive: true, force: true });
});

/** A request with the path sent exactly as given (fetch would resolve '..' first). */
function rawRequest(path, { method = 'GET', headers = {} } = {}) {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** The bytes on the wire for one request, so "no body" really means none was sent. */
function wireBytes(text) {
  return new Promise((ok, fail) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));  // 'Connection: close' ends it
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => ok(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', fail);
  });
}

const bytesOf = async (res) => Buffer.from(await res.arrayBuffer());

function assertIsolationHeaders(res, what) {
  const h = (name) => (res.headers.get ? res.headers.get(name) : res.headers[name.toLowerCase()]);
  assert.equal(h('cross-origin-opener-policy'), 'same-origin', what);
  assert.equal(h('cross-origin-embedder-policy'), 'require-corp', what);
  assert.equal(h('cross-origin-resource-policy'), 'same-origin', what);
  assert.equal(h('x-content-type-options'), 'nosniff', what);
  assert.equal(h('cache-control'), 'no-cache', what);
}

test('MIME types by extension', async () => {
  for (const [path, type] of [
    ['/core.wasm', 'application/wasm'],
    ['/app.mjs', 'text/javascript; charset=utf-8'],
    ['/index.html', 'text/html; charset=utf-8'],
    ['/clip.mp4', 'video/mp4'],
    ['/assets.txt', 'text/plain; charset=utf-8'],
    ['/data.unknownext', 'application/octet-stream'],
    ['/models/tiny.onnx', 'application/octet-stream'],
  ]) {
    const res = await fetch(base + path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), type, path);
    await res.arrayBuffer();
  }
  const wasm = await fetch(`${base}/core.wasm`);
  assert.deepEqual(await bytesOf(wasm), WASM);
});

test('cross-origin isolation and cache headers on every response, errors included', async () => {
  for (const [path, status] of [['/index.html', 200], ['/missing.js', 404], ['/clip.mp4', 200]]) {
    const res = await fetch(base + path);
    assert.equal(res.status, status, path);
    assertIsolationHeaders(res, path);
    assert.equal(res.headers.get('accept-ranges'), status === 200 ? 'bytes' : null, path);
    await res.arrayBuffer();
  }
  const post = await fetch(`${base}/index.html`, { method: 'POST', body: 'x' });
  assertIsolationHeaders(post, 'POST');
  await post.arrayBuffer();
  assertIsolationHeaders(await rawRequest('/../etc/passwd'), 'traversal');
});

test('Range: bytes=a-b, a-, -n give 206 with exact bodies', async () => {
  for (const [range, start, end] of [
    ['bytes=0-9', 0, 9],
    ['bytes=100-199', 100, 199],
    ['bytes=990-5000', 990, 999],  // end past the file is clamped
    ['bytes=995-', 995, 999],
    ['bytes=-5', 995, 999],
    ['bytes=-5000', 0, 999],       // suffix longer than the file: all of it
    ['BYTES=7-7', 7, 7],
  ]) {
    const res = await fetch(`${base}/clip.mp4`, { headers: { range } });
    assert.equal(res.status, 206, range);
    assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${CLIP.length}`, range);
    assert.equal(res.headers.get('content-length'), String(end - start + 1), range);
    assert.equal(res.headers.get('content-type'), 'video/mp4', range);
    assert.deepEqual(await bytesOf(res), CLIP.subarray(start, end + 1), range);
  }
});

test('Range: unsatisfiable is 416 with bytes */size; malformed or multiple ranges send it all', async () => {
  for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
    const res = await fetch(`${base}/clip.mp4`, { headers: { range } });
    assert.equal(res.status, 416, range);
    assert.equal(res.headers.get('content-range'), `bytes */${CLIP.length}`, range);
    await res.arrayBuffer();
  }
  for (const range of ['bytes=0-1,5-6', 'bytes=9-2', 'bytes=-', 'items=0-5', 'bytes=a-b', 'bytes 0-5']) {
    const res = await fetch(`${base}/clip.mp4`, { headers: { range } });
    assert.equal(res.status, 200, range);
    assert.equal(res.headers.get('content-range'), null, range);
    assert.deepEqual(await bytesOf(res), CLIP, range);
  }
  // If-Range that does not match (our ETag is weak, so never a strong match): the whole file.
  const etag = (await fetch(`${base}/clip.mp4`, { method: 'HEAD' })).headers.get('etag');
  const ifRange = await fetch(`${base}/clip.mp4`, { headers: { range: 'bytes=0-1', 'if-range': etag } });
  assert.equal(ifRange.status, 200);
  assert.deepEqual(await bytesOf(ifRange), CLIP);
});

test('parseRange edge cases', () => {
  assert.deepEqual(parseRange('bytes=0-0', 1), { start: 0, end: 0 });
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=-1', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1, 3-4', 10), null);
  assert.equal(parseRange(' bytes=2-3 ', 10).start, 2);
  assert.deepEqual(parseRange(`bytes=0-${'9'.repeat(400)}`, 10), { start: 0, end: 9 });
});

test('HEAD sends headers with the full length and no body', async () => {
  const wire = await wireBytes(`HEAD /clip.mp4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const [head, body] = wire.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.match(head, /\r\ncontent-length: 1000\r\n/i);
  assert.match(head, /\r\ncontent-type: video\/mp4\r\n/i);
  assert.equal(body, '');
  const ranged = await wireBytes(`HEAD /clip.mp4 HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n`);
  assert.match(ranged, /^HTTP\/1\.1 206 /);
  assert.equal(ranged.split('\r\n\r\n')[1], '');
  const missing = await wireBytes(`HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assert.match(missing, /^HTTP\/1\.1 404 /);
  assert.equal(missing.split('\r\n\r\n')[1], '');
});

test('ETag and Last-Modified; If-None-Match and If-Modified-Since give 304', async () => {
  const first = await fetch(`${base}/app.mjs`);
  const etag = first.headers.get('etag');
  const lastModified = first.headers.get('last-modified');
  assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
  assert.ok(!Number.isNaN(Date.parse(lastModified)));
  await first.arrayBuffer();
  for (const headers of [{ 'if-none-match': etag }, { 'if-none-match': `"other", ${etag}` }, { 'if-none-match': '*' }, { 'if-modified-since': lastModified }]) {
    const res = await fetch(`${base}/app.mjs`, { headers });
    assert.equal(res.status, 304, JSON.stringify(headers));
    assert.equal(res.headers.get('etag'), etag);
    assertIsolationHeaders(res, '304');
    assert.equal((await bytesOf(res)).length, 0);
  }
  const changed = await fetch(`${base}/app.mjs`, { headers: { 'if-none-match': 'W/"0-0"' } });
  assert.equal(changed.status, 200);
  assert.equal(await changed.text(), 'export const x = 1;\n');
});

test('only GET and HEAD: others are 405 with Allow', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const res = await rawRequest('/index.html', { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.allow, 'GET, HEAD', method);
  }
});

test('traversal attempts never escape the mount', async () => {
  for (const path of [
    '/../etc/passwd',
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/sub/..%2f..%2fsecret.txt',
    '/sub/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/assets/../../secret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/models/../secret.txt',
    '/models/%2e%2e/secret.txt',
    '//..//secret.txt',
    '/%00',
    '/index.html%00.txt',
    '/%zz',
  ]) {
    const res = await rawRequest(path);
    assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`);
    assert.ok(!res.body.includes(SECRET) && !res.body.includes('root:'), path);
    assert.ok(!/\bat \S+ \(/.test(res.body), `${path}: no stack in the body`);
  }
  // '..' is refused, not resolved: '/sub/../index.html' is inside the mount and still refused.
  assert.equal((await rawRequest('/sub/../index.html')).status, 403);
});

test('a directory serves its index.html; without a trailing slash it redirects', async () => {
  const rootIndex = await fetch(`${base}/`);
  assert.equal(rootIndex.status, 200);
  assert.equal(rootIndex.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(await rootIndex.text(), '<!doctype html><title>root</title>');
  const sub = await fetch(`${base}/sub/`);
  assert.equal(await sub.text(), '<p>sub index</p>');
  const bare = await rawRequest('/sub');
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.location, '/sub/');
  const mountRoot = await rawRequest('/assets');  // a mount prefix without its slash
  assert.equal(mountRoot.status, 301);
  assert.equal(mountRoot.headers.location, '/assets/');
  assert.equal((await rawRequest('/assets/')).status, 404, 'no index.html, no listing');
});

test('longest prefix wins; a files mount serves exactly its names', async () => {
  assert.equal(await (await fetch(`${base}/assets/a.txt`)).text(), 'from assets');
  assert.equal(await (await fetch(`${base}/assets.txt`)).text(), 'from www');
  const model = await fetch(`${base}/models/tiny.onnx`);
  assert.equal(model.status, 200);
  assert.deepEqual(await bytesOf(model), MODEL);
  const part = await fetch(`${base}/models/tiny.onnx`, { headers: { range: 'bytes=4-' } });
  assert.equal(part.status, 206);
  assert.equal(await part.text(), 'really onnx');
  for (const path of ['/models/', '/models/model.onnx', '/models/secret.txt', '/models/TINY.onnx', '/models/tiny.onnx/',
    '/models/__proto__', '/models/constructor', '/models/sub/tiny.onnx']) {
    const res = await rawRequest(path);
    assert.equal(res.status, 404, path);
  }
});

test('404 names the path in a short plain-text body', async () => {
  const res = await fetch(`${base}/no/such/file.js?v=1`);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await res.text(), 'not found: /no/such/file.js\n');
});

test('an unexpected error is a bare 500: no message, no stack', async () => {
  // open() on a Unix socket fails with ENXIO, which is no 404 or 403: the generic path.
  const sockPath = join(root, 'sock');
  const sock = createNetServer();
  await new Promise((ok) => sock.listen(sockPath, ok));
  const lines = [];
  const odd = await createDemoServer({ mounts: [{ prefix: '/', files: { 'odd.bin': sockPath } }], log: (l) => lines.push(l) });
  try {
    const res = await fetch(`http://127.0.0.1:${odd.address().port}/odd.bin`);
    assert.equal(res.status, 500);
    assertIsolationHeaders(res, '500');
    assert.equal(await res.text(), 'internal server error\n');
    assert.ok(lines.some((l) => l.includes('ENXIO')), 'the details go to the log');
    assert.ok(lines.includes('GET /odd.bin 500'));
  } finally {
    odd.closeAllConnections();
    await new Promise((ok) => odd.close(ok));
    await new Promise((ok) => sock.close(ok));
  }
});

test('createDemoServer rejects bad mounts', async () => {
  await assert.rejects(createDemoServer({ mounts: [] }), TypeError);
  await assert.rejects(createDemoServer({ mounts: [{ prefix: 'x/', dir: root }] }), /prefix/);
  await assert.rejects(createDemoServer({ mounts: [{ prefix: '/x', dir: root }] }), /prefix/);
  await assert.rejects(createDemoServer({ mounts: [{ prefix: '/x/' }] }), /dir' or 'files/);
});

test('run as a script: prints its URL, serves the repo mounts, stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [SERVER_SCRIPT, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  const line = await new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) ok(out.split('\n')[0]);
    });
    child.on('exit', (code) => fail(new Error(`exited ${code}: ${stderr}`)));
  });
  const m = /^shopframe demo: http:\/\/127\.0\.0\.1:(\d+)\/$/.exec(line);
  assert.ok(m, line);
  const res = await fetch(`http://127.0.0.1:${m[1]}/ort/`, { method: 'HEAD' });
  assertIsolationHeaders(res, 'script');
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
});
