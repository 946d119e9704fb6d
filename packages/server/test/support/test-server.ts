/**
 * Starts a real Larder server for a test: a fresh data folder, a free port, auth on unless
 * asked otherwise. Helpers sign users up and hand back their tokens.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type RunningServer, type ServerOptions, startServer } from '../../src/index.js';

export interface TestServer {
  url: string;
  /** The PostgreSQL database it uses, when on PostgreSQL. */
  databaseUrl: string | undefined;
  dataDir: string;
  server: RunningServer;
  /** The admin's API key (auth on), or undefined. */
  adminToken: string | undefined;
  /** Creates a user (as admin) and answers a JWT for them. */
  createUser(email: string, password?: string): Promise<{ id: string; token: string; email: string }>;
  /** Calls the server with fetch; JSON bodies are encoded. */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** The metadata stores the integration suites run on: SQLite, and PostgreSQL when CI provides one. */
export const TEST_STORES: readonly ('sqlite' | 'postgres')[] = process.env.LARDER_TEST_POSTGRES_URL
  ? ['sqlite', 'postgres']
  : ['sqlite'];

/** A fresh PostgreSQL database for one test server, and how to drop it. */
async function freshPostgresDatabase(port?: number): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.LARDER_TEST_POSTGRES_URL;
  if (!base) throw new Error('LARDER_TEST_POSTGRES_URL is not set: .ci/run starts PostgreSQL and sets it');
  const name = `larder_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  // Through a proxy (fault tests): same database, another port.
  if (port !== undefined) url.port = String(port);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        for (let attempt = 1; ; attempt += 1) {
          try {
            await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            return;
          } catch (error) {
            // An autovacuum worker (the server's own role) on the database cannot be ended by
            // the test role: it finishes soon, so try again a little later.
            if ((error as { code?: string }).code !== '42501' || attempt >= 40) throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      } finally {
        await client.end();
      }
    },
  };
}

export type TestServerOptions = Partial<ServerOptions> & { store?: 'sqlite' | 'postgres'; postgresPort?: number };
export type TestUser = Awaited<ReturnType<TestServer['createUser']>>;

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { store = 'sqlite', postgresPort, ...serverOptions } = options;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'larder-test-')));
  const postgres = store === 'postgres' ? await freshPostgresDatabase(postgresPort) : undefined;
  const server = await startServer({
    port: 0,
    log: () => {},
    ...serverOptions,
    dataDir,
    ...(postgres ? { database: postgres.url } : {}),
  });
  const adminToken = server.createdAdmin?.token;

  const request: TestServer['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    } else if (opts.raw !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const response = await fetch(server.url + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, body: parsed, headers: response.headers };
  };

  const createUser: TestServer['createUser'] = async (email, password = 'correct horse battery') => {
    const created = await request('POST', '/users', { token: adminToken, body: { email, password } });
    if (created.status !== 201) throw new Error(`creating ${email}: ${created.status} ${JSON.stringify(created.body)}`);
    const login = await request('POST', '/authentication', { body: { strategy: 'local', email, password } });
    if (login.status !== 201) throw new Error(`login ${email}: ${login.status} ${JSON.stringify(login.body)}`);
    return { id: created.body._id, token: login.body.accessToken, email };
  };

  return {
    url: server.url,
    databaseUrl: postgres?.url,
    dataDir,
    server,
    adminToken,
    createUser,
    request,
    close: async () => {
      await server.close();
      await postgres?.drop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh server with two users signed up, Ada and Bob: what the tests of who may read and
 * write what start from.
 */
export async function startTwoUserServer(
  options: TestServerOptions = {},
): Promise<{ server: TestServer; ada: TestUser; bob: TestUser }> {
  const server = await startTestServer(options);
  const ada = await server.createUser('ada@example.org');
  const bob = await server.createUser('bob@example.org');
  return { server, ada, bob };
}
