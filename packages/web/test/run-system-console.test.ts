/**
 * A run's system metrics and console output on its page, in Chromium against a real server,
 * from a real SDK run that trained for a while with autoUpload: the system panel's charts
 * (CPU, memory, disk, network) drawn from samples taken every 100 ms and kept out of the
 * training charts; the console panel showing stdout and stderr, a line printed after the
 * page opened arriving live, and the process's end once the run finished.
 * Screenshots go to test-screenshots/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun } from '../../client/src/index.js';
import { useTemporaryRunDirectories } from '../../client/src/runs/test-support/run-directories.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { api, assertDashboardBuilt, HAS_CHROMIUM, openSignedInPage, SCREENSHOTS } from './dashboard-support.js';

useTemporaryRunDirectories();

/** Pixels of the first series' colour (#2f6fd0) in a chart's canvas: a drawn line has many. */
function colouredPixels(page: Page, chart: string): Promise<number> {
  return page.locator(`[data-chart="${chart}"] canvas`).evaluate((element) => {
    const canvas = element as unknown as {
      width: number;
      height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
    };
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let at = 0; at < data.length; at += 4) {
      const [r, g, b] = [data[at] as number, data[at + 1] as number, data[at + 2] as number];
      if (Math.abs(r - 47) < 30 && Math.abs(g - 111) < 30 && Math.abs(b - 208) < 30) count++;
    }
    return count;
  });
}

describe.runIf(HAS_CHROMIUM)('a run page with system metrics and console output', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let ada: { id: string; token: string };
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await assertDashboardBuilt();
    server = await startTestServer({ gcIntervalMs: 0 });
    ada = await server.createUser('ada@example.org', 'correct horse battery');
    ({ browser, page } = await openSignedInPage(ada.token, {
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      pageErrors,
    }));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('charts the system metrics of a run that ran for a while and shows its console live', async () => {
    const run = await createRun({
      name: 'sampled',
      autoUpload: true,
      folder: 'system',
      makeFolder: true,
      connection: { url: server.url, token: ada.token },
      systemMetricsIntervalMs: 100,
      flushIntervalMs: 50,
      uploadIntervalMs: 100,
    });
    // Train for a while: points, console lines on both streams, the sampler every 100 ms.
    const started = Date.now();
    let step = 0;
    while (Date.now() - started < 3000) {
      run.log('train', { loss: 1 / (step + 1) }, step);
      if (step % 200 === 0) process.stdout.write(`epoch ${step / 200} loss ${(1 / (step + 1)).toFixed(4)}\n`);
      if (step === 400) process.stderr.write('warning: learning rate is high\n');
      step++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const { id } = await run.upload();

    await page.goto(`${server.url}/runs/${id}`);
    for (const chart of ['CPU (%)', 'Memory (MiB)', 'Disk (MiB/s)', 'Network (MiB/s)']) {
      await page.locator(`[data-chart="${chart}"] canvas`).waitFor();
    }
    await expect.poll(() => colouredPixels(page, 'CPU (%)')).toBeGreaterThan(50);
    await expect.poll(() => colouredPixels(page, 'Memory (MiB)')).toBeGreaterThan(50);
    // System metrics have their own panel, not charts among the training metrics.
    await page.locator('[data-chart="train/loss"] canvas').waitFor();
    expect(await page.locator('[data-chart^="system/"]').count()).toBe(0);
    const held = await api(server, ada.token).get(`/metrics?run=${id}`);
    const system = (held as { type: string; name: string; count: number }[]).filter((each) => each.type === 'system');
    expect(system.find((each) => each.name === 'cpu_percent')?.count).toBeGreaterThanOrEqual(10);

    const log = page.locator('.console-log');
    await expect.poll(() => log.textContent()).toContain('epoch 2 loss');
    expect(await page.locator('.console-line.stderr').first().textContent()).toContain(
      'warning: learning rate is high',
    );
    // A line printed now reaches the open page through the background upload and the socket.
    process.stdout.write('a line printed after the page opened\n');
    await expect.poll(() => log.textContent()).toContain('a line printed after the page opened');

    await run.finish({ status: 'Failed' });
    await expect.poll(() => page.locator('.console-end').textContent()).toContain('Process ended: Failed');
    await page.locator('.system-metrics').screenshot({ path: join(SCREENSHOTS, 'run-system-metrics.png') });
    await page.locator('.console-panel').screenshot({ path: join(SCREENSHOTS, 'run-console.png') });
    await page.screenshot({ path: join(SCREENSHOTS, 'run-system-console-page.png'), fullPage: true });

    // Filtering keeps the matching lines only.
    await page.getByLabel('Filter console lines').fill('warning');
    await expect.poll(() => page.locator('.console-line').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it("draws a chart per GPU quantity with a line per GPU (series as the SDK's sampler names them)", async () => {
    const as = api(server, ada.token);
    const run = await as.post('/runs', { name: 'two-gpus', folder: 'system' });
    const steps = Array.from({ length: 30 }, (_, index) => index * 10);
    const gpuSeries = ['utilization_percent', 'memory_used_mib', 'temperature_c', 'power_w'].flatMap((quantity) =>
      [0, 1].map((gpu) => ({
        type: 'system',
        name: `gpu${gpu}_${quantity}`,
        offset: 0,
        steps,
        values: steps.map((step) => (gpu + 1) * 20 + Math.sin(step / 40) * 10),
      })),
    );
    await as.post('/metrics', { run: run._id, series: gpuSeries });
    await page.goto(`${server.url}/runs/${run._id}`);
    for (const chart of ['GPU utilisation (%)', 'GPU memory (MiB)', 'GPU temperature (°C)', 'GPU power (W)']) {
      const card = page.locator(`[data-chart="${chart}"]`);
      await card.locator('canvas').waitFor();
      expect(await card.locator('.legend-item').allTextContents()).toEqual(['GPU 0', 'GPU 1']);
    }
    await expect.poll(() => colouredPixels(page, 'GPU power (W)')).toBeGreaterThan(50);
    // A run without console output says so.
    await expect.poll(() => page.locator('.console-panel').textContent()).toContain('No console output captured.');
    await page.locator('.system-metrics').screenshot({ path: join(SCREENSHOTS, 'run-system-gpus.png') });
    expect(pageErrors).toEqual([]);
  });
});
