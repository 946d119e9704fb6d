/**
 * Uploading runs against an in-memory server that keeps the contract: resumable, never
 * duplicating a point, idempotent, with folders, conflict strategies and associations.
 */
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '@larder/protocol';
import { describe, expect, it, vi } from 'vitest';
import { createArtifact } from '../artifacts/create-artifact.js';
import { createRun } from './create-run.js';
import { loadRun } from './load-run.js';
import type { MetricChunk } from './metric-chunk.js';
import { readAllSeries, readMetricLog } from './metric-log-reader.js';
import { encodeMetricRecord } from './metric-log-record.js';
import type { Run } from './run.js';
import { RunUploader } from './run-uploader.js';
import type { MetricsBody, RunCreateBody, RunPatchBody } from './runs-remote.js';
import { FakeRunsRemote } from './test-support/fake-runs-remote.js';
import { useTemporaryRunDirectories } from './test-support/run-directories.js';
import { upload } from './upload-directory.js';
import { HISTORY_FILE } from './upload-history.js';
import { UPLOAD_CONCURRENCY } from './upload-scheduler.js';

useTemporaryRunDirectories();

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => from + index);

async function finishedRun(name: string, points: number): Promise<Run> {
  const run = await createRun({ name, hparams: { lr: 0.1 } });
  for (let step = 0; step < points; step++) {
    run.log('train', { loss: 1 / (step + 1) }, step);
    if (step % 10 === 0) run.log('val', { loss: step }, step, step / 10);
  }
  await run.finish();
  return run;
}

describe('run.upload', () => {
  it('creates the record, sends every point with its series offset, then patches the final state', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('mnist', 100);
    const result = await run.upload({ remote });
    expect(result).toMatchObject({ skipped: false, created: true, pointsSent: 110 });
    const [created] = remote.callsOf('createRun') as RunCreateBody[];
    expect(created).toMatchObject({ name: 'mnist', altName: run.altName, status: 'Complete', hparams: { lr: 0.1 } });
    expect(created?.platform).toMatchObject({ node: process.version });
    expect(remote.series(result.id, 'train', 'loss')?.steps).toEqual(range(0, 100));
    expect(remote.series(result.id, 'val', 'loss')?.epochs).toEqual(range(0, 10));
  });

  it('sends nothing the second time', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('twice', 50);
    await run.upload({ remote });
    const calls = remote.calls.length;
    const again = await (await loadRun(run.local)).upload({ remote });
    expect(again).toMatchObject({ created: false, pointsSent: 0 });
    expect(remote.calls.length).toBe(calls);
    expect(remote.pointsReceived).toBe(55);
  });

  it('keeps alerts on disk and sends each once, even when the network breaks in between', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'alerting' });
    run.alert({ title: 'loss diverged', text: 'step 12', level: 'warn' });
    expect(() => run.alert({ title: '' })).toThrow(/title/);
    expect(() => run.alert({ title: 'x', level: 'panic' as 'warn' })).toThrow(/level/);
    run.alert({ title: 'second' });
    await run.finish();
    remote.failNextAlertCalls = 1;
    await expect(run.upload({ remote })).rejects.toThrow(/network broke/);
    const result = await run.upload({ remote });
    run.alert({ title: 'after the end', level: 'error' });
    await run.upload({ remote });
    await run.upload({ remote });
    expect(remote.alerts.map((each) => [each.runId, each.alert.title, each.alert.level])).toEqual([
      [result.id, 'loss diverged', 'warn'],
      [result.id, 'second', 'info'],
      [result.id, 'after the end', 'error'],
    ]);
    expect(remote.callsOf('raiseAlert')).toHaveLength(4);
  });

  it('resumes after a broken connection without duplicating a point', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('broken', 1000);
    const original = remote.appendMetrics.bind(remote);
    let calls = 0;
    remote.appendMetrics = async (body: MetricsBody) => {
      // Broken for two calls: the uploader's one retry fails too.
      calls += 1;
      if (calls === 3 || calls === 4) throw new LarderError('Unavailable', 'The network broke');
      return original(body);
    };
    await expect(new RunUploader(run.local, remote, { batchPoints: 100 }).sync()).rejects.toThrow(/network broke/);
    // Another process picks up from remote.json.
    const result = await new RunUploader(run.local, remote, { batchPoints: 100 }).sync();
    expect(remote.series(result.id, 'train', 'loss')?.steps).toEqual(range(0, 1000));
    expect(remote.series(result.id, 'val', 'loss')?.steps).toEqual(range(0, 100).map((each) => each * 10));
    expect(remote.pointsReceived).toBe(1100);
    expect(remote.runs.size).toBe(1);
  });

  it('sends the writes the live writer hands over without reading them back, and reads the file for the rest', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('offered', 300);
    const file = join(run.local, 'metrics.lmc');
    const bytes = await readFile(file);
    const { chunks } = await readMetricLog(file);
    const uploader = new RunUploader(run.local, remote, { batchPoints: 100 });
    // Offered as durable, then the file's bytes zeroed: only the offered chunks can be sent.
    expect(uploader.offer({ from: 0, to: bytes.length, chunks })).toBe(true);
    await writeFile(file, Buffer.alloc(bytes.length));
    const result = await uploader.sync();
    expect(result.pointsSent).toBe(330);
    expect(remote.series(result.id, 'train', 'loss')?.steps).toEqual(range(0, 300));
    // An offer that does not start where reading stands is ignored: the file is read instead.
    await writeFile(file, bytes);
    const one = (value: number) => Float64Array.of(value);
    const next = { ...(chunks[0] as MetricChunk), offset: 300, steps: one(300), values: one(1), epochs: null };
    await appendFile(file, Buffer.concat(encodeMetricRecord([{ ...next, times: one(1) }])));
    uploader.offer({ from: bytes.length + 5, to: bytes.length + 10, chunks: [] });
    expect((await uploader.sync()).pointsSent).toBe(1);
    expect(remote.series(result.id, 'train', 'loss')?.steps).toEqual(range(0, 301));
  });

  it('uploads a run written before the binary log from its metrics.ndjson, and resumes there', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('ndjson', 300);
    // The same points as the first format wrote them: one JSON chunk a line, null for NaN.
    const { series } = await readAllSeries(join(run.local, 'metrics.lmc'));
    const line = (each: (typeof series)[number], from: number, to: number) =>
      `${JSON.stringify({
        type: each.type,
        name: each.name,
        offset: from,
        steps: each.steps.slice(from, to),
        values: each.values.slice(from, to),
        epochs: each.epochs.some((epoch) => epoch !== null) ? each.epochs.slice(from, to) : null,
        times: each.times.slice(from, to),
      })}\n`;
    const lines = series.flatMap((each) => [line(each, 0, 20), line(each, 20, each.steps.length)]);
    await rm(join(run.local, 'metrics.lmc'));
    await writeFile(join(run.local, 'metrics.ndjson'), lines.join(''));
    const uploader = new RunUploader(run.local, remote, { batchPoints: 50 });
    const result = await uploader.sync();
    expect(result.pointsSent).toBe(330);
    expect(remote.series(result.id, 'train', 'loss')?.values).toEqual(range(0, 300).map((step) => 1 / (step + 1)));
    expect(remote.series(result.id, 'val', 'loss')?.steps).toEqual(range(0, 30).map((each) => each * 10));
    await appendFile(
      join(run.local, 'metrics.ndjson'),
      `${JSON.stringify({ type: 'train', name: 'loss', offset: 300, steps: [300], values: [null], epochs: null, times: [1] })}\n`,
    );
    expect((await new RunUploader(run.local, remote).sync()).pointsSent).toBe(1);
    expect(remote.series(result.id, 'train', 'loss')?.steps).toEqual(range(0, 301));
  });

  it("sends a live run's points in full batches only when asked to, the rest with the next sync", async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'batches' });
    for (let step = 0; step < 10; step++) run.log('train', { loss: step }, step);
    await run.flush();
    const uploader = new RunUploader(run.local, remote, { batchPoints: 100 });
    // Before the first sync there is no record to send to: it is a whole sync.
    expect(await uploader.sendFullBatches()).toBe(10);
    for (let step = 10; step < 260; step++) run.log('train', { loss: step }, step);
    await run.flush();
    const before = remote.calls.length;
    expect(await uploader.sendFullBatches()).toBe(200);
    const sizes = remote.calls
      .slice(before)
      .filter((call) => call.method === 'appendMetrics')
      .map((call) => (call.body as MetricsBody).series.reduce((sum, each) => sum + each.steps.length, 0));
    expect(sizes).toEqual([100, 100]);
    expect(remote.series((await uploader.sync()).id, 'train', 'loss')?.steps).toEqual(range(0, 260));
    await run.finish();
  });

  it('sends a batch again at once when its connection dropped (the points land once)', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('dropped', 300);
    const original = remote.appendMetrics.bind(remote);
    let calls = 0;
    remote.appendMetrics = async (body: MetricsBody) => {
      if (++calls === 2) throw new LarderError('Unavailable', 'read ECONNRESET');
      return original(body);
    };
    const result = await new RunUploader(run.local, remote, { batchPoints: 100 }).sync();
    expect(result.pointsSent).toBe(330);
    expect(remote.series(result.id, 'train', 'loss')?.steps).toEqual(range(0, 300));
    expect(remote.pointsReceived).toBe(330);
  });

  it('keeps sending from the count a server answers when it accepts only part of a batch', async () => {
    const remote = new FakeRunsRemote();
    remote.acceptPerCall = 7;
    const run = await finishedRun('partial', 40);
    const result = await run.upload({ remote });
    expect(remote.series(result.id, 'train', 'loss')?.steps).toEqual(range(0, 40));
    expect(result.pointsSent).toBe(44);
  });

  it('re-uploads a run whose upload history was lost as the same record, without duplicates', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('forgotten', 30);
    const first = await run.upload({ remote });
    await rm(join(run.local, HISTORY_FILE));
    const second = await (await loadRun(run.local)).upload({ remote });
    expect(second.id).toBe(first.id);
    expect(remote.runs.size).toBe(1);
    expect(remote.series(first.id, 'train', 'loss')?.steps).toEqual(range(0, 30));
  });

  it('starts over when the server holds fewer points than recorded (409), and the server keeps each once', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'gap' });
    for (let step = 0; step < 10; step++) run.log('train', { loss: step }, step);
    const { id } = await run.upload({ remote });
    remote.metrics.delete(id);
    for (let step = 10; step < 20; step++) run.log('train', { loss: step }, step);
    await run.upload({ remote });
    expect(remote.series(id, 'train', 'loss')?.steps).toEqual(range(0, 20));
    await run.finish();
  });

  it('uploads points logged after an earlier upload of the live run', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'live' });
    run.log('train', { loss: 1 }, 0);
    const { id } = await run.upload({ remote });
    run.log('train', { loss: 2 }, 1);
    await run.finish();
    expect((await run.upload({ remote })).pointsSent).toBe(1);
    expect(remote.series(id, 'train', 'loss')?.values).toEqual([1, 2]);
    expect(remote.runs.get(id)?.status).toBe('Complete');
  });
});

describe('folders and conflict strategies', () => {
  it('sends the folder as given (relative to the home, or absolute) with makeFolder', async () => {
    const remote = new FakeRunsRemote();
    await (await finishedRun('a', 1)).upload({ remote, folder: 'cv/mnist', makeFolder: true });
    await (await finishedRun('b', 1)).upload({ remote, folder: '/team@example.org/shared' });
    await (await finishedRun('c', 1)).upload({ remote });
    const bodies = remote.callsOf('createRun') as RunCreateBody[];
    expect(
      bodies.map(({ folder, makeFolder, conflictStrategy }) => ({ folder, makeFolder, conflictStrategy })),
    ).toEqual([
      { folder: 'cv/mnist', makeFolder: true, conflictStrategy: 'new' },
      { folder: '/team@example.org/shared', makeFolder: false, conflictStrategy: 'new' },
      { folder: 'default', makeFolder: false, conflictStrategy: 'new' },
    ]);
    expect([...remote.runs.values()].map((each) => each.folder)).toEqual([
      '/ada@example.org/cv/mnist',
      '/team@example.org/shared',
      '/ada@example.org/default',
    ]);
  });

  it('skip keeps the existing run and sends none of the points; error refuses; new uses the altName', async () => {
    const remote = new FakeRunsRemote();
    const first = await finishedRun('same', 5);
    const { id } = await first.upload({ remote, folder: 'x' });

    const skipped = await (await finishedRun('same', 5)).upload({ remote, folder: 'x', conflictStrategy: 'skip' });
    expect(skipped).toMatchObject({ id, skipped: true, pointsSent: 0 });
    expect(remote.pointsReceived).toBe(6);

    const refused = (await finishedRun('same', 5)).upload({ remote, folder: 'x', conflictStrategy: 'error' });
    await expect(refused).rejects.toMatchObject({ name: 'Conflict' });

    const renamed = await finishedRun('same', 5);
    const added = await renamed.upload({ remote, folder: 'x', conflictStrategy: 'new' });
    expect(remote.runs.get(added.id)?.name).toBe(renamed.altName);
  });

  it('replace deletes the existing run first', async () => {
    const remote = new FakeRunsRemote();
    const { id } = await (await finishedRun('swap', 2)).upload({ remote, folder: 'x' });
    const replaced = await (await finishedRun('swap', 3)).upload({ remote, folder: 'x', conflictStrategy: 'replace' });
    expect(remote.runs.has(id)).toBe(false);
    expect(remote.series(replaced.id, 'train', 'loss')?.steps).toHaveLength(3);
  });

  it('uses the folder and strategy createRun was given when upload() names none', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'kept', folder: 'projects/p1', makeFolder: true });
    await run.finish();
    await run.upload({ remote });
    expect(remote.callsOf('createRun')[0]).toMatchObject({ folder: 'projects/p1', makeFolder: true });
  });
});

describe('associations', () => {
  it('uploads local input artifacts and runs first and links them by id', async () => {
    const remote = new FakeRunsRemote();
    const dataset = await createArtifact({ name: 'refs' });
    await dataset.addReference('s3://bucket/mnist.tar');
    const parent = await finishedRun('parent', 2);
    const run = await createRun({ name: 'child' });
    run.markInput(dataset);
    run.markInput(parent);
    run.markOutput({ kind: 'model-version', id: 'mv1' });
    run.markOutput({ kind: 'model-version', id: 'mv1' });
    expect(() => run.markOutput({ kind: 'weights', id: 'x' } as never)).toThrow(/Mark a Run, an Artifact/);
    await run.finish();
    const { id } = await run.upload({ remote });
    const artifactId = [...remote.artifacts.keys()][0];
    const parentId = [...remote.runs.values()].find((each) => each.altName === parent.altName)?._id;
    expect(remote.runs.get(id)?.associations).toEqual({
      inputs: [
        { kind: 'artifact', id: artifactId },
        { kind: 'run', id: parentId },
      ],
      outputs: [{ kind: 'model-version', id: 'mv1' }],
    });
  });
});

describe('autoUpload', () => {
  it('pushes a parameter change to the server in the background', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'auto', hparams: { lr: 0.1 }, autoUpload: true, remote });
    run.params.lr = 0.01;
    await vi.waitFor(
      () => {
        const patches = remote.callsOf('patchRun') as RunPatchBody[];
        expect(patches.at(-1)?.hparams).toEqual({ lr: 0.01 });
      },
      { timeout: 5000, interval: 20 },
    );
    run.log('train', { loss: 1 }, 0);
    await run.finish();
    const [record] = [...remote.runs.values()];
    expect(record).toMatchObject({ status: 'Complete', hparams: { lr: 0.01 } });
    expect(remote.series(record!._id, 'train', 'loss')?.values).toEqual([1]);
  });

  it('never throws out of log or finish when the server is down: finish warns where the run is, upload sends it later', async () => {
    const remote = new FakeRunsRemote();
    const createOnline = remote.createRun.bind(remote);
    remote.createRun = async () => {
      throw new LarderError('Unavailable', 'Cannot reach a Larder server at http://fake.example');
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const run = await createRun({
        name: 'offline',
        folder: 'offline',
        makeFolder: true,
        conflictStrategy: 'replace',
        autoUpload: true,
        remote,
        uploadIntervalMs: 10,
      });
      for (let step = 0; step < 100; step++) run.log('train', { loss: step }, step);
      await expect(run.finish()).resolves.toBeUndefined();
      expect(String(run.uploadError)).toContain(`saved in ${run.local}`);
      expect(warn.mock.calls.map((call) => String(call[0])).join('\n')).toContain(`larder upload ${run.local}`);
      expect((await loadRun(run.local)).status).toBe('Complete');

      // The server is back: `larder upload .larder/runs` names no folder, and the run lands where it was meant to.
      remote.createRun = createOnline;
      const [sent] = await upload(join(run.local, '..'), { remote });
      expect(sent?.error).toBeUndefined();
      expect(remote.callsOf('createRun')[0]).toMatchObject({
        folder: 'offline',
        makeFolder: true,
        conflictStrategy: 'replace',
      });
      expect(remote.runs.get(sent!.result!.id)?.folder).toBe('/ada@example.org/offline');
      expect(remote.series(sent!.result!.id, 'train', 'loss')?.steps).toEqual(range(0, 100));
    } finally {
      warn.mockRestore();
    }
  });
});

describe('live runs of one process', () => {
  it('upload in turns: at most a few at once, a failing server shows on its own run, one run finishing stops no other', async () => {
    let inFlight = 0;
    let mostAtOnce = 0;
    /** A remote whose metric calls take a moment, so that calls not held in turns overlap. */
    const slowRemote = () => {
      const remote = new FakeRunsRemote();
      const append = remote.appendMetrics.bind(remote);
      remote.appendMetrics = async (body) => {
        inFlight += 1;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
        try {
          await new Promise((resolve) => setImmediate(resolve));
          return await append(body);
        } finally {
          inFlight -= 1;
        }
      };
      return remote;
    };
    const down = slowRemote();
    down.failNextMetricCalls = Number.POSITIVE_INFINITY;
    const remotes = [down, slowRemote(), slowRemote(), slowRemote(), slowRemote()];
    const runs = await Promise.all(
      remotes.map((remote, index) => createRun({ name: `turns-${index}`, autoUpload: true, remote })),
    );
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      for (let step = 0; step < 50; step++) for (const run of runs) run.log('train', { loss: step }, step);
      await runs[0]?.finish();
      expect(String(runs[0]?.uploadError)).toContain(`saved in ${runs[0]?.local}`);
      // The others keep logging after the first run finished, and finish together.
      for (let step = 50; step < 80; step++) for (const run of runs.slice(1)) run.log('train', { loss: step }, step);
      await Promise.all(runs.slice(1).map((run) => run.finish()));
    } finally {
      warn.mockRestore();
    }
    expect(mostAtOnce).toBeGreaterThan(0);
    expect(mostAtOnce).toBeLessThanOrEqual(UPLOAD_CONCURRENCY);
    for (const [index, run] of runs.entries()) {
      if (index === 0) continue;
      expect(run.uploadError).toBeUndefined();
      const [record] = [...(remotes[index] as FakeRunsRemote).runs.values()];
      expect(remotes[index]?.series(record!._id, 'train', 'loss')?.steps).toEqual(range(0, 80));
    }
  });
});

describe('upload(path)', () => {
  it('uploads every run of a parent directory on its own, naming the stale one and what happened to it', async () => {
    const remote = new FakeRunsRemote();
    const stale = await finishedRun('a-stale', 3);
    const { id } = await stale.upload({ remote, folder: 'x' });
    // Another upload replaces it on the server.
    await (await finishedRun('a-stale', 2)).upload({ remote, folder: 'x', conflictStrategy: 'replace' });
    expect(remote.runs.has(id)).toBe(false);
    // The stale run has something new to send (a parameter changed after its upload).
    (await loadRun(stale.local)).params.lr = 0.5;
    const later = await finishedRun('b-later', 4);
    const results = await upload(join(stale.local, '..'), { remote });
    expect(results).toHaveLength(3);
    const failed = results.find((each) => each.local === stale.local);
    expect(failed?.error?.message).toContain(stale.local);
    expect(failed?.error?.message).toMatch(/is gone \(removed, or replaced by another run/);
    const sent = results.find((each) => each.local === later.local);
    expect(sent).toMatchObject({ kind: 'run', result: { created: true, pointsSent: 5 } });
    expect(remote.series(sent!.result!.id, 'train', 'loss')?.steps).toEqual(range(0, 4));
  });

  it('knows what a finished run sent without reading its metric log again', async () => {
    const remote = new FakeRunsRemote();
    const run = await finishedRun('known', 200);
    await run.upload({ remote });
    // Damage the log's first record: an upload that read the log again would refuse it.
    const path = join(run.local, 'metrics.lmc');
    const log = await readFile(path);
    log.fill(0x78, 0, 8);
    await writeFile(path, log);
    const calls = remote.calls.length;
    const again = await upload(run.local, { remote });
    expect(again[0]?.result).toMatchObject({ created: false, pointsSent: 0 });
    expect(remote.calls.length).toBe(calls);
  });

  it('uploads one directory, or every run or artifact directly inside a parent', async () => {
    const remote = new FakeRunsRemote();
    const one = await finishedRun('one', 3);
    await finishedRun('two', 3);
    const artifact = await createArtifact({ name: 'notes' });
    await artifact.addReference('https://example.org/notes.txt');
    expect(await upload(one.local, { remote })).toMatchObject([{ kind: 'run', local: one.local }]);
    const all = await upload(join(one.local, '..'), { remote });
    expect(all.map((each) => each.kind)).toEqual(['run', 'run']);
    expect(remote.runs.size).toBe(2);
    expect(await upload(join(artifact.local, '..'), { remote })).toMatchObject([{ kind: 'artifact' }]);
    await expect(upload(join(one.local, 'nothing-here'), { remote })).rejects.toThrow(/not a directory/);
  });
});

describe('loadRun from a server path', () => {
  it('brings the run back whole, and uploading it again changes nothing', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'whole', hparams: { lr: 0.1 }, labels: ['cnn'] });
    for (let step = 0; step < 5000; step++) run.log('train', { loss: 1 / (step + 1) }, step, Math.floor(step / 1000));
    run.log('val', { accuracy: 0.9 }, 4999);
    run.markInput({ kind: 'dataset-version', id: 'dv1' });
    run.markOutput({ kind: 'model-version', id: 'mv1' });
    await run.finish();
    const { id } = await run.upload({ remote, folder: 'cv' });
    remote.runs.get(id)!.files = { weights: { sha256: 'a'.repeat(64), size: 3, filename: 'weights.bin' } };
    // Elsewhere: another machine, another working directory.
    process.env.LARDER_RUN_PARENT_DIR = join(run.local, '..', '..', 'elsewhere');

    const loaded = await loadRun('cv/whole', { remote });
    expect(loaded.local).not.toBe(run.local);
    expect(loaded).toMatchObject({ name: 'whole', altName: run.altName, status: 'Complete', labels: ['cnn'] });
    expect(loaded.params.toJSON()).toEqual({ lr: 0.1 });
    expect(loaded.associations).toEqual({
      inputs: [{ kind: 'dataset-version', id: 'dv1' }],
      outputs: [{ kind: 'model-version', id: 'mv1' }],
    });
    expect(loaded.platform).toEqual(run.platform);
    expect(loaded.files).toMatchObject({ weights: { filename: 'weights.bin' } });
    const series = await loaded.metrics();
    expect(series.find((each) => each.name === 'loss')?.steps).toEqual(range(0, 5000));
    expect(series.find((each) => each.name === 'loss')?.epochs.at(-1)).toBe(4);
    expect(series.find((each) => each.name === 'accuracy')?.values).toEqual([0.9]);

    const calls = remote.calls.length;
    expect(await loaded.upload({ remote })).toMatchObject({ id, created: false, pointsSent: 0 });
    expect(remote.calls.length).toBe(calls);
    expect(remote.runs.get(id)?.associations).toEqual(loaded.associations);

    // A change is sent, and only that.
    loaded.params.lr = 0.2;
    await loaded.upload({ remote });
    expect(remote.callsOf('patchRun').at(-1)).toMatchObject({
      hparams: { lr: 0.2 },
      associations: { inputs: [{ kind: 'dataset-version', id: 'dv1' }] },
    });
    expect(remote.runs.get(id)?.files).toMatchObject({ weights: { filename: 'weights.bin' } });
  });

  it("opens the local run as it is when loaded from the run's own working directory", async () => {
    const remote = new FakeRunsRemote();
    const parent = await finishedRun('parent', 2);
    const run = await createRun({ name: 'own' });
    run.markInput(parent);
    run.log('train', { loss: 1 }, 0);
    await run.finish();
    const { id } = await run.upload({ remote, folder: 'x' });
    const history = await readFile(join(run.local, HISTORY_FILE), 'utf8');
    const document = await readFile(join(run.local, 'run.json'), 'utf8');

    const loaded = await loadRun(`/ada@example.org/x/own`, { remote });
    expect(loaded.local).toBe(run.local);
    expect(loaded.associations.inputs).toEqual([{ kind: 'run', local: parent.local, altName: parent.altName }]);
    expect(await readFile(join(run.local, HISTORY_FILE), 'utf8')).toBe(history);
    expect(await readFile(join(run.local, 'run.json'), 'utf8')).toBe(document);
    expect((await loaded.upload({ remote })).id).toBe(id);
  });
});
