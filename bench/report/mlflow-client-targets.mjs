/** Issue 14's targets for MLflow's Python client on Larder, beside `mlflow server` in the same run. */

/** @param {any} report the assembled report */
export function mlflowClientTargets(report) {
  const figures = report.mlflowClient;
  if (!figures?.available) return [];
  const { larder, mlflow, ratios } = figures;
  const peer = (value) => (mlflow.available ? value : `not measured: ${mlflow.reason}`);
  const targets = [];
  const ceiling = figures.clientCeiling
    ? `; the client alone (a server that stores nothing) ${figures.clientCeiling.pointsPerSecond} points/s, so at most ×${ratios?.ingestCeiling ?? '?'} for any server; Larder at ${Math.round((figures.ingestOfClientCeiling ?? 0) * 100)}% of it`
    : '';
  if (larder.ingest) {
    targets.push({
      target: `MLflow client log_batch ingest (${larder.ingest.points} points) at least 20× mlflow server's points/s`,
      value: peer(
        `${larder.ingest.pointsPerSecond} vs ${mlflow.ingest?.pointsPerSecond} points/s → ×${ratios?.ingestPointsPerSecond}${ceiling}`,
      ),
      pass: mlflow.available ? ratios.ingestPointsPerSecond >= 20 : null,
    });
    targets.push({
      target: `get_metric_history of a ${larder.history.points}-point series under 1 s (the HTTP answer)`,
      value: `p95 ${larder.history.wire.p95Ms} ms (the client's own parse: ${larder.history.clientSeconds} s)`,
      pass: larder.history.wire.p95Ms < 1000,
    });
  }
  if (larder.search) {
    targets.push({
      target: `MLflow client search_runs over ${larder.fill.runs} runs (params filter, metric order) at least 50× faster at p95`,
      value: peer(`p95 ${larder.search.p95Ms} vs ${mlflow.search?.p95Ms} ms → ×${ratios?.searchP95}`),
      pass: mlflow.available ? ratios.searchP95 >= 50 : null,
    });
  }
  if (larder.artifact && figures.rawDiskWriteMBps) {
    targets.push({
      target: `a ${larder.artifact.mib} MiB artifact through the proxy at least 70% of raw disk speed`,
      value: `${larder.artifact.uploadMBps} MB/s of ${figures.rawDiskWriteMBps} (${Math.round(figures.artifactUploadOfDisk * 100)}%)${mlflow.available ? `; mlflow server ${mlflow.artifact?.uploadMBps} MB/s` : ''}`,
      pass: figures.artifactUploadOfDisk >= 0.7,
    });
  }
  return targets;
}
