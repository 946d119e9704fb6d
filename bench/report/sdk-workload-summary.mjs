/** The summary lines of the workloads run through the SDK: model registry, datalake, stock. */

const MIB = 1024 * 1024;
const mib = (bytes) => `${Math.round((bytes / MIB) * 10) / 10} MiB`;
const kib = (bytes) => `${Math.round((bytes / 1024) * 10) / 10} KiB`;

function registryLines(registry) {
  if (!registry.available) return [`Model registry not measured: ${registry.reason}`];
  const { rawDiskWrite, push, pull, pushAfterOneChange: again } = registry;
  return [
    `Model registry (PMF model, ${registry.checkpoints} checkpoints of ${registry.checkpointMiB} MiB, ${registry.files} files):`,
    `push ${push.mbPerSec} MB/s, pull ${pull.mbPerSec} MB/s; raw disk write ${rawDiskWrite.mbPerSec} MB/s (median of ${rawDiskWrite.writesMBps.join(', ')})`,
    ...(push.cpuCeilingMBps
      ? [
          `CPU s/GB push: SDK ${push.clientCpuSecondsPerGB}, server ${push.serverCpuSecondsPerGB}; pull: SDK ${pull.clientCpuSecondsPerGB}, server ${pull.serverCpuSecondsPerGB} (on ${registry.cores} shared cores: at most ${push.cpuCeilingMBps} / ${pull.cpuCeilingMBps} MB/s)`,
        ]
      : []),
    `push after one checkpoint changed: ${mib(again.fileBytesSent)} of files sent (${again.sentFiles.join(', ')}), ${again.requests} requests, ${again.seconds} s`,
  ];
}

function datalakeLines(datalake) {
  if (!datalake.available) return [`Datalake not measured: ${datalake.reason}`];
  const { upload, uploadAgain, thumbnails, dvc, cocoExport, download, tagQuery } = datalake;
  const lines = [
    `Datalake (${upload.files} pictures, ${mib(upload.bytes)}):`,
    `upload ${upload.picturesPerSec ?? upload.filesPerSec} pictures/s (${upload.seconds} s, ${upload.requests ?? '?'} requests, sizes read)`,
    `same folder again: ${uploadAgain.pictureBytesSent} picture bytes, ${uploadAgain.requests} requests (${kib(uploadAgain.bodyBytes)} of JSON), ${uploadAgain.seconds} s`,
  ];
  if (dvc?.available)
    lines.push(
      `DVC add + push of the same folder: ${dvc.picturesPerSec} pictures/s (${dvc.seconds} s: add ${dvc.addSeconds} s, push ${dvc.pushSeconds} s); Larder ${dvc.larderUploadOfDvcSpeed}x its speed`,
    );
  else if (dvc) lines.push(`DVC not measured: ${dvc.reason}`);
  if (thumbnails)
    lines.push(
      `gallery of ${thumbnails.thumbnails} thumbnails: first view (made) ${thumbnails.firstView.thumbnailsPerSec}/s, second (stored) ${thumbnails.secondView.thumbnailsPerSec}/s`,
    );
  if (cocoExport)
    lines.push(
      `COCO export of ${cocoExport.annotations} annotations on ${cocoExport.images} pictures: ${cocoExport.seconds} s`,
    );
  const raw = download.rawDisk;
  lines.push(
    `download of the version: ${download.mbPerSec} MB/s, ${download.filesPerSec} files/s (${download.seconds} s)` +
      (raw
        ? `; raw disk ${raw.smallFiles.filesPerSec} small files/s (${download.ofRawSmallFileWrites} of it), ${raw.largeFileMBps} MB/s`
        : ''),
  );
  if (tagQuery?.fillFilesPerSec)
    lines.push(`small data files added through the upload route: ${tagQuery.fillFilesPerSec} files/s`);
  if (tagQuery)
    lines.push(
      `tag query over ${tagQuery.assets} assets (~${tagQuery.meanMatches} matches each): p50 ${tagQuery.p50} / p95 ${tagQuery.p95} ms`,
    );
  return lines;
}

function stockLines(stock) {
  if (!stock.available) return [`Stock not measured: ${stock.reason}`];
  const { commit, commitAfterOneLayer: again, load, push } = stock;
  return [
    `Stock (${mib(stock.modelBytes)} model, ${stock.layers} layers of ${mib(stock.layerBytes)}):`,
    `commit ${commit.mbPerSec} MB/s (${commit.seconds} s); load back ${load.mbPerSec} MB/s; push of ${push.commits} commits ${push.mbPerSec} MB/s (${mib(push.bytes)})`,
    `commit after one layer changed: ${mib(again.processBytesWritten)} written, ${again.objectsAdded} new objects (${mib(again.objectBytesAdded)}), ${again.seconds} s`,
  ];
}

function stockSampleLines(samples) {
  if (!samples.available) return [`Stock samples not measured: ${samples.reason}`];
  const { write, read, push, pull, stored, rawDiskWrite: raw } = samples;
  return [
    `Stock samples (${samples.samples} of ${samples.sampleBytes} bytes; stored in ${stored.files} files, ${mib(stored.bytes)}):`,
    `write + commit ${write.samplesPerSec} samples/s (${write.seconds} s, the commit ${write.commitSeconds} s; ${write.cpuMicrosPerSample} µs of CPU each); read back ${read.samplesPerSec} samples/s (${read.seconds} s; ${read.cpuMicrosPerSample} µs of CPU each); raw disk write ${raw.mbPerSec} MB/s`,
    ...(samples.writeMany
      ? [
          `the same with one data.setMany: ${samples.writeMany.samplesPerSec} samples/s (${samples.writeMany.seconds} s, the commit ${samples.writeMany.commitSeconds} s; ${samples.writeMany.cpuMicrosPerSample} µs of CPU each, after the one-by-one write in the same process)`,
        ]
      : []),
    `push ${push.samplesPerSec} samples/s (${push.seconds} s, ${push.objects} objects, ${mib(push.bytes)}; the server's first); pull ${pull.samplesPerSec} samples/s (${pull.seconds} s), read back after it ${pull.readBackSamplesPerSec} samples/s`,
    ...(samples.pushToRunningServer
      ? [
          `push of the same into a second repository of that server: ${samples.pushToRunningServer.samplesPerSec} samples/s (${samples.pushToRunningServer.seconds} s; server ${samples.pushToRunningServer.serverCpuMicrosPerSample} µs of CPU a sample, ${push.serverCpuMicrosPerSample} on the first)`,
        ]
      : []),
  ];
}

/** @param {any} report @returns {string[]} lines, each section after a blank line */
export function sdkWorkloadLines(report) {
  const lines = [];
  for (const [section, format] of [
    [report.registry, registryLines],
    [report.datalake, datalakeLines],
    [report.stock, stockLines],
    [report.stockSamples, stockSampleLines],
  ]) {
    if (section) lines.push('', ...format(section));
  }
  return lines;
}
