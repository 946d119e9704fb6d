import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PmfError, PmfModelError } from '../errors/pmf-error.js';
import { type Workspace, workspace } from '../test-support/fixtures.js';
import { Checkpoint } from './checkpoint.js';
import { Producer } from './producer.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await workspace();
});
afterEach(() => ws.remove());

describe('Producer', () => {
  it('parses its version with the named format', async () => {
    const producer = new Producer('my_package', 'py_pa', '1.0-beta2', await ws.file('a.yaml', 'x: 1'));
    expect(producer.version.value).toBe('1.0b2');
    expect(producer.version.format).toBe('py_pa');
  });

  it('refuses bad names, unknown formats and missing configurations', async () => {
    const configuration = await ws.file('a.yaml', 'x: 1');
    expect(() => new Producer('9lives', 'py_pa', '1.0', configuration)).toThrow(PmfModelError);
    expect(() => new Producer('pkg', 'calver', '1.0', configuration)).toThrow(PmfError);
    expect(() => new Producer('pkg', 'py_pa', '1.0', ws.path('missing.yaml'))).toThrow(/does not exist/);
  });

  it('strictly equals only with the same configuration content', async () => {
    const a = new Producer('pkg', 'py_pa', '1.0', await ws.file('a.yaml', 'x: 1'));
    const copy = new Producer('pkg', 'py_pa', '1.0.0', await ws.file('copy/a.yaml', 'x: 1'));
    const other = new Producer('pkg', 'py_pa', '1.0', await ws.file('b.yaml', 'x: 2'));
    expect(a.equals(other)).toBe(true);
    expect(await a.strictEquals(copy)).toBe(true);
    expect(await a.strictEquals(other)).toBe(false);
    expect(await a.strictEquals(new Producer('pkg', 'py_pa', '1.1', a.configuration))).toBe(false);
  });
});

describe('Checkpoint', () => {
  it('hashes a file with fromFile', async () => {
    const checkpoint = await Checkpoint.fromFile('x', await ws.file('w.bin', ''), 3);
    expect(checkpoint.hash).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(checkpoint.epoch).toBe(3);
  });

  it('refuses malformed hashes, names and missing files', async () => {
    expect(() => new Checkpoint({ name: 'x', hash: 'ABC' })).toThrow(/not an MD5/);
    expect(() => new Checkpoint({ name: 1.5, hash: 'a'.repeat(32) })).toThrow(/string or an integer/);
    await expect(Checkpoint.fromFile('x', ws.path('nope.bin'))).rejects.toThrow(/does not exist/);
  });

  it('equals another checkpoint with the same epoch and hash, whatever the name', () => {
    const a = new Checkpoint({ name: 'a', epoch: 1, hash: 'a'.repeat(32) });
    expect(a.equals(new Checkpoint({ name: 'b', epoch: 1, hash: 'a'.repeat(32) }))).toBe(true);
    expect(a.equals(new Checkpoint({ name: 'a', epoch: 2, hash: 'a'.repeat(32) }))).toBe(false);
  });
});
