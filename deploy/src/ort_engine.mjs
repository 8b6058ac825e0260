// The vision engine inside a worker: ONNX Runtime Web (wasm backend, one thread) plus the
// shopframe engine (js/engine.mjs, js/vision.mjs). Loaded only by deployments built with `--analyze`
// (deploy/dist/assets.mjs imports this module lazily), so others do not carry ORT.
//
// Workers forbid compiling wasm from bytes: ORT gets the module the worker imported
// (js/ort_wasm.mjs, shared with the browser SDK's Web Worker).
import { Engine } from '../../js/engine.mjs';
import { withPrecompiledOrtWasm } from '../../js/ort_wasm.mjs';
import { createVision } from '../../js/vision.mjs';

/**
 * Loads the models once and returns a function making an engine for a catalog index. One
 * Vision (the ORT sessions and the frame buffer) serves every index this isolate ever holds,
 * so a catalog swap costs no model reload; each engine is a light object over it
 * (createEngine would load the models again). The caller checks the index's embedder
 * (analyze.mjs embedderMismatch), as createEngine would.
 * @param {{ coreWasm: WebAssembly.Module, ortWasm: WebAssembly.Module,
 *           embedder: { manifest, bytes, source }, detector: { manifest, bytes, source } | null }} options
 * @returns {Promise<(index: import('../../js/shopframe.mjs').Index) => Engine>}
 */
export async function createWorkerEngines({ coreWasm, ortWasm, embedder, detector }) {
  const model = (m) => m && { manifest: m.manifest, bytes: new Uint8Array(m.bytes), source: m.source };
  const vision = await withPrecompiledOrtWasm(ortWasm, () => createVision({
    wasmModule: coreWasm, numThreads: 1, embedder: model(embedder), detector: detector ? model(detector) : null,
  }));
  return (index) => new Engine(vision, index, false, {});  // false: the catalog, not the engine, closes the index
}
