// A minimal PNG encoder for tests: 8-bit RGB (channels 3) or RGBA (4), filter 0 on every row,
// one IDAT chunk.
import { crc32, deflateSync } from 'node:zlib';

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * `pixels`: width * height * channels bytes, rows top to bottom. `idat` replaces the
 * compressed pixels (to make damaged files).
 */
export function encodePng(pixels, width, height, channels = 4, { idat } = {}) {
  const row = width * channels;
  const raw = Buffer.alloc(height * (1 + row));
  for (let y = 0; y < height; ++y) Buffer.from(pixels.buffer, pixels.byteOffset + y * row, row).copy(raw, y * (1 + row) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8);
  // A plain Uint8Array, not a Buffer: tests copy it with slice(), which on a Buffer is a view.
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', idat ?? deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
}
