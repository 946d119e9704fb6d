/** The compact human summary printed at the end of a run. */
import { sdkWorkloadLines } from './sdk-workload-summary.mjs';

const pad = (text, width) => String(text).padEnd(width);
const mark = (pass) => (pass === null ? 'n/a ' : pass ? 'PASS' : 'FAIL');

function latency(figures) {
  if (!figures) return '-';
  const wrong = figures.correct < figures.count ? ` [${figures.correct}/${figures.count} right]` : '';
  return `p50 ${figures.p50} / p95 ${figures.p95} / p99 ${figures.p99} ms${wrong}`;
}

function ratioText(ratio) {
  if (!ratio) return '';
  if (ratio.comparable === false) return 'not compared';
  return Object.entries(ratio)
    .map(([key, value]) => `${key} ×${value}`)
    .join(', ');
}

/** @param {any} report */
export function formatSummary(report) {
  const { larder, marcelle, comparison } = report;
  const peer = marcelle.available ? marcelle.documents : undefined;
  const lines = [];
  const { source, machine } = report;
  const dirty = source.uncommittedChangesInPackages
    ? ` + ${source.uncommittedChangesInPackages} uncommitted files`
    : '';
  lines.push(
    `Larder ${source.commit.slice(0, 7)}${dirty} — ${machine.cpuCount}× ${machine.cpuModel}, Node ${machine.node}`,
  );
  lines.push(
    `start to first answer: Larder ${larder.startMs} ms (restart with data ${larder.restartMs} ms)` +
      (marcelle.available ? `; Marcelle ${marcelle.startMs} ms (restart with data ${marcelle.restartMs} ms)` : ''),
  );
  lines.push('');
  lines.push(`${pad('workload', 24)}${pad('Larder', 50)}${pad('Marcelle 0.6.5 (NeDB)', 50)}ratio`);
  for (const name of ['batchedCreate', 'singleCreate', 'singleCreateConcurrent']) {
    const ours = `${larder.documents[name].docsPerSec} docs/s`;
    const theirs = peer ? `${peer[name].docsPerSec} docs/s` : '-';
    lines.push(`${pad(name, 24)}${pad(ours, 50)}${pad(theirs, 50)}  ${ratioText(comparison?.ratios[name])}`);
  }
  for (const name of ['findScoreThreshold', 'findNameThreshold', 'count', 'getById']) {
    lines.push(
      `${pad(name, 24)}${pad(latency(larder.documents[name]), 50)}${pad(latency(peer?.[name]), 50)}  ${ratioText(comparison?.ratios[name])}`,
    );
  }
  if (!marcelle.available) lines.push(`Marcelle backend not measured: ${marcelle.reason}`);
  const onPostgres = report.larderPostgres;
  if (onPostgres?.available) {
    lines.push('');
    lines.push(`Larder with its metadata on PostgreSQL (start ${onPostgres.startMs} ms):`);
    for (const name of ['batchedCreate', 'singleCreate', 'singleCreateConcurrent']) {
      lines.push(`${pad(name, 24)}${onPostgres.documents[name].docsPerSec} docs/s`);
    }
    for (const name of ['findScoreThreshold', 'findNameThreshold', 'count', 'getById']) {
      lines.push(`${pad(name, 24)}${latency(onPostgres.documents[name])}`);
    }
  } else if (onPostgres) lines.push(`Larder on PostgreSQL not measured: ${onPostgres.reason}`);
  if (larder.blobs) {
    const { rawDiskWrite, upload, download } = larder.blobs;
    const raw = `${rawDiskWrite.mbPerSec} MB/s (median of ${rawDiskWrite.writesMBps.join(', ')})`;
    lines.push('');
    lines.push(
      `blob ${report.config.blobMiB} MiB: raw disk write ${raw}, upload ${upload.mbPerSec} MB/s, download ${download.mbPerSec} MB/s`,
    );
    lines.push(
      `server RSS: upload ${upload.rss.baselineMiB} → ${upload.rss.peakMiB} MiB (+${upload.rss.growthMiB}), download ${download.rss.baselineMiB} → ${download.rss.peakMiB} MiB (+${download.rss.growthMiB})`,
    );
  }
  const tracking = report.tracking;
  if (tracking?.larder) {
    const { ingest, longSeries, search } = tracking.larder;
    const peer = tracking.mlflow;
    lines.push('');
    lines.push(
      'Experiment tracking' +
        (peer.available
          ? ` (beside MLflow ${peer.version}, ${peer.backend})`
          : ` (MLflow not measured: ${peer.reason})`) +
        ':',
    );
    lines.push(
      `ingest through the SDK: ${ingest.pointsPerSec} points/s (${ingest.points} points)` +
        (peer.available
          ? `; MLflow log-batch ${peer.ingest.pointsPerSec} points/s → ×${tracking.ratios.ingestPointsPerSec}`
          : ''),
    );
    lines.push(`run.log: ${ingest.logMicrosPerCall} µs per call (${ingest.logMicrosPerPoint} µs per point)`);
    lines.push(
      `${longSeries.points}-point series downsampled to ${longSeries.returnedPoints}: p50 ${longSeries.p50} ms, p95 ${longSeries.p95} ms` +
        (peer.available
          ? `; MLflow full get-history of ${peer.historyRead.points} points p95 ${peer.historyRead.p95} ms`
          : ''),
    );
    lines.push(
      `search ${search.runs} runs (hparam filter, metric sort): p95 ${search.p95} ms` +
        (peer.available ? `; MLflow p95 ${peer.search.p95} ms → ×${tracking.ratios.searchP95}` : ''),
    );
  } else if (tracking) lines.push(`Tracking not measured: ${tracking.reason}`);
  const onS3 = report.larderS3;
  if (onS3?.available) {
    lines.push('');
    lines.push(
      `blob ${onS3.blobMiB} MiB on S3 (${onS3.endpoint}): Larder upload ${onS3.upload.mbPerSec} MB/s, download ${onS3.download.mbPerSec} MB/s; AWS SDK straight to S3 upload ${onS3.direct.upload.mbPerSec} MB/s, download ${onS3.direct.download.mbPerSec} MB/s (Larder/direct ${onS3.uploadVsDirect} and ${onS3.downloadVsDirect}); server RSS +${onS3.upload.rss.growthMiB} / +${onS3.download.rss.growthMiB} MiB` +
        (onS3.secondUpload ? ` (a second upload to the same server +${onS3.secondUpload.rss.growthMiB} MiB)` : ''),
    );
  } else if (onS3) lines.push(`Larder on S3 not measured: ${onS3.reason}`);
  lines.push(...sdkWorkloadLines(report));
  lines.push('');
  for (const target of report.targets) lines.push(`${mark(target.pass)}  ${target.target}: ${target.value}`);
  return lines.join('\n');
}
