// Binary exchange with the native harnesses: uint32 n, uint32 d, then n*d float32 (LE).
import fs from 'node:fs';

export function writeMatrix(path, data, n, d) {
  const fd = fs.openSync(path + '.tmp', 'w');
  try {
    fs.writeSync(fd, new Uint8Array(new Uint32Array([n, d]).buffer));
    const bytes = new Uint8Array(data.buffer, data.byteOffset, n * d * 4);
    const CH = 1 << 26;
    for (let o = 0; o < bytes.length; o += CH) fs.writeSync(fd, bytes.subarray(o, Math.min(bytes.length, o + CH)));
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(path + '.tmp', path);
}

export function writeInt32(path, arr) {
  fs.writeFileSync(path + '.tmp', new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  fs.renameSync(path + '.tmp', path);
}

export function readInt32(path, expectLen) {
  const b = fs.readFileSync(path);
  if (b.byteLength !== expectLen * 4) return null;
  const out = new Int32Array(expectLen);
  new Uint8Array(out.buffer).set(b);
  return out;
}
