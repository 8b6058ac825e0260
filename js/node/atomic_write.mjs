// Atomic file replacement for node: write a temp file in the same directory, fsync,
// rename over the target. A crash at any moment leaves the old file or the new one (and
// possibly a temp file, which the next write of the same target removes once its writer is
// gone: tests/js/crash_safety.test.mjs kills builds with SIGKILL).
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

import { ShopframeError } from '../errors.mjs';

/** True unless process `pid` is known to be gone (EPERM: alive, someone else's). */
function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code !== 'ESRCH';
  }
}

// Temp files of earlier writes of `path` whose writer died (killed, crashed, powered off).
async function removeStaleTemps(path) {
  const prefix = `.${basename(path)}.tmp-`;
  const names = await readdir(dirname(path)).catch(() => []);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) {
      await unlink(join(dirname(path), name)).catch(() => {});
    }
  }
}

export async function writeFileAtomic(path, bytes) {
  await removeStaleTemps(path);
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fh;
  try {
    fh = await open(tmp, 'wx', 0o644);
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
    fh = null;
    await rename(tmp, path);
  } catch (e) {
    if (fh) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw new ShopframeError('io_error', `cannot write ${path}: ${e.message}`, { cause: e });
  }
  // Make the rename itself durable.
  try {
    const dir = await open(dirname(path), 'r');
    await dir.sync().catch(() => {});
    await dir.close();
  } catch { /* directories cannot be opened on every platform */ }
}
