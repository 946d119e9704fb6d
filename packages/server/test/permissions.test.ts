/**
 * Permissions over HTTP with auth on: who may call at all, what one user may see and change
 * of another's records, blobs, API keys and account, and what the admin sees. Every refusal
 * is a Feathers error and leaves the other user's data as it was.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type Answer, expectError, sha256 } from './support/expect-error.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

describe.each(TEST_STORES)('permissions on %s', (store) => {
  type User = { id: string; token: string; email: string };

  const SIGN_IN_FIRST = /Sign in first/;
  const octets = { 'content-type': 'application/octet-stream' };

  let server: TestServer;
  let alice: User;
  let bob: User;
  /** Alice's private record, her public one, and Bob's own, as last read by their owners. */
  let alicePrivate: Record<string, unknown>;
  let alicePublic: Record<string, unknown>;
  let bobOwn: Record<string, unknown>;

  beforeAll(async () => {
    server = await startTestServer({ store });
    alice = await server.createUser('alice@example.com');
    bob = await server.createUser('bob@example.com');
  });

  afterAll(async () => {
    await server?.close();
  });

  /** Fresh records in `notes` for every test, so that no test depends on another. */
  beforeEach(async () => {
    const removed = await server.request('DELETE', '/notes', { token: server.adminToken });
    expect(removed.status).toBe(200);
    const created = await server.request('POST', '/notes', {
      token: alice.token,
      body: [
        { title: 'alice private', secret: 42 },
        { title: 'alice public', public: true },
      ],
    });
    expect(created.status).toBe(201);
    [alicePrivate, alicePublic] = created.body;
    const own = await server.request('POST', '/notes', { token: bob.token, body: { title: 'bob own' } });
    expect(own.status).toBe(201);
    bobOwn = own.body;
  });

  /** Alice's records, read back by Alice. */
  async function aliceRecords(): Promise<unknown[]> {
    const page = await server.request('GET', '/notes?$sort[_id]=1', { token: alice.token });
    expect(page.status).toBe(200);
    return page.body.data.filter((record: { userId: string }) => record.userId === alice.id);
  }

  async function expectAliceUnchanged(): Promise<void> {
    expect(await aliceRecords()).toEqual(
      [alicePrivate, alicePublic].sort((a, b) => (String(a._id) < String(b._id) ? -1 : 1)),
    );
  }

  describe('callers without valid credentials', () => {
    test('no token: 401 on every method of a dynamic service and on /info, /whoami, /blobs', async () => {
      const id = String(alicePrivate._id);
      const calls: [string, string, unknown?][] = [
        ['GET', '/notes'],
        ['GET', `/notes/${id}`],
        ['POST', '/notes', { title: 'anonymous' }],
        ['PUT', `/notes/${id}`, { title: 'anonymous' }],
        ['PATCH', `/notes/${id}`, { title: 'anonymous' }],
        ['PATCH', '/notes', { title: 'anonymous' }],
        ['DELETE', `/notes/${id}`],
        ['DELETE', '/notes'],
        ['GET', '/info'],
        ['GET', '/whoami'],
        ['GET', `/blobs/${'0'.repeat(64)}`],
        ['HEAD', `/blobs/${'0'.repeat(64)}`],
        ['GET', '/api-keys'],
        ['GET', '/users'],
      ];
      for (const [method, path, body] of calls) {
        const answer = await server.request(method, path, body === undefined ? {} : { body });
        if (method === 'HEAD') expect(answer.status).toBe(401);
        else expectError(answer, 401, 'NotAuthenticated', SIGN_IN_FIRST);
      }
      const upload = await server.request('POST', '/blobs', { raw: 'anonymous bytes', headers: octets });
      expectError(upload, 401, 'NotAuthenticated', SIGN_IN_FIRST);
      expect(
        (await server.request('HEAD', `/blobs/${sha256('anonymous bytes')}`, { token: server.adminToken })).status,
      ).toBe(404);
      await expectAliceUnchanged();
    });

    test('a garbage token, a malformed JWT and a JWT with a forged signature are 401s', async () => {
      const [header, payload] = alice.token.split('.') as [string, string];
      const tokens: [string, RegExp][] = [
        ['garbage', /jwt malformed/],
        ['eyJhbGciOiJIUzI1NiJ9.not-json.sig', /invalid signature|invalid token|malformed/],
        [`${header}.${payload}.${'A'.repeat(43)}`, /invalid signature/],
        ['lk_not-a-real-key', /API key is unknown or was revoked/],
      ];
      for (const [token, message] of tokens) {
        for (const [method, path] of [
          ['GET', '/notes'],
          ['DELETE', `/notes/${alicePrivate._id}`],
          ['GET', '/info'],
          ['GET', '/whoami'],
          ['GET', `/blobs/${'0'.repeat(64)}`],
        ] as const) {
          expectError(await server.request(method, path, { token }), 401, 'NotAuthenticated', message);
        }
      }
      await expectAliceUnchanged();
    });

    test('a revoked API key stops working at once', async () => {
      const key = await server.request('POST', '/api-keys', { token: alice.token, body: { name: 'laptop' } });
      expect(key.status).toBe(201);
      expect(key.body.token).toMatch(/^lk_/);
      const before = await server.request('GET', `/notes/${alicePrivate._id}`, { token: key.body.token });
      expect(before).toMatchObject({ status: 200, body: alicePrivate });
      const revoked = await server.request('DELETE', `/api-keys/${key.body._id}`, { token: alice.token });
      expect(revoked.status).toBe(200);
      expect(revoked.body.token).toBeUndefined();
      for (const [method, path] of [
        ['GET', `/notes/${alicePrivate._id}`],
        ['DELETE', `/notes/${alicePrivate._id}`],
        ['GET', '/whoami'],
        ['GET', `/blobs/${'0'.repeat(64)}`],
      ] as const) {
        expectError(
          await server.request(method, path, { token: key.body.token }),
          401,
          'NotAuthenticated',
          /API key is unknown or was revoked/,
        );
      }
      await expectAliceUnchanged();
    });
  });

  describe("one user and another's records", () => {
    test("Bob cannot get, update, patch or remove Alice's private record: 404, data intact", async () => {
      const path = `/notes/${alicePrivate._id}`;
      const notFound = new RegExp(`No record found for id '${alicePrivate._id}'`);
      expectError(await server.request('GET', path, { token: bob.token }), 404, 'NotFound', notFound);
      expectError(
        await server.request('PUT', path, { token: bob.token, body: { title: 'taken' } }),
        404,
        'NotFound',
        notFound,
      );
      expectError(
        await server.request('PATCH', path, { token: bob.token, body: { title: 'taken' } }),
        404,
        'NotFound',
        notFound,
      );
      expectError(await server.request('DELETE', path, { token: bob.token }), 404, 'NotFound', notFound);
      // Naming the record in a query does not help either.
      const byQuery = await server.request('PATCH', `/notes?_id=${alicePrivate._id}`, {
        token: bob.token,
        body: { title: 'taken' },
      });
      expect(byQuery).toMatchObject({ status: 200, body: [] });
      await expectAliceUnchanged();
    });

    test("Bob's find does not count Alice's private record, even when he asks for it", async () => {
      const all = await server.request('GET', '/notes', { token: bob.token });
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(2);
      expect(all.body.data.map((record: { _id: string }) => record._id).sort()).toEqual(
        [String(alicePublic._id), String(bobOwn._id)].sort(),
      );
      const asked = await server.request('GET', `/notes?secret=42&$limit=0`, { token: bob.token });
      expect(asked.body).toMatchObject({ total: 0, data: [] });
      const distinct = await server.request('GET', '/notes?$distinct=title', { token: bob.token });
      expect(distinct.status).toBe(200);
      expect(distinct.body).not.toContain('alice private');
      await expectAliceUnchanged();
    });

    test("Bob reads Alice's public record but cannot update, patch or remove it: 403", async () => {
      const path = `/notes/${alicePublic._id}`;
      expect(await server.request('GET', path, { token: bob.token })).toMatchObject({ status: 200, body: alicePublic });
      const forbidden = new RegExp(`You may read but not change record ${alicePublic._id}`);
      expectError(
        await server.request('PUT', path, { token: bob.token, body: { title: 'taken', public: true } }),
        403,
        'Forbidden',
        forbidden,
      );
      expectError(
        await server.request('PATCH', path, { token: bob.token, body: { title: 'taken' } }),
        403,
        'Forbidden',
        forbidden,
      );
      expectError(await server.request('DELETE', path, { token: bob.token }), 403, 'Forbidden', forbidden);
      await expectAliceUnchanged();
    });

    test("Bob's multi patch and multi remove with an empty query touch only his records", async () => {
      const patched = await server.request('PATCH', '/notes', { token: bob.token, body: { title: 'all mine' } });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual([expect.objectContaining({ _id: bobOwn._id, title: 'all mine', userId: bob.id })]);
      await expectAliceUnchanged();
      const removed = await server.request('DELETE', '/notes', { token: bob.token });
      expect(removed.status).toBe(200);
      expect(removed.body.map((record: { _id: string }) => record._id)).toEqual([bobOwn._id]);
      await expectAliceUnchanged();
    });

    test("Bob cannot create records in Alice's name nor hand his records to her", async () => {
      const created = await server.request('POST', '/notes', {
        token: bob.token,
        body: [
          { title: 'forged', userId: alice.id },
          { title: 'forged too', userId: alice.id },
        ],
      });
      expect(created.status).toBe(201);
      expect(created.body.map((record: { userId: string }) => record.userId)).toEqual([bob.id, bob.id]);
      for (const body of [{ userId: alice.id }, { userId: alice.id, title: 'given away' }]) {
        const patched = await server.request('PATCH', `/notes/${bobOwn._id}`, { token: bob.token, body });
        expect(patched.status).toBe(200);
        expect(patched.body.userId).toBe(bob.id);
      }
      const replaced = await server.request('PUT', `/notes/${bobOwn._id}`, {
        token: bob.token,
        body: { title: 'replaced', userId: alice.id },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.userId).toBe(bob.id);
      const multi = await server.request('PATCH', '/notes', { token: bob.token, body: { userId: alice.id } });
      expect(multi.body.every((record: { userId: string }) => record.userId === bob.id)).toBe(true);
      // Alice still owns exactly her two records.
      await expectAliceUnchanged();
    });

    test('the admin sees, changes and removes everything', async () => {
      const all = await server.request('GET', '/notes', { token: server.adminToken });
      expect(all.body.total).toBe(3);
      expect(await server.request('GET', `/notes/${alicePrivate._id}`, { token: server.adminToken })).toMatchObject({
        status: 200,
        body: alicePrivate,
      });
      const patched = await server.request('PATCH', `/notes/${alicePrivate._id}`, {
        token: server.adminToken,
        body: { reviewed: true },
      });
      expect(patched.body).toMatchObject({ reviewed: true, userId: alice.id });
      const removed = await server.request('DELETE', `/notes/${bobOwn._id}`, { token: server.adminToken });
      expect(removed.status).toBe(200);
    });
  });

  describe('blobs', () => {
    test("Bob cannot read or probe Alice's blob until he uploads the same bytes himself", async () => {
      const bytes = `alice's private bytes ${alicePrivate._id}`;
      const upload = await server.request('POST', '/blobs', { token: alice.token, raw: bytes, headers: octets });
      expect(upload.status).toBe(201);
      const hash = upload.body.sha256 as string;
      expect(hash).toBe(sha256(bytes));
      const absent = sha256(`never uploaded ${alicePrivate._id}`);

      const stranger = await server.request('GET', `/blobs/${hash}`, { token: bob.token });
      const nothing = await server.request('GET', `/blobs/${absent}`, { token: bob.token });
      expectError(stranger, 404, 'NotFound', /that you may read/);
      // Indistinguishable from a hash nobody uploaded: same status, same message but the hash.
      expect({ ...stranger.body, message: stranger.body.message.replace(hash, 'H') }).toEqual({
        ...nothing.body,
        message: nothing.body.message.replace(absent, 'H'),
      });
      const probe = await server.request('HEAD', `/blobs/${hash}`, { token: bob.token });
      const probeNothing = await server.request('HEAD', `/blobs/${absent}`, { token: bob.token });
      expect([probe.status, probeNothing.status]).toEqual([404, 404]);
      expect(probe.headers.get('etag')).toBeNull();
      expect(probe.headers.get('content-length')).toBe(probeNothing.headers.get('content-length'));

      expect(await server.request('GET', `/blobs/${hash}`, { token: alice.token })).toMatchObject({
        status: 200,
        body: bytes,
      });
      expect(await server.request('GET', `/blobs/${hash}`, { token: server.adminToken })).toMatchObject({
        status: 200,
        body: bytes,
      });

      const again = await server.request('POST', '/blobs', { token: bob.token, raw: bytes, headers: octets });
      expect(again).toMatchObject({ status: 201, body: { sha256: hash, size: Buffer.byteLength(bytes) } });
      expect(await server.request('GET', `/blobs/${hash}`, { token: bob.token })).toMatchObject({
        status: 200,
        body: bytes,
      });
      expect((await server.request('HEAD', `/blobs/${hash}`, { token: bob.token })).status).toBe(200);
    });
  });

  describe('API keys', () => {
    test("Bob can neither list nor revoke Alice's API keys", async () => {
      const key = await server.request('POST', '/api-keys', { token: alice.token, body: { name: 'alice ci' } });
      expect(key.status).toBe(201);
      const listed = await server.request('GET', '/api-keys', { token: bob.token });
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((record: { _id: string }) => record._id)).not.toContain(key.body._id);
      expectError(
        await server.request('GET', `/api-keys/${key.body._id}`, { token: bob.token }),
        404,
        'NotFound',
        /No record found/,
      );
      expectError(
        await server.request('DELETE', `/api-keys/${key.body._id}`, { token: bob.token }),
        404,
        'NotFound',
        /No record found/,
      );
      const multi = await server.request('DELETE', '/api-keys', { token: bob.token });
      expect(multi.body.map((record: { userId: string }) => record.userId)).not.toContain(alice.id);
      // Alice's key still works and she still sees it.
      expect((await server.request('GET', '/whoami', { token: key.body.token })).body.user._id).toBe(alice.id);
      const own = await server.request('GET', '/api-keys', { token: alice.token });
      expect(own.body.data.map((record: { _id: string }) => record._id)).toContain(key.body._id);
      expect(JSON.stringify(own.body)).not.toContain(key.body.token);
      expect(
        (await server.request('GET', '/api-keys', { token: server.adminToken })).body.data.map(
          (r: { _id: string }) => r._id,
        ),
      ).toContain(key.body._id);
    });
  });

  describe('user accounts', () => {
    test('a user cannot make themselves admin', async () => {
      for (const [method, body] of [
        ['PATCH', { role: 'admin' }],
        ['PUT', { email: bob.email, password: 'a new long password', role: 'admin' }],
      ] as const) {
        expectError(
          await server.request(method, `/users/${bob.id}`, { token: bob.token, body }),
          403,
          'Forbidden',
          /Only an admin can set a role/,
        );
      }
      const me = await server.request('GET', '/whoami', { token: bob.token });
      expect(me.body.user.role).toBe('user');
    });

    test('a user sees only their own account; others are 404', async () => {
      const list = await server.request('GET', '/users', { token: bob.token });
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(1);
      expect(list.body.data).toEqual([expect.objectContaining({ _id: bob.id, email: bob.email })]);
      const notFound = new RegExp(`No record found for id '${alice.id}'`);
      expectError(await server.request('GET', `/users/${alice.id}`, { token: bob.token }), 404, 'NotFound', notFound);
      expectError(
        await server.request('PATCH', `/users/${alice.id}`, {
          token: bob.token,
          body: { email: 'stolen@example.com' },
        }),
        404,
        'NotFound',
        notFound,
      );
      expectError(
        await server.request('DELETE', `/users/${alice.id}`, { token: bob.token }),
        404,
        'NotFound',
        notFound,
      );
      // Alice can still sign in with her own email and password.
      const login = await server.request('POST', '/authentication', {
        body: { strategy: 'local', email: alice.email, password: 'correct horse battery' },
      });
      expect(login.status).toBe(201);
      const admin = await server.request('GET', '/users', { token: server.adminToken });
      expect(admin.body.total).toBeGreaterThanOrEqual(3);
    });

    test('no answer about users ever carries a password', async () => {
      const carol = await server.request('POST', '/users', {
        token: server.adminToken,
        body: { email: 'carol@example.com', password: 'carol password 1' },
      });
      expect(carol.status).toBe(201);
      const login = await server.request('POST', '/authentication', {
        body: { strategy: 'local', email: 'carol@example.com', password: 'carol password 1' },
      });
      const token = login.body.accessToken as string;
      const answers: Answer[] = [
        carol,
        login,
        await server.request('GET', '/users', { token: server.adminToken }),
        await server.request('GET', `/users/${carol.body._id}`, { token: server.adminToken }),
        await server.request('GET', '/users', { token }),
        await server.request('GET', `/users/${carol.body._id}`, { token }),
        await server.request('GET', '/whoami', { token }),
        await server.request('PATCH', `/users/${carol.body._id}`, { token, body: { name: 'Carol' } }),
        await server.request('PATCH', `/users/${carol.body._id}`, {
          token,
          body: { password: 'another password', currentPassword: 'carol password 1' },
        }),
        await server.request('PUT', `/users/${carol.body._id}`, {
          token,
          body: { email: 'carol@example.com', password: 'third password', currentPassword: 'another password' },
        }),
        await server.request('PATCH', '/users', { token: server.adminToken, body: { seen: true } }),
        await server.request('DELETE', `/users/${carol.body._id}`, { token: server.adminToken }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBeLessThan(300);
        expect(JSON.stringify(answer.body)).not.toMatch(/password|\$2[aby]\$/);
      }
      // Hashes cannot be selected, listed or probed by a filter, not even by an admin.
      for (const path of [
        '/users?$select[]=password&$select[]=email',
        '/users?$distinct=password',
        '/users?password[$gt]=$2',
        '/users?$sort[password]=1',
      ]) {
        const refused = await server.request('GET', path, { token: server.adminToken });
        expect(refused.status).toBe(400);
        expect(JSON.stringify(refused.body)).not.toMatch(/\$2[aby]\$/);
      }
    });

    test('an e-mail belongs to one account, and changing it or the password asks for the current password', async () => {
      const make = async (email: string) => {
        const made = await server.request('POST', '/users', {
          token: server.adminToken,
          body: { email, password: 'a long password' },
        });
        expect(made.status).toBe(201);
        const login = await server.request('POST', '/authentication', {
          body: { strategy: 'local', email, password: 'a long password' },
        });
        return { id: made.body._id as string, token: login.body.accessToken as string };
      };
      const dan = await make('dan@example.com');
      const erin = await make('erin@example.com');
      const taken = await server.request('POST', '/users', {
        token: server.adminToken,
        body: { email: 'DAN@example.com', password: 'a long password' },
      });
      expect(taken.status).toBe(409);
      // Taking Dan's address, with or without the right password, in any case of letters.
      for (const email of ['dan@example.com', 'Dan@Example.COM']) {
        const stolen = await server.request('PATCH', `/users/${erin.id}`, {
          token: erin.token,
          body: { email, currentPassword: 'a long password' },
        });
        expect(stolen.status).toBe(409);
      }
      const unproven = await server.request('PATCH', `/users/${erin.id}`, {
        token: erin.token,
        body: { email: 'erin2@example.com' },
      });
      expect(unproven.status).toBe(400);
      expect(unproven.body.message).toMatch(/currentPassword/);
      const wrong = await server.request('PATCH', `/users/${erin.id}`, {
        token: erin.token,
        body: { password: 'hijacked password', currentPassword: 'not my password' },
      });
      expect(wrong.status).toBe(400);
      const moved = await server.request('PATCH', `/users/${erin.id}`, {
        token: erin.token,
        body: { email: 'erin2@example.com', currentPassword: 'a long password' },
      });
      expect(moved.status).toBe(200);
      // Dan still signs in as Dan; the freed address can be used again.
      const danAgain = await server.request('POST', '/authentication', {
        body: { strategy: 'local', email: 'dan@example.com', password: 'a long password' },
      });
      expect(danAgain.body.user._id).toBe(dan.id);
      const reuse = await server.request('POST', '/users', {
        token: server.adminToken,
        body: { email: 'erin@example.com', password: 'a long password' },
      });
      expect(reuse.status).toBe(201);
      // Admins change accounts without the password, but not to a taken address.
      const byAdmin = await server.request('PATCH', `/users/${dan.id}`, {
        token: server.adminToken,
        body: { email: 'erin2@example.com' },
      });
      expect(byAdmin.status).toBe(409);
    });

    test('POST /users without a token is refused when open sign-up is off', async () => {
      const answer = await server.request('POST', '/users', {
        body: { email: 'mallory@example.com', password: 'mallory password' },
      });
      expect([401, 403]).toContain(answer.status);
      expect(answer.body.message).toMatch(/Sign in first|may not create/);
      const users = await server.request('GET', '/users?email=mallory@example.com', { token: server.adminToken });
      expect(users.body.total).toBe(0);
      // A signed-in non-admin may not create accounts either.
      expectError(
        await server.request('POST', '/users', {
          token: bob.token,
          body: { email: 'mallory@example.com', password: 'mallory password' },
        }),
        403,
        'Forbidden',
        /may not create records/,
      );
    });

    test('with open sign-up, anyone creates an account, but never an admin one', async () => {
      const open = await startTestServer({ store, openSignup: true });
      try {
        const created = await open.request('POST', '/users', {
          body: { email: 'dana@example.com', password: 'dana password' },
        });
        expect({ status: created.status, body: created.body }).toMatchObject({
          status: 201,
          body: { email: 'dana@example.com', role: 'user' },
        });
        expect(JSON.stringify(created.body)).not.toMatch(/password/);
        expectError(
          await open.request('POST', '/users', {
            body: { email: 'eve@example.com', password: 'eve password', role: 'admin' },
          }),
          403,
          'Forbidden',
          /Only an admin can set a role/,
        );
        const all = await open.request('GET', '/users', { token: open.adminToken });
        expect(all.body.data.map((user: { email: string }) => user.email).sort()).toEqual([
          'admin@localhost',
          'dana@example.com',
        ]);
      } finally {
        await open.close();
      }
    });
  });
});
