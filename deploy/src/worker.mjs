// Entry of the shopframe edge worker (Cloudflare Workers / workerd, module syntax).
//
// Workers forbid compiling WebAssembly from bytes, so the core arrives as a module the
// runtime compiled at upload: wrangler's default rule (and workerd's `wasm` module type)
// turns this import into a WebAssembly.Module. The catalog index (and, with --analyze,
// ONNX Runtime's wasm and the models) come from deploy/dist/assets.mjs, which
// `node deploy/build.mjs` writes. See deploy/README.md.
import coreWasm from '../../build/wasm/shopframe_core.wasm';
import assets from '../dist/assets.mjs';

import { createApp } from './app.mjs';

export default createApp({ coreWasm, assets });
