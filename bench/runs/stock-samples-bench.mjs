/**
 * Stock (`@larder/stock`) on many small samples: `count` uint8 pictures of 784 bytes written
 * into one data column and committed (samples/s, the commit's fsyncs included), one `set` at a
 * time and again with one `setMany` for the lot (into another repository), read back
 * by a fresh StockRoom (samples/s, every byte checked against the samples written), pushed to
 * a real `larder serve` (then again into a second repository of the same server, which has
 * made its tables and run its code once) and pulled into a fresh repository (samples/s),
 * beside the raw disk's fsynced write speed. CPU time per sample is given for this process and, for push and pull,
 * for the server too: on a shared machine it shows the cost better than the wall clock.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { round } from '../measure/percentiles.mjs';
import { timedWithCpu } from '../measure/process-cpu.mjs';
import { folderBytes } from '../measure/process-writes.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { measureDiskWrite } from '../workloads/disk-write.mjs';
import { SAMPLE_BYTES, SAMPLE_SHAPE, sampleBytes, sampleName } from '../workloads/stock-samples.mjs';

const STOCK = pathToFileURL(new URL('../../packages/stock/dist/index.js', import.meta.url).pathname).href;
const COLUMN = 'images';

/** Wall seconds, and this process's CPU seconds (user + system): on a shared machine the CPU time shows the cost. */
const timed = (work) => timedWithCpu(work);

const microsPer = (seconds, count) => Math.round((seconds * 1e7) / count) / 10;

const perSecond = (count, seconds) => Math.round(count / seconds);

/** `timed`, plus the CPU seconds the server process used meanwhile. */
const timedWithServer = (pid, work) => timedWithCpu(work, pid);

/**
 * Reads every sample back through a read-only view of `commit`, checking each byte against
 * the sample written (`expected`, made before the clock starts, as the writes' samples are).
 */
async function readAll(StockRoom, path, commit, count, expected) {
  const view = new StockRoom({ path, commit });
  await view.optimize(async () => {
    for (let index = 0; index < count; index += 1) {
      const sample = await view.data.get(COLUMN, sampleName(index));
      const want = expected[index];
      const got = new Uint8Array(sample.data.buffer, sample.data.byteOffset, sample.data.byteLength);
      if (got.length !== SAMPLE_BYTES || Buffer.compare(got, want) !== 0) {
        throw new Error(`Sample ${index} read back differs from the one written`);
      }
    }
  });
}

/**
 * The same samples written with one `setMany` call into a repository of their own and
 * committed: the batch API a user holding many samples calls. It runs after the one-by-one
 * write in the same process, so it finds the shared code already compiled. Checks that the
 * commit's tree is the one-by-one write's.
 */
async function writeBatch(StockRoom, initStock, path, samples, oneByOne) {
  await initStock(path);
  const room = new StockRoom({ path, author: 'bench' });
  let stagedSeconds = 0;
  const write = await timed(async () => {
    const staged = await timed(() =>
      room.data.setMany(
        COLUMN,
        samples.map((sample, index) => [sampleName(index), sample]),
      ),
    );
    stagedSeconds = staged.seconds;
    return room.commit(`${samples.length} samples`);
  });
  if (JSON.stringify((await room.commitInfo(write.answer)).tree) !== JSON.stringify(oneByOne)) {
    throw new Error('setMany committed another tree than the one-by-one writes');
  }
  const count = samples.length;
  return {
    seconds: round(write.seconds, 3),
    samplesPerSec: perSecond(count, write.seconds),
    commitSeconds: round(write.seconds - stagedSeconds, 3),
    cpuMicrosPerSample: microsPer(write.cpuSeconds, count),
  };
}

/** @returns {Promise<object>} the small-samples figures */
export async function benchStockSamples(tempRoot, count, log) {
  const { HttpStockRemote, initStock, pullStock, pushStock, StockRoom, tensor } = await import(STOCK);
  const path = join(tempRoot, 'stock-samples');
  await initStock(path);
  const room = new StockRoom({ path, author: 'bench' });
  const bytes = Array.from({ length: count }, (_, index) => sampleBytes(index));
  const samples = bytes.map((each) => tensor(each, SAMPLE_SHAPE, 'uint8'));
  const raw = await measureDiskWrite(join(tempRoot, 'stock-raw.bin'), Math.max(64 * 1024 * 1024, count * SAMPLE_BYTES));

  log(`stock: writing ${count} samples of ${SAMPLE_BYTES} bytes and committing them`);
  let stagedSeconds = 0;
  const write = await timed(async () => {
    const staged = await timed(() =>
      room.optimize(async () => {
        for (let index = 0; index < count; index += 1) await room.data.set(COLUMN, sampleName(index), samples[index]);
      }),
    );
    stagedSeconds = staged.seconds;
    return room.commit(`${count} samples`);
  });
  const commit = write.answer;
  const oneByOne = (await room.commitInfo(commit)).tree;
  const writeMany = await writeBatch(StockRoom, initStock, join(tempRoot, 'stock-samples-many'), samples, oneByOne);
  const stored = await folderBytes(join(path, '.stock'));
  log('stock: reading them back');
  const read = await timed(() => readAll(StockRoom, path, commit, count, bytes));

  log('stock: pushing them to Larder and pulling them into a fresh repository');
  const server = await startLarder(join(tempRoot, 'stock-samples-data'));
  const remote = new HttpStockRemote({ url: server.url });
  try {
    const push = await timedWithServer(server.pid, () => pushStock(room, remote, { repo: 'samples' }));
    // The same samples again into a second repository (which holds no packs, so every byte
    // travels again): a server that has served a push, its tables made and its code warm.
    const pushAgain = await timedWithServer(server.pid, () => pushStock(room, remote, { repo: 'samples-again' }));
    const copyPath = join(tempRoot, 'stock-samples-copy');
    await initStock(copyPath);
    const copy = new StockRoom({ path: copyPath, author: 'bench' });
    const pull = await timedWithServer(server.pid, () => pullStock(copy, remote, { repo: 'samples' }));
    if (pull.answer.head !== commit) throw new Error('The pull did not reach the pushed commit');
    const check = await timed(() => readAll(StockRoom, copyPath, commit, count, bytes));
    return {
      available: true,
      samples: count,
      sampleBytes: SAMPLE_BYTES,
      rawDiskWrite: raw,
      stored: { files: stored.files, bytes: stored.bytes },
      write: {
        seconds: round(write.seconds, 3),
        samplesPerSec: perSecond(count, write.seconds),
        // Of which the commit (its fsyncs: the pack, its index, the commit, head.stock).
        commitSeconds: round(write.seconds - stagedSeconds, 3),
        cpuMicrosPerSample: microsPer(write.cpuSeconds, count),
      },
      // The same samples through the batch API (`data.setMany`), into a repository of their own.
      writeMany,
      read: {
        seconds: round(read.seconds, 3),
        samplesPerSec: perSecond(count, read.seconds),
        cpuMicrosPerSample: microsPer(read.cpuSeconds, count),
      },
      push: {
        seconds: round(push.seconds, 3),
        objects: push.answer.objects,
        bytes: push.answer.bytes,
        samplesPerSec: perSecond(count, push.seconds),
        cpuMicrosPerSample: microsPer(push.cpuSeconds, count),
        serverCpuMicrosPerSample: microsPer(push.serverCpuSeconds, count),
      },
      pushToRunningServer: {
        seconds: round(pushAgain.seconds, 3),
        objects: pushAgain.answer.objects,
        samplesPerSec: perSecond(count, pushAgain.seconds),
        cpuMicrosPerSample: microsPer(pushAgain.cpuSeconds, count),
        serverCpuMicrosPerSample: microsPer(pushAgain.serverCpuSeconds, count),
      },
      pull: {
        seconds: round(pull.seconds, 3),
        objects: pull.answer.objects,
        bytes: pull.answer.bytes,
        samplesPerSec: perSecond(count, pull.seconds),
        cpuMicrosPerSample: microsPer(pull.cpuSeconds, count),
        serverCpuMicrosPerSample: microsPer(pull.serverCpuSeconds, count),
        readBackSamplesPerSec: perSecond(count, check.seconds),
      },
    };
  } finally {
    await remote.close();
    await server.stop();
  }
}
