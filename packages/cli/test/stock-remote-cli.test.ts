/**
 * `larder stock push` and `larder stock pull` as a user runs them: the built binary against
 * a real server, between two project directories, with the data written through the library
 * the way a training script would.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initStock, StockRoom, type Tensor, tensor } from '@larder/stock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { runCli } from './support/run-cli.js';

describe('larder stock push and pull', () => {
  let server: TestServer;
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    home = await mkdtemp(join(tmpdir(), 'larder-stock-remote-cli-'));
    const { token } = await server.createUser('ada@example.org');
    env = {
      ...process.env,
      LARDER_CREDENTIALS: join(home, 'credentials.json'),
      LARDER_URL: server.url,
      LARDER_TOKEN: token,
      LARDER_AUTHOR: 'cli-test',
    };
  });
  afterAll(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  const project = async (name: string) => {
    const dir = join(home, name);
    await initStock(dir);
    return dir;
  };
  const stock = (dir: string, args: string[], environment = env) =>
    runCli(['stock', '-C', dir, ...args], { env: environment });
  const head = async (dir: string) => (await readFile(join(dir, 'head.stock'), 'utf8')).trim();
  const kernel = (seed: number) =>
    tensor(
      new Float32Array(2048).map((_, i) => Math.cos(seed + i)),
      [32, 64],
    );
  const bytesOf = (t: Tensor) => {
    const data = t.data as Float32Array;
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  };

  it('pushes to a new repository, pulls into another project, and remembers the repository', async () => {
    const source = await project('trainer');
    await new StockRoom({ path: source }).model.saveWeights('net', { kernel: kernel(1), bias: tensor([1, 2]) });
    expect((await stock(source, ['commit', '-m', 'first'])).code).toBe(0);
    const first = await head(source);

    const pushed = await stock(source, ['push', '--repo', 'demo']);
    expect(pushed.stderr).toContain(`Created the private repository demo on ${server.url}`);
    expect(pushed.stdout).toMatch(
      new RegExp(
        `^Pushed 1 commit to demo "main" \\(\\(none\\) -> ${first.slice(0, 12)}\\): 4 objects, 0\\.0 MiB sent`,
      ),
    );
    expect(pushed.code).toBe(0);
    expect((await stock(source, ['push'])).stdout).toMatch(/^Everything up to date: demo "main" is at/);

    const copy = await project('evaluator');
    const pulled = await stock(copy, ['pull', '--repo', 'demo']);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(/^Pulled 1 commit, 4 objects, .* from demo "main": head\.stock now names/);
    expect(await head(copy)).toBe(first);
    const loaded = (await new StockRoom({ path: copy }).model.loadWeights('net')) as Record<string, Tensor>;
    expect(bytesOf(loaded.kernel as Tensor).equals(bytesOf(kernel(1)))).toBe(true);

    // One layer changes: only its tensor, the manifest and the commit travel.
    await new StockRoom({ path: source }).model.saveWeights('net', { kernel: kernel(2), bias: tensor([1, 2]) });
    await stock(source, ['commit', '-m', 'second']);
    expect((await stock(source, ['push'])).stdout).toMatch(/^Pushed 1 commit .*: 3 objects/);
    const update = await stock(copy, ['pull']);
    expect(update.stdout).toMatch(/^Pulled 1 commit, 3 objects/);
    expect(await head(copy)).toBe(await head(source));
    expect((await stock(copy, ['log'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('refuses to drop commits unless forced, and reports divergence and mistakes in one sentence', async () => {
    const left = await project('left');
    await new StockRoom({ path: left }).tag.set('run', 1);
    await stock(left, ['commit', '-m', 'base']);
    await stock(left, ['push', '--repo', 'shared']);
    const right = await project('right');
    await stock(right, ['pull', '--repo', 'shared']);

    await new StockRoom({ path: left }).tag.set('run', 2);
    await stock(left, ['commit', '-m', 'left']);
    expect((await stock(left, ['push'])).code).toBe(0);
    await new StockRoom({ path: right }).tag.set('run', 3);
    await stock(right, ['commit', '-m', 'right']);

    const refused = await stock(right, ['push']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^larder: The server's "main" of shared is at [0-9a-f]{12}, .*pull first/);
    const forced = await stock(right, ['push', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/\(forced\)$/m);
    const diverged = await stock(left, ['pull']);
    expect(diverged.code).toBe(1);
    expect(diverged.stderr).toMatch(/have diverged, so head\.stock was not moved.*larder stock checkout [0-9a-f]{12}/);

    const unknown = await stock(right, ['pull', '--repo', 'nope']);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toMatch(/No stock repository named "nope" on .* that you may read/);
    const empty = await project('empty');
    expect((await stock(empty, ['push', '--repo', 'x'])).stderr).toMatch(/Nothing to push: commit first/);
    const offline = await stock(right, ['pull'], { ...env, LARDER_URL: 'http://127.0.0.1:9' });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/Could not reach .*127\.0\.0\.1:9/);
  });
});
