/**
 * A real server with two ordinary users, A and B, and one private object of every kind
 * Larder stores, all A's: a generic document, a run with a file, a data log and metric
 * points, an artifact, a folder, an organisation, a model with a named file and a version,
 * a picture (with its thumbnail) in a dataset version with a label and an annotation, a
 * stock repository, tfjs and ONNX models, a Marcelle asset, an API key, a service of her
 * own, and the blobs under them (held by A alone). Every text A wrote carries `canary`, so
 * any answer to someone else that contains it is a leak.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { HttpStockRemote, initStock, pushStock, StockRoom, tensor } from '@larder/stock';
import sharp from 'sharp';
import { pmfVersionBody } from '../../support/pmf-version-body.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

export type Backend = 'sqlite + folder' | 'postgres + s3';

/** The back ends the suites run on: PostgreSQL + S3 as well when CI provides both. */
export const BACKENDS: readonly Backend[] =
  process.env.LARDER_TEST_POSTGRES_URL && process.env.LARDER_TEST_S3_ENDPOINT
    ? ['sqlite + folder', 'postgres + s3']
    : ['sqlite + folder'];

export interface User {
  id: string;
  token: string;
  email: string;
}

export interface AdversarialWorld {
  server: TestServer;
  a: User;
  b: User;
  canary: string;
  /** A's private objects by kind: ids, hashes and names. */
  ids: Record<string, string>;
  /** B's own objects, for writes that try to name A's blobs. */
  own: Record<string, string>;
  close(): Promise<void>;
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A fresh bucket on the test S3 (moto), as a `--blobs` URL. */
export async function s3Bucket(): Promise<string> {
  const endpoint = process.env.LARDER_TEST_S3_ENDPOINT as string;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'larder-test',
    AWS_SECRET_ACCESS_KEY: 'larder-test',
    AWS_REGION: 'us-east-1',
  });
  const bucket = `larder-adversarial-${randomBytes(4).toString('hex')}`;
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1' });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return `s3://${bucket}/blobs`;
}

export async function startServerOn(backend: Backend): Promise<TestServer> {
  return backend === 'postgres + s3'
    ? startTestServer({ store: 'postgres', blobs: await s3Bucket(), gcIntervalMs: 0 })
    : startTestServer({ gcIntervalMs: 0 });
}

/** Answers the JSON of a call, failing the set-up loudly when it is not the status wanted. */
async function must(server: TestServer, token: string, method: string, path: string, body?: unknown, status = 201) {
  const answer = await server.request(method, path, { token, ...(body === undefined ? {} : { body }) });
  if (answer.status !== status) {
    throw new Error(`set-up ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 400)}`);
  }
  return answer.body;
}

export async function upload(server: TestServer, token: string, bytes: Buffer | string) {
  const response = await fetch(`${server.url}/blobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  if (response.status !== 201) throw new Error(`set-up upload: ${response.status}`);
  return (await response.json()) as { sha256: string; size: number };
}

export async function postForm(server: TestServer, token: string, path: string, parts: [string, Buffer, string][]) {
  const form = new FormData();
  for (const [field, bytes, filename] of parts) form.append(field, new Blob([new Uint8Array(bytes)]), filename);
  const response = await fetch(server.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await response.json()) as any;
  if (response.status >= 300) throw new Error(`set-up ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** A PMF tree uploaded by `token` and the model version body naming its files. */
function versionBody(server: TestServer, token: string, modelId: string, canary: string) {
  return pmfVersionBody((content) => upload(server, token, content), modelId, {
    config: `note: ${canary}\n`,
    description: canary,
  });
}

async function pushStockRepository(server: TestServer, token: string, name: string) {
  const path = await mkdtemp(join(tmpdir(), 'larder-adversarial-stock-'));
  const remote = new HttpStockRemote({ url: server.url, token });
  try {
    await initStock(path);
    const room = new StockRoom({ path, author: 'a' });
    await room.model.saveWeights('secret', {
      w: tensor(
        new Float32Array(64).map((_, i) => Math.sin(i)),
        [8, 8],
      ),
    });
    const commit = await room.commit('private weights');
    await pushStock(room, remote, { repo: name });
    return commit;
  } finally {
    await remote.close();
    await rm(path, { recursive: true, force: true });
  }
}

/** Seeds A's objects of every kind (and a few of B's) on a fresh server. */
export async function startAdversarialWorld(backend: Backend): Promise<AdversarialWorld> {
  const server = await startServerOn(backend);
  const canary = `canary${randomBytes(6).toString('hex')}`;
  const a = await server.createUser(`${canary}-a@example.org`);
  const b = await server.createUser('b@example.org');
  const ids: Record<string, string> = {};
  const post = (path: string, body: unknown) => must(server, a.token, 'POST', path, body);
  const patch = (path: string, body: unknown) => must(server, a.token, 'PATCH', path, body, 200);

  const blob = await upload(server, a.token, `A's private bytes ${canary}`);
  ids.blob = blob.sha256;
  ids.note = (await post('/notes', { title: canary, attachment: { sha256: blob.sha256 } }))._id;
  const run = await post('/runs', { name: `run-${canary}`, folder: `private-${canary}`, makeFolder: true });
  ids.run = run._id;
  ids.runName = run.name;
  await patch(`/runs/${run._id}`, {
    'files.weights': { ...blob, filename: 'weights.bin' },
    'dataLogs.sample': { type: 'image', data: { ...blob, filename: 'sample.png' } },
    hparams: { secret: canary },
  });
  await post('/metrics', {
    run: run._id,
    series: [{ type: 'train', name: 'loss', offset: 0, steps: [1], values: [0.5] }],
  });
  const folder = await must(server, a.token, 'GET', `/folders?path=${encodeURIComponent(run.folder)}`, undefined, 200);
  ids.folder = folder.data[0]._id;
  ids.folderPath = run.folder;
  ids.artifact = (await post('/artifacts', { name: `artifact-${canary}`, objects: [{ path: 'w.bin', ...blob }] }))._id;
  const organization = await post('/organizations', { name: `org-${canary}` });
  ids.organization = organization._id;
  ids.organizationName = organization.name;
  const model = await post('/models', { name: `model-${canary}`, description: canary });
  ids.model = model._id;
  ids.modelName = model.name;
  await patch(`/models/${model._id}`, { 'files.config': { ...blob, filename: 'config.bin' } });
  ids.modelVersion = (await post('/model-versions', await versionBody(server, a.token, model._id, canary)))._id;

  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 10, b: 90 } } })
    .png()
    .toBuffer();
  const pictures = await postForm(server, a.token, '/assets/upload', [['file', png, `${canary}.png`]]);
  const asset = pictures.data[0];
  ids.asset = asset._id;
  ids.picture = asset.sha256;
  // The thumbnail is made on the first view.
  const thumbnail = await fetch(`${server.url}/assets/${asset._id}/thumbnail`, {
    headers: { authorization: `Bearer ${a.token}` },
  });
  await thumbnail.arrayBuffer();
  ids.thumbnail = thumbnail.headers.get('x-content-sha256') ?? '';
  const dataset = await post('/datasets', { name: `dataset-${canary}`, description: canary });
  ids.dataset = dataset._id;
  const version = await post('/dataset-versions', { datasetId: dataset._id, name: canary, assets: [asset._id] });
  ids.datasetVersion = version._id;
  ids.member = `${version._id}:${asset._id}`;
  const label = await post('/dataset-labels', { versionId: version._id, name: `label-${canary}`, type: 'rectangle' });
  ids.label = label._id;
  const annotation = await post('/annotations', {
    versionId: version._id,
    assetId: asset._id,
    labelId: label._id,
    shape: { type: 'rectangle', x: 1, y: 2, width: 10, height: 5 },
  });
  ids.annotation = Array.isArray(annotation) ? annotation[0]._id : annotation._id;

  const stockName = `stock-${canary}`;
  ids.stockCommit = await pushStockRepository(server, a.token, stockName);
  const repos = await must(server, a.token, 'GET', `/stock-repos?name=${stockName}`, undefined, 200);
  ids.stockRepo = repos.data[0]._id;
  ids.stockObject = ids.stockCommit;

  const manifest = Buffer.from(JSON.stringify({ format: 'layers-model', note: canary }));
  const tfjsFiles = await postForm(server, a.token, '/tfjs-models/upload', [
    ['model.json', manifest, 'model.json'],
    ['model.weights.bin', randomBytes(64), 'model.weights.bin'],
  ]);
  ids.tfjsModel = (await post('/tfjs-models', { name: `tfjs-${canary}`, files: tfjsFiles, format: 'tfjs' }))._id;
  const onnxFiles = await postForm(server, a.token, '/onnx-models/upload', [
    ['net.onnx', Buffer.from(`onnx ${canary}`), 'net.onnx'],
  ]);
  ids.onnxModel = (await post('/onnx-models', { name: `onnx-${canary}`, files: onnxFiles, format: 'onnx' }))._id;
  const marcelle = await postForm(server, a.token, '/assets/upload', [
    ['photo.png', Buffer.from(`marcelle ${canary}`), 'photo.png'],
  ]);
  ids.marcelleUrl = marcelle['photo.png'] ?? (Object.values(marcelle)[0] as string);
  ids.marcelleAsset = (await post('/assets', { filename: 'photo.png', url: ids.marcelleUrl }))._id;
  ids.apiKey = (await post('/api-keys', { name: `key-${canary}` }))._id;
  ids.service = `svc-${canary}`;
  ids.serviceRecord = (await post(`/${ids.service}`, { secret: canary }))._id;
  ids.user = a.id;
  ids.home = `/${a.email}`;
  ids.email = a.email;

  // B's own objects, which his writes may try to make name A's blobs.
  const own: Record<string, string> = {};
  const mine = (path: string, body: unknown) => must(server, b.token, 'POST', path, body);
  own.blob = (await upload(server, b.token, `B's bytes ${randomBytes(4).toString('hex')}`)).sha256;
  own.note = (await mine('/notes', { title: 'b' }))._id;
  own.run = (await mine('/runs', { name: 'b-run' }))._id;
  own.model = (await mine('/models', { name: 'b-model' }))._id;
  own.asset = (
    await postForm(server, b.token, '/assets/upload', [['file', await sharp(png).jpeg().toBuffer(), 'b.jpg']])
  ).data[0]._id;
  own.tfjsModel = (await mine('/tfjs-models', { name: 'b-tfjs', files: [], format: 'tfjs' }))._id;
  own.dataset = (await mine('/datasets', { name: 'b-dataset' }))._id;
  own.stockRepo = (await mine('/stock-repos', { name: 'b-stock' }))._id;

  return { server, a, b, canary, ids, own, close: () => server.close() };
}

/** Services holding records, and which of A's objects each holds. */
export const RECORDS: [service: string, target: string][] = [
  ['notes', 'note'],
  ['runs', 'run'],
  ['artifacts', 'artifact'],
  ['folders', 'folder'],
  ['organizations', 'organization'],
  ['models', 'model'],
  ['model-versions', 'modelVersion'],
  ['assets', 'asset'],
  ['assets', 'marcelleAsset'],
  ['datasets', 'dataset'],
  ['dataset-versions', 'datasetVersion'],
  ['dataset-labels', 'label'],
  ['annotations', 'annotation'],
  ['dataset-members', 'member'],
  ['stock-repos', 'stockRepo'],
  ['stock-commits', 'stockCommit'],
  ['tfjs-models', 'tfjsModel'],
  ['onnx-models', 'onnxModel'],
  ['users', 'user'],
  ['api-keys', 'apiKey'],
];

/** What an admin reads of each of A's objects and blobs: equal before and after means nothing of hers changed. */
export async function snapshotOf(world: AdversarialWorld): Promise<Record<string, string>> {
  const { server, ids } = world;
  const out: Record<string, string> = {};
  const token = server.adminToken as string;
  const read = async (path: string) => JSON.stringify(await server.request('GET', path, { token }));
  for (const [service, key] of RECORDS) {
    if (service === 'dataset-members' || service === 'stock-commits') continue;
    out[`${service}/${key}`] = await read(`/${service}/${encodeURIComponent(ids[key] as string)}`);
  }
  out.members = await read(`/dataset-members?versionId=${ids.datasetVersion}`);
  out.commits = await read(`/stock-commits?repo=${ids.stockRepo}`);
  out.service = await read(`/${ids.service}/${ids.serviceRecord}`);
  out.metrics = await read(`/metrics?run=${ids.run}`);
  for (const key of ['blob', 'picture', 'thumbnail']) {
    const response = await fetch(`${server.url}/blobs/${ids[key]}`, { headers: { authorization: `Bearer ${token}` } });
    out[`blob ${key}`] = `${response.status} ${sha256(Buffer.from(await response.arrayBuffer()))}`;
  }
  return out;
}
