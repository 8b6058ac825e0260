#!/usr/bin/env node
// Runs the edge worker locally in workerd, in the foreground until stopped (Ctrl-C):
//
//   npm run edge:dev                                   # http://127.0.0.1:8787, the demo catalog
//   PORT=9000 npm run edge:dev -- --catalog shop.sfi   # another port, another index
//        [--no-analyze]
//
// The catalog defaults to the demo's, build/demo/web/catalog.sfi (made by
// `node tools/demo.mjs --no-serve`); without it this exits with status 2 and says so (a
// synthetic stand-in would serve answers that mean nothing). /v1/analyze is on when the
// catalog was built with the default embedder and the models resolve (js/models.mjs), else
// off with a note. CORS_ORIGINS, CATALOG_TOKEN and CATALOG_UPLOAD_LIMIT are read from this
// environment by workerd at run time (`fromEnvironment` bindings), so the token is never
// written to disk:
//   CATALOG_TOKEN=dev-secret npm run edge:dev
//   curl -X PUT -H 'authorization: Bearer dev-secret' -H 'content-type: application/octet-stream' \
//        --data-binary @other.sfi http://127.0.0.1:8787/v1/catalog
// Files go to build/edge-dev/ (deploy/dist/ is left to `node deploy/build.mjs`).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { REPO, checkCatalog, collectModules, defaultDetector, embedderFor, resolveModelArg, workerdConfig, writeDist } from './build.mjs';

const DEMO_CATALOG = join(REPO, 'build', 'demo', 'web', 'catalog.sfi');
const OUT = join(REPO, 'build', 'edge-dev');
const WORKERD = join(REPO, 'node_modules', '.bin', 'workerd');

const fail = (message, code = 1) => {
  console.error(`edge:dev: ${message}`);
  process.exit(code);
};

const { values } = parseArgs({
  options: { catalog: { type: 'string' }, 'no-analyze': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  const lines = readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1);
  console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`PORT must be a port number (1..65535), got '${process.env.PORT}'`, 2);
const catalogPath = resolve(values.catalog ?? DEMO_CATALOG);
if (!existsSync(catalogPath)) {
  fail(values.catalog ? `no such catalog: ${catalogPath}`
    : `the demo catalog ${relative(process.cwd(), catalogPath)} is missing: run \`node tools/demo.mjs --no-serve\` (needs ../shared/data/grocery) ` +
      'or pass another index: `npm run edge:dev -- --catalog FILE.sfi`', 2);
}
if (!existsSync(WORKERD)) fail(`${WORKERD} not found: run npm ci (devDependency workerd)`, 2);

const catalog = new Uint8Array(await readFile(catalogPath));
let analyze = null;
if (!values['no-analyze']) {
  try {
    analyze = { embedder: await resolveModelArg(await embedderFor(catalog), 'embedder'), detector: await resolveModelArg(await defaultDetector(), 'detector'), bucket: false };
    await checkCatalog(catalog, analyze);
  } catch (e) {
    console.log(`note: /v1/analyze is off (${e.message})`);
    analyze = null;
  }
}
let info;
try {
  info = await checkCatalog(catalog, null);
} catch (e) {
  fail(`${catalogPath} is not a usable index: ${e.message}`);
}

await writeDist({ out: OUT, catalog, analyze });
const address = `127.0.0.1:${port}`;
const bindings = ['CORS_ORIGINS', 'CATALOG_TOKEN', 'CATALOG_UPLOAD_LIMIT'].map((name) => ({ name, fromEnvironment: name }));
await writeFile(join(OUT, 'workerd.capnp'), workerdConfig({ modules: collectModules({ dist: OUT }), configDir: OUT, services: [{ name: 'shopframe', address, bindings }] }));

console.log(`catalog: ${relative(process.cwd(), catalogPath)} (${info.items} items, ${info.dim}-d); /v1/analyze ${analyze ? 'on' : 'off'}; ` +
  `CORS_ORIGINS ${process.env.CORS_ORIGINS ? `'${process.env.CORS_ORIGINS}'` : 'unset (no CORS)'}; PUT /v1/catalog ${process.env.CATALOG_TOKEN ? 'on (CATALOG_TOKEN)' : 'off (no CATALOG_TOKEN)'}`);
const child = spawn(WORKERD, ['serve', join(OUT, 'workerd.capnp')], { stdio: 'inherit' });
// Ctrl-C reaches workerd too (same process group); a SIGTERM sent to this process alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (e) => fail(`workerd: ${e.message}`));
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));

// Say when it answers (workerd prints nothing on start).
for (let i = 0; i < 150 && child.exitCode === null; ++i) {
  try {
    const res = await fetch(`http://${address}/v1/health`);
    console.log(res.ok ? `ready: http://${address}/v1/health (Ctrl-C stops it)` : `listening on http://${address}, but /v1/health says ${res.status}: ${await res.text()}`);
    break;
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 200));
}
