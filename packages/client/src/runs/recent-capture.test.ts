import { describe, expect, it } from 'vitest';
import { recentCapture } from './recent-capture.js';

describe('recentCapture', () => {
  it('shares one capture among calls within the window and captures again after it', async () => {
    let clock = 1000;
    const captured: string[] = [];
    const shared = recentCapture(
      async (key) => {
        captured.push(key);
        return `${key}#${captured.length}`;
      },
      10_000,
      () => clock,
    );
    const [first, second] = await Promise.all([shared.get('/work'), shared.get('/work')]);
    expect(first).toBe('/work#1');
    expect(second).toBe('/work#1');
    clock += 9_999;
    expect(await shared.get('/work')).toBe('/work#1');
    expect(await shared.get('/elsewhere')).toBe('/elsewhere#2');
    clock += 1;
    expect(await shared.get('/work')).toBe('/work#3');
    expect(captured).toEqual(['/work', '/elsewhere', '/work']);
  });

  it('forgets a capture that failed, so the next call tries again', async () => {
    let calls = 0;
    const shared = recentCapture(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('probe failed');
        return 'found';
      },
      10_000,
      () => 0,
    );
    await expect(shared.get('/work')).rejects.toThrow('probe failed');
    expect(await shared.get('/work')).toBe('found');
  });
});
