/**
 * What `run.logImage` accepts, turned into either an encoded picture (a file or bytes of a
 * PNG, JPEG, GIF or WebP, recognised by their first bytes) or 8-bit raw pixels to encode as
 * PNG. Raw pixels are a flat array with `width`, `height` and `channels`, or nested arrays
 * `[height][width][channels]` (`[height][width]` for grey), as numpy's `tolist()` gives them.
 * Uint8 arrays are 0..255; float typed arrays are 0..1; plain numbers are 0..1 unless one of
 * them is above 1 (then 0..255). The input is copied: changing it after the call changes nothing.
 */
import { readFileSync } from 'node:fs';
import { LarderError } from '@larder/protocol';
import type { Channels, RawPixels } from './png-encoder.js';

export type PixelArray = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array | readonly number[];

/** Raw pixels, row after row. */
export interface RawImage {
  data: PixelArray;
  width: number;
  height: number;
  /** 1 (grey), 2 (grey + alpha), 3 (RGB, the default) or 4 (RGBA). */
  channels?: number;
}

/** `[height][width][channels]` or `[height][width]`. */
export type NestedPixels = readonly (readonly (readonly number[])[])[] | readonly (readonly number[])[];

/** A file path, the bytes of an encoded picture, or raw pixels. */
export type ImageInput = string | Uint8Array | ArrayBuffer | RawImage | NestedPixels;

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

export interface EncodedImage {
  kind: 'encoded';
  bytes: Uint8Array;
  mime: ImageMime;
}

export interface PixelImage {
  kind: 'pixels';
  pixels: RawPixels;
}

const MAX_SIDE = 16_384;

/** The picture type of encoded bytes, from their signature; undefined when they are none of the four. */
export function imageMime(bytes: Uint8Array): ImageMime | undefined {
  const starts = (...signature: number[]) => signature.every((byte, index) => bytes[index] === byte);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42) {
    return bytes[11] === 0x50 ? 'image/webp' : undefined;
  }
  return undefined;
}

function encoded(bytes: Uint8Array, what: string): EncodedImage {
  const mime = imageMime(bytes);
  if (!mime) {
    throw new LarderError(
      'BadRequest',
      `${what} is not a PNG, JPEG, GIF or WebP picture; pass raw pixels as { data, width, height, channels }`,
    );
  }
  return { kind: 'encoded', bytes, mime };
}

function side(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_SIDE) {
    throw new LarderError('BadRequest', `logImage: ${what} is an integer from 1 to ${MAX_SIDE}`);
  }
  return value as number;
}

function toBytes(data: PixelArray): Uint8Array {
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return new Uint8Array(data);
  const floats = data instanceof Float32Array || data instanceof Float64Array;
  let scale = 255;
  if (!floats) {
    for (let index = 0; index < data.length; index++) {
      const value = data[index] as number;
      if (typeof value !== 'number' || Number.isNaN(value)) {
        throw new LarderError('BadRequest', `logImage: pixel value ${index} is not a number`);
      }
      if (value > 1) {
        scale = 1;
        break;
      }
    }
  }
  const bytes = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++) {
    const value = (data[index] as number) * scale;
    bytes[index] = Number.isNaN(value) ? 0 : Math.max(0, Math.min(255, Math.round(value)));
  }
  return bytes;
}

function fromRaw(image: RawImage): PixelImage {
  const width = side(image.width, 'width');
  const height = side(image.height, 'height');
  const channels = image.channels ?? 3;
  if (![1, 2, 3, 4].includes(channels)) {
    throw new LarderError('BadRequest', 'logImage: channels is 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)');
  }
  const { data } = image;
  if (!ArrayBuffer.isView(data) && !Array.isArray(data)) {
    throw new LarderError('BadRequest', 'logImage: data is an array or typed array of pixel values');
  }
  if (data.length !== width * height * channels) {
    throw new LarderError(
      'BadRequest',
      `logImage: ${width}×${height}×${channels} pixels need ${width * height * channels} values, not ${data.length}`,
    );
  }
  return { kind: 'pixels', pixels: { width, height, channels: channels as Channels, data: toBytes(data) } };
}

function fromNested(rows: NestedPixels): PixelImage {
  const height = side(rows.length, 'the number of rows');
  const first = rows[0] as readonly unknown[];
  const width = side(Array.isArray(first) ? first.length : 0, 'the number of columns');
  const pixel = first[0];
  const channels = Array.isArray(pixel) ? pixel.length : 1;
  const flat = new Array<number>(width * height * channels);
  let at = 0;
  for (const row of rows as readonly (readonly unknown[])[]) {
    if (!Array.isArray(row) || row.length !== width) {
      throw new LarderError('BadRequest', `logImage: every row has ${width} pixels`);
    }
    for (const value of row) {
      if (channels === 1 && !Array.isArray(value)) flat[at++] = value as number;
      else if (Array.isArray(value) && value.length === channels) for (const each of value) flat[at++] = each;
      else throw new LarderError('BadRequest', `logImage: every pixel has ${channels} channels`);
    }
  }
  return fromRaw({ data: flat, width, height, channels });
}

/**
 * The picture to store, from what the caller gave.
 *
 * @example
 * readImageInput('samples/step-100.png'); // { kind: 'encoded', mime: 'image/png', … }
 * readImageInput({ data: new Float32Array(28 * 28), width: 28, height: 28, channels: 1 }); // { kind: 'pixels', … }
 */
export function readImageInput(input: ImageInput): EncodedImage | PixelImage {
  if (typeof input === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(input);
    } catch (cause) {
      throw new LarderError('BadRequest', `logImage cannot read ${input}: ${(cause as Error).message}`, { cause });
    }
    return encoded(bytes, input);
  }
  if (input instanceof ArrayBuffer) return encoded(new Uint8Array(input.slice(0)), 'The buffer');
  if (input instanceof Uint8Array) return encoded(new Uint8Array(input), 'The buffer');
  if (Array.isArray(input)) return fromNested(input as NestedPixels);
  if (input !== null && typeof input === 'object' && 'data' in input) return fromRaw(input as RawImage);
  throw new LarderError(
    'BadRequest',
    'logImage takes a file path, the bytes of a PNG/JPEG/GIF/WebP, { data, width, height, channels } or nested [row][column][channel] arrays',
  );
}
