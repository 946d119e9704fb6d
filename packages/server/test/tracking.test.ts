/**
 * Experiment tracking over real HTTP and sockets: folders (made on demand, shared with an
 * organisation, the sharing reaching what they hold), runs (unique names per folder, the
 * four conflict strategies, idempotent re-upload, Marcelle's shapes kept as written) and
 * metric points (exactly-once columnar ingest, server-side downsampling, summaries that
 * runs can be sorted on, live `points` events, permissions, bad input).
 */
import { authentication, feathers, socketio } from '@feathersjs/client';
import { encodeMetricColumns, METRIC_COLUMNS_TYPE } from '@larder/protocol';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const PASSWORD = 'correct horse battery';

describe.each(TEST_STORES)('tracking on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string; email: string };
  let bob: { id: string; token: string; email: string };
  let eve: { id: string; token: string; email: string };
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org', PASSWORD);
    bob = await server.createUser('bob@example.org', PASSWORD);
    eve = await server.createUser('eve@example.org', PASSWORD);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
  });

  const as = (user: { token: string }) => ({
    get: (path: string) => server.request('GET', path, { token: user.token }),
    post: (path: string, body: unknown) => server.request('POST', path, { token: user.token, body }),
    patch: (path: string, body: unknown) => server.request('PATCH', path, { token: user.token, body }),
    del: (path: string) => server.request('DELETE', path, { token: user.token }),
  });

  async function socketClient(email: string) {
    const socket = io(server.url, { transports: ['websocket'], forceNew: true });
    sockets.push(socket);
    const client = feathers();
    client.configure(socketio(socket as never));
    client.configure(authentication());
    await client.authenticate({ strategy: 'local', email, password: PASSWORD });
    return client;
  }

  describe('folders', () => {
    it('puts a run without a folder in <home>/default, made on first use', async () => {
      const run = await as(ada).post('/runs', { name: 'first' });
      expect(run.status).toBe(201);
      expect(run.body).toMatchObject({
        name: 'first',
        folder: '/ada@example.org/default',
        status: 'Running',
        userId: ada.id,
        hparams: {},
        labels: [],
      });
      expect(run.body.altName).toMatch(/^first_\d{6}_\d{6}_[a-z0-9]{6}$/);
    });

    it("makes nested folders only when asked, and never in someone else's home", async () => {
      const refused = await as(ada).post('/runs', { name: 'x', folder: 'cv/mnist' });
      expectError(refused, 404, 'NotFound', /makeFolder/);
      const made = await as(ada).post('/runs', { name: 'x', folder: 'cv/mnist', makeFolder: true });
      expect(made.body.folder).toBe('/ada@example.org/cv/mnist');
      const folders = await as(ada).get('/folders?ancestors=/ada@example.org&$sort[path]=1');
      expect(folders.body.data.map((folder: { path: string }) => folder.path)).toEqual([
        '/ada@example.org/cv',
        '/ada@example.org/cv/mnist',
        '/ada@example.org/default',
      ]);
      expectError(
        await as(eve).post('/runs', { name: 'y', folder: '/ada@example.org/cv' }),
        404,
        'NotFound',
        /No folder/,
      );
      expectError(
        await as(eve).post('/runs', { name: 'y', folder: '/ada@example.org/evil', makeFolder: true }),
        404,
        'NotFound',
        /No folder/,
      );
      expectError(
        await as(ada).post('/runs', { name: 'z', folder: '/ada@example.org/../bob' }),
        400,
        'BadRequest',
        /folder name/,
      );
    });

    it('shares a folder with an organisation: members read, writers write, strangers see nothing', async () => {
      const org = await as(ada).post('/organizations', { name: 'vision-lab' });
      expect(org.status).toBe(201);
      // Nobody is added without consent: Bob is invited, and joins when he accepts.
      expectError(
        await as(ada).patch(`/organizations/${org.body._id}`, {
          members: [
            { userId: ada.id, role: 'admin' },
            { email: 'bob@example.org', role: 'member' },
          ],
        }),
        400,
        'BadRequest',
        /invite/,
      );
      const invited = await as(ada).post('/organization-invitations', {
        organizationId: org.body._id,
        email: 'bob@example.org',
        role: 'member',
      });
      expect(invited.status).toBe(201);
      // Inviting an address without an account answers alike: invitations tell nothing about accounts.
      const nobody = await as(ada).post('/organization-invitations', {
        organizationId: org.body._id,
        email: 'nobody@example.org',
      });
      expect(nobody.status).toBe(201);
      expect(Object.keys(nobody.body).sort()).toEqual(Object.keys(invited.body).sort());
      expect((await as(eve).get('/organization-invitations')).body.total).toBe(0);
      expectError(
        await as(eve).patch(`/organization-invitations/${invited.body._id}`, { accepted: true }),
        404,
        'NotFound',
        /./,
      );
      const mine = await as(bob).get('/organization-invitations');
      expect(mine.body.data.map((each: { _id: string }) => each._id)).toEqual([invited.body._id]);
      expect((await as(bob).patch(`/organization-invitations/${invited.body._id}`, { accepted: true })).status).toBe(
        200,
      );
      const run = await as(ada).post('/runs', { name: 'shared-run', folder: 'shared', makeFolder: true });
      expectError(await as(bob).get(`/runs/${run.body._id}`), 404, 'NotFound', /./);

      const folder = (await as(ada).get('/folders?path=/ada@example.org/shared')).body.data[0];
      const shared = await as(ada).patch(`/folders/${folder._id}`, {
        shares: [{ principal: `org:${org.body._id}`, access: 'read' }],
      });
      expect(shared.status).toBe(200);
      expect((await as(bob).get(`/runs/${run.body._id}`)).status).toBe(200);
      expectError(await as(bob).patch(`/runs/${run.body._id}`, { description: 'mine now' }), 403, 'Forbidden', /./);
      expectError(
        await as(bob).post('/runs', { name: 'b', folder: '/ada@example.org/shared' }),
        403,
        'Forbidden',
        /add to/,
      );
      expectError(await as(eve).get(`/runs/${run.body._id}`), 404, 'NotFound', /./);
      // Only the owner shares.
      expectError(await as(bob).patch(`/folders/${folder._id}`, { shares: [] }), 403, 'Forbidden', /owner/);

      await as(ada).patch(`/folders/${folder._id}`, {
        shares: [{ principal: `org:${org.body._id}`, access: 'write' }],
      });
      const bobs = await as(bob).post('/runs', { name: 'b', folder: '/ada@example.org/shared' });
      expect(bobs.status).toBe(201);
      expect((await as(bob).patch(`/runs/${run.body._id}`, { description: 'reviewed' })).status).toBe(200);
      // The organisation's own home is writable by its members.
      expect((await as(bob).post('/runs', { name: 'team', folder: '/vision-lab/exp', makeFolder: true })).status).toBe(
        201,
      );
      expectError(await as(eve).post('/runs', { name: 'no', folder: '/vision-lab' }), 404, 'NotFound', /./);

      // Leaving the organisation takes the access away.
      await as(ada).patch(`/organizations/${org.body._id}`, { members: [{ userId: ada.id, role: 'admin' }] });
      expectError(await as(bob).get(`/runs/${run.body._id}`), 404, 'NotFound', /./);
    });

    it("refuses to join an organisation through one's own account", async () => {
      const me = await as(eve).patch(`/users/${eve.id}`, { organizations: ['o123'] });
      expectError(me, 403, 'Forbidden', /organizations/);
    });

    it('keeps a non-empty folder', async () => {
      const folder = (await as(ada).get('/folders?path=/ada@example.org/cv/mnist')).body.data[0];
      expectError(await as(ada).del(`/folders/${folder._id}`), 409, 'Conflict', /not empty/);
    });
  });

  describe('runs', () => {
    it('applies the conflict strategies to a name taken in the folder', async () => {
      const body = { name: 'dup', folder: 'strategies', makeFolder: true, hparams: { lr: 0.1 } };
      const first = await as(ada).post('/runs', body);
      const skipped = await as(ada).post('/runs', { ...body, conflictStrategy: 'skip', hparams: { lr: 9 } });
      expect(skipped.body._id).toBe(first.body._id);
      expect(skipped.body.hparams).toEqual({ lr: 0.1 });
      expectError(
        await as(ada).post('/runs', { ...body, conflictStrategy: 'error' }),
        409,
        'Conflict',
        /already exists/,
      );
      const renamed = await as(ada).post('/runs', { ...body, conflictStrategy: 'new' });
      expect(renamed.body.name).toBe(renamed.body.altName);
      expect(renamed.body._id).not.toBe(first.body._id);
      const replaced = await as(ada).post('/runs', { ...body, conflictStrategy: 'replace', hparams: { lr: 0.2 } });
      expect(replaced.body.name).toBe('dup');
      expect(replaced.body.hparams).toEqual({ lr: 0.2 });
      expectError(await as(ada).get(`/runs/${first.body._id}`), 404, 'NotFound', /./);
      expectError(
        await as(ada).post('/runs', { ...body, conflictStrategy: 'merge' }),
        400,
        'BadRequest',
        /conflictStrategy/,
      );
    });

    it('is idempotent by alternative name: uploading a local run twice makes one run', async () => {
      const local = { name: 'offline', altName: 'offline_261122_101010_abc123', folder: 'uploads', makeFolder: true };
      const once = await as(ada).post('/runs', local);
      const twice = await as(ada).post('/runs', { ...local, conflictStrategy: 'error' });
      expect(twice.status).toBe(201);
      expect(twice.body._id).toBe(once.body._id);
      const count = await as(ada).get('/runs?altName=offline_261122_101010_abc123&$limit=0');
      expect(count.body.total).toBe(1);
    });

    it('keeps a Marcelle run as written', async () => {
      const marcelle = {
        name: 'mlp-3',
        basename: 'mlp',
        source: 'keras',
        start: '2021-10-07T14:03:12',
        status: 'epoch',
        params: { epochs: 10, batch_size: 32 },
        epoch: 3,
        logs: { loss: [0.9, 0.5, 0.3], accuracy: [0.6, 0.8, 0.9] },
        checkpoints: [],
      };
      const created = await as(ada).post('/runs', marcelle);
      expect(created.body).toMatchObject(marcelle);
      const whole = { ...created.body, status: 'success', epoch: 4 };
      const updated = await as(ada).patch(`/runs/${created.body._id}`, whole);
      expect(updated.body).toMatchObject({ ...marcelle, status: 'success', epoch: 4 });
      const found = await as(ada).get('/runs?basename=mlp&$sort[createdAt]=-1&$select[]=name&$limit=1');
      expect(found.body.data).toEqual([{ _id: created.body._id, name: 'mlp-3' }]);
    });

    it('keeps server fields from clients and renames only to free names', async () => {
      const run = await as(ada).post('/runs', { name: 'guarded', folder: 'guard', makeFolder: true });
      await as(ada).post('/runs', { name: 'taken', folder: 'guard' });
      const forged = await as(ada).patch(`/runs/${run.body._id}`, {
        access: { readers: [`user:${eve.id}`], writers: [] },
        metrics: { train: { loss: { last: -1 } } },
      });
      expect(forged.body.access).toEqual(run.body.access);
      expect(forged.body.metrics).toBeUndefined();
      expectError(await as(eve).get(`/runs/${run.body._id}`), 404, 'NotFound', /./);
      expectError(await as(ada).patch(`/runs/${run.body._id}`, { name: 'taken' }), 409, 'Conflict', /already exists/);
      const renamed = await as(ada).patch(`/runs/${run.body._id}`, { name: 'renamed' });
      expect(renamed.body.name).toBe('renamed');
      // The old name is free again.
      expect(
        (await as(ada).post('/runs', { name: 'guarded', folder: 'guard', conflictStrategy: 'error' })).status,
      ).toBe(201);
    });

    it('refuses bad run fields clearly', async () => {
      expectError(await as(ada).post('/runs', { name: '' }), 400, 'BadRequest', /name/);
      expectError(await as(ada).post('/runs', { name: 'a/b' }), 400, 'BadRequest', /name/);
      expectError(await as(ada).post('/runs', { name: 'ok', hparams: [1] }), 400, 'BadRequest', /hparams/);
      expectError(await as(ada).post('/runs', { name: 'ok', labels: 'x' }), 400, 'BadRequest', /labels/);
      expectError(await server.request('POST', '/runs', { body: { name: 'anon' } }), 401, 'NotAuthenticated', /./);
    });
  });

  describe('metrics', () => {
    const series = (type: string, name: string, offset: number, count: number, f: (step: number) => number) => ({
      type,
      name,
      offset,
      steps: Array.from({ length: count }, (_, index) => offset + index),
      values: Array.from({ length: count }, (_, index) => f(offset + index)),
      epochs: Array.from({ length: count }, (_, index) => Math.floor((offset + index) / 100)),
    });

    it('ingests columnar batches exactly once and reads series back downsampled with extremes', async () => {
      const run = await as(ada).post('/runs', { name: 'curves', folder: 'metrics', makeFolder: true });
      const loss = series('training', 'loss', 0, 20_000, (step) => 1 / (1 + step / 100));
      loss.values[12_345] = 50;
      const sent = await as(ada).post('/metrics', {
        run: run.body._id,
        series: [loss, series('validation', 'acc', 0, 200, (s) => s / 200)],
      });
      expect(sent.status).toBe(201);
      expect(sent.body.series).toEqual([
        expect.objectContaining({ type: 'train', name: 'loss', count: 20_000, max: 50 }),
        expect.objectContaining({ type: 'val', name: 'acc', count: 200, last: 199 / 200 }),
      ]);
      // A resent batch and an overlapping one add only what is new.
      await as(ada).post('/metrics', { run: run.body._id, series: [loss] });
      await as(ada).post('/metrics', { run: run.body._id, series: [series('train', 'loss', 19_990, 20, () => 0.001)] });
      const gap = await as(ada).post('/metrics', {
        run: run.body._id,
        series: [series('train', 'loss', 30_000, 5, () => 1)],
      });
      expectError(gap, 409, 'Conflict', /gap/);

      const read = await as(ada).get(`/metrics?run=${run.body._id}&type=train&name=loss&points=500`);
      expect(read.body).toMatchObject({ type: 'train', name: 'loss', count: 20_010, downsampled: true });
      expect(read.body.steps.length).toBeLessThanOrEqual(500);
      expect(read.body.steps[0]).toBe(0);
      expect(read.body.steps.at(-1)).toBe(20_009);
      expect(Math.max(...read.body.values)).toBe(50);
      const zoom = await as(ada).get(
        `/metrics?run=${run.body._id}&type=train&name=loss&fromStep=100&toStep=199&withTimes=true`,
      );
      expect(zoom.body.steps).toHaveLength(100);
      expect(zoom.body.epochs[0]).toBe(1);
      expect(typeof zoom.body.times[0]).toBe('number');

      const list = await as(ada).get(`/metrics?run=${run.body._id}`);
      expect(list.body.map((each: { type: string; name: string }) => `${each.type}/${each.name}`)).toEqual([
        'train/loss',
        'val/acc',
      ]);
      const summary = (await as(ada).get(`/runs/${run.body._id}`)).body.metrics;
      expect(summary.train.loss).toMatchObject({ count: 20_010, last: 0.001, max: 50, step: 20_009 });
    });

    it('lets runs be filtered on hparams and sorted on a metric summary', async () => {
      const ids: string[] = [];
      for (const [index, accuracy] of [0.7, 0.9, 0.8].entries()) {
        const run = await as(ada).post('/runs', {
          name: `sweep-${index}`,
          folder: 'sweep',
          makeFolder: true,
          hparams: { lr: 0.01 * (index + 1) },
        });
        ids.push(run.body._id);
        await as(ada).post('/metrics', {
          run: run.body._id,
          series: [series('val', 'accuracy', 0, 3, () => accuracy)],
        });
      }
      const sorted = await as(ada).get(
        '/runs?folder=/ada@example.org/sweep&hparams.lr[$gte]=0.015&$sort[metrics.val.accuracy.last]=-1&$select[]=name',
      );
      expect(sorted.body.data.map((run: { name: string }) => run.name)).toEqual(['sweep-1', 'sweep-2']);
    });

    it('sends points to the sockets that may read the run, and to no one else', async () => {
      const run = await as(ada).post('/runs', { name: 'live', folder: 'metrics' });
      const adaClient = await socketClient('ada@example.org');
      const eveClient = await socketClient('eve@example.org');
      const eveSaw: unknown[] = [];
      eveClient.service('metrics').on('points', (event: unknown) => eveSaw.push(event));
      const received = new Promise<any>((resolve) => adaClient.service('metrics').on('points', resolve));
      await as(ada).post('/metrics', { run: run.body._id, series: [series('train', 'loss', 0, 3, (s) => s)] });
      const event = await received;
      expect(event).toMatchObject({
        run: run.body._id,
        series: [{ type: 'train', name: 'loss', offset: 0, steps: [0, 1, 2], values: [0, 1, 2] }],
      });
      // A later event to Eve herself proves her socket works and got nothing before it.
      const eveRun = await as(eve).post('/runs', { name: 'mine' });
      const eveOwn = new Promise<any>((resolve) => eveClient.service('metrics').on('points', resolve));
      await as(eve).post('/metrics', { run: eveRun.body._id, series: [series('train', 'loss', 0, 1, () => 1)] });
      expect((await eveOwn).run).toBe(eveRun.body._id);
      expect(eveSaw).toHaveLength(1);
    });

    it("guards metrics by the run's permissions and refuses malformed batches", async () => {
      const run = await as(ada).post('/runs', { name: 'private', folder: 'metrics' });
      const batch = { run: run.body._id, series: [series('train', 'loss', 0, 2, () => 1)] };
      expectError(await as(eve).post('/metrics', batch), 404, 'NotFound', /No run/);
      expectError(await as(eve).get(`/metrics?run=${run.body._id}`), 404, 'NotFound', /No run/);
      const bad = (series: unknown) => as(ada).post('/metrics', { run: run.body._id, series });
      expectError(
        await bad([{ type: 'train', name: 'loss', offset: 0, steps: [1, 2], values: [1] }]),
        400,
        'BadRequest',
        /values must be an array of 2/,
      );
      expectError(
        await bad([{ type: 'train', name: 'loss', offset: 0, steps: [1], values: ['1'] }]),
        400,
        'BadRequest',
        /finite number/,
      );
      expectError(
        await bad([{ type: 'train', name: 'a.b', offset: 0, steps: [1], values: [1] }]),
        400,
        'BadRequest',
        /name/,
      );
      expectError(
        await bad([{ type: 'train', name: 'loss', offset: -1, steps: [1], values: [1] }]),
        400,
        'BadRequest',
        /offset/,
      );
      expectError(await bad([]), 400, 'BadRequest', /series/);
      expectError(await as(ada).post('/metrics', { series: [] }), 400, 'BadRequest', /run/);
      expectError(
        await as(ada).get(`/metrics?run=${run.body._id}&type=train&name=loss&points=1`),
        400,
        'BadRequest',
        /points/,
      );
      // Nothing of the refused batches was stored.
      expect((await as(ada).get(`/metrics?run=${run.body._id}`)).body).toEqual([]);
    });

    it('takes points as binary float64 columns too, and refuses malformed ones', async () => {
      const run = await as(ada).post('/runs', { name: 'binary', folder: 'metrics' });
      const body = encodeMetricColumns(run.body._id, [
        {
          type: 'train',
          name: 'loss',
          offset: 0,
          steps: Float64Array.from([0, 1, 2]),
          values: Float64Array.from([3, Number.NaN, 1]),
        },
      ]);
      const post = (bytes: Uint8Array, token?: string) =>
        fetch(`${server.url}/metrics`, {
          method: 'POST',
          headers: { 'content-type': METRIC_COLUMNS_TYPE, ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: bytes as unknown as RequestInit['body'],
        });
      const sent = await post(body, ada.token);
      expect(sent.status).toBe(201);
      expect(((await sent.json()) as { series: unknown[] }).series).toEqual([
        expect.objectContaining({ count: 3, last: 1, min: 1, max: 3 }),
      ]);
      const read = await as(ada).get(`/metrics?run=${run.body._id}&type=train&name=loss`);
      expect(read.body.values).toEqual([3, null, 1]);
      expect((await post(body)).status).toBe(401);
      expect((await post(body, eve.token)).status).toBe(404);
      const garbled = await post(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), ada.token);
      expect(garbled.status).toBe(400);
      expect(((await garbled.json()) as { message: string }).message).toMatch(/malformed/);
      const infinite = encodeMetricColumns(run.body._id, [
        {
          type: 'train',
          name: 'loss',
          offset: 3,
          steps: Float64Array.from([Number.POSITIVE_INFINITY]),
          values: Float64Array.from([1]),
        },
      ]);
      expect((await post(infinite, ada.token)).status).toBe(400);
      expect((await as(ada).get(`/metrics?run=${run.body._id}`)).body[0].count).toBe(3);
    });

    it('removing a run removes its points', async () => {
      const run = await as(ada).post('/runs', { name: 'doomed', folder: 'metrics' });
      await as(ada).post('/metrics', { run: run.body._id, series: [series('train', 'loss', 0, 10, () => 1)] });
      await as(ada).del(`/runs/${run.body._id}`);
      // Only an admin may choose the id again (ordinary users never choose ids).
      const again = await server.request('POST', '/runs', {
        token: server.adminToken,
        body: { name: 'doomed', folder: '/ada@example.org/metrics', _id: run.body._id },
      });
      expect(again.status).toBe(201);
      expect((await as(ada).get(`/metrics?run=${run.body._id}`)).body).toEqual([]);
    });
  });
});
