#!/usr/bin/env node
// Prepares the edge worker: writes deploy/dist/ (the catalog index, optional models, and
// assets.mjs, which the worker entry imports) and a workerd config that serves it.
//
//   node deploy/build.mjs --catalog shop.sfi                 # match/catalog/health only
//   node deploy/build.mjs --catalog shop.sfi --analyze       # + /v1/analyze (ORT, the catalog's embedder, YOLOX-Nano)
//        [--embedder NAME|manifest.json] [--detector NAME|manifest.json|none] [--models-bucket]
//        [--out DIR] [--address 127.0.0.1:8787]
//   npx workerd serve deploy/dist/workerd.capnp              # run it locally
//   cd deploy && npx wrangler dev | deploy                   # or with wrangler (wrangler.toml)
//
// Without --catalog, the worker expects a CATALOG binding (an R2 bucket) instead; with
// --models-bucket, the models are read from a MODELS R2 bucket (ORT + both default models
// are 10.4 MB gzipped, over the 10 MB script limit, before any catalog).
// The functions below are also what tests/worker/ uses to run the worker under workerd.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRY = 'deploy/src/worker.mjs';
export const DIST = 'deploy/dist';
export const ORT_WASM = 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';

const posix = (p) => p.split(sep).join('/');

/**
 * Bare specifiers and the file each stands for (repository paths): deploy/wrangler.toml's
 * [alias] table, so workerd here resolves them as wrangler does there.
 */
export const BARE = wranglerConfig().alias;

const MODULE_TYPES = { '.mjs': 'esModule', '.js': 'esModule', '.wasm': 'wasm', '.sfi': 'data', '.onnx': 'data', '.json': 'json', '.txt': 'text' };
const typeOf = (name) => MODULE_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'data';

// ------------------------------------------------------------------------- deploy/dist

/** The MODELS bucket key of a model (--models-bucket): content-addressed, so versions never clash. */
export const modelKey = (m) => `shopframe-models/${m.manifest.sha256}-${m.manifest.file.split('/').pop()}`;

/**
 * Source of deploy/dist/assets.mjs. `analyze`: null or { embedder, detector, bucket }, models as
 * { manifest, manifestText, bytes, source }; with `bucket` the models are read from the MODELS
 * R2 bucket at run time instead of being bundled.
 */
export function assetsSource({ catalog, analyze }) {
  const lines = ['// Written by deploy/build.mjs: what this deployment bundles. Do not edit.'];
  lines.push(catalog ? "import catalog from './catalog.sfi';" : 'const catalog = null;  // the CATALOG binding provides the index');
  let analyzeExpr = 'null';
  if (analyze) {
    lines.push(`import ortWasm from '../../${ORT_WASM}';`);
    if (!analyze.bucket) {
      lines.push("import embedderBytes from './models/embedder.onnx';");
      if (analyze.detector) lines.push("import detectorBytes from './models/detector.onnx';");
    }
    const model = (m, bytes) => `{ manifest: ${JSON.stringify(m.manifestText)}, source: ${JSON.stringify(m.source)}, `
      + (analyze.bucket ? `bytes: null, key: ${JSON.stringify(modelKey(m))} }` : `bytes: ${bytes} }`);
    analyzeExpr = `{
    ortWasm,
    embedder: ${model(analyze.embedder, 'embedderBytes')},
    detector: ${analyze.detector ? model(analyze.detector, 'detectorBytes') : 'null'},
    load: () => import('../src/ort_engine.mjs'),
  }`;
  }
  lines.push('', `export default {\n  catalog,\n  analyze: ${analyzeExpr},\n};`, '');
  return lines.join('\n');
}

/**
 * Writes `out` (default deploy/dist): catalog.sfi, models/*.onnx, assets.mjs.
 * @param {{ out?: string, catalog?: Uint8Array | null,
 *           analyze?: null | { embedder: { manifestText, bytes, source }, detector: { manifestText, bytes, source } | null } }} options
 */
export async function writeDist({ out = join(REPO, DIST), catalog = null, analyze = null }) {
  await rm(join(out, 'models'), { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  if (catalog) await writeFile(join(out, 'catalog.sfi'), catalog);
  else await rm(join(out, 'catalog.sfi'), { force: true });
  if (analyze) {
    if (!existsSync(join(REPO, ORT_WASM))) throw new Error(`${ORT_WASM} is missing: run npm ci`);
  }
  if (analyze && !analyze.bucket) {
    await mkdir(join(out, 'models'), { recursive: true });
    await writeFile(join(out, 'models', 'embedder.onnx'), analyze.embedder.bytes);
    if (analyze.detector) await writeFile(join(out, 'models', 'detector.onnx'), analyze.detector.bytes);
  }
  await writeFile(join(out, 'assets.mjs'), assetsSource({ catalog, analyze }));
  return out;
}

// ------------------------------------------------------------------------- modules

const IMPORT_RE = [
  /\bimport\s+(?:[\w*{}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/g,   // import x from '...'; import '...'
  /\bexport\s+(?:\*|\{[^}]*\})\s*(?:as\s+\w+\s+)?from\s+['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,                       // import('...') with a literal
];

function importSpecifiers(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out = new Set();
  for (const re of IMPORT_RE) for (const m of code.matchAll(re)) out.add(m[1]);
  return [...out];
}

/**
 * The worker's modules, from the entry through every relative import (static or a literal
 * dynamic one), named by their repository path so relative imports resolve in workerd as on
 * disk. `node:` imports are left out (they sit on node-only paths); a bare specifier in BARE
 * becomes one module at the package file, plus a re-export at each importer's directory
 * (workerd resolves a bare name relative to the importer), so every importer shares one instance.
 * Names under deploy/dist/ are read from `dist` (another directory in tests).
 * @returns {{ name: string, type: string, path?: string, source?: string }[]}
 */
export function collectModules({ entry = ENTRY, dist = join(REPO, DIST) } = {}) {
  const physical = (name) => (name.startsWith(`${DIST}/`) ? join(dist, name.slice(DIST.length + 1)) : join(REPO, name));
  const modules = new Map();
  const queue = [entry];
  const add = (name, from) => {
    if (modules.has(name) || queue.includes(name)) return;
    if (!existsSync(physical(name))) throw new Error(`${from} imports ${name}, which does not exist (${physical(name)})`);
    queue.push(name);
  };
  while (queue.length) {
    const name = queue.shift();
    const type = typeOf(name);
    modules.set(name, { name, type, path: physical(name) });
    if (type !== 'esModule' || name.startsWith('node_modules/')) continue;  // packages come prebundled
    for (const spec of importSpecifiers(readFileSync(physical(name), 'utf8'))) {
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('./') || spec.startsWith('../')) {
        add(posix(join(dirname(name), spec)), name);
      } else if (BARE[spec]) {
        const target = BARE[spec];
        add(target, name);
        const alias = posix(join(dirname(name), spec));
        let rel = posix(relative(dirname(alias), target));
        if (!rel.startsWith('.')) rel = `./${rel}`;
        modules.set(alias, { name: alias, type: 'esModule', source: `export * from '${rel}';\n` });
      } else {
        throw new Error(`${name} imports '${spec}': not a relative path and not in deploy/build.mjs BARE`);
      }
    }
  }
  return [...modules.values()];
}

// ------------------------------------------------------------------------- workerd config

/**
 * What tests and the workerd config take from deploy/wrangler.toml (a small TOML subset:
 * compatibility_date, compatibility_flags, and the [alias] table with paths relative to deploy/),
 * so workerd here runs what wrangler would bundle and Cloudflare would run.
 */
export function wranglerConfig(path = join(REPO, 'deploy', 'wrangler.toml')) {
  const text = readFileSync(path, 'utf8');
  const date = text.match(/^\s*compatibility_date\s*=\s*"([^"]+)"/m)?.[1];
  const flags = text.match(/^\s*compatibility_flags\s*=\s*\[([^\]]*)\]/m)?.[1];
  if (!date) throw new Error(`${path}: no compatibility_date`);
  const alias = {};
  const table = text.match(/^\[alias\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m)?.[1] ?? '';
  for (const m of table.matchAll(/^\s*"([^"]+)"\s*=\s*"([^"]+)"/gm)) alias[m[1]] = posix(relative(REPO, resolve(dirname(path), m[2])));
  return { date, flags: flags ? [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]) : [], alias };
}

const capnpString = (s) => `"${String(s).replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;

/**
 * A workerd config (Cap'n Proto text) with one worker and socket per service. Paths are
 * embedded relative to `configDir`, where the config must be written.
 * @param {{ modules: object[], configDir: string, compat?: { date: string, flags: string[] },
 *           services?: { name: string, address: string, modules?: object[],
 *                        bindings?: { name: string, text?: string, dataPath?: string, fromEnvironment?: string }[] }[] }} options
 *   a service's `modules` (default: `modules`) come from collectModules; a `fromEnvironment`
 *   binding takes workerd's environment variable of that name (null when unset), so secrets
 *   stay out of the config file.
 */
export function workerdConfig({ modules, configDir, services = [{ name: 'shopframe', address: '127.0.0.1:8787' }], compat = wranglerConfig() }) {
  const embed = (path) => `embed ${capnpString(posix(relative(configDir, path)))}`;
  const moduleList = (list) => list.map((m) => `  (name = ${capnpString(m.name)}, ${m.type} = ${m.source !== undefined ? capnpString(m.source) : embed(m.path)}),`);
  const binding = (b) => `(name = ${capnpString(b.name)}, ${b.dataPath ? `data = ${embed(b.dataPath)}`
    : b.fromEnvironment ? `fromEnvironment = ${capnpString(b.fromEnvironment)}` : `text = ${capnpString(b.text)}`})`;
  const ident = (prefix, name) => `${prefix}${name.replace(/[^A-Za-z0-9]/g, '')}`;  // capnp names: camelCase, no '_'
  const lists = [...new Set([modules, ...services.map((s) => s.modules ?? modules)])];
  const listName = (l) => `modules${lists.indexOf(l) || ''}`;
  return [
    '# Written by deploy/build.mjs. Run: workerd serve THIS_FILE',
    'using Workerd = import "/workerd/workerd.capnp";',
    '',
    'const config :Workerd.Config = (',
    `  services = [${services.map((s) => `(name = ${capnpString(s.name)}, worker = .${ident('worker', s.name)})`).join(', ')}],`,
    `  sockets = [${services.map((s) => `(name = ${capnpString(s.name)}, address = ${capnpString(s.address)}, http = (), service = ${capnpString(s.name)})`).join(', ')}],`,
    ');',
    '',
    ...lists.map((l) => [`const ${listName(l)} :List(Workerd.Worker.Module) = [`, ...moduleList(l), '];', ''].join('\n')),
    ...services.map((s) => [
      `const ${ident('worker', s.name)} :Workerd.Worker = (`,
      `  modules = .${listName(s.modules ?? modules)},`,
      `  compatibilityDate = ${capnpString(compat.date)},`,
      `  compatibilityFlags = [${compat.flags.map(capnpString).join(', ')}],`,
      `  bindings = [${(s.bindings ?? []).map(binding).join(', ')}],`,
      ');',
      '',
    ].join('\n')),
  ].join('\n');
}

/**
 * What the worker uploads: each module's bytes and gzip (level 6) size, largest first.
 * Cloudflare's script size limits apply to the compressed upload; the sum of the modules'
 * gzip sizes stands in for it here (wrangler, which would report it, is not installed).
 */
export function bundleSize(modules) {
  let raw = 0, gz = 0;
  const sizes = modules.map((m) => {
    const bytes = m.source !== undefined ? Buffer.from(m.source) : readFileSync(m.path);
    const z = gzipSync(bytes, { level: 6 }).length;
    raw += bytes.length;
    gz += z;
    return { name: m.name, bytes: bytes.length, z };
  }).sort((a, b) => b.z - a.z);
  return { raw, gz, sizes };
}

// ------------------------------------------------------------------------- CLI

/** A model for --analyze: a registry name or a manifest path, resolved and verified (js/models.mjs). */
export async function resolveModelArg(arg, role) {
  const { resolveModel } = await import('../js/models.mjs');
  const r = await resolveModel(arg);
  return { manifest: r.manifest, manifestText: r.manifestText ?? JSON.stringify(r.manifest), bytes: r.bytes, source: r.manifest.name, path: r.path, role };
}

/** The default region proposer (js/engine.mjs DEFAULT_MODELS), for --analyze. */
export async function defaultDetector() {
  return (await import('../js/engine.mjs')).DEFAULT_MODELS.detector;
}

/**
 * The embedder to pair with a catalog: the one it was built with when its manifest is known, else
 * (or without a catalog) the default; its one-pass variant when its manifest names one (one
 * embedder run per request instead of one per region, js/engine.mjs).
 */
export async function embedderFor(catalogBytes) {
  const [{ loadIndex }, { isKnownModel, onePassVariant }, { DEFAULT_MODELS }] = await Promise.all([
    import('../js/shopframe.mjs'), import('../js/models.mjs'), import('../js/engine.mjs')]);
  let name = DEFAULT_MODELS.embedder;
  if (catalogBytes) {
    const index = await loadIndex(catalogBytes);
    try {
      const built = index.config()?.embedder?.name;
      if (isKnownModel(built)) name = built;
    } finally {
      index.close();
    }
  }
  return onePassVariant(name);
}

/** Opens the index (checksums verified) and, with `analyze`, checks it was built with that embedder. */
export async function checkCatalog(bytes, analyze) {
  const { loadIndex } = await import('../js/shopframe.mjs');
  const index = await loadIndex(bytes);  // validates the file and its checksums
  try {
    const want = index.config()?.embedder;
    if (analyze) {
      const have = analyze.embedder.manifest;
      const { embedderServesIndex } = await import('../js/engine.mjs');
      if (index.dim !== have.embedding_dim || !embedderServesIndex(have, want)) {
        throw new Error(`the catalog was built with embedder ${want?.name ?? '?'} (${index.dim}-d), not ${have.name} (${have.embedding_dim}-d): /v1/analyze would fail`);
      }
    }
    return { items: index.size, dim: index.dim };
  } finally {
    index.close();
  }
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      catalog: { type: 'string' }, analyze: { type: 'boolean', default: false }, 'models-bucket': { type: 'boolean', default: false },
      embedder: { type: 'string' }, detector: { type: 'string' },
      out: { type: 'string' }, address: { type: 'string', default: '127.0.0.1:8787' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
    console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    return;
  }
  const out = resolve(values.out ?? join(REPO, DIST));
  const catalog = values.catalog ? new Uint8Array(await readFile(values.catalog)) : null;
  const analyze = values.analyze ? {
    embedder: await resolveModelArg(values.embedder ?? await embedderFor(catalog), 'embedder'),
    detector: values.detector === 'none' ? null : await resolveModelArg(values.detector ?? await defaultDetector(), 'detector'),
    bucket: values['models-bucket'],
  } : null;
  if (catalog) {
    const { items, dim } = await checkCatalog(catalog, analyze);
    console.log(`catalog: ${values.catalog}, ${items} items, ${dim}-d`);
  } else {
    console.log('no --catalog: the worker will read the index from its CATALOG binding (an R2 bucket)');
  }
  await writeDist({ out, catalog, analyze });
  const modules = collectModules({ dist: out });
  const config = workerdConfig({ modules, configDir: out, services: [{ name: 'shopframe', address: values.address }] });
  await writeFile(join(out, 'workerd.capnp'), config);
  const { raw, gz, sizes } = bundleSize(modules);
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`wrote ${relative(process.cwd(), out) || '.'}/: assets.mjs, workerd.capnp; ${modules.length} modules, ${mb(raw)} (${mb(gz)} gzipped)`);
  console.log(`  largest (gzipped): ${sizes.slice(0, 4).map((x) => `${x.name} ${mb(x.z)}`).join(', ')}`);
  if (gz > 10e6) console.log('warning: over 10 MB gzipped, the Cloudflare Workers (paid) script size limit: serve the catalog from R2 (build without --catalog), the models too (--models-bucket), or drop the detector (--detector none)');
  else if (gz > 3e6) console.log('note: over 3 MB gzipped, the Cloudflare Workers free-plan script size limit');
  if (analyze?.bucket) {
    console.log('the models are not bundled; upload them to the R2 bucket bound as MODELS:');
    for (const m of [analyze.embedder, analyze.detector].filter(Boolean)) console.log(`  npx wrangler r2 object put BUCKET/${modelKey(m)} --file ${m.path}`);
  }
  console.log(`run: npx workerd serve ${relative(process.cwd(), join(out, 'workerd.capnp'))}   (http://${values.address}/v1/health)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`deploy/build.mjs: ${e.message}`);
    process.exitCode = 1;
  });
}
