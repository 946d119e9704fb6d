import { describe, expect, it } from 'vitest';
import { UploadScheduler } from './upload-scheduler.js';

/** A promise settled from outside, and a log of when its work started. */
function gate(started: string[], name: string) {
  let open!: (value: string) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<string>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  const work = () => {
    started.push(name);
    return promise;
  };
  return { work, open: () => open(name), fail: (error: Error) => fail(error) };
}

describe('UploadScheduler', () => {
  it('runs at most its number of syncs at once, the others in the order they asked', async () => {
    const scheduler = new UploadScheduler(2);
    const started: string[] = [];
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => gate(started, name)) as [
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
      ReturnType<typeof gate>,
    ];
    const answers = [a, b, c, d].map((each) => scheduler.run(each.work));
    expect(started).toEqual(['a', 'b']);
    expect(scheduler.waiting).toBe(2);

    b.open();
    await expect(answers[1]).resolves.toBe('b');
    expect(started).toEqual(['a', 'b', 'c']);
    expect(scheduler.running).toBe(2);

    a.open();
    await expect(answers[0]).resolves.toBe('a');
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    c.open();
    d.open();
    await expect(Promise.all(answers)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(scheduler.running).toBe(0);
  });

  it('gives a failure to its own caller only, and frees the turn for the next', async () => {
    const scheduler = new UploadScheduler(1);
    const started: string[] = [];
    const failing = gate(started, 'failing');
    const next = gate(started, 'next');
    const first = scheduler.run(failing.work);
    const second = scheduler.run(next.work);
    const thrown = scheduler.run(() => {
      throw new Error('thrown before any promise');
    });
    failing.fail(new Error('server down'));
    await expect(first).rejects.toThrow('server down');
    expect(started).toEqual(['failing', 'next']);
    next.open();
    await expect(second).resolves.toBe('next');
    await expect(thrown).rejects.toThrow('thrown before any promise');
    await expect(scheduler.run(async () => 'after')).resolves.toBe('after');
  });

  it('refuses a number of turns that is not a whole number of 1 or more', () => {
    expect(() => new UploadScheduler(0)).toThrow(/1 or more/);
    expect(() => new UploadScheduler(1.5)).toThrow(/1 or more/);
  });
});
