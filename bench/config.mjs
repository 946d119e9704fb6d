/**
 * Run settings, from the environment so quick trials need no flags:
 *   BENCH_BLOB_MB   blob size in MiB (default 1024; 0 skips the blob workload)
 *   BENCH_DOCS      documents in the dataset (default 100000, the targets' size)
 *   BENCH_QUERIES   timed queries of each kind (default 300)
 *   BENCH_PEER      "marcelle" (default) or "none" to measure Larder alone
 *   BENCH_POSTGRES_URL  a PostgreSQL URL whose role may create databases: the document
 *                   workloads run again with Larder's metadata there (in a scratch database)
 *   BENCH_S3_ENDPOINT  an S3-compatible server: the blob workload runs again with Larder's
 *                   blobs there, beside the AWS SDK writing straight to it
 *   BENCH_S3_BLOB_MB   blob size for the S3 run in MiB (default 256)
 *   BENCH_TRACKING_POINTS  metric points logged through the SDK and uploaded (default
 *                   1000000; 0 skips the tracking workloads)
 *   BENCH_SERIES_POINTS    points of the series read back downsampled, whole and zoomed (default 100000000)
 *   BENCH_TRACKING_RUNS    runs in the search workload (default 10000)
 *   BENCH_MLFLOW_POINTS    points sent to MLflow's log-batch (default 100000: it is slow)
 *   BENCH_MLFLOW       "none" skips the MLflow peer (installed with pip on first use)
 *   BENCH_DVC          "none" skips the DVC peer of the picture upload (installed with pip on first use)
 *   BENCH_MLFLOW_CLIENT_POINTS  points MLflow's Python client logs to Larder with log_batch
 *                   and reads back whole (default 1000000; 0 skips the MLflow client workload;
 *                   the mlflow server peer gets BENCH_MLFLOW_POINTS)
 *   BENCH_MLFLOW_CLIENT_RUNS  runs both servers hold for the client's search_runs (default 10000)
 *   BENCH_MLFLOW_CLIENT_ARTIFACT_MB  the artifact sent through both proxies (default 1024)
 *   BENCH_REGISTRY_CHECKPOINT_MB  size of each of the ten checkpoints of the model pushed
 *                   to and pulled from the registry (default 200; 0 skips the registry workload)
 *   BENCH_DATALAKE_PICTURES  pictures uploaded to the datalake (default 10000; 0 skips the
 *                   datalake workloads)
 *   BENCH_DATALAKE_ASSETS  assets in the lake for the tag query, pictures included (default
 *                   100000; 0 skips the tag query)
 *   BENCH_DATALAKE_ANNOTATIONS  annotations of the version exported as COCO (default
 *                   100000; 0 skips the export)
 *   BENCH_STOCK_MODEL_MB  size of the model committed to stock and pushed (default 500; 0
 *                   skips the stock model workload)
 *   BENCH_STOCK_SAMPLES  small samples (784 bytes each) written to stock, read back, pushed
 *                   and pulled (default 10000; 0 skips the stock samples workload)
 */
function integer(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, not "${text}"`);
  return value;
}

export function readConfig() {
  return {
    documents: integer('BENCH_DOCS', 100_000),
    batchSize: 1000,
    singleCreates: 3000,
    concurrency: 8,
    queries: integer('BENCH_QUERIES', 300),
    blobMiB: integer('BENCH_BLOB_MB', 1024),
    peer: process.env.BENCH_PEER === 'none' ? 'none' : 'marcelle',
    postgres: process.env.BENCH_POSTGRES_URL ? 'yes' : 'no',
    s3: process.env.BENCH_S3_ENDPOINT ? 'yes' : 'no',
    s3BlobMiB: integer('BENCH_S3_BLOB_MB', 256),
    trackingPoints: integer('BENCH_TRACKING_POINTS', 1_000_000),
    seriesPoints: integer('BENCH_SERIES_POINTS', 100_000_000),
    trackingRuns: integer('BENCH_TRACKING_RUNS', 10_000),
    mlflowPoints: integer('BENCH_MLFLOW_POINTS', 100_000),
    mlflow: process.env.BENCH_MLFLOW === 'none' ? 'none' : 'mlflow',
    dvc: process.env.BENCH_DVC === 'none' ? 'none' : 'dvc',
    mlflowClientPoints: integer('BENCH_MLFLOW_CLIENT_POINTS', 1_000_000),
    mlflowClientRuns: integer('BENCH_MLFLOW_CLIENT_RUNS', 10_000),
    mlflowClientArtifactMiB: integer('BENCH_MLFLOW_CLIENT_ARTIFACT_MB', 1024),
    registryCheckpointMiB: integer('BENCH_REGISTRY_CHECKPOINT_MB', 200),
    datalakePictures: integer('BENCH_DATALAKE_PICTURES', 10_000),
    datalakeAssets: integer('BENCH_DATALAKE_ASSETS', 100_000),
    datalakeAnnotations: integer('BENCH_DATALAKE_ANNOTATIONS', 100_000),
    stockModelMiB: integer('BENCH_STOCK_MODEL_MB', 500),
    stockSamples: integer('BENCH_STOCK_SAMPLES', 10_000),
  };
}
