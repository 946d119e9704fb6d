/**
 * MLflow's own Python client, the same workload against Larder's MLflow face and against
 * `mlflow server` (SQLite, one worker, artifacts proxied with `--artifacts-destination`), in
 * the same run on the same machine (`workloads/mlflow_client_workload.py`):
 * - `log_batch` ingest of one series, 1000 points per call;
 * - that series read back whole: the HTTP answer (body read), and `get_metric_history`;
 * - `search_runs` over many runs with a params filter and a metric order (p95);
 * - a large artifact through the server's artifact proxy (`log_artifact`, then
 *   `download_artifacts`), beside a raw fsynced disk write of the same size.
 * The client is the venv of `peers/mlflow.mjs` (the MLflow peer's own version).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from '../measure/percentiles.mjs';
import { installMlflow, MLFLOW_PYTHON, MLFLOW_VERSION, startMlflow } from '../peers/mlflow.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { startNullMlflow } from '../servers/null-mlflow-server.mjs';
import { measureDiskWrite } from '../workloads/disk-write.mjs';

const WORKLOAD = fileURLToPath(new URL('../workloads/mlflow_client_workload.py', import.meta.url));

/** Runs the Python workload against `url`; answers its JSON (its last line of stdout). */
function runWorkload(url, settings, log) {
  return new Promise((resolve, reject) => {
    const child = spawn(MLFLOW_PYTHON, [WORKLOAD, url, JSON.stringify(settings)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MLFLOW_TRACKING_URI: url, PYTHONUNBUFFERED: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
      if (err.length > 64_000) err = err.slice(-32_000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) return resolve(JSON.parse(last));
      log(`MLflow client workload failed (${code}): ${err.slice(-2000)}`);
      reject(new Error(`the MLflow client workload exited ${code}: ${err.trim().split('\n').at(-1) ?? ''}`));
    });
  });
}

/**
 * @param {string} tempRoot
 * @param {{ points: number, peerPoints: number, runs: number, artifactMiB: number, peer: boolean }} sizes
 */
export async function benchMlflowClient(tempRoot, sizes, log) {
  const installed = installMlflow(log);
  if (!installed.ok) return { available: false, reason: installed.reason };
  const scratch = await mkdtemp(join(tempRoot, 'mlflow-client-'));
  const settings = (points) => ({
    points,
    history_reads: 5,
    runs: sizes.runs,
    searches: 50,
    artifact_mib: sizes.artifactMiB,
    artifact_dir: scratch,
  });
  const rawDisk = sizes.artifactMiB
    ? await measureDiskWrite(join(scratch, 'raw-disk.bin'), sizes.artifactMiB * 2 ** 20)
    : undefined;

  // The client's own ceiling: the same ingest against a server that answers at once.
  let clientCeiling;
  if (sizes.points) {
    const nullServer = await startNullMlflow();
    try {
      const points = Math.min(sizes.points, 200_000);
      log(`MLflow client ${MLFLOW_VERSION} → a server that stores nothing: ${points} points (the client's ceiling)`);
      const { ingest } = await runWorkload(nullServer.url, { points, ingest_only: true }, log);
      clientCeiling = { ...ingest, requestBytes: nullServer.bodyBytes() };
    } finally {
      await nullServer.stop();
    }
  }

  const larderServer = await startLarder(join(tempRoot, 'larder-mlflow-data'));
  let larder;
  try {
    log(
      `MLflow client ${MLFLOW_VERSION} → Larder: ${sizes.points} points, ${sizes.runs} runs, a ${sizes.artifactMiB} MiB artifact`,
    );
    larder = await runWorkload(larderServer.url, settings(sizes.points), log);
  } finally {
    await larderServer.stop();
  }

  let peer = { available: false, reason: 'skipped (BENCH_MLFLOW=none)' };
  if (sizes.peer) {
    const dataDir = await mkdtemp(join(tempRoot, 'mlflow-peer-'));
    await mkdir(join(dataDir, 'artifacts'));
    const mlflowServer = await startMlflow(dataDir, { proxyArtifacts: true });
    try {
      log(`MLflow client → mlflow server ${MLFLOW_VERSION}: ${sizes.peerPoints} points, ${sizes.runs} runs`);
      peer = {
        available: true,
        server: `mlflow server ${MLFLOW_VERSION}, SQLite, 1 worker, --artifacts-destination`,
        ...(await runWorkload(mlflowServer.url, settings(sizes.peerPoints), log)),
      };
    } finally {
      await mlflowServer.stop();
    }
  }

  const ratio = (ours, theirs) => (ours && theirs ? round(ours / theirs) : undefined);
  return {
    available: true,
    client: `mlflow ${MLFLOW_VERSION} (Python)`,
    rawDiskWriteMBps: rawDisk?.mbPerSec,
    larder,
    mlflow: peer,
    clientCeiling,
    ratios: peer.available
      ? {
          note: 'ratio > 1 means Larder is ahead',
          ingestPointsPerSecond: ratio(larder.ingest?.pointsPerSecond, peer.ingest?.pointsPerSecond),
          // The most any server could reach with this client: its ceiling over MLflow's figure.
          ingestCeiling: ratio(clientCeiling?.pointsPerSecond, peer.ingest?.pointsPerSecond),
          searchP95: ratio(peer.search?.p95Ms, larder.search?.p95Ms),
          artifactUpload: ratio(larder.artifact?.uploadMBps, peer.artifact?.uploadMBps),
        }
      : undefined,
    ingestOfClientCeiling: ratio(larder.ingest?.pointsPerSecond, clientCeiling?.pointsPerSecond),
    artifactUploadOfDisk: rawDisk && larder.artifact ? round(larder.artifact.uploadMBps / rawDisk.mbPerSec) : undefined,
  };
}
