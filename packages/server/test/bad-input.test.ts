/**
 * Bad input over HTTP: every malformed body, query, name, id or blob request gets a
 * Feathers error with the right status and a sentence that names the problem, and leaves
 * what was stored before exactly as it was.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectError, sha256 } from './support/expect-error.js';
import { startTestServer, TEST_STORES, type TestServer } from './support/test-server.js';

describe.each(TEST_STORES)('bad input on %s', (store) => {
  const SQL_NAME = "x'); DROP TABLE documents; --";

  let server: TestServer;
  let owner: { id: string; token: string };
  let ownerBlob: string;

  /** Every service and every record in it, read as the admin. */
  async function snapshot(): Promise<Record<string, unknown[]>> {
    const info = await server.request('GET', '/info', { token: server.adminToken });
    expect(info.status).toBe(200);
    const all: Record<string, unknown[]> = {};
    for (const name of (info.body.services as string[]).sort()) {
      const page = await server.request('GET', `/${name}?$limit=1000&$sort[_id]=1`, { token: server.adminToken });
      expect(page.status).toBe(200);
      all[name] = page.body.data;
    }
    return all;
  }

  /** Runs `attempt`, then checks that no stored record changed. */
  async function leavesDataUnchanged(attempt: () => Promise<void>): Promise<void> {
    const before = await snapshot();
    await attempt();
    expect(await snapshot()).toEqual(before);
  }

  beforeAll(async () => {
    server = await startTestServer({ store });
    owner = await server.createUser('owner@example.com');
    const seeded = await server.request('POST', '/things', {
      token: owner.token,
      body: [
        { name: 'alpha', score: 1, tags: ['a'], nested: { deep: true } },
        { name: 'beta', score: 2.5, public: true },
        { name: 'gamma', score: -3, note: null },
      ],
    });
    expect(seeded.status).toBe(201);
    const blob = await server.request('POST', '/blobs', {
      token: owner.token,
      raw: 'the owner blob',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(blob.status).toBe(201);
    ownerBlob = blob.body.sha256;
  });

  afterAll(async () => {
    await server?.close();
  });

  async function firstThingId(): Promise<string> {
    const page = await server.request('GET', '/things?name=alpha', { token: owner.token });
    expect(page.body.total).toBe(1);
    return page.body.data[0]._id;
  }

  describe('malformed bodies', () => {
    test('invalid JSON on POST and PATCH is a 400 that says the JSON is invalid', async () => {
      const id = await firstThingId();
      await leavesDataUnchanged(async () => {
        expectError(
          await server.request('POST', '/things', { token: owner.token, raw: '{"a":' }),
          400,
          'BadRequest',
          /Invalid JSON body/,
        );
        expectError(
          await server.request('PATCH', `/things/${id}`, { token: owner.token, raw: '{"score": 9,,}' }),
          400,
          'BadRequest',
          /Invalid JSON body/,
        );
        expectError(
          await server.request('PATCH', '/things', { token: owner.token, raw: "{'score': 9}" }),
          400,
          'BadRequest',
          /Invalid JSON body/,
        );
      });
    });

    test('JSON sent without a JSON content type is read as JSON, and non-JSON is a 400', async () => {
      for (const contentType of [undefined, 'application/x-www-form-urlencoded', 'text/plain;charset=UTF-8']) {
        const headers: Record<string, string> = { authorization: `Bearer ${server.adminToken}` };
        if (contentType) headers['content-type'] = contentType;
        const response = await fetch(`${server.url}/lenient`, { method: 'POST', headers, body: '{"kind":"json"}' });
        expect({ contentType, status: response.status }).toEqual({ contentType, status: 201 });
        expect(((await response.json()) as { kind: string }).kind).toBe('json');
      }
      const form = await fetch(`${server.url}/lenient`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'kind=form',
      });
      expect(form.status).toBe(400);
      expect(((await form.json()) as { message: string }).message).toMatch(/Invalid JSON body/);
      const stored = await server.request('GET', '/lenient?$limit=0', { token: server.adminToken });
      expect(stored.body.total).toBe(3);
    });

    test('a JSON string, number or null where an object is needed is a 400', async () => {
      const id = await firstThingId();
      await leavesDataUnchanged(async () => {
        for (const raw of ['"hello"', '42', 'null', 'true']) {
          for (const [method, path] of [
            ['POST', '/things'],
            ['PATCH', `/things/${id}`],
            ['PUT', `/things/${id}`],
            ['PATCH', '/things'],
          ] as const) {
            expectError(
              await server.request(method, path, { token: owner.token, raw }),
              400,
              'BadRequest',
              /JSON.*(object|only supports object and array)/,
            );
          }
        }
      });
    });

    test('an array holding a non-object creates nothing, not even its valid records', async () => {
      await leavesDataUnchanged(async () => {
        for (const body of [
          [{ name: 'valid' }, 5],
          [{ name: 'valid' }, null],
          [{ name: 'valid' }, ['nested']],
          ['x'],
        ]) {
          expectError(
            await server.request('POST', '/things', { token: owner.token, body }),
            400,
            'BadRequest',
            /Record \d of the array must be a JSON object/,
          );
        }
        expectError(
          await server.request('PATCH', `/things/${await firstThingId()}`, {
            token: owner.token,
            body: [{ score: 9 }],
          }),
          400,
          'BadRequest',
          /must be a JSON object/,
        );
      });
    });

    test('fields starting with "$" are refused on create, update and patch', async () => {
      const id = await firstThingId();
      await leavesDataUnchanged(async () => {
        const body = { $set: { score: 100 }, name: 'dollar' };
        for (const [method, path] of [
          ['POST', '/things'],
          ['PUT', `/things/${id}`],
          ['PATCH', `/things/${id}`],
          ['PATCH', '/things'],
        ] as const) {
          expectError(
            await server.request(method, path, { token: owner.token, body }),
            400,
            'BadRequest',
            /Field names cannot start with "\$" \(got "\$set"\)/,
          );
        }
      });
    });

    test('a body larger than maxBodyBytes is a 413 and changes nothing', async () => {
      const small = await startTestServer({ store, maxBodyBytes: 1024 });
      try {
        const created = await small.request('POST', '/things', { token: small.adminToken, body: { name: 'kept' } });
        expect(created.status).toBe(201);
        const big = { name: 'x'.repeat(10 * 1024) };
        expectError(
          await small.request('POST', '/things', { token: small.adminToken, body: big }),
          413,
          'PayloadTooLarge',
          /request body is too large/,
        );
        expectError(
          await small.request('PATCH', `/things/${created.body._id}`, { token: small.adminToken, body: big }),
          413,
          'PayloadTooLarge',
          /request body is too large/,
        );
        const after = await small.request('GET', '/things', { token: small.adminToken });
        expect(after.body).toMatchObject({ total: 1, data: [created.body] });
      } finally {
        await small.close();
      }
    });
  });

  describe('malformed queries', () => {
    test('wrong types for $limit, $skip and $sort are 400s naming the parameter', async () => {
      await leavesDataUnchanged(async () => {
        const cases: [string, RegExp][] = [
          ['$limit=abc', /\$limit must be a non-negative integer/],
          ['$limit=-1', /\$limit must be a non-negative integer/],
          ['$limit=1.5', /\$limit must be a non-negative integer/],
          ['$skip=x', /\$skip must be a non-negative integer/],
          ['$sort[score]=2', /\$sort direction for "score" must be 1 or -1/],
          ['$sort=score', /\$sort must be an object/],
        ];
        for (const [query, message] of cases) {
          expectError(
            await server.request('GET', `/things?${query}`, { token: owner.token }),
            400,
            'BadRequest',
            message,
          );
        }
      });
    });

    test('$in given an object or a list of objects is a 400', async () => {
      await leavesDataUnchanged(async () => {
        expectError(
          await server.request('GET', '/things?name[$in][x]=alpha', { token: owner.token }),
          400,
          'BadRequest',
          /\$in on field "name" must be an array/,
        );
        expectError(
          await server.request('GET', '/things?name[$in][][a]=alpha', { token: owner.token }),
          400,
          'BadRequest',
          /Invalid value for field "name": expected a string, number, boolean or null/,
        );
      });
    });

    test('unknown operators are refused, never ignored: a multi remove with one deletes nothing', async () => {
      await leavesDataUnchanged(async () => {
        const cases: [string, RegExp][] = [
          ['name[$regex]=x', /Unknown query operator \$regex on field "name"/],
          ['$populate=x', /Unknown query operator \$populate/],
          ['$foo=1', /Unknown query operator \$foo/],
          ['$where=1', /Unknown query operator \$where/],
        ];
        for (const [query, message] of cases) {
          for (const method of ['GET', 'DELETE']) {
            expectError(
              await server.request(method, `/things?${query}`, { token: owner.token }),
              400,
              'BadRequest',
              message,
            );
          }
          expectError(
            await server.request('PATCH', `/things?${query}`, { token: owner.token, body: { score: 0 } }),
            400,
            'BadRequest',
            message,
          );
        }
        // A bad $limit on a multi remove must not fall back to "remove everything".
        expectError(
          await server.request('DELETE', '/things?$limit=abc', { token: owner.token }),
          400,
          'BadRequest',
          /\$limit must be a non-negative integer/,
        );
      });
    });

    test('a 10,000-value $in is answered', async () => {
      await leavesDataUnchanged(async () => {
        const ids = (await snapshot()).things!.map((record) => (record as { _id: string })._id);
        const values = [...ids, ...Array.from({ length: 10_000 - ids.length }, (_, i) => `missing-${i}`)];
        const query = values.map((id) => `_id[$in][]=${id}`).join('&');
        const answer = await server.request('GET', `/things?${query}&$limit=0`, { token: owner.token });
        expect({ status: answer.status, body: answer.body }).toMatchObject({
          status: 200,
          body: { total: ids.length },
        });
      });
    });

    test('a query nested within the parser limit (8 $or levels) is answered', async () => {
      const answer = await server.request('GET', `/things?${nestedOr(8, 'name=alpha')}`, { token: owner.token });
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200, body: { total: 1 } });
    });

    test('a query nested 30 $or levels deep is a 400 that says it is too deep', async () => {
      await leavesDataUnchanged(async () => {
        expectError(
          await server.request('GET', `/things?${nestedOr(30, 'name=alpha')}`, { token: owner.token }),
          400,
          'BadRequest',
          /nested|deep|depth/i,
        );
      });
    });
  });

  /** `$or[0][$or][0]…[name]=alpha`: `levels` nested `$or`s around one condition. */
  function nestedOr(levels: number, condition: string): string {
    const [field, value] = condition.split('=') as [string, string];
    let key = '$or[0]';
    for (let i = 1; i < levels; i++) key += '[$or][0]';
    return `${key}[${field}]=${value}`;
  }

  describe('names that look like SQL are data', () => {
    test('as a query key, a $sort key, a $select field and a value', async () => {
      await leavesDataUnchanged(async () => {
        const key = encodeURIComponent(SQL_NAME);
        for (const query of [
          `${key}=1`,
          `$sort[${key}]=1`,
          `$select[]=${key}`,
          `name=${encodeURIComponent("x' OR '1'='1")}`,
        ]) {
          const answer = await server.request('GET', `/things?${query}`, { token: owner.token });
          expect(answer.status).toBe(200);
          expect(answer.body.total).toBe(query.startsWith('$') ? 3 : 0);
        }
      });
      // On SQLite, also look at the file itself (on PostgreSQL the unchanged data says it).
      if (store === 'sqlite') {
        const db = new Database(join(server.dataDir, 'larder.db'), { readonly: true });
        try {
          expect(
            db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'documents'").get(),
          ).toBeTruthy();
        } finally {
          db.close();
        }
      }
    });

    test('as a record key: stored, found and patched as an ordinary field', async () => {
      const before = await snapshot();
      const created = await server.request('POST', '/sqlish', { token: owner.token, body: { [SQL_NAME]: 'v' } });
      expect(created.status).toBe(201);
      expect(created.body[SQL_NAME]).toBe('v');
      const found = await server.request('GET', `/sqlish?${encodeURIComponent(SQL_NAME)}=v`, { token: owner.token });
      expect(found.body).toMatchObject({ total: 1, data: [{ _id: created.body._id, [SQL_NAME]: 'v' }] });
      const patched = await server.request('PATCH', `/sqlish/${created.body._id}`, {
        token: owner.token,
        body: { [SQL_NAME]: 'w' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body[SQL_NAME]).toBe('w');
      const after = await snapshot();
      expect(after.things).toEqual(before.things);
      expect(after.sqlish).toEqual([patched.body]);
      await server.request('DELETE', `/sqlish/${created.body._id}`, { token: owner.token });
    });
  });

  describe('invalid service names and record ids', () => {
    test('a path segment that cannot be a service name is a 400, and no service appears', async () => {
      await leavesDataUnchanged(async () => {
        for (const path of ['/Bad%20Name', '/a.b', '/$x', `/${'a'.repeat(65)}`, '/..%2f..%2fetc', '/%00']) {
          for (const method of ['GET', 'POST']) {
            expectError(
              await server.request(method, path, {
                token: owner.token,
                ...(method === 'POST' ? { body: { a: 1 } } : {}),
              }),
              400,
              'BadRequest',
              /Invalid service name .*use 1-64 letters, digits/,
            );
          }
        }
      });
      // 64 characters is still a valid name.
      const longest = await server.request('GET', `/${'a'.repeat(64)}`, { token: owner.token });
      expect(longest.status).toBe(200);
    });

    test('invalid record ids in the URL or the body are 400s', async () => {
      await leavesDataUnchanged(async () => {
        for (const id of ['%20', 'a'.repeat(200), '%2e%2e%2fetc', "x'--"]) {
          for (const method of ['GET', 'PATCH', 'PUT', 'DELETE']) {
            expectError(
              await server.request(method, `/things/${id}`, {
                token: owner.token,
                ...(method === 'PATCH' || method === 'PUT' ? { body: { name: 'z' } } : {}),
              }),
              400,
              'BadRequest',
              /Invalid id: an id is a string of 1-128/,
            );
          }
        }
        for (const _id of ['a b/c', '', '../x', 'a'.repeat(129), 5, { nested: 1 }]) {
          expectError(
            await server.request('POST', '/things', { token: owner.token, body: { _id, name: 'bad id' } }),
            400,
            'BadRequest',
            /Invalid id/,
          );
        }
      });
    });

    test('an _id in the body that differs from the URL is refused by update and patch', async () => {
      const id = await firstThingId();
      await leavesDataUnchanged(async () => {
        expectError(
          await server.request('PUT', `/things/${id}`, { token: owner.token, body: { _id: 'other', name: 'moved' } }),
          400,
          'BadRequest',
          /"_id" does not match the id in the URL/,
        );
        expectError(
          await server.request('PATCH', `/things/${id}`, { token: owner.token, body: { _id: 'other', name: 'moved' } }),
          400,
          'BadRequest',
          /record id cannot be changed/,
        );
      });
    });
  });

  describe('blob routes', () => {
    test('a name that is not a SHA-256 is a 400, an unknown hash a 404, DELETE a 405', async () => {
      await leavesDataUnchanged(async () => {
        const token = server.adminToken;
        expectError(
          await server.request('GET', '/blobs/not-a-hash', { token }),
          400,
          'BadRequest',
          /64 lower-case hex digits of its SHA-256/,
        );
        expectError(
          await server.request('GET', `/blobs/${ownerBlob.toUpperCase()}`, { token }),
          400,
          'BadRequest',
          /64 lower-case hex digits/,
        );
        expectError(
          await server.request('GET', `/blobs/${'0'.repeat(64)}`, { token }),
          404,
          'NotFound',
          /No blob 0{64}/,
        );
        const removal = await server.request('DELETE', '/blobs', { token });
        expectError(removal, 405, 'MethodNotAllowed', /DELETE is not supported on \/blobs/);
        expect(removal.headers.get('allow')).toBe('POST');
        expectError(
          await server.request('DELETE', `/blobs/${ownerBlob}`, { token }),
          405,
          'MethodNotAllowed',
          /DELETE is not supported/,
        );
      });
      expect((await server.request('GET', `/blobs/${ownerBlob}`, { token: owner.token })).body).toBe('the owner blob');
    });

    test('a PUT whose bytes hash differently is a 400 and stores nothing', async () => {
      const bytes = `bytes that are not what the URL says ${Date.now()}`;
      await leavesDataUnchanged(async () => {
        const wrong = sha256('something else');
        const answer = await server.request('PUT', `/blobs/${wrong}`, {
          token: owner.token,
          raw: bytes,
          headers: { 'content-type': 'application/octet-stream' },
        });
        expectError(answer, 400, 'BadRequest', new RegExp(`hashes to ${sha256(bytes)}, not to the expected ${wrong}`));
        expect(answer.body.message).toMatch(/nothing was stored/);
      });
      for (const hash of [sha256(bytes), sha256('something else')]) {
        expect((await server.request('HEAD', `/blobs/${hash}`, { token: server.adminToken })).status).toBe(404);
      }
    });

    test('a Range past the end is a 416 that gives the size', async () => {
      await leavesDataUnchanged(async () => {
        const answer = await server.request('GET', `/blobs/${ownerBlob}`, {
          token: owner.token,
          headers: { range: 'bytes=1000-2000' },
        });
        expectError(answer, 416, 'RangeNotSatisfiable', /outside the file's 14 bytes/);
        expect(answer.headers.get('content-range')).toBe('bytes */14');
      });
      const whole = await server.request('GET', `/blobs/${ownerBlob}`, { token: owner.token });
      expect(whole.body).toBe('the owner blob');
    });
  });
});
