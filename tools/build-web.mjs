#!/usr/bin/env node
// Bundles the browser SDK (shopframe/web) into build/web/, a directory a page can serve as is:
//   index.mjs      attachShoppable (main thread; no dependencies)
//   element.mjs    <shopframe-suggestions>
//   worker.mjs     the Web Worker: js/web/worker.mjs + the WASM core loader + ONNX Runtime Web
//   shopframe_core.wasm, ort-wasm-simd-threaded.wasm   fetched by the worker, next to it
// The worker needs a bundle because browsers do not apply import maps inside workers, and the
// engine imports the bare specifier 'onnxruntime-web'. Incremental: skips work when every output
// is newer than every input. Run by tools/build.sh (wasm, all).
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'web');
const ORT_DIST = join(root, 'node_modules', 'onnxruntime-web', 'dist');
const CORE_WASM = join(root, 'build', 'wasm', 'shopframe_core.wasm');
const CORE_JS = join(root, 'build', 'wasm', 'shopframe_core.mjs');

const jsFiles = (dir) => readdirSync(dir).filter((f) => f.endsWith('.mjs')).map((f) => join(dir, f));
const inputs = [...jsFiles(join(root, 'js')), ...jsFiles(join(root, 'js', 'web')), CORE_JS, CORE_WASM,
  join(ORT_DIST, 'ort.wasm.bundle.min.mjs'), join(ORT_DIST, 'ort-wasm-simd-threaded.wasm')];
const outputs = ['index.mjs', 'element.mjs', 'worker.mjs', 'shopframe_core.wasm', 'ort-wasm-simd-threaded.wasm'].map((f) => join(out, f));

for (const f of inputs) {
  if (!existsSync(f)) {
    console.error(`build-web: missing ${f} (run tools/build.sh wasm and npm ci first)`);
    process.exit(2);
  }
}
const mtime = (f) => statSync(f).mtimeMs;
if (outputs.every(existsSync) && Math.min(...outputs.map(mtime)) > Math.max(...inputs.map(mtime))) process.exit(0);

const esbuild = await import('esbuild');
mkdirSync(out, { recursive: true });
const common = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: true, logLevel: 'warning', legalComments: 'none' };
await esbuild.build({
  ...common,
  entryPoints: { worker: join(root, 'js', 'web', 'worker.mjs') },
  outdir: out, outExtension: { '.js': '.mjs' },
  // The wasm-only ORT build with its loader inlined: no WebGPU/WebNN code, no second fetch.
  alias: { 'onnxruntime-web': join(ORT_DIST, 'ort.wasm.bundle.min.mjs') },
  // node-only paths stay out: node: modules are reached only behind file: URLs, and the model
  // registry (models by name, from disk) becomes a stub naming what to pass instead.
  external: ['node:*'],
  plugins: [{
    name: 'no-model-registry',
    setup(b) {
      b.onResolve({ filter: /\/models\.mjs$/ }, () => ({ path: 'models.mjs', namespace: 'stub' }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
        contents: "export async function resolveModel(name) { throw new Error(`model '${name}': browsers need { manifest, url } (models by name are resolved in node only)`); }",
      }));
    },
  }],
});
await esbuild.build({
  ...common,
  entryPoints: { index: join(root, 'js', 'web', 'index.mjs'), element: join(root, 'js', 'web', 'element.mjs') },
  outdir: out, outExtension: { '.js': '.mjs' },
});
copyFileSync(CORE_WASM, join(out, 'shopframe_core.wasm'));
copyFileSync(join(ORT_DIST, 'ort-wasm-simd-threaded.wasm'), join(out, 'ort-wasm-simd-threaded.wasm'));
console.log(`build-web: ${out}`);
