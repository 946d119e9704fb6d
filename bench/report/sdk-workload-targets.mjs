/**
 * Targets of the registry, datalake and stock workloads. The issues set the incremental ones
 * (only the change is sent or written); throughput of large files is held to the blob
 * workload's yardstick (70% of raw disk write); queries to the document workloads' (p95
 * under 50 ms). Unmeasured workloads give no target.
 */

/** Room for what accompanies a change: the PMF metadata.yaml, a stock manifest and commit. */
const ALLOWANCE_BYTES = 64 * 1024;

const percent = (part, whole) => `${Math.round((part / whole) * 100)}%`;

/** Where client and server share the cores: the ceiling their CPU time sets on each transfer. */
function cpuBound({ push, pull, cores }) {
  if (!push.cpuCeilingMBps) return '';
  return `; the ${cores} cores shared by SDK and server cap them at ${push.cpuCeilingMBps} / ${pull.cpuCeilingMBps} MB/s (${percent(push.mbPerSec, push.cpuCeilingMBps)} / ${percent(pull.mbPerSec, pull.cpuCeilingMBps)} of that)`;
}

function registryTargets(registry) {
  if (!registry?.available) return [];
  const { rawDiskWrite: raw, push, pull, pushAfterOneChange: again } = registry;
  const onlyChanged = again.sentFiles.every((path) => path === 'metadata.yaml' || again.savedFiles.includes(path));
  return [
    {
      target: 'registry push and pull at least 70% of raw disk write speed',
      value: `push ${push.mbPerSec} MB/s (${percent(push.mbPerSec, raw.mbPerSec)}), pull ${pull.mbPerSec} MB/s (${percent(pull.mbPerSec, raw.mbPerSec)}) of ${raw.mbPerSec} MB/s${cpuBound(registry)}`,
      pass: push.mbPerSec >= 0.7 * raw.mbPerSec && pull.mbPerSec >= 0.7 * raw.mbPerSec,
    },
    {
      target: 'registry push after one checkpoint changed sends that checkpoint only (+ metadata.yaml)',
      value: `${again.fileBytesSent} bytes of files for a ${again.checkpointBytes}-byte checkpoint (${again.sentFiles.join(', ')})`,
      pass: onlyChanged && again.fileBytesSent <= again.checkpointBytes + ALLOWANCE_BYTES,
    },
  ];
}

function datalakeTargets(datalake) {
  if (!datalake?.available) return [];
  const { upload, uploadAgain, download, tagQuery } = datalake;
  const targets = [
    {
      target: 'datalake upload of the same folder again sends no picture bytes',
      value: `${uploadAgain.pictureBytesSent} picture bytes, ${uploadAgain.requests} requests (${uploadAgain.bodyBytes} bytes of JSON)`,
      pass: uploadAgain.pictureBytesSent === 0,
    },
    {
      target: 'datalake upload of small pictures (sizes read) at least 1,000 pictures/s',
      value: `${upload.picturesPerSec ?? upload.filesPerSec} pictures/s`,
      pass: (upload.picturesPerSec ?? upload.filesPerSec) >= 1000,
    },
    {
      target: 'dataset version download of small files at least 5,000 files/s',
      value: `${download.filesPerSec} files/s, ${download.mbPerSec} MB/s`,
      pass: download.filesPerSec >= 5000,
    },
  ];
  if (tagQuery?.fillFilesPerSec) {
    targets.push({
      target: 'small data files added to the lake at least 2,000 files/s',
      value: `${tagQuery.fillFilesPerSec} files/s`,
      pass: tagQuery.fillFilesPerSec >= 2000,
    });
  }
  if (tagQuery) {
    targets.push({
      target: `datalake tag query over ${tagQuery.assets} assets p95 under 50 ms`,
      value: `${tagQuery.p95} ms`,
      pass: tagQuery.p95 < 50,
    });
  }
  return targets;
}

function stockTargets(stock) {
  if (!stock?.available) return [];
  const again = stock.commitAfterOneLayer;
  return [
    {
      target: 'stock commit after one layer changed writes that layer only',
      value: `${again.processBytesWritten} bytes written for a ${stock.layerBytes}-byte layer (${again.objectsAdded} new objects)`,
      pass: again.processBytesWritten <= stock.layerBytes + ALLOWANCE_BYTES,
    },
  ];
}

/** The goal for small samples: 50,000 samples/s written (commit included) and read. */
const SAMPLES_PER_SEC = 50_000;

function stockSampleTargets(samples) {
  if (!samples?.available) return [];
  const { write, read, push, pull } = samples;
  return [
    {
      target: `stock writes (commit included) and reads at least ${SAMPLES_PER_SEC} small samples/s`,
      value: `write ${write.samplesPerSec}/s, read ${read.samplesPerSec}/s (${samples.samples} of ${samples.sampleBytes} bytes)`,
      pass: write.samplesPerSec >= SAMPLES_PER_SEC && read.samplesPerSec >= SAMPLES_PER_SEC,
    },
    {
      target: `stock push and pull at least ${SAMPLES_PER_SEC} small samples/s`,
      value: `push ${push.samplesPerSec}/s (the server's first; ${samples.pushToRunningServer?.samplesPerSec ?? '?'}/s into a second repository), pull ${pull.samplesPerSec}/s`,
      pass: push.samplesPerSec >= SAMPLES_PER_SEC && pull.samplesPerSec >= SAMPLES_PER_SEC,
    },
  ];
}

/** @param {any} report */
export function sdkWorkloadTargets(report) {
  return [
    ...registryTargets(report.registry),
    ...datalakeTargets(report.datalake),
    ...stockTargets(report.stock),
    ...stockSampleTargets(report.stockSamples),
  ];
}
