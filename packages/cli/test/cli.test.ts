/**
 * The `larder` command as a user runs it: the built binary in a child process, against a
 * real server it started itself. User mistakes must end in one sentence and a non-zero exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult, runCli } from './support/run-cli.js';

let home: string;
let env: NodeJS.ProcessEnv;

function larder(args: string[], input?: string): Promise<CliResult> {
  return runCli(args, { env, ...(input !== undefined ? { input } : {}) });
}

/**
 * Starts `larder serve` and resolves with its URL once it prints it, then `ready` (by default
 * the end of that line; a first start with auth announces the admin once it is saved).
 */
function serve(
  args: string[],
  ready = /auth (on|off)\)\n/,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /Larder is serving (http:\/\/\S+)/.exec(output);
      if (match?.[1] && ready.test(output)) {
        resolve({ child, url: match[1], output: () => output });
      }
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('Build first: npm run build (npm test does it)');
  home = await mkdtemp(join(tmpdir(), 'larder-cli-'));
  env = { ...process.env, LARDER_CREDENTIALS: join(home, 'credentials.json'), LARDER_URL: '', LARDER_TOKEN: '' };
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('larder serve with auth, then the account commands', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  const data = () => join(home, 'data');

  beforeAll(async () => {
    server = await serve(['--data', data()], /Try: npx larder whoami/);
  });

  afterAll(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  });

  it('prints its URL and answers /health', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', auth: true });
  });

  it('saves the first admin where only the user can read it', async () => {
    const admin = JSON.parse(await readFile(join(data(), 'admin-credentials.json'), 'utf8'));
    expect(admin).toMatchObject({ email: 'admin@localhost', url: server.url });
    expect((await stat(join(data(), 'admin-credentials.json'))).mode & 0o077).toBe(0);
    expect((await stat(env.LARDER_CREDENTIALS as string)).mode & 0o077).toBe(0);
  });

  it('whoami and services use the saved credentials', async () => {
    const whoami = await larder(['whoami']);
    expect(whoami).toMatchObject({ code: 0 });
    expect(whoami.stdout).toContain(`admin@localhost (admin) at ${server.url}`);
    expect((await larder(['services'])).stdout).toContain('No services hold records yet.');
  });

  it('says when a service was never written to, and which one was meant, without creating it', async () => {
    const admin = JSON.parse(await readFile(join(data(), 'admin-credentials.json'), 'utf8'));
    const written = await fetch(`${server.url}/experiments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'baseline' }),
    });
    expect(written.status).toBe(201);
    const typo = await larder(['find', 'experimnets']);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim()).toBe("larder: No service 'experimnets' yet; did you mean 'experiments'?");
    const found = await larder(['find', 'experiments']);
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout.trim())).toMatchObject({ name: 'baseline' });
    expect((await larder(['services'])).stdout.trim()).toBe('experiments');
  });

  it('creates, lists and revokes API keys', async () => {
    const created = await larder(['token', 'create', '--name', 'from the test']);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^lk_/);
    const ok = await fetch(`${server.url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const list = await larder(['token', 'list']);
    const line = list.stdout.split('\n').find((l) => l.includes('from the test'));
    expect(line).toBeDefined();
    const id = (line as string).split(/\s+/)[0] as string;
    const revoked = await larder(['token', 'revoke', id]);
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.stdout).toContain('Revoked API key "from the test"');
    const refused = await fetch(`${server.url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
  });

  it('logs in with email and password, and refuses a wrong password in one sentence', async () => {
    const admin = JSON.parse(await readFile(join(data(), 'admin-credentials.json'), 'utf8'));
    const wrong = await larder([
      'login',
      '--url',
      server.url,
      '--email',
      admin.email,
      '--password',
      'not the password',
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr.trim()).toBe(
      `larder: The e-mail or password is wrong for ${server.url}; check them and run larder login again`,
    );
    const login = await larder(['login', '--url', server.url, '--email', admin.email], `${admin.password}\n`);
    expect(login).toMatchObject({ code: 0 });
    expect(login.stdout).toContain(`Logged in to ${server.url} as admin@localhost`);
    expect((await larder(['whoami'])).stdout).toContain('admin@localhost');
  });

  it('works under a URL path only where a Larder server answers there, and refuses it at once otherwise', async () => {
    const withPath = await larder(['--url', `${server.url}/api`, 'runs', 'ls']);
    expect(withPath.code).toBe(1);
    expect(withPath.stderr.trim()).toMatch(
      new RegExp(
        `^larder: No Larder server answers at ${server.url}/api \\(GET /api/whoami answered \\d+\\): give the server's own URL, such as ${server.url}, with --url or LARDER_URL$`,
      ),
    );
    expect((await larder(['--url', `${server.url}/api`, 'whoami'])).code).toBe(1);
    expect((await larder(['--url', `${server.url}/`, 'whoami'])).code).toBe(0);
  });

  it('explains a revoked or missing key in one sentence', async () => {
    const bad = await larder(['--token', 'lk_not-a-real-key', 'whoami']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('larder: This API key is unknown or was revoked. Run "larder login" first.');
  });

  it('stops cleanly on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
    expect(server.output()).toContain('Larder stopped.');
  });
});

describe('user mistakes', () => {
  it('an unreachable server', async () => {
    const result = await larder(['--url', 'http://127.0.0.1:9', 'whoami']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^larder: Cannot reach a Larder server at http:\/\/127\.0\.0\.1:9/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad port', async () => {
    const result = await larder(['serve', '--port', 'seventy']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('larder: --port must be 0-65535, not "seventy"');
  });

  it('a port in use', async () => {
    const first = await serve(['--no-auth', '--data', join(home, 'busy')]);
    const port = new URL(first.url).port;
    const second = await larder(['serve', '--no-auth', '--port', port, '--data', join(home, 'busy2')]);
    first.child.kill('SIGINT');
    expect(await exited(first.child)).toBe(0);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(`larder: Port ${port} is in use: stop what uses it or pick --port`);
  });

  it('an unknown command', async () => {
    const result = await larder(['sevre']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'sevre'");
  });
});
