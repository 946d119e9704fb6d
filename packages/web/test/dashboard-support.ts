/**
 * What the dashboard's browser tests share: the Chromium to drive, the check that the
 * dashboard was built, a server with a signed-up user, and seeding helpers over the API.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { TestServer } from '../../server/test/support/test-server.js';

export const CHROMIUM = process.env.LARDER_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-screenshots/', import.meta.url));
const DIST_INDEX = fileURLToPath(new URL('../dist/index.html', import.meta.url));

/** Fails with what to do when the dashboard was not built (`npm test` builds it first). */
export async function assertDashboardBuilt(): Promise<void> {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(`The dashboard is not built (${DIST_INDEX} is missing): run \`npm run build\` first`);
  }
  await mkdir(SCREENSHOTS, { recursive: true });
}

export function api(server: TestServer, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const answer = await server.request(method, path, { token, body });
    if (answer.status >= 400) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
  };
}

/** A columnar batch of metric points, as the SDK sends them. */
export function series(type: string, name: string, offset: number, count: number, value: (step: number) => number) {
  const steps = Array.from({ length: count }, (_, index) => offset + index);
  return { type, name, offset, steps, values: steps.map(value) };
}

/** A picture made with sharp, uploaded through `/assets/upload`; answers its asset record. */
export async function uploadPicture(server: TestServer, token: string, name: string, width: number, height: number) {
  const bytes = await sharp({
    create: { width, height, channels: 3, background: { r: 40, g: 110, b: 160 } },
  })
    .composite([
      {
        input: await sharp({ create: { width: width / 2, height: height / 2, channels: 3, background: '#e8c547' } })
          .png()
          .toBuffer(),
        left: width / 4,
        top: height / 4,
      },
    ])
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${server.url}/assets/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  if (response.status !== 201) throw new Error(`upload: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { data: { _id: string }[] }).data[0] as { _id: string };
}

/** Raw bytes stored with `POST /blobs`; answers `{ sha256, size }` as run files name them. */
export async function uploadBlob(server: TestServer, token: string, bytes: Uint8Array) {
  const response = await fetch(`${server.url}/blobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: new Uint8Array(bytes),
  });
  if (!response.ok) throw new Error(`blob: ${response.status} ${await response.text()}`);
  return (await response.json()) as { sha256: string; size: number };
}

/** A PNG of one colour, made with sharp. */
export function solidPng(width: number, height: number, color: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } })
    .png()
    .toBuffer();
}

/** A form whose fields are named after their files, as Marcelle's clients post them; answers the JSON. */
export async function postNamedFiles<T = Record<string, string>>(
  server: TestServer,
  token: string,
  path: string,
  files: { field: string; bytes: Uint8Array | string }[],
) {
  const form = new FormData();
  for (const file of files) {
    const bytes = typeof file.bytes === 'string' ? new TextEncoder().encode(file.bytes) : file.bytes;
    form.append(file.field, new Blob([new Uint8Array(bytes)]), file.field);
  }
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The page's storage as init scripts and `evaluate` reach it (these tests have no DOM types). */
export type PageStorage = { setItem(key: string, value: string): void; removeItem(key: string): void };

/**
 * Chromium with one page signed in as the holder of `token` (the token set in its session
 * storage before any script runs). Errors thrown in the page are pushed to `pageErrors`
 * when it is given.
 */
export async function openSignedInPage(
  token: string,
  options: { viewport: { width: number; height: number }; timeoutMs: number; pageErrors?: string[] },
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: options.viewport });
    await context.addInitScript(
      (value) =>
        (globalThis as unknown as { sessionStorage: PageStorage }).sessionStorage.setItem('larder.token', value),
      token,
    );
    const page = await context.newPage();
    const { pageErrors } = options;
    if (pageErrors !== undefined) page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(options.timeoutMs);
    return { browser, page };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
