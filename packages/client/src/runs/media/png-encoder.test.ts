import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng, encodePngSync } from './png-encoder.js';

describe('encodePng', () => {
  it('writes a PNG that an independent decoder (sharp/libvips) reads back pixel for pixel', async () => {
    const width = 5;
    const height = 3;
    const data = Uint8Array.from({ length: width * height * 3 }, (_, index) => (index * 37) % 256);
    const png = await encodePng({ width, height, channels: 3, data });
    const { data: decoded, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width, height, channels: 3 });
    expect(new Uint8Array(decoded)).toEqual(data);
  });

  it('keeps alpha and grey, and the synchronous encoding is the same file', async () => {
    const rgba = {
      width: 2,
      height: 2,
      channels: 4 as const,
      data: Uint8Array.of(255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 9, 9, 9, 9),
    };
    const png = await encodePng(rgba);
    expect(encodePngSync(rgba)).toEqual(png);
    const read = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(read.info.channels).toBe(4);
    expect(new Uint8Array(read.data)).toEqual(rgba.data);
    const grey = await encodePng({ width: 3, height: 1, channels: 1, data: Uint8Array.of(0, 128, 255) });
    const metadata = await sharp(grey).metadata();
    expect(metadata).toMatchObject({ width: 3, height: 1, channels: 1 });
    // Each scanline is stored with filter byte 0 before its pixels.
    const idat = grey.subarray(33 + 8, grey.length - 12 - 4);
    expect([...inflateSync(idat)]).toEqual([0, 0, 128, 255]);
  });

  it('refuses pixels that do not fill the size', () => {
    expect(() => encodePngSync({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).toThrow(
      /need 12 bytes/,
    );
  });
});
