import { describe, expect, it } from 'vitest';
import { forEachAtOnce } from './for-each-at-once.js';

/** Items 0..count-1, counting how many were taken; each item's work waits for its gate. */
function gatedWork(count: number) {
  const state = { taken: 0, running: 0, most: 0, done: [] as number[] };
  const gates = new Map<number, { open: () => void; fail: (error: Error) => void }>();
  async function* items() {
    for (let item = 0; item < count; item += 1) {
      state.taken += 1;
      yield item;
    }
  }
  const work = (item: number) =>
    new Promise<void>((resolve, reject) => {
      state.running += 1;
      state.most = Math.max(state.most, state.running);
      // Each gate opens once: it leaves the map as it settles.
      const settle = (then: () => void) => () => {
        gates.delete(item);
        state.running -= 1;
        then();
      };
      gates.set(item, {
        open: settle(() => {
          state.done.push(item);
          resolve();
        }),
        fail: (error) => settle(() => reject(error))(),
      });
    });
  return { state, gates, items, work };
}

/** Lets every pending promise callback run (no timer involved). */
async function settleCallbacks() {
  for (let round = 0; round < 20; round += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('forEachAtOnce', () => {
  it('runs every item, at most `limit` at once, taking the next as one ends', async () => {
    const { state, gates, items, work } = gatedWork(10);
    const all = forEachAtOnce(items(), 3, work);
    await settleCallbacks();
    expect(state.running).toBe(3);
    expect(state.taken).toBe(3);
    gates.get(1)?.open();
    await settleCallbacks();
    expect(state.running).toBe(3);
    expect(state.taken).toBe(4);
    for (let item = 0; item < 10; item += 1) {
      gates.get(item)?.open();
      await settleCallbacks();
    }
    await all;
    expect(state.most).toBe(3);
    expect([...state.done].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('stops taking items at the first failure and rethrows it once the running work has ended', async () => {
    const { state, gates, items, work } = gatedWork(10);
    let settled = false;
    const all = forEachAtOnce(items(), 3, work).finally(() => {
      settled = true;
    });
    await settleCallbacks();
    gates.get(1)?.fail(new Error('disk full'));
    await settleCallbacks();
    expect(settled).toBe(false);
    expect(state.running).toBe(2);
    gates.get(0)?.open();
    gates.get(2)?.open();
    await expect(all).rejects.toThrow('disk full');
    expect(state.taken).toBe(3);
    expect(state.done.sort()).toEqual([0, 2]);
  });

  it('rethrows a failure of the items themselves after the running work has ended', async () => {
    const done: number[] = [];
    async function* broken() {
      yield 1;
      yield 2;
      throw new Error('connection reset');
    }
    await expect(
      forEachAtOnce(broken(), 4, async (item) => {
        await Promise.resolve();
        done.push(item);
      }),
    ).rejects.toThrow('connection reset');
    expect(done).toEqual([1, 2]);
  });
});
