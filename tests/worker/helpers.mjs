// fetch helpers shared by the worker tests: JSON answers and errors, and requests fetch
// cannot make (a Content-Length with no body).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';

export const postJson = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
export const postBytes = (url, bytes, type = 'application/octet-stream') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body: bytes });

/** Asserts a JSON error answer { error: { code, message } } whose message mentions every fragment. */
export async function expectError(res, status, code, ...fragments) {
  const text = await res.text();
  assert.equal(res.status, status, `status ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = JSON.parse(text);
  assert.equal(body.error?.code, code, text);
  assert.equal(typeof body.error.message, 'string');
  for (const f of fragments) assert.ok(body.error.message.includes(f), `message '${body.error.message}' should mention '${f}'`);
  return body.error;
}

export async function ok(res) {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

/**
 * A request written by hand on a socket that declares a Content-Length and sends no body: the
 * server must answer from the header alone (fetch cannot send that). Returns { status, body }.
 */
export async function postDeclaredOnly(base, path, contentType, declared, { method = 'POST', headers = {} } = {}) {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  try {
    await once(socket, 'connect');
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\ncontent-type: ${contentType}\r\n${extra}Content-Length: ${declared}\r\n\r\n`);
    let raw = Buffer.alloc(0);
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${path} within 5 s`)), 5000);
      socket.on('error', reject);
      socket.on('data', (d) => {
        raw = Buffer.concat([raw, d]);
        const end = raw.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = raw.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
        if (raw.length - end - 4 >= length) {
          clearTimeout(timer);
          resolve({ status: Number(head.split(' ')[1]), body: JSON.parse(raw.subarray(end + 4, end + 4 + length).toString('utf8')) });
        }
      });
    });
  } finally {
    socket.destroy();
  }
}
