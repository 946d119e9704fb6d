/** The issue's targets, each evaluated on this run's figures: pass true/false, or null when not measured. */
import { mlflowClientTargets } from './mlflow-client-targets.mjs';
import { sdkWorkloadTargets } from './sdk-workload-targets.mjs';

/** "lowest ×1.2 (count p95)": the comparable ratio closest to losing. */
function lowestRatio(ratios) {
  let lowest;
  for (const [workload, ratio] of Object.entries(ratios)) {
    for (const [measure, value] of Object.entries(ratio)) {
      if (typeof value === 'number' && (!lowest || value < lowest.value))
        lowest = { value, label: `${workload} ${measure}` };
    }
  }
  return lowest ? `lowest ratio ×${lowest.value} (${lowest.label})` : 'nothing comparable';
}

/** @param {any} report the assembled report */
export function evaluateTargets(report) {
  const { larder, marcelle, comparison, config } = report;
  const docs = larder.documents;
  const findP95 = Math.max(docs.findScoreThreshold.p95, docs.findNameThreshold.p95);
  const blobs = larder.blobs;
  const growth = blobs ? Math.max(blobs.upload.rss.growthMiB, blobs.download.rss.growthMiB) : undefined;
  const startMs = Math.max(larder.startMs, larder.restartMs ?? 0);
  const fullSize = config.documents === 100_000;
  const tracking = report.tracking?.larder;
  const mlflow = report.tracking?.mlflow;
  const trackingTargets = tracking
    ? [
        {
          target: 'metric ingest through the SDK at least 1,000,000 points/s on SQLite',
          value: `${tracking.ingest.pointsPerSec} points/s`,
          pass: tracking.ingest.pointsPerSec >= 1_000_000,
        },
        {
          target: 'metric ingest at least 100× MLflow',
          value: mlflow?.available
            ? `×${report.tracking.ratios.ingestPointsPerSec}`
            : `not measured: ${mlflow?.reason}`,
          pass: mlflow?.available ? report.tracking.ratios.ingestPointsPerSec >= 100 : null,
        },
        {
          target: `a ${tracking.longSeries.points}-point series read downsampled to 2000 points under 50 ms, at any zoom`,
          value: `p95 ${tracking.longSeries.p95} ms whole; zoomed ${(tracking.longSeries.zooms ?? [])
            .map((zoom) => `${zoom.fraction * 100}%: ${zoom.p95} ms`)
            .join(', ')}`,
          pass: Math.max(tracking.longSeries.p95, ...(tracking.longSeries.zooms ?? []).map((zoom) => zoom.p95)) < 50,
        },
        {
          target: `runs search over ${tracking.search.runs} runs (hparam filter, metric-summary sort) p95 under 50 ms`,
          value: `${tracking.search.p95} ms${mlflow?.available ? ` (MLflow ${mlflow.search.p95} ms)` : ''}`,
          pass: tracking.search.p95 < 50,
        },
        {
          target: 'run.log under 2 µs per call, amortised',
          value: `${tracking.ingest.logMicrosPerCall} µs`,
          pass: tracking.ingest.logMicrosPerCall < 2,
        },
      ]
    : [];
  return [
    ...trackingTargets,
    ...mlflowClientTargets(report),
    ...sdkWorkloadTargets(report),
    {
      target: 'Ahead of the Marcelle backend on every document workload',
      value: comparison ? lowestRatio(comparison.ratios) : `not measured: ${marcelle.reason}`,
      pass: comparison ? comparison.aheadEverywhere : null,
    },
    {
      target: `find p95 over ${config.documents} documents under 50 ms${fullSize ? '' : ' (not the 100k of the target)'}`,
      value: `${findP95} ms`,
      pass: findP95 < 50,
    },
    {
      target: 'blob upload at least 70% of raw disk write speed',
      value: blobs ? `${Math.round((blobs.upload.mbPerSec / blobs.rawDiskWrite.mbPerSec) * 100)}%` : 'not measured',
      pass: blobs ? blobs.upload.mbPerSec >= 0.7 * blobs.rawDiskWrite.mbPerSec : null,
    },
    {
      target: `server memory under +64 MiB while a ${config.blobMiB} MiB blob streams through`,
      value: growth === undefined ? 'not measured' : `+${growth} MiB`,
      pass: growth === undefined ? null : growth < 64,
    },
    {
      target: 'start to first answer under 1 s (empty data, and restart with the data)',
      value: `${Math.round(larder.startMs)} ms / ${Math.round(larder.restartMs ?? Number.NaN)} ms`,
      pass: startMs < 1000,
    },
  ];
}
