import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../test-support/temp-directory.js';
import { acquireWriteLock, readOwner } from './write-lock.js';

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

async function lockFile(owner: object): Promise<string> {
  const path = join(await temporaryDirectory(), 'write.lock');
  await writeFile(path, JSON.stringify({ token: 'someone-else', ...owner }));
  return path;
}

describe('write lock', () => {
  it('records pid, host and time, and is released', async () => {
    const path = join(await temporaryDirectory(), 'write.lock');
    const lock = await acquireWriteLock(path);
    expect(await readOwner(path)).toMatchObject({ pid: process.pid, hostname: hostname() });
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock left by a dead process on this host', async () => {
    const path = await lockFile({ pid: deadPid(), hostname: hostname(), time: new Date().toISOString() });
    const lock = await acquireWriteLock(path);
    expect((await readOwner(path))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock nobody refreshed for longer than the stale time', async () => {
    const old = new Date(Date.now() - 60_000).toISOString();
    const path = await lockFile({ pid: 1, hostname: 'another-machine', time: old });
    const lock = await acquireWriteLock(path, { staleMs: 30_000 });
    expect((await readOwner(path))?.hostname).toBe(hostname());
    await lock.release();
  });

  it('refuses a live writer with a sentence naming it', async () => {
    const path = await lockFile({ pid: process.pid, hostname: hostname(), time: new Date().toISOString() });
    await expect(acquireWriteLock(path)).rejects.toThrow(
      `The stock repository is being written by process ${process.pid} on ${hostname()}`,
    );
    const remote = await lockFile({ pid: 1, hostname: 'another-machine', time: new Date().toISOString() });
    await expect(acquireWriteLock(remote)).rejects.toMatchObject({ name: 'Conflict' });
    expect(JSON.parse(await readFile(remote, 'utf8')).token).toBe('someone-else');
  });

  it('waits for a live writer to finish when asked to', async () => {
    const path = join(await temporaryDirectory(), 'write.lock');
    const first = await acquireWriteLock(path);
    const second = acquireWriteLock(path, { waitMs: 10_000 });
    let acquired = false;
    void second.then(() => {
      acquired = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(acquired).toBe(false);
    await first.release();
    const lock = await second;
    expect((await readOwner(path))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('does not remove a lock that someone else took after a takeover', async () => {
    const path = join(await temporaryDirectory(), 'write.lock');
    const lock = await acquireWriteLock(path);
    await rm(path);
    await writeFile(path, JSON.stringify({ pid: 1, hostname: 'x', time: new Date().toISOString(), token: 't' }));
    await lock.release();
    expect(existsSync(path)).toBe(true);
  });

  it('respects a lock file it cannot read until the file is stale', async () => {
    const path = join(await temporaryDirectory(), 'write.lock');
    await writeFile(path, '');
    await expect(acquireWriteLock(path, { staleMs: 60_000 })).rejects.toMatchObject({ name: 'Conflict' });
    const old = new Date(Date.now() - 120_000);
    await utimes(path, old, old);
    const lock = await acquireWriteLock(path, { staleMs: 60_000 });
    expect((await readOwner(path))?.pid).toBe(process.pid);
    await lock.release();
  });
});
