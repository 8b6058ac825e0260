// POST /v1/match: embeddings in, similar catalog items out.
//
//   application/json          {"embedding": [dim numbers], "k": 10, "category": "Fruit", "minScore": 0.3, "distinct": false}
//                             or {"embeddings": [[dim numbers], ...], ...the same options}
//   application/octet-stream  little-endian float32 values, one or more embeddings back to back
//                             (the body length a multiple of dim * 4); options in the query string:
//                             ?k=10&category=Fruit&minScore=0.3&distinct=true
//   -> 200 {"results": [[{id, score, title, category, price, currency, url, image}, ...], ...]}
//      one list per embedding, best first, in request order.
import { badRequest, queryValue, readBody, readJson, readQuery, requireMediaType } from './http.mjs';

export const MATCH_LIMITS = {
  bodyBytes: 1 << 20,   // 1 MiB per request, JSON or binary (83 embeddings of 3152 floats as binary)
  embeddings: 64,       // per request
  k: 100,               // results per embedding
  categoryChars: 256,
};

const OPTION_FIELDS = ['k', 'category', 'minScore', 'distinct'];

function checkK(k, where) {
  if (!Number.isInteger(k) || k < 1 || k > MATCH_LIMITS.k) {
    throw badRequest(`${where}: expected an integer in 1..${MATCH_LIMITS.k}, got ${JSON.stringify(k)}`);
  }
  return k;
}

function checkOptions(o, where = (name) => name) {
  const out = { k: 10, category: '', minScore: -Infinity, distinct: false };
  if (o.k !== undefined) out.k = checkK(o.k, where('k'));
  if (o.category !== undefined) {
    if (typeof o.category !== 'string') throw badRequest(`${where('category')}: expected a string, got ${JSON.stringify(o.category)}`);
    if (o.category.length > MATCH_LIMITS.categoryChars) throw badRequest(`${where('category')}: longer than ${MATCH_LIMITS.categoryChars} characters`);
    out.category = o.category;
  }
  if (o.minScore !== undefined) {
    if (typeof o.minScore !== 'number' || !Number.isFinite(o.minScore)) {
      throw badRequest(`${where('minScore')}: expected a finite number, got ${JSON.stringify(o.minScore)}`);
    }
    out.minScore = o.minScore;
  }
  if (o.distinct !== undefined) {
    if (typeof o.distinct !== 'boolean') throw badRequest(`${where('distinct')}: expected true or false, got ${JSON.stringify(o.distinct)}`);
    out.distinct = o.distinct;
  }
  return out;
}

function checkVector(v, dim, where) {
  if (!Array.isArray(v)) throw badRequest(`${where}: expected an array of ${dim} numbers, got ${v === null ? 'null' : typeof v}`);
  if (v.length !== dim) throw badRequest(`${where}: expected ${dim} numbers (the index dimension), got ${v.length}`);
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; ++i) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw badRequest(`${where}[${i}]: expected a finite number, got ${JSON.stringify(x) ?? String(x)}`);
    out[i] = x;
    if (!Number.isFinite(out[i])) throw badRequest(`${where}[${i}]: ${x} is out of float32 range`);
  }
  return out;
}

/** Parses a JSON match request into { queries: [{ vector, where }], options }. */
export function parseJsonMatch(body, dim) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`body: expected a JSON object with 'embedding' or 'embeddings', got ${Array.isArray(body) ? 'an array' : JSON.stringify(body)}`);
  }
  for (const key of Object.keys(body)) {
    if (key !== 'embedding' && key !== 'embeddings' && !OPTION_FIELDS.includes(key)) {
      throw badRequest(`unknown field '${key}' (expected embedding or embeddings, ${OPTION_FIELDS.join(', ')})`);
    }
  }
  const hasOne = body.embedding !== undefined, hasMany = body.embeddings !== undefined;
  if (hasOne === hasMany) throw badRequest(`body: give exactly one of 'embedding' (one vector) or 'embeddings' (a list of vectors)`);
  let queries;
  if (hasOne) {
    queries = [{ vector: checkVector(body.embedding, dim, 'embedding'), where: 'embedding' }];
  } else {
    const list = body.embeddings;
    if (!Array.isArray(list) || list.length === 0) throw badRequest('embeddings: expected a non-empty array of vectors');
    if (list.length > MATCH_LIMITS.embeddings) throw badRequest(`embeddings: ${list.length} vectors, at most ${MATCH_LIMITS.embeddings} per request`);
    queries = list.map((v, i) => ({ vector: checkVector(v, dim, `embeddings[${i}]`), where: `embeddings[${i}]` }));
  }
  return { queries, options: checkOptions(body) };
}

/** Parses a binary (float32) match request. */
export function parseBinaryMatch(bytes, url, dim) {
  const per = dim * 4;
  if (bytes.byteLength === 0) throw badRequest(`body: empty; expected ${per} bytes per embedding (${dim} little-endian float32 values)`);
  if (bytes.byteLength % per !== 0) {
    throw badRequest(`body: ${bytes.byteLength} bytes is not a multiple of ${per} (dim ${dim} x 4-byte float32)`);
  }
  const n = bytes.byteLength / per;
  if (n > MATCH_LIMITS.embeddings) throw badRequest(`body: ${n} embeddings, at most ${MATCH_LIMITS.embeddings} per request`);
  // DataView: the body's byteOffset need not be a multiple of 4, and the byte order is explicit.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const queries = [];
  for (let q = 0; q < n; ++q) {
    const vector = new Float32Array(dim);
    for (let i = 0; i < dim; ++i) {
      const x = view.getFloat32((q * dim + i) * 4, true);
      if (!Number.isFinite(x)) throw badRequest(`body: embedding ${q}, value ${i} is ${x} (expected a finite number)`);
      vector[i] = x;
    }
    queries.push({ vector, where: n === 1 ? 'body' : `body: embedding ${q}` });
  }
  const o = readQuery(url, { k: queryValue.number, category: queryValue.string, minScore: queryValue.number, distinct: queryValue.boolean });
  return { queries, options: checkOptions(o, (name) => `query parameter ${name}`) };
}

/** Public fields of a search hit (the index's item ordinal stays internal). */
export function publicHit(h) {
  return { id: h.id, score: h.score, title: h.title, category: h.category, price: h.price, currency: h.currency, url: h.url, image: h.image };
}

export async function handleMatch(request, url, index) {
  const type = requireMediaType(request, ['application/json', 'application/octet-stream']);
  const { queries, options } = type === 'application/json'
    ? parseJsonMatch(await readJson(request, MATCH_LIMITS.bodyBytes), index.dim)
    : parseBinaryMatch(await readBody(request, MATCH_LIMITS.bodyBytes), url, index.dim);
  const results = queries.map(({ vector, where }) => {
    try {
      return index.search(vector, options).map(publicHit);
    } catch (e) {
      if (e?.code === 'invalid_argument') throw badRequest(`${where}: ${e.message}`);  // e.g. a zero vector
      if (e?.code === 'not_found') throw badRequest(`category: ${e.message}`);  // the only not_found of a search
      throw e;
    }
  });
  return { results };
}
