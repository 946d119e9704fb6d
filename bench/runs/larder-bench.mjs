/**
 * Larder's part of the run: start it on an empty data folder, the document workloads,
 * the blob workload beside a raw disk write, then a restart over the data it now holds.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHttpClient } from '../measure/http-client.mjs';
import { round } from '../measure/percentiles.mjs';
import { startLarder } from '../servers/larder-server.mjs';
import { makeRandomFile } from '../workloads/blob-file.mjs';
import { measureDownload, measureUpload } from '../workloads/blob-transfer.mjs';
import { measureDiskYardstick, settleWriteback } from '../workloads/disk-write.mjs';
import { runDocumentSuite } from '../workloads/document-suite.mjs';
import { restartFigures } from './restart-figures.mjs';

/** The upload and download are compared with the raw disk's median speed for the same size (see `measureDiskYardstick`). */
async function benchBlobs(server, tempRoot, blobMiB, log) {
  const bytes = blobMiB * 1024 * 1024;
  const rawPath = join(tempRoot, 'raw-disk-write.bin');
  log(`blob: writing a ${blobMiB} MiB random file`);
  const file = await makeRandomFile(join(tempRoot, 'blob-source.bin'), bytes);
  try {
    log(`blob: raw disk writes, upload, download (${blobMiB} MiB each)`);
    const rawDiskWrite = await measureDiskYardstick(rawPath, bytes);
    const upload = await measureUpload(server, file);
    settleWriteback();
    const download = await measureDownload(server, file);
    return { rawDiskWrite, upload, download };
  } finally {
    await rm(file.path, { force: true });
  }
}

/** @returns {Promise<object>} Larder's figures */
export async function benchLarder(tempRoot, suite, log) {
  const dataDir = join(tempRoot, 'larder-data');
  const { config } = suite;
  log('Larder: starting');
  let server = await startLarder(dataDir);
  const result = { startMs: round(server.startMs) };
  let client = createHttpClient(server.url);
  try {
    result.documents = await runDocumentSuite(client, suite, (line) => log(`Larder: ${line}`));
    if (config.blobMiB > 0)
      result.blobs = await benchBlobs(server, tempRoot, config.blobMiB, (line) => log(`Larder: ${line}`));
    client.close();
    await server.stop();
    log('Larder: restarting over the data');
    let figures;
    ({ server, client, figures } = await restartFigures(() => startLarder(dataDir)));
    return { ...result, ...figures };
  } finally {
    client.close();
    await server.stop();
  }
}
