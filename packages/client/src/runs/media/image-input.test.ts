import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageMime, readImageInput } from './image-input.js';
import { encodePngSync } from './png-encoder.js';

describe('readImageInput', () => {
  const png = encodePngSync({ width: 1, height: 1, channels: 3, data: Uint8Array.of(1, 2, 3) });

  it('recognises encoded pictures by their first bytes, from a path or a buffer', async () => {
    const path = join(tmpdir(), `larder-image-${process.pid}.png`);
    await writeFile(path, png);
    expect(readImageInput(path)).toMatchObject({ kind: 'encoded', mime: 'image/png' });
    expect(readImageInput(Buffer.from(png))).toMatchObject({ kind: 'encoded', mime: 'image/png' });
    expect(imageMime(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg');
    expect(imageMime(new TextEncoder().encode('GIF89a'))).toBe('image/gif');
    expect(imageMime(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(() => readImageInput(new TextEncoder().encode('<svg/>'))).toThrow(/not a PNG, JPEG, GIF or WebP/);
    expect(() => readImageInput('/no/such/picture.png')).toThrow(/cannot read \/no\/such\/picture.png/);
  });

  it('copies the buffer, so changing it after the call changes nothing', () => {
    const bytes = new Uint8Array(png);
    const read = readImageInput(bytes);
    bytes.fill(0);
    expect(read.kind === 'encoded' && read.bytes[1]).toBe(0x50);
  });

  it('scales floats from 0..1 and keeps uint8 as is', () => {
    const floats = readImageInput({ data: new Float32Array([0, 0.5, 1]), width: 1, height: 1 });
    expect(floats.kind === 'pixels' && [...floats.pixels.data]).toEqual([0, 128, 255]);
    const bytes = readImageInput({ data: Uint8Array.of(0, 7, 255, 9), width: 2, height: 1, channels: 2 });
    expect(bytes.kind === 'pixels' && [...bytes.pixels.data]).toEqual([0, 7, 255, 9]);
    // Plain numbers are 0..1 unless one is above 1.
    const plain = readImageInput({ data: [0, 2, 255], width: 1, height: 1 });
    expect(plain.kind === 'pixels' && [...plain.pixels.data]).toEqual([0, 2, 255]);
  });

  it('reads nested [row][column][channel] and [row][column] arrays', () => {
    const rgb = readImageInput([
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
    ]);
    expect(rgb.kind === 'pixels' && rgb.pixels).toMatchObject({ width: 2, height: 1, channels: 3 });
    expect(rgb.kind === 'pixels' && [...rgb.pixels.data]).toEqual([255, 0, 0, 0, 255, 0]);
    const grey = readImageInput([
      [0, 1],
      [1, 0],
    ]);
    expect(grey.kind === 'pixels' && grey.pixels).toMatchObject({ width: 2, height: 2, channels: 1 });
    expect(() => readImageInput([[0, 1], [1]])).toThrow(/every row has 2 pixels/);
  });

  it('says what is wrong with raw pixels', () => {
    expect(() => readImageInput({ data: new Uint8Array(5), width: 2, height: 1 })).toThrow(/need 6 values, not 5/);
    expect(() => readImageInput({ data: new Uint8Array(5), width: 0, height: 1 })).toThrow(/width is an integer/);
    expect(() => readImageInput({ data: new Uint8Array(10), width: 2, height: 1, channels: 5 })).toThrow(
      /channels is 1/,
    );
    expect(() => readImageInput(42 as never)).toThrow(/logImage takes a file path/);
  });
});
