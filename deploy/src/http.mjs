// HTTP plumbing for the worker: JSON responses, errors as { error: { code, message } },
// bounded body reading, content types. No shopframe logic here.

/** An error that becomes a JSON response with this status. */
export class HttpError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const badRequest = (message, code = 'invalid_request') => new HttpError(400, code, message);

export function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

export function errorResponse(e) {
  if (e instanceof HttpError) return json({ error: { code: e.code, message: e.message } }, e.status, e.headers);
  return json({ error: { code: 'internal', message: `internal error: ${e?.message ?? e}` } }, 500);
}

/** The media type of a request, lower case, without parameters ('' when absent). */
export function mediaType(request) {
  return (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

export function requireMediaType(request, accepted) {
  const type = mediaType(request);
  if (!accepted.includes(type)) {
    throw new HttpError(415, 'unsupported_media_type',
      `content-type ${type ? `'${type}'` : '(none)'} is not accepted here; send ${accepted.join(' or ')}`);
  }
  return type;
}

/**
 * The body as a Uint8Array, refusing (413) more than `limit` bytes: up front from
 * Content-Length, else while streaming (chunked bodies), so an oversized body is never held.
 * A refused body up to `drainLimit(limit)` bytes is read to the end and dropped before the
 * answer: a server that closes the connection on unread data makes the client's TCP stack
 * reset it, and the client may never see the 413 (what nginx's lingering close is for).
 * Larger ones are cut off at once.
 */
export const drainLimit = (limit) => Math.max(4 * limit, 16 * 1024 * 1024);

export async function readBody(request, limit) {
  const tooLarge = () => new HttpError(413, 'payload_too_large', `request body is over the ${limit}-byte limit`);
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    if (Number(declared) <= drainLimit(limit)) await drain(request.body?.getReader(), 0, drainLimit(limit));
    else await request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!request.body) return new Uint8Array(0);
  const chunks = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await drain(reader, total, drainLimit(limit));
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Reads and drops up to `cap` bytes of a body the answer does not need (a refused upload), for
 * the reason readBody drains: closing on unread data can cost the client the answer.
 */
export async function discardBody(request, cap = 1 << 20) {
  if (request.body && !request.bodyUsed) await drain(request.body.getReader(), 0, cap);
}

/** Reads and drops the rest of a body, cancelling it past `cap` bytes in all. */
async function drain(reader, total, cap) {
  if (!reader) return;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > cap) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // the client went away: nothing to answer
  }
}

export async function readJson(request, limit) {
  const bytes = await readBody(request, limit);
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('body: not valid UTF-8', 'invalid_json');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`body: not valid JSON (${e.message})`, 'invalid_json');
  }
}

/**
 * Reads the query string against a schema of { name: parse(value, name) }; unknown
 * parameters and repeated ones are errors naming the parameter.
 */
export function readQuery(url, schema) {
  const out = {};
  const seen = new Set();
  for (const [name, value] of url.searchParams) {
    if (!Object.hasOwn(schema, name)) {
      throw badRequest(`query parameter '${name}' is not known here (expected ${Object.keys(schema).join(', ')})`);
    }
    if (seen.has(name)) throw badRequest(`query parameter '${name}' is given more than once`);
    seen.add(name);
    out[name] = schema[name](value, name);
  }
  return out;
}

/** Query-string value parsers (each throws a 400 naming the parameter). */
export const queryValue = {
  number(value, name) {
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(n)) throw badRequest(`${name}: expected a finite number, got '${value}'`);
    return n;
  },
  boolean(value, name) {
    if (['true', '1', ''].includes(value)) return true;
    if (['false', '0'].includes(value)) return false;
    throw badRequest(`${name}: expected true or false, got '${value}'`);
  },
  string(value) { return value; },
};
