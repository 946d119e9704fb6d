/**
 * The model registry through the SDK (`ModelRegistry`) against a real `larder serve`: push
 * of a PMF model with ten large checkpoints, pull of it back (MB/s, beside a raw fsynced disk
 * write measured before the push and after the pull), then the same model saved again with
 * one checkpoint retrained and pushed again, counting the bytes the SDK sends. The tree is
 * fsynced once saved, so no timed phase competes with the setup's writeback; push and pull
 * go through the SDK's own HTTP client, the second push through a counting `fetch`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readConfig } from '../config.mjs';
import { countingFetch } from '../measure/counting-fetch.mjs';
import { round } from '../measure/percentiles.mjs';
import { cpuCeiling, timedWithCpu } from '../measure/process-cpu.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { makeRandomFile } from '../workloads/blob-file.mjs';
import { measureDiskYardstick, settleWriteback } from '../workloads/disk-write.mjs';
import { PMF_MODEL_NAME, savePmfModel, writeCheckpointSources } from '../workloads/pmf-model.mjs';

const CLIENT = pathToFileURL(new URL('../../packages/client/dist/index.js', import.meta.url).pathname).href;
const CHECKPOINTS = 10;
const MIB = 1024 * 1024;
/** The raw yardstick writes at most this much each time: enough to leave the page cache behind. */
const RAW_WRITE_BYTES = 1024 * MIB;

/**
 * The work's answer and seconds, with the 1-minute load average as it started and the CPU
 * seconds this process (the SDK, its hashing threads included) and the server (`pid`) spent.
 */
async function timed(work, pid) {
  const load = round(loadavg()[0], 2);
  return { ...(await timedWithCpu(work, pid)), load };
}

const mbPerSec = (bytes, seconds) => Math.round(bytes / 1e6 / seconds);

/**
 * A transfer's figures: MB/s, its share of the raw disk, and its CPU: seconds per GB on each
 * side, and the ceiling the machine's cores set when client and server share them.
 */
function transferFigures(result, bytes, raw) {
  const rate = mbPerSec(bytes, result.seconds);
  const ceiling = Math.round(cpuCeiling(bytes / 1e6, result.cpuSeconds + result.serverCpuSeconds));
  return {
    seconds: round(result.seconds, 3),
    mbPerSec: rate,
    ofRawDisk: round(rate / raw, 2),
    load: result.load,
    clientCpuSecondsPerGB: round((result.cpuSeconds * 1e9) / bytes, 2),
    serverCpuSecondsPerGB: round((result.serverCpuSeconds * 1e9) / bytes, 2),
    cpuCeilingMBps: ceiling,
    ofCpuCeiling: round(rate / ceiling, 2),
  };
}

/** @returns {Promise<object>} the registry figures */
export async function benchRegistry(tempRoot, checkpointMiB, log) {
  const checkpointBytes = checkpointMiB * MIB;
  const totalBytes = CHECKPOINTS * checkpointBytes;
  const sources = join(tempRoot, 'registry-sources');
  const tree = join(tempRoot, 'registry-model');
  const pulled = join(tempRoot, 'registry-pulled');
  const rawPath = join(tempRoot, 'registry-raw-write.bin');
  const { ModelRegistry } = await import(CLIENT);
  log(`registry: writing ${CHECKPOINTS} checkpoints of ${checkpointMiB} MiB and saving the PMF tree`);
  const model = await writeCheckpointSources(sources, CHECKPOINTS, checkpointBytes);
  await savePmfModel(tree, model);
  const server = await startLarder(join(tempRoot, 'registry-data'));
  const credentialsFile = join(tempRoot, 'no-credentials.json');
  // Push and pull through the SDK's own HTTP client (what a user gets); the second push
  // through a counting `fetch`, which shows what it sends.
  const registry = await ModelRegistry.connect({ url: server.url, credentialsFile });
  const counter = countingFetch();
  const counted = await ModelRegistry.connect({ url: server.url, credentialsFile, fetch: counter.fetch });
  try {
    const rawWriteBytes = Math.min(totalBytes, RAW_WRITE_BYTES);
    log(`registry: raw disk writes, push, pull (${round(totalBytes / MIB / 1024)} GiB model)`);
    // Settled too: nothing of the sources and tree just written is left to write back.
    const rawDiskWrite = await measureDiskYardstick(rawPath, rawWriteBytes);
    const push = await timed(() => registry.pushVersion(tree), server.pid);
    if (push.answer.sent.length !== push.answer.version.files.length) {
      throw new Error(`The first push sent ${push.answer.sent.length} of ${push.answer.version.files.length} files`);
    }
    settleWriteback();
    const pull = await timed(() => registry.pullVersion(PMF_MODEL_NAME, 'latest', pulled), server.pid);
    await rm(pulled, { recursive: true, force: true });

    log('registry: one checkpoint retrained, saved over the tree and pushed again');
    // Same file name as the last checkpoint, new bytes: the tree keeps its layout.
    await mkdir(join(sources, 'retrained'));
    const retrained = await makeRandomFile(join(sources, 'retrained', `epoch-${CHECKPOINTS}.bin`), checkpointBytes);
    const checkpoints = [...model.checkpoints.slice(0, -1), retrained.path];
    const save = await savePmfModel(tree, { ...model, checkpoints }, true);
    counter.reset();
    const again = await timed(() => counted.pushVersion(tree));
    const sentAgain = counter.totals();
    const raw = rawDiskWrite.mbPerSec;
    return {
      available: true,
      checkpoints: CHECKPOINTS,
      checkpointMiB,
      modelBytes: totalBytes,
      files: push.answer.version.files.length,
      rawDiskWrite,
      cores: availableParallelism(),
      push: transferFigures(push, totalBytes, raw),
      pull: transferFigures(pull, totalBytes, raw),
      pushAfterOneChange: {
        seconds: round(again.seconds, 3),
        savedFiles: save.copied,
        sentFiles: again.answer.sent,
        skippedFiles: again.answer.skipped.length,
        // PUT bodies are file bytes (blobs and their chunks); the rest is JSON of the calls.
        fileBytesSent: sentAgain.byMethod.PUT?.bodyBytes ?? 0,
        checkpointBytes,
        requests: sentAgain.requests,
        bodyBytes: sentAgain.bodyBytes,
        byMethod: sentAgain.byMethod,
        version: again.answer.version.version,
      },
    };
  } finally {
    await registry.close();
    await counted.close();
    await server.stop();
    await rm(sources, { recursive: true, force: true });
    await rm(tree, { recursive: true, force: true });
  }
}

// Alone: `BENCH_REGISTRY_CHECKPOINT_MB=100 node bench/runs/registry-bench.mjs` prints the figures.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const tempRoot = await mkdtemp(join(tmpdir(), 'larder-registry-bench-'));
  try {
    const figures = await benchRegistry(tempRoot, readConfig().registryCheckpointMiB, (line) =>
      process.stderr.write(`${line}\n`),
    );
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await rm(tempRoot, { recursive: true, force: true });
  }
}
