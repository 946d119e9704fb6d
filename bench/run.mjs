/**
 * `npm run bench`: measures Larder (document workloads, 1 GiB blob transfer, start time;
 * on PostgreSQL and S3 too when given; experiment tracking; the model registry, the
 * datalake and stock through the SDK)
 * and the same document workloads on the reference Marcelle backend, then writes
 * bench/results/<timestamp>.json and latest.json and prints a summary with the targets.
 * Settings: see config.mjs. Servers and temporary files are removed however the run ends.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from './config.mjs';
import { aheadEverywhere, compareDocuments } from './report/comparison.mjs';
import { machineInfo } from './report/machine-info.mjs';
import { sourceInfo } from './report/source-info.mjs';
import { formatSummary } from './report/summary.mjs';
import { evaluateTargets } from './report/targets.mjs';
import { writeReport } from './report/write-report.mjs';
import { benchDatalake } from './runs/datalake-bench.mjs';
import { benchLarder } from './runs/larder-bench.mjs';
import { benchLarderOnPostgres } from './runs/larder-postgres-bench.mjs';
import { benchLarderOnS3 } from './runs/larder-s3-bench.mjs';
import { benchMarcelle } from './runs/marcelle-bench.mjs';
import { benchMlflowClient } from './runs/mlflow-client-bench.mjs';
import { benchRegistry } from './runs/registry-bench.mjs';
import { benchStock } from './runs/stock-bench.mjs';
import { benchStockSamples } from './runs/stock-samples-bench.mjs';
import { benchTracking } from './runs/tracking-bench.mjs';
import { prepareDocumentSuite } from './workloads/document-suite.mjs';

const startedAt = new Date().toISOString();
const clock = Date.now();
const log = (line) => console.log(`[${((Date.now() - clock) / 1000).toFixed(1).padStart(6)}s] ${line}`);

/** A workload that throws is reported as not measured, with why; the others still run. */
const failed = (workload) => (error) => {
  log(`${workload} failed: ${error instanceof Error ? error.stack : error}`);
  return { available: false, reason: `${workload} failed: ${error instanceof Error ? error.message : error}` };
};

const tempRoot = await mkdtemp(join(tmpdir(), 'larder-bench-'));
// Exit handlers run on normal ends and process.exit; signals are turned into exits.
process.on('exit', () => rmSync(tempRoot, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

try {
  const config = readConfig();
  const suite = prepareDocumentSuite(config);
  const report = { startedAt, finishedAt: '', source: sourceInfo(), machine: machineInfo(), config };
  report.larder = await benchLarder(tempRoot, suite, log);
  report.larderPostgres = process.env.BENCH_POSTGRES_URL
    ? await benchLarderOnPostgres(tempRoot, suite, process.env.BENCH_POSTGRES_URL, log)
    : { available: false, reason: 'skipped (set BENCH_POSTGRES_URL to measure it)' };
  report.larderS3 = process.env.BENCH_S3_ENDPOINT
    ? await benchLarderOnS3(tempRoot, process.env.BENCH_S3_ENDPOINT, config.s3BlobMiB, log)
    : { available: false, reason: 'skipped (set BENCH_S3_ENDPOINT to measure it)' };
  report.marcelle =
    config.peer === 'none'
      ? { available: false, reason: 'skipped (BENCH_PEER=none)' }
      : await benchMarcelle(tempRoot, suite, log);
  if (report.marcelle.available) {
    const ratios = compareDocuments(report.larder.documents, report.marcelle.documents);
    report.comparison = { note: 'ratio > 1 means Larder is ahead', ratios, aheadEverywhere: aheadEverywhere(ratios) };
  }
  report.tracking =
    config.trackingPoints > 0
      ? await benchTracking(tempRoot, config, log)
      : { available: false, reason: 'skipped (BENCH_TRACKING_POINTS=0)' };
  report.mlflowClient =
    config.mlflowClientPoints > 0
      ? await benchMlflowClient(
          tempRoot,
          {
            points: config.mlflowClientPoints,
            peerPoints: config.mlflowPoints,
            runs: config.mlflowClientRuns,
            artifactMiB: config.mlflowClientArtifactMiB,
            peer: config.mlflow !== 'none',
          },
          log,
        ).catch(failed('mlflow client'))
      : { available: false, reason: 'skipped (BENCH_MLFLOW_CLIENT_POINTS=0)' };
  report.registry =
    config.registryCheckpointMiB > 0
      ? await benchRegistry(tempRoot, config.registryCheckpointMiB, log).catch(failed('registry'))
      : { available: false, reason: 'skipped (BENCH_REGISTRY_CHECKPOINT_MB=0)' };
  report.datalake =
    config.datalakePictures > 0
      ? await benchDatalake(tempRoot, config, log).catch(failed('datalake'))
      : { available: false, reason: 'skipped (BENCH_DATALAKE_PICTURES=0)' };
  report.stock =
    config.stockModelMiB > 0
      ? await benchStock(tempRoot, config.stockModelMiB, log).catch(failed('stock'))
      : { available: false, reason: 'skipped (BENCH_STOCK_MODEL_MB=0)' };
  report.stockSamples =
    config.stockSamples > 0
      ? await benchStockSamples(tempRoot, config.stockSamples, log).catch(failed('stock samples'))
      : { available: false, reason: 'skipped (BENCH_STOCK_SAMPLES=0)' };
  report.targets = evaluateTargets(report);
  report.finishedAt = new Date().toISOString();
  const file = await writeReport(report);
  console.log(`\n${formatSummary(report)}\n\nReport: ${file}`);
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 1;
}
