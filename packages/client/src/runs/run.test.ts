/**
 * A run's life on disk: creation from options and a YAML config, logging, params, finish,
 * loading back in another "process", and recovery after a crash.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRun } from './create-run.js';
import { loadRun } from './load-run.js';
import { FakeRunsRemote } from './test-support/fake-runs-remote.js';
import { useTemporaryRunDirectories } from './test-support/run-directories.js';
import { WRITER_FILE } from './writer-lock.js';

const directories = useTemporaryRunDirectories();

describe('createRun', () => {
  it('makes a directory named by the alternative name under $LARDER_RUN_PARENT_DIR', async () => {
    const run = await createRun({ name: 'mnist', labels: ['cnn'], description: 'first try', hparams: { lr: 0.1 } });
    expect(run.altName).toMatch(/^mnist_\d{6}_\d{6}_[a-z0-9]{6}$/);
    expect(run.local).toBe(join(directories.root(), 'runs', run.altName));
    expect(run.status).toBe('Running');
    expect((await readdir(run.local)).sort()).toEqual(
      ['console.ndjson', 'git.json', 'hparams.json', 'metrics.lmc', 'platform.json', 'run.json', WRITER_FILE].sort(),
    );
    expect(run.platform).toMatchObject({ node: process.version });
    await run.finish();
    expect(run.status).toBe('Complete');
    expect(run.endTime).not.toBeNull();
    expect(existsSync(join(run.local, WRITER_FILE))).toBe(false);
  });

  it('takes values from the YAML config over the options', async () => {
    const config = join(directories.root(), 'run.yaml');
    await writeFile(
      config,
      'name: cnn_keras\nhparams:\n  batch_size: 32\nlabels: [Keras]\ndescription: from the file\nconflict_strategy: skip\n',
    );
    const run = await createRun({ configPath: config, name: 'ignored', hparams: { lr: 1 }, description: 'option' });
    expect(run.name).toBe('cnn_keras');
    expect(run.params.toJSON()).toEqual({ batch_size: 32 });
    expect(run.labels).toEqual(['Keras']);
    expect(run.description).toBe('from the file');
    const document = JSON.parse(await readFile(join(run.local, 'run.json'), 'utf8'));
    expect(document.upload.conflictStrategy).toBe('skip');
    await run.finish();
  });

  it('refuses a config with an unknown key or a bad strategy, saying which', async () => {
    const config = join(directories.root(), 'run.yaml');
    await writeFile(config, 'nmae: typo\n');
    await expect(createRun({ configPath: config })).rejects.toThrow(/unknown key "nmae"/);
    await expect(createRun({ conflictStrategy: 'overwrite' as never })).rejects.toThrow(/skip, error, new, replace/);
    await expect(createRun({ name: '../escape' })).rejects.toThrow(/Invalid run name/);
  });
});

describe('run.log and run.params', () => {
  it('normalises type aliases and keeps custom types', async () => {
    const run = await createRun({ name: 'types' });
    run.log('training', { loss: 1 }, 0);
    run.log('validation', { loss: 2 }, 0);
    run.log('eval', { accuracy: 0.9 }, 0, 1);
    run.log('lr-schedule', { lr: 0.01 }, 0);
    const series = await run.metrics();
    expect(series.map((each) => `${each.type}/${each.name}`).sort()).toEqual([
      'lr-schedule/lr',
      'test/accuracy',
      'train/loss',
      'val/loss',
    ]);
    expect(series.find((each) => each.type === 'test')?.epochs).toEqual([1]);
    await run.finish();
  });

  it('refuses a step that is not a number and a value that is not numeric', async () => {
    const run = await createRun({ name: 'bad-points' });
    expect(() => run.log('train', { loss: 1 }, Number.NaN)).toThrow(/finite number as step/);
    expect(() => run.log('train', { loss: 'high' as never }, 0)).toThrow(/Metric "loss" is not a number/);
    run.log('train', { loss: 3n }, 0);
    expect((await run.metrics())[0]?.values).toEqual([3]);
    await run.finish();
    expect(() => run.log('train', { loss: 1 }, 1)).toThrow(/is Complete; create a new run/);
  });

  it('records every parameter change on disk at once', async () => {
    const run = await createRun({ name: 'params', hparams: { epochs: 1 } });
    run.params.batch_size = 64;
    run.params.update({ epochs: 5 });
    expect(JSON.parse(await readFile(join(run.local, 'hparams.json'), 'utf8'))).toEqual({ epochs: 5, batch_size: 64 });
    await run.finish();
  });
});

describe('loadRun', () => {
  it('opens a finished run from its directory with its params and every point', async () => {
    const run = await createRun({ name: 'roundtrip', hparams: { lr: 0.1 } });
    for (let step = 0; step < 100; step++) run.log('train', { loss: 1 / (step + 1) }, step, Math.floor(step / 10));
    await run.finish();
    const loaded = await loadRun(run.local);
    expect(loaded.status).toBe('Complete');
    expect(loaded.params.lr).toBe(0.1);
    const [loss] = await loaded.metrics();
    expect(loss?.steps).toEqual(Array.from({ length: 100 }, (_, step) => step));
    expect(loss?.epochs[99]).toBe(9);
    expect(() => loaded.log('train', { loss: 0 }, 100)).toThrow(/create a new run/);
  });

  it('reports a run whose writer died as Interrupted, keeping its durable points', async () => {
    const run = await createRun({ name: 'abandoned' });
    for (let step = 0; step < 10; step++) run.log('train', { loss: step }, step);
    await run.flush();
    // A writer process that is gone: the pid of a child that has exited.
    const deadPid = await exitedProcessId();
    const lock = JSON.parse(await readFile(join(run.local, WRITER_FILE), 'utf8'));
    await writeFile(join(run.local, WRITER_FILE), JSON.stringify({ ...lock, pid: deadPid }));
    const loaded = await loadRun(run.local);
    expect(loaded.status).toBe('Interrupted');
    expect(loaded.endTime).not.toBeNull();
    expect((await loaded.metrics())[0]?.steps).toHaveLength(10);
    expect(JSON.parse(await readFile(join(run.local, 'run.json'), 'utf8')).status).toBe('Interrupted');
  });

  it('leaves a run with a live writer Running', async () => {
    const run = await createRun({ name: 'live' });
    expect((await loadRun(run.local)).status).toBe('Running');
    await run.finish();
  });

  it('says what is missing when the path is neither local nor on the server', async () => {
    const remote = new FakeRunsRemote();
    await expect(loadRun('/ada@example.org/nowhere/run', { remote })).rejects.toThrow(/No run at/);
  });

  it('finds a server run by folder and name and records it locally as uploaded', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'shared', hparams: { lr: 0.5 } });
    await run.finish();
    await run.upload({ remote, folder: 'cv/mnist' });
    const loaded = await loadRun('/ada@example.org/cv/mnist/shared', { remote });
    expect(loaded.params.lr).toBe(0.5);
    expect(loaded.status).toBe('Complete');
    expect((await loaded.upload({ remote })).id).toBe([...remote.runs.keys()][0]);
    expect(remote.runs.size).toBe(1);
  });
});

describe('a process killed with SIGKILL mid-run', () => {
  it('leaves a run that loads as Interrupted and uploads every durable point exactly once', async () => {
    const { directory, durable } = await runChildAndKill(directories.root());
    const loaded = await loadRun(directory);
    expect(loaded.status).toBe('Interrupted');
    const series = await loaded.metrics();
    expect(series.map((each) => each.steps.length)).toEqual([durable, durable]);

    const remote = new FakeRunsRemote();
    const first = await loaded.upload({ remote });
    expect(first.pointsSent).toBe(2 * durable);
    expect(remote.runs.get(first.id)?.status).toBe('Interrupted');
    expect(remote.series(first.id, 'train', 'loss')?.steps).toEqual(Array.from({ length: durable }, (_, i) => i));

    const again = await (await loadRun(directory)).upload({ remote });
    expect(again).toMatchObject({ id: first.id, pointsSent: 0, created: false });
    expect(remote.pointsReceived).toBe(2 * durable);
  });
});

describe('a process that exits without finish()', () => {
  it('still writes its buffered points on exit, and the run loads as Interrupted', async () => {
    const script = `
      import { createRun } from ${JSON.stringify(DIST_INDEX)};
      const run = await createRun({ name: 'unfinished', flushIntervalMs: 3600000 });
      for (let step = 0; step < 700; step++) run.log('val', { loss: step }, step);
      console.log(run.local);
    `;
    const output = await runChild(script, directories.root());
    const loaded = await loadRun(output.trim());
    expect(loaded.status).toBe('Interrupted');
    expect((await loaded.metrics())[0]?.steps).toHaveLength(700);
  });
});

function runChild(script: string, root: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, LARDER_RUN_PARENT_DIR: join(root, 'runs') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`The child exited with ${code}`))));
  });
}

function exitedProcessId(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** A child logs 1000 durable points per series and 500 more it never flushes, then is killed. */
async function runChildAndKill(root: string): Promise<{ directory: string; durable: number }> {
  if (!existsSync(DIST_INDEX)) throw new Error('Build the client first: npx tsc -b packages/client');
  const script = `
    import { createRun } from ${JSON.stringify(DIST_INDEX)};
    const run = await createRun({ name: 'killed', flushIntervalMs: 3600000 });
    for (let step = 0; step < 1000; step++) run.log('train', { loss: step, accuracy: step / 1000 }, step);
    await run.flush();
    for (let step = 1000; step < 1500; step++) run.log('train', { loss: step, accuracy: step / 1000 }, step);
    console.log(JSON.stringify({ directory: run.local, durable: 1000 }));
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, LARDER_RUN_PARENT_DIR: join(root, 'runs') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      if (output.includes('\n')) resolve(output.split('\n')[0]!);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`The child exited early with ${code}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return JSON.parse(line);
}
