// hnswlib-wasm (npm, hnswlib compiled to WASM; single thread). The package is built for the
// browser: it needs a `window` global and IndexedDB for its Emscripten IDBFS mount, which
// fake-indexeddb provides under node. The serialized size is read back from the IDBFS
// store after writeIndex + syncFS.
import { timeQueries } from './common.mjs';

export const engine = 'hnswlib-wasm';
export const runtime = 'wasm';

export const SETTINGS = [
  { M: 16, efC: 128, ef: [32, 64, 128] },
];

let libPromise = null;
async function lib() {
  if (!libPromise) {
    libPromise = (async () => {
      await import('fake-indexeddb/auto');
      globalThis.window ??= globalThis;
      const { loadHnswlib } = await import('hnswlib-wasm/dist/hnswlib.js');
      const l = await loadHnswlib();
      l.EmscriptenFileSystemManager.setDebugLogs(false);
      return l;
    })();
  }
  return libPromise;
}

async function idbFileSize(name) {
  const dbs = await indexedDB.databases();
  for (const { name: dbName } of dbs) {
    const db = await new Promise((res, rej) => { const r = indexedDB.open(dbName); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    try {
      for (const store of db.objectStoreNames) {
        const tx = db.transaction(store, 'readwrite');
        const st = tx.objectStore(store);
        const keys = await new Promise((res) => { const r = st.getAllKeys(); r.onsuccess = () => res(r.result); });
        for (const key of keys) {
          if (!String(key).endsWith('/' + name)) continue;
          const v = await new Promise((res) => { const r = st.get(key); r.onsuccess = () => res(r.result); });
          st.delete(key);
          if (v && v.contents) return v.contents.length;
        }
      }
    } finally { db.close(); }
  }
  return NaN;
}

export async function run({ base, queries, n, d, k = 10, settings = SETTINGS }) {
  const l = await lib();
  const out = [];
  for (const s of settings) {
    const idx = new l.HierarchicalNSW('ip', d, '');
    const t0 = performance.now();
    idx.initIndex(n, s.M, s.efC, 100);
    for (let i = 0; i < n; i++) idx.addPoint(base.subarray(i * d, i * d + d), i, false);
    const build_s = (performance.now() - t0) / 1000;
    const name = `bench-${process.pid}-${n}-${s.M}.dat`;
    await idx.writeIndex(name);
    await l.EmscriptenFileSystemManager.syncFS(false, undefined);
    await new Promise((r) => setTimeout(r, 200));
    const bytes = await idbFileSize(name);
    for (const ef of s.ef) {
      idx.setEfSearch(ef);
      const t = timeQueries(queries, d, k, (q) => idx.searchKnn(q, k, undefined).neighbors);
      out.push({ setting: `M=${s.M},efC=${s.efC},ef=${ef}`, build_s, bytes, build_threads: 1, ...t });
    }
    idx.delete?.();
  }
  return out;
}
