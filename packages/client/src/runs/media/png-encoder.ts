/**
 * PNG encoding of raw pixels with nothing but `node:zlib`: an IHDR, one IDAT holding the
 * deflated scanlines (filter `None` on each row, which deflate compresses well enough for
 * logged samples) and an IEND. Enough for `run.logImage` of an RGB(A) array without a
 * native image library.
 */
import { deflate, deflateSync } from 'node:zlib';

/** Grey, grey + alpha, RGB, RGBA. */
export type Channels = 1 | 2 | 3 | 4;

/** 8-bit pixels, row after row, `channels` bytes a pixel. */
export interface RawPixels {
  width: number;
  height: number;
  channels: Channels;
  data: Uint8Array;
}

const COLOR_TYPE: Record<Channels, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  let c = crc;
  for (let index = 0; index < bytes.length; index++) {
    c = (CRC_TABLE[(c ^ (bytes[index] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return c;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let index = 0; index < 4; index++) out[4 + index] = type.charCodeAt(index);
  out.set(body, 8);
  view.setUint32(8 + body.length, (crc32(out.subarray(4, 8 + body.length)) ^ 0xffffffff) >>> 0);
  return out;
}

/** The scanlines as PNG stores them before deflate: a filter byte (0) before each row. */
function scanlines(pixels: RawPixels): Uint8Array {
  const { width, height, channels, data } = pixels;
  const row = width * channels;
  if (data.length !== row * height) {
    throw new RangeError(`${width}×${height}×${channels} pixels need ${row * height} bytes, not ${data.length}`);
  }
  const out = new Uint8Array((row + 1) * height);
  for (let y = 0; y < height; y++) out.set(data.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  return out;
}

function assemble(pixels: RawPixels, compressed: Uint8Array): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, pixels.width);
  view.setUint32(4, pixels.height);
  header[8] = 8;
  header[9] = COLOR_TYPE[pixels.channels];
  const parts = [SIGNATURE, chunk('IHDR', header), chunk('IDAT', compressed), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The PNG file of `pixels`, deflated on libuv's thread pool (the training loop keeps going).
 *
 * @example
 * const png = await encodePng({ width: 2, height: 1, channels: 3, data: Uint8Array.of(255, 0, 0, 0, 0, 255) });
 */
export function encodePng(pixels: RawPixels): Promise<Uint8Array> {
  const lines = scanlines(pixels);
  return new Promise((resolve, reject) =>
    deflate(lines, (error, compressed) => (error ? reject(error) : resolve(assemble(pixels, compressed)))),
  );
}

/** {@link encodePng} on this thread (for a process that is exiting). */
export function encodePngSync(pixels: RawPixels): Uint8Array {
  return assemble(pixels, deflateSync(scanlines(pixels)));
}
