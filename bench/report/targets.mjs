/** The targets, each evaluated on this run's figures: pass true/false, or null when not measured. */

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
  return [
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
