/**
 * `larder stock …` as a user runs it: the built binary in a child process, in a temporary
 * project directory, with the data written through the library the way a training script would.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StockRoom, tensor } from '@larder/stock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult, runCli } from './support/run-cli.js';

type Result = CliResult;

let home: string;

function larder(cwd: string, args: string[]): Promise<Result> {
  return runCli(args, { cwd, env: { ...process.env, LARDER_AUTHOR: 'cli-test' } });
}

async function project(name: string, git: boolean): Promise<string> {
  const dir = join(home, name);
  await mkdir(dir, { recursive: true });
  if (git) await mkdir(join(dir, '.git'));
  return dir;
}

function commitId(result: Result): string {
  const match = /^Committed ([0-9a-f]{64})/.exec(result.stdout);
  if (!match?.[1]) throw new Error(`no commit id in ${JSON.stringify(result)}`);
  return match[1];
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('Build first: npm run build (npm test does it)');
  home = await mkdtemp(join(tmpdir(), 'larder-stock-cli-'));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('larder stock', () => {
  it('init sets up a repository inside git, and says so outside git', async () => {
    const repo = await project('with-git', true);
    const result = await larder(repo, ['stock', 'init']);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`Initialized a stock repository in ${repo} (git repository ${repo})`);
    expect(await readFile(join(repo, '.gitignore'), 'utf8')).toBe('/.stock/\n');
    expect(await readFile(join(repo, 'head.stock'), 'utf8')).toBe('');

    const plain = await project('no-git', false);
    const outside = await larder(home, ['stock', 'init', plain]);
    expect(outside.code).toBe(0);
    expect(outside.stdout).toContain('It is not inside a git repository');
    expect((await larder(plain, ['stock', 'init'])).stdout).toContain('A stock repository was already there');
  });

  it('commits staged data, then lists, logs, diffs and checks out commits', async () => {
    const repo = await project('training', true);
    await larder(repo, ['stock', 'init']);
    expect((await larder(repo, ['stock', 'log'])).stdout).toBe('No stock commits yet.\n');

    const stock = new StockRoom({ path: repo });
    await stock.optimize(async () => {
      await stock.tag.set('lr', 0.01);
      await stock.data.set('images', 'cat', tensor(new Uint8Array(4), [2, 2]));
      await stock.model.saveWeights('net', { w: tensor([1, 2]) }, { framework: 'tfjs', frameworkVersion: '4.22.0' });
    });
    expect((await larder(repo, ['stock', 'status'])).stdout).toBe('+ data/images/cat\n+ model/net\n+ tag/lr\n');
    const first = commitId(await larder(repo, ['stock', 'commit', '-m', 'baseline']));
    expect((await readFile(join(repo, 'head.stock'), 'utf8')).trim()).toBe(first);

    await stock.optimize(async () => {
      await stock.tag.set('lr', 0.02);
      await stock.data.set('images', 'dog', tensor(new Uint8Array(9), [3, 3]));
      await stock.data.delete('images', 'cat');
    });
    const second = commitId(await larder(join(repo), ['stock', 'commit', '--message', 'more data']));

    const log = await larder(repo, ['stock', 'log']);
    expect(log.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^${second.slice(0, 12)}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  cli-test  more data$`),
      ),
      expect.stringMatching(new RegExp(`^${first.slice(0, 12)}  .*  cli-test  baseline$`)),
    ]);
    expect((await larder(repo, ['stock', 'log', '-n', '1'])).stdout.trim().split('\n')).toHaveLength(1);

    const diff = await larder(repo, ['stock', 'diff', first.slice(0, 8), second.slice(0, 8)]);
    expect(diff.stdout).toBe('+ data/images/dog\n- data/images/cat\n~ tag/lr\n');
    expect((await larder(repo, ['stock', 'diff', first, first])).stdout).toBe('No differences.\n');

    const ls = await larder(repo, ['stock', 'ls']);
    expect(ls.stdout.split('\n')).toEqual([
      'model  net     tfjs 4.22.0, 1 tensor (map)',
      'data   images  1 sample, uint8',
      'tag    lr      0.02 (float)',
      '',
    ]);

    await stock.tag.set('lr', 0.03);
    const aside = await larder(repo, ['stock', 'commit', '-m', 'try 0.03', '--no-update-head']);
    expect(aside.stderr).toContain('head.stock was not moved');
    expect((await readFile(join(repo, 'head.stock'), 'utf8')).trim()).toBe(second);
    expect(await new StockRoom({ path: repo, commit: commitId(aside) }).tag.get('lr')).toBe(0.03);
    expect((await larder(repo, ['stock', 'ls', first.slice(0, 8)])).stdout).toContain('tag    lr      0.01 (float)');

    const sub = join(repo, 'src');
    await mkdir(sub);
    const checkout = await larder(sub, ['stock', 'checkout', first.slice(0, 10)]);
    expect(checkout).toMatchObject({ code: 0 });
    expect(checkout.stdout).toContain(`head.stock now names ${first.slice(0, 12)}: baseline`);
    expect((await readFile(join(repo, 'head.stock'), 'utf8')).trim()).toBe(first);
    expect(await new StockRoom({ path: repo }).tag.get('lr')).toBe(0.01);
  });

  it('ends user mistakes with one sentence and a non-zero exit', async () => {
    const repo = await project('mistakes', false);
    const missing = await larder(repo, ['stock', 'log']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `larder: No stock repository at ${repo} or above it (no head.stock found): run "larder stock init" first\n`,
    );

    await larder(repo, ['stock', 'init']);
    const empty = await larder(repo, ['stock', 'commit', '-m', 'nothing']);
    expect(empty).toMatchObject({ code: 1 });
    expect(empty.stderr).toBe('larder: Nothing to commit: no model, data or tag changed since the last commit\n');

    const noMessage = await larder(repo, ['stock', 'commit']);
    expect(noMessage.code).not.toBe(0);
    expect(noMessage.stderr).toContain("required option '-m, --message <message>' not specified");

    expect((await larder(repo, ['stock', 'checkout', '../x'])).stderr).toBe(
      'larder: "../x" is not a commit id: give 4 to 64 hex characters\n',
    );
    expect((await larder(repo, ['stock', 'diff', 'abcd1234', 'head'])).stderr).toBe(
      'larder: No stock commit starts with "abcd1234"\n',
    );
    expect((await larder(repo, ['stock', 'log', '-n', 'many'])).stderr).toBe(
      'larder: --max-count takes a positive whole number, not "many"\n',
    );
    expect((await larder(home, ['stock', '-C', repo, 'ls'])).stdout).toBe('No stock commits yet.\n');
  });

  it('fsck checks packs and loose objects, and --repair rebuilds a lost pack index', async () => {
    const repo = await project('fsck', true);
    expect((await larder(repo, ['stock', 'init'])).code).toBe(0);
    const room = new StockRoom({ path: repo, author: 'cli-test' });
    await room.optimize(async () => {
      for (let i = 0; i < 40; i++)
        await room.data.set('images', `s${i}`, tensor(new Uint8Array([i, 1, 2, 3]), [2, 2], 'uint8'));
    });
    await room.commit('forty samples');
    const sound = await larder(repo, ['stock', 'fsck']);
    expect(sound).toMatchObject({ code: 0 });
    expect(sound.stdout).toContain('1 packs (40 objects) and 1 loose objects checked: all sound');

    const packs = join(repo, '.stock', 'packs');
    const { readdir } = await import('node:fs/promises');
    const index = (await readdir(packs)).find((file) => file.endsWith('.idx')) as string;
    await rm(join(packs, index));
    const broken = await larder(repo, ['stock', 'fsck']);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/has no index/);
    expect(broken.stderr).toContain('larder stock fsck --repair');
    const repaired = await larder(repo, ['stock', 'fsck', '--repair']);
    expect(repaired).toMatchObject({ code: 0 });
    expect(repaired.stdout).toMatch(/repaired: rebuilt the index of pack [0-9a-f]{12} \(40 objects\)/);
    expect((await larder(repo, ['stock', 'ls'])).stdout).toContain('images');
  });
});
