// Atomic file replacement for node: write a temp file in the same directory, fsync,
// rename over the target. A crash at any moment leaves the old file or the new one.
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

import { ShopframeError } from '../errors.mjs';

export async function writeFileAtomic(path, bytes) {
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
