// ONNX Runtime Web with a precompiled WebAssembly.Module for its wasm, instead of letting its
// loader fetch and compile the 14 MB file itself. Workers (workerd, Cloudflare) forbid compiling
// wasm from bytes, and browser pages that attach to many videos should compile it once and
// hand the module to every Web Worker.
//
// ORT gets a marker ArrayBuffer as `env.wasm.wasmBinary` (which also makes it use the loader
// bundled into onnxruntime-web instead of importing one by URL); while `fn` runs (the engine
// is created), WebAssembly.instantiate swaps that marker for the module. Nothing else is
// touched, and the original function is restored before this returns.
//
// Threads (createVision's numThreads > 1, cross-origin isolated pages only): ORT's main thread
// posts the same module to its pthread workers, so they never compile wasm either. The bundled
// loader starts those workers from its own script URL (in a bundle, the bundle itself), so a
// bundle that is also a Web Worker must leave workers named 'em-pthread*' to ORT
// (js/web/worker.mjs does).
import * as ort from 'onnxruntime-web';

export async function withPrecompiledOrtWasm(ortWasm, fn) {
  const marker = new ArrayBuffer(0);
  const original = WebAssembly.instantiate;
  WebAssembly.instantiate = function instantiate(source, imports) {
    if (source === marker || source?.buffer === marker) {  // the loader wraps wasmBinary in a Uint8Array
      return original.call(WebAssembly, ortWasm, imports).then((instance) => ({ instance, module: ortWasm }));
    }
    return original.apply(WebAssembly, arguments);
  };
  ort.env.wasm.wasmBinary = marker;
  ort.env.wasm.proxy = false;  // threads, if any, come from fn's createVision({ numThreads })
  try {
    return await fn();
  } finally {
    WebAssembly.instantiate = original;
  }
}
