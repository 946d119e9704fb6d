/**
 * A run's images and histograms on its page, in Chromium against a real server, logged and
 * uploaded by the SDK itself: the step slider moves through the pictures (checked by their
 * pixels) with their captions and grows as the run logs more, holding the step chosen; a
 * histogram is drawn as a distribution over steps whose
 * hovered quantiles match the logged tensors. Screenshots go to test-screenshots/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, loadRun } from '../../client/src/index.js';
import { readMediaEntries } from '../../client/src/runs/media/media-entries.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { assertDashboardBuilt, HAS_CHROMIUM, openSignedInPage, SCREENSHOTS } from './dashboard-support.js';

const IMAGE_STEPS = 12;
const HISTOGRAM_STEPS = 30;

/** A 32×32 picture whose red channel tells the step (step × 20) and blue its row. */
function picture(step: number) {
  const data = new Uint8Array(32 * 32 * 3);
  for (let pixel = 0; pixel < 32 * 32; pixel++) {
    data[pixel * 3] = step * 20;
    data[pixel * 3 + 1] = 80;
    data[pixel * 3 + 2] = Math.floor(pixel / 32) * 8;
  }
  return { data, width: 32, height: 32, channels: 3 };
}

/** Normal samples (Box–Muller over a fixed sequence) with mean `mean` and spread `sigma`. */
function normal(count: number, mean: number, sigma: number): Float32Array {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    const u = (index + 0.5) / count;
    const v = ((index * 7919) % count) / count + 0.5 / count;
    values[index] = mean + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return values;
}

describe.runIf(HAS_CHROMIUM)('run media on the run page', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let runId: string;
  let runsDir: string;
  let adaToken: string;
  let runLocal: string;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    await assertDashboardBuilt();
    server = await startTestServer({ gcIntervalMs: 0 });
    const ada = await server.createUser('ada@example.org', 'correct horse battery');
    adaToken = ada.token;
    runsDir = await mkdtemp(join(tmpdir(), 'larder-media-runs-'));
    process.env.LARDER_RUN_PARENT_DIR = runsDir;
    const run = await createRun({ name: 'gan' });
    for (let step = 0; step < IMAGE_STEPS; step++) {
      run.logImage('samples', picture(step), { step: step * 100, caption: `epoch ${step}` });
      run.log('train', { loss: 1 / (step + 1) }, step * 100);
    }
    for (let step = 0; step < HISTOGRAM_STEPS; step++) {
      run.logHistogram('dense/kernel', normal(4000, step / 10, 0.5 + step / 30), { step: step * 100 });
    }
    await run.finish();
    const uploaded = await run.upload({
      connection: { url: server.url, token: ada.token },
      folder: 'media',
      makeFolder: true,
    });
    runId = uploaded.id;
    runLocal = run.local;

    ({ browser, page } = await openSignedInPage(ada.token, {
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      pageErrors,
    }));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    delete process.env.LARDER_RUN_PARENT_DIR;
    if (runsDir) await rm(runsDir, { recursive: true, force: true });
  });

  /** The red and blue of the shown picture's pixel at (16, row), read back from the decoded image. */
  const shownPixel = (row: number) =>
    page.locator('.image-panel img').evaluate((element, y) => {
      const image = element as unknown as { naturalWidth: number; naturalHeight: number };
      const doc = (globalThis as unknown as { document: { createElement(tag: string): unknown } }).document;
      const canvas = doc.createElement('canvas') as {
        width: number;
        height: number;
        getContext(kind: string): {
          drawImage(image: unknown, x: number, y: number): void;
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(element, 0, 0);
      const [red, , blue] = context.getImageData(16, y, 1, 1).data;
      return { red, blue };
    }, row);

  it('shows the last step first, and the slider moves through the pictures with their captions', async () => {
    await page.goto(`${server.url}/runs/${runId}`);
    const panel = page.locator('.image-panel[data-image-name="samples"]');
    await expect.poll(() => panel.locator('img').getAttribute('data-step')).toBe('1100');
    await expect.poll(() => shownPixel(10)).toEqual({ red: 220, blue: 80 });
    expect(await panel.locator('.image-caption').textContent()).toBe('epoch 11');
    expect(await panel.locator('.legend').textContent()).toContain('12 of 12');
    await shot('run-media-images-last-step');

    const slider = panel.getByRole('slider', { name: 'Step of samples' });
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => panel.locator('img').getAttribute('data-step')).toBe('0');
    await expect.poll(() => shownPixel(3)).toEqual({ red: 0, blue: 24 });
    expect(await panel.locator('.image-caption').textContent()).toBe('epoch 0');
    for (let step = 1; step <= 4; step++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => panel.locator('.image-caption').textContent()).toBe('epoch 4');
    await expect.poll(() => shownPixel(0)).toEqual({ red: 80, blue: 0 });
    await shot('run-media-images-step-400');
    expect(pageErrors).toEqual([]);
  });

  it('grows the slider as the run logs more, holding the step the user chose', async () => {
    const panel = page.locator('.image-panel[data-image-name="samples"]');
    expect(await panel.locator('.legend').textContent()).toContain('step 400 (5 of 12)');
    // A new picture arrives as a training run's upload sends it: its blob, then its record.
    const pixels = picture(12);
    const bytes = await sharp(Buffer.from(pixels.data), { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toBuffer();
    const blob = await (
      await fetch(`${server.url}/blobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adaToken}` },
        body: bytes,
      })
    ).json();
    const created = await server.request('POST', '/run-images', {
      token: adaToken,
      body: { run: runId, key: 'live', name: 'samples', step: 1200, caption: 'epoch 12', image: blob },
    });
    expect(created.status).toBe(201);
    await expect.poll(() => panel.locator('.legend').textContent()).toContain('step 400 (5 of 13)');
    await panel.getByRole('slider', { name: 'Step of samples' }).focus();
    await page.keyboard.press('End');
    await expect.poll(() => panel.locator('.image-caption').textContent()).toBe('epoch 12');
    await expect.poll(() => shownPixel(10)).toEqual({ red: 240, blue: 80 });
    expect(pageErrors).toEqual([]);
  });

  it('draws a histogram as a distribution over steps whose quantiles follow the tensors', async () => {
    const chart = page.locator('.distribution[data-histogram="dense/kernel"]');
    await expect.poll(() => chart.locator('.legend').textContent()).toBe(`${HISTOGRAM_STEPS} steps`);
    const canvas = chart.locator('canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    if (!box) throw new Error('no chart');
    // The last step sits at the right edge of the plot: its median is the mean logged (2.9).
    await page.mouse.move(box.x + box.width - 13, box.y + box.height / 2);
    const legend = await chart.locator('.legend').textContent();
    const match = /step 2900: median (-?[\d.]+), (-?[\d.]+) … (-?[\d.]+)/.exec(legend ?? '');
    expect(match, legend ?? '').not.toBeNull();
    const [median, low, high] = (match as RegExpExecArray).slice(1).map(Number) as [number, number, number];
    expect(median).toBeCloseTo(2.9, 1);
    expect(low).toBeLessThan(median - 1.5);
    expect(high).toBeGreaterThan(median + 1.5);
    // The bands are drawn: the plot's column at the last step is shaded around its median, not blank.
    const shaded = await canvas.evaluate((element) => {
      const surface = element as unknown as {
        width: number;
        height: number;
        getContext(kind: string): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const column = surface.getContext('2d').getImageData(Math.floor(surface.width * 0.9), 0, 1, surface.height).data;
      let painted = 0;
      for (let index = 3; index < column.length; index += 4) if ((column[index] ?? 0) > 20) painted++;
      return painted / surface.height;
    });
    expect(shaded).toBeGreaterThan(0.3);
    await shot('run-media-distribution');
    expect(pageErrors).toEqual([]);
  });

  it('comes back whole when the SDK loads the run from the server', async () => {
    await rm(runLocal, { recursive: true });
    const copy = await loadRun('/ada@example.org/media/gan', { connection: { url: server.url, token: adaToken } });
    const entries = await readMediaEntries(copy.local);
    expect(entries.filter((entry) => entry.kind === 'image')).toHaveLength(IMAGE_STEPS + 1);
    expect(entries.filter((entry) => entry.kind === 'histogram')).toHaveLength(HISTOGRAM_STEPS);
    expect(entries.find((entry) => entry.kind === 'image' && entry.step === 1200)).toMatchObject({
      caption: 'epoch 12',
    });
  });
});
