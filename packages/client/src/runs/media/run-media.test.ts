/**
 * `run.logImage` and `run.logHistogram` through a whole run: kept in the run's directory
 * (an offline run loses nothing), uploaded with it, each entry once even after a broken
 * connection, and written synchronously when the process exits without `finish()`.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRun } from '../create-run.js';
import { loadRun } from '../load-run.js';
import { FakeRunsRemote } from '../test-support/fake-runs-remote.js';
import { useTemporaryRunDirectories } from '../test-support/run-directories.js';
import { MEDIA_FILE, readMediaEntries } from './media-entries.js';
import { MediaLogWriter } from './media-log-writer.js';
import { encodePngSync } from './png-encoder.js';
import type { RunHistogramBody, RunImageBody } from './run-media-upload.js';

useTemporaryRunDirectories();

const pixels = (value: number) => ({ data: new Uint8Array(4 * 4 * 3).fill(value), width: 4, height: 4, channels: 3 });

describe('run media', () => {
  it('keeps images and histograms in the run directory, in the order logged', async () => {
    const run = await createRun({ name: 'offline' });
    run.logImage('samples', pixels(10), { step: 0, caption: 'first' });
    run.logImage('samples', encodePngSync({ width: 1, height: 1, channels: 1, data: Uint8Array.of(7) }), { step: 1 });
    run.logHistogram('dense/kernel', new Float32Array([0, 1, 2, 3]), { step: 0, bins: 2 });
    await run.finish();
    const entries = await readMediaEntries(run.local);
    expect(entries.map((entry) => [entry.kind, entry.step])).toEqual([
      ['image', 0],
      ['image', 1],
      ['histogram', 0],
    ]);
    const [first, second, histogram] = entries;
    expect(first).toMatchObject({ name: 'samples', caption: 'first', mime: 'image/png', width: 4, height: 4 });
    expect(second).toMatchObject({ width: 1, height: 1 });
    expect(histogram).toMatchObject({ name: 'dense/kernel', min: 0, max: 3, counts: [2, 2] });
    for (const image of [first, second]) {
      if (image?.kind !== 'image') throw new Error('not an image');
      expect((await readFile(join(run.local, image.file))).length).toBe(image.size);
    }
  });

  it('uploads them with the run, and a second upload sends nothing', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'media' });
    for (let step = 0; step < 3; step++) {
      run.logImage('samples', pixels(step * 50), { step, caption: `step ${step}` });
      run.logHistogram('weights', [step, step + 1, step + 2], { step });
    }
    await run.finish();
    const result = await run.upload({ remote });
    const images = remote.callsOf('createRunImages').flat() as RunImageBody[];
    const histograms = remote.callsOf('createRunHistograms').flat() as RunHistogramBody[];
    expect(images.map((image) => [image.run, image.step, image.caption])).toEqual([
      [result.id, 0, 'step 0'],
      [result.id, 1, 'step 1'],
      [result.id, 2, 'step 2'],
    ]);
    expect(images.every((image) => remote.blobs.has(image.image.sha256))).toBe(true);
    expect(histograms.map((each) => each.min)).toEqual([0, 1, 2]);
    // remote.json says every byte of the log is on the server, so the next sync reads none of it.
    const history = JSON.parse(await readFile(join(run.local, 'remote.json'), 'utf8'));
    expect(history.uploads[0].mediaBytes).toBe((await stat(join(run.local, MEDIA_FILE))).size);
    const calls = remote.calls.length;
    await (await loadRun(run.local)).upload({ remote });
    expect(remote.calls.length).toBe(calls);
  });

  it('comes back whole with a run loaded from the server, and uploading the copy sends none of it', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'kept' });
    run.logImage('samples', pixels(90), { step: 3, caption: 'three' });
    run.logHistogram('weights', [1, 2, 3], { step: 3 });
    await run.finish();
    await run.upload({ remote, folder: 'x' });
    const before = await readMediaEntries(run.local);
    await rm(run.local, { recursive: true });
    const loaded = await loadRun('/ada@example.org/x/kept', { remote });
    const after = await readMediaEntries(loaded.local);
    expect(after.map((entry) => [entry.kind, entry.key, entry.step])).toEqual(
      before.map((entry) => [entry.kind, entry.key, entry.step]),
    );
    const image = after.find((entry) => entry.kind === 'image');
    expect(image).toMatchObject({ caption: 'three', sha256: before[0]?.kind === 'image' ? before[0].sha256 : '' });
    if (image?.kind !== 'image') throw new Error('no image');
    expect((await readFile(join(loaded.local, image.file))).length).toBe(image.size);
    const sent = remote.callsOf('createRunImages').length + remote.callsOf('createRunHistograms').length;
    await loaded.upload({ remote });
    expect(remote.callsOf('createRunImages').length + remote.callsOf('createRunHistograms').length).toBe(sent);
  });

  it('resends after a broken connection without storing an entry twice', async () => {
    const remote = new FakeRunsRemote();
    const run = await createRun({ name: 'flaky' });
    run.logImage('samples', pixels(1), { step: 0 });
    run.logHistogram('weights', [1, 2], { step: 0 });
    await run.finish();
    // The images land, the histograms' call breaks: the next upload sends the batch again.
    const original = remote.createRunHistograms.bind(remote);
    let broken = true;
    remote.createRunHistograms = async (records) => {
      if (broken) {
        broken = false;
        await original(records);
        throw new Error('The connection broke after the server stored them');
      }
      return original(records);
    };
    await expect(run.upload({ remote })).rejects.toThrow(/connection broke/);
    await run.upload({ remote });
    expect(remote.callsOf('createRunImages')).toHaveLength(2);
    expect(remote.media.size).toBe(2);
  });

  it('writes what is still queued when the process exits', async () => {
    const run = await createRun({ name: 'exiting' });
    const writer = new MediaLogWriter(run.local);
    writer.addHistogram(
      { name: 'h', step: 0 },
      { min: 0, max: 1, counts: [1], count: 1, sum: 0, sumSquares: 0, nonFinite: 0 },
    );
    writer.flushSync();
    await writer.close();
    expect(existsSync(join(run.local, MEDIA_FILE))).toBe(true);
    expect(await readMediaEntries(run.local)).toHaveLength(1);
    await run.finish();
  });

  it('refuses bad calls at once, with a sentence', async () => {
    const run = await createRun({ name: 'mistakes' });
    expect(() => run.logImage('', pixels(0), { step: 0 })).toThrow(/needs a name/);
    expect(() => run.logImage('x', pixels(0), { step: Number.NaN })).toThrow(/finite number/);
    expect(() => run.logImage('x', pixels(0), {} as never)).toThrow(/needs \{ step \}/);
    expect(() => run.logHistogram('x', [1], { step: 0, bins: 5000 })).toThrow(/1 to 1024 bins/);
    await run.finish();
    expect(() => run.logHistogram('x', [1], { step: 1 })).toThrow(/Complete/);
  });
});
