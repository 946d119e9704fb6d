/**
 * The storage lifecycle over real HTTP: records hold the blobs they name, deleting or
 * changing a record lets garbage collection reclaim the bytes, recent uploads survive,
 * and chunked uploads are joined by `POST /blobs/compose`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.each(TEST_STORES)('blob lifecycle on %s', (store) => {
  let server: TestServer;
  let admin: string;
  let ada: { id: string; token: string };
  let bob: { id: string; token: string };

  beforeAll(async () => {
    server = await startTestServer({ store, gcIntervalMs: 0 });
    admin = server.adminToken as string;
    ada = await server.createUser('ada@example.org');
    bob = await server.createUser('bob@example.org');
  });
  afterAll(() => server.close());

  async function upload(token: string, bytes: Buffer): Promise<{ sha256: string; size: number }> {
    const response = await fetch(`${server.url}/blobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: bytes,
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { sha256: string; size: number };
  }

  const collect = (body: Record<string, unknown> = { graceSeconds: 0 }) =>
    server.request('POST', '/blobs/gc', { token: admin, body });
  const adminCanRead = async (hash: string) =>
    (await server.request('HEAD', `/blobs/${hash}`, { token: admin })).status;
  const blobFile = (hash: string) => join(server.dataDir, 'blobs', 'sha256', hash.slice(0, 2), hash);

  it('keeps a blob while a record names it and reclaims it once the record is deleted', async () => {
    const bytes = randomBytes(300_000);
    const blob = await upload(ada.token, bytes);
    const record = await server.request('POST', '/experiments', {
      token: ada.token,
      body: { name: 'first', weights: { sha256: blob.sha256, size: blob.size } },
    });
    expect(record.status).toBe(201);

    const kept = await collect();
    expect(kept.status).toBe(200);
    expect(kept.body.referenced).toBeGreaterThanOrEqual(1);
    expect(await adminCanRead(blob.sha256)).toBe(200);

    expect((await server.request('DELETE', `/experiments/${record.body._id}`, { token: ada.token })).status).toBe(200);
    const swept = await collect();
    expect(swept.body.deleted).toBeGreaterThanOrEqual(1);
    expect(swept.body.bytesFreed).toBeGreaterThanOrEqual(bytes.length);
    expect(await adminCanRead(blob.sha256)).toBe(404);
    expect((await server.request('GET', `/blobs/${blob.sha256}`, { token: ada.token })).status).toBe(404);
    await expect(access(blobFile(blob.sha256))).rejects.toThrow();
  });

  it('keeps a recent unreferenced upload through the grace period, and not after', async () => {
    const blob = await upload(ada.token, randomBytes(1000));
    const withGrace = await collect({ graceSeconds: 3600 });
    expect(withGrace.body.recent).toBeGreaterThanOrEqual(1);
    expect(await adminCanRead(blob.sha256)).toBe(200);
    await collect();
    expect(await adminCanRead(blob.sha256)).toBe(404);
  });

  it('a dry run reports without deleting', async () => {
    const bytes = randomBytes(5000);
    const blob = await upload(ada.token, bytes);
    const dry = await collect({ graceSeconds: 0, dryRun: true });
    expect(dry.body).toMatchObject({ dryRun: true });
    expect(dry.body.deleted).toBeGreaterThanOrEqual(1);
    expect(await adminCanRead(blob.sha256)).toBe(200);
    await collect();
    expect(await adminCanRead(blob.sha256)).toBe(404);
  });

  it('a blob named by two records, of two users, goes only when both are gone', async () => {
    const blob = await upload(ada.token, randomBytes(2000));
    await upload(bob.token, Buffer.from(await (await fetchBlob(ada.token, blob.sha256)).arrayBuffer()));
    const first = await server.request('POST', '/notes', { token: ada.token, body: { file: blob } });
    const second = await server.request('POST', '/notes', { token: bob.token, body: { files: [{ ...blob }] } });
    await server.request('DELETE', `/notes/${first.body._id}`, { token: ada.token });
    await collect();
    expect(await adminCanRead(blob.sha256)).toBe(200);
    await server.request('DELETE', `/notes/${second.body._id}`, { token: bob.token });
    await collect();
    expect(await adminCanRead(blob.sha256)).toBe(404);
  });

  it('patch and update move references: the replaced blob goes, the new one stays', async () => {
    const old = await upload(ada.token, randomBytes(700));
    const replacement = await upload(ada.token, randomBytes(800));
    const record = await server.request('POST', '/checkpoints', { token: ada.token, body: { checkpoint: old } });
    await server.request('PATCH', `/checkpoints/${record.body._id}`, {
      token: ada.token,
      body: { checkpoint: replacement },
    });
    await collect();
    expect(await adminCanRead(old.sha256)).toBe(404);
    expect(await adminCanRead(replacement.sha256)).toBe(200);
    const third = await upload(ada.token, randomBytes(900));
    const replaced = await server.request('PUT', `/checkpoints/${record.body._id}`, {
      token: ada.token,
      body: { best: third },
    });
    expect(replaced.status).toBe(200);
    await collect();
    expect(await adminCanRead(replacement.sha256)).toBe(404);
    expect(await adminCanRead(third.sha256)).toBe(200);
  });

  it('multi-record patch and remove keep references in step', async () => {
    const a = await upload(ada.token, randomBytes(600));
    const b = await upload(ada.token, randomBytes(601));
    await server.request('POST', '/batches', { token: ada.token, body: [{ group: 1 }, { group: 1 }] });
    const patched = await server.request('PATCH', '/batches?group=1', { token: ada.token, body: { data: a } });
    expect(patched.body).toHaveLength(2);
    await collect();
    expect(await adminCanRead(a.sha256)).toBe(200);
    expect(await adminCanRead(b.sha256)).toBe(404);
    await server.request('DELETE', '/batches?group=1', { token: ada.token });
    await collect();
    expect(await adminCanRead(a.sha256)).toBe(404);
  });

  it('a failed write adds no reference', async () => {
    const blob = await upload(ada.token, randomBytes(650));
    const record = await server.request('POST', '/owned', { token: ada.token, body: { x: 1 } });
    // Bob may not change Ada's record: his patch naming the blob must not keep it alive.
    const refused = await server.request('PATCH', `/owned/${record.body._id}`, { token: bob.token, body: { f: blob } });
    expect(refused.status).toBe(404);
    // Only an admin may choose an id; a taken one fails the write.
    const duplicate = await server.request('POST', '/owned', {
      token: server.adminToken,
      body: { _id: record.body._id, f: blob },
    });
    expect(duplicate.status).toBe(409);
    await collect();
    expect(await adminCanRead(blob.sha256)).toBe(404);
  });

  it('only administrators collect, and bad options are refused', async () => {
    const asAda = await server.request('POST', '/blobs/gc', { token: ada.token, body: {} });
    expectError(asAda, 403, 'Forbidden', /administrators/);
    expectError(await server.request('POST', '/blobs/gc', { body: {} }), 401, 'NotAuthenticated', /./);
    expectError(await collect({ graceSeconds: -1 }), 400, 'BadRequest', /graceSeconds/);
    expectError(await collect({ graceSeconds: 'soon' }), 400, 'BadRequest', /graceSeconds/);
    expectError(await collect({ dryRun: 'yes' }), 400, 'BadRequest', /dryRun/);
    const garbled = await server.request('POST', '/blobs/gc', { token: admin, raw: '{not json' });
    expectError(garbled, 400, 'BadRequest', /not valid JSON/);
  });

  it('composes uploaded parts into one blob, byte-identical', async () => {
    const parts = [randomBytes(100_000), randomBytes(50_000), randomBytes(1)];
    const hashes = [];
    for (const part of parts) hashes.push((await upload(ada.token, part)).sha256);
    const whole = Buffer.concat(parts);
    const composed = await server.request('POST', '/blobs/compose', {
      token: ada.token,
      body: { parts: [...hashes, hashes[0]], sha256: sha256(Buffer.concat([whole, parts[0] as Buffer])) },
    });
    expect(composed.status).toBe(201);
    expect(composed.body.size).toBe(whole.length + 100_000);
    const download = Buffer.from(await (await fetchBlob(ada.token, composed.body.sha256)).arrayBuffer());
    expect(sha256(download)).toBe(composed.body.sha256);
    expect(download.subarray(0, whole.length).equals(whole)).toBe(true);
  });

  it('refuses to compose parts the caller has not uploaded, or a wrong expected hash', async () => {
    const mine = await upload(ada.token, randomBytes(1234));
    const compose = (token: string | undefined, body: unknown) =>
      server.request('POST', '/blobs/compose', { ...(token ? { token } : {}), body });
    expectError(await compose(bob.token, { parts: [mine.sha256] }), 400, 'BadRequest', /not a blob you have uploaded/);
    const wrongHash = await compose(ada.token, { parts: [mine.sha256], sha256: '0'.repeat(64) });
    expectError(wrongHash, 400, 'BadRequest', /hash|SHA-256/i);
    expectError(await compose(ada.token, { parts: [] }), 400, 'BadRequest', /non-empty array/);
    expectError(await compose(ada.token, { parts: ['../x'] }), 400, 'BadRequest', /non-empty array/);
    expectError(await compose(undefined, { parts: [mine.sha256] }), 401, 'NotAuthenticated', /./);
    // Nothing was stored under the wrong hash.
    expect(await adminCanRead('0'.repeat(64))).toBe(404);
  });

  it("answers a compose naming a whole its caller holds at once, but never lends another user's whole", async () => {
    const parts = [randomBytes(70_000), randomBytes(30_000)];
    const whole = Buffer.concat(parts);
    const adaParts = [];
    for (const part of parts) adaParts.push((await upload(ada.token, part)).sha256);
    const compose = (token: string, body: unknown) => server.request('POST', '/blobs/compose', { token, body });
    const first = await compose(ada.token, { parts: adaParts, sha256: sha256(whole) });
    expect(first.status).toBe(201);
    // Ada holds the whole now: composing it again joins nothing and answers the same.
    const again = await compose(ada.token, { parts: adaParts, sha256: sha256(whole) });
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ sha256: sha256(whole), size: whole.length });

    // Bob names Ada's whole with parts of his own that are something else: refused, and
    // Bob still cannot read Ada's blob.
    const decoy = (await upload(bob.token, randomBytes(10_000))).sha256;
    const borrowed = await compose(bob.token, { parts: [decoy], sha256: sha256(whole) });
    expectError(borrowed, 400, 'BadRequest', /hash|SHA-256/i);
    expect((await fetchBlob(bob.token, sha256(whole))).status).toBe(404);
    // With the very bytes as his own parts, Bob proves he has them and may hold the whole.
    const bobParts = [];
    for (const part of parts) bobParts.push((await upload(bob.token, part)).sha256);
    const proven = await compose(bob.token, { parts: bobParts, sha256: sha256(whole) });
    expect(proven.status).toBe(201);
    expect(Buffer.from(await (await fetchBlob(bob.token, sha256(whole))).arrayBuffer()).equals(whole)).toBe(true);
  });

  function fetchBlob(token: string, hash: string) {
    return fetch(`${server.url}/blobs/${hash}`, { headers: { authorization: `Bearer ${token}` } });
  }
});
