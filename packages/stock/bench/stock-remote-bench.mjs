#!/usr/bin/env node
/**
 * Push and pull throughput against a real Larder server, printed as JSON. Run after
 * `npm run build`:
 *   node packages/stock/bench/stock-remote-bench.mjs [--layers 50] [--layer-mb 2]
 * Starts `larder serve --no-auth` on a free port with a fresh data folder, pushes a model of
 * `layers` float32 layers (100 MiB by default) from one stock repository, pulls it into
 * another (MB/s both ways, MB = 2^20 bytes), then changes one layer and measures the
 * incremental push and pull (objects and bytes sent: that layer, its manifest, the commit).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HttpStockRemote, initStock, pullStock, pushStock, StockRoom, tensor } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '50' },
    'layer-mb': { type: 'string', default: '2' },
  },
});
const layers = Number(values.layers);
const layerBytes = Math.round(Number(values['layer-mb']) * 1024 * 1024);
const totalMb = (layers * layerBytes) / 1024 / 1024;
const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const round = (value) => Math.round(value * 10) / 10;

/** Starts `larder serve --no-auth --port 0` and resolves with its URL once it listens. */
function startServer(dataDir) {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--no-auth', '--port', '0', '--data', dataDir, '--gc-every', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const match = /Larder is serving (http:\/\/\S+?) \(/.exec(output);
      if (match) resolve({ child, url: match[1] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`larder serve exited (${code}): ${output}`)));
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

const dir = await mkdtemp(join(tmpdir(), 'larder-stock-remote-bench-'));
const { child, url } = await startServer(join(dir, 'server'));
const remote = new HttpStockRemote({ url });
try {
  const sourcePath = join(dir, 'source');
  const copyPath = join(dir, 'copy');
  await initStock(sourcePath);
  await initStock(copyPath);
  const source = new StockRoom({ path: sourcePath, author: 'bench' });
  const copy = new StockRoom({ path: copyPath, author: 'bench' });

  const weights = {};
  for (let i = 0; i < layers; i++) {
    const data = new Float32Array(layerBytes / 4);
    for (let j = 0; j < data.length; j++) data[j] = Math.sin(i * 7919 + j);
    weights[`layer_${i}/kernel`] = tensor(data, [data.length / 256, 256]);
  }
  await source.model.saveWeights('big', weights);
  await source.commit('weights');

  let start = process.hrtime.bigint();
  const push = await pushStock(source, remote, { repo: 'bench' });
  const pushSeconds = seconds(start);

  start = process.hrtime.bigint();
  const pull = await pullStock(copy, remote, { repo: 'bench' });
  const pullSeconds = seconds(start);
  const loaded = await copy.model.loadWeights('big');
  if (Object.keys(loaded).length !== layers) throw new Error('pulled the wrong number of layers');

  weights['layer_0/kernel'] = tensor(new Float32Array(layerBytes / 4).fill(1), [layerBytes / 4 / 256, 256]);
  await source.model.saveWeights('big', weights);
  await source.commit('one layer changed');
  start = process.hrtime.bigint();
  const incremental = await pushStock(source, remote);
  const incrementalSeconds = seconds(start);
  start = process.hrtime.bigint();
  const incrementalPull = await pullStock(copy, remote);
  const incrementalPullSeconds = seconds(start);

  console.log(
    JSON.stringify(
      {
        server: 'larder serve --no-auth (SQLite, folder blobs, loopback)',
        model: { layers, layerMb: layerBytes / 1024 / 1024, totalMb },
        push: {
          seconds: round(pushSeconds),
          mbPerSecond: round(push.bytes / 1024 / 1024 / pushSeconds),
          objects: push.objects,
          mbSent: round(push.bytes / 1024 / 1024),
        },
        pull: {
          seconds: round(pullSeconds),
          mbPerSecond: round(pull.bytes / 1024 / 1024 / pullSeconds),
          objects: pull.objects,
          mbReceived: round(pull.bytes / 1024 / 1024),
        },
        incrementalPush: {
          seconds: Math.round(incrementalSeconds * 1000) / 1000,
          objects: incremental.objects,
          bytesSent: incremental.bytes,
          layerBytes,
        },
        incrementalPull: {
          seconds: Math.round(incrementalPullSeconds * 1000) / 1000,
          objects: incrementalPull.objects,
          bytesReceived: incrementalPull.bytes,
        },
      },
      null,
      2,
    ),
  );
} finally {
  await remote.close();
  await stopServer(child);
  await rm(dir, { recursive: true, force: true });
}
