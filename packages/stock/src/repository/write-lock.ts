/**
 * One writer at a time: a lock file created exclusively, holding who owns it (pid, host,
 * time). A lock whose process is gone (same host) or that has not been refreshed for
 * `staleMs` is taken over, so a crashed writer never blocks the repository for good.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LarderError } from '@larder/protocol';

export interface LockOwner {
  pid: number;
  hostname: string;
  /** ISO time the owner last refreshed the lock. */
  time: string;
  token: string;
}

export interface WriteLockOptions {
  /** How long to wait for a live writer before giving up (default 0: fail at once). */
  waitMs?: number;
  /** A lock not refreshed for this long is abandoned (default 5 minutes; holders refresh it). */
  staleMs?: number;
}

export interface WriteLock {
  release(): Promise<void>;
}

const DEFAULT_STALE_MS = 5 * 60_000;

/**
 * Takes the lock at `path`, or throws a Conflict naming its owner.
 *
 * @example
 * const lock = await acquireWriteLock('.stock/write.lock', { waitMs: 10_000 });
 * try { … } finally { await lock.release(); }
 */
export async function acquireWriteLock(path: string, options: WriteLockOptions = {}): Promise<WriteLock> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + (options.waitMs ?? 0);
  const token = randomBytes(12).toString('hex');
  const me = (): LockOwner => ({ pid: process.pid, hostname: hostname(), time: new Date().toISOString(), token });
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    if (await createComplete(path, JSON.stringify(me()))) return heldLock(path, token, me, staleMs);
    const owner = await readOwner(path);
    if (owner === undefined) continue; // Released between our attempt and our read.
    if (isAbandoned(owner, staleMs)) {
      await takeOver(path, owner);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LarderError(
        'Conflict',
        `The stock repository is being written by process ${owner.pid} on ${owner.hostname} (since ${owner.time}). ` +
          `Wait for it to finish; if that process is gone, delete ${path}.`,
        { data: { owner: { pid: owner.pid, hostname: owner.hostname, time: owner.time } } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, deadline - Date.now()))));
  }
}

/** Whoever holds the lock at `path`, if anyone. */
export async function readOwner(path: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    if (owner === null || typeof owner !== 'object') throw new TypeError('not an object');
    return {
      pid: typeof owner.pid === 'number' ? owner.pid : 0,
      hostname: String(owner.hostname ?? ''),
      time: String(owner.time ?? ''),
      token: String(owner.token ?? ''),
    };
  } catch {
    // A foreign or damaged file: respected until its modification time is stale.
    const modified = await stat(path).then(
      (s) => s.mtime.toISOString(),
      () => new Date(0).toISOString(),
    );
    return { pid: 0, hostname: '', time: modified, token: text };
  }
}

/**
 * Creates `path` with `content` only if it does not exist, atomically and complete: the content
 * goes to a temporary file first and is hard-linked into place (a link never replaces a file),
 * so nobody ever reads a half-written lock.
 */
async function createComplete(path: string, content: string): Promise<boolean> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.new`;
  await writeFile(temporary, content, { flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

function isAbandoned(owner: LockOwner, staleMs: number): boolean {
  const age = Date.now() - Date.parse(owner.time);
  if (!(age < staleMs)) return true; // Also true for an unreadable time.
  return owner.hostname === hostname() && !isAlive(owner.pid);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves the abandoned lock aside. Two writers may race to do so; a rename is atomic, and a
 * writer that finds it moved a fresh lock (not the one it judged abandoned) puts it back.
 */
async function takeOver(path: string, abandoned: LockOwner): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.abandoned`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readOwner(aside);
  if (moved !== undefined && moved.token !== abandoned.token) await link(aside, path).catch(() => {});
  await rm(aside, { force: true });
}

function heldLock(path: string, token: string, me: () => LockOwner, staleMs: number): WriteLock {
  // Long writes refresh the time so that others do not judge the lock abandoned.
  const refresh = setInterval(
    () => {
      void readOwner(path).then(async (owner) => {
        if (owner?.token !== token) return;
        const temporary = `${path}.${randomBytes(6).toString('hex')}.new`;
        await writeFile(temporary, JSON.stringify(me()))
          .then(() => rename(temporary, path))
          .catch(() => rm(temporary, { force: true }));
      });
    },
    Math.max(1000, staleMs / 4),
  );
  refresh.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      const owner = await readOwner(path);
      if (owner?.token === token) await rm(path, { force: true });
    },
  };
}
