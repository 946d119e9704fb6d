import { describe, expect, it } from 'vitest';
import { eachAtOnce } from './each-at-once.js';

/** A promise and the functions that settle it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('eachAtOnce', () => {
  it('answers the results in the order of the items, whatever order the calls end in', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const running = eachAtOnce([10, 20, 30], 3, async (item, index) => {
      await gates[index]?.promise;
      return item + index;
    });
    gates[2]?.resolve();
    gates[0]?.resolve();
    await tick();
    gates[1]?.resolve();
    expect(await running).toEqual([10, 21, 32]);
  });

  it('never has more than `width` calls in flight, and starts the next as one ends', async () => {
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    let inFlight = 0;
    let most = 0;
    const running = eachAtOnce([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await gates[item]?.promise;
      inFlight -= 1;
    });
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    await running;
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('starts nothing new after a failure and rejects with it once the running calls settled', async () => {
    const slow = deferred();
    const started: number[] = [];
    let slowSettled = false;
    const running = eachAtOnce([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      if (item === 0) {
        await slow.promise;
        slowSettled = true;
      }
      if (item === 1) throw new Error('item 1 failed');
    });
    let rejected: unknown;
    running.catch((error: unknown) => {
      rejected = error;
    });
    await tick();
    expect(rejected).toBeUndefined();
    slow.resolve();
    await expect(running).rejects.toThrow('item 1 failed');
    expect(slowSettled).toBe(true);
    expect(started).toEqual([0, 1]);
  });

  it('keeps the first failure when several calls fail', async () => {
    const second = deferred();
    const running = eachAtOnce(['a', 'b'], 2, async (item) => {
      if (item === 'b') {
        await second.promise;
        throw new Error('b failed');
      }
      throw new Error('a failed');
    });
    second.resolve();
    await expect(running).rejects.toThrow('a failed');
  });

  it('answers an empty list at once and treats a width below one as one', async () => {
    expect(await eachAtOnce([], 4, async () => 1)).toEqual([]);
    let inFlight = 0;
    let most = 0;
    await eachAtOnce([1, 2, 3], 0, async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await tick();
      inFlight -= 1;
    });
    expect(most).toBe(1);
  });
});
