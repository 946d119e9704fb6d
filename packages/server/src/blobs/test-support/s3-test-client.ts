/** The S3 client settings of the test suites: the S3-protocol server `.ci/run` starts. */
export const S3_TEST_ENDPOINT = process.env.LARDER_TEST_S3_ENDPOINT;

export function testS3Client() {
  return {
    endpoint: S3_TEST_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'larder-test', secretAccessKey: 'larder-test' },
  };
}
