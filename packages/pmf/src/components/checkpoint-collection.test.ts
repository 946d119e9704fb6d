import { describe, expect, it } from 'vitest';
import { PmfModelError } from '../errors/pmf-error.js';
import { Checkpoint } from './checkpoint.js';
import { CheckpointCollection } from './checkpoint-collection.js';

const hash = (digit: string) => digit.repeat(32);
const checkpoint = (name: string | number, epoch: number | null, digit = 'a') =>
  new Checkpoint({ name, epoch, hash: hash(digit) });

describe('CheckpointCollection', () => {
  it('keeps insertion order and tracks the latest added', () => {
    const collection = new CheckpointCollection(checkpoint('b', 1), checkpoint(2, 2));
    expect(collection.latest).toBe(2);
    collection.add(checkpoint('a', 2));
    expect([...collection.keys()]).toEqual(['b', 2, 'a']);
    expect([...collection.values()].map((item) => item.epoch)).toEqual([1, 2, 2]);
    expect([...collection.items()].map(([reference]) => reference)).toEqual(['b', 2, 'a']);
    expect(collection.latest).toBe('a');
    expect(collection.size).toBe(3);
  });

  it('treats 10 and "10" as different references', () => {
    const collection = new CheckpointCollection(checkpoint(10, 1), checkpoint('10', 1, 'b'));
    expect(collection.get(10)?.hash).toBe(hash('a'));
    expect(collection.get('10')?.hash).toBe(hash('b'));
  });

  it('refuses duplicate references and checkpoints without an epoch', () => {
    const collection = new CheckpointCollection(checkpoint('x', 1));
    expect(() => collection.add(checkpoint('x', 2))).toThrow(/named "x" exists/);
    expect(() => collection.add(checkpoint('y', null))).toThrow(PmfModelError);
    expect(collection.size).toBe(1);
  });

  it('finds checkpoints by epoch (eloc) and by position (iloc, slice)', () => {
    const collection = new CheckpointCollection(checkpoint('a', 1), checkpoint('b', 2), checkpoint('c', 2));
    expect([...collection.eloc(2).keys()]).toEqual(['b', 'c']);
    expect(collection.eloc(7).size).toBe(0);
    expect(collection.iloc(0)?.name).toBe('a');
    expect(collection.iloc(-1)?.name).toBe('c');
    expect(collection.iloc(3)).toBeUndefined();
    expect(collection.slice(1).map((item) => item.name)).toEqual(['b', 'c']);
  });

  it('returns a fallback for unknown references', () => {
    const collection = new CheckpointCollection(checkpoint('a', 1));
    expect(collection.get('missing')).toBeUndefined();
    expect(collection.get('missing', 'none')).toBe('none');
    expect(collection.has('a')).toBe(true);
  });

  it('replaces in place with set and moves latest back on delete', () => {
    const collection = new CheckpointCollection(checkpoint('a', 1), checkpoint('b', 2));
    collection.set('a', checkpoint('other-name', 5, 'c'));
    expect([...collection.keys()]).toEqual(['a', 'b']);
    expect(collection.get('a')?.name).toBe('a');
    expect(collection.get('a')?.epoch).toBe(5);
    expect(collection.delete('b')).toBe(true);
    expect(collection.latest).toBe('a');
    collection.delete('a');
    expect(collection.latest).toBeNull();
  });

  it('compares collections by references, epochs and hashes', () => {
    const left = new CheckpointCollection(checkpoint('a', 1), checkpoint('b', 2));
    expect(left.equals(new CheckpointCollection(checkpoint('b', 2), checkpoint('a', 1)))).toBe(true);
    expect(left.equals(new CheckpointCollection(checkpoint('a', 1), checkpoint('b', 3)))).toBe(false);
  });
});
