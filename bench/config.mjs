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
  };
}
