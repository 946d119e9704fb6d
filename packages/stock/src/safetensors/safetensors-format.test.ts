import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor, tensorValues } from '../tensor/tensor.js';
import { tensorsOfEveryDType } from '../test-support/all-dtypes.js';
import { temporaryDirectory } from '../test-support/temp-directory.js';
import { readSafetensorsFile, writeSafetensorsFile } from './safetensors-file.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors-format.js';

/** A file assembled by hand from the specification, not by our encoder. */
function handBuilt(header: unknown, data: number[], headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.byteLength + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('safetensors', () => {
  it('round-trips every dtype with metadata, in order', () => {
    const tensors = new Map(Object.entries(tensorsOfEveryDType()));
    const { tensors: back, metadata } = decodeSafetensors(encodeSafetensors(tensors, { framework: 'tfjs' }));
    expect(metadata).toEqual({ framework: 'tfjs' });
    expect([...back.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const read = back.get(name);
      expect(read?.dtype).toBe(t.dtype);
      expect(read?.shape).toEqual(t.shape);
      expect(tensorValues(read as never)).toEqual(tensorValues(t));
    }
  });

  it('reads a file built by hand from the specification', () => {
    const bytes = handBuilt(
      {
        __metadata__: { format: 'pt' },
        weight: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        step: { dtype: 'I64', shape: [], data_offsets: [8, 16] },
        mask: { dtype: 'BOOL', shape: [1, 2], data_offsets: [16, 18] },
      },
      [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0],
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('weight')).toMatchObject({ dtype: 'float32', shape: [2] });
    expect(tensorValues(tensors.get('weight') as never)).toEqual([1, 2]);
    expect(tensorValues(tensors.get('step') as never)).toEqual([-1n]);
    expect(tensorValues(tensors.get('mask') as never)).toEqual([true, false]);
  });

  it('writes what the specification describes: length, JSON header, then raw little-endian data', () => {
    const bytes = encodeSafetensors(new Map([['x', tensor(new Int16Array([1, -2]), [2])]]));
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + length) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    expect(header).toEqual({ x: { dtype: 'I16', shape: [2], data_offsets: [0, 4] } });
    expect([...bytes.subarray(8 + length)]).toEqual([1, 0, 0xfe, 0xff]);
  });

  it('refuses malformed files with a sentence saying what is wrong', () => {
    const f32 = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(5), 'fewer than the 8-byte header length'],
      [handBuilt({ a: f32 }, [0, 0, 0, 0]).subarray(0, 20), 'runs past the end'],
      [handBuilt({}, [], '[1, 2]'), 'does not start with "{"'],
      [handBuilt({}, [], '{"a": '), 'not valid JSON'],
      [handBuilt({ a: { ...f32, dtype: 'C64' } }, [0, 0, 0, 0]), 'dtype "C64"'],
      [handBuilt({ a: { ...f32, shape: [-1] } }, [0, 0, 0, 0]), 'shape that is not a list'],
      [handBuilt({ a: { ...f32, data_offsets: [4, 0] } }, [0, 0, 0, 0]), 'ends (0) before it begins (4)'],
      [handBuilt({ a: { ...f32, data_offsets: [0, 8] } }, [0, 0, 0, 0]), 'past the 4 bytes of data'],
      [handBuilt({ a: { ...f32, shape: [2] } }, [0, 0, 0, 0]), 'has 4 bytes but dtype F32 and shape [2] need 8'],
      [handBuilt({ a: f32, b: f32 }, [0, 0, 0, 0]), 'overlaps'],
      [
        handBuilt({ a: { ...f32, data_offsets: [4, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]),
        'bytes 0-4 of the data belong to no tensor',
      ],
      [handBuilt({ a: f32 }, [0, 0, 0, 0, 9]), 'bytes 4-5 of the data belong to no tensor'],
      [handBuilt({ __metadata__: { n: 1 } }, []), '"__metadata__.n" is not a string'],
      [handBuilt({ a: 'F32' }, []), 'entry for tensor "a" is not an object'],
    ];
    for (const [bytes, reason] of cases) {
      expect(() => decodeSafetensors(bytes), reason).toThrow(reason);
      expect(() => decodeSafetensors(bytes)).toThrow(/^Malformed safetensors file: /);
    }
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => decodeSafetensors(huge)).toThrow('exceeds 100000000 bytes');
    const invalidUtf8 = handBuilt({}, []);
    invalidUtf8.set([0x7b, 0xff], 8);
    expect(() => decodeSafetensors(invalidUtf8)).toThrow('not valid UTF-8');
  });

  it('writes files tensor by tensor and reads them back', async () => {
    const path = join(await temporaryDirectory(), 'model.safetensors');
    const weights = new Map([
      [
        'dense/kernel',
        tensor(
          new Float32Array(12).map((_, i) => i / 3),
          [3, 4],
        ),
      ],
      ['dense/bias', tensor(new Float32Array(4), [4])],
    ]);
    await writeSafetensorsFile(path, weights, { framework: 'tfjs' });
    expect(decodeSafetensors(await readFile(path)).metadata).toEqual({ framework: 'tfjs' });
    const { tensors } = await readSafetensorsFile(path);
    expect(tensorValues(tensors.get('dense/kernel') as never)).toEqual(
      tensorValues(weights.get('dense/kernel') as never),
    );
    await expect(readSafetensorsFile(`${path}.missing`)).rejects.toThrow('No safetensors file at');
  });
});
