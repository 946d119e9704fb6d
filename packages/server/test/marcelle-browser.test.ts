/**
 * Marcelle's released browser client (`@marcellejs/core` 0.6.5, bundled with Vite) in a
 * real Chromium against a real `larder serve` with auth on: socket.io 2 and `init`,
 * sign-in, CRUD with all four events, a tfjs model saved through `/tfjs-models/upload` and
 * loaded back by id and by name with identical predictions. Needs Debian's chromium
 * (`LARDER_TEST_CHROMIUM` to use another); a screenshot goes to test-screenshots/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.LARDER_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '../../..');
const PAGE = resolve(import.meta.dirname, 'marcelle-fixtures/browser');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** `larder serve` on a free port; answers its url once it listens and has saved the first admin. */
function larderServe(dataDir: string, home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'packages/cli/dist/main.js'), 'serve', '--port', '0', '--data', dataDir],
    { env: { ...process.env, HOME: home, LARDER_URL: '', LARDER_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolveUrl, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /serving (http:\/\/\S+)/.exec(output)?.[1];
      if (url && output.includes('First start: created the admin')) resolveUrl({ child, url });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`larder serve exited with ${code}: ${output}`)));
  });
}

/** Serves the built page. */
function staticServer(folder: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const file = join(folder, path === '/' ? 'index.html' : path);
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolveUrl) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolveUrl({ server, url: `http://127.0.0.1:${address.port}` });
    }),
  );
}

describe.runIf(existsSync(CHROMIUM))("Marcelle's browser client against larder serve", () => {
  let work: string;
  let larder: { child: ChildProcess; url: string };
  let page: { server: Server; url: string };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'larder-marcelle-browser-'));
    const { build } = await import('vite');
    await build({
      root: PAGE,
      logLevel: 'silent',
      resolve: { alias: { '@mediapipe/pose': join(PAGE, 'mediapipe-pose-shim.js') } },
      build: { outDir: join(work, 'page'), emptyOutDir: true, chunkSizeWarningLimit: 100_000 },
    });
    larder = await larderServe(join(work, 'data'), join(work, 'home'));
    page = await staticServer(join(work, 'page'));
  }, 240_000);
  afterAll(async () => {
    larder?.child.kill('SIGTERM');
    page?.server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('signs in, runs CRUD with events, and saves and loads a tfjs model', async () => {
    const admin = JSON.parse(await readFile(join(work, 'data', 'admin-credentials.json'), 'utf8')) as {
      email: string;
      password: string;
    };
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      const query = new URLSearchParams({ backend: larder.url, email: admin.email, password: admin.password });
      await tab.goto(`${page.url}/?${query}`);
      await tab.waitForFunction(() => 'marcelleResult' in globalThis || 'marcelleError' in globalThis, undefined, {
        timeout: 120_000,
      });
      await tab.screenshot({ path: join(ROOT, 'test-screenshots', 'marcelle-browser.png'), fullPage: true });
      const failure = await tab.evaluate(() => (globalThis as unknown as { marcelleError?: string }).marcelleError);
      expect(failure).toBeUndefined();
      const result = (await tab.evaluate(
        () => (globalThis as unknown as { marcelleResult: unknown }).marcelleResult,
      )) as {
        [key: string]: any;
      };
      expect(result.requiresAuth).toBe(true);
      expect(result.user).toBe(admin.email);
      expect(result.found).toEqual([{ name: 'a', n: 3, hasId: true }]);
      expect(result.events).toEqual(['created:a:1', 'updated:a:2', 'patched:a:3', 'removed:a:3']);
      expect(result.savedId).toEqual(expect.any(String));
      expect(result.storedName).toBe('browser-mlp');
      expect(result.loadedLabels).toEqual(['left', 'right']);
      expect(result.after).toEqual(result.before);
      expect(result.byName).toEqual(result.before);

      // The model saved from the browser is a registry model too.
      const login = await fetch(`${larder.url}/authentication`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ strategy: 'local', email: admin.email, password: admin.password }),
      });
      const { accessToken } = (await login.json()) as { accessToken: string };
      const models = await fetch(`${larder.url}/models?name=browser-mlp`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(((await models.json()) as { data: { versionCount: number }[] }).data[0]?.versionCount).toBe(1);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
