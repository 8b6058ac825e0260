#!/usr/bin/env node
// Static file server for the in-browser demo (node standard library only).
//
//   node web/server.mjs [--port N] [--host H]      (port: $PORT, else 8080; host: 127.0.0.1)
//
// Why not any static server: the demo runs ONNX Runtime Web with threads, which needs
// SharedArrayBuffer, which browsers only enable on a cross-origin isolated page (COOP + COEP
// on every response). Video seeking needs Range requests, and the model files are served
// straight from wherever js/models.mjs finds them, without copying them into the web root.
//
// As a library: `await createDemoServer({ mounts })` returns a listening http.Server. A mount is
//   { prefix: '/ort/', dir: '/abs/dir' }                      a directory tree, or
//   { prefix: '/models/', files: { 'a.onnx': '/abs/a.onnx' } } exactly these names, nothing else.
// The longest matching prefix wins.
import { realpathSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { resolveModel } from '../js/models.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.onnx': 'application/octet-stream',
  '.sfi': 'application/octet-stream',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',  // .d.ts typings, readable in the browser
};

export function mimeType(path) {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

// On every response, errors included: COOP+COEP make the page cross-origin isolated (threaded
// WASM); CORP lets our own resources load under COEP; no-cache so a rebuilt .wasm is picked up
// (revalidated by ETag, so unchanged files still cost only a 304).
const COMMON_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

const ALLOWED_METHODS = 'GET, HEAD';

/** Validated copies of the mounts, longest prefix first (so the first match is the longest). */
function normaliseMounts(mounts) {
  if (!Array.isArray(mounts) || mounts.length === 0) throw new TypeError('createDemoServer: mounts must be a non-empty array');
  return mounts.map((m) => {
    if (typeof m.prefix !== 'string' || !m.prefix.startsWith('/') || !m.prefix.endsWith('/')) {
      throw new TypeError(`createDemoServer: mount prefix must start and end with '/', got ${JSON.stringify(m.prefix)}`);
    }
    if (typeof m.dir === 'string') return { prefix: m.prefix, dir: resolve(m.dir) };
    if (m.files && typeof m.files === 'object') {
      // A Map, so names like '__proto__' or 'constructor' cannot hit Object.prototype.
      const files = new Map(Object.entries(m.files).map(([name, path]) => [name, resolve(path)]));
      return { prefix: m.prefix, files };
    }
    throw new TypeError(`createDemoServer: mount ${m.prefix} needs 'dir' or 'files'`);
  }).sort((a, b) => b.prefix.length - a.prefix.length);
}

// An HTTP error with the status to answer; anything else thrown is a 500.
class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * The request target's path, raw (as sent, for messages and redirects) and decoded (for the
 * file system). Parsed by hand: new URL() would quietly resolve '..' and '%2e%2e', and we want
 * to refuse those, not reinterpret them.
 */
function requestPath(url) {
  const target = url.replace(/^https?:\/\/[^/]*/i, '');  // absolute-form (proxies) -> origin-form
  const raw = target.split(/[?#]/, 1)[0];
  if (!raw.startsWith('/')) throw new HttpError(400, `bad request target: ${url}`);
  let decoded;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `bad percent-encoding in path: ${raw}`);
  }
  if (decoded.includes('\0')) throw new HttpError(400, `NUL in path: ${raw}`);
  // Checked after decoding, so '%2e%2e' and '..%2f' are caught too.
  if (decoded.split('/').includes('..')) throw new HttpError(403, `'..' in path: ${raw}`);
  return { raw, decoded };
}

/** The mount serving `path` and the rest of the path after its prefix, or a redirect. */
function matchMount(mounts, path) {
  for (const mount of mounts) {
    if (path.startsWith(mount.prefix)) return { mount, rest: path.slice(mount.prefix.length) };
    if (`${path}/` === mount.prefix) return { redirect: mount.prefix };  // '/ort' -> '/ort/'
  }
  return null;
}

/** The absolute file for `rest` under a mount; throws 404 for anything outside it. */
function locate(mount, rest, raw) {
  if (mount.files) {
    const file = mount.files.get(rest);
    if (!file) throw new HttpError(404, `not found: ${raw}`);
    return file;
  }
  const file = join(mount.dir, rest);
  // Defence in depth: '..' is already refused, but nothing may resolve outside the mount dir.
  const rel = relative(mount.dir, file);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new HttpError(404, `not found: ${raw}`);
  return file;
}

const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP']);

/**
 * Opens `file` (a directory: its index.html) and stats the open handle, so what we describe in
 * the headers is what we stream even if the file is replaced meanwhile. Returns
 * { handle, stat, file } or { redirect } for a directory asked for without its trailing slash.
 */
async function openFile(file, raw) {
  let handle;
  try {
    handle = await open(file, 'r');
    const stat = await handle.stat();
    if (stat.isFile()) return { handle, stat, file };
    await handle.close();
    handle = null;
    if (!stat.isDirectory()) throw new HttpError(404, `not found: ${raw}`);
    // Relative URLs in index.html only resolve right if the directory URL ends with '/'.
    if (!raw.endsWith('/')) return { redirect: `${raw.replace(/\/{2,}/g, '/')}/` };
    return await openFile(join(file, 'index.html'), raw);
  } catch (e) {
    await handle?.close();
    if (e instanceof HttpError) throw e;
    if (NOT_FOUND_CODES.has(e.code)) throw new HttpError(404, `not found: ${raw}`);
    if (e.code === 'EACCES' || e.code === 'EPERM') throw new HttpError(403, `forbidden: ${raw}`);
    throw e;
  }
}

/**
 * A single byte range (RFC 9110 section 14.1.2): { start, end } (inclusive), 'unsatisfiable',
 * or null to ignore the header and send the whole file, which the RFC allows for anything we
 * do not handle (malformed ranges, other units, several ranges).
 */
export function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {  // bytes=-n: the last n bytes
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < start) return null;  // bytes=5-2 is invalid, not unsatisfiable
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

// Weak validator: size and mtime change whenever the file does, without hashing it.
const etagOf = (stat) => `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
const opaqueTag = (tag) => tag.trim().replace(/^W\//, '');

/** If-None-Match (weak comparison), else If-Modified-Since (second resolution). */
function notModified(req, etag, stat) {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return inm.trim() === '*' || inm.split(',').some((t) => opaqueTag(t) === opaqueTag(etag));
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(stat.mtimeMs / 1000) * 1000 <= since;
}

// If-Range needs a strong match (RFC 9110 section 13.1.5); our ETag is weak, so only the date
// form can match. A mismatch means "the file changed, send all of it".
function rangeStillValid(req, lastModified) {
  const ifRange = req.headers['if-range'];
  return ifRange === undefined || ifRange.trim() === lastModified;
}

function sendText(req, res, status, text, headers = {}) {
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// Nothing useful to do if closing a file we only read fails.
const closeQuietly = (handle) => handle.close().catch(() => {});

/** Headers and body for an open file: 200, 206, 304 or 416. Takes ownership of `handle`. */
function sendFile(req, res, { handle, stat, file }, log) {
  const etag = etagOf(stat);
  const lastModified = stat.mtime.toUTCString();
  const headers = { ...COMMON_HEADERS, 'Accept-Ranges': 'bytes', 'ETag': etag, 'Last-Modified': lastModified };

  if (notModified(req, etag, stat)) {
    closeQuietly(handle);
    res.writeHead(304, headers).end();
    return;
  }
  const range = req.headers.range !== undefined && rangeStillValid(req, lastModified)
    ? parseRange(req.headers.range, stat.size) : null;
  if (range === 'unsatisfiable') {
    closeQuietly(handle);
    sendText(req, res, 416, `range not satisfiable: ${req.headers.range}`, { ...headers, 'Content-Range': `bytes */${stat.size}` });
    return;
  }
  const { start, end } = range ?? { start: 0, end: stat.size - 1 };
  headers['Content-Type'] = mimeType(file);
  headers['Content-Length'] = end - start + 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${stat.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || stat.size === 0) {
    closeQuietly(handle);
    res.end();
    return;
  }
  // Streamed: a model or video never sits whole in memory. The stream closes the handle.
  pipeline(handle.createReadStream({ start, end }), res, (e) => {
    // A client cancelling a download (a video seek does) is normal, not an error.
    if (e && e.code !== 'ERR_STREAM_PREMATURE_CLOSE') log(`error streaming ${file}: ${e.message}`);
  });
}

async function handleRequest(mounts, req, res, log) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpError(405, `method not allowed: ${req.method}`, { Allow: ALLOWED_METHODS });
  }
  const { raw, decoded } = requestPath(req.url);
  const match = matchMount(mounts, decoded);
  if (!match) throw new HttpError(404, `not found: ${raw}`);
  if (match.redirect) return redirect(req, res, match.redirect);
  const opened = await openFile(locate(match.mount, match.rest, raw), raw);
  if (opened.redirect) return redirect(req, res, opened.redirect);
  sendFile(req, res, opened, log);
}

function redirect(req, res, location) {
  sendText(req, res, 301, `moved to ${location}`, { Location: location });
}

// Error answers: HttpErrors say what went wrong; anything else is logged and answered with a
// bare 500, never the message or stack.
function sendError(req, res, e, log) {
  const known = e instanceof HttpError;
  if (!known) log(`error serving ${req.method} ${req.url}: ${e.stack ?? e}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendText(req, res, known ? e.status : 500, known ? e.message : 'internal server error', known ? e.headers : {});
}

/**
 * Starts the demo server; resolves with the listening http.Server (port 0: see server.address()).
 * `log(line)` gets one line per request and any server-side error; default: silent.
 * @param {{ mounts: Array<{ prefix: string, dir?: string, files?: Record<string, string> }>,
 *           host?: string, port?: number, log?: (line: string) => void }} options
 * @returns {Promise<import('node:http').Server>}
 */
export async function createDemoServer({ mounts, host = '127.0.0.1', port = 0, log = () => {} }) {
  const table = normaliseMounts(mounts);
  const server = createServer((req, res) => {
    res.on('finish', () => log(`${req.method} ${req.url} ${res.statusCode}`));
    handleRequest(table, req, res, log).catch((e) => sendError(req, res, e, log));
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  return server;
}

// ---- Command line ----

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * '/models/<name>.onnx' -> the file js/models.mjs resolves for each models/*.json, found on
 * disk only (no downloads at server start). A model that does not resolve is skipped with a warning.
 */
async function modelFiles(repo, warn) {
  const dir = join(repo, 'models');
  const files = {};
  const manifests = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  for (const json of manifests) {
    try {
      const { manifest, path } = await resolveModel(join(dir, json), { allowDownload: false });
      files[`${manifest.name}.onnx`] = path;
    } catch (e) {
      warn(`shopframe demo: warning: not serving model ${json}: ${e.message}`);
    }
  }
  return files;
}

/** The demo's mounts in a checkout at `repo`; directories that are not built yet just 404. */
/** The Grocery Store Dataset (SHOPFRAME_GROCERY, else ../shared/data/grocery next to the repo). */
export const groceryDir = (repo = REPO) => process.env.SHOPFRAME_GROCERY ?? join(repo, '..', 'shared', 'data', 'grocery');

export async function repoMounts(repo = REPO, warn = console.warn) {
  return [
    { prefix: '/', dir: join(repo, 'web') },
    { prefix: '/build/', dir: join(repo, 'build', 'web') },
    { prefix: '/demo/', dir: join(repo, 'build', 'demo', 'web') },
    { prefix: '/ort/', dir: join(repo, 'node_modules', 'onnxruntime-web', 'dist') },
    { prefix: '/core/', dir: join(repo, 'build', 'wasm') },
    { prefix: '/models/', files: await modelFiles(repo, warn) },
    { prefix: '/manifests/', dir: join(repo, 'models') },
    // Catalog thumbnails: the dataset's iconic images, read in place (never copied).
    { prefix: '/grocery/iconic/', dir: join(groceryDir(repo), 'iconic-images-and-descriptions') },
  ];
}

function parseCli(argv, env) {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  const portText = values.port ?? env.PORT ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`bad port: ${portText}`);
  return { port, host: values.host };
}

async function main() {
  let options;
  try {
    options = parseCli(process.argv.slice(2), process.env);
  } catch (e) {
    console.error(`${e.message}\nusage: node web/server.mjs [--port N] [--host H]`);
    process.exit(2);
  }
  const server = await createDemoServer({ ...options, mounts: await repoMounts(), log: (line) => console.error(line) });
  const { address, port } = server.address();
  const shown = address.includes(':') ? `[${address}]` : address;  // IPv6 literals need brackets
  console.log(`shopframe demo: http://${shown}:${port}/`);
  const stop = () => {
    server.close();
    server.closeAllConnections();  // keep-alive connections would otherwise hold close() open
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function isMain() {
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;  // no script path (node -e, the REPL)
  }
}

if (isMain()) {
  main().catch((e) => {
    console.error(`shopframe demo: ${e.message}`);
    process.exit(1);
  });
}
