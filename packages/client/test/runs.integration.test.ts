/**
 * The local-first runs SDK against a real Larder server: a run logged offline uploads with
 * its points, params, platform and status; uploading again changes nothing; a live run with
 * autoUpload shows its points on the server while it trains; artifacts upload with their
 * files; runs load back from a server path.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { createArtifact, createRun, DataStore, loadRun, login, readConsoleLog, readCredentials } from '../src/index.js';

describe('runs SDK against a real server', () => {
  let server: TestServer;
  let root: string;
  let token: string;
  const saved = process.env.LARDER_RUN_PARENT_DIR;
  const savedArtifacts = process.env.LARDER_ARTIFACT_PARENT_DIR;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    root = await mkdtemp(join(tmpdir(), 'larder-runs-it-'));
    process.env.LARDER_RUN_PARENT_DIR = join(root, 'runs');
    process.env.LARDER_ARTIFACT_PARENT_DIR = join(root, 'artifacts');
    token = (await server.createUser('ada@example.org')).token;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.LARDER_RUN_PARENT_DIR;
    else process.env.LARDER_RUN_PARENT_DIR = saved;
    if (savedArtifacts === undefined) delete process.env.LARDER_ARTIFACT_PARENT_DIR;
    else process.env.LARDER_ARTIFACT_PARENT_DIR = savedArtifacts;
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  const connection = () => ({ url: server.url, token });
  const get = (path: string) => server.request('GET', path, { token });

  it("sends a run's alerts to the webhooks that asked for them, once each", async () => {
    // A receiver that is not there: the delivery log still shows what was sent, and to whom.
    const hook = await server.request('POST', '/webhooks', {
      token,
      body: { url: 'http://127.0.0.1:9/unreachable', events: ['run.alert'] },
    });
    expect(hook.status).toBe(201);
    const run = await createRun({ name: 'alerting' });
    run.alert({ title: 'loss is NaN', text: 'at step 12', level: 'error' });
    await run.finish();
    const sent = await run.upload({ folder: 'alerts', makeFolder: true, connection: connection() });
    await run.upload({ connection: connection() });
    const log = await get(`/webhook-deliveries?webhookId=${hook.body._id}`);
    expect(
      log.body.data.map((each: { event: string; payload: { data: { title: string; run: string } } }) => [
        each.event,
        each.payload.data.title,
        each.payload.data.run,
      ]),
    ).toEqual([['run.alert', 'loss is NaN', sent.id]]);
  });

  it('uploads an offline run with every point once, and a second upload sends nothing', async () => {
    const run = await createRun({ name: 'offline-cnn', hparams: { lr: 0.01, layers: [32, 64] }, labels: ['cnn'] });
    for (let step = 0; step < 5000; step += 1) {
      run.log('training', { loss: 1 / (step + 1), accuracy: step / 5000 }, step, Math.floor(step / 1000));
      if (step % 100 === 0) run.log('validation', { accuracy: step / 5000 }, step);
    }
    run.params.optimizer = 'adam';
    await run.finish();
    const progress: { bytesRead: number; bytesTotal: number; pointsSent: number }[] = [];
    const first = await run.upload({
      folder: 'exp/cnn',
      makeFolder: true,
      connection: connection(),
      onProgress: (event) => progress.push(event),
    });
    expect(first).toMatchObject({ created: true, pointsSent: 10_050 });
    // Progress ends with the whole metric log read and every point accepted.
    expect(progress.at(-1)).toMatchObject({ pointsSent: 10_050 });
    expect(progress.at(-1)?.bytesRead).toBe(progress.at(-1)?.bytesTotal);
    expect(progress.at(-1)?.bytesTotal).toBeGreaterThan(0);

    const record = (await get(`/runs/${first.id}`)).body;
    expect(record).toMatchObject({
      name: 'offline-cnn',
      altName: run.altName,
      folder: '/ada@example.org/exp/cnn',
      status: 'Complete',
      labels: ['cnn'],
      hparams: { lr: 0.01, layers: [32, 64], optimizer: 'adam' },
    });
    expect(record.metrics.train.loss).toMatchObject({ count: 5000, last: 1 / 5000, step: 4999, epoch: 4 });
    expect(record.metrics.val.accuracy.count).toBe(50);
    expect(typeof record.platform).toBe('object');

    const again = await (await loadRun(run.local)).upload({ folder: 'exp/cnn', connection: connection() });
    expect(again).toMatchObject({ id: first.id, created: false, pointsSent: 0 });
    const series = (await get(`/metrics?run=${first.id}&type=train&name=loss&points=100`)).body;
    expect(series.count).toBe(5000);
  });

  it("shows a live run's points on the server while it trains (autoUpload)", async () => {
    const store = new DataStore(connection());
    const arrived = new Promise<{ run: string; series: { count: number }[] }>((resolve) =>
      store.service('metrics').on('points', (event) => resolve(event as never)),
    );
    await store.listening();
    const run = await createRun({
      name: 'live',
      autoUpload: true,
      folder: 'live',
      makeFolder: true,
      connection: connection(),
      flushIntervalMs: 20,
      uploadIntervalMs: 50,
    });
    for (let step = 0; step < 100; step += 1) run.log('train', { loss: 1 / (step + 1) }, step);
    const event = await arrived;
    expect(event.series[0]?.count).toBeGreaterThan(0);
    await run.finish();
    const found = (await get(`/runs?altName=${run.altName}`)).body.data[0];
    expect(found).toMatchObject({ status: 'Complete', folder: '/ada@example.org/live' });
    expect(found.metrics.train.loss.count).toBe(100);
    await store.close();
  });

  it('uploads an artifact with its files and references, and loads a run back from its server path', async () => {
    const file = join(root, 'weights.bin');
    const bytes = randomBytes(50_000);
    await writeFile(file, bytes);
    const artifact = await createArtifact({ name: 'weights', description: 'best' });
    await artifact.addFile(file, 'model/');
    await artifact.addReference('s3://bucket/data.csv', 'data/');
    const uploaded = await artifact.upload({ folder: 'artifacts', makeFolder: true, connection: connection() });
    const record = (await get(`/artifacts/${uploaded.id}`)).body;
    expect(record.objects).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'model/weights.bin', size: 50_000 }),
        expect.objectContaining({ path: 'data/data.csv', uri: 's3://bucket/data.csv' }),
      ]),
    );
    const fetched = await fetch(`${server.url}/artifacts/${uploaded.id}/objects/model/weights.bin`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(Buffer.from(await fetched.arrayBuffer()).equals(bytes)).toBe(true);

    const run = await createRun({ name: 'consumer' });
    run.markInput(artifact);
    run.log('train', { loss: 1 }, 0);
    await run.finish();
    const sent = await run.upload({ folder: 'artifacts', connection: connection() });
    const lineage = (await get(`/lineage?kind=artifact&id=${uploaded.id}&direction=downstream`)).body;
    expect(lineage.nodes.map((node: { id: string }) => node.id)).toContain(sent.id);

    const loaded = await loadRun('/ada@example.org/artifacts/consumer', { connection: connection() });
    expect(loaded.name).toBe('consumer');
    expect(loaded.status).toBe('Complete');
  });

  it('loads a run from another working directory whole, and uploading it again changes nothing', async () => {
    const run = await createRun({ name: 'roundtrip', hparams: { lr: 0.3 }, labels: ['rt'] });
    for (let step = 0; step < 3000; step += 1)
      run.log('train', { loss: 1 / (step + 1) }, step, Math.floor(step / 1000));
    run.markInput({ kind: 'run', id: (await get('/runs?$limit=1')).body.data[0]._id });
    process.stdout.write('a roundtrip console line\n');
    await run.finish();
    const sent = await run.upload({ folder: 'rt', makeFolder: true, connection: connection() });
    const before = (await get(`/runs/${sent.id}`)).body;
    expect(before.associations.inputs).toHaveLength(1);

    process.env.LARDER_RUN_PARENT_DIR = join(root, 'elsewhere');
    try {
      const loaded = await loadRun('rt/roundtrip', { connection: connection() });
      expect(loaded.local).toBe(join(root, 'elsewhere', run.altName));
      expect(loaded.associations).toEqual(before.associations);
      expect(loaded.platform).toEqual(before.platform);
      const loss = (await loaded.metrics()).find((each) => each.name === 'loss');
      expect(loss?.steps).toHaveLength(3000);
      expect(loss?.epochs.at(-1)).toBe(2);
      const printed = await readConsoleLog(loaded.local);
      expect(printed.records.map((record) => record.text)).toContain('a roundtrip console line');
      expect(printed.end).toMatchObject({ status: 'Complete' });
      expect(await loaded.upload({ connection: connection() })).toMatchObject({ id: sent.id, pointsSent: 0 });
      const after = (await get(`/runs/${sent.id}`)).body;
      expect(after.associations).toEqual(before.associations);
      expect(after.inputIds).toEqual(before.inputIds);
      expect(after.updatedAt).toBe(before.updatedAt);
      expect(after.metrics.train.loss.count).toBe(3000);
    } finally {
      process.env.LARDER_RUN_PARENT_DIR = join(root, 'runs');
    }
  });
});

describe('login against a real server', () => {
  it('checks the key: a wrong one is refused and nothing is saved, a right one is saved with its e-mail', async () => {
    const server = await startTestServer({ gcIntervalMs: 0 });
    const root = await mkdtemp(join(tmpdir(), 'larder-login-it-'));
    try {
      const file = join(root, 'credentials.json');
      const { token } = await server.createUser('ada@example.org');
      const key = await server.request('POST', '/api-keys', { token, body: { name: 'script' } });
      await expect(login({ host: server.url, apiKey: 'lk_wrong', credentialsFile: file })).rejects.toThrow(
        `${server.url} refused this API key`,
      );
      expect(await readCredentials(file)).toEqual({ servers: {} });
      await login({ host: server.url, apiKey: key.body.token, credentialsFile: file });
      expect((await readCredentials(file)).servers[server.url]).toEqual({
        token: key.body.token,
        email: 'ada@example.org',
      });
    } finally {
      await server.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('runs SDK on a server without auth', () => {
  let server: TestServer;
  let root: string;
  const saved = process.env.LARDER_RUN_PARENT_DIR;

  beforeAll(async () => {
    server = await startTestServer({ auth: false, gcIntervalMs: 0 });
    root = await mkdtemp(join(tmpdir(), 'larder-runs-open-'));
    process.env.LARDER_RUN_PARENT_DIR = join(root, 'runs');
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.LARDER_RUN_PARENT_DIR;
    else process.env.LARDER_RUN_PARENT_DIR = saved;
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('finds a run by a path relative to the home (/local)', async () => {
    const run = await createRun({ name: 'run', folder: 'lf', makeFolder: true });
    run.log('train', { loss: 0.5 }, 0);
    await run.finish();
    const connection = { url: server.url, credentialsFile: join(root, 'none.json') };
    const sent = await run.upload({ connection });
    process.env.LARDER_RUN_PARENT_DIR = join(root, 'elsewhere');
    const loaded = await loadRun('lf/run', { connection });
    expect(loaded.name).toBe('run');
    expect((await loaded.metrics())[0]?.values).toEqual([0.5]);
    expect((await loaded.upload({ connection })).id).toBe(sent.id);
  });
});

describe('runs SDK with an organisation', () => {
  let server: TestServer;
  let root: string;
  const saved = process.env.LARDER_RUN_PARENT_DIR;

  beforeAll(async () => {
    server = await startTestServer({ gcIntervalMs: 0 });
    root = await mkdtemp(join(tmpdir(), 'larder-runs-org-'));
    process.env.LARDER_RUN_PARENT_DIR = join(root, 'runs');
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.LARDER_RUN_PARENT_DIR;
    else process.env.LARDER_RUN_PARENT_DIR = saved;
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it("puts runs in the organisation's folders, where its members see them and others do not", async () => {
    const ada = await server.createUser('ada@example.org');
    const bob = await server.createUser('bob@example.org');
    const eve = await server.createUser('eve@example.org');
    const org = await server.request('POST', '/organizations', { token: ada.token, body: { name: 'vision-lab' } });
    const invitation = await server.request('POST', '/organization-invitations', {
      token: ada.token,
      body: { organizationId: org.body._id, email: 'bob@example.org' },
    });
    await server.request('PATCH', `/organization-invitations/${invitation.body._id}`, {
      token: bob.token,
      body: { accepted: true },
    });
    const run = await createRun({ name: 'team-run', organization: 'vision-lab' });
    run.log('train', { loss: 0.5 }, 0);
    await run.finish();
    const sent = await run.upload({ connection: { url: server.url, token: bob.token } });
    const record = await server.request('GET', `/runs/${sent.id}`, { token: ada.token });
    expect(record.body).toMatchObject({ folder: '/vision-lab/default', userId: bob.id });
    expect((await server.request('GET', `/runs/${sent.id}`, { token: eve.token })).status).toBe(404);
  });
});
