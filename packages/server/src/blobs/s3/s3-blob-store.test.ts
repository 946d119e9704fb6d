/**
 * The S3 adapter against a real S3-protocol server (`.ci/run` starts moto's server and sets
 * LARDER_TEST_S3_ENDPOINT): the blob conformance suite, unchanged, each test under a key
 * prefix of its own; copies in parts are forced small so that path is exercised too.
 */
import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { describeBlobStoreConformance } from '../blob-store.conformance.js';
import { describeBlobBatchConformance } from '../blob-store-batch.conformance.js';
import { S3_TEST_ENDPOINT, testS3Client } from '../test-support/s3-test-client.js';
import { S3BlobStore } from './s3-blob-store.js';

const endpoint = S3_TEST_ENDPOINT;

async function makeStore() {
  const store = new S3BlobStore({
    bucket: 'larder-test',
    prefix: `run-${randomBytes(6).toString('hex')}`,
    client: testS3Client(),
    createBucket: true,
    maxSingleCopyBytes: 6 * 1024 * 1024,
  });
  // Objects live under a fresh prefix; nothing else to remove.
  return { store, cleanup: async () => {} };
}

describe.runIf(endpoint)('S3 adapter', () => {
  describeBlobStoreConformance('S3BlobStore', makeStore);
  // S3 has no batch of its own: this runs the fallback, one put per blob, in parallel.
  describeBlobBatchConformance('S3BlobStore', makeStore);
});
