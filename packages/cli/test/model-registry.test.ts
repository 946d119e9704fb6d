/**
 * `larder model push|pull|ls|show|alias` as a user runs them: the built CLI in a child
 * process against a real server, on PMF directories made by `@larder/pmf`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint, Model } from '@larder/pmf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { runCli } from './support/run-cli.js';

describe('larder model registry commands', () => {
  let server: TestServer;
  let dir: string;
  let adaEnv: NodeJS.ProcessEnv;
  let bobEnv: NodeJS.ProcessEnv;
  let tree: string;
  let weights: Buffer;

  /** A finished PMF model saved in `dir/<name>`. */
  async function pmfModel(name: string, bytes: Buffer): Promise<string> {
    const source = join(dir, `${name}-source`);
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'config.yaml'), 'lr: 0.1\n');
    await writeFile(join(source, 'weights.bin'), bytes);
    const model = new Model({
      producerName: 'cli_tests',
      producerVersionFormat: 'py_pa',
      producerVersion: '1.0',
      name,
      id: `${name}-id`,
      configuration: join(source, 'config.yaml'),
      buildParameters: { depth: 4 },
    });
    model.registerTrainingStart(0);
    model.addCheckpoint(await Checkpoint.fromFile('last', join(source, 'weights.bin'), 3));
    model.registerEpoch(3);
    model.registerTrainingEnd(true);
    const target = join(dir, name);
    await model.save(target);
    return target;
  }

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-model-registry-cli-'));
    const base = { ...process.env, LARDER_CREDENTIALS: join(dir, 'credentials.json'), LARDER_URL: server.url };
    adaEnv = { ...base, LARDER_TOKEN: (await server.createUser('ada@example.org')).token };
    bobEnv = { ...base, LARDER_TOKEN: (await server.createUser('bob@example.org')).token };
    weights = randomBytes(64 * 1024);
    tree = await pmfModel('resnet', weights);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes, sends only missing files the second time, lists, shows, moves aliases and pulls', async () => {
    const first = await runCli(['model', 'push', tree, '--alias', 'candidate', '--produced-by', 'run-1'], {
      env: adaEnv,
    });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('Pushed resnet:1 (4 files sent, 0 already on the server)\nAliases: candidate, latest\n');

    const second = await runCli(['model', 'push', tree, '--name', 'resnet'], { env: adaEnv });
    expect(second.stdout).toBe('Pushed resnet:2 (0 files sent, 4 already on the server)\nAliases: latest\n');

    const listed = await runCli(['model', 'ls'], { env: adaEnv });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^NAME\s+LATEST\s+TYPE\s+FRAMEWORK\s+ACCESS\s+ID\nresnet\s+v2\s+-\s+-\s+private\s+\w+\n$/,
    );

    const shown = await runCli(['model', 'show', 'resnet'], { env: adaEnv });
    expect(shown.stdout).toMatch(/^v1\s+candidate\s+finished\s+1\s/m);
    expect(shown.stdout).toMatch(/^v2\s+latest\s+finished\s+1\s/m);
    const version = await runCli(['model', 'show', 'resnet:candidate'], { env: adaEnv });
    expect(version.stdout).toMatch(/^resnet:1 \(candidate\)/);
    expect(version.stdout).toMatch(/checkpoint last: epoch 3, data\/checkpoints\/weights\.bin/);
    expect(version.stdout).toMatch(/produced by runs: run-1/);
    const json = JSON.parse((await runCli(['model', 'show', 'resnet:1', '--json'], { env: adaEnv })).stdout);
    expect(json).toMatchObject({ version: 1, pmf: { id: 'resnet-id', buildParameters: { depth: 4 } } });

    const aliased = await runCli(['model', 'alias', 'resnet', 'production', 'candidate'], { env: adaEnv });
    expect(aliased.stdout).toBe('resnet:production now points at version 1\n');

    const target = join(dir, 'deploy');
    const pulled = await runCli(['model', 'pull', 'resnet:production', target], { env: adaEnv });
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toMatch(/^Wrote resnet:1 to .*deploy \(validated, checksums verified\)\n$/);
    expect((await readFile(join(target, 'data', 'checkpoints', 'weights.bin'))).equals(weights)).toBe(true);
    const validated = await runCli(['model', 'validate', '--strict', target], { env: adaEnv });
    expect(validated.code).toBe(0);

    const removed = await runCli(['model', 'alias', 'resnet', 'production', '--remove'], { env: adaEnv });
    expect(removed.stdout).toBe('Removed alias production from resnet\n');
  });

  it('ends mistakes with one sentence and a non-zero exit, leaving nothing behind', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'notes.txt'), 'not a model');
    const invalid = await runCli(['model', 'push', broken], { env: adaEnv });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^larder: .*broken is not a valid PMF model/);

    const occupied = join(dir, 'occupied');
    await mkdir(occupied);
    await writeFile(join(occupied, 'keep.txt'), 'mine');
    const notEmpty = await runCli(['model', 'pull', 'resnet', occupied], { env: adaEnv });
    expect(notEmpty.stderr).toMatch(/^larder: .*occupied is not empty: pull into a new or empty folder\n$/);
    expect(await readFile(join(occupied, 'keep.txt'), 'utf8')).toBe('mine');

    const unknownAlias = await runCli(['model', 'pull', 'resnet:nightly', join(dir, 'nightly')], { env: adaEnv });
    expect(unknownAlias.stderr).toMatch(/has no alias "nightly"/);
    const noTarget = await runCli(['model', 'alias', 'resnet', 'production'], { env: adaEnv });
    expect(noTarget.stderr).toMatch(/Give either a version/);
    const badAlias = await runCli(['model', 'alias', 'resnet', '9lives', '1'], { env: adaEnv });
    expect(badAlias.stderr).toMatch(/Invalid alias "9lives"/);

    const stranger = await runCli(['model', 'pull', 'resnet', join(dir, 'stolen')], { env: bobEnv });
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/No model named "resnet" that you may read/);
    const empty = await runCli(['model', 'ls'], { env: bobEnv });
    expect(empty.stdout).toMatch(/^No models yet/);
  });
});
