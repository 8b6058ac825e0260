// Loads the WASM core once per realm, the same way in node, browsers and workers.
// The host supplies the wasm:
//   - workers (workerd, Cloudflare): `import wasmModule from './shopframe_core.wasm'` and
//     `initCore({ wasmModule })` first: they forbid compiling wasm from bytes;
//   - node: the .wasm next to the loader is read and compiled here;
//   - browsers: the loader fetches it next to itself (or pass wasmModule / wasmUrl).
import createShopframeCore from '../build/wasm/shopframe_core.mjs';
import { ShopframeError } from './errors.mjs';

export { ShopframeError };

let corePromise = null;

async function compileForHost(options) {
  if (options.wasmModule) return options.wasmModule;
  const url = options.wasmUrl ?? new URL('../build/wasm/shopframe_core.wasm', import.meta.url);
  if (String(url).startsWith('file:')) {  // node (and other runtimes with node:fs)
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  if (typeof WebAssembly.compileStreaming === 'function') return WebAssembly.compileStreaming(fetch(url));
  return WebAssembly.compile(await (await fetch(url)).arrayBuffer());
}

/**
 * Initialise the core (idempotent; the first call's options win).
 * @param {{ wasmModule?: WebAssembly.Module, wasmUrl?: string | URL }} [options]
 */
export function initCore(options = {}) {
  if (!corePromise) {
    corePromise = (async () => {
      const module = await compileForHost(options);
      return createShopframeCore({
        instantiateWasm(imports, done) {
          WebAssembly.instantiate(module, imports).then((instance) => done(instance, module));
          return {};
        },
        locateFile: (path) => path,  // never used for the wasm (instantiateWasm above); workerd has no import.meta.url
      });
    })();
    corePromise.catch(() => { corePromise = null; });
  }
  return corePromise;
}


/**
 * A byte buffer in WASM memory, or a ShopframeError when it cannot be had: WASM memory is
 * capped (2 GB, wasm/CMakeLists.txt) and must also hold everything else the core keeps.
 */
export function allocBuffer(core, size, what) {
  if (!Number.isSafeInteger(size) || size < 0) throw new ShopframeError('invalid_argument', `${what}: bad size ${size}`);
  const buffer = core.makeBuffer(size);
  if (!buffer) {
    throw new ShopframeError('out_of_memory', `${what}: ${size} bytes do not fit in WASM memory ` +
      `(${Math.round(core.heapBytes() / 2 ** 20)} MiB in use, at most 2048 MiB)`);
  }
  return buffer;
}

export function throwCoreError(obj) {
  throw new ShopframeError(obj.errorCode() || 'internal', obj.errorMessage() || 'unknown error');
}
