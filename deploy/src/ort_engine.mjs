// The vision engine inside a worker: ONNX Runtime Web (wasm backend, one thread) plus the
// shopframe engine (js/engine.mjs). Loaded only by deployments built with `--analyze`
// (deploy/dist/assets.mjs imports this module lazily), so others do not carry ORT.
//
// Workers forbid compiling wasm from bytes, and ORT's emscripten loader would fetch and
// compile `ort-wasm-simd-threaded.wasm` itself. So ORT gets a marker ArrayBuffer as
// `env.wasm.wasmBinary` (which also makes it use the loader bundled into onnxruntime-web
// instead of importing one by URL), and, while the engine is created, WebAssembly.instantiate
// swaps that marker for the precompiled module the worker imported. Nothing else is touched,
// and the original function is restored before this returns.
import * as ort from 'onnxruntime-web';

import { createEngine } from '../../js/engine.mjs';

async function withPrecompiledOrtWasm(ortWasm, fn) {
  const marker = new ArrayBuffer(0);
  const original = WebAssembly.instantiate;
  WebAssembly.instantiate = function instantiate(source, imports) {
    if (source === marker || source?.buffer === marker) {  // the loader wraps wasmBinary in a Uint8Array
      return original.call(WebAssembly, ortWasm, imports).then((instance) => ({ instance, module: ortWasm }));
    }
    return original.apply(WebAssembly, arguments);
  };
  ort.env.wasm.wasmBinary = marker;
  ort.env.wasm.numThreads = 1;  // no SharedArrayBuffer workers in a worker
  ort.env.wasm.proxy = false;
  try {
    return await fn();
  } finally {
    WebAssembly.instantiate = original;
  }
}

/**
 * @param {{ index: import('../../js/shopframe.mjs').Index, coreWasm: WebAssembly.Module, ortWasm: WebAssembly.Module,
 *           embedder: { manifest, bytes }, detector: { manifest, bytes } | null }} options
 */
export async function createWorkerEngine({ index, coreWasm, ortWasm, embedder, detector }) {
  const model = (m) => m && { manifest: m.manifest, bytes: new Uint8Array(m.bytes), source: m.source };
  return withPrecompiledOrtWasm(ortWasm, () => createEngine({
    index, wasmModule: coreWasm, numThreads: 1,
    models: { embedder: model(embedder), detector: detector ? model(detector) : null },
  }));
}
