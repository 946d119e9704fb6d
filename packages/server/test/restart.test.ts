/**
 * Durability across restarts: a clean close, a `kill -9` of the real CLI, and a SIGTERM in
 * the middle of a burst of writes. Whatever the server acknowledged is there afterwards, and
 * the database stays sound.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer } from './support/test-server.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'packages/cli/dist/main.js');

const folders: string[] = [];
const children: ChildProcess[] = [];

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-restart-'));
  folders.push(dir);
  return dir;
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  }
  for (const dir of folders.splice(0)) await rm(dir, { recursive: true, force: true });
});

interface CliServer {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code and signal once the process has ended. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  output: () => string;
}

/** Runs `larder serve --no-auth` on `dataDir` and waits for the line that gives its URL. */
async function startCli(dataDir: string): Promise<CliServer> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--no-auth', '--data', dataDir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      output += `${line}\n`;
      const match = /Larder is serving (http:\/\/\S+) /.exec(line);
      if (match) resolve(match[1]!);
    });
    exited.then(([code, signal]) =>
      reject(new Error(`larder serve ended (${code ?? signal}) before serving:\n${output}`)),
    );
  });
  return { url, child, exited, output: () => output };
}

interface Reply {
  status: number;
  body: any;
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(url + path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Every `_id` in a service (at most 1000 here), read page by page. */
async function allIds(url: string, service: string): Promise<string[]> {
  const ids: string[] = [];
  for (let skip = 0; ; skip += 1000) {
    const page = await call(url, 'GET', `/${service}?$select[]=_id&$sort[_id]=1&$limit=1000&$skip=${skip}`);
    expect(page.status).toBe(200);
    ids.push(...page.body.data.map((record: { _id: string }) => record._id));
    if (ids.length >= page.body.total) return ids;
  }
}

function integrityOf(dataDir: string): unknown {
  const db = new Database(join(dataDir, 'larder.db'), { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true });
  } finally {
    db.close();
  }
}

describe('restart on the same data folder', () => {
  test('after a clean close, records, blobs, the admin key and user tokens are all still there', async () => {
    const dataDir = await newDataDir();
    const first = await startTestServer({ dataDir });
    const adminToken = first.adminToken!;
    expect(adminToken).toMatch(/^lk_/);
    const user = await first.createUser('keeper@example.com');
    const created = await first.request('POST', '/runs', {
      token: user.token,
      body: [
        { name: 'run-1', params: { lr: 0.1 }, logs: { loss: [1, 0.5] } },
        { name: 'run-2', public: true },
      ],
    });
    expect(created.status).toBe(201);
    const byAdmin = await first.request('POST', '/notes', { token: adminToken, body: { text: 'from the admin' } });
    expect(byAdmin.status).toBe(201);
    const blob = await first.request('POST', '/blobs', {
      token: user.token,
      raw: 'checkpoint bytes',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(blob.status).toBe(201);
    const runsBefore = await first.request('GET', '/runs?$sort[_id]=1', { token: adminToken });
    await first.close();

    const second = await startTestServer({ dataDir });
    try {
      // No second admin is made on a folder that already has users.
      expect(second.adminToken).toBeUndefined();
      const me = await second.request('GET', '/whoami', { token: adminToken });
      expect(me).toMatchObject({ status: 200, body: { user: { role: 'admin', email: 'admin@localhost' } } });
      expect((await second.request('GET', '/whoami', { token: user.token })).body.user._id).toBe(user.id);
      // Runs live in folders, made on first use: both collections hold records now.
      expect((await second.request('GET', '/info', { token: adminToken })).body.services.sort()).toEqual([
        'folders',
        'notes',
        'runs',
      ]);
      expect(await second.request('GET', '/runs?$sort[_id]=1', { token: adminToken })).toMatchObject({
        status: 200,
        body: runsBefore.body,
      });
      expect((await second.request('GET', '/runs', { token: user.token })).body.total).toBe(2);
      expect(await second.request('GET', `/notes/${byAdmin.body._id}`, { token: adminToken })).toMatchObject({
        status: 200,
        body: byAdmin.body,
      });
      for (const token of [user.token, adminToken]) {
        expect(await second.request('GET', `/blobs/${blob.body.sha256}`, { token })).toMatchObject({
          status: 200,
          body: 'checkpoint bytes',
        });
      }
      const login = await second.request('POST', '/authentication', {
        body: { strategy: 'local', email: user.email, password: 'correct horse battery' },
      });
      expect(login.status).toBe(201);
    } finally {
      await second.close();
    }
    expect(integrityOf(dataDir)).toBe('ok');
  });
});

describe('the CLI server', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  }, 300_000);

  test('killed with SIGKILL after 500 acknowledged writes, loses none of them', async () => {
    const dataDir = await newDataDir();
    const first = await startCli(dataDir);
    const acknowledged: string[] = [];
    let next = 0;
    // Ten writers at once, 500 records in all, each answered 201 before the kill.
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < 500) {
          const index = next++;
          const reply = await call(first.url, 'POST', '/things', { index, payload: 'x'.repeat(200) });
          expect(reply.status).toBe(201);
          acknowledged.push(reply.body._id);
        }
      }),
    );
    expect(acknowledged).toHaveLength(500);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual([null, 'SIGKILL']);

    const second = await startCli(dataDir);
    const count = await call(second.url, 'GET', '/things?$limit=0');
    expect(count).toMatchObject({ status: 200, body: { total: 500, data: [] } });
    expect(await allIds(second.url, 'things')).toEqual([...acknowledged].sort());
    const indexes = await call(second.url, 'GET', '/things?$distinct=index');
    expect([...indexes.body].sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // The database takes writes again.
    expect((await call(second.url, 'POST', '/things', { index: 500 })).status).toBe(201);
    expect((await call(second.url, 'GET', '/things?$limit=0')).body.total).toBe(501);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual([0, null]);
    expect(integrityOf(dataDir)).toBe('ok');
  });

  test('stopped with SIGTERM during a burst: every answer is a success, exit 0, every acknowledged record kept', async () => {
    const dataDir = await newDataDir();
    const first = await startCli(dataDir);
    const total = 300;
    const replies: (Reply | Error)[] = [];
    let settled = 0;
    let pendingAtSignal = -1;
    const burst = Array.from({ length: total }, (_, index) =>
      call(first.url, 'POST', '/things', { index, payload: 'y'.repeat(500) })
        .then(
          (reply) => reply,
          (error: Error) => error,
        )
        .then((outcome) => {
          replies.push(outcome);
          settled += 1;
          // Stop the server once some writes are acknowledged and many are still in flight.
          if (settled === 20) {
            pendingAtSignal = total - settled;
            first.child.kill('SIGTERM');
          }
        }),
    );
    await Promise.all(burst);
    const [code, signal] = await first.exited;
    expect({ code, signal, output: first.output() }).toMatchObject({ code: 0, signal: null });
    expect(first.output()).toMatch(/SIGTERM: finishing requests/);
    expect(pendingAtSignal).toBeGreaterThan(0);

    const answered = replies.filter((reply): reply is Reply => !(reply instanceof Error));
    expect(answered.length).toBeGreaterThanOrEqual(20);
    expect(answered.filter((reply) => reply.status !== 201)).toEqual([]);
    const acknowledged = answered.map((reply) => reply.body._id as string);

    const second = await startCli(dataDir);
    const stored = await allIds(second.url, 'things');
    expect(stored).toEqual(expect.arrayContaining(acknowledged));
    // Nothing half-written: every stored record is whole.
    const records = await call(second.url, 'GET', '/things?$limit=1000');
    for (const record of records.body.data) expect(record.payload).toBe('y'.repeat(500));
    expect((await call(second.url, 'POST', '/things', { index: total })).status).toBe(201);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual([0, null]);
    expect(integrityOf(dataDir)).toBe('ok');
  });
});
