/**
 * A run's images and histograms over real HTTP, with two users: written by whoever may log
 * to the run, read by whoever may read it, through the one blob-naming check (a record can
 * name only bytes its writer uploaded); another user's media can be neither read nor
 * detected; an entry sent twice is stored once; removing the run removes them.
 */
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

describe.each(TEST_STORES)('run media on %s', (store) => {
  let server: TestServer;
  let ada: { id: string; token: string };
  let eve: { id: string; token: string };

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org');
    eve = await server.createUser('eve@example.org');
  });
  afterAll(() => server.close());

  const call = (user: { token: string } | undefined, method: string, path: string, body?: unknown) =>
    server.request(method, path, { ...(user ? { token: user.token } : {}), ...(body === undefined ? {} : { body }) });
  async function upload(user: { token: string }, bytes: Buffer) {
    const response = await fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
      body: bytes,
    });
    return (await response.json()) as { sha256: string; size: number };
  }
  const png = (colour: string) =>
    sharp({ create: { width: 8, height: 6, channels: 3, background: colour } })
      .png()
      .toBuffer();
  const histogram = (run: string, key: string, step: number) => ({
    run,
    key,
    name: 'dense/kernel',
    step,
    min: -1,
    max: 1,
    counts: [1, 3, 1],
    count: 5,
    sum: 0,
    sumSquares: 2,
    nonFinite: 0,
  });

  it('stores images naming uploaded bytes and serves them to readers of the run', async () => {
    const run = (await call(ada, 'POST', '/runs', { name: 'vision', folder: 'media', makeFolder: true })).body;
    const bytes = await png('#3366aa');
    const blob = await upload(ada, bytes);
    const created = await call(ada, 'POST', '/run-images', [
      { run: run._id, key: 'k0', name: 'samples', step: 0, caption: 'first', image: blob, width: 8, height: 6 },
      { run: run._id, key: 'k1', name: 'samples', step: 1, image: blob },
    ]);
    expect(created.status).toBe(201);
    expect(created.body).toHaveLength(2);
    const index = await call(ada, 'GET', `/run-images?run=${run._id}`);
    expect(index.body.data.map((each: { step: number; caption?: string }) => [each.step, each.caption])).toEqual([
      [0, 'first'],
      [1, undefined],
    ]);
    const file = await fetch(`${server.url}/run-images/${index.body.data[0]._id}/file`, {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    // Sent again (a broken connection): the same records, nothing new.
    const again = await call(ada, 'POST', '/run-images', [
      { run: run._id, key: 'k1', name: 'samples', step: 1, image: blob },
    ]);
    expect(again.body[0]._id).toBe(created.body[1]._id);
    expect((await call(ada, 'GET', `/run-images?run=${run._id}&$limit=0`)).body.total).toBe(2);
  });

  it('answers a smaller copy of a large picture with ?width, and small ones as stored', async () => {
    const run = (await call(ada, 'POST', '/runs', { name: 'large', folder: 'media', makeFolder: true })).body;
    const large = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#884422' } })
      .png()
      .toBuffer();
    const small = await png('#224488');
    const records = (
      await call(ada, 'POST', '/run-images', [
        { run: run._id, key: 'l', name: 'big', step: 0, image: await upload(ada, large) },
        { run: run._id, key: 's', name: 'small', step: 0, image: await upload(ada, small) },
      ])
    ).body as { _id: string }[];
    const get = (path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ada.token}` } });
    const scaled = await get(`/run-images/${records[0]?._id}/file?width=256`);
    expect(scaled.status).toBe(200);
    expect(scaled.headers.get('content-type')).toBe('image/webp');
    const metadata = await sharp(Buffer.from(await scaled.arrayBuffer())).metadata();
    expect([metadata.width, metadata.height]).toEqual([256, 192]);
    const kept = await get(`/run-images/${records[1]?._id}/file?width=256`);
    expect(kept.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await kept.arrayBuffer()).equals(small)).toBe(true);
    for (const width of ['0', 'abc', '99999', '12']) {
      expect((await get(`/run-images/${records[0]?._id}/file?width=${width}`)).status).toBe(400);
    }
  });

  it('refuses an image record naming bytes the writer does not hold, whoever uploaded them', async () => {
    const run = (await call(eve, 'POST', '/runs', { name: 'thief', folder: 'media', makeFolder: true })).body;
    const adaBytes = await png('#aa3366');
    const adaBlob = await upload(ada, adaBytes);
    const made = { sha256: createHash('sha256').update(randomBytes(32)).digest('hex'), size: 10 };
    for (const image of [adaBlob, made]) {
      expectError(
        await call(eve, 'POST', '/run-images', { run: run._id, key: 'x', name: 'stolen', step: 0, image }),
        400,
        'BadRequest',
        /not uploaded by you/,
      );
    }
    // The wrong size of a held blob is refused too.
    const own = await upload(eve, await png('#111111'));
    expectError(
      await call(eve, 'POST', '/run-images', {
        run: run._id,
        key: 'y',
        name: 'a',
        step: 0,
        image: { ...own, size: 1 },
      }),
      400,
      'BadRequest',
      /wrong size/,
    );
    expect((await call(eve, 'GET', `/run-images?run=${run._id}&$limit=0`)).body.total).toBe(0);
  });

  it('answers another user exactly as for a run or record that does not exist', async () => {
    const run = (await call(ada, 'POST', '/runs', { name: 'private', folder: 'media', makeFolder: true })).body;
    const blob = await upload(ada, await png('#22aa22'));
    const [image] = (
      await call(ada, 'POST', '/run-images', { run: run._id, key: 'p0', name: 'samples', step: 0, image: blob })
    ).body;
    const [bins] = (await call(ada, 'POST', '/run-histograms', histogram(run._id, 'h0', 0))).body;
    const madeUpRun = '01jzzzzzzzzzzzzzzzzzzzzzzz';
    const madeUpRecord = `mi${'0'.repeat(40)}`;
    const pairs: [string, string][] = [
      [`/run-images?run=${run._id}`, `/run-images?run=${madeUpRun}`],
      [`/run-histograms?run=${run._id}`, `/run-histograms?run=${madeUpRun}`],
      [`/run-images/${image._id}`, `/run-images/${madeUpRecord}`],
      [`/run-histograms/${bins._id}`, `/run-histograms/${madeUpRecord}`],
      [`/run-images/${image._id}/file`, `/run-images/${madeUpRecord}/file`],
    ];
    for (const [real, madeUp] of pairs) {
      for (const who of [eve, undefined]) {
        const [a, b] = [await call(who, 'GET', real), await call(who, 'GET', madeUp)];
        expect(a.status, real).toBe(who ? 404 : 401);
        expect(a.status).toBe(b.status);
        const strip = (message: unknown) => String(message).replace(/[0-9a-z]{26,}/g, 'ID');
        expect(strip(a.body.message)).toBe(strip(b.body.message));
      }
    }
    // Nor can she add to it, nor learn from the answer that it exists.
    const [onReal, onMadeUp] = [
      await call(eve, 'POST', '/run-histograms', histogram(run._id, 'e0', 1)),
      await call(eve, 'POST', '/run-histograms', histogram(madeUpRun, 'e0', 1)),
    ];
    expect([onReal.status, onMadeUp.status]).toEqual([404, 404]);
    // And a query cannot widen the run she names.
    const mine = (await call(eve, 'POST', '/runs', { name: 'mine', folder: 'media', makeFolder: true })).body;
    const widened = await call(eve, 'GET', `/run-histograms?run=${mine._id}&$or[0][run]=${run._id}&$or[1][step]=0`);
    expect(widened.body.total).toBe(0);
  });

  it('lets readers of a shared folder read, and only writers log', async () => {
    const run = (await call(ada, 'POST', '/runs', { name: 'shared', folder: 'team', makeFolder: true })).body;
    await call(ada, 'POST', '/run-histograms', histogram(run._id, 's0', 0));
    const folder = (await call(ada, 'GET', `/folders?path=/ada@example.org/team`)).body.data[0];
    await call(ada, 'PATCH', `/folders/${folder._id}`, { shares: [{ principal: `user:${eve.id}`, access: 'read' }] });
    expect((await call(eve, 'GET', `/run-histograms?run=${run._id}`)).body.data[0]).toMatchObject({
      counts: [1, 3, 1],
      step: 0,
    });
    expectError(await call(eve, 'POST', '/run-histograms', histogram(run._id, 's1', 1)), 403, 'Forbidden', /not log/);
  });

  it('checks every field of a histogram and refuses what is not one, with a sentence', async () => {
    const run = (await call(ada, 'POST', '/runs', { name: 'checked', folder: 'media', makeFolder: true })).body;
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ counts: [1, 2] }, /sum of "counts"/],
      [{ counts: [] }, /1 to 1024 whole numbers/],
      [{ counts: [1.5, 3.5] }, /whole numbers/],
      [{ min: 2 }, /min ≤ max/],
      [{ step: 'x' }, /"step" is a finite number/],
      [{ key: '../x' }, /"key" is 1 to 64/],
      [{ tensor: [1, 2, 3] }, /"tensor" is not a field here/],
      [{ _id: 'mine' }, /_id|chooses record ids/],
    ];
    for (const [change, message] of bad) {
      const answer = await call(ada, 'POST', '/run-histograms', { ...histogram(run._id, 'c', 0), ...change });
      expect(answer.status, JSON.stringify(change)).toBe(400);
      expect(answer.body.message).toMatch(message);
    }
    expectError(await call(ada, 'GET', '/run-histograms'), 400, 'BadRequest', /Say which run/);
    expectError(
      await call(ada, 'POST', '/run-images', { run: run._id, key: 'i', name: 'x', step: 0, image: 'abc' }),
      400,
      'BadRequest',
      /"image" is \{ sha256, size \}/,
    );
  });

  it('removes a run’s media with the run, so the collector may take its images', async () => {
    const admin = server.adminToken as string;
    const collect = () => server.request('POST', '/blobs/gc', { token: admin, body: { graceSeconds: 0 } });
    const stored = async (sha256: string) =>
      (await server.request('HEAD', `/blobs/${sha256}`, { token: admin })).status;
    const run = (await call(ada, 'POST', '/runs', { name: 'gone', folder: 'media', makeFolder: true })).body;
    const blob = await upload(ada, randomBytes(3000));
    await call(ada, 'POST', '/run-images', { run: run._id, key: 'g', name: 'samples', step: 0, image: blob });
    await call(ada, 'POST', '/run-histograms', histogram(run._id, 'g', 0));
    await collect();
    expect(await stored(blob.sha256)).toBe(200);
    expect((await call(ada, 'DELETE', `/runs/${run._id}`)).status).toBe(200);
    await expect
      .poll(async () => {
        await collect();
        return stored(blob.sha256);
      })
      .toBe(404);
  });
});
