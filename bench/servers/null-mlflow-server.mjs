/**
 * The fastest server MLflow's client could talk to, for the ingest workload only: it reads
 * each request's body whole and answers at once, storing nothing (experiments/create,
 * runs/create, runs/log-batch; anything else is a 404). The client's points/s against it is
 * the ceiling any server can give that client: what is left is the client's own work.
 */
import http from 'node:http';

const RUN = {
  run: {
    info: {
      run_id: '0'.repeat(32),
      run_uuid: '0'.repeat(32),
      experiment_id: '1',
      run_name: 'ingest',
      status: 'RUNNING',
      start_time: 0,
      lifecycle_stage: 'active',
      artifact_uri: 'mlflow-artifacts:/1/0/artifacts',
    },
    data: {},
    inputs: {},
  },
};

const ANSWERS = new Map([
  ['/api/2.0/mlflow/experiments/create', JSON.stringify({ experiment_id: '1' })],
  ['/api/2.0/mlflow/runs/create', JSON.stringify(RUN)],
  ['/api/2.0/mlflow/runs/log-batch', '{}'],
]);

/** @returns {Promise<{ url: string, bodyBytes: () => number, stop: () => Promise<void> }>} */
export function startNullMlflow() {
  let bodyBytes = 0;
  const server = http.createServer((request, response) => {
    request.on('data', (chunk) => {
      bodyBytes += chunk.length;
    });
    request.on('end', () => {
      const answer = ANSWERS.get(request.url?.split('?')[0] ?? '');
      response.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' });
      response.end(answer ?? '{"error_code":"ENDPOINT_NOT_FOUND","message":"not served"}');
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        url: `http://127.0.0.1:${port}`,
        bodyBytes: () => bodyBytes,
        stop: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
