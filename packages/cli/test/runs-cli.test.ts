/**
 * `larder upload`, `larder runs ls|show|rm` and `larder download` against a real server,
 * with a run logged locally through the SDK first.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRun, loadRun } from '@larder/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { runCli } from './support/run-cli.js';

describe('larder upload, runs and download', () => {
  let server: TestServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let runDir: string;
  const saved = process.env.LARDER_RUN_PARENT_DIR;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    dir = await mkdtemp(join(tmpdir(), 'larder-runs-cli-'));
    const { token } = await server.createUser('ada@example.org');
    env = {
      ...process.env,
      LARDER_CREDENTIALS: join(dir, 'credentials.json'),
      LARDER_URL: server.url,
      LARDER_TOKEN: token,
      COLUMNS: '200',
    };
    process.env.LARDER_RUN_PARENT_DIR = join(dir, 'runs');
    const run = await createRun({ name: 'cli-run', hparams: { lr: 0.05 } });
    for (let step = 0; step < 300; step += 1) run.log('train', { loss: 10 - step / 100 }, step, Math.floor(step / 100));
    await run.finish();
    runDir = run.local;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.LARDER_RUN_PARENT_DIR;
    else process.env.LARDER_RUN_PARENT_DIR = saved;
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads a local run, lists it with chosen columns, shows it, downloads it and removes it', async () => {
    const uploaded = await runCli(['upload', runDir, '--folder', 'cli', '--make-folder'], { env });
    expect(uploaded.stderr).toBe('');
    expect(uploaded.stdout).toMatch(/run\s+cli-run_\S+\s+\S+\s+uploaded\s+300/);

    const listed = await runCli(
      ['runs', 'ls', '--folder', '/ada@example.org/cli', '--columns', 'hparams.lr,metrics.train.loss.last'],
      { env },
    );
    expect(listed.code).toBe(0);
    const [header, row] = listed.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+FOLDER\s+STATUS\s+STARTED\s+HPARAMS\.LR\s+METRICS\.TRAIN\.LOSS\.LAST$/);
    expect(row).toMatch(/cli-run\s+\/ada@example\.org\/cli\s+Complete\s+.*0\.05\s+7\.01$/);

    const shown = await runCli(['runs', 'show', '/ada@example.org/cli/cli-run'], { env });
    expect(shown.stdout).toContain('status     Complete');
    expect(shown.stdout).toMatch(/train\s+loss\s+7\.01\s+7\.01\s+10\s+300\s+299/);
    // By name, and by a folder path from the home, as well as by id.
    const id = /\((\S+)\)/.exec(shown.stdout)?.[1] as string;
    for (const reference of ['cli-run', 'cli/cli-run', id]) {
      const again = await runCli(['runs', 'show', reference], { env });
      expect(again.stdout.split('\n')[0]).toBe(`cli-run  (${id})`);
    }
    // A narrow terminal cuts other columns, never the id.
    const narrow = await runCli(['runs', 'ls', '--folder', '/ada@example.org/cli'], { env: { ...env, COLUMNS: '50' } });
    expect(narrow.stdout.split('\n')[1]?.startsWith(`${id}  `)).toBe(true);

    const target = join(dir, 'downloaded');
    const downloaded = await runCli(['download', '/ada@example.org/cli/cli-run', target], { env });
    expect(downloaded.code).toBe(0);
    const csv = (await readFile(join(target, 'metrics', 'train', 'loss.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(301);
    expect(csv[1]).toMatch(/^0,10,0,\d{4}-/);
    expect(JSON.parse(await readFile(join(target, 'run.json'), 'utf8')).hparams).toEqual({ lr: 0.05 });

    const again = await runCli(['upload', runDir, '--folder', 'cli'], { env });
    expect(again.stdout).toMatch(/up to date\s+0$/m);

    expect((await runCli(['runs', 'rm', '/ada@example.org/cli/cli-run'], { env })).code).toBe(0);
    const gone = await runCli(['runs', 'show', '/ada@example.org/cli/cli-run'], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/No run \/ada@example\.org\/cli\/cli-run/);
  });

  it('uploads an offline run where it was meant to go, and every other run despite a stale one', async () => {
    const parent = join(dir, 'offline-runs');
    process.env.LARDER_RUN_PARENT_DIR = parent;
    try {
      const stale = await createRun({ name: 'stale' });
      stale.log('train', { loss: 1 }, 0);
      await stale.finish();
      expect((await runCli(['upload', stale.local, '--folder', 'shared', '--make-folder'], { env })).code).toBe(0);
      const replacing = await createRun({ name: 'stale' });
      await replacing.finish();
      await runCli(['upload', replacing.local, '--folder', 'shared', '--conflict', 'replace'], { env });
      // The stale run has something new to send, to a run that is gone.
      (await loadRun(stale.local)).params.lr = 0.5;
      await rm(replacing.local, { recursive: true });

      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const offline = await createRun({
        name: 'trained-offline',
        folder: 'offline',
        makeFolder: true,
        autoUpload: true,
        connection: { url: 'http://127.0.0.1:9', token: 'lk_none' },
      });
      offline.log('train', { loss: 0.25 }, 0);
      await offline.finish();
      warn.mockRestore();

      const result = await runCli(['upload', parent], { env });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/run\s+stale_\S+\s+failed/);
      expect(result.stdout).toMatch(/run\s+trained-offline_\S+\s+\S+\s+uploaded\s+1/);
      expect(result.stderr).toContain(stale.local);
      expect(result.stderr).toMatch(/1 of 2 could not be uploaded/);
      const found = await server.request('GET', `/runs?altName=${offline.altName}`, { token: env.LARDER_TOKEN });
      expect(found.body.data[0]).toMatchObject({ folder: '/ada@example.org/offline', status: 'Complete' });
    } finally {
      process.env.LARDER_RUN_PARENT_DIR = join(dir, 'runs');
    }
  });

  it('refuses mistakes in one sentence', async () => {
    expect((await runCli(['upload', runDir, '--conflict', 'merge'], { env })).stderr).toMatch(
      /--conflict must be one of/,
    );
    expect((await runCli(['runs', 'ls', '--where', '{nope'], { env })).stderr).toMatch(/--where must be a JSON object/);
    expect((await runCli(['runs', 'ls', '--limit', '0'], { env })).stderr).toMatch(/--limit/);
    const missing = await runCli(['upload', join(dir, 'nothing-here')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^larder: /);
    expect((await runCli(['download', 'no-such-id', join(dir, 'x')], { env })).stderr).toMatch(/No run or artifact/);
  });
});
