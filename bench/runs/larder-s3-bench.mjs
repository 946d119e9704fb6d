/**
 * The blob workload with Larder's blobs in S3-compatible storage (`larder serve --blobs
 * s3://…`), beside the same bytes sent straight to that S3 server with the AWS SDK (the
 * yardstick: Larder cannot beat the storage it writes to). BENCH_S3_ENDPOINT names the
 * server; a scratch bucket is created. Note that the S3 server's own speed dominates: an
 * emulator like moto is far slower than real object storage.
 *
 * `upload` is the server's first upload (the judged figure: what a fresh server grows by,
 * its heap and allocator still cold); `secondUpload` sends another file of the same size to
 * the same server, showing what each further upload costs once that memory is warm.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { round } from '../measure/percentiles.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { makeRandomFile } from '../workloads/blob-file.mjs';
import { measureDownload, measureUpload } from '../workloads/blob-transfer.mjs';

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'larder-bench',
  AWS_SECRET_ACCESS_KEY: 'larder-bench',
  AWS_REGION: 'us-east-1',
};

/** The same file straight to S3 and back with the AWS SDK, as fast as the SDK goes. */
async function directS3(client, bucket, file) {
  const key = `direct/${file.sha256}`;
  let started = performance.now();
  await new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file.path) },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
  }).done();
  const uploadSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of answer.Body) hash.update(chunk);
  const downloadSeconds = (performance.now() - started) / 1000;
  if (hash.digest('hex') !== file.sha256) throw new Error('The direct S3 download does not match the file');
  const mbPerSec = (seconds) => Math.round(file.bytes / 1e6 / seconds);
  return { upload: { mbPerSec: mbPerSec(uploadSeconds) }, download: { mbPerSec: mbPerSec(downloadSeconds) } };
}

/** @returns {Promise<object>} blob figures of Larder on S3 and of the SDK straight to S3 */
export async function benchLarderOnS3(tempRoot, endpoint, blobMiB, log) {
  Object.assign(process.env, CREDENTIALS, { AWS_ENDPOINT_URL_S3: endpoint });
  const bucket = `larder-bench-${Date.now()}`;
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1' });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  log(`Larder on S3: writing a ${blobMiB} MiB random file`);
  const file = await makeRandomFile(join(tempRoot, 's3-blob-source.bin'), blobMiB * 1024 * 1024);
  let second;
  let server;
  try {
    log('Larder on S3: the AWS SDK straight to S3, then Larder (upload, download)');
    const direct = await directS3(client, bucket, file);
    server = await startLarder(join(tempRoot, 'larder-s3-data'), ['--blobs', `s3://${bucket}/blobs`]);
    const upload = await measureUpload(server, file);
    // Other bytes, so that S3 stores it anew rather than finding it there.
    second = await makeRandomFile(join(tempRoot, 's3-blob-source-2.bin'), blobMiB * 1024 * 1024);
    const secondUpload = await measureUpload(server, second);
    const download = await measureDownload(server, file);
    return {
      available: true,
      endpoint,
      startMs: round(server.startMs),
      blobMiB,
      direct,
      upload,
      secondUpload,
      download,
      uploadVsDirect: round(upload.mbPerSec / direct.upload.mbPerSec),
      downloadVsDirect: round(download.mbPerSec / direct.download.mbPerSec),
    };
  } finally {
    await server?.stop();
    client.destroy();
    await rm(file.path, { force: true });
    if (second) await rm(second.path, { force: true });
  }
}
